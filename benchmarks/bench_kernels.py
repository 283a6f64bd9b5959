"""The rotation kernel's paths against each other (not a test): which path runs when, and why.

    python benchmarks/bench_kernels.py [--rounds 7]

Work: 12 seeded random-walk funds x 7000 days, hysteresis 0.02, daily decisions (as benchmarks/bench_core.py).
CPU time in one process, median of each block, rounds interleaved; ratios per round, then the median and
the range:

* one trend constant: the one-tc kernel against the lane kernel with a single lane (loop overhead per day
  is what the one-tc kernel saves), and where the two cross as the number of tcs grows;
* 199 trend constants: the lane kernel on 1 thread against 2 threads (wall time: the speed-up of a grid
  on this machine; run it when the machine is otherwise idle), and against the numpy fallback for scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlsector import _kernels
from xlsector.backtesting import prepare
from xlsector.params import Strategy


def work_prices(funds: int = 12, days: int = 7000, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rets = rng.normal(0.0003, 0.013, (days, funds))
    return pd.DataFrame(100 * np.exp(np.cumsum(rets, axis=0)), index=pd.bdate_range("1998-01-02", periods=days),
                        columns=[f"F{i:02d}" for i in range(funds)])


def block(fn, n: int, clock=time.process_time) -> float:
    times = []
    for _ in range(n):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def compare(label: str, a, b, rounds: int, n: int, clock=time.process_time) -> None:
    """Print a's time, b's time and the ratio a/b per round (interleaved, alternating order)."""
    a(), b()
    ratios, ta, tb = [], [], []
    for r in range(rounds):
        if r % 2:
            y, x = block(b, n, clock), block(a, n, clock)
        else:
            x, y = block(a, n, clock), block(b, n, clock)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    print(f"{label:58s} {statistics.median(ta) * 1e3:8.3f} / {statistics.median(tb) * 1e3:8.3f} ms  ratio "
          f"{statistics.median(ratios):5.2f} ({min(ratios):.2f}..{max(ratios):.2f}) rounds "
          + " ".join(f"{x:.2f}" for x in ratios))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not _kernels.HAVE_NUMBA:
        print("numba is not installed (or XLSECTOR_NO_NUMBA is set): only the numpy fallback runs")
        return 0
    setup = prepare(work_prices(), Strategy(tc=50, hysteresis=0.02)).setup
    n_days = setup.returns.shape[1] - setup.start
    _kernels.warm_up()
    print(f"numba kernels; {os.cpu_count()} cores, THREADS={_kernels.THREADS}; 12 funds x 7000 days; "
          f"CPU ms a / b, ratio a/b per round")

    def lanes(tcs):
        out = _kernels._outputs(len(tcs), n_days)
        return lambda: _kernels._rotate_lanes_compiled(setup, tcs, tcs, 0, len(tcs), out, _kernels.NO_WALK)

    def single(tcs):
        out = _kernels._outputs(len(tcs), n_days)

        def run():
            for m in range(len(tcs)):
                _kernels._rotate_single_compiled(setup, tcs, tcs, m, out)
        return run

    for n in (1, 2, 4, 8, 16, 32):
        tcs = np.linspace(10.0, 100.0, n)
        compare(f"{n:3d} tcs: one-tc kernel per tc / lane kernel", single(tcs), lanes(tcs), args.rounds,
                max(3, 60 // n))
    grid = np.arange(2.0, 201.0)

    def threads(k):
        def run():
            saved = _kernels.THREADS
            _kernels.THREADS = k
            try:
                _kernels.rotate(setup, grid, grid)
            finally:
                _kernels.THREADS = saved
        return run

    compare("199 tcs: lane kernel, 1 thread / 2 threads (wall time)", threads(1), threads(2), args.rounds, 5,
            clock=time.perf_counter)
    compare("199 tcs: numpy fallback / lane kernel (1 thread)", lambda: _kernels.rotate_numpy(setup, grid, grid),
            lanes(grid), max(3, args.rounds // 2), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
