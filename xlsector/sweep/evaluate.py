"""One combination of funds, evaluated as the sweep reports it: what a worker runs.

For each combination: the rotation over the tc grid once (:func:`xlsector.backtesting.run_backtest_grid`),
then on that grid the trend chart (in sample: peak and plateau over the whole period) and FWPT (out of
sample: the walk-forward after the born-on date, with the in-sample best tc over the same days beside it).
These are exactly the figures of ``trend_chart(prices[funds], ...)`` and ``fwpt(prices[funds], ...)`` run
alone: the tests check it to 1e-12.

The out-of-sample holdings are kept run-length encoded (``"0:XLK 153:CASH 170:XLE"``: the day offset from
the born-on date and the asset held from then on), a few hundred bytes that give back the walk-forward's
daily returns exactly (:func:`returns_from_runs`): the PBO matrix is rebuilt from them at the end instead of
storing every daily return of every combination.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from xlsector.sweep.plan import Combination, SweepSpec

__all__ = [
    "BatchResult",
    "SweepData",
    "SweepRow",
    "Walked",
    "evaluate",
    "evaluate_batch",
    "make_row",
    "per_day_sharpe",
    "returns_from_runs",
    "row_fields",
]



@dataclass(frozen=True)
class SweepData:
    """What every task reads: broadcast to the workers once (``Client.scatter(..., broadcast=True)``)."""

    prices: pd.DataFrame  # the candidate funds' adjusted closes (dates x funds)
    index: pd.Series | None  # StormGuard's index, None when StormGuard is off
    bear: pd.DataFrame | None
    benchmark: pd.Series | None  # None: each combination's equal-weight buy-and-hold
    strategy: dict[str, Any]  # Strategy parameters other than tc
    tcs: tuple[float, ...]
    born_on: Any  # date or None
    retune_days: int
    defer: bool
    plateau: float
    shared: bool = True  # with numba: a batch runs on the shared-trend kernel (xlsector.sweep.shared)

    @classmethod
    def from_spec(cls, prices: pd.DataFrame, spec: SweepSpec) -> SweepData:
        stormguard = spec.strategy.get("stormguard") not in (None, "off")
        return cls(
            prices=prices[list(spec.funds)],
            index=prices[spec.index] if spec.index and stormguard else None,
            bear=prices[list(spec.bear)] if spec.bear else None,
            benchmark=prices[spec.benchmark] if spec.benchmark else None,
            strategy=dict(spec.strategy),
            tcs=spec.tcs,
            born_on=spec.tuning.born_on,
            retune_days=spec.tuning.retune_days,
            defer=spec.tuning.defer,
            plateau=spec.tuning.plateau,
        )

    def side_kwargs(self) -> dict[str, Any]:
        """The core's keyword arguments besides the strategy parameters (index, bear, benchmark)."""
        return {"index": self.index, "bear": self.bear, "benchmark": self.benchmark}


@dataclass(frozen=True)
class SweepRow:
    """The sweep's figures of one combination (one row of the results table).

    In sample (trend chart over the whole backtest period): ``peak_tc``, ``plateau_lo``..``plateau_hi``
    (``plateau_count`` tcs), ``peak_on_edge``, ``peak_cagr``. Out of sample (FWPT after ``born_on``, through
    ``oos_end``, ``oos_days`` return days): ``oos_cagr``, ``oos_sharpe`` (annualised, rf 0),
    ``oos_max_drawdown``, ``oos_trades`` (changes of holding), ``current_tc`` (in force after the last close),
    ``tunings`` (every tuning of the walk: the first, each retune, each re-try of a deferred one),
    ``adopted`` (retunes that changed the tc). The in-sample best tc (hindsight, whole period) over the same
    out-of-sample days: ``is_tc``, ``is_cagr``, ``is_sharpe``, ``is_max_drawdown``, ``is_trades``; the
    benchmark over them: ``bench_cagr``, ``bench_sharpe``. ``sr``: the per-day Sharpe ratio of the walk-forward's
    returns (``mean / std(ddof=1)``, as :func:`xlsector.overfitting.sharpe_stats`), for the DSR's variance of the
    trials' Sharpe ratios. ``holdings`` and
    ``tc_path``: the walk-forward's holdings and the tc whose path gives each day's holding, run-length
    encoded (see the module docstring).
    """

    id: int
    funds: str
    k: int
    peak_tc: float
    plateau_lo: float
    plateau_hi: float
    plateau_count: int
    peak_on_edge: bool
    peak_cagr: float
    born_on: str
    oos_end: str
    oos_days: int
    oos_cagr: float
    oos_sharpe: float
    oos_max_drawdown: float
    oos_trades: int
    current_tc: float
    tunings: int
    adopted: int
    is_tc: float
    is_cagr: float
    is_sharpe: float
    is_max_drawdown: float
    is_trades: int
    bench_cagr: float
    bench_sharpe: float
    sr: float
    holdings: str
    tc_path: str

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def row_fields() -> list[tuple[str, type]]:
    """(name, Python type) of every :class:`SweepRow` field, in order (the store's columns)."""
    kinds = {"int": int, "float": float, "str": str, "bool": bool}
    return [(f.name, kinds[str(f.type)]) for f in fields(SweepRow)]


