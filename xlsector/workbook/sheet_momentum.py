"""Momentum sheet: the four-phase momentum-rotation experiment of SPEC section 3 on the workbook's funds
(one table and one chart per phase, a bar chart of each phase's best against the benchmark)."""

from __future__ import annotations

from typing import Any

import numpy as np
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter as L

from xlsector.workbook import charts, style
from xlsector.workbook.compute import MomentumStudy
from xlsector.workbook.writer import SheetWriter

__all__ = ["write_momentum"]

#: Columns of each phase table: (result column, header, number format).
COLUMNS = [
    ("CAGR", "CAGR", style.PCT),
    ("Sharpe ratio", "Sharpe", "0.000"),
    ("Max drawdown", "Max DD", style.PCT),
    ("Win rate (days)", "Win days", style.PCT),
    ("BPS", "BPS", "0.000"),
    ("Trades", "Trades", "0"),
    ("Exposure", "Exposure", style.PCT),
    ("Average leverage", "Avg lev.", "0.00"),
    ("OOS CAGR", "OOS CAGR", style.PCT),
    ("OOS Sharpe ratio", "OOS Sharpe", "0.000"),
    ("OOS Max drawdown", "OOS Max DD", style.PCT),
]
CHART_COL = 16  # column P: charts right of the tables
PHASE_LABELS = {
    "lookback": "Momentum lookback N (market days)",
    "leverage": "Leverage",
    "ma_filter": "Benchmark SMA filter (days; 0 = off)",
}


def _value(v: Any) -> Any:
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v)
    return str(v)


def write_momentum(w: SheetWriter | Any, mom: MomentumStudy) -> None:
    """The Momentum sheet's tables (and, through an openpyxl writer, its charts). ``w`` is the render's
    :class:`SheetWriter` or the Recalculate button's cell sink (:class:`xlsector.addin.refresh.CellSink`,
    ``ws`` None: values only), so both write the same cells."""
    w.text(4, 1, "Values, not a formula: a phased experiment (each phase starts from the previous phase's best) is "
           "recomputed by `xlsector render` or the Recalculate button, not by Excel's recalculation.", "note")
    if mom.error:
        w.text(3, 1, f"Momentum experiment not possible: {mom.error}", "note")
        return
    result = mom.result
    table = result.table
    experiment = result.experiment
    base = experiment.base
    p0, p1 = result.period
    s0, s1 = result.selection_period
    o = result.oos_period
    vix_text = (
        "Phase 2 grids VIX-scaled leverage (base x 30 / max(VIX, 15), clipped to the profile's range)."
        if mom.has_vix else
        "No VIX column (Settings VixTicker blank or absent from Data): phase 2 grids FIXED leverage 1.0-2.0, which "
        "is the VIX formula base x 30 / max(VIX, 15) with the VIX held at a constant 30."
    )
    w.text(3, 1, f"Shipped experiment '{mom.experiment}' ({experiment.path.name}) adapted to the workbook: funds = "
           f"Settings Funds, benchmark = {mom.benchmark}. Base profile '{base.name}': "
           + ", ".join(f"{k}={v}" for k, v in experiment.base.params.items())
           + f". Each phase grids one parameter starting from the best of the previous phase, ranked by "
           f"{experiment.rank_by} on the selection period {s0:%Y-%m-%d} to {s1:%Y-%m-%d} (select_until "
           f"{mom.select_until}{mom.select_note}); OOS columns: the later days "
           + (f"{o[0]:%Y-%m-%d} to {o[1]:%Y-%m-%d}" if o else "(none)") + f". Reported period {p0:%Y-%m-%d} to "
           f"{p1:%Y-%m-%d}. " + vix_text, "note")
    row = 6
    slots = [(CHART_COL, 5), (CHART_COL + 9, 5), (CHART_COL, 24), (CHART_COL + 9, 24)]
    n_chart = 0
    bests = []
    for phase in experiment.phases:
        rows = table[table["phase"] == phase.name]
        label = PHASE_LABELS.get(phase.parameter or "", phase.parameter or "combined")
        title = f"Phase '{phase.name}': " + (f"grid of {phase.parameter}" if phase.parameter else
                                             "one run with the best of " + ", ".join(phase.combine))
        w.text(row, 1, title, "subtitle")
        header_row = row + 1
        w.header(header_row, 1, [phase.parameter or "combined", *[h for _, h, _ in COLUMNS], "Best"])
        for i, (_, line) in enumerate(rows.iterrows()):
            r = header_row + 1 + i
            w.value(r, 1, _value(line["value"]), "0.00" if isinstance(line["value"], float) else None)
            for j, (key, _, fmt) in enumerate(COLUMNS):
                w.value(r, 2 + j, line.get(key), fmt)
            w.value(r, 2 + len(COLUMNS), "best" if line["best"] else "")
            if line["best"]:
                bests.append((phase.name, line))
        last = header_row + len(rows)
        if phase.parameter and len(rows) > 1 and w.ws is not None:
            charts.scatter_chart(
                w.ws, title=f"{phase.name}: Sharpe and CAGR against {phase.parameter}", x_col=1,
                y_cols=[3, 2 + COLUMNS.index(("OOS Sharpe ratio", "OOS Sharpe", "0.000")), 2],
                header_row=header_row, last_row=last, anchor=f"{L(slots[n_chart][0])}{slots[n_chart][1]}",
                x_title=label, y_title="Sharpe (ratio) / CAGR (fraction)", y_format="0.00", markers=True, lines=True,
                width=15, height=9,
            )
            n_chart += 1
        row = last + 2
    # Bests of each phase and the benchmark, side by side (bar chart).
    bench = table[table["phase"] == "benchmark"]
    phase_param = {phase.name: phase.parameter for phase in experiment.phases}
    w.text(row, 1, "Best run of each phase and the benchmark (buy and hold), selection period", "subtitle")
    header_row = row + 1
    w.header(header_row, 1, ["Run", "CAGR", "Sharpe", "Max DD", "OOS CAGR", "OOS Sharpe"])
    lines = [(f"{name} = {_value(line['value']):g}" if phase_param.get(name) else name, line) for name, line in bests]
    lines += [(f"benchmark {mom.benchmark_label or mom.benchmark}", line) for _, line in bench.iterrows()]
    for i, (name, line) in enumerate(lines):
        r = header_row + 1 + i
        w.value(r, 1, name)
        for j, (key, fmt) in enumerate([("CAGR", style.PCT), ("Sharpe ratio", "0.000"), ("Max drawdown", style.PCT),
                                        ("OOS CAGR", style.PCT), ("OOS Sharpe ratio", "0.000")]):
            w.value(r, 2 + j, line.get(key), fmt)
    last = header_row + len(lines)
    if w.ws is not None:
        _bar_chart(w, header_row, last, slots[min(n_chart, len(slots) - 1)])
    row = last + 2
    if mom.overfit is not None:
        row = _overfit(w, mom.overfit, row)
    w.text(row, 1, "Definitions", "subtitle")
    for i, (key, text) in enumerate(result.definitions.items()):
        w.value(row + 1 + i, 1, key)
        w.value(row + 1 + i, 2, text)
    w.text(row + 2 + len(result.definitions), 1, "OOS = the same figure over the days after select_until (out of "
           "sample for the choice of each phase's best).", "note")
    if w.ws is not None:
        charts.print_charts(w.ws, f"{L(CHART_COL)}5", columns=18, rows=38)
    w.widths({"A": 24, **{L(2 + j): 10 for j in range(len(COLUMNS) + 1)}})


