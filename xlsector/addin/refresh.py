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
from typing import Any, Protocol

import pandas as pd

from xlsector.errors import DataError, XlsectorError

__all__ = [
    "DATA_SHEET",
    "PROVENANCE_NAMES",
    "SETTING_NAMES",
    "BookAccess",
    "FileBook",
    "XlwingsBook",
    "main",
    "refresh_book",
    "refresh_workbook",
]

DATA_SHEET = "Data"
SETTING_NAMES = ("Funds", "BearFunds", "MarketIndex", "VixTicker", "CashRate", "RefreshStart")
PROVENANCE_NAMES = ("DataSource", "DataFirstDate", "DataLastDate", "DataFetched", "DataTickers")
ALERT_TITLE = "xlsector: Refresh data"


class BookAccess(Protocol):
    """What a refresh needs from an open workbook (xlwings Book, or a file opened by the CLI)."""

    name: str

    def named_values(self, names: tuple[str, ...]) -> dict[str, Any]:
        """Values of the workbook-level names that exist and point to one cell."""

    def data_cells(self) -> list[list[Any]] | None:
        """The Data sheet's used range as rows of cells, or None when there is no Data sheet."""

    def write(self, prices: pd.DataFrame, provenance: Any) -> None:
        """Replace the Data sheet's contents with ``prices`` and stamp the provenance names."""

    def recalculate(self) -> None:
        """Recalculate the workbook's formulas."""

    def alert(self, text: str, title: str) -> None:
        """Tell the user (a message box in Excel)."""


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


class FileBook:
    """:class:`BookAccess` over a workbook file on disk (what ``xlsector refresh WORKBOOK`` opens).

    Read with the data package's fast reader (:func:`xlsector.data.workbook.load_fast`), written with its
    Data-row writer and replaced atomically, so a failure leaves the old bytes; the file must not change
    (or be open in Excel) between reading and writing. There is no calculation engine here:
    :meth:`recalculate` does nothing (Excel recalculates on opening; ``xlsector render`` refreshes the
    cached values) and :meth:`alert` keeps the messages in :attr:`messages` for the caller to print.
    """

    def __init__(self, path: str | Path):
        from xlsector.data.workbook import load_fast, named_values
        from xlsector.fileio import check_writable

        self.path = Path(path)
        self.name = self.path.name
        self.messages: list[str] = []
        book, rows, self._raw = load_fast(self.path)
        try:
            self._settings = named_values(book, list(SETTING_NAMES))
            self._cells = None
            if DATA_SHEET in book.sheetnames:
                header = list(next(book[DATA_SHEET].iter_rows(min_row=1, max_row=1, values_only=True), ()))
                body = rows or []
                width = max([len(header)] + [len(r) for r in body])
                self._cells = [header + [None] * (width - len(header))] + [list(r) for r in body]
        finally:
            book.close()
        check_writable(self.path)  # before downloading: fail early if Excel holds the file

    def named_values(self, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: self._settings[name] for name in names if name in self._settings}

    def data_cells(self) -> list[list[Any]] | None:
        return self._cells

    def write(self, prices: pd.DataFrame, provenance: Any) -> None:
        from xlsector.data.refresh import _rewrite
        from xlsector.fileio import atomic_write_bytes

        if self.path.read_bytes() != self._raw:
            raise DataError(f"{self.name} changed during the refresh; nothing written")
        atomic_write_bytes(self.path, _rewrite(self.path, prices, provenance))

    def recalculate(self) -> None:
        """Nothing to do without a calculation engine (see the class docstring)."""

    def alert(self, text: str, title: str) -> None:
        self.messages.append(text)


def _data_rows(prices: pd.DataFrame) -> list[list[Any]]:
    """Header ("Date", tickers) and one row per date: a real date, then prices (None = no price)."""
    rows: list[list[Any]] = [["Date"] + [str(c) for c in prices.columns]]
    values = prices.to_numpy(dtype=float).tolist()
    for day, row in zip(prices.index.to_pydatetime(), values):
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


def _as_text_date(value: Any, name: str = "RefreshStart") -> str | None:
    """A date setting (a date, an Excel serial number, or ISO text) as YYYY-MM-DD; blank -> None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, (_dt.date, pd.Timestamp)):
            return f"{pd.Timestamp(value):%Y-%m-%d}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            from xlsector.data.cells import excel_serial_to_datetime

            return f"{pd.Timestamp(excel_serial_to_datetime([value])[0]):%Y-%m-%d}"
        return f"{pd.Timestamp(str(value).strip()):%Y-%m-%d}"
    except (ValueError, TypeError, XlsectorError):
        raise DataError(f"{name} must be a date, got {value!r}") from None


def _existing_prices(cells: list[list[Any]] | None, name: str) -> pd.DataFrame:
    """The Data sheet's prices through the shared cells converter (empty frame when there are none)."""
    from xlsector.data.cells import cells_to_prices

    empty = pd.DataFrame(dtype=float, index=pd.DatetimeIndex([], name="Date"))
    if not cells or all(v is None or v == "" for row in cells for v in row):
        return empty
    try:
        frame = cells_to_prices(cells, header=True, dates=True)
    except DataError as exc:
        raise DataError(f"{name}: the Data sheet cannot be read: {exc}") from None
    if not isinstance(frame.index, pd.DatetimeIndex):
        return empty
    return frame


