"""Trend maths (SPEC §1): daily returns, the EMA and EMA2 of scaled daily returns, their weights, momentum.

For a price series P (adjusted close), ``DR(n) = P(n)/P(n-1) - 1`` and, with ``a = 1/tc``::

    EMA(n)  = a * k * DR(n) + (1 - a) * EMA(n-1)
    EMA2(n) = a * EMA(n)    + (1 - a) * EMA2(n-1)

Both start at 0 on each column's own first price (its first DR is 0). Before that first price a column
is NaN. ``k`` (22 by default, 21 in the source paper's table) turns a daily figure into a roughly
monthly one. EMA2 is the SectorSurfer "trend".

NaN policy: a NaN *inside* a series (a gap) is a data error here; :func:`xlsector.data.validate_prices`
fills gaps with a warning before prices reach the core. A NaN after a column's last price (a fund that
closed) gives a daily return of 0 from then on.
"""

from __future__ import annotations

import numbers
from dataclasses import replace
from typing import TypeVar

import numpy as np
import pandas as pd

from xlsector.errors import DataError, ParameterError
from xlsector.params import Strategy, param_of

Frame = TypeVar("Frame", pd.Series, pd.DataFrame)

DEFAULT_K: float = param_of(Strategy, "k").default
MAX_AGES = 1_048_576  # an Excel column's rows: more weights than any sheet can show


def check_tc(tc: float, name: str = "tc") -> float:
    """Return ``tc`` as a float, or raise ParameterError unless it is a finite number >= 1."""
    return replace(param_of(Strategy, "tc"), name=name).check(tc)


def check_k(k: float) -> float:
    """Return the scale ``k`` as a float, or raise ParameterError unless it is a finite number > 0."""
    return param_of(Strategy, "k").check(k)


#: Largest price the core accepts: no security or index trades near it; beyond it a cell is a typo or damaged, and
#: the returns and their products overflow to inf and NaN (1e308 in a cell did).
MAX_PRICE = 1e15


def price_array(prices: pd.Series | pd.DataFrame, name: str = "prices") -> np.ndarray:
    """Prices as a 2-D float array (days × columns) after checking the rules every core function relies on.

    Rules: a Series or DataFrame; numeric; dates (if a DatetimeIndex) strictly increasing; every price > 0
    and below :data:`MAX_PRICE` where present. Raises DataError naming the rule, the column and the first offending date.
    """
    if not isinstance(prices, (pd.Series, pd.DataFrame)):
        raise DataError(f"{name} must be a pandas Series or DataFrame, got {type(prices).__name__}")
    frame = prices.to_frame() if isinstance(prices, pd.Series) else prices
    try:
        values = frame.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        raise DataError(f"{name} must be numeric; column {bad[0] if bad else '?'!s} is not ({exc})") from None
    index = frame.index
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        steps = np.diff(index.asi8)
        if (steps <= 0).any():
            i = int(np.argmax(steps <= 0)) + 1
            rule = "duplicate" if steps[i - 1] == 0 else "unsorted"
            raise DataError(
                f"{name} dates must be sorted and unique; {rule} date {index[i].date()} at row {i + 1}"
            )
    with np.errstate(invalid="ignore"):
        nonpositive = values <= 0
    if nonpositive.any():
        row, col = np.argwhere(nonpositive)[0]
        raise DataError(
            f"{name} must be > 0; column {frame.columns[col]!s} has {float(values[row, col]):g} on "
            f"{_label(index[row])}"
        )
    with np.errstate(invalid="ignore"):
        too_large = values >= MAX_PRICE  # infinity included
    if too_large.any():
        row, col = np.argwhere(too_large)[0]
        raise DataError(f"{name} must be finite and below {MAX_PRICE:g}; column {frame.columns[col]!s} has "
                        f"{float(values[row, col]):g} on {_label(index[row])}")
    return values


def _like(prices: Frame, values: np.ndarray) -> Frame:
    """A days × columns array as a Series/DataFrame shaped like ``prices``."""
    if isinstance(prices, pd.Series):
        return pd.Series(values[:, 0], index=prices.index, name=prices.name)
    return pd.DataFrame(values, index=prices.index, columns=prices.columns)


def _label(key: object) -> str:
    return str(key.date()) if isinstance(key, pd.Timestamp) else f"row {key}"


def ffill(values: np.ndarray) -> np.ndarray:
    """Carry each column's last non-NaN value forward (leading NaNs stay NaN)."""
    present = ~np.isnan(values)
    last = np.maximum.accumulate(np.where(present, np.arange(len(values))[:, None], 0), axis=0)
    return np.take_along_axis(values, last, axis=0)


