"""The Data sheet's header (its rows are written into the saved file's XML) and the growing name DataTable."""

from __future__ import annotations

import pandas as pd
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlsector.contract import DATA_TABLE, DATA_TABLE_FORMULA
from xlsector.workbook import style

__all__ = ["define_data_table", "one_selection_per_pane", "write_data_header"]

#: Names of price ranges the template defined before DataTable: fixed ranges that did not grow.
OLD_RANGE_NAMES = ("FundPrices", "IndexPrices", "BearPrices")


def write_data_header(ws: Worksheet, table: pd.DataFrame) -> None:
    """Row 1 of the Data sheet ("Date", names) and one styled date in A2; rows 2.. are put into the saved
    file by :func:`xlsector.xlsx.inject_rows_xml` (openpyxl is too slow for 100k cells)."""
    for key in list(ws._cells):
        del ws._cells[key]
    ws.cell(row=1, column=1, value="Date")
    for j, name in enumerate(table.columns):
        ws.cell(row=1, column=j + 2, value=str(name))
    ws.cell(row=2, column=1, value=table.index[0].to_pydatetime()).number_format = style.DATE
    ws.column_dimensions["A"].width = 11
    ws.freeze_panes = "B2"


def one_selection_per_pane(ws: Worksheet) -> None:
    """Keep one ``<selection>`` per pane of the sheet's view: openpyxl adds selections at every assignment of
    ``freeze_panes``, so each render would pile up more (earlier renders' piles are cleaned too)."""
    for view in ws.views.sheetView:
        view.selection = list({selection.pane: selection for selection in view.selection}.values())


def define_data_table(wb: Workbook) -> list[str]:
    """(Re)define DataTable, the Data table that grows with its rows and columns; drop the fixed ranges of
    earlier templates. Returns notes for the user."""
    wb.defined_names[DATA_TABLE] = DefinedName(DATA_TABLE, attr_text=DATA_TABLE_FORMULA)
    dropped = [name for name in OLD_RANGE_NAMES if wb.defined_names.pop(name, None) is not None]
    if dropped:
        return [f"removed the fixed ranges {', '.join(dropped)} of an earlier template: the formulas read "
                f"{DATA_TABLE}, which grows with the data"]
    return []
