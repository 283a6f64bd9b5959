"""Performance metrics of a daily return series (SPEC section 5), each a small function.

Conventions shared by every function here
-----------------------------------------
* ``returns`` is a :class:`pandas.Series` of daily *simple* returns (0.01 = +1 %), indexed by date and
  sorted ascending. **Every row is a return**, as in ffn, quantstats and empyrical: the usual
  ``prices.pct_change().dropna()`` is a valid input and no day is dropped. ``N`` below is the number of
  rows. Equity is ``V_start = 1`` at the close before the first return (the *start point*) and
  ``V_t = V_{t-1} * (1 + r_t)`` after it. Series given with the returns (holdings, leverage, rf,
  benchmarks) cover the same dates, one value per return.
* **The start point** (the date of the close the first return is measured from) is ``start=`` where a
  metric needs the calendar (CAGR, Calmar, turnover, the table's "Years"); by default it is the weekday
  before the first return's date (``numpy.busday_offset(first, -1)``: the previous market day unless a
  holiday falls between, which adds a day or so to the calendar). Prices or equity (the first row is
  the start point, its value V_start) go through :func:`metrics_from_prices`; a backtest's own returns,
  whose first row is the start point with the return 0, through :func:`metrics_after_start` (what
  ``BacktestResult.metrics()`` and the deprecated ``xlsector.metrics`` use).
* Calendar days = last date - start point (in days, fractional for intraday stamps); years = calendar
  days / 365.25. Annualisation of daily statistics uses 252 market days a year.
* Results are plain ``float`` fractions (0.12 = 12 %) except the ulcer index, which is in percent as in
  its original definition. Degenerate input (too few days, zero standard deviation, no drawdown, NaN in the
  data) gives ``nan``: never an exception and never a ``RuntimeWarning``. Wrong *types* (not a Series,
  no DatetimeIndex where dates are needed, unsorted dates) raise :class:`~xlsector.errors.ParameterError`.

:data:`DEFINITIONS` maps each label of the :func:`metrics_table` table to its formula text, so the
workbook, the CLI and the docs show the same words.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import cast

import numpy as np
import pandas as pd

from xlsector.errors import DataQualityWarning, ParameterError

__all__ = [
    "CASH",
    "DAYS_PER_YEAR",
    "DEFINITIONS",
    "average_leverage",
    "best_year",
    "bps",
    "cagr",
    "calmar_ratio",
    "count_switches",
    "count_trades",
    "exposure",
    "max_drawdown",
    "metrics_after_start",
    "metrics_from_prices",
    "metrics_table",
    "sharpe_ratio",
    "sortino_ratio",
    "switch_counts",
    "total_return",
    "turnover",
    "ulcer_index",
    "volatility",
    "win_rate_days",
    "win_rate_spells",
    "worst_year",
    "yearly_returns",
]

#: Market days per year used to annualise daily statistics.
DAYS_PER_YEAR = 252
#: Calendar days per year used for CAGR and turnover.
CALENDAR_YEAR = 365.25
#: Holding name of the out-of-market cash position.
CASH = "CASH"

#: Label -> definition of every figure :func:`metrics_table` can report, in table order.
DEFINITIONS: dict[str, str] = {
    "Days": "N = number of daily returns (the start point, V = 1, is the close before the first of them)",
    "Years": "calendar days / 365.25, calendar days = last date - start point",
    "Total return": "V_end / V_start - 1, V = equity compounded from the daily returns, V_start = 1",
    "CAGR": "(V_end / V_start)^(365.25 / calendar days) - 1",
    "Volatility": "sample std(r) * sqrt(252), r = daily returns of the N return days",
    "Sharpe ratio": "mean(r - rf) / sample std(r - rf) * sqrt(252), rf = daily risk-free return (0 if none)",
    "Sortino ratio": "mean(r - rf) / sqrt(mean(min(r - rf, 0)^2)) * sqrt(252), mean over all N days",
    "Max drawdown": "min(V / running max V) - 1 (<= 0), running max from V_start = 1",
    "Calmar ratio": "CAGR / |Max drawdown|",
    "Ulcer index (%)": "sqrt(mean(dd^2)), dd = 100 * (V / running max V - 1) in percent, over the N days",
    "Win rate (days)": "share of the N days with r > 0 (days with r = 0 count as not winning)",
    "Win rate (spells)": (
        "share of holding spells (runs of consecutive days with the same holding, CASH spells ignored) "
        "whose compounded net return is > 0; the open last spell counts"
    ),
    "Trades": (
        "number of switches: changes of holding after the initial buy (a holding that starts in CASH "
        "does not count its first entry)"
    ),
    "Turnover (trades/yr)": "Trades / years",
    "Exposure": "share of the N days whose holding is not CASH",
    "Average leverage": "mean of the daily leverage over the N days",
    "Best year": "highest calendar-year return V(year end) / V(previous year end) - 1 (first/last year may be partial)",
    "Worst year": "lowest calendar-year return V(year end) / V(previous year end) - 1 (first/last year may be partial)",
    "BPS": "0.4 * Sharpe + 0.3 * CAGR + 0.2 * Win rate (days) - 0.1 * |Max drawdown|, all as fractions",
}

_NAN = float("nan")
_SQRT_YEAR = float(np.sqrt(DAYS_PER_YEAR))
# a standard deviation below this fraction of |mean| is rounding noise of a constant series: treated as 0
_NOISE = 1e-10


# ----------------------------------------------------------------------------------------------------
# validation (public boundary) and conversion to arrays
# ----------------------------------------------------------------------------------------------------


def _check_series(values: object, name: str, *, dates: bool) -> pd.Series:
    if not isinstance(values, pd.Series):
        raise ParameterError(f"{name} must be a pandas Series, got {type(values).__name__}")
    if dates:
        if not isinstance(values.index, pd.DatetimeIndex):
            raise ParameterError(
                f"{name} must have a DatetimeIndex (dates), got {type(values.index).__name__}"
            )
        if not values.index.is_monotonic_increasing or not values.index.is_unique:
            raise ParameterError(f"{name} dates must be sorted ascending and unique")
    return values


def _floats(values: pd.Series, name: str) -> np.ndarray:
    try:
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must hold numbers, got dtype {values.dtype}") from None


def _return_days(returns: object, name: str = "returns", *, dates: bool = False) -> np.ndarray:
    """Validate ``returns`` and give the float array of its returns (every row is a return)."""
    series = _check_series(returns, name, dates=dates)
    return _floats(series, name)


def _dates(series: pd.Series) -> pd.DatetimeIndex:
    """The index of a series already checked with ``dates=True``, typed as the DatetimeIndex it is."""
    return cast(pd.DatetimeIndex, series.index)


def _start_point(index: pd.DatetimeIndex, start: object = None) -> pd.Timestamp | None:
    """The start point of returns dated ``index``: ``start``, or the weekday before the first date."""
    if start is None:
        if not len(index):
            return None
        first = pd.Timestamp(index[0])
        day = np.datetime64(first.date(), "D")
        gap = int((day - np.busday_offset(day, -1, roll="forward")) / np.timedelta64(1, "D"))
        return first - pd.Timedelta(days=gap)
    try:
        point = pd.Timestamp(start)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"start must be a date (the close before the first return), got {start!r}") from None
    if pd.isna(point):
        raise ParameterError(f"start must be a date (the close before the first return), got {start!r}")
    if index.tz is not None and point.tz is None:
        point = point.tz_localize(index.tz)
    if len(index) and point >= index[0]:
        raise ParameterError(
            f"start must be before the first return's date {index[0]:%Y-%m-%d} (it is the close the first "
            f"return is measured from), got {point:%Y-%m-%d}"
        )
    return point


def _calendar_days(index: pd.DatetimeIndex, start: object = None) -> float:
    """Calendar days from the start point to the last return's date; NaN without returns."""
    point = _start_point(index, start)
    if point is None or not len(index):
        return _NAN
    return float((index[-1] - point) / pd.Timedelta(days=1))


