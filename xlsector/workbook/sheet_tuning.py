"""Tuning sheets: TrendChart (score against tc), Stationarity (split sample, progressive tune) and FWPT
(tuned tc over time, holdings, equity, in- vs out-of-sample metrics), from :mod:`xlsector.tuning`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter as L

from xlsector.workbook import charts, style
from xlsector.workbook.sheet_series import weekly
from xlsector.workbook.writer import SheetWriter

__all__ = ["write_fwpt", "write_stationarity", "write_trend_chart", "write_tuning"]

HEADER_ROW = 5
FACTS_COL = 10  # column J: key figures and definitions, left of the charts


def _period(start: Any, end: Any) -> str:
    return f"{pd.Timestamp(start):%Y-%m-%d} to {pd.Timestamp(end):%Y-%m-%d}"


def _x_range(tcs: Any) -> tuple[float, float]:
    """The tc axis from a round number at or below the grid's start to its end."""
    low = float(tcs[0])
    return (float(np.floor(low / 10.0) * 10.0) if low > 1 else low, float(tcs[-1]))


def _facts(w: SheetWriter, row: int, col: int, title: str, items: list[tuple[str, Any, str | None]]) -> int:
    """A small two-column block (label, value) under a subtitle; returns the next free row."""
    w.text(row, col, title, "subtitle")
    for i, (label, value, fmt) in enumerate(items):
        w.value(row + 1 + i, col, label)
        w.value(row + 1 + i, col + 1, value, fmt)
    return row + len(items) + 2


def write_trend_chart(w: SheetWriter, tuned: dict[str, Any]) -> None:
    chart = tuned["chart"]
    table = chart.table
    tcs = tuned["tcs"]
    start, end = chart.period
    edge = chart.peak_tc in (float(tcs[0]), float(tcs[-1]))
    w.text(3, 1, f"In sample: every trend constant tc = {tcs[0]:g}..{tcs[-1]:g} (Settings TcMin..TcMax) is run over the "
           f"whole backtest period {_period(start, end)} with the other Settings parameters, and scored on the same "
           f"days. Score = {chart.score_label}.", "note")
    frame = pd.DataFrame(
        {
            "Score (log growth)": table["score"].to_numpy(),
            "Score in plateau": np.where(table["in_plateau"].to_numpy(), table["score"].to_numpy(), np.nan),
            "CAGR": table["CAGR"].to_numpy(),
            "Switches": table["switches"].to_numpy(dtype=float),
            "Max drawdown": table["max_drawdown"].to_numpy(),
            "Growth of 1": table["growth"].to_numpy(),
        },
        index=pd.Index(table.index.to_numpy(dtype=float), name="tc"),
    )
    first, last = w.table(HEADER_ROW, 1, frame, index_label="tc", index_format="0",
                          formats={"Score (log growth)": "0.0000", "Score in plateau": "0.0000", "CAGR": style.PCT,
                                   "Switches": "0", "Max drawdown": style.PCT, "Growth of 1": "0.00"})
    peak_row = table.index.get_loc(chart.peak_tc)
    items = [
        ("Peak tc", chart.peak_tc, "0"),
        ("Peak score", chart.peak_score, "0.0000"),
        ("CAGR at the peak", float(table["CAGR"].iloc[peak_row]), style.PCT),
        ("Plateau from tc", chart.plateau[0], "0"),
        ("Plateau to tc", chart.plateau[1], "0"),
        ("Plateau size (tcs)", float(chart.plateau_count), "0"),
        ("Plateau tolerance", chart.plateau_tolerance, style.PCT),
        ("Period start", start.to_pydatetime(), style.DATE),
        ("Period end", end.to_pydatetime(), style.DATE),
    ]
    row = _facts(w, HEADER_ROW, FACTS_COL, "Peak and plateau (in sample)", items)
    if edge:
        w.text(row - 1, FACTS_COL, "Peak at the grid's edge", "note")
        style.wrap(w.text(row - 1, FACTS_COL + 1, "The peak is at the edge of the grid: widen TcMin..TcMax to see "
                          "whether the score keeps rising.", "note"))
        row += 1
    w.text(row, FACTS_COL, "Definitions", "subtitle")
    defs = dict(chart.definitions)
    defs["in_plateau"] = (f"plateau: the contiguous tcs around the peak whose growth of 1 is within "
                          f"{chart.plateau_tolerance:.0%} of the peak's (score >= peak + log(1 - tolerance)); a narrow "
                          "plateau is a sharp, well-defined peak, a wide one a flat optimum")
    for i, (key, text) in enumerate(defs.items()):
        w.value(row + 1 + i, FACTS_COL, key)
        style.wrap(w.value(row + 1 + i, FACTS_COL + 1, text))
    anchor = f"{L(FACTS_COL + 3)}{HEADER_ROW}"
    charts.scatter_chart(
        w.ws, title=f"Trend chart: score against tc, {_period(start, end)} (in sample)", x_col=1, y_cols=[2, 3],
        header_row=HEADER_ROW, last_row=last, anchor=anchor, x_title="Trend constant tc (market days)",
        y_title="Score = log growth of 1", y_format="0.0", width=24, height=12,
        x_range=_x_range(tcs), marker_sizes=(4, 7),
    )
    charts.scatter_chart(
        w.ws, title="CAGR and max drawdown against tc", x_col=1, y_cols=[4, 6], header_row=HEADER_ROW,
        last_row=last, anchor=f"{L(FACTS_COL + 3)}{HEADER_ROW + 25}", x_title="Trend constant tc (market days)",
        y_title="Fraction", y_format="0%", width=24, height=10, x_range=_x_range(tcs),
    )
    charts.print_charts(w.ws, anchor, columns=14, rows=46)
    w.widths({"A": 7, "B": 11, "C": 11, "D": 9, "E": 9, "F": 11, "G": 10, L(FACTS_COL): 20, L(FACTS_COL + 1): 60})
    w.ws.freeze_panes = f"B{first}"


