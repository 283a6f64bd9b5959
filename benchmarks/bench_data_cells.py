"""Time cells_to_prices on a Data-sheet-sized range: 7000 rows x 13 columns (date + 12 prices).

Prints the median and minimum of 50 runs, and for scale the time numpy alone needs to turn the same
Python floats into a float array (the floor for any converter of Python cells); then the converter's stages
one by one beside the backtest SECTOR_PICK runs on the result (the ablation of issue 12: why SECTOR_PICK
cannot be within 1.5x of its backtest when a host hands over Python objects).
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
    _stages(rows)


def _stages(rows: list[list]) -> None:
    """Each stage of cells_to_prices on ``rows`` (private helpers, timed alone) and the backtest after it."""
    from xlsector import run_backtest
    from xlsector.data import cells as stage

    grid = stage._trim(stage._to_object_grid(rows))
    dates, block = grid[1:, 0], np.ascontiguousarray(grid[1:, 1:])
    numbers = np.arange(2, 2 + dates.size)
    kind = stage._kind(dates)
    prices = cells_to_prices(rows)
    run_backtest(prices, tc=50)  # numba's cache loaded before timing
    parts = [
        ("object grid from the row lists", lambda: stage._to_object_grid(rows)),
        ("kind of the date column", lambda: stage._kind(dates)),
        ("dates to a DatetimeIndex", lambda: stage._convert_dates(dates, numbers, "Date", kind)),
        ("price block: type check (no text, no booleans)", lambda: stage._kind(block.ravel())),
        ("price block: astype(float)", lambda: block.astype(float)),
        ("run_backtest(prices, tc=50), for scale", lambda: run_backtest(prices, tc=50)),
    ]
    for name, func in parts:
        med, low = _time(func)
        print(f"  {name:48s} median {med:.2f} ms, min {low:.2f} ms")


if __name__ == "__main__":
    main()
