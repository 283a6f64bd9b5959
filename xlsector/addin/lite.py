"""xlwings Lite: the files that run xlsector in Excel without a local Python (Python in the add-in, Pyodide).

:func:`build_lite` writes the three files a workbook needs in xlwings Lite (see ``docs/lite.md``):

``main.py``
    What Lite's editor holds: it imports the Excel functions of :mod:`udfs.xlsector_udfs` — the same
    function objects under the same names as the desktop add-in, listed from the module's ``__all__`` — and
    declares the ``Refresh data`` script. xlwings Lite registers every ``@func`` it finds among the
    module's members, imported ones included, with the same ``xw.func``/``xw.arg`` metadata xlwings Server
    uses (Lite sets ``XLWINGS_ON_SERVER``, so :mod:`udfs.xlsector_udfs` binds the Office.js decorators).
``requirements.txt``
    What Lite installs with micropip: xlwings (a pure wheel; Lite's own copy) and xlsector's wheel by URL
    (xlsector is not on PyPI). numpy and pandas come from Pyodide's own wheels, openpyxl from PyPI (pure);
    numba and yfinance are excluded on Pyodide by xlsector's requirement markers, so the numpy fallback of
    :mod:`xlsector._kernels` computes (the same numbers: ``tests/test_wasm.py``).
``xlsector-<version>-py3-none-any.whl``
    A pure-Python wheel of the installed xlsector (packages ``xlsector`` and ``udfs``, their data files,
    the installed metadata and licences), written reproducibly (sorted entries, fixed timestamps). It must
    be served over HTTPS with CORS headers that let the add-in fetch it (docs/lite.md lists ways).

Refresh data in Lite (:func:`refresh_in_lite`)
    Not possible: the add-in's Python runs in a browser, whose requests are subject to CORS, and Yahoo
    Finance's endpoints send no ``Access-Control-Allow-Origin`` header for other sites (xlwings Lite's
    documentation: only servers that allow it, else a CORS proxy); pyodide-http and ``pyfetch`` go through
    the same browser ``fetch``/XHR, so they change nothing. yfinance itself cannot be installed there (it
    needs curl_cffi, a C extension with neither a pure nor a Pyodide wheel). So the script says, in an Excel
    message box, that the data must be refreshed from a desktop (``xlsector refresh WORKBOOK`` or the
    classic add-in's button) and changes nothing; never a stack trace. Where a downloader does exist (one
    passed in, or yfinance installed: xlwings Server on CPython), it runs the desktop button's code,
    :func:`xlsector.addin.refresh.refresh_book`: the same validation and merge.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import zipfile
from collections.abc import Iterable
from email.parser import Parser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xlsector.errors import ParameterError

__all__ = [
    "LITE_XLWINGS",
    "REFRESH_MESSAGE",
    "build_lite",
    "build_wheel",
    "lite_function_names",
    "main_py_text",
    "refresh_in_lite",
    "requirements_text",
    "wheel_name",
]

#: The requirement Lite installs xlwings with: the version the Office.js path is tested with, below 1.0.
LITE_XLWINGS = "xlwings>=0.37.8,<1"
UDF_MODULE = "udfs.xlsector_udfs"
SCRIPT_NAME = "Refresh data"
ALERT_TITLE = "xlsector: Refresh data"
PACKAGES = ("xlsector", "udfs")
# files of the packages that go into the wheel (pyproject's package-data, less the classic add-in)
DATA_SUFFIXES = frozenset({".py", ".typed", ".csv", ".gz", ".toml", ".txt", ".md", ".xml", ".json"})
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same sources give the same wheel bytes

REFRESH_MESSAGE = (
    "Refresh data does not work in xlwings Lite, so nothing was changed. Lite runs Python inside Excel's "
    "browser add-in, and the browser blocks downloads from Yahoo Finance (its servers do not allow requests "
    "from other web sites: no CORS headers); yfinance cannot be installed there either.\n"
    "Refresh the data from a desktop with Python: run `xlsector refresh <this workbook>` (after `pip install "
    "xlsector`), or click Refresh data in the classic add-in; save, then open the workbook here again. The "
    "functions recalculate from the new Data sheet."
)


# --------------------------------------------------------------------------------------------- refresh

def _can_download() -> bool:
    """Whether yfinance could be imported here (never in Pyodide), without importing it."""
    try:
        return importlib.util.find_spec("yfinance") is not None
    except (ImportError, ValueError):
        return False


def _last_date(book: Any) -> str | None:
    """The workbook's ``DataLastDate`` as yyyy-mm-dd, or None when it cannot be read (never raises)."""
    try:
        from xlsector.addin.refresh import XlwingsBook

        value = XlwingsBook(book).named_values(("DataLastDate",)).get("DataLastDate")
        if isinstance(value, (_dt.datetime, _dt.date)):
            return f"{value:%Y-%m-%d}"
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            import pandas as pd

            from xlsector.data.cells import excel_serial_to_datetime

            return f"{pd.Timestamp(excel_serial_to_datetime([float(value)])[0]):%Y-%m-%d}"
    except Exception:  # noqa: BLE001 - the date only adds to the message; the message must always show
        return None
    return None