def write_stationarity(w: SheetWriter, tuned: dict[str, Any]) -> None:
    split = tuned["split"]
    periods = split.attrs["periods"]
    peaks = split.attrs["peaks"]
    names = {"first_half": "First half", "second_half": "Second half", "whole": "Whole period"}
    frame = pd.DataFrame({f"{names[k]} {_period(*periods[k])}": split[k].to_numpy() for k in names},
                         index=pd.Index(split.index.to_numpy(dtype=float), name="tc"))
    w.text(3, 1, f"Split sample (in sample per window): one rotation run over the whole period; each window scores every "
           f"tc on its own days. Score = {split.attrs['score']}. Peaks: first half tc {peaks['first_half']:g}, second "
           f"half tc {peaks['second_half']:g}, whole tc {peaks['whole']:g}. A stable optimum has similar peaks.", "note")
    first, last = w.table(HEADER_ROW, 1, frame, index_label="tc", index_format="0", default_format="0.0000")
    # Progressive tune: columns F.. (date, window start, tc, score).
    col = 6
    progressive = tuned["progressive"]
    if progressive is not None:
        prog = progressive.set_index("date")[["window_start", "tc", "score"]].rename(
            columns={"window_start": "Window start", "tc": "Tuned tc", "score": "Score in window"})
        w.text(4, col, f"Progressive tune: every {progressive.attrs['step']} market days, the best tc on the prior "
               f"{progressive.attrs['window']} market days ({progressive.attrs['score']}).", "note")
        _, p_last = w.table(HEADER_ROW, col, prog, index_label="Tuning date",
                                  formats={"Window start": style.DATE, "Tuned tc": "0", "Score in window": "0.0000"})
    else:
        w.text(4, col, f"Progressive tune not possible: {tuned['progressive_note']}", "note")
    anchor_col = L(col + 5)
    charts.scatter_chart(
        w.ws, title="Split sample: score against tc in each half and the whole", x_col=1, y_cols=[2, 3, 4],
        header_row=HEADER_ROW, last_row=last, anchor=f"{anchor_col}{HEADER_ROW}",
        x_title="Trend constant tc (market days)", y_title="Score = log growth of 1", y_format="0.0", markers=False,
        width=24, height=12, x_range=_x_range(split.index.to_numpy(dtype=float)),
    )
    if progressive is not None:
        charts.date_line_chart(
            w.ws, title=f"Progressive tune: best tc on the prior {progressive.attrs['window']} market days",
            date_col=col, series_cols=[col + 2], header_row=HEADER_ROW, last_row=p_last,
            anchor=f"{anchor_col}{HEADER_ROW + 25}", y_title="Tuned tc", y_format="0", width=24, height=10,
        )
    charts.print_charts(w.ws, f"{anchor_col}{HEADER_ROW}", columns=14, rows=46)
    w.widths({"A": 7, "B": 16, "C": 16, "D": 16, L(col): 11, L(col + 1): 11, L(col + 2): 9, L(col + 3): 10})
    w.ws.freeze_panes = f"B{first}"


