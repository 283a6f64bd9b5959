"""Run LibreOffice headless on a workbook: export every sheet to CSV, or the workbook to PDF and PNG.

Each run gets its own profile folder (``-env:UserInstallation=file:///tmp/...``), so parallel runs never
share LibreOffice's lock on the user profile, and the profile's ``registrymodifications.xcu`` sets how
LibreOffice treats the formulas of an Excel 2007+ file on load:

- ``recalc="never"`` (LibreOffice's own default, ``OOXMLRecalcMode = 1``): a formula cell that carries a
  cached value shows it; a formula cell without one, and every *array* formula, is calculated.
- ``recalc="always"`` (``OOXMLRecalcMode = 0``): every formula is recalculated; a function LibreOffice
  does not know (an xlsector UDF) becomes ``#NAME?``.

What we found with LibreOffice 7.4 (Debian bookworm) is written up in docs/workbook.md.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = [
    "CSV_ALL_SHEETS",
    "ERROR_MARKERS",
    "export_csv",
    "export_pdf",
    "find_soffice",
    "pdf_to_pngs",
    "pdf_to_gray",
    "require_soffice",
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
