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


def open_workbook(path: str | os.PathLike[str], *, read_only: bool = True, data_only: bool = True):
    """Open an .xlsx/.xlsm with openpyxl; a missing, corrupt or non-spreadsheet file is a :class:`DataError`."""
    import openpyxl

    file = Path(path)
    if not file.is_file():
        raise DataError(f"workbook {file} does not exist")
    if not zipfile.is_zipfile(file):
        raise DataError(f"cannot read {file}: not an Excel workbook (.xlsx/.xlsm is a zip file; this is not)")
    keep_vba = file.suffix.lower() == ".xlsm" and not read_only
    try:
        return openpyxl.load_workbook(file, read_only=read_only, data_only=data_only, keep_vba=keep_vba)
    except XlsectorError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (KeyError, BadZipFile, XML errors)
        raise DataError(
            f"cannot read {file}: not a valid Excel workbook ({type(exc).__name__}: {exc})"
        ) from None


def sheet_cells(sheet) -> list[list[Any]]:
    """All values of a sheet as a list of rows (``None`` for blanks), in the sheet's used range."""
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


def _data_frame(book, path: Path, rows: list[list[Any]] | None = None) -> pd.DataFrame:
    """The Data sheet as a price frame. ``rows`` are rows 2.. when they were cut out of the file's XML
    before openpyxl opened it (:func:`load_fast`); otherwise openpyxl reads them (slow for big sheets).
    """
    from xlsector.data.cells import cells_to_prices

    if DATA_SHEET not in book.sheetnames:
        raise DataError(f"{path}: no sheet named {DATA_SHEET} (the workbook's prices live there)")
    sheet = book[DATA_SHEET]
    if rows is None:
        cells = sheet_cells(sheet)
    else:
        header = list(next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ()))
        width = max([len(header)] + [len(r) for r in rows])
        cells = [header + [None] * (width - len(header))] + rows
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
    (:mod:`xlsector.data.sheetxml`) and openpyxl opens a copy in which Data keeps only its header row
    (openpyxl needs seconds for 100k cells).

    Returns ``(book, rows, raw_bytes)``: the openpyxl workbook, the Data sheet's rows 2.. as lists of
    values (serial numbers for dates) or None when there is no Data sheet, and the file's bytes.
    """
    import io

    import openpyxl

    from xlsector.xlsx import read_sheet_grid, strip_sheet_rows

    file = Path(path)
    open_workbook(file, read_only=True).close()  # the checks and messages for missing/corrupt files
    raw = file.read_bytes()
    try:
        grid = read_sheet_grid(raw, DATA_SHEET) if with_rows else None
        stripped = strip_sheet_rows(raw, DATA_SHEET)
        keep_vba = file.suffix.lower() == ".xlsm" and not read_only
        book = openpyxl.load_workbook(
            io.BytesIO(stripped), read_only=read_only, data_only=data_only, keep_vba=keep_vba
        )
    except XlsectorError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged zip member or XML openpyxl's first look did not touch
        raise DataError(
            f"cannot read {file}: not a valid Excel workbook ({type(exc).__name__}: {exc})"
        ) from None
    rows = None if grid is None else grid[1:].tolist()
    return book, rows, raw


def read_data_sheet(path: str | os.PathLike[str], *, validate: bool = True):
    """Read the Data sheet and provenance cells of a workbook as :class:`~xlsector.data.PriceData`."""
    from xlsector.data.sources import PriceData, make_provenance
    from xlsector.data.validate import validate_prices

    file = Path(path)
    book, rows, _ = load_fast(file)
    try:
        frame = _data_frame(book, file, rows)
        stored = named_values(book, PROVENANCE_NAMES)
    finally:
        book.close()
    if validate and len(frame):
        frame, _ = validate_prices(frame, jump_threshold=None)
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
