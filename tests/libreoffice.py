"""Run LibreOffice headless on a workbook: export every sheet to CSV, or the workbook to PDF and PNG.

Each run gets its own profile folder (``-env:UserInstallation=file:///tmp/...``), so parallel runs never
share LibreOffice's lock on the user profile, and the profile's ``registrymodifications.xcu`` sets how
LibreOffice treats the formulas of an Excel 2007+ file on load:

- ``recalc="never"`` (LibreOffice's own default, ``OOXMLRecalcMode = 1``): a formula cell that carries a
  cached value shows it; a formula cell without one, and every *array* formula, is calculated.
- ``recalc="always"`` (``OOXMLRecalcMode = 0``): every formula is recalculated; a function LibreOffice
  does not know (an xlsector UDF) becomes ``#NAME?``.

What we found with LibreOffice 7.4 (Debian bookworm) is written up in docs/workbook.md.

:class:`UnoSession` drives a headless LibreOffice through UNO instead (open a workbook, read and change
cells, recalculate), for the tests of the xlsector extension (docs/libreoffice.md).
"""

from __future__ import annotations

import csv
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CSV_ALL_SHEETS",
    "ERROR_MARKERS",
    "UnoSession",
    "export_csv",
    "export_pdf",
    "find_soffice",
    "pdf_to_gray",
    "pdf_to_pngs",
    "require_soffice",
    "require_uno",
]

# Field separator ",", text delimiter '"', UTF-8, from line 1, default cell format, language default,
# quote-all-text false, detect special numbers true, "save cell contents as shown" FALSE (full precision),
# export formulas false, trim spaces false, sheet -1 = every sheet to its own file (LibreOffice >= 7.2).
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"

ERROR_MARKERS = ("Err:", "#NAME?", "#VALUE!", "#REF!", "#N/A", "#DIV/0!", "#NUM!", "#NULL!")

_RECALC_MODES = {"always": 0, "never": 1, "ask": 2}

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    """Path of the LibreOffice binary, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The soffice path; skip the test when it is missing, or fail when XLSECTOR_REQUIRE_LIBREOFFICE=1."""
    found = find_soffice()
    if found and shutil.which("pdftoppm"):
        return found
    reason = "LibreOffice (soffice) and pdftoppm are needed for this test"
    if os.environ.get("XLSECTOR_REQUIRE_LIBREOFFICE", "") not in ("", "0"):
        pytest.fail(reason + " (XLSECTOR_REQUIRE_LIBREOFFICE=1)")
    pytest.skip(reason)


def require_uno() -> tuple[str, str]:
    """(soffice, a Python with LibreOffice's uno module); skip without them, or fail when
    XLSECTOR_REQUIRE_LIBREOFFICE=1."""
    from xlsector.addin.libreoffice.office import find_soffice, find_uno_python
    from xlsector.errors import XlsectorError

    try:
        soffice = find_soffice()
        return soffice, find_uno_python(soffice)
    except XlsectorError as exc:
        reason = f"LibreOffice with Python UNO is needed for this test: {exc}"
    if os.environ.get("XLSECTOR_REQUIRE_LIBREOFFICE", "") not in ("", "0"):
        pytest.fail(reason + " (XLSECTOR_REQUIRE_LIBREOFFICE=1)")
    pytest.skip(reason)


