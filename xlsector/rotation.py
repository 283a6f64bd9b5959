"""Rotation rules (SPEC §2): strategy parameters, decision schedules and the StormGuard market filter.

The day-by-day rotation itself runs in :mod:`xlsector._kernels`; :mod:`xlsector.backtest` prepares its
inputs and wraps its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd

from xlsector.errors import ParameterError
from xlsector.trend import DEFAULT_K, check_k, check_tc, ema_arrays, ffill, price_array, returns_array

Schedule = Literal["daily", "week", "month"]
StormGuardMode = Literal["standard", "quick"]

SCHEDULES = ("daily", "week", "month")
STORMGUARD_MODES = {None: 0, "off": 0, "standard": 1, "quick": 2}
STORMGUARD_TC = 50.0
STORMGUARD_SHIFT = 0.005
AQR_MIN_DAYS = 15


@dataclass(frozen=True)
class Strategy:
    """Parameters of a SectorSurfer-style rotation, validated on construction.

    Attributes
    ----------
    tc : trend constant of the funds' EMA2 trends, market days (>= 1). Default 50.
    k : scale of the trends (22; 21 in the source paper's table).
    hysteresis : bonus added to the trend of the fund just switched into, in trend units (0.01 = 1 %);
        0 disables hysteresis.
    decay : decay constant of the bonus in market days (bonus = hysteresis·exp(−days/decay));
        None = tc.
    schedule : decision days: "daily", "week" (last market day of each week) or "month" (last market
        day of each month).
    min_hold : market days a fund must be held (counted from the decision that bought it) before the
        rotation may leave it. StormGuard exits and a fund's leaving the universe ignore it.
    delay : 0 or 1; a decision made on day d's close is executed on day d+delay's close, so the new
        holding earns returns from day d+delay+1.
    cost_bp : cost of each trade (a switch, an entry from or exit to cash) in basis points of the
        traded value, charged on the first day of the new holding.
    min_history : market days of prices a fund needs (after its first price) before it may be picked.
    stormguard : None/"off", "standard" (state changes take effect at month end only) or "quick"
        (any day, once the last trade is at least ``aqr_days`` market days old).
    shift : StormGuard band around 0, trend units: bull → bear below −shift, bear → bull above +shift.
    sg_tc : trend constant of the StormGuard indicator (50).
    aqr_days : minimum age in market days of the last trade for a quick-response StormGuard switch.
    """

    tc: float = 50.0
    k: float = DEFAULT_K
    hysteresis: float = 0.01
    decay: float | None = None
    schedule: Schedule = "daily"
    min_hold: int = 0
    delay: int = 1
    cost_bp: float = 10.0
    min_history: int = 22
    stormguard: StormGuardMode | None = None
    shift: float = STORMGUARD_SHIFT
    sg_tc: float = STORMGUARD_TC
    aqr_days: int = AQR_MIN_DAYS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "tc", check_tc(self.tc))
        set_(self, "k", check_k(self.k))
        set_(self, "hysteresis", _number(self.hysteresis, "hysteresis", low=0.0))
        if self.decay is not None:
            set_(self, "decay", check_tc(self.decay, "decay"))
        if self.schedule not in SCHEDULES:
            raise ParameterError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        set_(self, "min_hold", _whole(self.min_hold, "min_hold"))
        if self.delay not in (0, 1) or isinstance(self.delay, bool):
            raise ParameterError(f"delay must be 0 or 1 (days between decision and trade), got {self.delay!r}")
        set_(self, "cost_bp", _number(self.cost_bp, "cost_bp", low=0.0, high=10_000.0))
        set_(self, "min_history", _whole(self.min_history, "min_history"))
        if self.stormguard not in STORMGUARD_MODES:
            raise ParameterError(f"stormguard must be None, 'off', 'standard' or 'quick', got {self.stormguard!r}")
        if self.stormguard == "off":
            set_(self, "stormguard", None)
        set_(self, "shift", _number(self.shift, "shift", low=0.0))
        set_(self, "sg_tc", check_tc(self.sg_tc, "sg_tc"))
        set_(self, "aqr_days", _whole(self.aqr_days, "aqr_days"))

    @classmethod
    def from_kwargs(cls, **params) -> Strategy:
        """Build from keyword arguments, naming any unknown one."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ParameterError(f"unknown strategy parameter {unknown[0]!r}; known: {', '.join(sorted(known))}")
        return cls(**params)

    @property
    def decay_days(self) -> float:
        return self.tc if self.decay is None else self.decay


def _number(value, name: str, *, low: float, high: float = np.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or not low <= value <= high:
        rule = f">= {low:g}" if high == np.inf else f"between {low:g} and {high:g}"
        raise ParameterError(f"{name} must be a number {rule}, got {value!r}")
    return float(value)


def _whole(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0 or float(value) != int(value):
        raise ParameterError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------------------ schedules

def _next_weekday(days: np.ndarray) -> np.ndarray:
    """The next Monday–Friday after each datetime64[D] day."""
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (weekday 3, Monday = 0)
    step = np.where(weekday >= 4, 7 - weekday, 1)
    return days + step.astype("timedelta64[D]")


def decision_days(dates: pd.Index, schedule: Schedule) -> np.ndarray:
    """Boolean mask of the rotation's decision days.

    ``"daily"``: every day. ``"week"``/``"month"``: the last market day of each calendar week (Monday
    start) or month, known without look-ahead: a day is the last of its period when the next row's date
    falls in a later period; for the last row, when the next weekday (Monday–Friday) does.
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
        following[-1] = _next_weekday(days[-1:])[0]
    if schedule == "month":
        period = days.astype("datetime64[M]")
        return following.astype("datetime64[M]") > period
    # weeks starting on Monday: shift by the Thursday epoch offset so that integer division lines up
    week = (days.astype("int64") + 3) // 7
    return (following.astype("int64") + 3) // 7 > week


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
    shift = _number(shift, "shift", low=0.0)
    if not isinstance(index, pd.Series):
        raise ParameterError(f"index must be a pandas Series of index levels, got {type(index).__name__}")
    values = price_array(index, "index")[:, 0]
    if np.isnan(values).all():
        raise ParameterError("index has no values")
    indicator, bull = stormguard_arrays(values, tc=tc, k=k, shift=shift)
    return pd.DataFrame({"indicator": indicator, "bull": bull}, index=index.index)
