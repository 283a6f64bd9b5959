"""xlwings Lite (Excel with Python in the browser, Pyodide): what installs there, main.py, the Refresh script.

* The requirement markers of pyproject.toml, evaluated for Pyodide, leave only packages with a pure-Python
  or a Pyodide wheel (yfinance, curl_cffi and numba out; xlwings not pinned, Lite brings its own), while the
  desktop keeps today's install (xlwings==0.37.8 for the add-in's VBA, yfinance, numba).
* ``build_lite`` writes main.py, requirements.txt and a wheel; the wheel installs with pip and holds every
  module and data file; main.py exposes the very functions of ``udfs.xlsector_udfs`` through xlwings'
  Office.js machinery (as Lite registers and calls them), in an interpreter where yfinance, curl_cffi and
  numba cannot be imported (as in Pyodide), and its Refresh data script shows a clear message.

Numbers under a WebAssembly Python: tests/test_wasm.py.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from xlsector.addin import lite
from xlsector.errors import ParameterError

REPO = Path(__file__).resolve().parents[1]

# Python of the Pyodide releases xlwings Lite has used or uses (Pyodide's changelog: 0.27 -> 3.12,
# 0.28 -> 3.13; from 314.0 the version names the Python: 3.14). Lite's docs require Pyodide 314.0+ now.
PYODIDE_PYTHONS = ["3.12", "3.13", "3.14"]

# Which packages can be installed in Pyodide, for what xlsector pulls in. From Pyodide's package list for those
# releases ("Packages built in Pyodide", pyodide.org/en/stable/usage/packages-in-pyodide.html, the release's
# pyodide-lock.json): packages with compiled code that Pyodide builds for wasm32 itself.
PYODIDE_BUILT = {"numpy", "pandas"}
# Pure-Python wheels (py3-none-any) on PyPI, which micropip installs as they are; checked below against the
# installed wheels' tags where they are installed here.
PURE_PYTHON = {"openpyxl", "et-xmlfile", "python-dateutil", "six", "tzdata", "pytz", "defusedxml", "filelock",
               "exchange-calendars", "korean-lunar-calendar", "pyluach", "toolz"}
# Installed by xlwings Lite itself from the workbook's requirements.txt (xlwings publishes a pure wheel,
# xlwings-<version>-py3-none-any.whl, for Lite).
PROVIDED_BY_LITE = {"xlwings"}
INSTALLABLE = PYODIDE_BUILT | PURE_PYTHON | PROVIDED_BY_LITE
# what cannot install there: curl_cffi (C, no pure or Pyodide wheel) and what needs it; numba (LLVM)
NOT_IN_PYODIDE = {"yfinance", "curl-cffi", "numba", "llvmlite"}


def pyodide_environment(python: str) -> dict[str, str]:
    """Marker variables as Pyodide's CPython reports them (sys.platform, platform.system(), machine)."""
    env = dict(default_environment())
    env.update(
        sys_platform="emscripten", platform_system="Emscripten", platform_machine="wasm32", os_name="posix",
        platform_release="4.0.9", platform_version="#1", implementation_name="cpython",
        platform_python_implementation="CPython", python_version=python, python_full_version=f"{python}.0",
        implementation_version=f"{python}.0",
    )
    return env


def desktop_environment(system: str) -> dict[str, str]:
    env = dict(default_environment())
    platform = {"Windows": "win32", "Linux": "linux", "Darwin": "darwin"}[system]
    env.update(sys_platform=platform, platform_system=system, platform_machine="x86_64",
               os_name="nt" if system == "Windows" else "posix", python_version="3.11", python_full_version="3.11.9")
    return env


def project_requirements() -> list[Requirement]:
    with (REPO / "pyproject.toml").open("rb") as handle:
        return [Requirement(text) for text in tomllib.load(handle)["project"]["dependencies"]]


def resolve(env: dict[str, str]) -> dict[str, Requirement]:
    """xlsector's requirements that apply in ``env``, by canonical name."""
    return {canonicalize_name(r.name): r for r in project_requirements() if r.marker is None or r.marker.evaluate(env)}


def closure(env: dict[str, str]) -> set[str]:
    """Every package the install would pull in ``env``: xlsector's requirements, then theirs as declared by the
    versions installed here (a package not installed here is kept without following it)."""
    todo, seen = list(resolve(env)), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


@pytest.mark.parametrize("python", PYODIDE_PYTHONS)
def test_pyodide_install_has_only_packages_with_a_pure_or_pyodide_wheel(python):
    env = pyodide_environment(python)
    direct = resolve(env)
    assert set(direct) == {"numpy", "pandas", "openpyxl", "xlwings", "defusedxml", "filelock", "exchange-calendars"}
    pulled = closure(env)
    assert pulled <= INSTALLABLE, f"no pure-Python or Pyodide wheel for: {sorted(pulled - INSTALLABLE)}"
    assert not pulled & NOT_IN_PYODIDE
    # xlwings: not the desktop's exact pin (Lite brings its own copy) but a floor any 0.x Lite version meets
    xlwings = direct["xlwings"]
    assert not any(spec.operator == "==" for spec in xlwings.specifier)
    assert xlwings.specifier.contains("0.37.8") and xlwings.specifier.contains("0.39.2")


