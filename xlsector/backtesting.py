"""Backtest of the one-fund rotation (SPEC §2): prices + strategy parameters → returns, holdings, trades.

Semantics, day by day (``t`` indexes the market days of ``prices``):

1. Trends: every fund's EMA2 (trend constant ``tc``, scale ``k``) is updated with day t's return.
2. Holding: the strategy earns day t's return of the asset it holds; a newly entered holding pays the
   trading cost on its first day: ``r_net = (1 + r)·(1 − cost_bp/10⁴) − 1``.
3. Decision at day t's close: StormGuard's state (if on) may change; on a decision day (the schedule) the
   rotation compares trends: the best eligible fund replaces the target when its trend exceeds the
   target's trend plus the target's remaining hysteresis bonus and the target has been held
   ``min_hold`` days. A new target is held from day ``t + delay + 1``.

Eligibility: a fund may be picked on day t when it has a price on day t and at least ``min_history``
market days of prices before it. Funds that stop trading become ineligible (and earn 0 while still
held). The backtest period starts on the first day on which two funds are eligible (one, for a
one-fund universe): that day has return 0 and equity 1; the first pick is made at its close. Trends
are computed from each fund's own first price, before the period starts too.

Out of market (StormGuard bear state): the best-trending fund of the ``bear`` universe (same rotation
rules), else cash earning ``cash_rate`` (annual, decimal; day t earns the rate known on day t−1 / 252).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from xlsector import _kernels
from xlsector.errors import DataError, ParameterError
from xlsector.limits import MAX_SERIES, describe
from xlsector.measures import CASH, DAYS_PER_YEAR
from xlsector.params import Strategy
from xlsector.rotation import decision_days, month_ends, stormguard_on_dates
from xlsector.sides import buy_and_hold_returns, on_price_dates
from xlsector.trend import MAX_PRICE, ffill, price_array, price_spans, returns_array


@dataclass(frozen=True)
class RotationInputs:
    """Everything a backtest needs, prepared once from pandas objects (reused across trend constants)."""

    dates: pd.Index
    assets: list[str]  # funds, bear funds, then CASH: the rows of setup.returns, then setup.cash
    setup: _kernels.RotationSetup  # the kernel's record
    strategy: Strategy
    benchmark: Callable[[], np.ndarray]  # daily returns of the benchmark over all days, computed on demand
    benchmark_label: str
    cash_returns: np.ndarray
    # StormGuard's indicator on the prices' dates, computed on the whole index series given (None without StormGuard)
    sg_indicator: np.ndarray | None

    @property
    def start(self) -> int:
        return self.setup.start


def prepare(
    prices: pd.DataFrame,
    strategy: Strategy,
    *,
    index: pd.Series | None = None,
    bear: pd.DataFrame | None = None,
    cash_rate: float | pd.Series | None = None,
    benchmark: pd.Series | str | None = None,
) -> RotationInputs:
    """Validate the data and build the kernel's arrays (see the module docstring for the rules)."""
    if isinstance(prices, pd.Series):
        prices = prices.to_frame()
    values, returns, first, last = _fund_arrays(prices, "prices")
    if values.shape[1] == 0:
        raise DataError("prices has no fund columns")
    if values.shape[1] + (0 if bear is None else bear.shape[1]) > MAX_SERIES:
        raise DataError(f"prices and bear funds are more than {describe('MAX_SERIES')}; the rotation picks one "
                        "fund out of a small universe")
    dates = prices.index
    n_bull = values.shape[1]
    names = [str(c) for c in prices.columns]
    if bear is not None:
        _, bear_returns, bear_first, bear_last = _fund_arrays(on_price_dates(bear, dates, "bear", stacklevel=4),
                                                              "bear")
        returns = np.vstack([returns, bear_returns])
        first = np.concatenate([first, bear_first])
        last = np.concatenate([last, bear_last])
        names += [str(c) for c in bear.columns]
    if len(set(names)) != len(names):
        raise DataError("fund names must be unique across prices and bear")
    n_days = len(dates)
    # fund j may be picked on days first[j] + min_history .. last[j]
    opens = np.minimum(first + strategy.min_history, n_days).astype(np.int64)
    closes = np.maximum(last + 1, opens).astype(np.int64)
    start = _first_day_with(min(2, n_bull), opens[:n_bull], closes[:n_bull], n_days)
    if start < 0:
        raise DataError(
            f"prices has too few rows: no day has {min(2, n_bull)} fund(s) with min_history={strategy.min_history} "
            f"days of prices ({len(dates)} rows)"
        )
    cash_returns = _cash_returns(cash_rate, dates)
    sg_mode = strategy.stormguard_mode
    sg_bull = np.ones(len(dates), bool)
    sg_indicator = None
    if sg_mode:
        if index is None:
            raise ParameterError("stormguard needs index= (the S&P 500 price index series)")
        if not isinstance(index, pd.Series):
            raise ParameterError(f"index must be a pandas Series of index levels, got {type(index).__name__}")
        # on the whole index given, then read on the prices' dates: the indicator does not restart at the funds'
        # first date (rotation.stormguard_on_dates)
        sg_indicator, sg_bull = stormguard_on_dates(index, dates, tc=strategy.sg_tc, k=strategy.k,
                                                    shift=strategy.shift)
    bench, label = _benchmark(benchmark, prices, values, start)
    setup = _kernels.RotationSetup(
        returns=returns, cash=cash_returns, opens=opens, closes=closes, n_bull=int(n_bull), k=float(strategy.k),
        hysteresis=float(strategy.hysteresis),
        decision=decision_days(dates, strategy.schedule, strategy.decision_offset),
        month_end=month_ends(dates) if sg_mode == 1 else np.zeros(n_days, bool), sg_bull=sg_bull,
        sg_mode=int(sg_mode), aqr_days=int(strategy.aqr_days), min_hold=int(strategy.min_hold),
        delay=int(strategy.delay), cost=float(strategy.cost), start=int(start),
    )
    return RotationInputs(dates=dates, assets=names + [CASH], setup=setup, strategy=strategy, benchmark=bench,
                          benchmark_label=label, cash_returns=cash_returns, sg_indicator=sg_indicator)


