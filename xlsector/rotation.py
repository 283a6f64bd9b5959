"""Rotation rules (SPEC §2): strategy parameters, decision schedules and the StormGuard market filter.

The day-by-day rotation itself runs in :mod:`xlsector._kernels`; :mod:`xlsector.backtesting` prepares its
inputs and wraps its outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlsector.calendar import MarketDays, market_days, next_market_day
from xlsector.errors import ParameterError
from xlsector.params import SCHEDULES, Schedule, Strategy, param_of
from xlsector.trend import DEFAULT_K, check_k, check_tc, ema_arrays, ffill, price_array, returns_array

__all__ = ["Strategy", "decision_days", "month_ends", "next_decision_day", "stormguard", "stormguard_arrays",
           "stormguard_on_dates"]

STORMGUARD_TC = param_of(Strategy, "sg_tc").default
STORMGUARD_SHIFT = param_of(Strategy, "shift").default


# ------------------------------------------------------------------------------------ schedules

def decision_days(dates: pd.Index, schedule: Schedule, offset: int = 0) -> np.ndarray:
    """Boolean mask of the rotation's decision days.

    ``"daily"``: every day (``offset`` changes nothing). ``"week"``/``"month"``: the last market day of
    each calendar week (Monday start) or month, known without look-ahead: a day is the last of its period
    when the next row's date falls in a later period; for the last row, when the next market day does
    (:mod:`xlsector.calendar`: the NYSE's next session when the data follows the NYSE calendar, else the next
    weekday).

    ``offset`` (0, 1, 2, ...; the timing-luck check shifts it): the decision day is the ``offset``-th row
    after the period's last market day, that is day t decides when day ``t - offset`` was the last market
    day of its week or month. Also known without look-ahead: for ``offset >= 1`` that period end is
    known from row ``t - offset + 1 <= t`` of the data itself (no calendar needed), so appending rows
    never changes a past decision day. The first ``offset`` rows are never decision days.
    """
    if schedule not in SCHEDULES:
        raise ParameterError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if isinstance(offset, bool) or not isinstance(offset, int | np.integer) or offset < 0:
        raise ParameterError(f"offset must be a whole number >= 0 (market days after the period end), got {offset!r}")
    n = len(dates)
    if schedule == "daily":
        return np.ones(n, bool)
    if not isinstance(dates, pd.DatetimeIndex):
        raise ParameterError(f"schedule {schedule!r} needs dates; the prices have no date index")
    days = dates.values.astype("datetime64[D]")
    following = np.empty_like(days)
    following[:-1] = days[1:]
    if n:
        following[-1] = _after_last(dates, days[-1], schedule)
    ends = _period(following, schedule) > _period(days, schedule)
    if offset == 0:
        return ends
    shifted = np.zeros(n, bool)
    shifted[offset:] = ends[: max(n - offset, 0)]
    return shifted


def _period(days: np.ndarray, schedule: str) -> np.ndarray:
    """The month, or the Monday-start week, of each datetime64[D] day, as increasing integers."""
    if schedule == "month":
        return days.astype("datetime64[M]").astype("int64")
    return (days.astype("int64") + 3) // 7  # weeks start on Monday: shift by the Thursday epoch offset


def _after_last(dates: pd.DatetimeIndex, last: np.datetime64, schedule: str) -> np.datetime64:
    """The market day after the last row. The exchange calendar is consulted only where it can change the answer:
    when the next weekday is in the same period and at most five weekdays of the period remain."""
    weekday = next_market_day(np.array([last]))[0]
    period = _period(np.array([last, weekday]), schedule)
    if period[1] > period[0]:
        return weekday
    end = np.datetime64(pd.Timestamp(last).to_period("M").end_time.date(), "D") if schedule == "month" else \
        last + np.timedelta64(6 - int((last.astype("int64") + 3) % 7), "D")
    remaining = np.arange(last + np.timedelta64(1, "D"), end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    if int((((remaining.astype("int64") + 3) % 7) < 5).sum()) > 5:
        return weekday
    return market_days(dates).next_day(last)


def next_decision_day(last: pd.Timestamp, schedule: Schedule, calendar: MarketDays | None = None, *,
                      offset: int = 0, recent: pd.Index | None = None) -> pd.Timestamp:
    """The first decision day of ``schedule`` after the date ``last``, in the market days of ``calendar`` (default
    the weekday rule; :func:`xlsector.calendar.market_days` of the data gives the data's calendar).

    With an ``offset`` (see :func:`decision_days`) the period end may lie up to ``offset`` rows before ``last``:
    ``recent`` gives the data's dates through ``last`` (its last ``offset`` rows are used; without it the
    weekdays before ``last`` stand in for them).
    """
    from xlsector.calendar import WEEKDAYS

    days = (calendar or WEEKDAYS).days_after(last, (31 if schedule == "month" else 8) + offset)
    if schedule == "daily":
        return pd.Timestamp(days[0])
    before: list[pd.Timestamp] = []
    if offset:
        if recent is not None and len(recent) and pd.Timestamp(recent[-1]) == pd.Timestamp(last):
            before = [pd.Timestamp(d) for d in recent[-(offset + 1):-1]]
        else:
            before = list(pd.bdate_range(end=pd.Timestamp(last), periods=offset + 1)[:-1])
    chain_dates = [*before, pd.Timestamp(last), *[pd.Timestamp(d) for d in days]]
    chain = np.array([np.datetime64(d.date(), "D") for d in chain_dates])
    period = _period(chain, schedule)
    ends = np.zeros(len(chain), bool)
    ends[:-1] = period[:-1] < period[1:]  # a day ends its period when the next one is in a later period
    marks = np.zeros(len(chain), bool)
    marks[offset:] = ends[: len(chain) - offset]
    after = len(before) + 1
    return chain_dates[after + int(np.argmax(marks[after:]))]


def month_ends(dates: pd.Index) -> np.ndarray:
    """Last market day of each month (see :func:`decision_days`); all False without dates."""
    if not isinstance(dates, pd.DatetimeIndex):
        return np.zeros(len(dates), bool)
    return decision_days(dates, "month")


# ------------------------------------------------------------------------------------ StormGuard

def stormguard_arrays(index_values: np.ndarray, *, tc: float, k: float, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Indicator (EMA2 of the index's daily returns) and raw bull state with the ±shift band."""
    rets = returns_array(index_values.reshape(-1, 1))
    indicator = ema_arrays(rets, tc, k)[1][:, 0]
    level = np.where(indicator < -shift, 0.0, np.where(indicator > shift, 1.0, np.nan))
    level[0] = 1.0 if np.isnan(level[0]) else level[0]  # start in bull unless already beyond the band
    bull = ffill(level[:, None])[:, 0] > 0.5  # inside the band the previous state holds
    return np.nan_to_num(indicator), bull