def price_spans(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each column's first and last row with a price (first = n, last = −1 for an empty column) and
    whether it has gaps (NaN between the two)."""
    present = ~np.isnan(values)
    n = len(values)
    has = present.any(axis=0)
    first = np.where(has, np.argmax(present, axis=0), n)
    last = np.where(has, n - 1 - np.argmax(present[::-1], axis=0), -1)
    gaps = present.sum(axis=0) != np.maximum(last - first + 1, 0)
    return first, last, gaps


def returns_array(values: np.ndarray, *, before: float = np.nan, spans=None, out: np.ndarray | None = None) -> np.ndarray:
    """Daily returns of a days × columns price array: 0 on each column's first price, ``before`` (NaN)
    before it, 0 after its last price (a closed fund earns nothing); across a gap the move lands on the
    next price. ``spans`` is :func:`price_spans` of ``values`` when the caller has it already; ``out``
    an array to write into."""
    first, last, gaps = price_spans(values) if spans is None else spans
    if gaps.any():  # interior gaps: carry the last price over them
        values = ffill(values)
    out = np.empty(values.shape) if out is None else out
    out[0] = 0.0
    with np.errstate(invalid="ignore"):
        np.divide(values[1:], values[:-1], out=out[1:])
    out[1:] -= 1.0
    for j in range(values.shape[1]):  # the ends of each column: slices, not a full pass
        out[: first[j], j] = before
        if first[j] < len(out):
            out[first[j], j] = 0.0
            out[last[j] + 1:, j] = 0.0
    return out


def to_returns(prices: Frame) -> Frame:
    """Daily simple returns ``P(n)/P(n-1) - 1``; 0 on each column's first price and NaN before it.

    Parameters
    ----------
    prices : Series or DataFrame, shape (days,) or (days, funds)
        Adjusted closes, dates increasing.
    """
    return _like(prices, returns_array(price_array(prices)))


def ema_arrays(returns: np.ndarray, tc: float, k: float) -> tuple[np.ndarray, np.ndarray]:
    """EMA and EMA2 of ``k × returns`` along axis 0 of a days × columns array (NaN rows keep the state
    and stay NaN in the output)."""
    from xlsector import _kernels  # numba loads on first use, not on import

    a = 1.0 / tc
    scaled = np.ascontiguousarray(np.nan_to_num(returns, nan=0.0) * (a * k))
    e1 = np.empty_like(scaled)
    e2 = np.empty_like(scaled)
    _kernels.ema_pair(scaled, a, e1, e2)
    missing = np.isnan(returns)
    e1[missing] = np.nan
    e2[missing] = np.nan
    return e1, e2


def _ema_pair(prices: Frame, tc: float, k: float) -> tuple[Frame, Frame]:
    tc = check_tc(tc)
    k = check_k(k)
    e1, e2 = ema_arrays(returns_array(price_array(prices)), tc, k)
    return _like(prices, e1), _like(prices, e2)


def ema(prices: Frame, tc: float, *, k: float = DEFAULT_K) -> Frame:
    """First-stage exponential average of ``k × daily return``: ``EMA(n) = a·k·DR(n) + (1−a)·EMA(n−1)``.

    Parameters
    ----------
    prices : Series or DataFrame
        Adjusted closes; each column starts at 0 on its own first price, NaN before it.
    tc : float
        Trend constant in market days (``a = 1/tc``), >= 1.
    k : float, default 22
        Scale (21 in the source paper's worked table).
    """
    return _ema_pair(prices, tc, k)[0]


def ema2(prices: Frame, tc: float, *, k: float = DEFAULT_K) -> Frame:
    """The trend: second-order exponential average ``EMA2(n) = a·EMA(n) + (1−a)·EMA2(n−1)``.

    Same parameters and NaN policy as :func:`ema`. For a constant daily return r from the first day,
    ``EMA2(n) = k·r·(1 − (1−a)^n − n·a·(1−a)^n)``.
    """
    return _ema_pair(prices, tc, k)[1]


def ema_weights(tc: float, ages: int | np.ndarray = 250, *, k: float = DEFAULT_K) -> np.ndarray:
    """Weight of the daily return of age t (t = 0 is today) in the EMA: ``k·a·(1−a)^t``.

    ``ages`` is either a count (ages 0..ages−1) or an array of ages.
    """
    a = 1.0 / check_tc(tc)
    t = _ages(ages)
    return check_k(k) * a * (1.0 - a) ** t


def ema2_weights(tc: float, ages: int | np.ndarray = 250, *, k: float = DEFAULT_K) -> np.ndarray:
    """Weight of the daily return of age t in EMA2: ``k·a²·(t+1)·(1−a)^t`` (rises, peaks near tc, falls)."""
    a = 1.0 / check_tc(tc)
    t = _ages(ages)
    return check_k(k) * a * a * (t + 1.0) * (1.0 - a) ** t


def _ages(ages: int | np.ndarray) -> np.ndarray:
    if isinstance(ages, numbers.Real):
        if isinstance(ages, bool) or not float(ages).is_integer() or not 1 <= ages <= MAX_AGES:
            raise ParameterError(f"ages must be a whole number from 1 to {MAX_AGES} or an array of ages, got {ages!r}")
        return np.arange(int(ages), dtype=float)
    t = np.asarray(ages, dtype=float)
    if (t < 0).any() or not np.isfinite(t).all():
        raise ParameterError("ages must be finite and >= 0")
    return t


def ema2_lag(tc: float) -> float:
    """Mean age of the EMA2 weights, ``2(tc − 1)`` market days: how far the trend lags the prices."""
    return 2.0 * (check_tc(tc) - 1.0)


def momentum(prices: Frame, days: int) -> Frame:
    """N-day total-return momentum ``P(n)/P(n−days) − 1`` (NaN until a column has ``days`` returns)."""
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 1:
        raise ParameterError(f"days must be a whole number >= 1, got {days!r}")
    return _like(prices, momentum_array(price_array(prices), days))


def momentum_array(values: np.ndarray, days: int) -> np.ndarray:
    """:func:`momentum` of a days × columns price array (checked by the caller): NaN where row n or
    row n − days has no price."""
    out = np.full(values.shape, np.nan)
    if days < len(values):
        out[days:] = values[days:] / values[:-days] - 1.0
    return out
