"""The Sweep sheet: a sweep's top strategies (ranked out of sample), its trial count, DSR and PBO, and a scatter
of in-sample against out-of-sample Sharpe ratio, written into an existing workbook file.

Values only (a sweep takes minutes to hours: it is not a live formula); written with openpyxl into the file
atomically by :func:`xlsector.workbook.added_sheet.write_added_sheet`, which keeps the other sheets' formulas,
cached values, dynamic arrays and charts. Writing again replaces the sheet.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from xlsector.workbook import style
from xlsector.workbook.added_sheet import cell_value, write_added_sheet
from xlsector.workbook.charts import scatter_chart

__all__ = ["SWEEP_SHEET", "TABLE_COLUMNS", "write_sweep_sheet"]

SWEEP_SHEET = "Sweep"

#: The top-strategies table: (row field, heading, number format).
TABLE_COLUMNS: list[tuple[str, str, str | None]] = [
    ("rank", "Rank (out of sample)", "0"),
    ("funds", "Funds", None),
    ("oos_cagr", "OOS CAGR", style.PCT),
    ("oos_sharpe", "OOS Sharpe", "0.000"),
    ("oos_max_drawdown", "OOS max drawdown", style.PCT),
    ("oos_trades", "OOS trades", "0"),
    ("current_tc", "tc now", "0.##"),
    ("is_tc", "In-sample best tc", "0.##"),
    ("is_cagr", "IS CAGR (same days)", style.PCT),
    ("is_sharpe", "IS Sharpe (same days)", "0.000"),
    ("peak_tc", "Trend chart peak tc", "0.##"),
    ("plateau_lo", "Plateau from tc", "0.##"),
    ("plateau_hi", "Plateau to tc", "0.##"),
    ("bench_cagr", "Benchmark CAGR", style.PCT),
    ("born_on", "Born on", None),
]
_POINTS_COL = 18  # column R: the scatter's data (all combinations, or a seeded subset)


def _facts(report: Any, data: str) -> list[tuple[str, Any, str | None]]:
    spec = report.spec
    tuning = spec["tuning"]
    rows: list[tuple[str, Any, str | None]] = [
        ("Data", data, None),
        ("Candidate funds", ", ".join(spec["funds"]), None),
        ("Funds per combination (K)", ", ".join(map(str, spec["choose"])), None),
        ("Combinations done / planned", f"{report.done:,} / {report.planned:,}", None),
        ("Sample", "all combinations" if spec["sample"] is None else
         f"{spec['sample']:,} drawn at random, seed {spec['seed']}", None),
        ("Strategy", ", ".join(f"{k}={v}" for k, v in spec["strategy"].items()) or "defaults", None),
        ("Trend constants (grid)", f"{tuning['tc_min']:g}..{tuning['tc_max']:g} step {tuning['tc_step']:g}", None),
        ("FWPT", f"born on {tuning['born_on'] or 'five years after the data start'}, retune every "
                 f"{tuning['retune_days']} market days, deferral {'on' if tuning['defer'] else 'off'}", None),
        ("Ranking", "OUT OF SAMPLE: walk-forward Sharpe ratio after the born-on date (ties: CAGR)", None),
        ("Trials N", report.trials.trials, "#,##0"),
        ("N counted as", report.trials.describe(), None),
    ]
    best = report.best
    if best is not None:
        rows += [
            ("Best out of sample", best.funds, None),
            ("Its Sharpe ratio (annualised)", best.oos_sharpe, "0.000"),
            ("PSR (one trial)", best.psr, "0.000"),
            ("DSR (N trials)", best.dsr, "0.000"),
            ("Expected max Sharpe of N unskilled trials (annualised)", best.expected_max_sr_annual, "0.000"),
        ]
    pbo = report.pbo
    if pbo is not None:
        rows += [
            ("PBO across combinations", pbo.pbo, "0.000"),
            ("PBO computed on", f"{pbo.columns:,} of {pbo.of:,} combinations x {pbo.n_obs:,} days "
                                f"{pbo.start:%Y-%m-%d}..{pbo.end:%Y-%m-%d}, CSCV {pbo.blocks} blocks", None),
        ]
    rows.append(("Rank correlation in-sample vs out-of-sample Sharpe", report.in_out_correlation, "0.00"))
    rows += [("Note", note, None) for note in report.notes]
    return rows


def write_sweep_sheet(path: str | Path, report: Any, *, data: str = "", top: int = 25, points: int = 5000) -> Path:
    """Write the Sweep sheet of ``report`` (a :class:`xlsector.sweep.SweepReport`) into the workbook ``path``.

    ``top`` strategies in the table; the scatter shows every combination, or a seeded random ``points`` of them.
    Returns the path. Raises XlsectorError when the file cannot be read or written (open in Excel, ...).
    """
    table = report.table

    def fill(ws: Any) -> None:
        style.title(ws, "Sweep: strategy finder",
                    "Every combination of K funds, tuned (trend chart) and walked forward (FWPT); ranked out of "
                    "sample. Values written by xlsector sweep --workbook.")
        style.subtitle(ws, "A4", "The sweep")
        row = 5
        for label, value, number_format in _facts(report, data):
            ws.cell(row=row, column=1, value=label)
            cell = ws.cell(row=row, column=2, value=cell_value(value))
            if number_format:
                cell.number_format = number_format
            row += 1
        row += 1
        style.subtitle(ws, f"A{row}", f"Top {min(top, len(table))} of {len(table):,} (ranked out of sample)")
        row += 1
        style.header_row(ws, row, 1, [heading for _, heading, _ in TABLE_COLUMNS])
        for values in table.head(top).itertuples(index=False):
            row += 1
            record = values._asdict()
            for j, (field, _, number_format) in enumerate(TABLE_COLUMNS, start=1):
                cell = ws.cell(row=row, column=j, value=cell_value(record[field]))
                if number_format:
                    cell.number_format = number_format
        # scatter data: in-sample (x) against out-of-sample (y) Sharpe of each combination
        shown = table
        if len(table) > points:
            keep = np.sort(np.random.default_rng(0).choice(len(table), size=points, replace=False))
            shown = table.iloc[keep]
        style.header_row(ws, 4, _POINTS_COL, ["Funds", "In-sample Sharpe", "Out-of-sample Sharpe"])
        last = 4
        for funds, x, y in zip(shown["funds"], shown["is_sharpe"], shown["oos_sharpe"]):
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            last += 1
            ws.cell(row=last, column=_POINTS_COL, value=str(funds))
            ws.cell(row=last, column=_POINTS_COL + 1, value=float(x)).number_format = "0.000"
            ws.cell(row=last, column=_POINTS_COL + 2, value=float(y)).number_format = "0.000"
        if last > 4:
            note = "" if len(shown) == len(table) else f" ({len(shown):,} of {len(table):,}, random)"
            scatter_chart(ws, title=f"In-sample vs out-of-sample Sharpe ratio, one point per combination{note}",
                          x_col=_POINTS_COL + 1, y_cols=[_POINTS_COL + 2], header_row=4, last_row=last,
                          anchor="V4", x_title="In-sample best tc, Sharpe (hindsight)",
                          y_title="Walk-forward Sharpe (out of sample)", width=18, height=10)
        ws.column_dimensions["A"].width = 50
        ws.column_dimensions["B"].width = 22
        for letter in ("R",):
            ws.column_dimensions[letter].width = 22

    return write_added_sheet(path, SWEEP_SHEET, fill)
