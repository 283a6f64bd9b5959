"""The workbook's Data sheet and provenance cells (read with openpyxl; written only by the refresh), by the
workbook contract of :mod:`xlsector.contract` (sheet and cell names, the named-cell policy)."""

from __future__ import annotations

import datetime as _dt
import os
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from xlsector.contract import DATA_SHEET, PROVENANCE_NAMES, named_values, resolve_cell
from xlsector.errors import DataError, XlsectorError

__all__ = ["load_fast", "open_workbook", "read_data_sheet", "read_named_values", "sheet_cells", "write_data_sheet"]


def _load_bytes(data: bytes, file: Path, *, read_only: bool = True, data_only: bool = True):
    """openpyxl's workbook from checked bytes; any openpyxl failure is a DataError naming the file."""
    import io
    import warnings

    import openpyxl

    keep_vba = not read_only and has_vba(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl: unsupported extensions, data validation
            return openpyxl.load_workbook(io.BytesIO(data), read_only=read_only, data_only=data_only,
                                          keep_vba=keep_vba)
    except XlsectorError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (KeyError, BadZipFile, XML errors)
        raise DataError(
            f"cannot read {file}: not a valid Excel workbook ({type(exc).__name__}: {exc})"
        ) from None


def has_vba(data: bytes) -> bool:
    """True when the workbook's bytes hold a VBA project (macros: ``xl/vbaProject.bin``)."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/vbaProject.bin" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def read_checked(path: str | os.PathLike[str]) -> bytes:
    """A workbook's bytes, read and checked once (:func:`xlsector.workbook.guard.read_workbook_bytes`: a regular
    file, a real .xlsx within the limits, safe XML); every reader here opens these bytes from memory."""
    from xlsector.workbook.guard import read_workbook_bytes

    return read_workbook_bytes(path)


def open_workbook(path: str | os.PathLike[str], *, read_only: bool = True, data_only: bool = True):
    """Open an .xlsx/.xlsm with openpyxl (from checked bytes: :func:`read_checked`); a missing, corrupt,
    hostile or non-spreadsheet file is an :class:`XlsectorError`."""
    file = Path(path)
    return _load_bytes(read_checked(file), file, read_only=read_only, data_only=data_only)


def sheet_cells(sheet) -> list[list[Any]]:
    """All values of a sheet as a list of rows (``None`` for blanks), in the sheet's used range (computed from the
    cells, not from the sheet's declared ``<dimension>``, which a file may set to the whole grid)."""
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def read_named_values(
    path: str | os.PathLike[str], names: tuple[str, ...] | list[str] | None = None
) -> dict[str, Any]:
    """Values of the named cells of a workbook file (all its names when ``names`` is None)."""
    book = open_workbook(path)
    try:
        if names is None:
            names = list(book.defined_names.keys())
        return named_values(book, list(names))
    finally:
        book.close()


def _data_frame(book, path: Path, grid: list[list[Any]] | None) -> pd.DataFrame:
    """The Data sheet as a price frame from its cells (header row first), read from the file's XML."""
    from xlsector.data.cells import cells_to_prices

    if DATA_SHEET not in book.sheetnames:
        raise DataError(f"{path}: no sheet named {DATA_SHEET} (the workbook's prices live there)")
    cells = grid or []
    if not cells or all(v is None for v in cells[0]):
        return pd.DataFrame(index=pd.DatetimeIndex([], name="Date", dtype="datetime64[us]"), dtype=float)
    try:
        frame = cells_to_prices(cells, header=True, dates=True)
    except DataError as exc:
        raise DataError(f"{path}, sheet {DATA_SHEET}: {str(exc).removeprefix('cells: ')}") from None
    frame.index.name = "Date"
    return frame


def load_fast(
    path: str | os.PathLike[str], *, read_only: bool = True, data_only: bool = True, with_rows: bool = True
):
    """Open a workbook quickly: the Data sheet's values are read straight from the XML
    (:func:`xlsector.xlsx.read_sheet_grid`, the one reader of price sheets, with its limits) and openpyxl opens a
    copy in which Data keeps only its header row (openpyxl needs seconds for 100k cells).

    Returns ``(book, grid, raw_bytes)``: the openpyxl workbook, the Data sheet's cells (row 1, the header, first;
    serial numbers for dates) or None when there is no Data sheet or ``with_rows`` is False, and the file's
    checked bytes.
    """
    from xlsector.xlsx import read_sheet_grid, strip_sheet_rows

    file = Path(path)
    raw = read_checked(file)
    grid = read_sheet_grid(raw, DATA_SHEET, name=str(file)) if with_rows else None
    try:
        stripped = strip_sheet_rows(raw, DATA_SHEET)
    except XlsectorError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged zip member or XML the guard let through
        raise DataError(f"cannot read {file}: not a valid Excel workbook ({type(exc).__name__}: {exc})") from None
    book = _load_bytes(stripped, file, read_only=read_only, data_only=data_only)
    cells = None if grid is None else [list(row) for row in grid.tolist()]
    return book, cells, raw


def read_data_sheet(path: str | os.PathLike[str], *, validate: bool = True):
    """Read the Data sheet and provenance cells of a workbook as :class:`~xlsector.data.PriceData`
    (validated as every source is: :func:`xlsector.data.validate.check_stored`)."""
    from xlsector.data.sources import PriceData, make_provenance
    from xlsector.data.validate import check_stored

    file = Path(path)
    book, grid, _ = load_fast(file)
    try:
        frame = _data_frame(book, file, grid)
        stored = named_values(book, PROVENANCE_NAMES)
    finally:
        book.close()
    if validate and len(frame):
        frame = check_stored(frame, f"{file}, sheet {DATA_SHEET}")
    source = stored.get("DataSource") or f"workbook: {file.name}"
    fetched = stored.get("DataFetched")
    if not isinstance(fetched, _dt.datetime):
        fetched = None
    return PriceData(frame, make_provenance(frame, str(source), fetched_at=fetched))


def write_data_sheet(book, prices: pd.DataFrame, provenance) -> None:
    """Set the Data sheet's header row, a style-carrying date in A2, and the provenance cells.

    ``book`` is a workbook opened by :func:`load_fast` (normal mode), so Data holds only its header;
    the price rows are put into the saved file by :func:`xlsector.xlsx.inject_rows`.
    Everything else in the workbook is kept.
    """
    sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else book.create_sheet(DATA_SHEET)
    for (i, _j), cell in list(sheet._cells.items()):
        if i >= 2:
            cell.value = None
    old_cols = sheet.max_column
    sheet.cell(1, 1).value = "Date"
    for j, ticker in enumerate(prices.columns, start=2):
        sheet.cell(1, j).value = str(ticker)
    for j in range(prices.shape[1] + 2, old_cols + 1):
        sheet.cell(1, j).value = None
    if len(prices):
        cell = sheet.cell(2, 1)  # only to obtain a date style; inject_rows replaces row 2
        cell.value = prices.index[0].to_pydatetime()
        cell.number_format = "yyyy-mm-dd"
    stored = {
        "DataSource": provenance.source,
        "DataFirstDate": _dt.datetime.combine(provenance.first_date, _dt.time())
        if provenance.first_date
        else None,
        "DataLastDate": _dt.datetime.combine(provenance.last_date, _dt.time())
        if provenance.last_date
        else None,
        "DataFetched": provenance.fetched_at,
        "DataTickers": ", ".join(provenance.tickers),
    }
    for name, value in stored.items():
        where = resolve_cell(book, name)
        if where is None:
            continue
        title, coord = where
        book[title][coord].value = value
