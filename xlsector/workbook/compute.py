"""What the render computes with the core itself, for the parts of the workbook that are not one formula.

Every computed table of the template is an xlsector formula whose values the render gets by evaluating it
(:mod:`xlsector.workbook.formulas`); three things are not:

* the Theory sheet's worked table (native Excel formulas, whose cached values come from the core);
* the Hysteresis example's choice of two funds and a window (the pair most held around the index's worst
  drawdown), written as parameter cells that its formula reads;
* the Momentum sheet: a phased experiment (each phase starts from the previous phase's best), too
  path-dependent for one formula; the render (and the Recalculate button) writes its tables as values.

No openpyxl here; each part is a small function returning a typed record.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.contract import WorkbookSettings
from xlsector.measures import CASH
from xlsector.workbook.inputs import WorkbookInputs

__all__ = ["Computed", "HysteresisExample", "MomentumStudy", "TheoryTable", "compute"]

#: Rows of the Theory table: about one year of market days, starting at 0 as in the paper.
THEORY_ROWS = 260
#: The two trend constants of Chart 1 (weights against age).
WEIGHT_TCS = (20.0, 50.0)
WEIGHT_AGES = 201
#: The shipped experiments the Momentum sheet adapts: without VIX / with VIX (SPEC section 3).
MOMENTUM_EXPERIMENT = "sample_four_phase"
MOMENTUM_EXPERIMENT_VIX = "four_phase_study"
#: Market days before the first momentum run can report (longest SMA filter of the grids, 250).
MOMENTUM_WARMUP = 250


@dataclass(frozen=True)
class TheoryTable:
    """The paper's table for one fund: prices, k x daily return, EMA and EMA2; Chart 1's weights."""

    fund: str
    prices: pd.Series
    scaled_returns: np.ndarray
    ema: np.ndarray
    ema2: np.ndarray
    ages: np.ndarray
    weights: dict[tuple[str, float], np.ndarray]  # ("EMA" | "EMA2", tc) -> weight of each age


@dataclass(frozen=True)
class HysteresisExample:
    """The two funds and the window the Hysteresis sheet shows (its formula reads these cells)."""

    pair: tuple[str, str]
    start: pd.Timestamp
    end: pd.Timestamp


@dataclass(frozen=True)
class MomentumStudy:
    """The four-phase momentum experiment on the workbook's funds, or why it could not run."""

    result: Any = None  # xlsector.profiles.ExperimentResult
    error: str = ""
    experiment: str = ""
    has_vix: bool = False
    select_until: str = ""
    select_note: str = ""
    benchmark: str = ""
    benchmark_label: str = ""  # the benchmark as shown: a price index says "price only"
    overfit: Any = None  # xlsector.evaluation.experiment_report of the result (a DataFrame), or None


@dataclass(frozen=True)
class Computed:
    theory: TheoryTable
    hysteresis: HysteresisExample
    momentum: MomentumStudy
    timings: dict[str, float] = field(default_factory=dict)


def theory(funds: pd.DataFrame, settings: WorkbookSettings) -> TheoryTable:
    """The paper's table for the first fund over its last THEORY_ROWS prices, and Chart 1's weights."""
    from xlsector.trend import ema2_weights, ema_arrays, ema_weights, returns_array

    tc, k = settings.strategy.tc, settings.strategy.k
    name = str(funds.columns[0])
    prices = funds[name].dropna().iloc[-THEORY_ROWS:]
    returns = returns_array(prices.to_numpy(dtype=float).reshape(-1, 1))
    first, second = ema_arrays(returns, tc, k)
    ages = np.arange(WEIGHT_AGES, dtype=float)
    weights = {}
    for tc_w in WEIGHT_TCS:
        weights[("EMA", tc_w)] = ema_weights(tc_w, ages, k=k)
        weights[("EMA2", tc_w)] = ema2_weights(tc_w, ages, k=k)
    return TheoryTable(fund=name, prices=prices, scaled_returns=k * returns[:, 0], ema=first[:, 0],
                       ema2=second[:, 0], ages=ages, weights=weights)


