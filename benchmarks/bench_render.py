"""Time `xlsector render` of the template on the bundled sample, per stage (median of several runs).

    python benchmarks/bench_render.py [runs]

Each run writes a fresh template and renders it in place in a new process-free call; the first run
(imports, compiled-kernel cache load) is reported separately.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(runs: int = 5) -> None:
    t0 = time.perf_counter()
    from xlsector.workbook.render import render_workbook
    from xlsector.workbook.template import write_template

    imported = time.perf_counter() - t0
    stages: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for i in range(runs + 1):
            path = write_template(Path(folder) / f"fwpt{i}.xlsx")
            report = render_workbook(path, progress=None)  # first render: Data empty -> bundled sample
            again = render_workbook(path, progress=None)  # re-render in place: Data read from the sheet
            if i == 0:
                print(f"import {imported:.3f} s; first render (cold) {report.timings['total']:.3f} s")
                continue
            for stage, seconds in report.timings.items():
                stages.setdefault(f"fresh {stage}", []).append(seconds)
            for stage, seconds in again.timings.items():
                stages.setdefault(f"re-render {stage}", []).append(seconds)
    for stage, values in stages.items():
        print(f"{stage:>26}: median {statistics.median(values):.3f} s  (min {min(values):.3f}, n={len(values)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