class UnoSession:
    """A headless LibreOffice on ``profile`` driven through UNO by tests/lo_uno_driver.py.

    The driver runs under ``python`` (a Python with LibreOffice's ``uno`` module: the test venv usually
    has none) and answers one JSON line per request; :meth:`request` sends one and returns its result.
    ``timeout`` bounds each request (loading a workbook recalculates it), so a hung LibreOffice fails the
    test instead of hanging it.
    """

    def __init__(self, profile: Path, *, soffice: str, python: str, timeout: float = 600):
        from xlsector.addin.libreoffice.office import HELPER, headless_office

        self.timeout = timeout
        self._office = headless_office(soffice, profile)
        self.process, pipe = self._office.__enter__()
        driver = Path(__file__).with_name("lo_uno_driver.py")
        self._driver = subprocess.Popen([python, str(driver), str(HELPER.parent), pipe],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr,
                                        text=True)
        try:
            self._answer()  # "ready" once connected
        except Exception:
            self.close()
            raise

    def _answer(self) -> Any:
        assert self._driver.stdout is not None
        while True:
            ready, _, _ = select.select([self._driver.stdout], [], [], self.timeout)
            if not ready:
                raise RuntimeError(f"LibreOffice did not answer within {self.timeout:.0f} s")
            line = self._driver.stdout.readline()
            if not line:
                raise RuntimeError(f"the UNO driver exited ({self._driver.poll()})")
            if line.startswith("{"):
                answer = json.loads(line)
                if "error" in answer:
                    raise RuntimeError("UNO driver: " + answer["error"])
                return answer["ok"]

    def request(self, op: str, **arguments: Any) -> Any:
        assert self._driver.stdin is not None
        self._driver.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self._driver.stdin.flush()
        return self._answer()

    def close(self) -> None:
        try:
            if self._driver.poll() is None:
                self.request("terminate")
        except (RuntimeError, BrokenPipeError, OSError):
            pass
        finally:
            if self._driver.stdin:
                self._driver.stdin.close()
            try:
                self._driver.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._driver.kill()
                self._driver.wait()
            self._office.__exit__(None, None, None)


def _run(source: Path, convert_to: str, outdir: Path, *, recalc: str, timeout: float) -> None:
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("soffice not found")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlsector-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_XCU.format(mode=_RECALC_MODES[recalc]))
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            convert_to,
            "--outdir",
            str(outdir),
            str(source),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"soffice failed ({proc.returncode}): {proc.stderr}\n{proc.stdout}")


def export_csv(
    workbook: Path, outdir: Path, *, recalc: str = "never", timeout: float = 180
) -> dict[str, list[list[str]]]:
    """Open ``workbook`` in LibreOffice and export every sheet; returns {sheet name: rows of cells}."""
    workbook = Path(workbook)
    _run(workbook, CSV_ALL_SHEETS, outdir, recalc=recalc, timeout=timeout)
    sheets: dict[str, list[list[str]]] = {}
    prefix = workbook.stem + "-"
    for path in sorted(outdir.glob(f"{workbook.stem}-*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            sheets[path.stem[len(prefix):]] = list(csv.reader(handle))
    if not sheets:
        raise RuntimeError(f"LibreOffice wrote no CSV for {workbook} in {outdir}")
    return sheets


def export_pdf(workbook: Path, outdir: Path, *, recalc: str = "never", timeout: float = 180) -> Path:
    """Print ``workbook`` (every visible sheet's print area) to a PDF; returns its path."""
    workbook = Path(workbook)
    _run(workbook, "pdf", outdir, recalc=recalc, timeout=timeout)
    pdf = outdir / (workbook.stem + ".pdf")
    if not pdf.is_file():
        raise RuntimeError(f"LibreOffice wrote no PDF for {workbook}")
    return pdf


def pdf_to_pngs(pdf: Path, outdir: Path, *, dpi: int = 60, timeout: float = 120) -> list[Path]:
    """Each PDF page as a PNG (pdftoppm), in page order."""
    outdir.mkdir(parents=True, exist_ok=True)
    stem = outdir / pdf.stem
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(stem)],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    return sorted(outdir.glob(pdf.stem + "-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def pdf_to_gray(pdf: Path, outdir: Path, *, dpi: int = 40, timeout: float = 120) -> list:
    """Each PDF page as a 2-D uint8 numpy array of grey levels (pdftoppm -gray, binary PGM; no PIL)."""
    import numpy as np

    outdir.mkdir(parents=True, exist_ok=True)
    stem = outdir / (pdf.stem + "-gray")
    subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), str(pdf), str(stem)], check=True,
                   capture_output=True, timeout=timeout)
    pages = []
    for path in sorted(outdir.glob(stem.name + "-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
        data = path.read_bytes()
        fields = data.split(maxsplit=4)  # P5, width, height, maxval, pixels
        width, height = int(fields[1]), int(fields[2])
        pixels = np.frombuffer(fields[4][: width * height], dtype=np.uint8).reshape(height, width)
        pages.append(pixels)
    return pages
