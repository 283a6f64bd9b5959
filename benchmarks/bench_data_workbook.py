"""Time reading a workbook's Data sheet and a full refresh write (8313 dates x 11 series: the sample).

Run: python benchmarks/bench_data_workbook.py   (prints median of 5 runs; no network: the refresh
uses a downloader that returns the sample shifted by one day, shaped like yfinance.download's frame)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.data_workbooks import make_workbook
from xlsector.data import load_sample, read_data_sheet
from xlsector.data.refresh import refresh_file


def _median(func, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return np.median(times)


def main() -> None:
    prices = load_sample().prices
    with tempfile.TemporaryDirectory() as folder:
        path = make_workbook(Path(folder) / "b.xlsx", prices.iloc[:-20], funds=",".join(prices.columns[:-1]),
                             market_index="^GSPC")  # fmt: skip
        print(f"read_data_sheet 8293x11: median {_median(lambda: read_data_sheet(path)) * 1e3:.0f} ms")

        def downloader(tickers, start, end, session):
            frame = prices[tickers].copy()
            frame.columns = pd.MultiIndex.from_product([["Adj Close"], tickers])
            return frame

        runs = []
        for _ in range(3):
            make_workbook(path, prices.iloc[:-20], funds=",".join(prices.columns[:-1]), market_index="^GSPC")
            start = time.perf_counter()
            refresh_file(path, downloader=downloader, cache_dir=Path(folder) / "cache", accept_jumps=True)
            runs.append(time.perf_counter() - start)
        print(f"refresh (merge, validate, write 8313x11, atomic save): median {np.median(runs) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
