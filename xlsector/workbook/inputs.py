"""The render's inputs: the price table (the workbook's Data sheet, a named file, or the bundled sample) and
the series the settings name in it (funds, bear funds, market index, VIX), each checked to exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from xlsector.contract import DATA_SHEET, WorkbookSettings
from xlsector.errors import XlsectorError

__all__ = ["WorkbookInputs", "load_table", "split_inputs", "workbook_rotation"]


@dataclass
class WorkbookInputs:
    """The price table and the series the settings name in it, each on the table's dates."""

    table: pd.DataFrame  # every Data column
    funds: pd.DataFrame
    index: pd.Series
    vix: pd.Series | None
    provenance: dict[str, Any] = field(default_factory=dict)


def load_table(header: list[Any], rows: list[list[Any]] | None, source: str | None, *,
               where: str = DATA_SHEET) -> tuple[pd.DataFrame, dict[str, Any], bool]:
    """(price table, provenance, came-from-elsewhere) from ``source``, else the Data sheet's ``header`` and
    ``rows`` (rows 2.., read from the file's XML), else the bundled sample. Prices from a file or the Data sheet
    are validated as every source is (:func:`xlsector.data.validate.check_stored`, ``where`` naming the sheet);
    a Data column with neither a header nor a value is left out."""
    if source is not None:
        from xlsector.data.sources import load_prices

        loaded = load_prices(source)
        return loaded.prices, _provenance(loaded, str(source)), True
    if rows and any(v is not None for row in rows[:2] for v in row[1:]):
        from xlsector.data.cells import cells_to_prices
        from xlsector.data.validate import check_stored

        width = max(len(header), max(len(r) for r in rows))
        grid = [header + [None] * (width - len(header))] + [list(r) + [None] * (width - len(r)) for r in rows]
        used = [j for j in range(width) if j == 0 or any(line[j] not in (None, "") for line in grid)]
        if len(used) < width:
            grid = [[line[j] for j in used] for line in grid]
        try:
            frame = cells_to_prices(grid, header=True, dates=True)
        except XlsectorError as exc:
            raise XlsectorError(f"{where}: {str(exc).removeprefix('cells: ')}") from None
        return check_stored(frame, where), {}, False
    from xlsector.data.sample import load_sample

    sample = load_sample()
    return sample.prices, _provenance(sample, "bundled sample"), True


def _provenance(loaded: Any, fallback: str) -> dict[str, Any]:
    """Start-sheet provenance values from a :class:`xlsector.data.PriceData`'s provenance."""
    prov = loaded.provenance
    source = getattr(prov, "source", None) or fallback
    note = getattr(prov, "note", "")
    return {"DataSource": f"{source} ({note})" if note else source, "DataFetched": getattr(prov, "fetched_at", None)}


def _column(table: pd.DataFrame, ticker: str, setting: str, settings: WorkbookSettings, source: str | None) -> pd.Series:
    if ticker not in table.columns:
        origin = f"the prices of --data {source}" if source else f"the {DATA_SHEET} sheet"
        raise XlsectorError(
            f"{settings.where(setting)} ({setting}) names {ticker!r}, which is not a column of {origin} "
            f"(columns: {', '.join(map(str, table.columns))}); change {settings.where(setting)} to name columns "
            f"that are there{', or give prices with that column' if source else ', or add the column to Data'}"
        )
    return table[ticker]


def split_inputs(table: pd.DataFrame, settings: WorkbookSettings, *, source: str | None = None) -> WorkbookInputs:
    """Check that every column the settings name is in the table (``source``: the --data it came from, for the
    messages), and pick the series the render uses."""
    if not isinstance(table.index, pd.DatetimeIndex) or len(table) < 2:
        raise XlsectorError(f"the {DATA_SHEET} sheet must hold dates in column A and at least two rows")
    data = settings.data

    def column(ticker: str, setting: str) -> pd.Series:
        return _column(table, ticker, setting, settings, source)

    funds = pd.DataFrame({t: column(t, "Funds") for t in data.fund_list})
    for ticker in data.bear_list:
        column(ticker, "BearFunds")
    for setting, named in (("Benchmark", data.benchmark), ("MarketTotalReturn", data.market),
                           ("CashRate", data.cash_rate)):
        if named:
            column(named, setting)
    index = column(data.index, "MarketIndex")
    vix = column(data.vix, "VixTicker") if data.vix else None
    return WorkbookInputs(table=table, funds=funds, index=index, vix=vix)


def workbook_rotation(path: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rotation a workbook's Settings describe, on its Data sheet: (fund prices, keyword arguments of
    :func:`xlsector.run_backtest` and :func:`xlsector.signal` — the strategy parameters, ``tc`` included, and
    the ``index`` (None with StormGuard off), ``bear`` and, when the Settings name one, ``cash_rate`` series)."""
    from xlsector.contract import SETTING_NAMES, read_settings
    from xlsector.data.workbook import read_data_sheet, read_named_values

    settings = read_settings(read_named_values(path, SETTING_NAMES))
    table = read_data_sheet(path).prices
    inputs = split_inputs(table, settings)
    data = settings.data
    kwargs: dict[str, Any] = dict(settings.strategy.to_dict())
    kwargs["index"] = inputs.index if settings.strategy.stormguard else None
    kwargs["bear"] = table[data.bear_list] if data.bear_list else None
    if data.cash_rate:
        kwargs["cash_rate"] = table[data.cash_rate] / 100.0  # the sheet holds percent, as the T-bill series do
    return inputs.funds, kwargs
