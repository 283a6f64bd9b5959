"""Tuning sheets: TrendChart (score against tc), Stationarity (split sample, progressive tune) and FWPT
(tuned tc over time, holdings, equity, in- vs out-of-sample metrics). Every table is a live formula
(TREND_CHART, SPLIT_SAMPLE, PROGRESSIVE_TUNE, FWPT_TABLE) over the Data table and the Settings names; the
functions share one run of the tc grid (cached by content)."""

from __future__ import annotations

from openpyxl.utils import get_column_letter as L

from xlsector.workbook import charts, style
from xlsector.workbook.calls import Calls, Quoted
from xlsector.workbook.writer import Block, SheetWriter

__all__ = ["write_fwpt", "write_stationarity", "write_trend_chart"]

HEADER_ROW = 5
TC_AXIS = "Trend constant tc (market days)"


def _tc_range(block: Block) -> tuple[float, float] | None:
    """The tc axis from a round number at or below the grid's start to its end."""
    tcs = [row[0] for row in block.rows[1:] if isinstance(row[0], float | int)]
    if not tcs:
        return None
    low = float(tcs[0])
    return (float(int(low / 10.0) * 10.0) if low > 1 else low, float(tcs[-1]))


def write_trend_chart(w: SheetWriter, calls: Calls) -> None:
    w.text(3, 1, "In sample: every trend constant of the grid TcMin..TcMax is run over the whole backtest period "
           "with the other Settings parameters, and scored on the same days (score = sum of daily log returns "
           "= log growth of 1). The peak is the best tc in hindsight; a wide plateau is a flat optimum.", "note")
    table = w.array(HEADER_ROW, 1, calls("TREND_CHART", part=None),
                    ["0", "0.0000", style.PCT, "0", style.PCT])
    plateau = w.array(HEADER_ROW, 7, calls("TREND_CHART", part=Quoted("plateau")), ["0", "0.0000"])
    facts_col = 10
    w.text(HEADER_ROW - 1, facts_col, "Peak, plateau, grid edge, overfitting (in sample)", "subtitle")
    summary_call = calls("TREND_CHART", part=Quoted("summary"))
    summary = w.array(HEADER_ROW, facts_col, summary_call, [None, "0.0000"])
    _warning_cell(w, summary, summary_call)
    row = summary.last_row + 3
    w.text(row - 1, facts_col, "Overfitting statistics of the peak tc (OVERFIT_STATS: every figure with its N and "
           "definition)", "subtitle")
    w.array(row, facts_col, calls("OVERFIT_STATS"), [None, "0.0000", None])
    chart_col = facts_col + 4
    if table.ok:
        anchor = f"{L(chart_col)}{HEADER_ROW}"
        x_range = _tc_range(table)
        charts.scatter_chart(
            w.ws, title="Trend chart: score against tc (in sample; large points: the plateau)", x_col=1,
            y_cols=[2] + ([8] if plateau.ok else []), header_row=HEADER_ROW, last_row=table.last_row, anchor=anchor,
            x_title=TC_AXIS, y_title="Score = log growth of 1", y_format="0.0", width=24, height=12,
            x_range=x_range, marker_sizes=(4, 7),
        )
        charts.scatter_chart(
            w.ws, title="CAGR and max drawdown against tc", x_col=1, y_cols=[3, 5], header_row=HEADER_ROW,
            last_row=table.last_row, anchor=f"{L(chart_col)}{HEADER_ROW + 25}", x_title=TC_AXIS,
            y_title="Fraction", y_format="0%", width=24, height=10, x_range=x_range,
        )
        charts.print_charts(w.ws, anchor, columns=14, rows=46)
    _robustness(w, calls, chart_col, HEADER_ROW + 49)
    w.widths({"A": 7, "B": 11, "C": 10, "D": 9, "E": 11, "G": 7, "H": 11, L(facts_col): 34, L(facts_col + 1): 14,
              L(facts_col + 2): 70})
    w.ws.freeze_panes = f"B{HEADER_ROW + 1}"


def _warning_cell(w: SheetWriter, summary: Block, summary_call: str) -> None:
    """Row 4: the summary's "Warning" (grid edge, one-tc plateau) in red, merged across the table's columns."""
    labels = [r[0] for r in summary.rows]
    w.text(4, 1, "Check:", "subtitle")
    if "Warning" not in labels:
        return
    at = labels.index("Warning") + 1
    value = summary.rows[at - 1][1]
    w.formula(4, 2, f"=INDEX({summary_call.removeprefix('=')},{at},2)", value, font=style.WARNING_FONT,
              alignment=style.WRAP)
    w.merge(4, 2, 8, height=64 if value not in (None, "none") else None)


