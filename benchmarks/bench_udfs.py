"""Benchmark of the Excel functions (issue 6). Prints median timings; not a test.

Input as Excel hands it over: a 2-D list of 7000 rows × 12 funds with a header row and a date column
(datetimes as classic xlwings delivers them; ``--serial`` for Excel serial numbers as Office.js sends
them), blanks as ``None``. Each timing is one whole function call — cells → price frame conversion, the
core, and shaping the result into cells — after a warm-up call (numba compilation), median of
``--repeat`` runs (min and max in brackets). Targets (issue 6): EMA2_TREND spill <= 15 ms, SECTOR_PICK and
BACKTEST_CAGR <= 10 ms, TREND_CHART for 199 trend constants <= 40 ms.

    python benchmarks/bench_udfs.py [--repeat 15] [--serial] [--officejs]

Prices: 12 seeded random walks (as benchmarks/bench_core.py); ``--real`` uses the last 7000 rows of
../shared/data/etf_adjclose_daily.csv (XLB XLE XLF XLI XLK XLP XLU XLV XLY SPY TLT AGG; blanks before
TLT and AGG start) when it is there.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.timing import timings

REAL = REPO.parent / "shared" / "data" / "etf_adjclose_daily.csv"
REAL_FUNDS = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "SPY", "TLT", "AGG"]


def work_prices(real: bool, funds: int = 12, days: int = 7000, seed: int = 42) -> pd.DataFrame:
    if real:
        return pd.read_csv(REAL, index_col="Date", parse_dates=True)[REAL_FUNDS].iloc[-days:]
    rng = np.random.default_rng(seed)
    rets = rng.normal(0.0003, 0.013, (days, funds))
    return pd.DataFrame(100 * np.exp(np.cumsum(rets, axis=0)), index=pd.bdate_range("1998-01-02", periods=days),
                        columns=[f"F{i:02d}" for i in range(funds)])


def to_cells(frame: pd.DataFrame, serial: bool) -> list[list]:
    if serial:
        labels = (frame.index - pd.Timestamp("1899-12-30")).days.tolist()
    else:
        labels = list(frame.index.to_pydatetime())
    values = frame.to_numpy(dtype=float)
    rows = [["Date"] + [str(c) for c in frame.columns]]
    for label, row in zip(labels, values.tolist()):
        rows.append([label] + [None if math.isnan(v) else v for v in row])
    return rows


def run_plain(args: argparse.Namespace) -> None:
    from udfs import xlsector_udfs as u
    from xlsector.data.cells import cells_to_prices

    frame = work_prices(args.real)
    cells = to_cells(frame, args.serial)
    print(f"input: {len(cells) - 1} rows x {frame.shape[1]} funds, header row and "
          f"{'serial-number' if args.serial else 'datetime'} date column ({'real ETFs' if args.real else 'random walks'})")
    # list(cells): a new list each call, as Excel passes (the functions remember the very list object the
    # render's evaluator hands every formula, which Excel never does)
    cases = [
        ("cells_to_prices (conversion only)", lambda: cells_to_prices(cells), None),
        ("EMA2_TREND(prices, 50) spill", lambda: u.EMA2_TREND(list(cells), 50), 15),
        ("SECTOR_PICK(prices, 50)", lambda: u.SECTOR_PICK(list(cells), 50), 10),
        ("BACKTEST_CAGR(prices, 50)", lambda: u.BACKTEST_CAGR(list(cells), 50), 10),
        ("TREND_CHART(prices, 2, 200): 199 tcs", lambda: u.TREND_CHART(list(cells), 2, 200), 40),
    ]
    for label, fn, target in cases:
        median, low, high = timings(fn, args.repeat, scale=1e3)
        verdict = "" if target is None else f"  target <= {target} ms: {'ok' if median <= target else 'MISSED'}"
        print(f"{label:40s} {median:8.1f} ms  [{low:.1f} .. {high:.1f}]{verdict}")


OFFICEJS = """
import asyncio, statistics, sys, time
sys.path.insert(0, {repo!r})
sys.argv = ["bench", "--repeat", "{repeat}"] + {extra!r}
import xlwings as xw
from xlwings.server import custom_functions_call
from udfs import xlsector_udfs as u
from benchmarks.bench_udfs import to_cells, work_prices
from benchmarks.timing import timings
real = "--real" in sys.argv
cells = to_cells(work_prices(real), True)
def call(name, *args):
    data = {{"func_name": name, "args": [cells] + [[[a]] for a in args], "version": xw.__version__,
            "client": "Office.js", "runtime": "1.4", "culture_info_name": "en-US", "date_format": "yyyy-mm-dd"}}
    return asyncio.run(custom_functions_call(data, u))
for label, args in [("EMA2_TREND", (50,)), ("SECTOR_PICK", (50,)), ("BACKTEST_CAGR", (50,)), ("TREND_CHART", (2, 200))]:
    median, low, high = timings(lambda: call(label, *args), {repeat}, scale=1e3)
    print(f"officejs custom_functions_call {{label:14s}} {{median:8.1f}} ms  [{{low:.1f}} .. {{high:.1f}}]")
"""


def run_officejs(args: argparse.Namespace) -> None:
    """The same calls through xlwings' Office.js machinery (argument and result conversion included)."""
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    code = OFFICEJS.format(repo=str(REPO), repeat=args.repeat, extra=["--real"] if args.real else [])
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--serial", action="store_true", help="dates as Excel serial numbers (Office.js)")
    parser.add_argument("--real", action="store_true", help="real ETF prices from ../shared/data")
    parser.add_argument("--officejs", action="store_true", help="also time xlwings' custom_functions_call path")
    args = parser.parse_args()
    run_plain(args)
    if args.officejs:
        run_officejs(args)


if __name__ == "__main__":
    main()