@pytest.mark.parametrize("system", ["Windows", "Linux", "Darwin"])
def test_desktop_install_is_unchanged(system):
    direct = resolve(desktop_environment(system))
    assert set(direct) == {"numpy", "pandas", "openpyxl", "xlwings", "yfinance", "numba", "defusedxml", "filelock",
                           "exchange-calendars", "dask"}
    assert direct["dask"].extras == {"distributed"}  # xlsector sweep runs on Dask distributed (issue 13)
    assert str(direct["xlwings"].specifier) == "==0.37.8"  # the version whose VBA the .xlam carries
    assert direct["yfinance"].specifier.contains("1.7.0") and direct["numba"].specifier.contains("0.61.0")


def test_the_pure_python_packages_are_pure_where_installed_here():
    checked = 0
    for name in PURE_PYTHON:
        try:
            wheel = importlib.metadata.distribution(name).read_text("WHEEL")
        except importlib.metadata.PackageNotFoundError:
            continue
        if wheel is None:  # installed from a source tree or by the OS: no wheel tags to read
            continue
        tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
        assert tags and all(tag.endswith("-none-any") for tag in tags), (name, tags)
        checked += 1
    assert checked >= 3  # openpyxl, et-xmlfile and python-dateutil come with xlsector's own install


# --------------------------------------------------------------------------------------------- build_lite


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("lite")
    paths = lite.build_lite(folder, wheel_url=f"https://example.org/dist/{lite.wheel_name()}")
    return {p.suffix or p.name: p for p in paths} | {"folder": folder}


def test_build_lite_writes_main_requirements_and_the_wheel(built):
    assert built[".py"].name == "main.py" and built[".txt"].name == "requirements.txt"
    assert built[".whl"].name == f"xlsector-{importlib.metadata.version('xlsector')}-py3-none-any.whl"
    lines = [line for line in built[".txt"].read_text().splitlines() if line and not line.startswith("#")]
    assert lines == [lite.LITE_XLWINGS, f"https://example.org/dist/{lite.wheel_name()}"]
    for line in lines:  # what micropip reads: requirement strings, or a wheel URL
        if not line.startswith("https://"):
            Requirement(line)


def test_wheel_url_must_be_https_and_name_the_wheel():
    with pytest.raises(ParameterError, match="https://"):
        lite.requirements_text("example.org/xlsector.whl")
    with pytest.raises(ParameterError, match="file name"):
        lite.requirements_text("https://example.org/xlsector.whl")
    text = lite.requirements_text(None)
    assert f"# https://<where you host it>/{lite.wheel_name()}" in text