def _first_day_with(need: int, opens: np.ndarray, closes: np.ndarray, n_days: int) -> int:
    """The first day on which ``need`` funds are inside their windows [opens, closes), or -1."""
    # fewer than `need` windows have opened before the need-th opening day; in the common case (no window
    # closed by then) that day is the answer, else count the funds of every day
    day = int(np.partition(opens, need - 1)[need - 1])
    if day >= n_days:
        return -1
    if int(np.count_nonzero((opens <= day) & (day < closes))) >= need:
        return day
    count = np.bincount(opens, minlength=n_days + 1) - np.bincount(closes, minlength=n_days + 1)
    ready = np.cumsum(count[:n_days]) >= need
    return int(np.argmax(ready)) if ready.any() else -1


def _fund_arrays(frame: pd.DataFrame | pd.Series, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prices (days × funds), fund-major daily returns (funds × days, for the kernel) and each fund's first
    and last row with a price, after the checks of :func:`xlsector.trend.price_array`.

    Fast path for the common case, every price present, finite and > 0 on sorted unique dates: two
    reductions prove it, and the returns are one division over the frame's own memory (pandas keeps a
    float frame fund-major, so ``values.T`` is contiguous). Anything else takes the general path, which
    also words the error.
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    values = _clean_values(frame)
    if values is not None:
        n_days, n_funds = values.shape
        prices_t = values.T
        returns = np.empty(prices_t.shape)
        returns[:, 0] = 0.0
        np.divide(prices_t[:, 1:], prices_t[:, :-1], out=returns[:, 1:])
        returns[:, 1:] -= 1.0
        return values, returns, np.zeros(n_funds, np.int64), np.full(n_funds, n_days - 1, np.int64)
    values = price_array(frame, name)
    spans = price_spans(values)
    returns = np.ascontiguousarray(returns_array(values, before=0.0, spans=spans).T)
    return values, returns, spans[0], spans[1]


def _clean_values(frame: pd.DataFrame) -> np.ndarray | None:
    """The frame's prices when they need no more than the fast path (see :func:`_fund_arrays`), else None."""
    index = frame.index
    if isinstance(index, pd.DatetimeIndex) and not (index.is_monotonic_increasing and index.is_unique):
        return None  # pandas caches both flags on the index
    try:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        return None
    if values.size == 0:
        return None
    # minimum and maximum propagate NaN: both finite and the minimum > 0 mean no NaN, no infinity, no
    # price <= 0
    low = np.minimum.reduce(values, axis=None)
    high = np.maximum.reduce(values, axis=None)
    if not (low > 0 and high < MAX_PRICE):
        return None
    return values



