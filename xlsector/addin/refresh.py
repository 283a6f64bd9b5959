"""The "Refresh data" button: refresh an open workbook's Data sheet through xlwings, in every runtime.

One code path after the workbook is open, whatever opened it:

* classic Excel (Windows/macOS): the add-in's ribbon button runs ``RunPython "import xlsector;
  xlsector.main()"`` (xlwings' custom add-in convention), i.e. :func:`main` → :func:`refresh_book` with
  ``xw.Book.caller()``;
* Office.js (xlwings Server / Lite): the ribbon button calls the ``@script`` ``refresh_data`` in
  :mod:`udfs.scripts`, which xlwings hands an ``xw.Book`` built from the workbook's JSON; the actions
  the script records (write values, alert) are sent back to Excel;
* the command line: ``refresh_workbook(FileBook(path))`` — the same steps on a file on disk.

Steps (:func:`refresh_workbook`): read the settings (workbook names ``Funds``, ``BearFunds``,
``MarketIndex``, ``VixTicker``, ``CashRate``, ``RefreshStart``) and the Data sheet (through
:func:`xlsector.data.cells_to_prices`); download every Data column and Settings ticker from
``RefreshStart`` (else the sheet's first date, else 1990-01-01) with the data package's downloader;
validate and merge (:mod:`xlsector.data.refresh` rules: a failed ticker, invalid data or a new
unexplained one-day jump stops the refresh); then — and only then — write the Data sheet, stamp the
provenance cells (``DataSource``, ``DataFirstDate``, ``DataLastDate``, ``DataFetched``, ``DataTickers``)
and recalculate. On failure nothing is written and the button shows an alert naming the failed tickers.
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

from xlsector.contract import DATA_SHEET
from xlsector.data.refresh import FileBook, refresh_workbook
from xlsector.errors import XlsectorError

__all__ = ["CellSink", "FileBook", "XlwingsBook", "main", "main_recalculate", "recalculate_book", "refresh_book",
           "refresh_workbook"]

ALERT_TITLE = "xlsector: Refresh data"


class XlwingsBook:
    """:class:`BookAccess` over an ``xlwings.Book`` (classic COM/AppleScript, or ``xw.Book(json=...)``)."""

    def __init__(self, book: Any):
        self.book = book
        self.name = str(book.name)

    def _names(self) -> dict[str, Any]:
        out = {}
        for name in self.book.names:
            out[str(name.name)] = name
        return out

    def _cell(self, name: str) -> Any | None:
        item = self._names().get(name)
        if item is None:
            return None
        try:
            cell = item.refers_to_range
        except Exception:  # noqa: BLE001 - a name holding a constant or formula: no single cell
            return None
        if cell is None or cell.shape != (1, 1):
            return None
        return cell

    def named_values(self, names: tuple[str, ...]) -> dict[str, Any]:
        out = {}
        for name in names:
            cell = self._cell(name)
            if cell is not None:
                out[name] = cell.value
        return out

    def data_cells(self) -> list[list[Any]] | None:
        if DATA_SHEET not in [sheet.name for sheet in self.book.sheets]:
            return None
        used = self.book.sheets[DATA_SHEET].used_range
        return used.options(ndim=2).value

    def write(self, prices: pd.DataFrame, provenance: Any) -> None:
        if DATA_SHEET in [sheet.name for sheet in self.book.sheets]:
            sheet = self.book.sheets[DATA_SHEET]
            sheet.used_range.clear_contents()
        else:
            sheet = self.book.sheets.add(DATA_SHEET, after=self.book.sheets[len(self.book.sheets) - 1])
        sheet["A1"].value = _data_rows(prices)
        for name, value in _provenance_values(provenance).items():
            cell = self._cell(name)
            if cell is not None:
                cell.value = value

    def recalculate(self) -> None:
        self.book.app.calculate()

    def alert(self, text: str, title: str) -> None:
        self.book.app.alert(text, title=title)


def _data_rows(prices: pd.DataFrame) -> list[list[Any]]:
    """Header ("Date", tickers) and one row per date: a real date, then prices (None = no price)."""
    rows: list[list[Any]] = [["Date"] + [str(c) for c in prices.columns]]
    values = prices.to_numpy(dtype=float).tolist()
    for day, row in zip(pd.DatetimeIndex(prices.index).to_pydatetime(), values):
        rows.append([day] + [None if math.isnan(v) else v for v in row])
    return rows


def _provenance_values(provenance: Any) -> dict[str, Any]:
    def as_datetime(day: _dt.date | None) -> _dt.datetime | None:
        return None if day is None else _dt.datetime.combine(day, _dt.time())

    fetched = provenance.fetched_at
    if fetched is not None and fetched.tzinfo is not None:
        fetched = fetched.astimezone(_dt.UTC).replace(tzinfo=None)
    return {
        "DataSource": provenance.source,
        "DataFirstDate": as_datetime(provenance.first_date),
        "DataLastDate": as_datetime(provenance.last_date),
        "DataFetched": fetched,
        "DataTickers": ", ".join(provenance.tickers),
    }


def refresh_book(book: Any, **options: Any):
    """The "Refresh data" button: refresh ``book`` (an ``xlwings.Book``) and tell the user how it went.

    On success an alert summarises the new rows; on failure the Data sheet is left as it was and the
    alert names the failed tickers and the reason. Returns the report either way (``written`` says which).
    """
    from xlsector.data.refresh import RefreshError, RefreshReport

    access = XlwingsBook(book)
    try:
        report = refresh_workbook(access, **options)
    except RefreshError as exc:
        access.alert(str(exc), ALERT_TITLE)
        return exc.report
    except XlsectorError as exc:
        access.alert(f"refresh of {access.name} stopped, nothing written: {exc}", ALERT_TITLE)
        return RefreshReport(workbook=Path(access.name))
    access.alert(report.summary(), ALERT_TITLE)
    return report


def main() -> None:
    """Entry point of the classic add-in's button (``RunPython "import xlsector; xlsector.main()"``): refresh,
    then recompute what is not a formula (xlwings' ribbon template has one VBA callback, so the classic
    button does both; Office.js has a separate Recalculate button)."""
    import xlwings as xw

    book = xw.Book.caller()
    if refresh_book(book).written:
        recalculate_book(book, quiet=True)


# --------------------------------------------------------------------------------------------- Recalculate

class CellSink:
    """The Recalculate button's writer: collects what a sheet writer of the render would write (text,
    values, headers) and writes the values into an xlwings sheet in one block; no styles, no charts (those
    are the last render's, over the same cells)."""

    ws = None  # no openpyxl worksheet: the sheet writers skip their charts

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], Any] = {}

    def value(self, row: int, col: int, value: Any, number_format: str | None = None) -> None:
        from xlsector.workbook.writer import clean

        self.cells[(row, col)] = clean(value)

    def text(self, row: int, col: int, text: str, kind: str = "plain") -> None:
        self.value(row, col, text)

    def header(self, row: int, col: int, names: list[str]) -> None:
        for j, name in enumerate(names):
            self.value(row, col + j, name)

    def widths(self, widths: dict[str, float]) -> None:
        """Column widths are the last render's."""

    def rows(self, first_row: int) -> list[list[Any]]:
        """The cells from ``first_row`` down as one rectangle (blanks None), from column A."""
        last_row = max(r for r, _ in self.cells)
        last_col = max(c for _, c in self.cells)
        return [[self.cells.get((r, c)) for c in range(1, last_col + 1)] for r in range(first_row, last_row + 1)]


