"""Rotation rules (SPEC §2): strategy parameters, decision schedules and the StormGuard market filter.

The day-by-day rotation itself runs in :mod:`xlsector._kernels`; :mod:`xlsector.backtesting` prepares its
inputs and wraps its outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlsector.calendar import market_days_after, next_market_day
from xlsector.errors import ParameterError
from xlsector.params import SCHEDULES, Schedule, Strategy, param_of
from xlsector.trend import DEFAULT_K, check_k, check_tc, ema_arrays, ffill, price_array, returns_array

__all__ = ["Strategy", "decision_days", "month_ends", "next_decision_day", "stormguard", "stormguard_arrays"]

STORMGUARD_TC = param_of(Strategy, "sg_tc").default
STORMGUARD_SHIFT = param_of(Strategy, "shift").default


# ------------------------------------------------------------------------------------ schedules

def decision_days(dates: pd.Index, schedule: Schedule) -> np.ndarray:
    """Boolean mask of the rotation's decision days.

    ``"daily"``: every day. ``"week"``/``"month"``: the last market day of each calendar week (Monday
    start) or month, known without look-ahead: a day is the last of its period when the next row's date
    falls in a later period; for the last row, when the next market day (:mod:`xlsector.calendar`) does.
    """
    if schedule not in SCHEDULES:
        raise ParameterError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    n = len(dates)
    if schedule == "daily":
        return np.ones(n, bool)
    if not isinstance(dates, pd.DatetimeIndex):
        raise ParameterError(f"schedule {schedule!r} needs dates; the prices have no date index")
    days = dates.values.astype("datetime64[D]")
    following = np.empty_like(days)
    following[:-1] = days[1:]
    if n:
        following[-1] = next_market_day(days[-1:])[0]
    if schedule == "month":
        period = days.astype("datetime64[M]")
        return following.astype("datetime64[M]") > period
    # weeks starting on Monday: shift by the Thursday epoch offset so that integer division lines up
    week = (days.astype("int64") + 3) // 7
    return (following.astype("int64") + 3) // 7 > week


def next_decision_day(last: pd.Timestamp, schedule: Schedule) -> pd.Timestamp:
    """The first decision day of ``schedule`` after the date ``last`` (market days as in :mod:`xlsector.calendar`)."""
    days = market_days_after(last, 31 if schedule == "month" else 8)
    marks = decision_days(pd.DatetimeIndex([pd.Timestamp(last), *days]), schedule)[1:]
    return pd.Timestamp(days[int(np.argmax(marks))])


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