def _cash_returns(cash_rate: float | pd.Series | None, dates: pd.Index) -> np.ndarray:
    out = np.zeros(len(dates))
    if cash_rate is None:
        return out
    if isinstance(cash_rate, pd.Series):
        rate = on_price_dates(cash_rate.astype(float), dates, "cash_rate", stacklevel=5).to_numpy()
        rate = np.nan_to_num(rate)
    elif isinstance(cash_rate, (int, float, np.floating)) and not isinstance(cash_rate, bool) \
            and np.isfinite(cash_rate) and -1 < cash_rate < 1:
        rate = np.full(len(dates), float(cash_rate))
    else:
        raise ParameterError(f"cash_rate must be an annual rate as a decimal (0.02 = 2 %) or a Series, got {cash_rate!r}")
    out[1:] = rate[:-1] / DAYS_PER_YEAR  # the rate known at yesterday's close
    return out


def _benchmark(benchmark, prices: pd.DataFrame, values: np.ndarray, start: int):
    """The benchmark's label and a function computing its daily returns on demand (most callers never
    ask): a price Series, a column of ``prices``, or (None) the equal-weight buy-and-hold of the funds
    that have started by the first day of the period (bought at their last price on that day)."""
    if benchmark is None:
        held = ~np.isnan(values[: start + 1]).all(axis=0)  # funds that have started by the first day

        def equal_weight() -> np.ndarray:
            # the fill and the NaN-skipping sum only where a price is missing (the same memory layout
            # either way, so each day's sum adds the funds in the same order)
            chosen = values[:, held]
            gaps = bool(np.isnan(chosen).any())
            filled = ffill(chosen) if gaps else chosen
            growth = filled / filled[start]
            total = (np.nansum(growth, axis=1) if gaps else np.sum(growth, axis=1)) / held.sum()
            out = np.zeros(len(values))
            out[start + 1:] = total[start + 1:] / total[start:-1] - 1.0
            return out

        return equal_weight, f"equal-weight buy-and-hold of {int(held.sum())} funds"
    if isinstance(benchmark, str):
        if benchmark not in prices.columns:
            raise ParameterError(f"benchmark {benchmark!r} is not a column of prices")
        series, label = prices[benchmark], f"buy-and-hold {benchmark}"
    elif isinstance(benchmark, pd.Series):
        series = on_price_dates(benchmark, prices.index, "benchmark", stacklevel=5)
        label = f"buy-and-hold {benchmark.name or 'benchmark'}"
    else:
        raise ParameterError(f"benchmark must be a price Series, a column name or None, got {type(benchmark).__name__}")
    bench_values = price_array(series, "benchmark")
    return (lambda: buy_and_hold_returns(bench_values[:, 0])), label


def run_kernel(inputs: RotationInputs, tcs: np.ndarray, decays: np.ndarray) -> _kernels.RotationPaths:
    return _kernels.rotate(inputs.setup, tcs, decays)


def returns_from_holdings(holdings: np.ndarray, asset_returns: np.ndarray, cost_bp: float) -> np.ndarray:
    """Net daily returns of any holdings path (days, or paths × days) over the same days as ``asset_returns``.

    Day 0 is the start of the period (return 0). On later days the path earns its holding's return; a new
    holding (different from the previous day's) pays ``cost_bp`` on its first day.
    """
    holdings = np.atleast_2d(holdings)
    days = np.arange(holdings.shape[1])
    gross = asset_returns[days[None, :], holdings]
    switched = np.zeros(holdings.shape, bool)
    switched[:, 1:] = holdings[:, 1:] != holdings[:, :-1]
    net = np.where(switched, (1.0 + gross) * (1.0 - cost_bp / 1e4) - 1.0, gross)
    net[:, 0] = 0.0
    return net


