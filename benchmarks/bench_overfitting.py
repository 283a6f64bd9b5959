"""Benchmark of the CSCV Probability of Backtest Overfitting (xlsector.overfitting.pbo). Prints timings; not a test.

Work size: 8000 days x 199 trials (seeded noise with a small spread of true Sharpe ratios), S = 16 blocks
(C(16, 8) = 12,870 combinations), Sharpe-ratio metric. Two versions:

* vectorised: ``pbo(returns, blocks=16)``: per-block sums of returns and squared returns, combined for
  every combination by one 0/1 matrix product per half;
* plain numpy: a loop over the combinations that concatenates each half's rows and takes the column
  means and sample standard deviations (numpy inside, a Python loop outside).

Both must give the same PBO and logits (checked before timing). Timings are warm (one call first), in
process; median, min and max over the runs.

    python benchmarks/bench_overfitting.py [--repeat 15] [--plain-repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np

from xlsector.overfitting import pbo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.timing, xlsector of this checkout
from benchmarks.timing import timings


def work_returns(days: int = 8000, trials: int = 199, seed: int = 42) -> np.ndarray:
    rng = np.random.default_rng(seed)
    true_sr = rng.normal(0.02, 0.01, trials)  # per day
    return rng.normal(true_sr * 0.012, 0.012, (days, trials))


def plain_pbo(x: np.ndarray, blocks: int = 16) -> tuple[float, np.ndarray]:
    """CSCV the straightforward way: for each combination, concatenate the rows of each half."""
    t, n = x.shape
    parts = np.array_split(np.arange(t), blocks)
    logits = []
    for combo in itertools.combinations(range(blocks), blocks // 2):
        rest = [b for b in range(blocks) if b not in combo]
        half_is = x[np.concatenate([parts[b] for b in combo])]
        half_oos = x[np.concatenate([parts[b] for b in rest])]
        sr_is = half_is.mean(axis=0) / half_is.std(axis=0, ddof=1)
        sr_oos = half_oos.mean(axis=0) / half_oos.std(axis=0, ddof=1)
        best = int(np.argmax(sr_is))
        v = sr_oos[best]
        rank = np.sum(sr_oos < v) + (np.sum(sr_oos == v) + 1) / 2
        logits.append(np.log(rank / (n + 1 - rank)))
    values = np.array(logits)
    return float(np.mean(values <= 0)), values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of the vectorised PBO")
    parser.add_argument("--plain-repeat", type=int, default=3, help="runs of the plain loop (about 1 min each)")
    args = parser.parse_args()

    x = work_returns()
    fast = pbo(x, blocks=16)  # warm-up
    plain_value, plain_logits = plain_pbo(x, 16)
    assert fast.pbo == plain_value, (fast.pbo, plain_value)
    np.testing.assert_allclose(fast.logits, plain_logits, atol=1e-12)

    print(f"PBO, {x.shape[0]} days x {x.shape[1]} trials, S = 16 ({fast.n_combinations:,} combinations), "
          f"Sharpe metric; PBO = {fast.pbo:.4f}; cores: {os.cpu_count()}; "
          f"load average (1 min) {os.getloadavg()[0]:.1f}")
    print("seconds: median (min..max) over runs, warm, in process")
    vec = timings(lambda: pbo(x, blocks=16), args.repeat, warm_up=False)
    print(f"  vectorised (block sums) : {vec[0]:8.3f} ({vec[1]:.3f}..{vec[2]:.3f})  {args.repeat} runs")
    loop = timings(lambda: plain_pbo(x, 16), args.plain_repeat, warm_up=False)
    print(f"  plain numpy loop        : {loop[0]:8.3f} ({loop[1]:.3f}..{loop[2]:.3f})  {args.plain_repeat} runs")
    print(f"  ratio plain / vectorised (medians): {loop[0] / vec[0]:.0f}x")


if __name__ == "__main__":
    main()
