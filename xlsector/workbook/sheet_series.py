"""Time-series sheets: Trends, Hysteresis, StormGuard (tables and date-axis charts)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter as L

from xlsector.workbook import charts, style
from xlsector.workbook.writer import SheetWriter

__all__ = ["weekly", "write_hysteresis", "write_stormguard", "write_trends"]

HEADER_ROW = 5


def weekly(frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """The last market day of each calendar week (charts of decades stay light; every turn still shows)."""
    index = frame.index
    week = index.to_period("W-FRI")
    keep = np.r_[week[1:] != week[:-1], True]
    return frame[keep]


def _period(frame: pd.DataFrame | pd.Series) -> str:
    return f"{frame.index[0]:%Y-%m-%d} to {frame.index[-1]:%Y-%m-%d}"


def write_trends(w: SheetWriter, trends: pd.DataFrame, tc: float, k: float) -> None:
    table = weekly(trends.dropna(how="all"))
    w.text(3, 1, f"EMA2 trend (tc={tc:g}, k={k:g}) of each fund, {_period(table)}; weekly samples (last market "
           "day of each week) of the daily trend. Trend units: about a monthly return (0.02 = 2%).", "note")
    first, last = w.table(HEADER_ROW, 1, table, default_format="0.0000")
    n = table.shape[1]
    charts.date_line_chart(
        w.ws, title=f"EMA2 trends (tc={tc:g})", date_col=1, series_cols=list(range(2, n + 2)),
        header_row=HEADER_ROW, last_row=last, anchor=f"{L(n + 3)}{HEADER_ROW}", y_title="Trend (EMA2)",
        y_format="0.00", width=30, height=15,
    )
    charts.print_charts(w.ws, f"{L(n + 3)}{HEADER_ROW}", columns=18, rows=32)
    w.widths({"A": 11})
    w.ws.freeze_panes = f"B{first}"


def write_hysteresis(w: SheetWriter, example: dict[str, Any], h: float, tc: float, decay: float | None) -> None:
    frame = example["frame"]
    a, b = example["pair"]
    w.text(3, 1, f"{a} against {b} around the market index's worst drawdown, {_period(frame)} (daily). The pair is "
           f"rotated on its own with the Settings parameters (hysteresis h={h:g}, decay "
           f"{(decay or tc):g} days): the other fund replaces the holding only when its trend exceeds the "
           "hurdle = the holding's trend + h x exp(-days since the decision / decay).", "note")
    table = frame.copy()
    held = table.pop("Holding").to_numpy()
    table[f"Held {a}"] = (held == a).astype(float)
    table[f"Held {b}"] = (held == b).astype(float)
    trade = np.where(np.r_[False, held[1:] != held[:-1]], [f"{p} -> {q}" for p, q in zip(np.r_[held[:1], held[:-1]], held)], "")
    table["Holding"] = held
    table["Trade (first day held)"] = trade
    first, last = w.table(HEADER_ROW, 1, table, formats={f"Trend {a}": "0.0000", f"Trend {b}": "0.0000",
                                                         "Hurdle (held trend + bonus)": "0.0000",
                                                         f"Held {a}": "0", f"Held {b}": "0"})
    anchor = L(table.shape[1] + 3)
    charts.date_line_chart(
        w.ws, title=f"Hysteresis: trends of {a} and {b} and the hurdle to switch", date_col=1,
        series_cols=[2, 3, 4], dashed=[4], header_row=HEADER_ROW, last_row=last, anchor=f"{anchor}{HEADER_ROW}",
        y_title="Trend (EMA2)", y_format="0.00", width=28, height=13, date_format="yyyy-mm",
    )
    charts.band_chart(
        w.ws, title="Fund held (band = held)", date_col=1, series_cols=[5, 6], header_row=HEADER_ROW,
        last_row=last, anchor=f"{anchor}{HEADER_ROW + 27}", y_title="Held", width=28, height=6,
        date_format="yyyy-mm",
    )
    charts.print_charts(w.ws, f"{anchor}{HEADER_ROW}")
    w.widths({"A": 11, "B": 11, "C": 11, "D": 14, "G": 10, "H": 16})
    w.ws.freeze_panes = f"B{first}"


def write_stormguard(w: SheetWriter, sg: pd.DataFrame, shift: float, mode: str) -> None:
    daily = sg
    bear_share = 1.0 - float(daily["bull"].mean())
    changes = int((daily["bull"].to_numpy()[1:] != daily["bull"].to_numpy()[:-1]).sum())
    table = pd.DataFrame(
        {
            "Indicator (EMA2 of the index, tc 50)": daily["indicator"].to_numpy(),
            "+shift": shift,
            "-shift": -shift,
            "Bull (1 = in market)": daily["bull"].astype(float).to_numpy(),
            "Bear (1 = out of market)": 1.0 - daily["bull"].astype(float).to_numpy(),
        },
        index=daily.index,
    )
    table = weekly(table)
    w.text(3, 1, f"Raw daily StormGuard state, {_period(daily)}, shift = {shift:g}; weekly samples shown. "
           f"Bear {bear_share:.1%} of the days, {changes} state changes. Strategy setting: StormGuard = {mode} "
           "(standard applies the state at month ends, quick on any day).", "note")
    first, last = w.table(HEADER_ROW, 1, table, formats={"Indicator (EMA2 of the index, tc 50)": "0.0000",
                                                         "+shift": "0.0000", "-shift": "0.0000",
                                                         "Bull (1 = in market)": "0", "Bear (1 = out of market)": "0"})
    anchor = L(table.shape[1] + 3)
    charts.date_line_chart(
        w.ws, title="StormGuard indicator and its +/- shift band", date_col=1, series_cols=[2, 3, 4],
        dashed=[3, 4], header_row=HEADER_ROW, last_row=last, anchor=f"{anchor}{HEADER_ROW}",
        y_title="Indicator (trend units)", y_format="0.00", width=28, height=13,
    )
    charts.band_chart(
        w.ws, title="Market state (band = bull: in market / bear: out)", date_col=1, series_cols=[5, 6],
        header_row=HEADER_ROW, last_row=last, anchor=f"{anchor}{HEADER_ROW + 27}", y_title="State",
        width=28, height=6,
    )
    charts.print_charts(w.ws, f"{anchor}{HEADER_ROW}")
    w.widths({"A": 11, "B": 16, "E": 12, "F": 12})
    w.ws.freeze_panes = f"B{first}"
    _ = style
