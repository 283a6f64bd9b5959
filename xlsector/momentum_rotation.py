"""Momentum rotation (SPEC §3): top-k funds by N-day total return, with leverage rules and a trend filter.

The model, day by day (all vectorised over days and funds):

1. **Signal** on day d, using prices through d's close only: ``momentum = P(d) / P(d - lookback) - 1``
   (``lookback`` market days, total return from adjusted closes). A fund without a price on d or on
   d - lookback has no signal and cannot be picked.
2. **Pick** on decision days (``rebalance``: "daily", "week" = last market day of the week, "month" = last
   market day of the month; the definitions of :func:`xlsector.rotation.decision_days`): the ``top_k``
   funds with the largest momentum, equal weight ``1 / m`` each, ``m = min(top_k, funds with a signal)``
   (ties: the fund listed first wins). Between decision days the target weights stay fixed (the small
   drift of top-k > 1 portfolios between rebalances is ignored: weights are constant-mix).
3. **Trend filter** (optional, ``ma_filter = N``): invested only if the benchmark's close on d is above
   its N-day simple moving average on d (mean of the closes d-N+1..d); otherwise all cash. Checked on
   decision days.
4. **Leverage** set on decision days from the VIX close on d: ``"fixed"``: ``leverage``; ``"vix_bands"``:
   ``leverage × multiplier`` of the first band whose threshold exceeds the VIX (a table given as data,
   ``[(15, 1.2), (20, 1.0), (30, 0.8), (inf, 0.6)]`` by default: VIX < 15 → ×1.2 ...); ``"vix_formula"``:
   ``leverage × 30 / max(VIX, 15)``. The result is clipped to ``[leverage_min, leverage_max]``.
5. **Execution**: a decision on day d's close is traded at day d + delay's close and earns returns from
   day d + delay + 1 (``delay`` 0 or 1, as in the trend backtest).
6. **Returns** of day t: ``Σ_j w_j(t)·r_j(t)`` with exposures ``w`` (weights × leverage × filter), plus
   ``(1 - Σw)·cash_rate/252`` on the uninvested part when Σw < 1, minus ``(Σw - 1)·borrow_rate/252``
   when Σw > 1 (borrowing above 1× leverage). Costs: ``(slippage_bp + commission_bp)/10⁴`` times the
   traded value — the larger of total buys and total sells of the exposure change (so a full switch
   A → B, or an entry from cash, costs one unit, as in the trend backtest) — charged on the first day
   of the new exposure: ``r_net = (1 + r)(1 - c·traded) - 1``. A day whose net return is -100% or worse
   (possible only with leverage above 1) ruins the account: that day's return is -100% and every later one 0
   (equity 0 from then on, never negative).

The backtest period starts on the close at which the first position could be entered (first decision
day with a signal, plus ``delay``); that first date is the start point of :mod:`xlsector.measures`
(return 0, equity 1). ``start``/``end`` restrict the reported period; data before ``start`` still warms
up the signals, data after ``end`` is not used at all.

Parameters come as one :class:`~xlsector.params.MomentumStrategy` (validated once, on construction),
given whole (``strategy=``) or as its keywords; side series (benchmark, VIX) are put on the price dates
by :func:`xlsector.sides.on_price_dates`; the benchmark's returns are
:func:`xlsector.sides.buy_and_hold_returns`; switches are :func:`xlsector.measures.count_switches`.
Each step above is one small function below, on arrays of days × funds.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import DataError, DataQualityWarning, ParameterError
from xlsector.measures import CASH, DAYS_PER_YEAR, count_switches
from xlsector.params import DEFAULT_VIX_BANDS, LEVERAGE_RULES, MOMENTUM_REBALANCE, SCHEDULES, MomentumStrategy
from xlsector.rotation import decision_days
from xlsector.sides import buy_and_hold_returns, on_price_dates
from xlsector.trend import momentum_array, price_array

__all__ = [
    "DEFAULT_VIX_BANDS",
    "LEVERAGE_RULES",
    "REBALANCE",
    "MomentumResult",
    "MomentumStrategy",
    "run_momentum_backtest",
]

#: Accepted ``rebalance`` words -> the schedule (the aliases of :class:`~xlsector.params.MomentumStrategy`).
REBALANCE: dict[str, str] = {**{s: s for s in SCHEDULES}, **MOMENTUM_REBALANCE}


@dataclass(frozen=True)
class MomentumResult:
    """Result of :func:`run_momentum_backtest` over its period (first date = start point, return 0).

    Attributes
    ----------
    returns : Series of net daily returns. equity : Series, 1.0 on the first date.
    weights : DataFrame (dates × funds) of the exposures earning each day's return (leverage included).
    holdings : Series of the held funds per day ("XLK", "XLK+XLE" for top-k, "CASH").
    leverage : Series of the total exposure Σw per day (0 in cash).
    invested : bool Series, Σw > 0.
    trades : DataFrame (date, from, to, traded) of the days the held set of funds changes (the initial
        buy included).
    switches : changes of the held set of funds after the initial buy
        (:func:`xlsector.measures.count_switches` of ``holdings``).
    exposure : share of return days invested. average_leverage : mean Σw over the invested return days.
    benchmark_returns : daily returns of the benchmark (buy and hold) over the same dates, or None; NaN
        where it has no price (:func:`xlsector.sides.buy_and_hold_returns`).
    strategy : the parameters used. params : the same as a dict, with ``funds`` and ``benchmark``.
    """

    returns: pd.Series
    equity: pd.Series
    weights: pd.DataFrame
    holdings: pd.Series
    leverage: pd.Series
    invested: pd.Series
    trades: pd.DataFrame
    switches: int
    exposure: float
    average_leverage: float
    benchmark_returns: pd.Series | None
    strategy: MomentumStrategy = field(default_factory=MomentumStrategy)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First date (start point) and last date of the backtest."""
        return self.returns.index[0], self.returns.index[-1]

    def metrics(self, *, rf: float | pd.Series | None = None) -> pd.DataFrame:
        """SPEC §5 metrics table (labelled, with definitions), with the benchmark over the same days.

        "Average leverage" here is the mean over *all* return days (0 in cash), as :mod:`xlsector.measures`
        defines it; :attr:`average_leverage` is the mean over the invested days.
        """
        from xlsector.measures import metrics_after_start

        return metrics_after_start(
            self.returns,
            rf=rf,
            holdings=self.holdings,
            switches=self.switches,
            leverage=self.leverage,
            benchmark=self.benchmark_returns,
        )