def refresh_in_lite(book: Any, *, downloader: Any = None) -> Any:
    """The ``Refresh data`` script of xlwings Lite (``book``: the ``xw.Book`` Lite passes to the script).

    Without a way to download (Pyodide: no yfinance, no CORS from Yahoo), shows :data:`REFRESH_MESSAGE` in
    an Excel message box (and in Lite's output pane), changes nothing and returns the message. With a
    ``downloader`` (``(tickers, start, end, session) -> frame``, as :func:`xlsector.data.yahoo.fetch_adj_close`
    takes) or yfinance importable, runs the desktop button's refresh (:func:`~xlsector.addin.refresh.refresh_book`:
    same validation, merge and messages) and returns its report.
    """
    if downloader is not None or _can_download():
        from xlsector.addin.refresh import refresh_book

        options = {} if downloader is None else {"downloader": downloader}
        return refresh_book(book, **options)
    last = _last_date(book)
    message = REFRESH_MESSAGE + (f"\nThe Data sheet runs to {last}." if last else "")
    print(message)
    with contextlib.suppress(Exception):  # no message box (an old runtime): the output pane has the message
        book.app.alert(message, title=ALERT_TITLE)
    return message


# ---------------------------------------------------------------------------------------------- main.py

def lite_function_names() -> list[str]:
    """The Excel functions Lite exposes: :mod:`udfs.xlsector_udfs`'s ``__all__``, each checked callable."""
    module = importlib.import_module(UDF_MODULE)
    names = list(module.__all__)
    for name in names:
        if not callable(getattr(module, name, None)):
            raise ParameterError(f"{UDF_MODULE}.{name} is listed in __all__ but is not a function")
    return names


def main_py_text(names: Iterable[str] | None = None) -> str:
    """Lite's ``main.py``: the functions of :mod:`udfs.xlsector_udfs` imported by name, and the script."""
    names = lite_function_names() if names is None else list(names)
    imports = "".join(f"        {name},\n" for name in names)
    listed = "".join(f'    "{name}",\n' for name in names)
    return f'''"""xlsector in xlwings Lite: the Excel functions and the Refresh data and Recalculate scripts.

Generated by xlsector.addin.lite.build_lite (`xlsector addin build --lite`); rebuild rather than edit.
The functions are xlsector's own (udfs.xlsector_udfs), the same objects under the same names as in the
desktop add-in, so the template workbook's formulas work unchanged. See docs/lite.md.
"""

import xlwings as xw
from xlwings import script

try:
    from udfs.xlsector_udfs import (  # Lite registers the imported functions
{imports}    )
    from xlsector.addin.lite import refresh_in_lite
    from xlsector.addin.refresh import recalculate_book
except ModuleNotFoundError as exc:
    if exc.name not in ("udfs", "udfs.xlsector_udfs", "xlsector", "xlsector.addin", "xlsector.addin.lite",
                        "xlsector.addin.refresh"):
        raise
    raise ModuleNotFoundError(
        "xlsector is not installed: requirements.txt must give the URL of its wheel (see docs/lite.md), "
        "then restart xlwings Lite"
    ) from None

__all__ = [
{listed}    "recalculate",
    "refresh_data",
]


@script(name="{SCRIPT_NAME}", include=["Start"])
def refresh_data(book: xw.Book):
    """Refresh data: in xlwings Lite this explains why the prices must be refreshed from a desktop."""
    refresh_in_lite(book)


@script(name="Recalculate", include=["Settings", "Data", "Momentum"])
def recalculate(book: xw.Book):
    """Recompute the Momentum sheet (a phased experiment, not a formula) in place, then recalculate."""
    recalculate_book(book)
'''


# --------------------------------------------------------------------------------------- requirements

def wheel_name(version: str | None = None) -> str:
    """File name of xlsector's pure-Python wheel (``xlsector-0.1.0-py3-none-any.whl``)."""
    version = version or importlib.metadata.version("xlsector")
    return f"xlsector-{version}-py3-none-any.whl"


