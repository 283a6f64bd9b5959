"""Timing of the tuning and experiment paths (issue 3 targets), median of several runs after a warm-up.

    python benchmarks/bench_tuning.py [--repeat 7]

* trend chart and FWPT: 12 funds x 7000 days of seeded synthetic random walks, 199 trend constants
  (2..200), hysteresis 0.01 on. Targets: <= 20 ms and <= 25 ms in-process after warm-up.
* four-phase experiment (xlsector/profiles/experiments/four_phase_study.toml, 20 runs): on the real sector
  ETFs of ../shared/data (12 ETFs incl. TLT, 1998-2025) with the Cboe VIX when the folder exists, else on
  12 synthetic funds x 6550 days with a synthetic VIX. Target: <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("XLSECTOR_SHARED_DATA", ROOT.parent / "shared" / "data"))


def walks(n_days: int, n_funds: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("1998-01-02", periods=n_days)
    rets = rng.normal(0.0003, 0.012, size=(n_days, n_funds))
    return pd.DataFrame(
        100 * np.exp(np.cumsum(rets, axis=0)), index=dates, columns=[f"F{j:02d}" for j in range(n_funds)]
    )


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up: numba compile / cache load
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from xlsector.backtesting import run_backtest_grid
    from xlsector.profiles import experiments_dir, load_experiment, run_experiment
    from xlsector.tuning import fwpt, trend_chart

    prices = walks(7000, 12)
    tcs = range(2, 201)
    print(
        f"work: 12 funds x 7000 days, {len(tcs)} trend constants, hysteresis 0.01; "
        f"median (min) of {args.repeat} runs after warm-up; cores: {os.cpu_count()}"
    )
    med, low = timed(lambda: run_backtest_grid(prices, tcs, hysteresis=0.01), args.repeat)
    print(f"  run_backtest_grid (core, for reference) {1e3 * med:8.1f} ms ({1e3 * low:.1f})")
    med, low = timed(lambda: trend_chart(prices, tcs=tcs, hysteresis=0.01), args.repeat)
    print(f"  trend_chart                         {1e3 * med:8.1f} ms ({1e3 * low:.1f})   target <= 20 ms")
    med, low = timed(lambda: fwpt(prices, tcs=tcs, hysteresis=0.01), args.repeat)
    print(f"  fwpt (retune 125, defer on)         {1e3 * med:8.1f} ms ({1e3 * low:.1f})   target <= 25 ms")

    # the tuning's own share: the same calls on the 199-tc grid precomputed (run_backtest_grid excluded;
    # FWPT then walks the paths after the kernel instead of inside it)
    grid = run_backtest_grid(prices, tcs, hysteresis=0.01)
    med, low = timed(lambda: trend_chart(prices, grid=grid), args.repeat)
    print(f"  trend_chart on a precomputed grid   {1e3 * med:8.1f} ms ({1e3 * low:.1f})")
    med, low = timed(lambda: fwpt(prices, grid=grid), args.repeat)
    print(f"  fwpt on a precomputed grid          {1e3 * med:8.1f} ms ({1e3 * low:.1f})")

    experiment = load_experiment(experiments_dir() / "four_phase_study.toml")
    etf = SHARED / "etf_adjclose_daily.csv"
    if etf.is_file():
        data = pd.read_csv(etf, index_col="Date", parse_dates=True)
        vix = pd.read_csv(SHARED / "vix_cboe_daily.csv", index_col="Date", parse_dates=True)["Close"]
        vix = vix.reindex(data.index).ffill()
        what = f"real sector ETFs ({etf.name}, {data.index[0]:%Y}-{data.index[-1]:%Y}) + Cboe VIX"
    else:
        cols = ["XLK", "XLF", "XLE", "XLV", "XLI", "XLP", "XLU", "XLY", "XLC", "XLB", "XLRE", "TLT", "SPY"]
        data = walks(6550, len(cols), seed=7)
        data.columns = cols
        rng = np.random.default_rng(1)
        vix = pd.Series(
            np.clip(20 * np.exp(np.cumsum(rng.normal(0, 0.05, len(data)))), 9, 80), index=data.index
        )
        what = "synthetic 12 funds + SPY x 6550 days, synthetic VIX (../shared/data not found)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        med, low = timed(lambda: run_experiment(experiment, data, vix=vix), max(3, args.repeat // 2))
    runs = sum(1 if p.combine else len(p.values) for p in experiment.phases)
    print(f"four-phase experiment ({runs} runs) on {what}:")
    print(f"  run_experiment                      {med:8.3f} s  ({low:.3f})   target <= 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
