"""xlsector against the independent reference kernels of ../shared/bench, as CPU-time ratios (not a test).

    python benchmarks/bench_ratio.py [one|grid|fwpt ...] [--rounds 7] [--bench DIR]

The machines here are shared and noisy: an absolute time means little, a ratio measured in one process
means a lot. This is the method of ``../shared/bench/ratio.py`` (same tasks, same data, same settings: 12
funds x 7000 days, hysteresis 0.02, delay 0, no cost, min_history 1; one thread each; rounds alternate
the order; each round's ratio = median CPU of xlsector's block / median CPU of the reference's block),
printing every round's ratio as well as the median and the range.

Tasks (reference in brackets): ``one`` run_backtest(tc=50).returns [numba per-tc kernel]; ``grid``
trend_chart of 199 tcs [numba lane kernel, tcs as SIMD lanes]; ``fwpt`` fwpt(defer=False, retune 125)
[the lane kernel with the walk-forward fused in]. Goals (issue 12): one <= 2, grid <= 1.2, fwpt <= 1.3.

``--bench`` (or BENCH_DIR) is the folder of the reference (default: ../shared/bench next to the repository,
or next to its folder for a worktree).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ["NUMBA_NUM_THREADS"] = "1"  # both sides on one thread (set before numba is imported)

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"one": 2.0, "grid": 1.2, "fwpt": 1.3}


def tasks(bench: Path):
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "numba-cache-ratio"))
    sys.path.insert(0, str(bench))
    import impls  # the reference (numba kernels)
    import numpy as np
    import pandas as pd
    import ref

    import xlsector as xs

    prices, _, _ = ref.load_data()
    # dates two calendar days apart: born_on must be five calendar years after the first price, and the
    # reference's first retune (day ref.START) must qualify; with a daily schedule nothing else uses dates
    dates = pd.date_range("1990-01-01", periods=len(prices), freq="2D")
    frame = pd.DataFrame(prices, index=dates, columns=[f"F{j:02d}" for j in range(prices.shape[1])])
    kw = {"hysteresis": 0.02, "delay": 0, "cost_bp": 0.0, "min_history": 1}
    dr = ref.daily_returns
    return np, {
        "one": (lambda: xs.run_backtest(frame, tc=50, **kw).returns,
                lambda: impls.one_nb(dr(prices), 50, h=0.02, cost=0.0), 15),
        "grid": (lambda: xs.trend_chart(frame, tcs=range(2, 201), **kw),
                 lambda: impls.grid_nb(dr(prices), ref.TCS, h=0.02, cost=0.0, mode="lanes"), 3),
        "fwpt": (lambda: xs.fwpt(frame, born_on=dates[ref.START], retune_days=ref.RETUNE, tcs=range(2, 201),
                                 defer=False, **kw),
                 lambda: impls.fwpt_fused(dr(prices), ref.TCS, h=0.02, cost=0.0), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", help="one, grid, fwpt (default: all three)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bench", default=os.environ.get("BENCH_DIR"))
    args = parser.parse_args()
    # ../shared/bench next to the repository (or next to the folder of worktrees)
    candidates = [Path(args.bench)] if args.bench else [ROOT.parent / "shared" / "bench",
                                                        ROOT.parent.parent / "shared" / "bench"]
    bench = next((c for c in candidates if (c / "ratio.py").is_file()), candidates[0])
    if not (bench / "ratio.py").is_file():
        print(f"the reference kernels are not at {bench} (give --bench DIR or BENCH_DIR)")
        return 0
    np, table = tasks(bench)

    def block(fn, n):
        times = []
        for _ in range(n):
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
        return float(np.median(times))

    for name in args.tasks or ["one", "grid", "fwpt"]:
        ours, theirs, n = table[name]
        for fn in (ours, theirs, ours, theirs):  # warm-up: caches, allocators
            fn()
        ratios, mine, refs = [], [], []
        for r in range(args.rounds):
            if r % 2 == 0:
                p, q = block(ours, n), block(theirs, n)
            else:
                q, p = block(theirs, n), block(ours, n)
            mine.append(p)
            refs.append(q)
            ratios.append(p / q)
        rounds = " ".join(f"{x:.2f}" for x in ratios)
        print(f"{name:5s} xlsector {np.median(mine) * 1e3:7.2f} ms CPU, reference {np.median(refs) * 1e3:7.2f} ms CPU; "
              f"ratio median {np.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}; goal <= "
              f"{GOALS[name]}); rounds: {rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
