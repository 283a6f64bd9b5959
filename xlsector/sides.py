"""Side series of a backtest: the data that come with the prices (an index, bear funds, a benchmark, VIX
closes, a cash rate), put on the prices' dates, and the buy-and-hold returns of a benchmark.

One definition of each, used by the trend backtest (:mod:`xlsector.backtesting`), the momentum rotation
(:mod:`xlsector.momentum_rotation`) and the experiments (:mod:`xlsector.profiles`).
"""

from __future__ import annotations

import warnings
from typing import TypeVar

import numpy as np
import pandas as pd

from xlsector.errors import DataError, DataQualityWarning, ParameterError
from xlsector.trend import ffill

__all__ = ["buy_and_hold_returns", "on_price_dates"]

Side = TypeVar("Side", pd.Series, pd.DataFrame)


def on_price_dates(side: Side, dates: pd.Index, name: str, *, stacklevel: int = 3) -> Side:
    """``side`` on exactly the prices' ``dates``.

    Each price date takes the side series' row of the same date or, on a date it lacks, its last row
    before that date (the last value carried over); a date before its first row has none (NaN). Its
    own NaN values stay NaN: only missing *dates* are carried over. Its rows on dates that are not price
    dates are dropped, except as values carried to a later price date.

    Warns (:class:`~xlsector.errors.DataQualityWarning`) when anything but a reindexing by equal dates
    happens: how many price dates it lacks (carried over, or before its first date) and how many of its
    dates within the price period are not price dates, each with the first such date.

    Parameters
    ----------
    side : Series or DataFrame
        Values by date (unsorted dates are sorted; duplicate dates are a DataError).
    dates : Index
        The prices' dates (sorted, unique).
    name : str
        How messages name the side series ("vix", "benchmark", "index", "bear", "cash_rate").
    """
    if not isinstance(side, (pd.Series, pd.DataFrame)):
        raise ParameterError(f"{name} must be a pandas Series or DataFrame, got {type(side).__name__}")
    if side.index.equals(dates):
        return side
    if not side.index.is_monotonic_increasing:
        side = side.sort_index()
    if not side.index.is_unique:
        repeated = side.index[side.index.duplicated()][0]
        raise DataError(f"{name} has duplicate dates; the first is {_day(repeated)}")
    try:
        row = side.index.searchsorted(dates, side="right") - 1
    except TypeError:
        raise ParameterError(
            f"{name} must be indexed like the prices (by date), got a {type(side.index).__name__}"
        ) from None
    if not len(side):  # nothing to carry: every price date has no value
        aligned = side.reindex(dates)
    else:
        aligned = side.iloc[np.maximum(row, 0)].copy()
        aligned.index = dates
    if (row < 0).any():  # before its first date: no value (ints become floats to hold the NaN)
        known = row >= 0
        aligned = aligned.where(known if aligned.ndim == 1 else np.repeat(known[:, None], aligned.shape[1], 1))
    _warn_alignment(side.index, dates, row, name, stacklevel + 1)
    return aligned


def _warn_alignment(own: pd.Index, dates: pd.Index, row: np.ndarray, name: str, stacklevel: int) -> None:
    exact = np.zeros(len(dates), bool)
    found = row >= 0
    exact[found] = own[row[found]] == dates[found]
    carried = found & ~exact
    before = ~found
    parts = []
    if carried.any():
        parts.append(
            f"{int(carried.sum())} price dates it lacks carry its last value (first {_day(dates[carried][0])})"
        )
    if before.any():
        parts.append(f"{int(before.sum())} price dates before its first date have no value")
    if len(dates):
        inside = own[(own >= dates[0]) & (own <= dates[-1])]
        dropped = inside[~inside.isin(dates)]
        if len(dropped):
            parts.append(f"{len(dropped)} of its dates are not price dates (first {_day(dropped[0])})")
    if parts:
        warnings.warn(f"{name} put on the prices' dates: {'; '.join(parts)}", DataQualityWarning,
                      stacklevel=stacklevel)


def _day(key: object) -> str:
    return f"{key:%Y-%m-%d}" if isinstance(key, pd.Timestamp) else str(key)


def buy_and_hold_returns(prices: np.ndarray, start: int = 0) -> np.ndarray:
    """Daily returns of buying one price series at the close of row ``start`` and holding it.

    NaN policy (a missing price never becomes a return of 0): the return of row ``start`` is 0 (the
    start point, whose value no metric uses); a row's return needs a price on it and on the row before,
    where across a gap inside the series the last price is carried (the move lands on the next price).
    So a row is NaN before the series' first price, on its first price when that comes after the start,
    and after its last price.

    Parameters
    ----------
    prices : ndarray, shape (days,)
        Closes on the strategy's calendar (see :func:`on_price_dates`), NaN where there is none.
    start : int
        Row of the start point.

    Returns
    -------
    ndarray, shape (days - start,)
        The returns of rows ``start`` .. the last.
    """
    values = np.asarray(prices, dtype=float)
    out = np.full(max(values.size - start, 0), np.nan)
    present = np.flatnonzero(~np.isnan(values))
    if present.size and present[-1] > start:
        held = ffill(values[: present[-1] + 1, None])[start:, 0]  # gaps carry the last price; none after it
        with np.errstate(invalid="ignore"):
            out[1 : held.size] = held[1:] / held[:-1] - 1.0
    if out.size:
        out[0] = 0.0
    return out