def stormguard_on_dates(index: pd.Series, dates: pd.Index, *, tc: float, k: float,
                        shift: float) -> tuple[np.ndarray, np.ndarray]:
    """StormGuard's indicator and raw bull state on the prices' ``dates``, computed on the **whole** index series
    given (from its own first value, on its own dates) and then read on each price date as of that date: the
    index's value on that date or, on a date it lacks, on its last date before (never a later one: no look-ahead).
    A price date before the index starts reads indicator 0 and bull.

    Cutting the index to the prices' dates first would restart the indicator at the funds' first date: with fund
    prices from 2021-12-01 the state would turn bear on 2022-03-15, where the index's own history says 2022-05-11.
    Duplicate index dates are a DataError; missing or extra dates are reported as :func:`xlsector.sides.
    on_price_dates` reports them.
    """
    from xlsector.sides import on_price_dates

    on_price_dates(index, dates, "index", stacklevel=5)  # the checks and the alignment warnings of every side series
    series = index if index.index.is_monotonic_increasing else index.sort_index()
    values = price_array(series, "index")[:, 0]
    indicator, bull = stormguard_arrays(values, tc=tc, k=k, shift=shift)
    row = series.index.searchsorted(dates, side="right") - 1
    before = row < 0
    where = np.maximum(row, 0)
    return np.where(before, 0.0, indicator[where]), np.where(before, True, bull[where])


def stormguard(
    index: pd.Series, *, tc: float = STORMGUARD_TC, k: float = DEFAULT_K, shift: float = STORMGUARD_SHIFT
) -> pd.DataFrame:
    """StormGuard's daily raw state from a market index (the S&P 500 price index, no dividends).

    Returns a DataFrame with ``indicator`` (EMA2 with trend constant ``tc`` of the index's daily
    returns, trend units) and ``bull`` (True in the bull state). The state starts bull, turns bear when
    the indicator falls below −shift and bull again when it rises above +shift. The strategy applies
    this raw state at month ends ("standard") or on any day ("quick"): see :class:`Strategy`.
    """
    tc = check_tc(tc)
    k = check_k(k)
    shift = param_of(Strategy, "shift").check(shift)
    if not isinstance(index, pd.Series):
        raise ParameterError(f"index must be a pandas Series of index levels, got {type(index).__name__}")
    values = price_array(index, "index")[:, 0]
    if np.isnan(values).all():
        raise ParameterError("index has no values")
    indicator, bull = stormguard_arrays(values, tc=tc, k=k, shift=shift)
    return pd.DataFrame({"indicator": indicator, "bull": bull}, index=index.index)