@dataclass(frozen=True)
class BatchResult:
    """What one task returns: its rows and where and how long it ran (for the benchmark and the logs)."""

    rows: list[SweepRow]
    seconds: float  # wall time of the batch in the worker
    pid: int
    numba_threads: int


def _runs(values: np.ndarray) -> str:
    """Run-length encoding of a daily path: ``"offset:value"`` at day 0 and at every change."""
    change = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return " ".join(f"{int(i)}:{float(values[i])!r}" if isinstance(values[i], float | np.floating) else
                    f"{int(i)}:{values[i]}" for i in change)


def returns_from_runs(runs: str, asset_returns: pd.DataFrame, cost_bp: float) -> pd.Series:
    """Daily returns of a run-length encoded holdings path over ``asset_returns``'s dates (its first row is
    the start point, return 0), as FWPT stitches them: each day earns its holding's return, and a day whose
    holding differs from the previous day's pays ``cost_bp`` on it: ``(1 + r)(1 - cost) - 1``.

    ``asset_returns``: daily returns by asset name (``CASH`` included), NaN-free.
    """
    n = len(asset_returns)
    starts, names = [], []
    for part in runs.split():
        offset, _, name = part.partition(":")
        starts.append(int(offset))
        names.append(name)
    lengths = np.diff([*starts, n])
    columns = {name: i for i, name in enumerate(asset_returns.columns)}
    held = np.repeat([columns[name] for name in names], lengths)
    values = asset_returns.to_numpy(dtype=float)
    gross = values[np.arange(n), held]
    switched = np.zeros(n, bool)
    switched[1:] = held[1:] != held[:-1]
    net = np.where(switched, (1.0 + gross) * (1.0 - cost_bp / 1e4) - 1.0, gross)
    net[0] = 0.0
    return pd.Series(net, index=asset_returns.index, name="walk_forward")


def _have_numba() -> bool:
    from xlsector import _kernels

    return bool(_kernels.HAVE_NUMBA)


def _kernel_threads() -> int:
    """Threads a grid of trend constants would use in this process (``NUMBA_NUM_THREADS``; 0 without numba).
    The shared-trend kernel runs each task on its own thread whatever this says."""
    from xlsector import _kernels

    return int(getattr(_kernels, "THREADS", 0))


@dataclass(frozen=True)
class Walked:
    """What a row is made of, however it was computed: the trend chart, and FWPT's out-of-sample series (every
    Series on the out-of-sample dates, the first being the born-on day, return 0)."""

    chart: Any  # xlsector.tuning.TrendChart over the whole period
    returns: pd.Series  # the walk-forward's net returns
    holdings: np.ndarray  # the walk-forward's asset names, day by day
    tc_path: np.ndarray  # the tc whose path gives each day's holding
    current_tc: float
    tunings: int  # every tuning event: the first, retunes, re-tries of deferred retunes
    adopted: int
    in_sample_tc: float
    in_sample_returns: pd.Series
    in_sample_holdings: np.ndarray
    benchmark_returns: pd.Series


