"""Small workbooks that follow the workbook contract (Data, Settings, Start with provenance names)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd


def make_workbook(
    path: Path,
    prices: pd.DataFrame | None = None,
    *,
    funds: str = "",
    market_index: str = "",
    refresh_start: dt.date | None = None,
) -> Path:
    """Write a contract workbook: Start (provenance names + a formula), Settings (named values), Data."""
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName

    book = Workbook()
    start = book.active
    start.title = "Start"
    start["A1"] = "xlsector test workbook"
    start["A2"] = "Rows of data"
    start["B2"] = "=COUNT(Data!A:A)"
    names = ["DataSource", "DataFirstDate", "DataLastDate", "DataFetched", "DataTickers"]
    for row, name in enumerate(names, start=4):
        start.cell(row, 1).value = name
        start.cell(row, 2).value = None
        book.defined_names[name] = DefinedName(name, attr_text=f"Start!$B${row}")
    start["B4"] = "test data"
    settings = book.create_sheet("Settings")
    rows = [
        ("Funds", funds, "funds"),
        ("BearFunds", "", "bear funds"),
        ("MarketIndex", market_index, "index"),
        ("VixTicker", "", "vix"),
        ("CashRate", "", "cash"),
        ("RefreshStart", refresh_start, "first date to download"),
        ("TrendConstant", 50, "tc"),
    ]
    for i, (label, value, note) in enumerate(rows, start=1):
        settings.cell(i, 1).value = label
        settings.cell(i, 2).value = value
        settings.cell(i, 3).value = note
        book.defined_names[label] = DefinedName(label, attr_text=f"Settings!$B${i}")
    data = book.create_sheet("Data")
    data["A1"] = "Date"
    if prices is not None:
        for j, name in enumerate(prices.columns, start=2):
            data.cell(1, j).value = str(name)
        values = prices.to_numpy(dtype=float)
        for i, date in enumerate(prices.index, start=2):
            cell = data.cell(i, 1)
            cell.value = pd.Timestamp(date).to_pydatetime()
            cell.number_format = "yyyy-mm-dd"
            for j in range(values.shape[1]):
                if not np.isnan(values[i - 2, j]):
                    data.cell(i, j + 2).value = float(values[i - 2, j])
    book.save(path)
    return path


def sheet_values(path: Path, sheet: str) -> list[tuple]:
    """All values of one sheet (formulas as text), for before/after comparisons."""
    from openpyxl import load_workbook

    book = load_workbook(path, data_only=False)
    try:
        return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


def random_walk(
    tickers: list[str], dates: pd.DatetimeIndex, *, seed: int = 0, vol: float = 0.01
) -> pd.DataFrame:
    """Seeded synthetic prices with a common market factor (so the tickers are each other's peers)."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, vol, len(dates))
    own = rng.normal(0.0, vol / 2, (len(dates), len(tickers)))
    logs = np.cumsum(market[:, None] + own, axis=0)
    return pd.DataFrame(100 * np.exp(logs), index=dates.as_unit("us"), columns=tickers)