#: The overfitting table: (column of experiment_report, header, number format).
OVERFIT_COLUMNS = [
    ("best", "Best", None),
    ("n_trials", "Trials N", "0"),
    ("return_days", "Days", "0"),
    ("sharpe_annual", "Sharpe", "0.000"),
    ("psr", "PSR", "0.0000"),
    ("dsr", "DSR", "0.0000"),
    ("pbo", "PBO", "0.0000"),
    ("oos_psr", "OOS PSR", "0.0000"),
]


def _overfit(w: SheetWriter | Any, report: Any, row: int) -> int:
    """Each phase's best with its trial count N, PSR, DSR and its grid's PBO (selection period); the next row."""
    w.text(row, 1, "Overfitting of each phase's best (selection period): N = every grid point of every phase so far",
           "subtitle")
    header_row = row + 1
    w.header(header_row, 1, ["Phase", *[h for _, h, _ in OVERFIT_COLUMNS], "Note"])
    for i, (phase, line) in enumerate(report.iterrows()):
        r = header_row + 1 + i
        w.value(r, 1, str(phase))
        for j, (key, _, fmt) in enumerate(OVERFIT_COLUMNS):
            value = line.get(key)
            w.value(r, 2 + j, _value(value) if key == "best" else value, fmt)
        notes = [n for n in (line.get("dsr_note"), line.get("pbo_note")) if isinstance(n, str) and n]
        w.value(r, 2 + len(OVERFIT_COLUMNS), "; ".join(notes) or f"PBO metric: {line.get('pbo_metric')}")
    last = header_row + len(report)
    w.text(last + 1, 1, "PSR = P[true Sharpe > 0] of the best on the selection period (one trial); DSR = the same "
           "against the expected best of N trials; PBO = CSCV over the phase's own grid (16 blocks); OOS PSR = the "
           "best's PSR after select_until. " + report.attrs.get("conventions", ""), "note")
    return last + 3


def _bar_chart(w: SheetWriter, header_row: int, last: int, slot: tuple[int, int]) -> None:
    """Sharpe of each phase's best and of the benchmark (the table at ``header_row``)."""
    bar = BarChart()
    bar.type = "bar"
    bar.title = "Sharpe of each phase's best and of the benchmark"
    bar.y_axis.title = "Sharpe ratio"
    bar.y_axis.delete = False
    bar.x_axis.delete = False
    bar.x_axis.tickLblSkip = 1  # every run's label
    bar.width, bar.height = 15, 9
    bar.legend.position = "b"
    bar.add_data(Reference(w.ws, min_col=3, min_row=header_row, max_row=last), titles_from_data=True)
    bar.add_data(Reference(w.ws, min_col=6, min_row=header_row, max_row=last), titles_from_data=True)
    bar.set_categories(Reference(w.ws, min_col=1, min_row=header_row + 1, max_row=last))
    for i, series in enumerate(bar.series):
        series.graphicalProperties.solidFill = ["1F77B4", "FF7F0E"][i]
    w.ws.add_chart(bar, f"{L(slot[0])}{slot[1]}")