def _check_wheel_url(url: str, name: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ParameterError(f"wheel_url must be an https:// URL of the wheel, got {url!r}")
    if parts.path.rsplit("/", 1)[-1] != name:
        raise ParameterError(
            f"wheel_url must end with the wheel's file name {name} (micropip reads the package name and "
            f"version from it), got {url!r}"
        )
    return url


def requirements_text(wheel_url: str | None = None, *, version: str | None = None) -> str:
    """Lite's ``requirements.txt``; without ``wheel_url`` the xlsector line is a comment to fill in."""
    name = wheel_name(version)
    version = name.split("-")[1]
    head = (
        f"# xlsector {version} for xlwings Lite, generated by `xlsector addin build --lite` (docs/lite.md).\n"
        "# numpy and pandas are Pyodide's own builds and openpyxl is pure Python: xlsector's requirements bring\n"
        "# them; numba and yfinance are left out on Pyodide (the numpy fallback computes the same numbers).\n"
        f"{LITE_XLWINGS}\n"
        "# xlsector is not on PyPI: the URL of its wheel, served over HTTPS with CORS headers.\n"
    )
    if wheel_url is None:
        return head + f"# https://<where you host it>/{name}\n"
    return head + _check_wheel_url(wheel_url, name) + "\n"


# ---------------------------------------------------------------------------------------------- wheel

def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _package_files() -> list[tuple[str, bytes]]:
    """(archive path, bytes) of every file of the packages xlsector and udfs, sorted."""
    files: list[tuple[str, bytes]] = []
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ParameterError(f"the package {package!r} is not importable; install xlsector first")
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and "__pycache__" not in relative.parts and path.suffix in DATA_SUFFIXES:
                files.append((f"{package}/{relative.as_posix()}", path.read_bytes()))
    return files


def _installed() -> importlib.metadata.Distribution:
    """The installed xlsector's ``.dist-info`` (not a source tree's ``xlsector.egg-info``, which a build leaves
    beside pyproject.toml and which importlib finds first when the current folder is the repository)."""
    for dist in importlib.metadata.distributions(name="xlsector"):
        if dist.read_text("METADATA"):
            return dist
    raise ParameterError("xlsector is not installed with its metadata (.dist-info); install it: pip install -e .")


def wheel_bytes() -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel of the installed xlsector (see the module docstring).

    The metadata is the installed distribution's (``METADATA`` with its requirement markers, entry points,
    licence files): reinstall xlsector after changing ``pyproject.toml``.
    """
    dist = _installed()
    name = wheel_name(dist.version)
    info = f"xlsector-{dist.version}.dist-info"
    metadata = dist.read_text("METADATA") or ""
    entries = _package_files()
    entries.append((f"{info}/METADATA", metadata.encode("utf-8")))
    wheel = "Wheel-Version: 1.0\nGenerator: xlsector.addin.lite\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries.append((f"{info}/WHEEL", wheel.encode("utf-8")))
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        entries.append((f"{info}/entry_points.txt", entry_points.encode("utf-8")))
    for licence in Parser().parsestr(metadata).get_all("License-File") or []:
        text = dist.read_text(f"licenses/{licence}")
        if text is None:
            raise ParameterError(f"the installed xlsector lacks its licence file {licence}; reinstall it")
        entries.append((f"{info}/licenses/{licence}", text.encode("utf-8")))
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in entries)
    entries.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode("utf-8")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries:
            item = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            item.compress_type = zipfile.ZIP_DEFLATED
            item.external_attr = 0o644 << 16
            archive.writestr(item, data)
    return name, buffer.getvalue()


def build_wheel(out_dir: str | Path) -> Path:
    """Write xlsector's pure-Python wheel into the folder ``out_dir`` (made if missing); return its path."""
    from xlsector.fileio import atomic_write_bytes

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name, data = wheel_bytes()
    return atomic_write_bytes(folder / name, data)


# ---------------------------------------------------------------------------------------------- build

def build_lite(out_dir: str | Path, *, wheel_url: str | None = None) -> list[Path]:
    """Write ``main.py``, ``requirements.txt`` and xlsector's wheel for xlwings Lite into ``out_dir``.

    ``wheel_url``: where the wheel will be served (https, ending with the wheel's file name); it goes into
    ``requirements.txt``. Without it that line is a comment to complete (docs/lite.md). Returns the paths
    written: main.py, requirements.txt, the wheel.
    """
    from xlsector.fileio import atomic_write_bytes

    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"out_dir must be a folder, got the file {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    requirements = requirements_text(wheel_url)  # checks the URL before anything is written
    main = atomic_write_bytes(folder / "main.py", main_py_text().encode("utf-8"))
    reqs = atomic_write_bytes(folder / "requirements.txt", requirements.encode("utf-8"))
    return [main, reqs, build_wheel(folder)]