@dataclass(frozen=True)
class MomentumData:
    """The validated inputs on the price dates through ``end``: arrays of days (× funds)."""

    dates: pd.DatetimeIndex
    funds: list[str]
    prices: np.ndarray  # days × funds, NaN where a fund has no price
    benchmark: np.ndarray | None  # benchmark closes
    vix: np.ndarray | None  # VIX closes
    benchmark_name: str | None  # the column, "series" for a Series, None


# ---------------------------------------------------------------------------------------- inputs


def _strategy(strategy: MomentumStrategy | None, params: dict[str, Any]) -> MomentumStrategy:
    if strategy is None:
        return MomentumStrategy.from_kwargs(**params)
    if not isinstance(strategy, MomentumStrategy):
        raise ParameterError(f"strategy must be a MomentumStrategy, got {type(strategy).__name__}")
    return strategy.replace(**params) if params else strategy


def _fund_columns(prices: pd.DataFrame, funds: Any, excluded: set[Any]) -> list[str]:
    names = [c for c in prices.columns if c not in excluded] if funds is None else list(funds)
    if not names:
        raise ParameterError("funds must name at least one column of the prices, got none")
    missing = [f for f in names if f not in prices.columns]
    if missing:
        raise ParameterError(
            f"fund {missing[0]!r} is not a column of the prices; columns: {', '.join(map(str, prices.columns))}"
        )
    return names