def _robustness(w: SheetWriter, calls: Calls, col: int, row: int) -> None:
    """Below the charts: the tc x hysteresis map (coloured, the chosen point framed) and the timing luck."""
    from openpyxl.formatting.rule import ColorScaleRule, FormulaRule
    from openpyxl.styles import Border, Font, Side

    w.text(row - 1, col, "Robustness: CAGR over tc (down) x hysteresis (across), in sample; framed: the chosen "
           "point (the trend chart's peak at the Hysteresis setting). A robust choice sits on a plateau of "
           "similar colour, not on a lone spike.", "subtitle")
    heat = w.array(row, col, calls("ROBUSTNESS_MAP", values=None, metric=None, part=None),
                   ["0"], default_format=style.PCT)
    info_col = col + max(heat.width, 6) + 1
    chosen = w.array(row, info_col, calls("ROBUSTNESS_MAP", values=None, metric=None, part=Quoted("chosen")),
                     [None, "0.0000", None])
    w.ws.conditional_formatting = type(w.ws.conditional_formatting)()  # every rule here is the render's
    if heat.ok and heat.width > 1:
        body = f"{L(col + 1)}{heat.row + 1}:{L(col + heat.width - 1)}{heat.last_row}"
        w.ws.conditional_formatting.add(body, ColorScaleRule(start_type="min", start_color="F8696B",
                                                            mid_type="percentile", mid_value=50, mid_color="FFEB84",
                                                            end_type="max", end_color="63BE7B"))
        if chosen.ok and len(chosen.rows) > 3:
            tc_cell = f"${L(info_col + 1)}${chosen.row + 2}"
            h_cell = f"${L(info_col + 1)}${chosen.row + 3}"
            rule = FormulaRule(formula=[f"AND(${L(col)}{heat.row + 1}={tc_cell},{L(col + 1)}${heat.row}={h_cell})"],
                               font=Font(bold=True, color="000000"),
                               border=Border(*(Side(style="medium", color="000000"),) * 4))
            w.ws.conditional_formatting.add(body, rule)
    timing_row = max(heat.last_row, chosen.last_row) + 3
    w.text(timing_row - 1, col, "Timing luck: the Settings strategy with its decision day shifted 0..4 market days "
           "after the week/month end (daily decisions: no luck to measure); and the same with month-end decisions",
           "subtitle")
    luck = w.array(timing_row, col, calls("TIMING_LUCK", offsets=None, part=None), ["0", style.PCT, "0.000",
                                                                                      style.PCT, "0"])
    w.array(timing_row, col + luck.width + 1, calls("TIMING_LUCK", offsets=None, part=Quoted("summary")),
            [None, style.PCT, None])
    month_row = max(luck.last_row, timing_row + 5) + 2
    month = w.array(month_row, col, calls("TIMING_LUCK", schedule=Quoted("month"), offsets=None, part=None),
                    ["0", style.PCT, "0.000", style.PCT, "0"])
    w.array(month_row, col + month.width + 1, calls("TIMING_LUCK", schedule=Quoted("month"), offsets=None,
                                                   part=Quoted("summary")), [None, style.PCT, None])


def write_stationarity(w: SheetWriter, calls: Calls) -> None:
    w.text(3, 1, "Split sample (in sample per window): one rotation run over the whole period; each window scores "
           "every tc on its own days. A stable optimum has similar peaks in both halves. Right: progressive tune, "
           "the best tc on the prior 250 market days, every 125 days.", "note")
    split = w.array(HEADER_ROW, 1, calls("SPLIT_SAMPLE", part=None), ["0"], default_format="0.0000")
    col = split.width + 2
    progressive = w.array(HEADER_ROW, col, calls("PROGRESSIVE_TUNE", window=None, step=None, part=None),
                          [style.DATE, style.DATE, "0", "0.0000"])
    anchor_col = L(col + progressive.width + 1)
    below = HEADER_ROW + 49
    w.text(below - 1, col + progressive.width + 1, "Overfitting of each window's peak (N = every tc of the grid) "
           "and the first half's peak out of sample", "subtitle")
    stats = w.array(below, col + progressive.width + 1, calls("SPLIT_SAMPLE", part=Quoted("overfit")),
                    [None, style.DATE, style.DATE, "0", "0.000", "0.0000", "0.0000", "0", "0.0000"])
    w.text(stats.last_row + 2, col + progressive.width + 1, "Progressive tune: trials and stability", "subtitle")
    w.array(stats.last_row + 3, col + progressive.width + 1,
            calls("PROGRESSIVE_TUNE", window=None, step=None, part=Quoted("summary")), [None, "0.0000", None])
    if split.ok:
        charts.scatter_chart(
            w.ws, title="Split sample: score against tc in each half and the whole", x_col=1,
            y_cols=list(range(2, split.width + 1)), header_row=HEADER_ROW, last_row=split.last_row,
            anchor=f"{anchor_col}{HEADER_ROW}", x_title=TC_AXIS, y_title="Score = log growth of 1", y_format="0.0",
            markers=False, width=24, height=12, x_range=_tc_range(split),
        )
    if progressive.ok:
        charts.date_line_chart(
            w.ws, title="Progressive tune: best tc on the prior 250 market days", date_col=col,
            series_cols=[col + 2], header_row=HEADER_ROW, last_row=progressive.last_row,
            anchor=f"{anchor_col}{HEADER_ROW + 25}", y_title="Tuned tc", y_format="0", width=24, height=10,
        )
    charts.print_charts(w.ws, f"{anchor_col}{HEADER_ROW}", columns=14, rows=46)
    w.widths({"A": 7, "B": 16, "C": 16, "D": 16, L(col): 11, L(col + 1): 11, L(col + 2): 9, L(col + 3): 10})
    w.ws.freeze_panes = f"B{HEADER_ROW + 1}"


