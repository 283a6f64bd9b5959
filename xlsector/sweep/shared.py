"""A batch of combinations on the shared-trend kernel (:func:`xlsector._kernels.sweep`): every candidate fund's
trend is computed once a day for the whole batch, and each combination runs only its selection loop, with
FWPT walked on the fly. The rows are those of :func:`xlsector.sweep.evaluate.evaluate` (the public functions,
one combination at a time): the tests check it.

The candidates are prepared once per process (:class:`Universe`: the rotation record of every candidate and
bear fund, by :meth:`xlsector.backtesting.GridSetup.prepare`); a combination takes its rows. Each combination
gets what preparing it alone would give: its period (the first day two of its funds may be picked, as
``backtesting.prepare``), FWPT's born-on day (``tuning._born_on``, cached per pattern of first and last
prices: most combinations share one), its benchmark (``backtesting._benchmark``). After the kernel, the
figures are built as :func:`xlsector.tuning.fwpt` and :func:`xlsector.tuning.trend_chart` build them: the trend
chart from each tc's growth, drawdown and switches, the walk-forward from the walked path, the in-sample best
tc's path by one more single-tc run (the twins of the kernel are tested equal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import DataError
from xlsector.sweep.evaluate import SweepData, SweepRow, Walked, make_row
from xlsector.sweep.plan import Combination

__all__ = ["Universe", "evaluate_shared", "universe"]


@dataclass(frozen=True)
class Universe:
    """Every candidate fund, then the bear funds, prepared once as one rotation record."""

    setup: Any  # xlsector._kernels.RotationSetup of every candidate (bull) and bear fund
    inputs: Any  # xlsector.backtesting.RotationInputs of the same
    tcs: np.ndarray
    decays: np.ndarray
    row: dict[str, int]  # candidate fund -> row of setup.returns
    bear_rows: list[int]
    bear_names: list[str]
    values: np.ndarray  # days × candidates: prices (the equal-weight benchmark reads them)
    first: np.ndarray  # candidates: first row with a price
    last: np.ndarray  # candidates: last row with a price
    gaps: np.ndarray  # candidates: a missing price between the two
    born: dict[tuple[Any, ...], int] = field(default_factory=dict)  # cache of FWPT's born-on rows


_UNIVERSES: dict[int, tuple[SweepData, Universe]] = {}


def universe(data: SweepData) -> Universe:
    """The universe of ``data``, prepared once per process (a worker keeps it for every task of the sweep)."""
    found = _UNIVERSES.get(id(data))
    if found is not None and found[0] is data:
        return found[1]
    from xlsector.backtesting import GridSetup
    from xlsector.trend import price_spans

    grid = GridSetup.prepare(data.prices, data.tcs, **data.side_kwargs(), **data.strategy)
    funds = [str(c) for c in data.prices.columns]
    values = data.prices.to_numpy(dtype=np.float64, na_value=np.nan)
    first, last, gaps = price_spans(values)
    bear_names = [] if data.bear is None else [str(c) for c in data.bear.columns]
    made = Universe(setup=grid.inputs.setup, inputs=grid.inputs, tcs=grid.tcs, decays=grid.decays,
                    row={f: i for i, f in enumerate(funds)},
                    bear_rows=list(range(len(funds), grid.inputs.setup.returns.shape[0])), bear_names=bear_names,
                    values=values, first=first, last=last, gaps=gaps)
    _UNIVERSES.clear()  # one sweep at a time per process
    _UNIVERSES[id(data)] = (data, made)
    return made


@dataclass(frozen=True)
class _Alone:
    """What preparing one combination alone gives: its period, assets, benchmark and FWPT's born-on row."""

    funds: Combination
    start: int  # first day of the period (row of the prices)
    dates: pd.Index  # the period's dates
    t0: int  # born-on day (row of the period)
    assets: list[str]
    benchmark: Callable[[], np.ndarray]
    benchmark_label: str


def _prepare(data: SweepData, found: Universe, funds: Combination) -> _Alone:
    from xlsector.backtesting import GridSetup, _benchmark, _first_day_with
    from xlsector.tuning import _born_on

    cols = np.array([found.row[f] for f in funds], np.int64)
    setup = found.setup
    n_days = setup.returns.shape[1]
    start = _first_day_with(min(2, len(cols)), setup.opens[cols], setup.closes[cols], n_days)
    if start < 0:  # too few rows: prepared alone, it says so
        GridSetup.prepare(data.prices[list(funds)], data.tcs, **data.side_kwargs(), **data.strategy)
        raise DataError(f"prices has too few rows for the combination {','.join(funds)}")
    dates = found.inputs.dates[start:]
    key = (tuple(sorted(zip(found.first[cols].tolist(), found.last[cols].tolist()))), start)
    t0 = found.born.get(key) if not found.gaps[cols].any() else None
    if t0 is None:
        t0 = int(_born_on(data.prices[list(funds)], dates, data.born_on)[0])
        if not found.gaps[cols].any():
            found.born[key] = t0
    bench, label = _benchmark(data.benchmark, data.prices, found.values[:, cols], start)
    return _Alone(funds=funds, start=int(start), dates=dates, t0=t0, assets=[*funds, *found.bear_names, "CASH"],
                  benchmark=bench, benchmark_label=label)


