"""Validation of a price frame: dates, positivity, calendar alignment and a one-day jump guard.

Rules (applied in this order by :func:`validate_prices`):

1. The index must hold dates (a ``DatetimeIndex`` or values pandas can read as dates); the columns must
   be numeric. Otherwise :class:`DataError`.
2. Dates must be unique (duplicates: :class:`DataError` naming them). Dates out of order are sorted,
   with a warning. Dates must be plausible for daily prices: none after tomorrow (UTC), and no stretch of more
   than a year without any price (both :class:`DataError`: a typo in a year shifts some rows decades away and
   would make every annualised figure wrong); a stretch of more than a month without any price is a warning.
3. Prices must be finite, > 0 and below ``MAX_PRICE`` (otherwise :class:`DataError` naming ticker, date and
   value): 1e308 in a cell passed, and every return after it overflowed to inf and NaN.
4. Calendar alignment: the calendar is the union of all tickers' dates. A ticker is NaN before its first
   price and after its last price (it had not started / had stopped; a warning says when a ticker stops
   before the others). A gap inside a ticker's history is filled with its last price (a zero return on
   those days), with a warning naming the ticker and the dates. Rows where no ticker has a price are
   dropped, with a warning.
5. Jump guard: on each date, a ticker's log return must come within ``jump_threshold`` (default 0.15,
   i.e. 15 log-points) of the log return of at least one peer (the other tickers with prices on both
   days, and the market ``index`` when given). A move that no peer came near is reported as a warning (a
   split applied twice or an unadjusted split looks like this). Market-wide crashes such as 2008-10-13
   or 2020-03-16 move some peer alike and are not flagged; a bond fund rising on a crash day is matched
   by another bond fund or falls back to the index. With no peers the move itself is compared with the
   threshold. Single stocks do make such moves on their own news; the guard reports, it never changes
   data. (Tuned on ../shared/data: no flag on the 14 ETFs 1993-2025 with the S&P 500 index; the XLF
   split applied twice on 2016-09-19, a -18.8% move, is flagged.)
6. Reference check (optional ``reference=``: the same tickers from another source, e.g. the rows already
   in the workbook): on common dates, daily returns that differ by more than ``reference_tolerance``
   (default 1e-4) are reported. This catches what no statistical guard can see: a missing dividend of a
   bond fund moves its price by 0.3%, well inside a normal day's range.

Warnings are returned as a list of strings and also issued as :class:`DataQualityWarning`.

Every source runs these rules (:func:`check_stored` for files and workbook sheets, the refresh for downloads): a
file or sheet gets the jump guard too, as warnings (single stocks make such moves on their own news), while a
refresh stops on a new jump unless told to accept it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from xlsector.errors import DataError, DataQualityWarning
from xlsector.trend import MAX_PRICE

__all__ = ["check_stored", "compare_returns", "jump_flags", "validate_prices"]

JUMP_THRESHOLD = 0.15
REFERENCE_TOLERANCE = 1e-4
#: Longest stretch of calendar days without any price that is only a warning; a longer one than a year is an error.
GAP_WARN_DAYS = 31
GAP_ERROR_DAYS = 366


def _dates_text(dates: pd.Index | list, limit: int = 5) -> str:
    items = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in list(dates)[:limit]]
    more = len(dates) - limit
    return ", ".join(items) + (f" and {more} more" if more > 0 else "")


def _as_date_index(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame.index, pd.DatetimeIndex):
        if frame.index.tz is not None:
            frame = frame.copy()
            frame.index = pd.DatetimeIndex(frame.index).tz_localize(None)
        return frame
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame.index, format="ISO8601"))
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"prices: the index must hold dates, got {frame.index[:3].tolist()!r}... ({exc})"
        ) from None
    frame = frame.copy()
    frame.index = index
    return frame


def _check_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    bad = [str(c) for c, dtype in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    for column in bad:
        values = frame[column]
        numbers = pd.to_numeric(values, errors="coerce")
        offending = values[numbers.isna() & values.notna()]
        if not offending.empty:
            date, value = offending.index[0], offending.iloc[0]
            raise DataError(
                f"prices: column {column} must hold numbers, got {value!r} on {pd.Timestamp(date):%Y-%m-%d}"
            )
    if bad:
        frame = frame.apply(pd.to_numeric)  # e.g. object columns of floats and None
    if frame.columns.has_duplicates:
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise DataError(f"prices: ticker names must be unique, got {', '.join(dupes)} more than once")
    return frame.astype(float)


def jump_flags(
    prices: pd.DataFrame, *, index: pd.Series | None = None, threshold: float = JUMP_THRESHOLD
) -> list[tuple[str, pd.Timestamp, float, float]]:
    """One-day moves a ticker made that no peer came near: ``[(ticker, date, move, nearest_peer_move)]``.

    ``move`` and ``nearest_peer_move`` are simple returns of that day. See rule 5 in the module docstring.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(prices.to_numpy(dtype=float))
    returns = np.full(logs.shape, np.nan)
    returns[1:] = logs[1:] - logs[:-1]
    peers = returns
    if index is not None:
        idx = index.reindex(prices.index).to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            idx_log = np.log(idx)
        idx_ret = np.full(idx_log.shape, np.nan)
        idx_ret[1:] = idx_log[1:] - idx_log[:-1]
        peers = np.column_stack([returns, idx_ret])
    flags = []
    n_tickers = returns.shape[1]
    for j in range(n_tickers):
        others = np.delete(peers, j, axis=1)
        has_peer = np.isfinite(others).any(axis=1)
        gaps = np.abs(others - returns[:, j : j + 1])
        gaps[~np.isfinite(gaps)] = np.inf
        nearest = gaps.argmin(axis=1) if others.shape[1] else np.zeros(len(returns), dtype=int)
        if others.shape[1]:
            centre = np.where(has_peer, others[np.arange(len(returns)), nearest], 0.0)
        else:
            centre = np.zeros(len(returns))
        residual = returns[:, j] - centre
        hits = np.flatnonzero(np.abs(np.nan_to_num(residual)) > threshold)
        for i in hits:
            flags.append(
                (
                    str(prices.columns[j]),
                    prices.index[int(i)],
                    float(np.expm1(returns[i, j])),
                    float(np.expm1(centre[i])),
                )
            )
    return flags