def write_fwpt(w: SheetWriter, calls: Calls) -> Block:
    """The FWPT sheet; returns its summary block (the Summary sheet reads the tuned tc and the next retune)."""
    w.text(3, 1, "Forward Walk Progressive Tuning: the tc is first tuned on the data through the born-on date "
           "(Settings BornOn; blank = five years after the data start), then retuned about every RetuneDays market "
           "days on a decision day with the score from the data start; a retune that would force an immediate "
           "trade is deferred. Every figure is AFTER the born-on date only (out of sample); left: weekly "
           "samples.", "note")
    series = w.array(HEADER_ROW, 1, calls("FWPT_TABLE", part=Quoted("series")), [style.DATE, "0"],
                     default_format="0.000")
    col = max(series.width, 8) + 3  # room for more funds held after a refresh before the blocks on the right
    w.text(HEADER_ROW - 1, col, "Walk-forward", "subtitle")
    summary = w.array(HEADER_ROW, col, calls("FWPT_TABLE", part=Quoted("summary")))
    row = summary.last_row + 3
    w.text(row - 1, col, "Metrics after the born-on date only (same days for every column)", "subtitle")
    metrics = w.array(row, col, calls("FWPT_TABLE", part=Quoted("metrics")), [None], default_format="0.0000",
                      wrap_header=True)
    if metrics.ok:
        w.ws.row_dimensions[metrics.row].height = 60
    row = metrics.last_row + 3
    w.text(row - 1, col, "Overfitting of the walk-forward: N = grid size x tunings (every retune scores the whole "
           "grid on new data)", "subtitle")
    overfit = w.array(row, col, calls("FWPT_TABLE", part=Quoted("overfit")), [None, "0.0000", None])
    row = overfit.last_row + 3
    w.text(row - 1, col, "Sensitivity to RetuneDays (same grid, same born-on date; out of sample)", "subtitle")
    sensitivity = w.array(row, col, calls("FWPT_TABLE", part=Quoted("sensitivity")),
                          ["0", style.PCT, "0.000", style.PCT, "0.0000", "0", "0", "0", "0"])
    row = sensitivity.last_row + 3
    w.text(row - 1, col, "Retunes: initial (born on), kept (best = current), adopted, deferred (the new tc would "
           "force an immediate trade; re-tried on each decision day)", "subtitle")
    w.array(row, col, calls("FWPT_TABLE", part=None), [style.DATE, "0", None, "0"])
    if series.ok:
        anchor_col = L(col + 8)
        charts.date_line_chart(
            w.ws, title="Growth of 1 after the born-on date (out of sample)", date_col=1, series_cols=[3, 4, 5],
            header_row=HEADER_ROW, last_row=series.last_row, anchor=f"{anchor_col}{HEADER_ROW}",
            y_title="Equity (log scale)", y_format="General", log_scale=True, width=24, height=11,
        )
        charts.date_line_chart(
            w.ws, title="Tuned tc in force (walk-forward)", date_col=1, series_cols=[2], header_row=HEADER_ROW,
            last_row=series.last_row, anchor=f"{anchor_col}{HEADER_ROW + 22}", y_title="tc (market days)",
            y_format="0", width=24, height=8,
        )
        if series.width > 5:
            charts.band_chart(
                w.ws, title="Walk-forward holding (band = held; weekly samples)", date_col=1,
                series_cols=list(range(6, series.width + 1)), header_row=HEADER_ROW, last_row=series.last_row,
                anchor=f"{anchor_col}{HEADER_ROW + 38}", y_title="Held", width=24, height=8,
            )
        charts.print_charts(w.ws, f"{anchor_col}{HEADER_ROW}", columns=14, rows=56)
    w.widths({"A": 11, "B": 8, "C": 11, "D": 12, "E": 12, L(col): 28, L(col + 1): 14, L(col + 2): 14,
              L(col + 3): 16, L(col + 4): 16, L(col + 5): 18, L(col + 6): 60})
    w.ws.freeze_panes = f"B{HEADER_ROW + 1}"
    return summary
