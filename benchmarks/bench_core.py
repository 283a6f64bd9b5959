"""Benchmark of the numeric core: absolute timings, median (min..max) of ``--repeat`` runs; not a test.

Work size: 12 funds × 7000 market days (seeded random walks), hysteresis on (0.01), daily decisions. On a
shared machine absolute times are noisy: for the speed goals use benchmarks/bench_ratio.py (xlsector against
the reference kernels as CPU-time ratios), bench_kernels.py (the kernel's paths) and bench_startup.py (fresh
processes).

    python benchmarks/bench_core.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.timing, xlsector of this checkout
from benchmarks.timing import timings


def work_prices(funds: int = 12, days: int = 7000, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rets = rng.normal(0.0003, 0.013, (days, funds))
    return pd.DataFrame(100 * np.exp(np.cumsum(rets, axis=0)), index=pd.bdate_range("1998-01-02", periods=days),
                        columns=[f"F{i:02d}" for i in range(funds)])


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import xlsector; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(7)]
    return statistics.median(runs) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import xlsector as xs
    from xlsector import _kernels

    prices = work_prices()
    xs.run_backtest(prices, tc=30)  # warm-up: load (or compile) the kernels
    xs.run_backtest_grid(prices, range(2, 201))
    print(f"kernel: {'numba' if _kernels.HAVE_NUMBA else 'numpy fallback'}; cores: {os.cpu_count()}; "
          f"median (min..max) of {args.repeat} runs")
    rows = [
        ("ema2, 12 funds x 7000 days", lambda: xs.ema2(prices, 30)),
        ("backtest, 12 x 7000, hysteresis on", lambda: xs.run_backtest(prices, tc=30, hysteresis=0.01)),
        ("backtest + .returns/.holdings/.trades", lambda: _touch(xs.run_backtest(prices, tc=30))),
        ("run_backtest_grid, tcs 2..200 (199 runs)", lambda: xs.run_backtest_grid(prices, range(2, 201), hysteresis=0.01)),
    ]
    for label, fn in rows:
        med, lo, hi = timings(fn, args.repeat, warm_up=False, scale=1e3)
        print(f"{label:<42} {med:8.2f} ms  ({lo:.2f}..{hi:.2f})")
    print(f"{'import xlsector (fresh interpreter)':<42} {import_time():8.2f} ms")


def _touch(result) -> tuple:
    return result.returns, result.holdings, result.trades  # (computed on first use)


if __name__ == "__main__":
    main()
