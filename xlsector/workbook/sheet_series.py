"""Time-series sheets: Trends, Hysteresis, StormGuard. Each table is one live xlsector formula over the
Data table and the Settings names; the charts read its range."""

from __future__ import annotations

from openpyxl.utils import get_column_letter as L

from xlsector.contract import DATA_TABLE
from xlsector.workbook import charts, style
from xlsector.workbook.calls import Calls
from xlsector.workbook.compute import HysteresisExample
from xlsector.workbook.writer import SheetWriter

__all__ = ["write_hysteresis", "write_stormguard", "write_trends"]

HEADER_ROW = 5


def write_trends(w: SheetWriter, calls: Calls) -> None:
    w.text(3, 1, "EMA2 trend (tc = TrendConstant, k = Scale) of each fund (Settings Funds), daily, from each fund's "
           "first price. Trend units: about a monthly return (0.02 = 2%). Column A and the trends are two live "
           "formulas over the Data table.", "note")
    dates = w.array(HEADER_ROW, 1, f"=INDEX({DATA_TABLE},0,1)", [style.DATE])
    trends = w.array(HEADER_ROW, 2, calls("EMA2_TREND", header=None, dates=None), default_format="0.0000")
    if trends.ok:
        charts.date_line_chart(
            w.ws, title="EMA2 trends (tc = TrendConstant)", date_col=1,
            series_cols=list(range(2, 2 + trends.width)), header_row=HEADER_ROW, last_row=dates.last_row,
            anchor=f"{L(trends.width + 3)}{HEADER_ROW}", y_title="Trend (EMA2)", y_format="0.00", width=30,
            height=15,
        )
        charts.print_charts(w.ws, f"{L(trends.width + 3)}{HEADER_ROW}", columns=18, rows=32)
    w.widths({"A": 11})
    w.ws.freeze_panes = f"B{HEADER_ROW + 1}"


def write_hysteresis(w: SheetWriter, calls: Calls, example: HysteresisExample) -> None:
    a, b = example.pair
    w.text(3, 1, "Two funds rotated on their own with the Settings parameters (StormGuard off), around the market "
           "index's worst drawdown: the other fund replaces the target only when its trend exceeds the hurdle = "
           "the target's trend + Hysteresis x exp(-days since the decision / decay). Change the funds or the "
           "dates in row 4: the table follows.", "note")
    w.text(4, 1, "Funds")
    w.value(4, 2, f"{a},{b}")
    w.text(4, 3, "From")
    w.value(4, 4, example.start.to_pydatetime(), style.DATE)
    w.text(4, 5, "To")
    w.value(4, 6, example.end.to_pydatetime(), style.DATE)
    window = {"index": None, "stormguard": None, "as_of": "$F$4", "funds": "$B$4", "start": "$D$4", "bear": None}
    table = w.array(HEADER_ROW, 1, calls("SECTOR_PICKS", daily=True, detail=True, **window),
                    [style.DATE, None, None, "0.0000"], default_format="0.0000")
    col = table.width + 2
    w.text(HEADER_ROW - 1, col, "Trades in the window (first day held)", "subtitle")
    trades = w.array(HEADER_ROW, col, calls("SECTOR_PICKS", daily=False, **window), [style.DATE])
    if table.ok:
        anchor = L(col + trades.width + 1)
        charts.date_line_chart(
            w.ws, title=f"Hysteresis: trends of {a} and {b} and the hurdle to switch", date_col=1,
            series_cols=[5, 6, 4], dashed=[4], header_row=HEADER_ROW, last_row=table.last_row,
            anchor=f"{anchor}{HEADER_ROW}", y_title="Trend (EMA2)", y_format="0.00", width=28, height=13,
            date_format="yyyy-mm",
        )
        charts.print_charts(w.ws, f"{anchor}{HEADER_ROW}")
    w.widths({"A": 11, "B": 11, "C": 11, "D": 11, L(col): 11})
    w.ws.freeze_panes = f"B{HEADER_ROW + 1}"


def write_stormguard(w: SheetWriter, calls: Calls) -> None:
    w.text(3, 1, "Raw daily StormGuard state from the market index (Settings MarketIndex, a price index): the "
           "indicator is the EMA2 (tc 50) of its daily returns; bull -> bear below -StormGuardShift, bear -> bull "
           "above +StormGuardShift. The strategy applies it at month ends (standard) or on any day (quick), as "
           "Settings StormGuard says.", "note")
    table = w.array(HEADER_ROW, 1, calls("STORMGUARD_HISTORY", index=DATA_TABLE, column="MarketIndex", band=True),
                    [style.DATE, "0.0000", None, "0.0000", "0.0000"])
    if table.ok:
        anchor = L(table.width + 3)
        charts.date_line_chart(
            w.ws, title="StormGuard indicator and its +/- shift band", date_col=1, series_cols=[2, 4, 5],
            dashed=[4, 5], header_row=HEADER_ROW, last_row=table.last_row, anchor=f"{anchor}{HEADER_ROW}",
            y_title="Indicator (trend units)", y_format="0.00", width=28, height=13,
        )
        charts.print_charts(w.ws, f"{anchor}{HEADER_ROW}")
    w.widths({"A": 11, "B": 12, "C": 8, "D": 12, "E": 12})
    w.ws.freeze_panes = f"B{HEADER_ROW + 1}"