def compare_returns(
    prices: pd.DataFrame, reference: pd.DataFrame, *, tolerance: float = REFERENCE_TOLERANCE
) -> list[tuple[str, pd.Timestamp, float, float]]:
    """Days where daily returns differ from a reference copy: ``[(ticker, date, return, reference_return)]``.

    Only tickers and consecutive date pairs present in both frames are compared (levels may differ by a
    constant factor: adjusted closes are rescaled at every download).
    """
    out: list[tuple[str, pd.Timestamp, float, float]] = []
    common = [c for c in prices.columns if c in reference.columns]
    dates = prices.index.intersection(reference.index)
    if len(dates) < 2 or not common:
        return out
    ours = prices.loc[dates, common].to_numpy(dtype=float)
    theirs = reference.loc[dates, common].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_ours = ours[1:] / ours[:-1] - 1
        r_theirs = theirs[1:] / theirs[:-1] - 1
    diff = np.abs(r_ours - r_theirs)
    rows, cols = np.nonzero(np.nan_to_num(diff) > tolerance)
    for i, j in sorted(zip(rows, cols), key=lambda x: (x[1], x[0])):
        out.append((str(common[j]), dates[int(i) + 1], float(r_ours[i, j]), float(r_theirs[i, j])))
    return out


def validate_prices(
    prices: pd.DataFrame,
    *,
    index: pd.Series | None = None,
    reference: pd.DataFrame | None = None,
    jump_threshold: float | None = JUMP_THRESHOLD,
    reference_tolerance: float = REFERENCE_TOLERANCE,
    fill: bool = True,
    warn: bool = True,
    where: str = "prices",
) -> tuple[pd.DataFrame, list[str]]:
    """Check a price frame (dates x tickers) and return a clean copy plus the list of warnings.

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, one column per ticker, dates as index.
    index : Series, optional
        The market index (e.g. ``^GSPC``), used only as a peer by the jump guard.
    reference : DataFrame, optional
        The same tickers from another source; daily returns are compared (rule 6).
    jump_threshold : float or None, default 0.15
        Jump guard threshold in log-return points; ``None`` turns the guard off.
    fill : bool, default True
        Forward-fill gaps inside a ticker's history (with a warning). ``False`` leaves them NaN.
    warn : bool, default True
        Also issue each warning as a :class:`DataQualityWarning`.
    where : str, default "prices"
        Where the prices come from (a file, a sheet), the start of every message.

    Returns
    -------
    (DataFrame, list of str)
        Sorted, unique dates; float columns; interior gaps filled; empty rows dropped. See the module
        docstring for the exact rules.

    Raises
    ------
    DataError
        Non-date index, non-numeric column, duplicate dates or tickers, a price <= 0 or not finite, a date after
        tomorrow, a year or more without any price.
    """
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"prices must be a DataFrame of dates x tickers, got {type(prices).__name__}")
    issues: list[str] = []
    try:
        frame = _check_numeric(_as_date_index(prices))
    except DataError as exc:
        raise DataError(str(exc).replace("prices: ", f"{where}: ", 1)) from None
    frame.columns = [str(c) for c in frame.columns]
    if frame.index.has_duplicates:
        dupes = frame.index[frame.index.duplicated()].unique()
        raise DataError(f"{where}: dates must be unique; {len(dupes):,} date(s) appear more than once: "
                        f"{_dates_text(dupes)}")
    days = pd.DatetimeIndex(frame.index).normalize()
    if days.has_duplicates:  # intraday rows: the daily model (EMA per day, 252 days a year) would not hold
        twice = days[days.duplicated()].unique()
        raise DataError(f"{where}: prices are daily closes, one row per date; {len(twice):,} date(s) have more "
                        f"than one row, at different times of day: {_dates_text(twice)}")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
        issues.append(f"{where}: dates were not in increasing order; they were sorted")
    _check_dates(pd.DatetimeIndex(frame.index), where, issues)
    values = frame.to_numpy()
    bad = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0) & (values < MAX_PRICE))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"{where}: prices must be finite and > 0 (and below {MAX_PRICE:g}), got {float(values[i, j])!r} for {frame.columns[j]} "
            f"on {frame.index[i]:%Y-%m-%d}"
        )
    empty = np.isnan(values).all(axis=1)
    if empty.any() and frame.shape[1]:
        issues.append(f"{where}: dropped {int(empty.sum())} dates where no ticker has a price: "
                      f"{_dates_text(frame.index[empty])}")  # fmt: skip
        frame = frame.loc[~empty]
        values = frame.to_numpy()
    last_date = frame.index[-1] if len(frame) else None
    for j, ticker in enumerate(frame.columns):
        column = values[:, j]
        valid = np.flatnonzero(~np.isnan(column))
        if valid.size == 0:
            issues.append(f"{where}: {ticker} has no prices")
            continue
        first, last = valid[0], valid[-1]
        gaps = np.flatnonzero(np.isnan(column[first : last + 1])) + first
        if gaps.size:
            action = "filled with the previous price" if fill else "left blank"
            issues.append(f"{where}: {ticker} has no price on {gaps.size} dates inside its history, "
                          f"{action}: {_dates_text(frame.index[gaps])}")  # fmt: skip
        if frame.index[last] != last_date:
            issues.append(
                f"{where}: {ticker} stops on {frame.index[last]:%Y-%m-%d}, before the last date "
                f"{last_date:%Y-%m-%d} ({len(column) - 1 - last} dates without a price)"
            )
    if fill:
        started = frame.notna().cummax()
        ended = frame.notna().iloc[::-1].cummax().iloc[::-1]
        frame = frame.ffill().where(started & ended)
    if jump_threshold is not None and len(frame) > 1:
        for ticker, date, move, peers in jump_flags(frame, index=index, threshold=jump_threshold):
            issues.append(
                f"{where}: {ticker} moved {move:+.1%} on {date:%Y-%m-%d} while the nearest peer moved {peers:+.1%} "
                "(a split applied twice, a missing adjustment, or real news: check it)"
            )
    if reference is not None:
        for ticker, date, ours, theirs in compare_returns(frame, reference, tolerance=reference_tolerance):
            issues.append(
                f"{where}: {ticker} return on {date:%Y-%m-%d} is {ours:+.4%} here but {theirs:+.4%} in the "
                f"reference (difference {ours - theirs:+.4%}: a missing dividend or split?)"
            )
    if warn:
        for message in issues:
            warnings.warn(message, DataQualityWarning, stacklevel=2)
    return frame, issues


