"""Refresh a workbook's Data sheet from Yahoo Finance: download, validate, merge, write atomically.

Semantics:

- Tickers: the ``tickers`` argument, else the Data sheet's columns plus the tickers named by the
  Settings (``Funds``, ``BearFunds``, ``MarketIndex``, ``VixTicker``, ``CashRate``).
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
  atomically (:mod:`xlsector.fileio`), so a failure at any point leaves the old bytes.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from xlsector.errors import DataError, XlsectorError

__all__ = ["RefreshError", "RefreshReport", "merge_prices", "refresh"]

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


def _as_text_date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (_dt.date, pd.Timestamp)):
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        from xlsector.data.cells import excel_serial_to_datetime

        return f"{pd.Timestamp(excel_serial_to_datetime([value])[0]):%Y-%m-%d}"
    try:
        return f"{pd.Timestamp(str(value)):%Y-%m-%d}"
    except ValueError:
        raise DataError(f"RefreshStart must be a date, got {value!r}") from None


def refresh(
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
    from xlsector.data.sources import make_provenance
    from xlsector.data.validate import jump_flags, validate_prices
    from xlsector.data.workbook import (
        _data_frame,
        load_fast,
        named_values,
        settings_tickers,
        write_data_sheet,
    )
    from xlsector.data.yahoo import _source_label, fetch_adj_close
    from xlsector.fileio import atomic_write_bytes, check_writable

    path = Path(workbook_path)
    report = RefreshReport(workbook=path)
    book, rows, raw = load_fast(path)
    try:
        existing = _data_frame(book, path, rows) if "Data" in book.sheetnames else pd.DataFrame(dtype=float)
        settings = named_values(
            book, ["Funds", "BearFunds", "MarketIndex", "VixTicker", "CashRate", "RefreshStart"]
        )
    finally:
        book.close()
    if not isinstance(existing.index, pd.DatetimeIndex):
        existing.index = pd.DatetimeIndex(existing.index, name="Date")
    if tickers:
        wanted = [t.strip() for t in tickers if t.strip()]
    else:
        wanted = list(dict.fromkeys([str(c) for c in existing.columns] + settings_tickers(settings)))
    if not wanted:
        raise DataError(
            f"{path.name}: no tickers to refresh; fill the Funds setting or give tickers (--tickers XLK,XLF)"
        )
    start_text = _as_text_date(start) or _as_text_date(settings.get("RefreshStart"))
    if start_text is None:
        start_text = f"{existing.index[0]:%Y-%m-%d}" if len(existing) else "1990-01-01"
    report.tickers, report.start = wanted, start_text
    check_writable(path)  # fail before downloading if the workbook is open in Excel

    got = fetch_adj_close(
        wanted, start_text, session=session, downloader=downloader, cache=cache_dir, max_age=None
    )
    if got.failures:
        report.failures = got.failures
        message = _failure_message(path, got.failures)
        if not tickers:
            message += "\n(every Data column and Settings ticker is downloaded; choose others with --tickers)"
        raise RefreshError(message, report)
    new = pd.concat([got.series[t] for t in wanted], axis=1, sort=True)
    new.index.name = "Date"
    new, download_warnings = validate_prices(new, jump_threshold=None, warn=False)

    merged, new_rows, revisions = merge_prices(existing, new)
    report.new_rows = new_rows
    report.revisions = [
        f"{t} on {d:%Y-%m-%d}: return {r_new:+.4%} now, {r_old:+.4%} in the sheet"
        for t, d, r_new, r_old in revisions
    ]
    try:
        merged, issues = validate_prices(merged, jump_threshold=None, warn=False)
    except DataError as exc:
        raise RefreshError(f"refresh of {path.name} stopped, nothing written: {exc}", report) from None
    index_name = settings.get("MarketIndex") if isinstance(settings.get("MarketIndex"), str) else None
    index = merged[index_name] if index_name in merged.columns else None
    peers = merged.drop(columns=[index_name]) if index is not None else merged
    old_flags = set()
    if len(existing):
        old_index = existing[index_name] if index_name in existing.columns else None
        old_peers = existing.drop(columns=[index_name]) if old_index is not None else existing
        old_flags = {(t, d) for t, d, _, _ in jump_flags(old_peers.ffill(), index=old_index)}
    jumps = [
        f"{t} moved {m:+.1%} on {d:%Y-%m-%d} while the nearest peer moved {p:+.1%}"
        for t, d, m, p in jump_flags(peers, index=index)
        if (t, d) not in old_flags
    ]
    report.jumps = jumps
    report.warnings = list(dict.fromkeys(download_warnings + issues))
    if jumps and not accept_jumps:
        raise RefreshError(
            f"refresh of {path.name} stopped, nothing written: the jump guard flagged {len(jumps)} one-day "
            "move(s) no peer made (a split applied twice? a missing adjustment?):\n  "
            + "\n  ".join(jumps)
            + "\nCheck them; to write anyway use accept_jumps=True (--accept-jumps)",
            report,
        )
    fetched = min(got.fetched_at.values())
    provenance = make_provenance(merged, _source_label(), fetched_at=fetched)
    report.first_date, report.last_date = provenance.first_date, provenance.last_date

    if path.read_bytes() != raw:
        raise RefreshError(
            f"refresh of {path.name} stopped, nothing written: the file changed during the refresh", report
        )
    try:
        data = _rewrite(path, merged, provenance)
        atomic_write_bytes(path, data)
    except XlsectorError as exc:
        raise RefreshError(f"refresh of {path.name} stopped, nothing written: {exc}", report) from None
    except OSError as exc:
        raise RefreshError(
            f"refresh of {path.name} stopped, nothing written: cannot write ({exc.strerror or exc})", report
        ) from None
    report.written = True
    return report


def _rewrite(path: Path, prices: pd.DataFrame, provenance) -> bytes:
    """The workbook's new bytes: Data rows and provenance cells replaced, the rest kept.

    openpyxl rewrites the file without the cached values of formula cells; those are put back from the
    original file (:mod:`xlsector.workbook.xlsx_patch`), so viewers that do not calculate still show the
    last computed values until the next render or recalculation.
    """
    import io

    from xlsector.data.workbook import load_fast, write_data_sheet
    from xlsector.workbook.data_xml import inject_rows
    from xlsector.workbook.xlsx_patch import cached_formula_values, patch_cached_values

    book, _, raw = load_fast(path, read_only=False, data_only=False, with_rows=False)
    try:
        write_data_sheet(book, prices, provenance)
        buffer = io.BytesIO()
        book.save(buffer)
    finally:
        book.close()
    saved, _ = patch_cached_values(buffer.getvalue(), {}, cached_formula_values(raw))
    return inject_rows(saved, "Data", prices)


def _failure_message(path: Path, failures: dict[str, str]) -> str:
    lines = [f"{ticker}: {reason}" for ticker, reason in failures.items()]
    return (
        f"refresh of {path.name} stopped, nothing written: download failed for {len(lines)} "
        f"ticker{'s' if len(lines) != 1 else ''}\n  " + "\n  ".join(lines)
    )
