"""The Summary sheet (today's action, the strategy's metrics against its benchmark, the FWPT tuning now, the
equity chart: all live formulas) and the Start sheet's provenance cells."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter as L

from xlsector.contract import PROVENANCE, START_SHEET, named_values, resolve_cell
from xlsector.workbook import charts, layout, style
from xlsector.workbook.calls import Calls
from xlsector.workbook.writer import Block, SheetWriter, clean, replace_merge

__all__ = ["write_provenance", "write_summary"]

EQUITY_COL = 8  # column H: the equity series behind the chart


#: Where the disclosure and the stale-data flag stand (rows 4 and 6, columns A..F: the first screen).
DISCLOSURE_ROW, STALE_ROW, NOTE_LAST_COL = 4, 6, 6


def write_summary(w: SheetWriter, calls: Calls, fwpt_summary: Block, fwpt_formula: str, source: object = None) -> None:
    """``fwpt_summary``/``fwpt_formula``: the FWPT sheet's summary block and its formula (Summary reads two of
    its rows through INDEX, so it follows the same settings); ``source``: the data's provenance (DataSource),
    which picks the survivorship disclosure."""
    w.text(3, 1, "Live: every number below is an xlsector formula over the Settings and the Data table "
           "(DataTable). The metrics are in sample: the parameters were chosen by you, not tuned out of sample; "
           "see FWPT for the walk-forward.", "note")
    w.text(DISCLOSURE_ROW, 1, layout.disclosure_for(source), "disclosure")
    w.merge(DISCLOSURE_ROW, 1, NOTE_LAST_COL, height=78)
    w.text(5, 1, "Held on the last row", "subtitle")
    w.formula(5, 2, calls("SECTOR_PICK"), None)  # value: the function itself (formula evaluator)
    w.text(5, 3, "SECTOR_PICK: the fund earning the last row's return (best EMA2 trend with hysteresis, StormGuard)."
           " What to do next is below.", "note")
    w.text(7, 1, "Today's action", "subtitle")
    signal = w.array(8, 1, calls("SECTOR_SIGNAL"), [None, "0.0000", None])
    row = signal.last_row + 2
    w.text(row, 1, "FWPT now", "subtitle")
    labels = [r[0] for r in fwpt_summary.rows]
    retune = ""
    for i, label in enumerate(("Tuned tc now", "Next retune (estimate)")):
        w.value(row + 1 + i, 1, label)
        if label in labels:
            cell = f"INDEX({fwpt_formula.removeprefix('=')},{labels.index(label) + 1},2)"
            w.formula(row + 1 + i, 2, f"={cell}", None, "0" if i == 0 else style.DATE)
            retune = cell if i == 1 else retune
    w.formula(STALE_ROW, 1, f"=STALE_DATA(DataLastDate,{retune},TODAY())", None,
              font=style.WARNING_FONT, alignment=style.WRAP)
    w.merge(STALE_ROW, 1, NOTE_LAST_COL, height=32)
    row += 4
    w.text(row, 1, "Backtest metrics (Settings parameters, whole period) against the fair benchmarks over the same "
           "days: the funds bought and held, the funds rebalanced daily, the market (total return, or the price "
           "index labelled price only)", "subtitle")
    metrics = w.array(row + 1, 1, calls("BACKTEST_METRICS", with_benchmark=True), [None, "0.0000", None],
                      default_format="0.0000", wrap_header=True)
    if metrics.ok:
        w.ws.row_dimensions[metrics.row].height = 75
    equity = w.array(5, EQUITY_COL, calls("BACKTEST_EQUITY", every=None), [style.DATE], default_format="0.000")
    if equity.ok:
        charts.date_line_chart(
            w.ws, title="Growth of 1: the strategy (Settings parameters) against its fair benchmarks",
            date_col=EQUITY_COL, series_cols=list(range(EQUITY_COL + 1, EQUITY_COL + equity.width)), header_row=5,
            last_row=equity.last_row, anchor=f"{L(EQUITY_COL + equity.width + 1)}5", y_title="Equity (log scale)",
            y_format="General", log_scale=True, width=24, height=12,
        )
        charts.print_charts(w.ws, f"{L(EQUITY_COL + equity.width + 1)}5", columns=14, rows=26)
    w.widths({"A": 26, "B": 22, "C": 60, "D": 16, "E": 16, "F": 18, L(EQUITY_COL): 11, L(EQUITY_COL + 1): 10,
              **{L(EQUITY_COL + j): 12 for j in range(2, max(equity.width, 3))}})


def write_provenance(wb: Any, provenance: dict[str, Any], table: pd.DataFrame) -> None:
    """Fill the Start sheet's named provenance cells (DataSource ... RenderedAt)."""
    stored = named_values(wb, [name for name, _, _ in PROVENANCE])
    values = {
        "DataSource": provenance.get("DataSource") or stored.get("DataSource"),
        "DataFirstDate": table.index[0].to_pydatetime(),
        "DataLastDate": table.index[-1].to_pydatetime(),
        "DataFetched": provenance.get("DataFetched") or stored.get("DataFetched"),
        "DataTickers": ", ".join(str(c) for c in table.columns),
        "RenderedAt": dt.datetime.now().replace(microsecond=0),
    }
    for name, _, fmt in PROVENANCE:
        found = resolve_cell(wb, name)
        if found is None:
            continue
        cell = wb[found[0]][found[1]]
        cell.value = clean(values.get(name))
        if fmt:
            cell.number_format = fmt
    if START_SHEET in wb.sheetnames:
        write_disclosure(wb[START_SHEET], values["DataSource"])


#: The Start sheet's disclosure: row 3, merged across A..B (the first screen, above the provenance).
START_DISCLOSURE_ROW = 3


def write_disclosure(ws: Any, source: object) -> None:
    """The survivorship disclosure in plain sight on the Start sheet (row 3, A..B merged, wrapped, tall)."""
    replace_merge(ws, START_DISCLOSURE_ROW, 1, 2)
    cell = ws.cell(row=START_DISCLOSURE_ROW, column=1, value=layout.disclosure_for(source))
    style.disclosure(cell)
    ws.row_dimensions[START_DISCLOSURE_ROW].height = 64