def _check_dates(index: pd.DatetimeIndex, where: str, issues: list[str]) -> None:
    """Rule 2's plausibility: no date after tomorrow (UTC); no year without prices (errors), no month (warning)."""
    if not len(index):
        return
    tomorrow = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize() + pd.Timedelta(days=1)
    if index[-1] > tomorrow + pd.Timedelta(days=1):
        later = index[index > tomorrow + pd.Timedelta(days=1)]
        raise DataError(
            f"{where}: {len(later)} date(s) lie in the future, from {later[0]:%Y-%m-%d} (today is "
            f"{tomorrow - pd.Timedelta(days=1):%Y-%m-%d}); a typo in a year? Prices are closes that happened"
        )
    if len(index) < 2:
        return
    gaps = np.diff(index.values).astype("timedelta64[D]").astype(np.int64)
    worst = int(np.argmax(gaps))
    if gaps[worst] > GAP_ERROR_DAYS:
        raise DataError(
            f"{where}: no price on any date for {int(gaps[worst]):,} days, from {index[worst]:%Y-%m-%d} to "
            f"{index[worst + 1]:%Y-%m-%d}; daily prices have no gap of a year (a typo in a year?)"
        )
    long = np.flatnonzero(gaps > GAP_WARN_DAYS)
    if long.size:
        spans = ", ".join(f"{index[i]:%Y-%m-%d} to {index[i + 1]:%Y-%m-%d}" for i in long[:3])
        issues.append(f"{where}: no price on any date for more than {GAP_WARN_DAYS} days in {long.size} place(s): "
                      f"{spans}{' ...' if long.size > 3 else ''}")


def check_stored(prices: pd.DataFrame, where: str, *, index: pd.Series | None = None) -> pd.DataFrame:
    """Validate prices read from a file or a workbook sheet (every source but a download, which the refresh
    checks): rules 1-5, the jump guard's findings as warnings. Returns the clean frame; no date at all is a
    DataError, and so is one date (no return can be computed from it)."""
    if not len(prices.index):
        raise DataError(f"{where}: no prices, only a header (a price table needs dates in its first column and "
                        "one column of prices per ticker)")
    if len(prices.index) == 1:
        raise DataError(f"{where}: prices on one date only ({prices.index[0]:%Y-%m-%d}); a return needs two dates "
                        "and a backtest months of them")
    frame, _ = validate_prices(prices, index=index, where=where, jump_threshold=JUMP_THRESHOLD)
    return frame
