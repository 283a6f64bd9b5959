"""The Theory sheet: the paper's EMA/EMA2 table in native formulas next to EMA2_TREND, and Chart 1."""

from __future__ import annotations

from typing import Any

from xlsector.workbook import charts, style
from xlsector.workbook.compute import TheoryTable
from xlsector.workbook.writer import SheetWriter

__all__ = ["write_theory"]

HEADER_ROW = 5
FIRST = HEADER_ROW + 1
W_COL = 9  # column I: the weights table


def write_theory(w: SheetWriter, theory: TheoryTable, k: float, tc: float) -> None:
    prices = theory.prices
    ema, ema2, kdr = theory.ema, theory.ema2, theory.scaled_returns
    n = len(prices)
    last = FIRST + n - 1
    w.text(3, 1, f"{theory.fund}: the last {n} market days, {prices.index[0]:%Y-%m-%d} to "
           f"{prices.index[-1]:%Y-%m-%d}. tc = TrendConstant ({tc:g}), k = Scale ({k:g}) from Settings; "
           "k x daily return, EMA and EMA2 are 0 on the first row, as in the paper.", "note")
    w.header(HEADER_ROW, 1, [
        "Date", f"Price ({theory.fund})", "k x daily return", "EMA (native formula)", "EMA2 (native formula)",
        "EMA2 (EMA2_TREND function)", "EMA2 native - function",
    ])
    w.column(FIRST, 1, prices.index, style.DATE)
    w.column(FIRST, 2, prices.to_numpy(dtype=float), "0.000")
    rng = f"$B${FIRST}:$B${last}"
    for i in range(n):
        r = FIRST + i
        if i == 0:
            w.value(r, 3, 0.0, "0.000000")
            w.value(r, 4, 0.0, "0.000000")
            w.value(r, 5, 0.0, "0.000000")
        else:
            w.formula(r, 3, f"=Scale*(B{r}/B{r - 1}-1)", kdr[i], "0.000000")
            w.formula(r, 4, f"=C{r}/TrendConstant+(1-1/TrendConstant)*D{r - 1}", ema[i], "0.000000")
            w.formula(r, 5, f"=D{r}/TrendConstant+(1-1/TrendConstant)*E{r - 1}", ema2[i], "0.000000")
        # Value filled in by the formula evaluator (the EMA2_TREND function itself).
        w.formula(r, 6, f"=INDEX(EMA2_TREND({rng},TrendConstant,Scale),ROWS($B${FIRST}:B{r}))", None, "0.000000")
        w.formula(r, 7, f"=E{r}-F{r}", None, "0.0E+00")
    # Chart 1: weights against age, native formulas from the tc cells in row 4.
    w.text(4, W_COL, "tc ->")
    cols = []
    for j, (kind, tc_w) in enumerate(theory.weights):
        col = W_COL + 1 + j
        w.value(4, col, float(tc_w))
        cols.append((col, kind, tc_w))
    w.header(HEADER_ROW, W_COL, ["Age (market days)"] + [f"{kind} weight, tc={tc_w:g}" for _, kind, tc_w in cols])
    ages = theory.ages
    w.column(FIRST, W_COL, ages, "0")
    from openpyxl.utils import get_column_letter as L

    age_col = L(W_COL)
    for col, kind, tc_w in cols:
        c = L(col)
        values = theory.weights[(kind, tc_w)]
        for i, age in enumerate(ages):
            r = FIRST + i
            if kind == "EMA":
                f = f"=Scale/{c}$4*(1-1/{c}$4)^${age_col}{r}"
            else:
                f = f"=Scale/{c}$4^2*(${age_col}{r}+1)*(1-1/{c}$4)^${age_col}{r}"
            w.formula(r, col, f, values[i], "0.00000")
    w_last = FIRST + len(ages) - 1
    anchor_col = L(W_COL + 1 + len(cols) + 1)
    charts.scatter_chart(
        w.ws, title="Chart 1: weight of a daily return in EMA and EMA2 against its age",
        x_col=W_COL, y_cols=[c for c, _, _ in cols], header_row=HEADER_ROW, last_row=w_last,
        anchor=f"{anchor_col}{HEADER_ROW}", x_title="Age of the daily return (market days)",
        y_title="Weight (x k)", markers=False,
    )
    charts.date_line_chart(
        w.ws, title=f"{theory.fund}: EMA and EMA2 (trend), tc={tc:g}, k={k:g}", date_col=1,
        series_cols=[4, 5], header_row=HEADER_ROW, last_row=last, anchor=f"{anchor_col}{HEADER_ROW + 24}",
        y_title="Trend units", y_format="0.00", width=20, height=11, date_format="yyyy-mm",
    )
    charts.print_charts(w.ws, f"{anchor_col}{HEADER_ROW}", columns=14, rows=48)
    w.widths({"A": 11, "B": 12, "C": 12, "D": 13, "E": 13, "F": 14, "G": 12, L(W_COL): 10})
    w.ws.freeze_panes = f"B{FIRST}"
    # The difference column's cached values need the function's; see fill_differences.


def fill_differences(cached: dict[str, Any], theory: TheoryTable) -> None:
    """After the evaluator filled column F, cache G = E - F."""
    ema2 = theory.ema2
    for i in range(len(theory.prices)):
        r = FIRST + i
        value = cached.get(f"F{r}")
        cached[f"G{r}"] = float(ema2[i] - value) if isinstance(value, (int, float)) else None