@dataclass(frozen=True)
class BacktestResult:
    """One backtest over the period starting on its first eligible day (see :mod:`xlsector.backtesting`).

    All Series share the period's dates. ``returns`` are net daily strategy returns (0 on the first
    day), ``equity`` is 1.0 on the first day, ``holdings`` names the asset earning each day's return
    ("CASH" out of the market or before the first trade executes), ``targets`` the asset decided at each
    day's close (held from ``delay + 1`` days later). ``trades`` lists every executed trade, the initial
    buy included; ``switches`` counts the trades after the initial buy.
    """

    inputs: RotationInputs
    holding_ids: np.ndarray
    net: np.ndarray
    switches: int
    last_targets: np.ndarray  # the kernel's record of the targets decided at the last two closes

    @cached_property
    def target_ids(self) -> np.ndarray:
        """Index into assets of the target decided at each day's close (the holding delay + 1 days later,
        the kernel's record for the last closes)."""
        paths = _kernels.RotationPaths(self.holding_ids[:, None], self.net[:, None], np.array([self.switches]),
                                       self.last_targets[None, :], np.ones(1), np.zeros(1))
        return paths.targets(self.strategy.delay)[:, 0]

    @property
    def strategy(self) -> Strategy:
        return self.inputs.strategy

    @property
    def assets(self) -> list[str]:
        return self.inputs.assets

    @property
    def dates(self) -> pd.Index:
        return self.inputs.dates[self.inputs.start:]

    @property
    def benchmark_label(self) -> str:
        return self.inputs.benchmark_label

    @cached_property
    def returns(self) -> pd.Series:
        return pd.Series(self.net, index=self.dates, name="strategy")

    @cached_property
    def equity(self) -> pd.Series:
        return pd.Series(np.cumprod(1.0 + self.net), index=self.dates, name="equity")

    @cached_property
    def holdings(self) -> pd.Series:
        names = np.asarray(self.assets, dtype=object)
        return pd.Series(names[self.holding_ids], index=self.dates, name="holding")

    @cached_property
    def targets(self) -> pd.Series:
        names = np.asarray(self.assets, dtype=object)
        return pd.Series(names[self.target_ids], index=self.dates, name="target")

    @cached_property
    def trades(self) -> pd.DataFrame:
        """Executed trades: ``date`` is the first day of the new holding (the trade is at the prior close)."""
        ids = self.holding_ids
        at = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        names = np.asarray(self.assets, dtype=object)
        return pd.DataFrame({"date": self.dates[at], "from": names[ids[at - 1]], "to": names[ids[at]]})

    @property
    def exposure(self) -> float:
        """Fraction of the period's days (after the first) invested in a fund rather than cash."""
        invested = self.holding_ids[1:] != len(self.assets) - 1
        return float(invested.mean()) if len(invested) else float("nan")

    @cached_property
    def benchmark_returns(self) -> pd.Series:
        """Daily returns of the buy-and-hold benchmark over the same days (0 on the first day; NaN where
        it has no price, as :func:`xlsector.sides.buy_and_hold_returns` defines)."""
        daily = self.inputs.benchmark()
        return pd.Series(_from_start(daily, self.inputs.start), index=self.dates, name=self.benchmark_label)

    @cached_property
    def cash_returns(self) -> pd.Series:
        """Daily returns of cash over the same days (0 on the first day; all 0 without a cash rate)."""
        return pd.Series(_from_start(self.inputs.cash_returns, self.inputs.start), index=self.dates, name=CASH)

    @cached_property
    def trends(self) -> pd.DataFrame:
        """The EMA2 trend of every fund (bear funds included) at each close of the period, as the rotation
        compares them (each fund's trend starts at 0 on its own first price)."""
        from xlsector.trend import ema_arrays

        setup = self.inputs.setup
        values = ema_arrays(setup.returns.T, self.strategy.tc, setup.k)[1][self.inputs.start:]
        return pd.DataFrame(values, index=self.dates, columns=self.assets[:-1])

    @cached_property
    def hurdle(self) -> pd.Series:
        """What another fund's trend must exceed at each close to replace the target: the target's trend
        plus its remaining hysteresis bonus ``h·exp(−days since the decision that chose it / decay)``;
        NaN while the target is cash."""
        ids = self.target_ids
        chosen = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])  # the close each target run was decided
        since = np.arange(len(ids)) - np.repeat(chosen, np.diff(np.r_[chosen, len(ids)]))
        cash = len(self.assets) - 1
        trend = self.trends.to_numpy()[np.arange(len(ids)), np.minimum(ids, cash - 1)]
        bonus = self.strategy.hysteresis * np.exp(-since / self.strategy.decay_days)
        return pd.Series(np.where(ids == cash, np.nan, trend + bonus), index=self.dates, name="hurdle")

    def metrics(self, *, benchmarks: Mapping[str, pd.Series] | None = None) -> pd.DataFrame:
        """SPEC §5 metrics of the strategy and the benchmark over the same days, each with its definition.

        ``benchmarks``: more labelled benchmark return series, one column each (the fair set of
        :func:`xlsector.benchmarks.fair_benchmarks`, through :func:`xlsector.benchmarks.as_columns`)."""
        from xlsector.measures import metrics_after_start

        rf = self.cash_returns if self.inputs.cash_returns.any() else None
        return metrics_after_start(self.returns, rf=rf, holdings=self.holdings, switches=self.switches,
                                   benchmark=self.benchmark_returns, benchmarks=benchmarks)


