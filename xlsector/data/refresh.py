"""Refresh a workbook's Data sheet from Yahoo Finance: download, validate, merge, write atomically.

Semantics:

- Tickers: the ``tickers`` argument, else the Data sheet's columns plus the tickers named by the
  Settings (:func:`xlsector.contract.settings_tickers`: Funds, BearFunds, MarketIndex, Benchmark,
  VixTicker, CashRate; lists split on commas or semicolons, as the render reads them).
- Start: the ``start`` argument, else the ``RefreshStart`` setting, else the Data sheet's first date,
  else 1990-01-01.
- All tickers must download (judged by the rows that came back). If any fails, nothing is written and
  the error lists each failed ticker and yfinance's reason.
- Merge per ticker: when the download reaches back to the ticker's first date in the sheet, the
  downloaded column replaces the old one (Yahoo rescales adjusted closes at every download, so only
  returns are comparable); when it starts later, the old history is kept up to the first common date
  and the download is rescaled to continue it. New dates are appended. Daily returns on common dates
  that differ by more than 1e-6 are "revised history": reported, and the download wins.
- Validation (:func:`~xlsector.data.validate_prices`) runs on the merged frame with the market index
  as a peer. A jump the guard flags that was not already in the sheet stops the refresh (nothing
  written) unless ``accept_jumps=True``. Errors (prices <= 0, ...) always stop it.
- Writing: only the Data sheet's values and the provenance cells change; the file is replaced
  atomically (:mod:`xlsector.fileio`), so a failure at any point leaves the old bytes. The workbook's lock
  (:func:`xlsector.fileio.workbook_lock`) is held from the first read to the write, so another xlsector
  process writing the same workbook (a render) waits and then reads the refreshed file.

One code path whatever opened the workbook: :func:`refresh_workbook` works on a :class:`BookAccess`;
``xlsector refresh`` passes a :class:`FileBook` (a file on disk), the Excel button an xlwings Book
(:mod:`xlsector.addin.refresh`).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from xlsector.contract import DATA_SHEET, TICKER_SETTINGS, settings_tickers
from xlsector.errors import DataError, XlsectorError

__all__ = ["BookAccess", "FileBook", "RefreshError", "RefreshReport", "merge_prices", "refresh_file",
           "refresh_workbook"]

#: The settings a refresh reads: the tickers to download and the first date.
SETTING_NAMES = (*TICKER_SETTINGS, "RefreshStart")

REVISION_TOLERANCE = 1e-6


@dataclass
class RefreshReport:
    """What a refresh did (or would have done)."""

    workbook: Path
    written: bool = False
    tickers: list[str] = field(default_factory=list)
    start: str = ""
    new_rows: dict[str, int] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)
    jumps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    first_date: _dt.date | None = None
    last_date: _dt.date | None = None

    def summary(self) -> str:
        """Plain-text report for the command line and the ribbon's message box."""
        lines = []
        if self.written:
            lines.append(
                f"Refreshed {self.workbook.name}: {len(self.tickers)} tickers, {self.first_date} to {self.last_date}"
            )
            added = {t: n for t, n in self.new_rows.items() if n}
            lines.append(
                "New rows: "
                + (", ".join(f"{t} +{n}" for t, n in added.items()) if added else "none (already up to date)")
            )
        else:
            lines.append(f"Nothing written to {self.workbook.name}")
        for ticker, reason in self.failures.items():
            lines.append(f"Failed: {ticker}: {reason}")
        for text in self.revisions:
            lines.append(f"Revised history: {text}")
        for text in self.jumps:
            lines.append(f"Jump: {text}")
        for text in self.warnings:
            lines.append(f"Warning: {text}")
        return "\n".join(lines)


class RefreshError(XlsectorError):
    """The refresh wrote nothing; ``report`` says why (failed tickers, jumps, a locked file...)."""

    def __init__(self, message: str, report: RefreshReport):
        super().__init__(message)
        self.report = report


