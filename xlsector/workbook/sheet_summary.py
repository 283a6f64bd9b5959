"""The Summary sheet (live SECTOR_PICK / BACKTEST_CAGR formulas and headline metrics) and the Start
sheet's provenance cells."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter as L

from xlsector.workbook import charts, layout, style
from xlsector.workbook.sheet_series import weekly
from xlsector.workbook.writer import SheetWriter, clean

__all__ = ["strategy_args", "write_provenance", "write_summary"]

METRIC_ROW = 12


def strategy_args(has_bear: bool) -> str:
    """The shared argument list of SECTOR_PICK / BACKTEST_CAGR, from the named cells."""
    args = ("FundPrices,TrendConstant,Hysteresis,IndexPrices,StormGuard,,Schedule,Delay,CostBp,MinHold,"
            "MinHistory,HysteresisDecay,StormGuardShift,Scale")
    return args + (",BearPrices" if has_bear else "")


def _fmt(label: str) -> str:
    text = label.lower()
    if any(word in text for word in ("cagr", "return", "volatility", "drawdown", "win rate", "exposure",
                                     "year")) and "years" not in text:
        return style.PCT
    if text in ("days", "trades"):
        return "0"
    return "0.00"


def write_summary(w: SheetWriter, computed: Any, has_bear: bool, fwpt: dict[str, Any] | None) -> None:
    main = computed.main
    period = f"{main.dates[0]:%Y-%m-%d} to {main.dates[-1]:%Y-%m-%d}"
    w.text(3, 1, f"Strategy with the Settings parameters over the whole backtest period, {period} (in sample: the "
           "parameters were not tuned out of sample; see the FWPT sheet for the walk-forward).", "note")
    args = strategy_args(has_bear)
    w.text(5, 1, "Current pick", "subtitle")
    w.formula(5, 2, f"=SECTOR_PICK({args})", None)  # value: the function itself (formula evaluator)
    w.text(5, 3, "Fund held on the last data row (SECTOR_PICK: best EMA2 trend with hysteresis, StormGuard).",
           "note")
    w.text(6, 1, "As of")
    w.formula(6, 2, "=DataLastDate", main.dates[-1], style.DATE)
    w.text(7, 1, "Backtest CAGR")
    w.formula(7, 2, f"=BACKTEST_CAGR({args})", None, style.PCT)
    w.text(7, 3, "(V_end / V_start)^(365.25 / calendar days) - 1 of the rotation, net of costs (BACKTEST_CAGR).",
           "note")
    w.text(8, 1, "Next retune date")
    if fwpt and fwpt.get("next_retune") is not None:
        w.value(8, 2, fwpt["next_retune"], style.DATE)
        w.text(8, 3, fwpt.get("next_retune_note", "FWPT retunes the trend constant about every RetuneDays "
                                                  "market days (estimated from the business-day calendar)."), "note")
    else:
        w.value(8, 2, "n/a")
    w.text(9, 1, "Tuned tc (FWPT)")
    w.value(9, 2, fwpt.get("current_tc") if fwpt else "n/a")
    w.text(9, 3, "Trend constant the walk-forward uses now (see FWPT).", "note")
    w.text(METRIC_ROW - 1, 1, f"Headline metrics, {period}; benchmark = {main.benchmark_label}, same days", "subtitle")
    table = computed.metrics
    w.header(METRIC_ROW, 1, ["Metric", "Strategy", "Benchmark", "Definition"])
    for i, (label, row) in enumerate(table.iterrows()):
        r = METRIC_ROW + 1 + i
        fmt = _fmt(str(label))
        w.value(r, 1, str(label))
        w.value(r, 2, clean(row.get("strategy")), fmt)
        w.value(r, 3, clean(row.get("benchmark")) if "benchmark" in table.columns else None, fmt)
        w.value(r, 4, str(row.get("definition", "")))
    last_metric = METRIC_ROW + len(table)
    # Equity against the benchmark (weekly samples), log scale.
    equity = pd.DataFrame({
        "Strategy": main.equity.to_numpy(),
        f"Benchmark ({main.benchmark_label})": (1.0 + main.benchmark_returns).cumprod().to_numpy(),
    }, index=main.dates)
    equity = weekly(equity)
    col = 7
    eq_row = METRIC_ROW
    first, last = w.table(eq_row, col, equity, default_format="0.000")
    charts.date_line_chart(
        w.ws, title=f"Growth of 1: strategy (tc={computed.params['tc']:g}) against {main.benchmark_label}",
        date_col=col, series_cols=[col + 1, col + 2], header_row=eq_row, last_row=last, anchor="K4",
        y_title="Equity (log scale)", y_format="General", log_scale=True, width=24, height=12,
    )
    charts.print_charts(w.ws, "K4", columns=14, rows=26)
    w.widths({"A": 22, "B": 14, "C": 14, "D": 70, L(col): 11, L(col + 1): 10, L(col + 2): 12})
    _ = last_metric


def write_provenance(wb: Any, provenance: dict[str, Any], table: pd.DataFrame) -> None:
    """Fill the Start sheet's named provenance cells (DataSource ... RenderedAt)."""
    from xlsector.workbook.settings import named_cell

    values = {
        "DataSource": provenance.get("DataSource"),
        "DataFirstDate": table.index[0].to_pydatetime(),
        "DataLastDate": table.index[-1].to_pydatetime(),
        "DataFetched": provenance.get("DataFetched"),
        "DataTickers": ", ".join(str(c) for c in table.columns),
        "RenderedAt": dt.datetime.now().replace(microsecond=0),
    }
    for name, label, fmt in layout.PROVENANCE:
        found = named_cell(wb, name)
        if found is None:
            continue
        sheet, ref = found
        value = values.get(name)
        if value is None and name in ("DataSource", "DataFetched"):
            continue  # keep what the refresh wrote
        cell = wb[sheet][ref]
        cell.value = clean(value)
        if fmt:
            cell.number_format = fmt