def write_fwpt(w: SheetWriter, tuned: dict[str, Any], settings: Any) -> dict[str, Any]:
    walk = tuned["fwpt"]
    if walk is None:
        w.text(3, 1, f"FWPT not possible on this data: {tuned['fwpt_note']}", "note")
        return {"next_retune": None, "current_tc": "n/a", "next_retune_note": tuned["next_retune_note"]}
    metrics = tuned["fwpt_metrics"]
    start, end = walk.period
    born_setting = tuned["born_on_setting"]
    born_text = (f"BornOn = {pd.Timestamp(born_setting):%Y-%m-%d} (Settings)" if born_setting is not None else
                 "BornOn blank: five years after the data start")
    w.text(3, 1, f"Forward Walk Progressive Tuning. Born on {walk.born_on:%Y-%m-%d} ({born_text}): the first tuning uses "
           f"data through that close; the tc is retuned about every {walk.retune_days} market days (RetuneDays) on a "
           f"decision day with the score from the data start ({walk.score_label}); a retune that would force an "
           "immediate trade is deferred. Every figure below is AFTER the born-on date only (out of sample), "
           f"{_period(start, end)}.", "note")
    # Series (weekly samples): tc in force, equities, holdings as 0/1 bands. Columns A...
    names = list(dict.fromkeys(list(walk.holdings.unique())))
    order = [n for n in names if n != "CASH"] + (["CASH"] if "CASH" in names else [])
    held = walk.holdings.to_numpy()
    frame = pd.DataFrame(
        {
            "tc in force": walk.tc.to_numpy(),
            "Walk-forward": walk.equity.to_numpy(),
            f"In-sample best (tc {walk.in_sample_tc:g})": (1.0 + walk.in_sample_returns).cumprod().to_numpy(),
            f"Benchmark ({walk.benchmark_label})": (1.0 + walk.benchmark_returns).cumprod().to_numpy(),
            **{f"Holds {n}": (held == n).astype(float) for n in order},
        },
        index=walk.returns.index,
    )
    table = weekly(frame)
    formats = {"tc in force": "0", **{f"Holds {n}": "0" for n in order}}
    first, last = w.table(HEADER_ROW, 1, table, formats=formats, default_format="0.000")
    n_cols = table.shape[1] + 1
    # Charts right of the series; facts, metrics and retunes right of the charts (long text spills freely).
    anchor_col = L(n_cols + 2)
    col = n_cols + 2 + 15
    items = [
        ("Born on (first tuning)", walk.born_on.to_pydatetime(), style.DATE),
        ("Earliest allowed born-on", walk.earliest_born_on.to_pydatetime(), style.DATE),
        ("Out of sample from", start.to_pydatetime(), style.DATE),
        ("Out of sample to", end.to_pydatetime(), style.DATE),
        ("Retune every (market days)", float(walk.retune_days), "0"),
        ("Tuned tc now", walk.current_tc, "0"),
        ("Next retune (estimate)", tuned["next_retune"], style.DATE),
        ("In-sample best tc (hindsight)", walk.in_sample_tc, "0"),
        ("Retunes (adopted)", float((walk.retunes["action"] == "adopted").sum()), "0"),
        ("Walk-forward trades", float(len(walk.trades)), "0"),
    ]
    row = _facts(w, HEADER_ROW, col, "Walk-forward", items)
    w.text(row - 1, col, f"Next retune: {tuned['next_retune_note']}.", "note")
    row += 1
    w.text(row, col, f"Metrics after the born-on date only, {_period(start, end)} (same days for every column)",
           "subtitle")
    w.header(row + 1, col, ["Metric", "Walk-forward (out of sample)", f"In-sample best tc {walk.in_sample_tc:g}",
                            f"Benchmark ({walk.benchmark_label})", "Definition"])
    from xlsector.workbook.sheet_summary import _fmt

    for i, (label, line) in enumerate(metrics.iterrows()):
        r = row + 2 + i
        fmt = _fmt(str(label))
        w.value(r, col, str(label))
        w.value(r, col + 1, line["walk_forward"], fmt)
        w.value(r, col + 2, line["in_sample_best"], fmt)
        w.value(r, col + 3, line["benchmark"], fmt)
        w.value(r, col + 4, str(line["definition"]))
    row = row + 2 + len(metrics) + 1
    w.text(row, col, metrics.attrs.get("sample", ""), "note")
    row += 2
    w.text(row, col, "Retunes", "subtitle")
    retunes = walk.retunes.rename(columns={"best_tc": "Best tc", "action": "Action", "tc": "tc after",
                                           "tries": "Tries"}).set_index("date")
    w.table(row + 1, col, retunes, index_label="Date", formats={"Best tc": "0", "tc after": "0", "Tries": "0"})
    w.text(row + 2 + len(retunes), col, "Action: initial (born on), kept (best = current), adopted, deferred (the new "
           "tc would force an immediate trade; re-tried on each decision day, Tries counts them), pending (the new "
           "tc's pick is not known yet).", "note")
    charts.date_line_chart(
        w.ws, title=f"Growth of 1 after the born-on date {walk.born_on:%Y-%m-%d} (out of sample)", date_col=1,
        series_cols=[3, 4, 5], header_row=HEADER_ROW, last_row=last, anchor=f"{anchor_col}{HEADER_ROW}",
        y_title="Equity (log scale)", y_format="General", log_scale=True, width=24, height=11,
    )
    charts.date_line_chart(
        w.ws, title="Tuned tc in force (walk-forward)", date_col=1, series_cols=[2], header_row=HEADER_ROW,
        last_row=last, anchor=f"{anchor_col}{HEADER_ROW + 22}", y_title="tc (market days)", y_format="0",
        width=24, height=8,
    )
    charts.band_chart(
        w.ws, title="Walk-forward holding (band = held; weekly samples)", date_col=1,
        series_cols=list(range(6, n_cols + 1)), header_row=HEADER_ROW, last_row=last,
        anchor=f"{anchor_col}{HEADER_ROW + 38}", y_title="Held", width=24, height=8,
    )
    charts.print_charts(w.ws, f"{anchor_col}{HEADER_ROW}", columns=14, rows=56)
    w.widths({"A": 11, "B": 8, "C": 11, "D": 12, "E": 12, L(col): 26, L(col + 1): 14, L(col + 2): 14,
              L(col + 3): 14, L(col + 4): 60})
    w.ws.freeze_panes = f"B{first}"
    return {"next_retune": tuned["next_retune"], "current_tc": walk.current_tc,
            "next_retune_note": "Estimated: " + tuned["next_retune_note"] + " (see FWPT)."}


def write_tuning(sheet: Callable[[str], SheetWriter], computed: Any, writers: list) -> dict[str, Any] | None:
    """Fill TrendChart, Stationarity and FWPT; returns what the Summary shows of FWPT."""
    tuned = computed.tuning
    if not tuned:
        return None
    w = sheet("TrendChart")
    write_trend_chart(w, tuned)
    writers.append(w)
    w = sheet("Stationarity")
    write_stationarity(w, tuned)
    writers.append(w)
    w = sheet("FWPT")
    fwpt = write_fwpt(w, tuned, computed.settings)
    writers.append(w)
    return fwpt