def merge_prices(
    existing: pd.DataFrame, new: pd.DataFrame, *, tolerance: float = REVISION_TOLERANCE
) -> tuple[pd.DataFrame, dict[str, int], list[tuple[str, pd.Timestamp, float, float]]]:
    """Merge downloaded prices into existing ones (see the module docstring).

    Returns
    -------
    (DataFrame, dict, list)
        The merged frame (existing columns first, then new tickers), the number of new dates per
        downloaded ticker, and the revisions ``(ticker, date, new_return, old_return)``.
    """
    from xlsector.data.validate import compare_returns

    index = existing.index.union(new.index)
    columns = list(existing.columns) + [c for c in new.columns if c not in existing.columns]
    merged = existing.reindex(index=index, columns=columns)
    new_rows: dict[str, int] = {}
    revisions = []
    for ticker in new.columns:
        fresh = new[ticker].dropna()
        if fresh.empty:
            continue
        old = existing[ticker].dropna() if ticker in existing.columns else pd.Series(dtype=float)
        if old.empty:
            merged[ticker] = fresh.reindex(index)
            new_rows[ticker] = len(fresh)
            continue
        revisions += compare_returns(fresh.to_frame(), old.to_frame(), tolerance=tolerance)
        new_rows[ticker] = int((fresh.index > old.index[-1]).sum())
        if fresh.index[0] <= old.index[0]:
            merged[ticker] = fresh.reindex(index)
            continue
        common = fresh.index.intersection(old.index)
        if common.empty:
            raise DataError(
                f"{ticker}: the download starts on {fresh.index[0]:%Y-%m-%d}, after the sheet's last price "
                f"on {old.index[-1]:%Y-%m-%d}, so the two cannot be joined; refresh with an earlier start"
            )
        anchor = common[0]
        scale = old[anchor] / fresh[anchor]
        joined = pd.concat([old[old.index < anchor], fresh[fresh.index >= anchor] * scale])
        merged[ticker] = joined.reindex(index)
    return merged, new_rows, revisions


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
        detail = str(exc).removeprefix("cells: ")
        raise DataError(f"{name}: sheet {DATA_SHEET}: {detail}") from None
    if not isinstance(frame.index, pd.DatetimeIndex):
        return empty
    return frame


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