def run_backtest(
    prices: pd.DataFrame,
    *,
    index: pd.Series | None = None,
    bear: pd.DataFrame | None = None,
    cash_rate: float | pd.Series | None = None,
    benchmark: pd.Series | str | None = None,
    **strategy: Any,
) -> BacktestResult:
    """Backtest the one-fund rotation on ``prices`` (dates × funds, adjusted closes).

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, dates increasing and unique, NaN before a fund's first price.
    index : Series, optional
        S&P 500 price index (no dividends) for StormGuard.
    bear : DataFrame, optional
        Bear-market universe (e.g. treasuries), held in StormGuard's bear state instead of cash.
    cash_rate : float or Series, optional
        Annual cash rate as a decimal (constant or per day); 0 when omitted.
    benchmark : Series or str, optional
        Buy-and-hold benchmark prices (or a column of ``prices``); default equal-weight buy-and-hold.
    **strategy
        :class:`~xlsector.rotation.Strategy` parameters: ``tc``, ``k``, ``hysteresis``, ``decay``,
        ``schedule``, ``min_hold``, ``delay``, ``cost_bp``, ``min_history``, ``stormguard``, ``shift``,
        ``sg_tc``, ``aqr_days``.
    """
    params = _strategy(strategy)
    inputs = prepare(prices, params, index=index, bear=bear, cash_rate=cash_rate, benchmark=benchmark)
    return result_for(inputs)


def _strategy(values: dict[str, Any]) -> Strategy:
    """``Strategy.from_kwargs(**values)``, remembered for recent sets of values: validating the record
    costs more than a fast backtest's preparation, and a session repeats the same few (a Strategy is
    frozen, so one can serve every call). Keyed by type as well as value (True == 1 but is no tc)."""
    try:
        return _strategy_of(tuple((name, type(value), value) for name, value in sorted(values.items())))
    except TypeError:  # an unhashable value: validate it afresh (and word its error)
        return Strategy.from_kwargs(**values)


@lru_cache(maxsize=64)
def _strategy_of(items: tuple) -> Strategy:
    return Strategy.from_kwargs(**{name: value for name, _, value in items})


def result_for(inputs: RotationInputs) -> BacktestResult:
    """The backtest of ``inputs.strategy`` (one trend constant) on prepared inputs."""
    params = inputs.strategy
    paths = run_kernel(inputs, np.array([params.tc]), np.array([params.decay_days]))
    return BacktestResult(inputs=inputs, holding_ids=paths.holdings[:, 0], net=paths.net[:, 0],
                          switches=int(paths.switches[0]), last_targets=paths.last_targets[0])


def _from_start(daily: np.ndarray, start: int) -> np.ndarray:
    out = daily[start:].copy()
    out[0] = 0.0
    return out