def _from_first(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    out[0] = 0.0
    return out


def _walked(data: SweepData, found: Universe, alone: _Alone, setup: Any, paths: Any, b: int) -> Walked:
    """fwpt's and trend_chart's figures of combination b from the sweep kernel's outputs (as those functions
    build them from a grid); ``setup``: the combination's own rotation record."""
    from xlsector import _kernels
    from xlsector.backtesting import GridResult
    from xlsector.tuning import trend_chart

    strategy = found.inputs.strategy
    dates = alone.dates
    n_days = len(dates)
    tcs = found.tcs
    t0 = alone.t0
    lag = strategy.delay + 1
    count = int(paths.n_events[b])
    ev_best, ev_kind = paths.events[b, 1, :count], paths.events[b, 2, :count]
    active = paths.active[b, :n_days]
    governing = np.empty(n_days, np.int64)  # as fwpt: the tc column whose path gives day t's holding
    governing[:lag] = active[0]
    governing[lag:] = active[:-lag]
    governing[: t0 + 1] = active[t0]
    current = int(ev_best[0])
    for best, kind in zip(ev_best, ev_kind):
        if kind in (0, 2):
            current = int(best)
    names = np.asarray(alone.assets, dtype=object)
    oos = dates[t0:]
    growth = paths.growth[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        best_full = int(np.argmax(np.log(np.maximum(growth, 0.0))))
    # the whole-period trend chart reads each tc's growth, drawdown and switches only (no daily paths)
    summary = _kernels.RotationPaths(np.empty((0, len(tcs)), np.int16), np.empty((0, len(tcs))), paths.switches[b],
                                     np.empty((len(tcs), 2), np.int16), growth, paths.drawdown[b])
    chart = trend_chart(data.prices, grid=GridResult(
        tcs=tcs, dates=dates, assets=alone.assets, paths=summary, setup=setup, decision=setup.decision[alone.start:],
        cost=strategy.cost, strategy=strategy, benchmark_daily=alone.benchmark, benchmark_label=alone.benchmark_label,
        start=alone.start,
    ), plateau=data.plateau)
    best_path = _kernels.rotate(setup, tcs[best_full:best_full + 1], found.decays[best_full:best_full + 1])
    bench = alone.benchmark()[alone.start:].copy()
    bench[0] = 0.0
    return Walked(
        chart=chart,
        returns=pd.Series(_from_first(paths.net[b, t0:n_days]), index=oos, name="walk_forward"),
        holdings=names[paths.hold[b, t0:n_days]],
        tc_path=tcs[governing[t0:]],
        current_tc=float(tcs[current]),
        tunings=count,
        adopted=int(np.count_nonzero(ev_kind == 2)),
        in_sample_tc=float(tcs[best_full]),
        in_sample_returns=pd.Series(_from_first(best_path.net[t0:, 0]), index=oos, name="in_sample_best"),
        in_sample_holdings=names[best_path.holdings[t0:, 0]],
        benchmark_returns=pd.Series(_from_first(bench[t0:]), index=oos, name="benchmark"),
    )


def evaluate_shared(data: SweepData, batch: Sequence[tuple[int, Combination]]) -> list[SweepRow]:
    """The rows of ``batch`` from one run of the shared-trend kernel."""
    from xlsector import _kernels

    if not batch:
        return []
    found = universe(data)
    alone = [_prepare(data, found, funds) for _, funds in batch]
    width = max(len(a.funds) for a in alone) + len(found.bear_rows)
    rows = np.zeros((len(batch), width), np.int64)
    for b, a in enumerate(alone):
        members = [found.row[f] for f in a.funds] + found.bear_rows
        rows[b, : len(members)] = members
    record = _kernels.SweepBatch(
        rows=rows, n_bull=np.array([len(a.funds) for a in alone], np.int64),
        n_funds=np.array([len(a.funds) + len(found.bear_rows) for a in alone], np.int64),
        start=np.array([a.start for a in alone], np.int64), t0=np.array([a.t0 for a in alone], np.int64),
    )
    paths = _kernels.sweep(found.setup, record, found.tcs, found.decays, data.retune_days, data.defer)
    return [make_row(combo_id, a.funds, _walked(data, found, a, _kernels.combination_setup(found.setup, record, b),
                                                paths, b))
            for b, ((combo_id, _), a) in enumerate(zip(batch, alone))]