def _side(prices: pd.DataFrame, value: str | pd.Series | None, name: str, dates: pd.Index) -> pd.Series | None:
    """A side series given as a column of ``prices`` or as a Series, on the price dates."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in prices.columns:
            raise ParameterError(
                f"{name} {value!r} is not a column of the prices; columns: {', '.join(map(str, prices.columns))}"
            )
        return prices[value].iloc[: len(dates)]
    if isinstance(value, pd.Series):
        return on_price_dates(value, dates, name, stacklevel=5)
    raise ParameterError(f"{name} must be a column name or a pandas Series, got {type(value).__name__}")


def _floats(series: pd.Series | None, name: str) -> np.ndarray | None:
    if series is None:
        return None
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must hold numbers, got dtype {series.dtype}") from None


def _inputs(
    prices: pd.DataFrame,
    funds: Any,
    benchmark: str | pd.Series | None,
    vix: str | pd.Series | None,
    end: str | pd.Timestamp | None,
) -> MomentumData:
    """Check the prices (:func:`xlsector.trend.price_array`), cut them at ``end`` and line up the sides."""
    if not isinstance(prices, pd.DataFrame):
        raise ParameterError(f"prices must be a pandas DataFrame, got {type(prices).__name__}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ParameterError(f"prices must have a DatetimeIndex, got {type(prices.index).__name__}")
    names = _fund_columns(prices, funds, {c for c in (benchmark, vix) if isinstance(c, str)})
    values = price_array(prices[names])
    rows = len(prices) if end is None else int(prices.index.searchsorted(pd.Timestamp(end), side="right"))
    if rows < 2:
        raise DataError(f"prices must have at least 2 dates, got {rows}")
    dates = prices.index[:rows]
    bench = _side(prices, benchmark, "benchmark", dates)
    return MomentumData(
        dates=dates,
        funds=names,
        prices=values[:rows],
        benchmark=None if bench is None else price_array(bench, "benchmark")[:, 0],
        vix=_floats(_side(prices, vix, "vix", dates), "vix"),
        benchmark_name=benchmark if isinstance(benchmark, str) or benchmark is None else "series",
    )


def _check_needs(data: MomentumData, strategy: MomentumStrategy) -> None:
    if strategy.ma_filter is not None and data.benchmark is None:
        raise ParameterError("ma_filter needs a benchmark (column name or Series) to filter on")
    if strategy.leverage_rule != "fixed" and data.vix is None:
        raise ParameterError(
            f"leverage_rule {strategy.leverage_rule!r} needs VIX closes: give vix (column name or Series)"
        )


# ---------------------------------------------------------------------------------------- stages


def _signals(prices: np.ndarray, lookback: int) -> np.ndarray:
    """1. Momentum of each fund on each day from prices through that day (NaN: no signal)."""
    return momentum_array(prices, lookback)


def _targets(signals: np.ndarray, top_k: int) -> np.ndarray:
    """2. Equal weights ``1/m`` on the ``top_k`` funds with the largest signal, ``m = min(top_k, funds
    with a signal)`` (ties: the fund listed first); all 0 on a day without any signal."""
    has_signal = np.isfinite(signals)
    order = np.argsort(-np.where(has_signal, signals, -np.inf), axis=1, kind="stable")
    m = np.minimum(has_signal.sum(axis=1), top_k)
    target = np.zeros(signals.shape)
    rows = np.arange(len(signals))
    for slot in range(min(top_k, signals.shape[1])):
        take = slot < m
        target[rows[take], order[take, slot]] = 1.0
    return np.where(m[:, None] > 0, target / np.maximum(m, 1)[:, None], 0.0)


def _filter(benchmark: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """3. The trend filter: (close above its ``days``-day simple moving average, filter known) per day."""
    sma = pd.Series(benchmark).rolling(days, min_periods=days).mean().to_numpy()
    known = np.isfinite(sma) & np.isfinite(benchmark)
    return known & (benchmark > np.where(known, sma, 0.0)), known


def _vix_multiplier(vix: np.ndarray, strategy: MomentumStrategy) -> np.ndarray:
    """The VIX rules' factor on the base leverage (a NaN VIX gives a finite placeholder)."""
    if strategy.leverage_rule == "vix_bands":
        thresholds = np.array([t for t, _ in strategy.vix_bands])
        multipliers = np.array([m for _, m in strategy.vix_bands])
        band = np.searchsorted(thresholds, np.where(np.isfinite(vix), vix, 0.0), side="right")
        return multipliers[np.minimum(band, len(multipliers) - 1)]
    return 30.0 / np.maximum(np.where(np.isfinite(vix), vix, 15.0), 15.0)


def _leverage(vix: np.ndarray | None, strategy: MomentumStrategy, days: int) -> tuple[np.ndarray, np.ndarray]:
    """4. (Leverage decided on each day, clipped to [leverage_min, leverage_max]; leverage known)."""
    if strategy.leverage_rule == "fixed" or vix is None:
        lev, known = np.full(days, strategy.leverage), np.ones(days, bool)
    else:
        lev, known = strategy.leverage * _vix_multiplier(vix, strategy), np.isfinite(vix)
    return np.clip(lev, strategy.leverage_min, strategy.leverage_cap), known


def _decide(target: np.ndarray, decide: np.ndarray) -> np.ndarray:
    """The exposures decided at each close: the target of the latest decision day (0 before the first)."""
    last = np.maximum.accumulate(np.where(decide, np.arange(len(decide)), -1))
    return np.where(last[:, None] >= 0, target[np.maximum(last, 0)], 0.0)


