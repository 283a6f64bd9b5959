"""The Data sheet (written when the prices came from the bundled sample or a named file) and the
defined names of its price ranges (FundPrices, IndexPrices, BearPrices) used by the live formulas."""

from __future__ import annotations

import pandas as pd
from openpyxl.utils import get_column_letter as L
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlsector.workbook import style

__all__ = ["define_price_ranges", "order_table", "write_data_header"]


def order_table(table: pd.DataFrame, first_columns: list[str]) -> pd.DataFrame:
    """Columns named in ``first_columns`` (the funds) first, in that order, so their range is contiguous."""
    order = [c for c in first_columns if c in table.columns] + [c for c in table.columns if c not in first_columns]
    return table[order]


def write_data_header(ws: Worksheet, table: pd.DataFrame) -> None:
    """Row 1 of the Data sheet ("Date", names) and one styled date in A2; rows 2.. are put into the saved
    file by :func:`xlsector.workbook.data_xml.inject_rows` (openpyxl is too slow for 100k cells)."""
    for key in [k for k in ws._cells if k[0] >= 1]:
        del ws._cells[key]
    ws.cell(row=1, column=1, value="Date")
    for j, name in enumerate(table.columns):
        ws.cell(row=1, column=j + 2, value=str(name))
    ws.cell(row=2, column=1, value=table.index[0].to_pydatetime()).number_format = style.DATE
    ws.column_dimensions["A"].width = 11
    ws.freeze_panes = "B2"


def _header(ws: Worksheet) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def define_price_ranges(
    wb: Workbook, ws: Worksheet, funds: list[str], index: str, bear: list[str], last: int
) -> list[str]:
    """(Re)define FundPrices (date column + funds), IndexPrices, BearPrices over the Data sheet's rows.

    Returns notes for the user (e.g. when the funds are not side by side).
    """
    notes = []
    columns = _header(ws)
    sheet = ws.title

    def define(name: str, ref: str) -> None:
        wb.defined_names[name] = DefinedName(name, attr_text=f"{sheet}!{ref}")

    fund_cols = [columns[f] for f in funds if f in columns]
    lo, hi = min(fund_cols), max(fund_cols)
    if hi - lo + 1 != len(fund_cols) or lo != 2:
        notes.append("FundPrices spans Data columns A to the last fund: keep the funds side by side after the "
                     "Date column so the live formulas see only the funds")
        lo = 2
    define("FundPrices", f"$A$1:${L(hi)}${last}")
    if index in columns:
        c = L(columns[index])
        define("IndexPrices", f"${c}$1:${c}${last}")
    if bear:
        bear_cols = [columns[b] for b in bear if b in columns]
        define("BearPrices", f"${L(min(bear_cols))}$1:${L(max(bear_cols))}${last}")
    else:
        wb.defined_names.pop("BearPrices", None)
    return notes
