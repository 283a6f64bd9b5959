"""The render's inputs: the price table (the workbook's Data sheet, a named file, or the bundled sample) and
the series the settings name in it (funds, bear funds, market index, VIX), each checked to exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from xlsector.contract import DATA_SHEET, WorkbookSettings
from xlsector.errors import XlsectorError

__all__ = ["WorkbookInputs", "load_table", "split_inputs"]


@dataclass
class WorkbookInputs:
    """The price table and the series the settings name in it, each on the table's dates."""

    table: pd.DataFrame  # every Data column
    funds: pd.DataFrame
    index: pd.Series
    vix: pd.Series | None
    provenance: dict[str, Any] = field(default_factory=dict)


def load_table(header: list[Any], rows: list[list[Any]] | None, source: str | None) -> tuple[pd.DataFrame, dict[str, Any], bool]:
    """(price table, provenance, came-from-elsewhere) from ``source``, else the Data sheet's ``header`` and
    ``rows`` (rows 2.., read from the file's XML), else the bundled sample."""
    if source is not None:
        from xlsector.data.sources import load_prices

        loaded = load_prices(source)
        return loaded.prices, _provenance(loaded, str(source)), True
    if rows and any(v is not None for row in rows[:2] for v in row[1:]):
        from xlsector.data.cells import cells_to_prices

        width = max(len(header), max(len(r) for r in rows))
        grid = [header + [None] * (width - len(header))] + [list(r) + [None] * (width - len(r)) for r in rows]
        return cells_to_prices(grid, header=True, dates=True), {}, False
    from xlsector.data.sample import load_sample

    sample = load_sample()
    return sample.prices, _provenance(sample, "bundled sample"), True


def _provenance(loaded: Any, fallback: str) -> dict[str, Any]:
    """Start-sheet provenance values from a :class:`xlsector.data.PriceData`'s provenance."""
    prov = loaded.provenance
    source = getattr(prov, "source", None) or fallback
    note = getattr(prov, "note", "")
    return {"DataSource": f"{source} ({note})" if note else source, "DataFetched": getattr(prov, "fetched_at", None)}


def _column(table: pd.DataFrame, ticker: str, setting: str, settings: WorkbookSettings) -> pd.Series:
    if ticker not in table.columns:
        raise XlsectorError(
            f"{settings.where(setting)} ({setting}) names {ticker!r}, which is not a column of the {DATA_SHEET} "
            f"sheet (columns: {', '.join(map(str, table.columns))}); change the setting or the data"
        )
    return table[ticker]


def split_inputs(table: pd.DataFrame, settings: WorkbookSettings) -> WorkbookInputs:
    """Check that every column the settings name is in the table, and pick the series the render uses."""
    if not isinstance(table.index, pd.DatetimeIndex) or len(table) < 2:
        raise XlsectorError(f"the {DATA_SHEET} sheet must hold dates in column A and at least two rows")
    data = settings.data
    funds = pd.DataFrame({t: _column(table, t, "Funds", settings) for t in data.fund_list})
    for ticker in data.bear_list:
        _column(table, ticker, "BearFunds", settings)
    for setting, named in (("Benchmark", data.benchmark), ("CashRate", data.cash_rate)):
        if named:
            _column(table, named, setting, settings)
    index = _column(table, data.index, "MarketIndex", settings)
    vix = _column(table, data.vix, "VixTicker", settings) if data.vix else None
    return WorkbookInputs(table=table, funds=funds, index=index, vix=vix)