def test_wheel_holds_every_module_and_data_file_with_the_installed_metadata(built):
    with zipfile.ZipFile(built[".whl"]) as archive:
        names = archive.namelist()
        info = f"xlsector-{importlib.metadata.version('xlsector')}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        record = archive.read(f"{info}/RECORD").decode()
        stamps = {item.date_time for item in archive.infolist()}
    for package in ("xlsector", "udfs"):
        sources = {f"{package}/{p.relative_to(REPO / package).as_posix()}" for p in (REPO / package).rglob("*.py")
                   if "__pycache__" not in p.parts}
        assert sources <= set(names), sorted(sources - set(names))
    assert "xlsector/data/sample/prices.csv.gz" in names and "xlsector/profiles/sample_trend.toml" in names
    assert f"{info}/licenses/LICENSES/skfolio-BSD-3-Clause.txt" in names  # the sample data's licence travels
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".nbi", ".nbc"))]
    assert len(record.splitlines()) == len(names) and stamps == {lite.ZIP_TIME}
    # the wheel's requirements are pyproject's (a stale install of xlsector would show here: reinstall it)
    declared = {str(r) for r in project_requirements()}
    shipped = {str(Requirement(line.split(":", 1)[1])) for line in metadata.splitlines()
               if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert shipped == declared
    assert lite.wheel_bytes() == (built[".whl"].name, built[".whl"].read_bytes())  # reproducible


def test_wheel_installs_with_pip_and_imports_from_where_it_went(built, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with stderr shown
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target),
         str(built[".whl"])], capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(target)!r})
        import xlsector, udfs.xlsector_udfs
        from xlsector.data.sample import load_sample
        assert xlsector.__file__.startswith({str(target)!r}), xlsector.__file__
        assert udfs.xlsector_udfs.__file__.startswith({str(target)!r})
        print(load_sample().prices.shape)
        """
    )
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=tmp_path,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "(8313, 11)"


def test_shipped_lite_files_are_what_build_lite_writes():
    shipped = REPO / "workbooks" / "lite"
    assert (shipped / "main.py").read_text(encoding="utf-8") == lite.main_py_text()
    assert (shipped / "requirements.txt").read_text(encoding="utf-8") == lite.requirements_text(None)


# ------------------------------------------------------------------- main.py as xlwings Lite runs it

# A fresh interpreter as in Lite: XLWINGS_ON_SERVER (Office.js decorators) and no yfinance, curl_cffi or numba
# (an import hook refuses them and records the attempts).
LITE_DRIVER = textwrap.dedent(
    """
    import asyncio, contextlib, importlib.abc, io, json, sys

    BLOCKED = ("yfinance", "curl_cffi", "numba", "llvmlite")
    attempts = []

    class NotInPyodide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                attempts.append(name)
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInPyodide())
    case = json.load(sys.stdin)

    import xlwings as xw
    from xlwings.server import (custom_functions_call, custom_functions_meta, custom_scripts_call,
                                custom_scripts_meta)
    import main
    import udfs.xlsector_udfs as u

    out = {"same_objects": all(getattr(main, n) is getattr(u, n) for n in u.__all__),
           "meta_equal": custom_functions_meta(main) == custom_functions_meta(u),
           "names": sorted(f["name"] for f in custom_functions_meta(main)["functions"]),
           "scripts": custom_scripts_meta(main), "values": {}}
    for name, args in case["calls"].items():
        data = {"func_name": name, "args": args, "caller_address": "Sheet1!H1", "formula_name": name,
                "version": xw.__version__, "client": "Office.js", "runtime": "1.4",
                "culture_info_name": "en-US", "date_format": "yyyy-mm-dd"}
        out["values"][name] = asyncio.run(custom_functions_call(data, main))
    out["attempts"] = sorted(set(attempts))
    attempts.clear()
    book = xw.Book(json=case["payload"])
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # Lite's output pane
        result = asyncio.run(custom_scripts_call(main, "refresh_data", typehint_to_value={xw.Book: book}))
    out["actions"] = result.json()["actions"]
    out["printed"] = printed.getvalue()
    out["script_attempts"] = sorted(set(attempts))
    out["loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    json.dump(out, sys.stdout, default=str)
    """
)


def _start_payload() -> dict:
    """A workbook as Lite sends it to the script (include=["Start"]): the Start sheet and the book's names."""
    def name(n: str, address: str) -> dict:
        return {"name": n, "sheet_index": 0, "address": address, "book_scope": True, "scope_sheet_name": None,
                "scope_sheet_index": None}

    return {
        "client": "Office.js", "version": "0.37.8",
        "book": {"name": "fwpt.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": [name("DataSource", "B2"), name("DataLastDate", "B3")],
        "sheets": [{"name": "Start", "values": [["Data", ""], ["Source", "bundled sample"], ["Last", 44923]],
                    "pictures": [], "tables": []}],
    }  # fmt: skip


def _prices(n: int = 60) -> list[list]:
    return [["Date", "A", "B"]] + [[43832 + t, 100 * 1.01**t, 100 * 0.99**t] for t in range(n)]


@pytest.fixture(scope="module")
def lite_run(built) -> dict:
    calls = {
        "EMA2_TREND": [_prices(5), [[10]]],
        "SECTOR_PICK": [_prices(), [[10]]],
        "BACKTEST_CAGR": [_prices(), [[10]]],
        "TREND_CHART": [_prices(), [[2]], [[10]], [[4]]],
    }
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    env.pop("XLSECTOR_NO_NUMBA", None)
    env["PYTHONPATH"] = os.pathsep.join([str(built["folder"]), env.get("PYTHONPATH", "")])
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with stderr shown
        [sys.executable, "-c", LITE_DRIVER], input=json.dumps({"calls": calls, "payload": _start_payload()}),
        capture_output=True, text=True, env=env, cwd=built["folder"], timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_main_py_exposes_the_very_functions_of_udfs_under_their_names(lite_run):
    from udfs import xlsector_udfs

    assert lite_run["same_objects"] and lite_run["meta_equal"]
    assert lite_run["names"] == sorted(xlsector_udfs.__all__) == sorted(lite.lite_function_names())
    scripts = {s["function_name"]: s for s in lite_run["scripts"]}
    assert set(scripts) == {"refresh_data", "recalculate"}
    script = scripts["refresh_data"]
    assert script["name"] == "Refresh data" and script["include"] == "Start"
    assert scripts["recalculate"]["name"] == "Recalculate"  # the desktop's code: it needs no download


def test_functions_compute_without_yfinance_curl_cffi_or_numba(lite_run):
    from udfs import xlsector_udfs as u

    values = lite_run["values"]
    assert values["SECTOR_PICK"] == [["A"]]
    assert values["EMA2_TREND"][-1] == u.EMA2_TREND(_prices(5), 10)[-1]
    assert values["BACKTEST_CAGR"][0][0] == u.BACKTEST_CAGR(_prices(), 10)
    assert [row[0] for row in values["TREND_CHART"][1:]] == [2.0, 6.0, 10.0]
    # the kernels looked for numba once and fell back to numpy; nothing asked for yfinance or curl_cffi
    assert lite_run["attempts"] == ["numba"] and lite_run["loaded"] == []


def test_refresh_script_says_to_refresh_from_a_desktop_and_writes_nothing(lite_run):
    actions = lite_run["actions"]
    assert [a["func"] for a in actions] == ["alert"]  # no write, no clear, no recalculation
    text, title = actions[0]["args"][:2]
    assert title == "xlsector: Refresh data"
    assert text.startswith(lite.REFRESH_MESSAGE) and "nothing was changed" in text
    assert "xlsector refresh" in text and "CORS" in text
    assert text.endswith("The Data sheet runs to 2022-12-28.")  # DataLastDate, serial 44923
    assert lite_run["printed"] == text + "\n"  # and in Lite's output pane
    assert lite_run["script_attempts"] == ["yfinance"]  # it looked for yfinance (not there) and imported nothing
    assert lite_run["loaded"] == []


def test_main_py_without_xlsector_installed_says_what_to_do(built, tmp_path):
    code = textwrap.dedent(
        """
        import importlib.abc, sys

        class NotInstalled(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("udfs", "xlsector"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, NotInstalled())
        try:
            import main
        except ModuleNotFoundError as exc:
            print(exc)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(built["folder"]))
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().startswith("xlsector is not installed: requirements.txt must give the URL")


# --------------------------------------------------------------------------------- refresh_in_lite, in process


class AlertBook:
    """What refresh_in_lite touches of an xlwings Book: names (for DataLastDate) and app.alert."""

    name = "fwpt.xlsx"

    def __init__(self, last_date=None, *, alert_fails: bool = False):
        self.alerts: list[tuple[str, str]] = []
        self.alert_fails = alert_fails
        cell = type("Cell", (), {"shape": (1, 1), "value": last_date})()
        self.names = [] if last_date is None else [type("Name", (), {"name": "DataLastDate",
                                                                      "refers_to_range": cell})()]
        self.app = self

    def alert(self, text, title=None):
        if self.alert_fails:
            raise RuntimeError("no message box in this runtime")
        self.alerts.append((text, title))


def test_refresh_in_lite_without_a_downloader_alerts_and_returns_the_message(monkeypatch, capsys):
    monkeypatch.setattr(lite, "_can_download", lambda: False)
    book = AlertBook(dt.datetime(2024, 5, 31))
    message = lite.refresh_in_lite(book)
    assert book.alerts == [(message, "xlsector: Refresh data")]
    assert message == lite.REFRESH_MESSAGE + "\nThe Data sheet runs to 2024-05-31."
    assert message in capsys.readouterr().out  # Lite's output pane shows it too
    assert lite.refresh_in_lite(AlertBook()) == lite.REFRESH_MESSAGE  # no DataLastDate: the message alone
    assert lite.refresh_in_lite(AlertBook(45443.0)).endswith("runs to 2024-05-31.")  # a serial number
    assert lite.refresh_in_lite(AlertBook("soon")) == lite.REFRESH_MESSAGE  # unreadable: left out
    # no message box available: still no exception, the message is returned (and printed)
    assert lite.refresh_in_lite(AlertBook(alert_fails=True)) == lite.REFRESH_MESSAGE


def test_refresh_in_lite_runs_the_desktop_refresh_where_a_download_is_possible(monkeypatch):
    from xlsector.addin import refresh

    calls = []
    monkeypatch.setattr(refresh, "refresh_book", lambda book, **options: calls.append((book, options)) or "report")

    def downloader(tickers, start, end, session):
        raise AssertionError("not called by the stub")

    book = AlertBook()
    monkeypatch.setattr(lite, "_can_download", lambda: False)
    assert lite.refresh_in_lite(book, downloader=downloader) == "report"
    monkeypatch.setattr(lite, "_can_download", lambda: True)  # yfinance importable (xlwings Server on CPython)
    assert lite.refresh_in_lite(book) == "report"
    assert calls == [(book, {"downloader": downloader}), (book, {})] and book.alerts == []


def test_can_download_reflects_whether_yfinance_is_importable():
    expected = importlib.util.find_spec("yfinance") is not None
    assert lite._can_download() is expected
    assert Version(lite.LITE_XLWINGS.split(">=")[1].split(",")[0]) == Version("0.37.8")