def hysteresis_example(inputs: WorkbookInputs, settings: WorkbookSettings) -> HysteresisExample:
    """Around the index's worst drawdown (half a year before its peak to a year after its trough): the two
    funds the strategy held most there."""
    from xlsector.backtesting import run_backtest

    index = inputs.index.dropna()
    trough_at = int(np.argmin((index / index.cummax()).to_numpy()))
    peak_at = int(np.argmax(index.to_numpy()[: trough_at + 1]))
    start = pd.Timestamp(index.index[max(peak_at - 125, 0)])
    end = pd.Timestamp(index.index[min(trough_at + 250, len(index) - 1)])
    strategy = settings.strategy.replace(stormguard=None)
    held = run_backtest(inputs.funds, **strategy.to_dict()).holdings.loc[start:end]
    pair = [str(n) for n in held[held != CASH].value_counts().index[:2]]
    pair += [str(n) for n in inputs.funds.columns if str(n) not in pair][: 2 - len(pair)]
    return HysteresisExample(pair=(pair[0], pair[1]), start=start, end=end)


def momentum(inputs: WorkbookInputs, settings: WorkbookSettings) -> MomentumStudy:
    """The four-phase momentum experiment on the workbook's funds and benchmark.

    With a VIX column (setting VixTicker) the shipped ``four_phase_study`` is run (phase 2: VIX-scaled
    leverage, ``base x 30 / max(VIX, 15)``); without one the shipped ``sample_four_phase`` (phase 2:
    fixed leverage 1.0-2.0, which is the same formula with the VIX held at 30). In both, the base
    profile's funds and benchmark are replaced by the workbook's Funds and Benchmark (or MarketIndex: the
    SMA filter needs a price series). ``select_until`` is kept when it lies inside the data period, else
    moved to the middle of the days after the warm-up.
    """
    from xlsector.errors import ParameterError
    from xlsector.profiles import load_experiment, run_experiment

    has_vix = inputs.vix is not None and bool(inputs.vix.notna().any())
    name = MOMENTUM_EXPERIMENT_VIX if has_vix else MOMENTUM_EXPERIMENT
    experiment = load_experiment(name)
    bench_name = settings.data.benchmark or settings.data.index
    funds = tuple(str(c) for c in inputs.funds.columns)
    base = dataclasses.replace(experiment.base, funds=funds, benchmark=bench_name, vix=None, index=None,
                               bear=None, start=None, end=None)
    dates = inputs.table.index
    select = experiment.select_until
    moved = ""
    lo, hi = dates[0] + pd.DateOffset(years=5), dates[-1] - pd.DateOffset(years=2)
    if select is None or not (lo <= pd.Timestamp(select) <= hi):
        warm = min(len(dates) - 1, MOMENTUM_WARMUP)
        middle = dates[warm + (len(dates) - warm) // 2]
        moved = (f" (the file's {select} is not inside the data with 5 years before and 2 after it; moved to the "
                 "middle of the days after the warm-up)") if select else ""
        select = f"{middle:%Y-%m-%d}"
    experiment = dataclasses.replace(experiment, base=base, select_until=select, start=None, end=None)
    table = inputs.table[[*funds, bench_name]] if bench_name not in funds else inputs.table[list(funds)]
    try:
        result = run_experiment(experiment, table, vix=inputs.vix if has_vix else None)
    except ParameterError as exc:  # too few days for the lookbacks, moving averages or the selection period
        return MomentumStudy(error=f"experiment '{name}' cannot run on this data ({len(dates)} days): {exc}",
                             experiment=name)
    from xlsector.benchmarks import PRICE_ONLY, is_price_index
    from xlsector.evaluation import experiment_report

    price_only = bench_name == settings.data.index or is_price_index(bench_name)
    label = f"{bench_name}: {PRICE_ONLY}" if price_only else bench_name
    return MomentumStudy(result=result, experiment=name, has_vix=has_vix, select_until=select, select_note=moved,
                         benchmark=bench_name, benchmark_label=label, overfit=experiment_report(result))


def compute(inputs: WorkbookInputs, settings: WorkbookSettings) -> Computed:
    """The parts of the workbook that are not one formula (see the module docstring), timed."""
    timings = {}
    t0 = time.perf_counter()
    table = theory(inputs.funds, settings)
    example = hysteresis_example(inputs, settings)
    timings["theory, hysteresis example"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    study = momentum(inputs, settings)
    timings["momentum experiment"] = time.perf_counter() - t1
    return Computed(theory=table, hysteresis=example, momentum=study, timings=timings)