class FileBook:
    """:class:`BookAccess` over a workbook file on disk (what ``xlsector refresh WORKBOOK`` opens).

    Read with the data package's fast reader (:func:`xlsector.data.workbook.load_fast`), written with its
    Data-row writer and replaced atomically, so a failure leaves the old bytes; the file must not change
    (or be open in Excel) between reading and writing. There is no calculation engine here:
    :meth:`recalculate` does nothing (Excel recalculates on opening; ``xlsector render`` refreshes the
    cached values) and :meth:`alert` keeps the messages in :attr:`messages` for the caller to print.
    """

    def __init__(self, path: str | os.PathLike[str]):
        from xlsector.contract import named_values
        from xlsector.data.workbook import load_fast
        from xlsector.fileio import check_writable

        self.path = Path(path)
        self.name = self.path.name
        self.messages: list[str] = []
        book, grid, self._raw = load_fast(self.path)
        try:
            self._settings = named_values(book, list(SETTING_NAMES))
            self._cells = (grid or []) if DATA_SHEET in book.sheetnames else None
        finally:
            book.close()
        check_writable(self.path)  # before downloading: fail early if Excel holds the file

    def named_values(self, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: self._settings[name] for name in names if name in self._settings}

    def data_cells(self) -> list[list[Any]] | None:
        return self._cells

    def write(self, prices: pd.DataFrame, provenance: Any) -> None:
        from xlsector.fileio import atomic_write_bytes

        if self.path.read_bytes() != self._raw:
            raise DataError(f"{self.name} changed during the refresh; nothing written")
        atomic_write_bytes(self.path, _rewrite(self.path, prices, provenance))

    def recalculate(self) -> None:
        """Nothing to do without a calculation engine (see the class docstring)."""

    def alert(self, text: str, title: str) -> None:
        self.messages.append(text)


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

    Parameters are those of :func:`refresh`; ``downloader``/``session`` replace
    the network boundary (tests). Returns the :class:`RefreshReport`
    (``written=True``). Raises :class:`RefreshError` (with ``.report``) when nothing
    was written: failed tickers (each named with yfinance's reason), invalid data, or flagged jumps.
    """
    from xlsector.data.sources import make_provenance
    from xlsector.data.validate import jump_flags, validate_prices
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
        raise DataError(f"{name}: no tickers to refresh; fill the Funds setting or give tickers (--tickers XLK,XLF)")
    start_text = _as_text_date(start, "start") or _as_text_date(settings.get("RefreshStart"))
    if start_text is None:
        start_text = f"{existing.index[0]:%Y-%m-%d}" if len(existing) else "1990-01-01"
    report.tickers, report.start = wanted, start_text

    got = fetch_adj_close(wanted, start_text, session=session, downloader=downloader, cache=cache_dir, max_age=None)
    if got.failures:
        report.failures = dict(got.failures)
        message = _failure_message(name, got.failures)
        if not tickers:
            message += "\n(every Data column and Settings ticker is downloaded; choose others with --tickers)"
        raise RefreshError(message, report)
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
    try:
        access.write(merged, provenance)
    except XlsectorError as exc:
        raise RefreshError(f"refresh of {name} stopped, nothing written: {exc}", report) from None
    except OSError as exc:
        raise RefreshError(
            f"refresh of {name} stopped, nothing written: cannot write ({exc.strerror or exc})", report
        ) from None
    access.recalculate()
    report.written = True
    return report


def refresh_file(
    workbook_path: str | os.PathLike[str],
    *,
    tickers: list[str] | None = None,
    start: str | _dt.date | None = None,
    downloader: Any = None,
    session: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    accept_jumps: bool = False,
) -> RefreshReport:
    """Download fresh prices into a workbook's Data sheet (see the module docstring for the rules).

    Parameters
    ----------
    workbook_path : path
        The .xlsx/.xlsm workbook (its ``Data`` sheet is created if missing).
    tickers : list of str, optional
        Tickers to download; default: the Data sheet's columns and the Settings' tickers.
    start : date-like, optional
        First date; default: ``RefreshStart`` setting, else the sheet's first date, else 1990-01-01.
    downloader, session : optional
        Passed to :func:`xlsector.data.yahoo.fetch_adj_close` (tests, proxies).
    cache_dir : path, optional
        Download cache folder (written, not read: a refresh always downloads).
    accept_jumps : bool, default False
        Write even when the jump guard flags a new one-day jump.

    Returns
    -------
    RefreshReport
        ``written=True`` with the new rows, revisions and warnings.

    Raises
    ------
    RefreshError
        Nothing was written: failed tickers, flagged jumps, invalid data, or the file cannot be
        replaced. ``exc.report`` holds the details.
    """
    from xlsector.fileio import workbook_lock

    with workbook_lock(workbook_path):  # the whole read-download-write: no other xlsector writer in between
        return refresh_workbook(
            FileBook(workbook_path), tickers=tickers, start=start, downloader=downloader, session=session,
            cache_dir=cache_dir, accept_jumps=accept_jumps,
        )


def _rewrite(path: Path, prices: pd.DataFrame, provenance) -> bytes:
    """The workbook's new bytes: Data rows and provenance cells replaced, the rest kept.

    openpyxl rewrites the file without the cached values of formula cells; those are put back from the
    original file (:mod:`xlsector.xlsx`), so viewers that do not calculate still show the
    last computed values until the next render or recalculation.
    """
    import io

    from xlsector.data.workbook import load_fast, write_data_sheet
    from xlsector.xlsx import cached_formula_values, inject_rows, patch_cached_values

    book, _, raw = load_fast(path, read_only=False, data_only=False, with_rows=False)
    try:
        write_data_sheet(book, prices, provenance)
        buffer = io.BytesIO()
        book.save(buffer)
    finally:
        book.close()
    saved, _ = patch_cached_values(buffer.getvalue(), {}, cached_formula_values(raw))
    return inject_rows(saved, "Data", prices)


def _failure_message(name: str, failures: dict[str, str]) -> str:
    lines = [f"{ticker}: {reason}" for ticker, reason in failures.items()]
    return (
        f"refresh of {name} stopped, nothing written: download failed for {len(lines)} "
        f"ticker{'s' if len(lines) != 1 else ''}\n  " + "\n  ".join(lines)
    )
