"""The render's inputs: the price table (workbook Data sheet, a named file, or the bundled sample) split
into the series the settings name (funds, bear funds, market index, benchmark, VIX, cash rate).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from xlsector.errors import XlsectorError
from xlsector.workbook import layout
from xlsector.workbook.settings import Settings, tickers

__all__ = ["Inputs", "load_table", "split_inputs"]


@dataclass
class Inputs:
    """Series for the computation, each on the table's dates."""

    table: pd.DataFrame  # every Data column
    funds: pd.DataFrame
    bear: pd.DataFrame | None
    index: pd.Series | None
    benchmark: pd.Series | None
    vix: pd.Series | None
    cash_rate: pd.Series | None  # annual, decimal
    provenance: dict[str, Any] = field(default_factory=dict)
    write_data: bool = False  # the table came from elsewhere: the render writes it into Data


def _sheet_cells(ws: Worksheet) -> list[tuple]:
    return [row for row in ws.iter_rows(values_only=True)]


def _has_data(ws: Worksheet) -> bool:
    return ws.max_row >= 2 and ws.max_column >= 2 and any(
        v is not None for row in ws.iter_rows(min_row=2, max_row=3, min_col=2, values_only=True) for v in row
    )


def load_table(
    ws: Worksheet | None, source: str | None, rows: list[list[Any]] | None = None
) -> tuple[pd.DataFrame, dict[str, Any], bool]:
    """(price table, provenance, came-from-elsewhere) from ``source``, the Data sheet, or the sample.

    ``rows`` are the Data sheet's rows 2.. when they were cut out before openpyxl loaded the file
    (:mod:`xlsector.workbook.data_xml`); row 1 (the header) is read from ``ws``.
    """
    if source is not None:
        from xlsector.data import load_prices

        loaded = load_prices(source)
        return _frame(loaded), _provenance(loaded, str(source)), True
    if ws is not None and rows:
        from xlsector.data import cells_to_prices
        from xlsector.data.cells import excel_serial_to_datetime

        header = [c.value for c in ws[1]]
        width = max(len(header), max(len(r) for r in rows))
        header = header + [None] * (width - len(header))
        grid = [header] + [list(r) + [None] * (width - len(r)) for r in rows]
        table = cells_to_prices(grid, header=True, dates=True)
        _ = excel_serial_to_datetime
        return table, {}, False
    if ws is not None and rows is None and _has_data(ws):
        from xlsector.data import cells_to_prices

        table = cells_to_prices(_sheet_cells(ws), header=True, dates=True)
        return table, {}, False
    from xlsector.data import load_sample

    sample = load_sample()
    return _frame(sample), _provenance(sample, "bundled sample"), True


def _frame(loaded: Any) -> pd.DataFrame:
    frame = getattr(loaded, "prices", loaded)
    if not isinstance(frame, pd.DataFrame):
        raise XlsectorError(f"data source gave {type(frame).__name__}, expected a price table")
    return frame


def _provenance(loaded: Any, fallback: str) -> dict[str, Any]:
    """Start-sheet provenance values from a :class:`xlsector.data.PriceData`'s provenance."""
    prov = getattr(loaded, "provenance", None)
    source = getattr(prov, "source", None) or fallback
    note = getattr(prov, "note", "")
    fetched = getattr(prov, "fetched_at", None)
    return {"DataSource": f"{source} ({note})" if note else source, "DataFetched": fetched}


def _column(table: pd.DataFrame, ticker: str, setting: str, settings: Settings) -> pd.Series:
    if ticker not in table.columns:
        raise XlsectorError(
            f"{settings.where(setting)} ({setting}) names {ticker!r}, which is not a column of the "
            f"{layout.DATA_SHEET} sheet (columns: {', '.join(map(str, table.columns))})"
        )
    return table[ticker]


def split_inputs(table: pd.DataFrame, settings: Settings) -> Inputs:
    """Pick the series the settings name out of the price table (each name must be a Data column)."""
    if not isinstance(table.index, pd.DatetimeIndex) or len(table) < 2:
        raise XlsectorError(f"the {layout.DATA_SHEET} sheet must hold dates in column A and at least two rows")
    names = tickers(settings["Funds"])
    funds = pd.DataFrame({t: _column(table, t, "Funds", settings) for t in names})
    bear_names = tickers(settings["BearFunds"])
    bear = pd.DataFrame({t: _column(table, t, "BearFunds", settings) for t in bear_names}) if bear_names else None
    index = _column(table, settings["MarketIndex"], "MarketIndex", settings)
    bench_name = settings["Benchmark"] or settings["MarketIndex"]
    benchmark = _column(table, bench_name, "Benchmark", settings)
    vix = _column(table, settings["VixTicker"], "VixTicker", settings) if settings["VixTicker"] else None
    cash = None
    if settings["CashRate"]:
        cash = _column(table, settings["CashRate"], "CashRate", settings) / 100.0
    return Inputs(table=table, funds=funds, bear=bear, index=index, benchmark=benchmark, vix=vix, cash_rate=cash)


def data_range(table: pd.DataFrame) -> tuple[dt.datetime, dt.datetime]:
    return table.index[0].to_pydatetime(), table.index[-1].to_pydatetime()


def finite_or_none(values: np.ndarray) -> list[Any]:
    return [None if not np.isfinite(v) else float(v) for v in values]
