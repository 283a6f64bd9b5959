"""Time `xlsector render` of the template on the bundled sample, per stage (median of several runs).

    python benchmarks/bench_render.py [runs]

1. **fresh process** (what a user waits for): each run writes a fresh template and renders it in a new
   Python process, as ``xlsector render fwpt.xlsx`` does; "wall" is the whole process, from start to exit
   (interpreter, imports, numba's first call, render, exit). Stages: import (numpy, pandas, openpyxl),
   read, compute (with its parts core, tuning, momentum; in a fresh process it includes importing numba and
   the first compiled call), write, cached values; total = import through the file written.
2. **re-render** (fresh process): rendering the rendered file again (Data read from the sheet, the previous
   computed areas cut out before openpyxl loads).
3. **warm, in process**: the same render repeated in one process (imports and numba's start-up paid once).
4. **numba start-up** in a fresh process: ``import numba``, ``import xlsector.backtest``, the first call of a
   compiled function (``ema2``), then the first ``run_backtest_grid`` (199 trend constants, lane kernel on
   every core).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_RENDER = """
import json, sys, time
t0 = time.perf_counter()
from xlsector.render import render_workbook
imported = time.perf_counter() - t0
report = render_workbook(sys.argv[1], sys.argv[2], progress=None)
print(json.dumps({"import xlsector.workbook.render": imported, **report.timings}))
"""

_NUMBA = """
import json, time
t0 = time.perf_counter()
import numba
t1 = time.perf_counter()
from xlsector.backtesting import run_backtest_grid
from xlsector.data import load_sample
t2 = time.perf_counter()
prices = load_sample().prices[["XOM", "JPM", "JNJ", "MRK", "PG", "KO", "WMT", "HD", "GE", "MSFT"]]
t3 = time.perf_counter()
from xlsector.trend import ema2
ema2(prices, 50.0)
t4 = time.perf_counter()
run_backtest_grid(prices, range(2, 201))
t5 = time.perf_counter()
run_backtest_grid(prices, range(2, 201))
t6 = time.perf_counter()
print(json.dumps({"import numba": t1 - t0, "import xlsector.backtest + data": t2 - t1, "load sample": t3 - t2,
                  "first compiled call (ema2)": t4 - t3, "first run_backtest_grid (199 tcs)": t5 - t4,
                  "second run_backtest_grid": t6 - t5}))
"""

_IMPORT_NUMBA = "import numba"


def _run(code: str, *args: str) -> tuple[dict, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    return (json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}), wall


def _show(title: str, samples: dict[str, list[float]]) -> None:
    print(title)
    for stage, values in samples.items():
        print(f"  {stage:>34}: median {statistics.median(values):6.3f} s  (min {min(values):6.3f}, "
              f"max {max(values):6.3f}, n={len(values)})")


def main(runs: int = 5) -> None:
    from xlsector.workbook.template import write_template

    fresh: dict[str, list[float]] = {}
    again: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for i in range(runs):
            path = write_template(Path(folder) / f"fwpt{i}.xlsx")
            out = Path(folder) / f"out{i}.xlsx"
            timings, wall = _run(_RENDER, str(path), str(out))
            for stage, seconds in {"process wall": wall, **timings}.items():
                fresh.setdefault(stage.strip(), []).append(seconds)
            timings, wall = _run(_RENDER, str(out), str(Path(folder) / f"again{i}.xlsx"))
            for stage, seconds in {"process wall": wall, **timings}.items():
                again.setdefault(stage.strip(), []).append(seconds)
        _show("fresh template, bundled sample, new process per run:", fresh)
        _show("re-render of the rendered file, new process per run:", again)

        from xlsector.render import render_workbook

        warm: dict[str, list[float]] = {}
        for i in range(runs + 1):
            path = write_template(Path(folder) / f"warm{i}.xlsx")
            report = render_workbook(path, progress=None)
            if i == 0:
                continue  # imports, numba start-up
            for stage, seconds in report.timings.items():
                warm.setdefault(stage.strip(), []).append(seconds)
        _show("fresh template, warm (same process):", warm)

    numba_runs: dict[str, list[float]] = {}
    for _ in range(runs):
        _, wall = _run(_IMPORT_NUMBA)
        numba_runs.setdefault("python -c 'import numba' (process)", []).append(wall)
        timings, _ = _run(_NUMBA)
        for stage, seconds in timings.items():
            numba_runs.setdefault(stage, []).append(seconds)
    _show("numba start-up, new process per run:", numba_runs)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