def _execute(decided: np.ndarray, delay: int) -> np.ndarray:
    """5. The exposures earning each day's return: decided at close d, traded at d + delay's close."""
    lag = delay + 1
    held = np.zeros_like(decided)
    held[lag:] = decided[:-lag]
    return held


def _exposures(data: MomentumData, strategy: MomentumStrategy) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-5: (the exposures held each day, the decision days that had everything they needed)."""
    signals = _signals(data.prices, strategy.lookback)
    target = _targets(signals, strategy.top_k)
    ready = np.isfinite(signals).any(axis=1)
    if strategy.ma_filter is not None and data.benchmark is not None:
        bull, known = _filter(data.benchmark, strategy.ma_filter)
        ready &= known
        target *= bull[:, None]
    lev, known = _leverage(data.vix, strategy, len(data.dates))
    ready &= known
    target *= lev[:, None]
    decide = decision_days(data.dates, strategy.rebalance) & ready
    return _execute(_decide(target, decide), strategy.delay), decide


def _first_day(decide: np.ndarray, data: MomentumData, strategy: MomentumStrategy, start: Any) -> int:
    """Row of the start point: the close of the first trade (or ``start``'s market day, if later)."""
    n = len(data.dates)
    if not decide.any():
        filtered = f", ma_filter {strategy.ma_filter}" if strategy.ma_filter else ""
        raise DataError(
            f"no decision day with a signal: the data ({n} dates) is shorter than the warm-up "
            f"(lookback {strategy.lookback}{filtered})"
        )
    first = int(np.argmax(decide)) + strategy.delay
    if start is not None:
        first = max(first, int(data.dates.searchsorted(pd.Timestamp(start))))
    if first >= n - 1:
        raise DataError(
            f"the backtest period is empty: the first trade is on or after the last date {data.dates[-1]:%Y-%m-%d}"
        )
    return first


def _asset_returns(prices: np.ndarray, held: np.ndarray, first: int, dates: pd.Index) -> np.ndarray:
    """Daily returns of the funds; a held fund without a price earns 0, with a DataQualityWarning."""
    returns = np.zeros_like(prices)
    with np.errstate(invalid="ignore", divide="ignore"):
        returns[1:] = prices[1:] / prices[:-1] - 1.0
    unpriced = (held != 0) & ~np.isfinite(returns)
    if unpriced[first + 1 :].any():
        day = dates[first + 1 + int(np.argmax(unpriced[first + 1 :].any(axis=1)))]
        warnings.warn(
            f"a held fund has no price on {day:%Y-%m-%d} (and possibly later): its return counts as 0",
            DataQualityWarning,
            stacklevel=5,
        )
    return np.where(np.isfinite(returns), returns, 0.0)


def _traded(held: np.ndarray) -> np.ndarray:
    """Value traded into each day after the first: the larger of total buys and total sells."""
    change = np.diff(held, axis=0)
    return np.maximum(np.where(change > 0, change, 0.0).sum(axis=1), -np.where(change < 0, change, 0.0).sum(axis=1))


def _returns(
    data: MomentumData, held: np.ndarray, first: int, strategy: MomentumStrategy
) -> tuple[np.ndarray, np.ndarray]:
    """6. (Net returns of the days from ``first``, 0 on it; value traded into each later day)."""
    asset_returns = _asset_returns(data.prices, held, first, data.dates)
    exposure = held.sum(axis=1)
    gross = (held * asset_returns).sum(axis=1)
    gross += np.maximum(1.0 - exposure, 0.0) * strategy.cash_rate / DAYS_PER_YEAR
    gross -= np.maximum(exposure - 1.0, 0.0) * strategy.borrow_rate / DAYS_PER_YEAR
    traded = _traded(held[first:])
    net = gross[first:].copy()
    net[0] = 0.0
    net[1:] = (1.0 + net[1:]) * (1.0 - strategy.cost * traded) - 1.0
    ruined = np.flatnonzero(~(net > -1.0))  # a loss of all the equity or more (NaN: an overflow of leverage)
    if ruined.size:
        net[ruined[0]] = -1.0
        net[ruined[0] + 1 :] = 0.0
    return net, traded


def _label_holdings(held: np.ndarray, funds: list[str]) -> np.ndarray:
    """The name of each day's held set of funds: "XLK", "XLK+XLE", or CASH."""
    mask = held > 0
    if len(funds) <= 62:  # one integer per day: bit j set when fund j is held
        keys = mask.astype(np.int64) @ (np.int64(1) << np.arange(len(funds), dtype=np.int64))
        _, first_at, codes = np.unique(keys, return_index=True, return_inverse=True)
        patterns = mask[first_at]
    else:
        patterns, codes = np.unique(mask, axis=0, return_inverse=True)
    names = np.array(funds, dtype=object)
    pattern_names = np.array(["+".join(names[row]) if row.any() else CASH for row in patterns], dtype=object)
    return pattern_names[codes.reshape(-1)]


def _trade_table(dates: pd.Index, labels: np.ndarray, traded: np.ndarray) -> pd.DataFrame:
    """The days the held set changes (the initial buy included), with the value traded."""
    days = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    return pd.DataFrame(
        {"date": dates[days], "from": labels[days - 1], "to": labels[days], "traded": traded[days - 1]}
    )


def _result(
    data: MomentumData, held: np.ndarray, first: int, strategy: MomentumStrategy
) -> MomentumResult:
    """7. The result over the days from ``first``: returns, holdings, trades, leverage, benchmark."""
    net, traded = _returns(data, held, first, strategy)
    dates = data.dates[first:]
    held = held[first:]
    total = held.sum(axis=1)
    labels = _label_holdings(held, data.funds)
    holdings = pd.Series(labels, index=dates, name="holdings")
    invested = total > 0
    returns = pd.Series(net, index=dates, name="returns")
    bench = None
    if data.benchmark is not None:
        bench = pd.Series(buy_and_hold_returns(data.benchmark, first), index=dates, name="benchmark")
    return MomentumResult(
        returns=returns,
        equity=(1.0 + returns).cumprod().rename("equity"),
        weights=pd.DataFrame(held, index=dates, columns=data.funds),
        holdings=holdings,
        leverage=pd.Series(total, index=dates, name="leverage"),
        invested=pd.Series(invested, index=dates, name="invested"),
        trades=_trade_table(dates, labels, traded),
        switches=count_switches(holdings),
        exposure=float(invested[1:].mean()) if len(invested) > 1 else math.nan,
        average_leverage=float(total[1:][invested[1:]].mean()) if invested[1:].any() else math.nan,
        benchmark_returns=bench,
        strategy=strategy,
        params={"funds": data.funds, "benchmark": data.benchmark_name, **strategy.to_dict()},
    )


# ---------------------------------------------------------------------------------------- backtest


def run_momentum_backtest(
    prices: pd.DataFrame,
    *,
    funds: list[str] | None = None,
    benchmark: str | pd.Series | None = None,
    vix: str | pd.Series | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    strategy: MomentumStrategy | None = None,
    **params: Any,
) -> MomentumResult:
    """Backtest a momentum rotation (see the module docstring for the exact rules).

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, dates (sorted, unique DatetimeIndex) × tickers; NaN before a ticker starts.
    funds : list of str, optional
        Columns to rotate among; default every column except ``benchmark`` and ``vix``.
    benchmark : str or Series, optional
        Buy-and-hold comparison and the trend filter's input (column name or price Series; a Series is
        put on the price dates by :func:`xlsector.sides.on_price_dates`, with a warning if it differs).
    vix : str or Series, optional
        VIX closes (column name or Series, put on the price dates likewise). Needed by the VIX rules.
    start, end : date, optional
        Reported period; signals warm up on data before ``start``; data after ``end`` is dropped.
    strategy : MomentumStrategy, optional
        All the strategy parameters at once; keywords in ``params`` replace some of them.
    **params
        The :class:`~xlsector.params.MomentumStrategy` parameters by name (unknown names are a
        ParameterError): ``lookback`` (126), ``top_k`` (1), ``rebalance`` ("daily", "week", "month";
        "weekly"/"monthly" accepted), ``delay`` (0 or 1, default 1), ``leverage`` (1.0),
        ``leverage_rule`` ("fixed", "vix_bands", "vix_formula"), ``vix_bands`` (a list of (threshold,
        multiplier) pairs, thresholds increasing; None = the default table), ``leverage_min`` (0),
        ``leverage_max`` (None or infinity = no clip), ``borrow_rate`` and ``cash_rate`` (annual
        fractions), ``ma_filter`` (simple-moving-average length of the benchmark filter; None or 0 = off),
        ``slippage_bp`` (10) and ``commission_bp`` (0).

    Returns
    -------
    MomentumResult
    """
    chosen = _strategy(strategy, params)
    data = _inputs(prices, funds, benchmark, vix, end)
    _check_needs(data, chosen)
    held, decide = _exposures(data, chosen)
    return _result(data, held, _first_day(decide, data, chosen, start), chosen)