@dataclass(frozen=True)
class GridResult:
    """Backtests of the same strategy for many trend constants (rows), over the same period (columns).

    ``holdings`` and ``returns`` are views of the kernel's day-major arrays (``paths``), transposed: row m
    is tcs[m] but the memory runs day by day, so a loop over days reads it contiguously.
    """

    tcs: np.ndarray
    dates: pd.Index
    assets: list[str]
    paths: _kernels.RotationPaths  # the kernel's output, day-major (days × tcs)
    setup: _kernels.RotationSetup  # the kernel's input
    decision: np.ndarray  # n_days: rotation decision days
    cost: float  # fraction of the traded value per trade
    strategy: Strategy
    benchmark_daily: Callable[[], np.ndarray]
    benchmark_label: str
    start: int  # row of the first day of the period in the input prices

    @property
    def holdings(self) -> np.ndarray:
        """n_tcs × n_days, index into assets: the asset earning each day's return."""
        return self.paths.holdings.T

    @property
    def returns(self) -> np.ndarray:
        """n_tcs × n_days net daily returns (0 on the first day)."""
        return self.paths.net.T

    @property
    def switches(self) -> np.ndarray:
        """n_tcs: trades after the initial buy."""
        return self.paths.switches

    @cached_property
    def asset_returns(self) -> np.ndarray:
        """n_days × n_assets: each asset's daily returns over the period (0 on the first day)."""
        out = _kernels.asset_returns(self.setup, self.start)
        out[0] = 0.0
        return out

    @cached_property
    def targets(self) -> np.ndarray:
        """n_tcs × n_days, index into assets: the asset decided at each day's close."""
        return self.paths.targets(self.strategy.delay).T

    @cached_property
    def benchmark_returns(self) -> np.ndarray:
        """Daily returns of the buy-and-hold benchmark over the period (0 on the first day)."""
        return _from_start(self.benchmark_daily(), self.start)


def run_backtest_grid(
    prices: pd.DataFrame,
    tcs: Iterable[float] = range(2, 201),
    *,
    index: pd.Series | None = None,
    bear: pd.DataFrame | None = None,
    cash_rate: float | pd.Series | None = None,
    benchmark: pd.Series | str | None = None,
    **strategy: Any,
) -> GridResult:
    """Run :func:`backtest` for every trend constant in ``tcs`` at once (one compiled pass).

    ``strategy`` must not contain ``tc``; ``decay`` (None = each run's own tc) applies to every run.
    Row m of every output equals ``run_backtest(prices, tc=tcs[m], ...)`` exactly.
    """
    grid = GridSetup.prepare(prices, tcs, index=index, bear=bear, cash_rate=cash_rate, benchmark=benchmark,
                             **strategy)
    return grid.run()


@dataclass(frozen=True)
class GridSetup:
    """A grid run, validated and prepared but not run yet: :func:`xlsector.tuning.fwpt` needs the period's
    dates to place the born-on day before the kernel runs, so that the kernel can walk FWPT on the fly."""

    inputs: RotationInputs
    tcs: np.ndarray
    decays: np.ndarray

    @classmethod
    def prepare(cls, prices: pd.DataFrame, tcs: Iterable[float], **kwargs: Any) -> GridSetup:
        side = {name: kwargs.pop(name, None) for name in ("index", "bear", "cash_rate", "benchmark")}
        if "tc" in kwargs:
            raise ParameterError("run_backtest_grid takes tcs=, not tc=")
        grid = np.asarray(list(tcs), dtype=float)
        if grid.ndim != 1 or grid.size == 0:
            raise ParameterError("tcs must be a non-empty list of trend constants")
        base = Strategy.from_kwargs(tc=grid[0], **kwargs)
        bad = ~(np.isfinite(grid) & (grid >= 1))
        if bad.any():
            raise ParameterError(f"tcs must all be numbers >= 1 (market days), got {grid[np.argmax(bad)]!r}")
        inputs = prepare(prices, base, **side)
        decays = grid if base.decay is None else np.full(grid.size, base.decay)
        return cls(inputs, grid, decays)

    @property
    def dates(self) -> pd.Index:
        """The period's dates (from the first eligible day)."""
        return self.inputs.dates[self.inputs.start:]

    def run(self, walk: _kernels.Walk = _kernels.NO_WALK) -> GridResult:
        inputs = self.inputs
        paths = _kernels.rotate(inputs.setup, self.tcs, self.decays, walk)
        s = inputs.start
        return GridResult(
            tcs=self.tcs, dates=inputs.dates[s:], assets=inputs.assets, paths=paths, setup=inputs.setup,
            decision=inputs.setup.decision[s:], cost=inputs.strategy.cost, strategy=inputs.strategy,
            benchmark_daily=inputs.benchmark, benchmark_label=inputs.benchmark_label, start=s,
        )
