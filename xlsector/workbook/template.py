"""Build a fresh template workbook (``xlsector template PATH``) with openpyxl.

The template holds only what openpyxl writes and reads back losslessly: cells, styles, column widths,
number formats, workbook-level defined names, plain (non-array) formulas. The computed sheets are
empty until ``xlsector render`` fills them; the Data sheet is empty, so the first render uses the
bundled sample.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName

from xlsector.contract import DATA_SHEET, PROVENANCE, SETTINGS, SETTINGS_SHEET, SHEET_ORDER, START_SHEET
from xlsector.workbook import layout, style

__all__ = ["build_template", "write_template"]

_HOW_TO = [
    ("Live formulas", "Every computed table is an xlsector formula (SECTOR_SIGNAL, TREND_CHART, FWPT_TABLE, ...) "
     "over the Settings names and DataTable (the Data sheet's table, which grows with it). In Excel with the "
     "xlsector add-in, or LibreOffice with the xlsector extension, changing a setting recomputes them; "
     "elsewhere they show the values stored by the last render (or use a copy from xlsector render --values)."),
    ("How to refresh", "Excel with the xlsector add-in: the 'Refresh data' ribbon button downloads new prices "
     "into Data and recalculates. Command line: xlsector refresh fwpt.xlsx (it also re-renders the file)."),
    ("How to render", "xlsector render fwpt.xlsx  (or: python -m xlsector render fwpt.xlsx -o out.xlsx). "
     "It reads Settings and Data, writes every computed sheet's formulas and charts, and stores each formula's "
     "value. The Momentum sheet is values (a phased experiment): render or Recalculate updates it."),
    ("Your own sheets", "Sheets you add, and cells outside the computed tables, are kept by a render."),
]


def _define(wb: Workbook, name: str, sheet: str, cell: str) -> None:
    col = "".join(ch for ch in cell if ch.isalpha())
    row = "".join(ch for ch in cell if ch.isdigit())
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheet(sheet)}!${col}${row}")


def quote_sheet(sheet: str) -> str:
    """A sheet name as a formula reference prefix ('My sheet' quoted, Data bare)."""
    if sheet.replace("_", "").isalnum():
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


def _start(wb: Workbook) -> None:
    ws = wb.active
    ws.title = START_SHEET
    style.title(ws, "xlsector: trend-following sector rotation (FWPT)",
                "SectorSurfer-style EMA2 trends, one-fund rotation with hysteresis, StormGuard, Forward Walk "
                "Progressive Tuning and momentum experiments, computed by the xlsector Python core.")
    from xlsector.workbook.sheet_summary import write_disclosure

    write_disclosure(ws, "bundled sample")  # an empty Data sheet renders the bundled sample
    style.subtitle(ws, "A4", "Data")
    for i, (name, label, fmt) in enumerate(PROVENANCE):
        row = layout.PROVENANCE_FIRST_ROW + i
        ws.cell(row=row, column=1, value=label)
        cell = ws.cell(row=row, column=2)
        if fmt:
            cell.number_format = fmt
        _define(wb, name, START_SHEET, f"B{row}")
    row = layout.PROVENANCE_FIRST_ROW + len(PROVENANCE) + 1
    style.subtitle(ws, f"A{row}", "What is inside")
    for sheet in SHEET_ORDER:
        row += 1
        ws.cell(row=row, column=1, value=sheet)
        ws.cell(row=row, column=2, value=layout.SHEET_DESCRIPTIONS[sheet])
    row += 2
    for label, text in _HOW_TO:
        style.subtitle(ws, f"A{row}", label)
        ws.cell(row=row, column=2, value=text)
        style.wrap(ws.cell(row=row, column=2))
        ws.row_dimensions[row].height = 45
        row += 1
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 110


def _settings(wb: Workbook) -> None:
    ws = wb.create_sheet(SETTINGS_SHEET)
    style.title(ws, "Settings", layout.SHEET_DESCRIPTIONS[SETTINGS_SHEET])
    style.header_row(ws, layout.SETTINGS_FIRST_ROW - 1, 1, ["Setting", "Value", "Description"])
    for setting in SETTINGS:
        row = layout.setting_row(setting.name)
        ws.cell(row=row, column=1, value=setting.name)
        default = setting.default
        if isinstance(default, dt.date) and not isinstance(default, dt.datetime):
            default = dt.datetime.combine(default, dt.time())
        value = ws.cell(row=row, column=2, value=default)
        if setting.param.kind == "date":
            value.number_format = style.DATE
        ws.cell(row=row, column=3, value=setting.description)
        _define(wb, setting.name, SETTINGS_SHEET, f"B{row}")
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 100
    ws.freeze_panes = f"A{layout.SETTINGS_FIRST_ROW}"


def _data(wb: Workbook) -> None:
    ws = wb.create_sheet(DATA_SHEET)
    ws["A1"] = "Date"
    ws.column_dimensions["A"].width = 12
    ws.freeze_panes = "B2"


def _computed(wb: Workbook, sheet: str) -> None:
    ws = wb.create_sheet(sheet)
    style.title(ws, sheet, layout.SHEET_DESCRIPTIONS[sheet])
    style.note(ws, "A3", "Empty until rendered: run  xlsector render <this workbook>.")


def build_template() -> Workbook:
    """A fresh template workbook (in memory)."""
    wb = Workbook()
    _start(wb)
    for sheet in SHEET_ORDER[1:]:
        if sheet == SETTINGS_SHEET:
            _settings(wb)
        elif sheet == DATA_SHEET:
            _data(wb)
        else:
            _computed(wb, sheet)
    wb.calculation.calcId = 191029  # current Excel: no forced full recalculation on open (cached values stay)
    wb.calculation.fullCalcOnLoad = False
    return wb


def write_template(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a fresh template to ``path`` atomically; refuses to replace a file unless ``overwrite``."""
    from xlsector.errors import XlsectorError
    from xlsector.fileio import atomic_output, check_writable

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise XlsectorError(f"template path must end in .xlsx, got {str(target)!r}")
    if target.exists() and not overwrite:
        raise XlsectorError(f"{target} exists; pass --force to replace it")
    check_writable(target)
    wb = build_template()
    wb.properties.created = dt.datetime(2026, 1, 1)  # reproducible bytes apart from the zip timestamps
    with atomic_output(target) as tmp:
        wb.save(tmp)
    return target