def _aligned(values: object, index: pd.Index, name: str) -> pd.Series:
    series = _check_series(values, name, dates=False)
    if not series.index.equals(index):
        raise ParameterError(f"{name} must have exactly the same dates as returns")
    return series


def _on_dates(values: pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """Float values of ``values`` on exactly the dates of ``index`` (NaN where it has none)."""
    own = values.index
    if len(own) >= len(index) and len(index):
        start = int(own.searchsorted(index[0]))
        window = own[start : start + len(index)]
        if window.equals(index):  # the usual case: a contiguous block of the same calendar
            return _floats(values.iloc[start : start + len(index)], "benchmark")
    return _floats(values.reindex(index), "benchmark")


def _daily_rf(rf: float | pd.Series | None, returns: pd.Series) -> np.ndarray | float:
    """rf as daily returns on the return days: None -> 0, float = annual rate / 252, Series = daily."""
    if rf is None:
        return 0.0
    if isinstance(rf, pd.Series):
        aligned = rf.reindex(returns.index)
        values = _floats(aligned, "rf")
        missing = int(np.isnan(values).sum())
        if missing:
            first = aligned.index[np.isnan(values)][0]
            raise ParameterError(
                f"rf must give a daily risk-free return on every return date; "
                f"{missing} missing, the first on {first:%Y-%m-%d}"
            )
        return values
    if isinstance(rf, (bool, np.bool_)) or not isinstance(rf, (int, float, np.integer, np.floating)):
        raise ParameterError(
            f"rf must be None, an annual rate (float) or a Series of daily returns, got {type(rf).__name__}"
        )
    return float(rf) / DAYS_PER_YEAR


def _holding_codes(holdings: pd.Series, name: str = "holdings") -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each date's holding, and whether each date is invested (holding is not CASH)."""
    codes, uniques = pd.factorize(holdings.to_numpy(dtype=object))
    if codes.size and codes.min() < 0:
        missing = int(np.count_nonzero(codes < 0))
        raise ParameterError(
            f"{name} must name the asset held on every date ({CASH!r} for cash); {missing} missing"
        )
    invested = np.asarray([u != CASH for u in uniques], dtype=bool)[codes]
    return codes, invested


# ----------------------------------------------------------------------------------------------------
# array kernels: x = float array of the N returns
# ----------------------------------------------------------------------------------------------------


def _bad(x: np.ndarray, minimum: int = 1) -> bool:
    return x.size < minimum or bool(np.isnan(x).any())


def _equity(x: np.ndarray) -> np.ndarray:
    """Equity at the close of each return day (V_start = 1 at the start point is not included)."""
    with np.errstate(over="ignore"):
        return np.cumprod(1.0 + x)


def _growth(equity: np.ndarray) -> float:
    """V_end / V_start; NaN without return days (NaN returns propagate)."""
    return float(equity[-1]) if equity.size else _NAN


def _total_return(growth: float) -> float:
    return growth - 1.0


def _cagr(growth: float, days: float) -> float:
    """growth = V_end / V_start."""
    if np.isnan(growth) or not days > 0:
        return _NAN
    if growth <= 0.0:
        return -1.0
    with np.errstate(over="ignore"):  # a huge gain over a few days overflows to inf
        return float(np.power(growth, CALENDAR_YEAR / days)) - 1.0


def _volatility(x: np.ndarray) -> float:
    if _bad(x, 2):
        return _NAN
    return float(np.std(x, ddof=1) * _SQRT_YEAR)


def _sharpe(excess: np.ndarray) -> float:
    if _bad(excess, 2):
        return _NAN
    excess = _power_of_two_scaled(excess)
    sd = float(np.std(excess, ddof=1))
    mean = float(np.mean(excess))
    if not sd > _NOISE * abs(mean):  # zero, or only rounding noise of a constant series
        return _NAN
    return mean / sd * _SQRT_YEAR


def _power_of_two_scaled(x: np.ndarray) -> np.ndarray:
    """``x`` divided by the power of two nearest its largest magnitude: exact (the ratio mean/std is the same
    bit for bit), and the squares of tiny returns (1e-160) no longer underflow to subnormal numbers."""
    top = float(np.max(np.abs(x)))
    if not 0.0 < top < np.inf:
        return x
    return x / 2.0 ** np.floor(np.log2(top))


def _sortino(excess: np.ndarray) -> float:
    if _bad(excess):
        return _NAN
    downside = np.minimum(excess, 0.0)
    dd = float(np.sqrt(np.mean(downside * downside)))
    if not dd > 0.0:
        return _NAN
    return float(np.mean(excess)) / dd * _SQRT_YEAR


def _drawdowns(equity: np.ndarray) -> np.ndarray:
    """V / running max V - 1 on each return day; the running max starts from V_start = 1 (so peak >= 1)."""
    peak = np.maximum.accumulate(np.maximum(equity, 1.0))
    with np.errstate(invalid="ignore"):  # inf / inf after an overflow gives NaN
        return equity / peak - 1.0


def _max_drawdown(dd: np.ndarray) -> float:
    if _bad(dd):
        return _NAN
    return float(min(dd.min(), 0.0))


def _calmar(growth_rate: float, mdd: float) -> float:
    # a drawdown of rounding size (a price written 1.0000000000000002 then 1.0) is no drawdown: dividing by it
    # would turn the last bit of a float into the figure
    if np.isnan(growth_rate) or np.isnan(mdd) or abs(mdd) < 1e-12:
        return _NAN
    return growth_rate / abs(mdd)


def _ulcer(dd: np.ndarray) -> float:
    if _bad(dd):
        return _NAN
    return float(100.0 * np.sqrt(np.mean(dd * dd)))


def _win_rate_days(x: np.ndarray) -> float:
    if _bad(x):
        return _NAN
    return float(np.count_nonzero(x > 0.0)) / x.size


def _win_rate_spells(x: np.ndarray, codes: np.ndarray, invested: np.ndarray) -> float:
    """codes/invested of the N returns; a spell = a run of equal codes."""
    if _bad(x):
        return _NAN
    change = np.ones(codes.size, dtype=bool)
    change[1:] = codes[1:] != codes[:-1]
    starts = np.flatnonzero(change)
    held = invested[starts]
    count = int(np.count_nonzero(held))
    if count == 0:
        return _NAN
    growth = np.multiply.reduceat(1.0 + x, starts)
    return float(np.count_nonzero(growth[held] > 1.0)) / count


def _trades(codes: np.ndarray) -> int:
    """codes of every date of the series."""
    return int(np.count_nonzero(codes[1:] != codes[:-1]))


def _switches(codes: np.ndarray, invested: np.ndarray) -> int:
    """codes and invested flags of every date of the series."""
    return int(switch_counts(codes, cash=-1 if not len(codes) or invested[0] else int(codes[0]))[0])


def _turnover(trades: float, days: float) -> float:
    if np.isnan(trades) or not days > 0:
        return _NAN
    return float(trades) * CALENDAR_YEAR / days


def _exposure(invested: np.ndarray) -> float:
    """invested flags of the N returns."""
    if invested.size == 0:
        return _NAN
    return float(np.count_nonzero(invested)) / invested.size


def _mean(x: np.ndarray) -> float:
    if _bad(x):
        return _NAN
    return float(np.mean(x))


def _yearly(equity: np.ndarray, index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Calendar years holding a return and their compounded returns.

    ``equity`` is V at the close of each return's date (``index``); a year's base is V at the last close
    before its first return (the previous year's last return, or V_start = 1 at the start point).
    """
    if equity.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    year_of = np.asarray(index.year, dtype=np.int64)
    ends = np.append(np.flatnonzero(np.diff(year_of)), equity.size - 1)  # last return of each year
    begins = np.concatenate(([-1], ends[:-1]))  # last return before the year (-1 = the start point)
    full = np.concatenate(([1.0], equity))
    with np.errstate(divide="ignore", invalid="ignore"):
        values = full[ends + 1] / full[begins + 1] - 1.0
    return year_of[ends], values


def _bps(sharpe: float, growth_rate: float, win_days: float, mdd: float) -> float:
    return 0.4 * sharpe + 0.3 * growth_rate + 0.2 * win_days - 0.1 * abs(mdd)


# ----------------------------------------------------------------------------------------------------
# public metrics, one small function each (every row of ``returns`` is a return)
# ----------------------------------------------------------------------------------------------------


def total_return(returns: pd.Series) -> float:
    """Total return over the period: ``V_end / V_start - 1``.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns, every row a return.

    Returns
    -------
    float
        ``prod(1 + r_t) - 1``; NaN without returns or with a NaN return.
    """
    return _total_return(_growth(_equity(_return_days(returns))))


def cagr(returns: pd.Series, *, start: object = None) -> float:
    """Compound annual growth rate: ``(V_end / V_start)^(365.25 / calendar days) - 1``.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns with a DatetimeIndex, every row a return; ``V_start = 1`` at the start point
        and ``V_end = prod(1 + r_t)``.
    start : date, optional
        The start point: the date of the close the first return is measured from. Default: the weekday
        before the first return's date (see the module docstring).

    Returns
    -------
    float
        Calendar days = last date - start point. A flat series (all returns 0) gives 0.0. NaN without
        returns or with any NaN return. -1.0 when the equity reaches zero or below (total loss); inf when
        the annualised growth overflows (a huge gain over a few days).
    """
    x = _return_days(returns, dates=True)
    return _cagr(_growth(_equity(x)), _calendar_days(_dates(returns), start))


def volatility(returns: pd.Series) -> float:
    """Annualised volatility: ``sample std(r) * sqrt(252)``.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns, every row a return.

    Returns
    -------
    float
        Standard deviation with ``ddof=1`` times ``sqrt(252)``; NaN with fewer than two returns or any NaN.
    """
    return _volatility(_return_days(returns))


def sharpe_ratio(returns: pd.Series, rf: float | pd.Series | None = None) -> float:
    """Annualised Sharpe ratio: ``mean(r - rf) / std(r - rf) * sqrt(252)`` (sample std).

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns, every row a return (a DatetimeIndex when ``rf`` is a Series).
    rf : None, float or pandas.Series, optional
        Risk-free rate. None: 0. A float: an *annual* rate as a fraction (0.02 = 2 % a year), used as the
        daily return ``rf / 252``. A Series: *daily* risk-free returns by date; it must have a value on
        every date of ``returns`` (extra dates are ignored), else ParameterError.

    Returns
    -------
    float
        NaN with fewer than two returns, any NaN, or zero standard deviation (a standard deviation
        below 1e-10 * |mean|, the rounding noise of a constant series such as cash at a fixed rate,
        counts as zero).
    """
    x = _return_days(returns, dates=isinstance(rf, pd.Series))
    return _sharpe(x - _daily_rf(rf, returns))


def sortino_ratio(returns: pd.Series, rf: float | pd.Series | None = None) -> float:
    """Annualised Sortino ratio: ``mean(r - rf) / sqrt(mean(min(r - rf, 0)^2)) * sqrt(252)``.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns, every row a return.
    rf : None, float or pandas.Series, optional
        As in :func:`sharpe_ratio` (float = annual rate, Series = daily returns).

    Returns
    -------
    float
        The downside deviation averages the squared negative excess returns over *all* returns (days
        with a positive excess count as 0). NaN when there is no negative excess day or any NaN.
    """
    x = _return_days(returns, dates=isinstance(rf, pd.Series))
    return _sortino(x - _daily_rf(rf, returns))


def max_drawdown(returns: pd.Series) -> float:
    """Maximum drawdown: ``min(V / running max V) - 1`` (a number <= 0).

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns, every row a return; V_start = 1 at the start point starts the running max.

    Returns
    -------
    float
        0.0 for a series that never falls; NaN without returns or with any NaN.
    """
    return _max_drawdown(_drawdowns(_equity(_return_days(returns))))


def calmar_ratio(returns: pd.Series, *, start: object = None) -> float:
    """Calmar ratio: ``CAGR / |max drawdown|`` over the whole period.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns with a DatetimeIndex, every row a return.
    start : date, optional
        The start point, as in :func:`cagr`.

    Returns
    -------
    float
        NaN when there is no drawdown (max drawdown = 0) or either part is NaN.
    """
    x = _return_days(returns, dates=True)
    equity = _equity(x)
    return _calmar(_cagr(_growth(equity), _calendar_days(_dates(returns), start)), _max_drawdown(_drawdowns(equity)))


def ulcer_index(returns: pd.Series) -> float:
    """Ulcer index in percent: ``sqrt(mean(dd^2))`` with ``dd = 100 * (V / running max V - 1)``.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns, every row a return (V_start = 1 at the start point).

    Returns
    -------
    float
        Root mean square of the percent drawdowns at the close of each return's date (the start point,
        whose drawdown is 0 by definition, is not in the mean), so 5.0 means 5 %. >= 0; NaN without returns.
    """
    return _ulcer(_drawdowns(_equity(_return_days(returns))))


def win_rate_days(returns: pd.Series) -> float:
    """Share of winning days: returns ``r > 0`` divided by all returns.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns, every row a return.

    Returns
    -------
    float
        A fraction in [0, 1]. Days with a return of exactly 0 (e.g. in cash at no rate) count in the
        denominator as non-winning days. NaN without returns or with any NaN.
    """
    return _win_rate_days(_return_days(returns))


def win_rate_spells(returns: pd.Series, holdings: pd.Series) -> float:
    """Share of winning holding spells.

    A spell is a run of consecutive returns with the same holding: from the day the new holding first
    earns its return (after the switch in) to the last day before the switch out. Its return is the
    compounded net return ``prod(1 + r) - 1`` over its days (trading costs included, as they are in
    ``r``). CASH spells are ignored; a spell still open on the last day counts.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple net returns, every row a return.
    holdings : pandas.Series
        Name of the asset held on each date ("CASH" for cash), with exactly the dates of ``returns``;
        ``holdings[t]`` is the asset whose return is ``returns[t]``.

    Returns
    -------
    float
        Winning spells (return > 0) / non-CASH spells; NaN when there is no invested spell.
    """
    x = _return_days(returns)
    codes, invested = _holding_codes(_aligned(holdings, returns.index, "holdings"))
    return _win_rate_spells(x, codes, invested)


def count_trades(holdings: pd.Series) -> int:
    """Number of trades: dates whose holding differs from the previous date's.

    Parameters
    ----------
    holdings : pandas.Series
        Name of the asset held on each date ("CASH" for cash).

    Returns
    -------
    int
        The first position (on the start date) is not counted as a trade; a switch to or from CASH is,
        and so is the entry from CASH of a series that starts in cash (the initial buy). The number of
        switches, which never counts the initial buy, is :func:`count_switches`.
    """
    codes, _ = _holding_codes(_check_series(holdings, "holdings", dates=False))
    return _trades(codes)


def count_switches(holdings: pd.Series) -> int:
    """Number of switches: changes of holding after the initial buy.

    The one definition of a switch (the backtests' ``switches``, the "Trades" row of
    :func:`metrics_table`, the trend chart's and FWPT's counts): every date whose holding differs from
    the previous date's, except that a series starting in CASH does not count its first entry (the
    initial buy). A switch to or from CASH later on counts. ``holdings`` (a pandas Series) names the asset
    held on each date, the start date first; the result is ``count_trades(holdings)``, minus 1 when the
    series starts in CASH and changes at all.
    """
    codes, invested = _holding_codes(_check_series(holdings, "holdings", dates=False))
    return _switches(codes, invested)


def switch_counts(holdings: np.ndarray, cash: int) -> np.ndarray:
    """:func:`count_switches` of each row of an integer holdings array (paths x days).

    Parameters
    ----------
    holdings : ndarray of int, shape (days,) or (paths, days)
        Code of the asset held on each day of each path, the start day first.
    cash : int
        The code of CASH (a code no path uses when none holds cash).

    Returns
    -------
    ndarray of int64, shape (paths,)
    """
    paths = np.atleast_2d(holdings)
    changes = np.count_nonzero(paths[:, 1:] != paths[:, :-1], axis=1)
    initial_buy = (paths[:, 0] == cash) & (changes > 0) if paths.shape[1] else np.zeros(len(paths), bool)
    return (changes - initial_buy).astype(np.int64)


def turnover(switches: int, returns: pd.Series, *, start: object = None) -> float:
    """Switches per year: ``switches / (calendar days / 365.25)``.

    Parameters
    ----------
    switches : int
        Number of switches (trades) made during the period.
    returns : pandas.Series
        Daily returns with a DatetimeIndex, every row a return; only its last date is used, with the
        start point.
    start : date, optional
        The start point, as in :func:`cagr`.

    Returns
    -------
    float
        NaN without returns.
    """
    _check_series(returns, "returns", dates=True)
    try:
        count = float(switches)
    except (TypeError, ValueError):
        raise ParameterError(f"switches must be a number >= 0, got {switches!r}") from None
    if not count >= 0:
        raise ParameterError(f"switches must be a number >= 0, got {switches!r}")
    return _turnover(count, _calendar_days(_dates(returns), start))


def exposure(holdings: pd.Series) -> float:
    """Share of days invested: dates whose holding is not "CASH".

    Parameters
    ----------
    holdings : pandas.Series
        Name of the asset held on each date of the returns (every row is a day that earns a return).

    Returns
    -------
    float
        A fraction in [0, 1]; NaN without rows.
    """
    _, invested = _holding_codes(_check_series(holdings, "holdings", dates=False))
    return _exposure(invested)


def average_leverage(leverage: pd.Series) -> float:
    """Mean daily leverage (1.0 = fully invested, no borrowing).

    Parameters
    ----------
    leverage : pandas.Series
        Leverage applied on each date of the returns.

    Returns
    -------
    float
        Plain mean; NaN without rows or with any NaN.
    """
    return _mean(_return_days(leverage, "leverage"))


def yearly_returns(returns: pd.Series) -> pd.Series:
    """Compounded return of each calendar year.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns with a DatetimeIndex, every row a return.

    Returns
    -------
    pandas.Series
        Indexed by year (int), value ``V(last return of the year) / V(last close before it) - 1``: the
        base is the previous year's last close, or V_start = 1 (the start point) for the first year. A
        year has an entry only if it holds at least one return, so the first and the last year may be
        partial.
    """
    x = _return_days(returns, dates=True)
    years, values = _yearly(_equity(x), _dates(returns))
    return pd.Series(values, index=pd.Index(years, name="year"), name="return")


def best_year(returns: pd.Series) -> float:
    """Highest calendar-year return of :func:`yearly_returns` (partial first/last years included); NaN if none."""
    x = _return_days(returns, dates=True)
    _, values = _yearly(_equity(x), _dates(returns))
    return _NAN if values.size == 0 else float(values.max())


def worst_year(returns: pd.Series) -> float:
    """Lowest calendar-year return of :func:`yearly_returns` (partial first/last years included); NaN if none."""
    x = _return_days(returns, dates=True)
    _, values = _yearly(_equity(x), _dates(returns))
    return _NAN if values.size == 0 else float(values.min())


def bps(sharpe: float, cagr: float, win_rate_days: float, max_dd: float) -> float:
    """Balanced performance score: ``0.4 Sharpe + 0.3 CAGR + 0.2 WinRate(days) - 0.1 |MaxDD|``.

    Parameters
    ----------
    sharpe : float
        Annualised Sharpe ratio.
    cagr, win_rate_days, max_dd : float
        As fractions, not percent (0.12 for 12 %); the sign of ``max_dd`` does not matter.

    Returns
    -------
    float
        NaN if any input is NaN.
    """
    return _bps(float(sharpe), float(cagr), float(win_rate_days), float(max_dd))


# ----------------------------------------------------------------------------------------------------
# the labelled table
# ----------------------------------------------------------------------------------------------------

_RESERVED = ("strategy", "benchmark", "definition")


def _table(
    x: np.ndarray,
    index: pd.DatetimeIndex,
    days: float,
    rf_daily: np.ndarray | float,
    *,
    codes: np.ndarray | None,
    invested: np.ndarray | None,
    trades: float | None,
    lev: np.ndarray | None,
) -> dict[str, float]:
    """All figures of one return array; codes/invested/lev cover the same rows."""
    equity = _equity(x)
    dd = _drawdowns(equity)
    growth = _growth(equity)
    out: dict[str, float] = {}
    out["Days"] = float(x.size)
    out["Years"] = days / CALENDAR_YEAR if days > 0 else _NAN
    out["Total return"] = _total_return(growth)
    growth_rate = _cagr(growth, days)
    out["CAGR"] = growth_rate
    out["Volatility"] = _volatility(x)
    excess = x - rf_daily
    sharpe = _sharpe(excess)
    out["Sharpe ratio"] = sharpe
    out["Sortino ratio"] = _sortino(excess)
    mdd = _max_drawdown(dd)
    out["Max drawdown"] = mdd
    out["Calmar ratio"] = _calmar(growth_rate, mdd)
    out["Ulcer index (%)"] = _ulcer(dd)
    win_days = _win_rate_days(x)
    out["Win rate (days)"] = win_days
    if codes is not None and invested is not None:
        out["Win rate (spells)"] = _win_rate_spells(x, codes, invested)
    if trades is not None:
        out["Trades"] = float(trades)
        out["Turnover (trades/yr)"] = _turnover(trades, days)
    if invested is not None:
        out["Exposure"] = _exposure(invested)
    if lev is not None:
        out["Average leverage"] = _mean(lev)
    _, yearly = _yearly(equity, index)
    out["Best year"] = _NAN if yearly.size == 0 else float(yearly.max())
    out["Worst year"] = _NAN if yearly.size == 0 else float(yearly.min())
    out["BPS"] = _bps(sharpe, growth_rate, win_days, mdd)
    return out


def _switch_count(switches: object) -> float:
    try:
        trades = float(switches)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"switches must be a number >= 0, got {switches!r}") from None
    if not trades >= 0:
        raise ParameterError(f"switches must be a number >= 0, got {switches!r}")
    return trades


def _benchmark_figures(
    series: object, name: str, index: pd.DatetimeIndex, days: float, rf_daily: np.ndarray | float,
    labels: list[str],
) -> np.ndarray:
    """One benchmark's figures on exactly the strategy's dates (NaN, with a warning, where it has none)."""
    checked = _check_series(series, name, dates=True)
    b = _on_dates(checked, index)
    missing = int(np.isnan(b).sum())
    if missing:
        warnings.warn(
            f"{name} has no return on {missing} of the strategy's {b.size} return days; its figures are NaN",
            DataQualityWarning,
            stacklevel=4,
        )
    figures = _table(b, index, days, rf_daily, codes=None, invested=None, trades=None, lev=None)
    return np.array([figures.get(label, _NAN) for label in labels])


def metrics_table(
    returns: pd.Series,
    *,
    start: object = None,
    rf: float | pd.Series | None = None,
    holdings: pd.Series | None = None,
    switches: int | None = None,
    leverage: pd.Series | None = None,
    benchmark: pd.Series | None = None,
    benchmarks: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Every SPEC section 5 metric of a daily return series, labelled with its definition.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple net returns of the strategy with a sorted DatetimeIndex, **every row a return**
        (``prices.pct_change().dropna()``; see the module docstring). For prices or equity use
        :func:`metrics_from_prices`; for a backtest's returns with their start row,
        :func:`metrics_after_start`.
    start : date, optional
        The start point: the date of the close the first return is measured from (CAGR, Calmar,
        turnover and "Years" count calendar days from it). Default: the weekday before the first
        return's date.
    rf : None, float or pandas.Series, optional
        Risk-free rate for Sharpe and Sortino: None = 0, float = annual rate (fraction, used as
        ``rf / 252`` a day), Series = daily risk-free returns covering every date of ``returns``.
    holdings : pandas.Series, optional
        Asset held on each date ("CASH" for cash), with exactly the dates of ``returns``. Adds
        "Win rate (spells)", "Exposure" and (unless ``switches`` is given) "Trades" (its
        :func:`count_switches`) and "Turnover".
    switches : int, optional
        Number of switches (e.g. ``BacktestResult.switches``); wins over the count from ``holdings``.
    leverage : pandas.Series, optional
        Daily leverage with exactly the dates of ``returns``; adds "Average leverage".
    benchmark : pandas.Series, optional
        Daily simple returns of a benchmark (e.g. buy-and-hold SPY) by date, possibly longer than the
        strategy. It is aligned on the strategy's dates, so both columns measure exactly the same days and
        the same start point. Missing benchmark dates make its figures NaN, with a
        :class:`~xlsector.errors.DataQualityWarning`. Holdings-based rows are NaN for a benchmark.
    benchmarks : mapping of label -> pandas.Series, optional
        More benchmarks, each a column named by its label after ``benchmark`` (the same rules); the
        labels must not be "strategy", "benchmark" or "definition".

    Returns
    -------
    pandas.DataFrame
        Index: metric labels (the keys of :data:`DEFINITIONS`, in that order, only those that apply).
        Columns: ``strategy`` (float), ``benchmark`` (float, only if a benchmark is given), one column
        per entry of ``benchmarks``, and ``definition`` (str). Fractions, not percent, except
        "Ulcer index (%)".
    """
    _check_series(returns, "returns", dates=True)
    index = _dates(returns)
    x = _floats(returns, "returns")
    days = _calendar_days(index, start)
    rf_daily = _daily_rf(rf, returns)

    codes = invested = None
    trades: float | None = None
    if holdings is not None:
        codes, invested = _holding_codes(_aligned(holdings, index, "holdings"))
        trades = _switches(codes, invested)
    if switches is not None:
        trades = _switch_count(switches)
    lev = None
    if leverage is not None:
        lev = _floats(_aligned(leverage, index, "leverage"), "leverage")

    strategy = _table(x, index, days, rf_daily, codes=codes, invested=invested, trades=trades, lev=lev)
    labels = list(strategy)
    columns: dict[str, object] = {"strategy": np.fromiter(strategy.values(), float, len(labels))}
    if benchmark is not None:
        columns["benchmark"] = _benchmark_figures(benchmark, "benchmark", index, days, rf_daily, labels)
    for label, series in (benchmarks or {}).items():
        if not isinstance(label, str) or label in _RESERVED or label in columns:
            raise ParameterError(
                f"benchmarks labels must be texts other than {', '.join(_RESERVED)} and unique, got {label!r}"
            )
        columns[label] = _benchmark_figures(series, label, index, days, rf_daily, labels)
    columns["definition"] = [DEFINITIONS[label] for label in labels]
    return pd.DataFrame(columns, index=pd.Index(labels, name="metric"))


def metrics_after_start(
    returns: pd.Series,
    *,
    rf: float | pd.Series | None = None,
    holdings: pd.Series | None = None,
    switches: int | None = None,
    leverage: pd.Series | None = None,
    benchmark: pd.Series | None = None,
    benchmarks: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """:func:`metrics_table` of returns whose **first row is the start point** (``BacktestResult.returns``).

    The first date is the start point (V = 1 at its close); its return value is not used, and neither
    are the first values of ``holdings`` and ``leverage`` (same dates as ``returns``), except that the
    "Trades" counted from ``holdings`` (when ``switches`` is not given) include a change of holding
    from the start date to the first return day. This is the convention of xlsector's backtest results
    and of the deprecated ``xlsector.metrics``.
    """
    series = _check_series(returns, "returns", dates=True)
    start = series.index[0] if len(series) else None
    if holdings is not None:
        held = _aligned(holdings, series.index, "holdings")
        if switches is None:
            switches = count_switches(held)
        holdings = held.iloc[1:]
    if leverage is not None:
        leverage = _aligned(leverage, series.index, "leverage").iloc[1:]
    return metrics_table(series.iloc[1:], start=start, rf=rf, holdings=holdings, switches=switches,
                         leverage=leverage, benchmark=benchmark, benchmarks=benchmarks)


def metrics_from_prices(
    prices: pd.Series,
    *,
    rf: float | pd.Series | None = None,
    holdings: pd.Series | None = None,
    switches: int | None = None,
    leverage: pd.Series | None = None,
    benchmark: pd.Series | None = None,
    benchmarks: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """:func:`metrics_table` of a price or equity series: its first date is the start point.

    The returns are ``prices[t] / prices[t-1] - 1`` on every later date; ``holdings`` and ``leverage``
    (if given) have the prices' dates, as in :func:`metrics_after_start`. ``benchmark`` and
    ``benchmarks`` are *returns* by date, as for :func:`metrics_table`. Prices must be positive numbers
    (a NaN or a price <= 0 makes the figures NaN).
    """
    series = _check_series(prices, "prices", dates=True)
    values = _floats(series, "prices")
    out = np.zeros(values.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = np.where((values[1:] > 0) & (values[:-1] > 0), values[1:] / values[:-1] - 1.0, np.nan)
    if values.size and not values[0] > 0:
        out[1:] = np.nan
    returns = pd.Series(out, index=series.index, name=series.name)
    return metrics_after_start(returns, rf=rf, holdings=holdings, switches=switches, leverage=leverage,
                               benchmark=benchmark, benchmarks=benchmarks)