def refresh_workbook(
    access: BookAccess,
    *,
    tickers: list[str] | None = None,
    start: Any = None,
    downloader: Any = None,
    session: Any = None,
    cache_dir: Any = None,
    accept_jumps: bool = False,
):
    """Refresh the Data sheet of an open workbook (the shared path of the button and the CLI).

    Parameters are those of :func:`xlsector.data.refresh.refresh`; ``downloader``/``session`` replace
    the network boundary (tests). Returns the :class:`~xlsector.data.refresh.RefreshReport`
    (``written=True``). Raises :class:`~xlsector.data.refresh.RefreshError` (with ``.report``) when nothing
    was written: failed tickers (each named with yfinance's reason), invalid data, or flagged jumps.
    """
    from xlsector.data.refresh import RefreshError, RefreshReport, merge_prices
    from xlsector.data.sources import make_provenance
    from xlsector.data.validate import jump_flags, validate_prices
    from xlsector.data.workbook import settings_tickers
    from xlsector.data.yahoo import _source_label, fetch_adj_close

    name = access.name
    report = RefreshReport(workbook=Path(name))
    settings = access.named_values(SETTING_NAMES)
    existing = _existing_prices(access.data_cells(), name)
    if tickers:
        wanted = [t.strip() for t in tickers if t and t.strip()]
    else:
        wanted = list(dict.fromkeys([str(c) for c in existing.columns] + settings_tickers(settings)))
    if not wanted:
        raise DataError(f"{name}: no tickers to refresh; fill the Funds setting")
    start_text = _as_text_date(start, "start") or _as_text_date(settings.get("RefreshStart"))
    if start_text is None:
        start_text = f"{existing.index[0]:%Y-%m-%d}" if len(existing) else "1990-01-01"
    report.tickers, report.start = wanted, start_text

    got = fetch_adj_close(wanted, start_text, session=session, downloader=downloader, cache=cache_dir, max_age=None)
    if got.failures:
        report.failures = dict(got.failures)
        lines = [f"{ticker}: {reason}" for ticker, reason in got.failures.items()]
        raise RefreshError(
            f"refresh of {name} stopped, nothing written: download failed for {len(lines)} "
            f"ticker{'s' if len(lines) != 1 else ''}\n  " + "\n  ".join(lines),
            report,
        )
    new = pd.concat([got.series[t] for t in wanted], axis=1, sort=True)
    new.index.name = "Date"
    try:
        new, download_warnings = validate_prices(new, jump_threshold=None, warn=False)
        merged, new_rows, revisions = merge_prices(existing, new)
        merged, issues = validate_prices(merged, jump_threshold=None, warn=False)
    except DataError as exc:
        raise RefreshError(f"refresh of {name} stopped, nothing written: {exc}", report) from None
    report.new_rows = new_rows
    report.revisions = [
        f"{t} on {d:%Y-%m-%d}: return {r_new:+.4%} now, {r_old:+.4%} in the sheet" for t, d, r_new, r_old in revisions
    ]
    index_name = settings.get("MarketIndex") if isinstance(settings.get("MarketIndex"), str) else None
    index = merged[index_name] if index_name in merged.columns else None
    peers = merged.drop(columns=[index_name]) if index is not None else merged
    old_flags = set()
    if len(existing):
        old_index = existing[index_name] if index_name in existing.columns else None
        old_peers = existing.drop(columns=[index_name]) if old_index is not None else existing
        old_flags = {(t, d) for t, d, _, _ in jump_flags(old_peers.ffill(), index=old_index)}
    report.jumps = [
        f"{t} moved {m:+.1%} on {d:%Y-%m-%d} while the nearest peer moved {p:+.1%}"
        for t, d, m, p in jump_flags(peers, index=index)
        if (t, d) not in old_flags
    ]
    report.warnings = list(dict.fromkeys(download_warnings + issues))
    if report.jumps and not accept_jumps:
        raise RefreshError(
            f"refresh of {name} stopped, nothing written: the jump guard flagged {len(report.jumps)} one-day "
            "move(s) no peer made (a split applied twice? a missing adjustment?):\n  " + "\n  ".join(report.jumps),
            report,
        )
    provenance = make_provenance(merged, _source_label(), fetched_at=min(got.fetched_at.values()))
    report.first_date, report.last_date = provenance.first_date, provenance.last_date
    access.write(merged, provenance)
    access.recalculate()
    report.written = True
    return report


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
    """Entry point of the classic add-in's button (``RunPython "import xlsector; xlsector.main()"``)."""
    import xlwings as xw

    refresh_book(xw.Book.caller())