MOMENTUM_SHEET = "Momentum"
RECALC_TITLE = "xlsector: Recalculate"


def recalculate_book(book: Any, *, quiet: bool = False) -> str:
    """The "Recalculate" button: recompute, in place, what is not a formula (the Momentum sheet's phased
    experiment) with the render's own code, then recalculate the formulas. Returns the message (shown in an
    alert; with ``quiet`` only when something went wrong); a bad setting or bad data changes nothing and
    says why."""
    from xlsector.contract import SETTING_NAMES, read_settings
    from xlsector.data.cells import cells_to_prices
    from xlsector.workbook.compute import momentum
    from xlsector.workbook.inputs import split_inputs
    from xlsector.workbook.sheet_momentum import write_momentum

    access = XlwingsBook(book)
    try:
        settings = read_settings(access.named_values(SETTING_NAMES))
        cells = access.data_cells()
        if not cells:
            raise XlsectorError(f"{access.name} has no {DATA_SHEET} sheet with prices")
        inputs = split_inputs(cells_to_prices(cells, header=True, dates=True), settings)
        study = momentum(inputs, settings)
    except XlsectorError as exc:
        message = f"Recalculate of {access.name} stopped, nothing changed: {exc}"
        access.alert(message, RECALC_TITLE)
        return message
    sink = CellSink()
    write_momentum(sink, study)
    names = [sheet.name for sheet in book.sheets]
    sheet = book.sheets[MOMENTUM_SHEET] if MOMENTUM_SHEET in names else book.sheets.add(MOMENTUM_SHEET)
    first = min(r for r, _ in sink.cells)
    sheet.range(f"A{first}").expand("table").clear_contents()
    sheet.range(f"A{first}").value = sink.rows(first)
    access.recalculate()
    message = "Momentum sheet recomputed; every formula recalculated." if not study.error else study.error
    if not quiet or study.error:
        access.alert(message, RECALC_TITLE)
    return message


def main_recalculate() -> None:
    """Recalculate for a macro of your own in classic Excel (``RunPython "import xlsector.addin.refresh as r;
    r.main_recalculate()"``): the shipped ribbon's one callback runs :func:`main`."""
    import xlwings as xw

    recalculate_book(xw.Book.caller())
