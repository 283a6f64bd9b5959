"""What a fresh process pays before and on its first computation (not a test): CPU seconds per step.

    python benchmarks/bench_startup.py [--runs 5] [--cold]

Each figure is measured in new Python processes (median, min..max of ``--runs``), as CPU time (user +
system: the machines here are shared, wall time is noise):

* ``import xlsector`` (lazy: nothing heavy), ``import numba`` alone;
* the first ``run_backtest`` and the first ``trend_chart`` of a process (12 funds x 7000 days), split into
  importing numba and the rest (loading the kernels from numba's cache, and the computation);
* ``xlsector render workbooks/fwpt.xlsx`` as a user runs it: the whole process.

``--cold`` also times the first run after install: a fresh, empty NUMBA_CACHE_DIR, so every kernel is
compiled (it prints the notice a user sees).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, time
steps = {}
c = time.process_time()
import xlsector as xs
steps["import xlsector"] = time.process_time() - c
import numpy as np, pandas as pd
rng = np.random.default_rng(42)
frame = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.013, (7000, 12)), axis=0)),
                     index=pd.bdate_range("1998-01-02", periods=7000), columns=[f"F{i:02d}" for i in range(12)])
c = time.process_time()
import numba
steps["import numba"] = time.process_time() - c
what = sys.argv[1]
c = time.process_time()
if what == "backtest":
    xs.run_backtest(frame, tc=50)
else:
    xs.trend_chart(frame, hysteresis=0.02)
steps[f"first {what}: kernels from the cache + computing"] = time.process_time() - c
c = time.process_time()
if what == "backtest":
    xs.run_backtest(frame, tc=50)
else:
    xs.trend_chart(frame, hysteresis=0.02)
steps[f"second {what} (for scale)"] = time.process_time() - c
steps["scipy imported"] = float("scipy" in sys.modules)
print(json.dumps(steps))
"""


def child_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, str, str]:
    """CPU seconds (user + system) of a child process, and its stdout and stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, done.stdout, done.stderr


def show(label: str, values: list[float]) -> None:
    print(f"  {label:50s} {statistics.median(values):7.3f} s  ({min(values):.3f}..{max(values):.3f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="also time the first run after install")
    args = parser.parse_args()
    env = dict(os.environ)
    print(f"CPU seconds in fresh processes, median (min..max) of {args.runs}; python {sys.version.split()[0]}")
    for what in ("backtest", "trend_chart"):
        steps: dict[str, list[float]] = {}
        whole = []
        for _ in range(args.runs):
            cpu, out, _ = child_cpu([sys.executable, "-c", PROBE, what], env)
            whole.append(cpu)
            for key, value in json.loads(out).items():
                steps.setdefault(key, []).append(value)
        print(f"{what}:")
        for key, values in steps.items():
            if key != "scipy imported":
                show(key, values)
        show("whole process", whole)
        print(f"  scipy imported: {bool(max(steps['scipy imported']))}")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out.xlsx")
        render = [sys.executable, "-m", "xlsector", "render", str(ROOT / "workbooks" / "fwpt.xlsx"), "-o", out]
        cpus = [child_cpu(render, env)[0] for _ in range(args.runs)]
        print("xlsector render workbooks/fwpt.xlsx:")
        show("whole process", cpus)
        if args.cold:
            cold_env = dict(env, NUMBA_CACHE_DIR=str(Path(tmp) / "numba-cache"))
            cpu, _, err = child_cpu([sys.executable, "-c", PROBE, "trend_chart"], cold_env)
            print("first run after install (empty numba cache): trend_chart process")
            print("  " + "\n  ".join(err.strip().splitlines()))
            show("whole process", [cpu])
    return 0


if __name__ == "__main__":
    sys.exit(main())
