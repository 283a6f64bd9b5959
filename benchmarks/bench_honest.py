"""Timing of the honest-evaluation statistics (issue 15). Prints figures; not a test.

1. PBO by CSCV, 8000 days x 199 trials, S = 16 (12,870 combinations), warm, in process: the Sharpe metric (as
   benchmarks/bench_overfitting.py) and the score metric the trend chart and FWPT use (mean of log(1 + r)).
2. On the bundled sample (8313 days x 10 funds, tc 2..200, one shared grid): the PBO of the grid, the trend
   chart's report (PSR, DSR, MinTRL; PBO shared), FWPT's report, the tc x hysteresis map (4 extra grids of 40
   tcs), timing luck (5 backtests), FWPT's retune sensitivity (3 walks), the four-phase experiment's report.

Median (min..max) of the runs, seconds. The render's and the recalculation's overall cost: run
``python benchmarks/bench_render.py`` and ``python benchmarks/bench_recalc.py`` before and after.

    python benchmarks/bench_honest.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.timing, xlsector of this checkout
from benchmarks.timing import timings


def show(label: str, figures: tuple[float, float, float]) -> None:
    median, low, high = figures
    print(f"  {label:<58} {median:7.3f} s  ({low:.3f}..{high:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from xlsector.evaluation import score_pbo
    from xlsector.overfitting import pbo

    rng = np.random.default_rng(42)
    true_sr = rng.normal(0.02, 0.01, 199)
    x = rng.normal(true_sr * 0.012, 0.012, (8000, 199))
    print(f"cores: {os.cpu_count()}; load average (1 min) {os.getloadavg()[0]:.1f}; seconds, median (min..max) "
          f"of {args.repeat} warm runs")
    print("PBO, 8000 days x 199 trials, S = 16 (target <= 0.5 s):")
    show("Sharpe metric (xlsector.overfitting.pbo)", timings(lambda: pbo(x, blocks=16), args.repeat))
    show("score metric (xlsector.evaluation.score_pbo)", timings(lambda: score_pbo(x, 16), args.repeat))

    import xlsector as xs
    from xlsector.backtesting import run_backtest_grid
    from xlsector.evaluation import experiment_report, fwpt_report, grid_pbo, trend_chart_report
    from xlsector.profiles import load_experiment, run_experiment
    from xlsector.robustness import retune_sensitivity, robustness_map, timing_luck
    from xlsector.tuning import fwpt, trend_chart

    data = xs.load_sample().prices
    funds = data.drop(columns="^GSPC")
    grid = run_backtest_grid(funds, range(2, 201))
    chart = trend_chart(funds, grid=grid)
    walk = fwpt(funds, grid=grid)
    shared, note = grid_pbo(grid)
    print(f"Bundled sample ({len(data)} days x {funds.shape[1]} funds, tc 2..200, one grid):")
    show("run_backtest_grid (the grid itself, for scale)", timings(lambda: run_backtest_grid(funds, range(2, 201)),
                                                                   args.repeat))
    show("PBO of the grid (score metric)", timings(lambda: grid_pbo(grid), args.repeat))
    show("trend chart report (PBO shared)", timings(lambda: trend_chart_report(chart, grid, pbo_result=shared,
                                                                               pbo_note=note), args.repeat))
    show("FWPT report (PBO shared)", timings(lambda: fwpt_report(walk, grid, pbo_result=shared, pbo_note=note),
                                             args.repeat))

    def grid_for(h, tcs):
        return grid if h == 0.01 else run_backtest_grid(funds, tcs, hysteresis=h)

    show("tc x hysteresis map (4 extra grids of 40 tcs)",
         timings(lambda: robustness_map(funds, range(2, 201), chosen=(chart.peak_tc, 0.01), grid_for=grid_for),
                 args.repeat))
    show("timing luck, week (5 backtests)", timings(lambda: timing_luck(funds, tc=50, schedule="week"), args.repeat))
    show("FWPT retune sensitivity (63/125/250, shared grid)",
         timings(lambda: retune_sensitivity(funds, grid=grid), args.repeat))
    result = run_experiment(load_experiment("sample_four_phase"), data)
    show("four-phase experiment report (4 phases, 19 runs)", timings(lambda: experiment_report(result), args.repeat))


if __name__ == "__main__":
    main()