def make_row(combo_id: int, funds: Combination, walked: Walked) -> SweepRow:
    """The sweep's row from a combination's :class:`Walked` figures."""
    from xlsector.measures import max_drawdown, sharpe_ratio

    chart = walked.chart
    # each series' first row is its start point (return 0): the measures take the returns after it
    oos, ins, bench = walked.returns.iloc[1:], walked.in_sample_returns.iloc[1:], walked.benchmark_returns.iloc[1:]
    start = walked.returns.index[0]

    def cagr(returns: pd.Series) -> float:
        from xlsector.measures import cagr as measure

        return measure(returns, start=start)

    return SweepRow(
        id=int(combo_id),
        funds=",".join(funds),
        k=len(funds),
        peak_tc=float(chart.peak_tc),
        plateau_lo=float(chart.plateau[0]),
        plateau_hi=float(chart.plateau[1]),
        plateau_count=int(chart.plateau_count),
        peak_on_edge=bool(chart.peak_on_edge),
        peak_cagr=float(chart.table["CAGR"].to_numpy()[int(np.argmax(chart.table.index == chart.peak_tc))]),
        born_on=f"{start:%Y-%m-%d}",
        oos_end=f"{oos.index[-1]:%Y-%m-%d}",
        oos_days=len(oos),
        oos_cagr=float(cagr(oos)),
        oos_sharpe=float(sharpe_ratio(oos)),
        oos_max_drawdown=float(max_drawdown(oos)),
        oos_trades=_changes(walked.holdings),
        current_tc=float(walked.current_tc),
        tunings=int(walked.tunings),
        adopted=int(walked.adopted),
        is_tc=float(walked.in_sample_tc),
        is_cagr=float(cagr(ins)),
        is_sharpe=float(sharpe_ratio(ins)),
        is_max_drawdown=float(max_drawdown(ins)),
        is_trades=_changes(walked.in_sample_holdings),
        bench_cagr=float(cagr(bench)),
        bench_sharpe=float(sharpe_ratio(bench)),
        sr=per_day_sharpe(oos.to_numpy()),
        holdings=_runs(walked.holdings),
        tc_path=_runs(np.asarray(walked.tc_path, dtype=float)),
    )


def per_day_sharpe(returns: np.ndarray) -> float:
    """``mean / std(ddof=1)`` of the return days, computed as :func:`xlsector.overfitting.sharpe_stats` does (the
    same numpy calls, so the same bits); NaN for fewer than two returns or a (numerically) constant series."""
    if returns.size < 2 or not np.isfinite(returns).all():
        return math.nan
    mean = float(returns.mean())
    std = float(returns.std(ddof=1))
    if std <= 1e-10 * abs(mean):
        return math.nan
    return mean / std


def _changes(names: np.ndarray) -> int:
    """Days whose holding differs from the previous day's (as :func:`xlsector.measures.count_trades`)."""
    return int(np.count_nonzero(names[1:] != names[:-1]))


def evaluate(data: SweepData, combo_id: int, funds: Combination) -> SweepRow:
    """The sweep's row of one combination through the public functions (run_backtest_grid, trend_chart, fwpt):
    the reference the shared-trend path (:mod:`xlsector.sweep.shared`) is checked against, and the path where
    numba is missing."""
    from xlsector.backtesting import run_backtest_grid
    from xlsector.tuning import fwpt, trend_chart

    prices = data.prices[list(funds)]
    grid = run_backtest_grid(prices, data.tcs, **data.side_kwargs(), **data.strategy)
    chart = trend_chart(prices, grid=grid, plateau=data.plateau)
    walk = fwpt(prices, born_on=data.born_on, retune_days=data.retune_days, defer=data.defer, grid=grid)
    retunes = walk.retunes
    return make_row(combo_id, funds, Walked(
        chart=chart, returns=walk.returns, holdings=walk.holdings.to_numpy(), tc_path=walk.tc.to_numpy(dtype=float),
        current_tc=walk.current_tc, tunings=int(retunes["tries"].sum()),
        adopted=int((retunes["action"] == "adopted").sum()), in_sample_tc=walk.in_sample_tc,
        in_sample_returns=walk.in_sample_returns, in_sample_holdings=walk.in_sample_holdings.to_numpy(),
        benchmark_returns=walk.benchmark_returns,
    ))


def evaluate_batch(data: SweepData, batch: Sequence[tuple[int, Combination]]) -> BatchResult:
    """Evaluate a batch of (id, combination) pairs in this process: one task of the sweep."""
    threads = _kernel_threads()
    start = time.perf_counter()
    if data.shared and _have_numba():
        from xlsector.sweep.shared import evaluate_shared

        rows = evaluate_shared(data, batch)
    else:
        rows = [evaluate(data, combo_id, funds) for combo_id, funds in batch]
    return BatchResult(rows=rows, seconds=time.perf_counter() - start, pid=os.getpid(), numba_threads=threads)
