"""Time cells_to_prices on a Data-sheet-sized range: 7000 rows x 13 columns (date + 12 prices).

Prints the median and minimum of 50 runs, and for scale the time numpy alone needs to turn the same
Python floats into a float array (the floor for any converter of Python cells).
Run: python benchmarks/bench_data_cells.py
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from xlsector.data import cells_to_prices


def _time(func, runs=50):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return np.median(times) * 1e3, np.min(times) * 1e3


def main() -> None:
    rng = np.random.default_rng(0)
    n, m = 7000, 13
    base = dt.datetime(1998, 12, 22)
    rows = [["Date"] + [f"T{j}" for j in range(m - 1)]]
    rows += [[base + dt.timedelta(days=i)] + (rng.random(m - 1) * 100).tolist() for i in range(n)]
    for row in rows[1:400]:
        row[5] = None  # a fund that starts later
    floats = [row[1:] for row in rows[1:]]
    med, low = _time(lambda: cells_to_prices(rows))
    print(f"cells_to_prices 7000x13 (datetime dates, header, blanks): median {med:.2f} ms, min {low:.2f} ms")
    serial_rows = [[43000 + i] + row[1:] for i, row in enumerate(rows[1:])]
    med, low = _time(lambda: cells_to_prices(serial_rows))
    print(f"cells_to_prices 7000x13 (serial dates, no header):       median {med:.2f} ms, min {low:.2f} ms")
    med, low = _time(lambda: np.array(floats, dtype=float))
    print(f"floor: np.array(7000x12 Python floats, dtype=float):     median {med:.2f} ms, min {low:.2f} ms")


if __name__ == "__main__":
    main()
