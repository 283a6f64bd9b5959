"""The Portfolio sheet: strategies and weights, metrics against the benchmark, correlation, the allocation (shares
to hold now) and an equity chart, written into an existing workbook file (values; see
:mod:`xlsector.workbook.added_sheet` for what is kept of the other sheets). Writing again replaces the sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter

from xlsector.workbook import style
from xlsector.workbook.added_sheet import cell_value, write_added_sheet
from xlsector.workbook.charts import date_line_chart

__all__ = ["PORTFOLIO_SHEET", "write_portfolio_sheet"]

PORTFOLIO_SHEET = "Portfolio"
_SERIES_COL = 20  # column T: the weekly equity series behind the chart (right of the tables)

_PERCENT_ROWS = {"Total return", "CAGR", "Volatility", "Max drawdown", "Win rate (days)", "Best year", "Worst year",
                 "Exposure", "Win rate (spells)"}


def write_portfolio_sheet(path: str | Path, result: Any, allocation: Any = None) -> Path:
    """Write the Portfolio sheet of ``result`` (:class:`xlsector.portfolio.PortfolioResult`) and, when given, its
    ``allocation`` (:class:`xlsector.portfolio.Allocation`) into the workbook ``path``."""
    metrics = result.metrics()
    correlation = result.correlation()

    def fill(ws: Any) -> None:
        start, end = result.period
        style.title(ws, "Portfolio of strategies",
                    f"{len(result.sleeves)} strategies rebalanced {result.rebalance}, {start:%Y-%m-%d} (start "
                    f"point) to {end:%Y-%m-%d}: the days every strategy covers. Values written by xlsector portfolio.")
        row = 4
        style.subtitle(ws, f"A{row}", "Strategies")
        row += 1
        style.header_row(ws, row, 1, ["Strategy", "Weight", "Source", "Sample"])
        for sleeve, weight in zip(result.sleeves, result.weights):
            row += 1
            ws.cell(row=row, column=1, value=sleeve.name)
            ws.cell(row=row, column=2, value=float(weight)).number_format = style.PCT
            ws.cell(row=row, column=3, value=sleeve.source)
            ws.cell(row=row, column=4, value=sleeve.sample)
        row += 2
        style.subtitle(ws, f"A{row}", "Metrics over the same days")
        row += 1
        columns = [c for c in metrics.columns if c != "definition"]
        style.header_row(ws, row, 1, ["Metric", *columns, "Definition"])
        for label, values in metrics.iterrows():
            row += 1
            ws.cell(row=row, column=1, value=str(label))
            for j, column in enumerate(columns, start=2):
                cell = ws.cell(row=row, column=j, value=cell_value(values[column]))
                cell.number_format = style.PCT if label in _PERCENT_ROWS else "0.000"
            ws.cell(row=row, column=len(columns) + 2, value=str(values["definition"]))
        row += 2
        style.subtitle(ws, f"A{row}", "Correlation of the strategies' daily returns")
        row += 1
        style.header_row(ws, row, 1, ["", *map(str, correlation.columns)])
        for label, values in correlation.iterrows():
            row += 1
            ws.cell(row=row, column=1, value=str(label))
            for j, value in enumerate(values, start=2):
                ws.cell(row=row, column=j, value=cell_value(value)).number_format = "0.00"
        if allocation is not None:
            row += 2
            style.subtitle(ws, f"A{row}", f"Allocation of {allocation.amount:,.2f}: shares to hold now "
                                          f"({'whole' if allocation.whole_shares else 'fractional'} shares at the "
                                          "last prices)")
            row += 1
            heads = ["Fund", "Strategies", "Target amount", "Last price", "Price date", "Shares", "Value", "Weight"]
            fields = ["fund", "strategies", "target", "price", "price_date", "shares", "value", "weight"]
            formats = [None, None, "#,##0.00", "#,##0.00", style.DATE, "#,##0.####", "#,##0.00", style.PCT]
            style.header_row(ws, row, 1, heads)
            for record in allocation.table.to_dict(orient="records"):
                row += 1
                for j, (field, number_format) in enumerate(zip(fields, formats), start=1):
                    cell = ws.cell(row=row, column=j, value=cell_value(record[field]))
                    if number_format:
                        cell.number_format = number_format
        # weekly growth of 1 behind the chart
        growth = result.growth()
        from xlsector.rotation import decision_days

        keep = decision_days(pd.DatetimeIndex(growth.index), "week")
        keep[0] = keep[-1] = True
        growth = growth[keep]
        style.header_row(ws, 4, _SERIES_COL, ["Date", *growth.columns])
        for i, (date, values) in enumerate(zip(pd.DatetimeIndex(growth.index), growth.to_numpy()), start=5):
            ws.cell(row=i, column=_SERIES_COL, value=date.to_pydatetime()).number_format = style.DATE
            for j, value in enumerate(values, start=_SERIES_COL + 1):
                ws.cell(row=i, column=j, value=float(value)).number_format = "0.000"
        date_line_chart(ws, title="Growth of 1 (weekly)", date_col=_SERIES_COL,
                        series_cols=list(range(_SERIES_COL + 1, _SERIES_COL + 1 + growth.shape[1])), header_row=4,
                        last_row=4 + len(growth), anchor=f"{get_column_letter(_SERIES_COL + growth.shape[1] + 2)}4", y_title="Growth of 1", log_scale=True,
                        width=22, height=11)
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["C"].width = 24

    return write_added_sheet(path, PORTFOLIO_SHEET, fill)
