"""Cell styles shared by the template and the render (fonts, fills, number formats, column widths)."""

from __future__ import annotations

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["DATE", "PCT", "WARNING_FONT", "disclosure", "header_row", "note", "subtitle", "title", "warning"]

DATE = "yyyy-mm-dd"
PCT = "0.00%"
TREND = "0.0000"

_TITLE = Font(size=16, bold=True, color="1F3864")
_SUBTITLE = Font(size=12, bold=True, color="1F3864")
_HEADER = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_NOTE = Font(italic=True, color="595959")
_WRAP = Alignment(wrap_text=True, vertical="top")
#: Warnings in plain sight: red, bold, wrapped (the grid-edge note, the stale-data flag).
WARNING_FONT = Font(bold=True, color="C00000")
WRAP = _WRAP
_DISCLOSURE = Font(bold=True, color="833C0B")
_DISCLOSURE_FILL = PatternFill("solid", fgColor="FFF2CC")


def title(ws: Worksheet, text: str, description: str) -> None:
    """Row 1: the sheet's title; row 2: one line saying what it shows."""
    ws["A1"] = text
    ws["A1"].font = _TITLE
    ws["A2"] = description
    ws["A2"].font = _NOTE


def subtitle(ws: Worksheet, cell: str, text: str) -> None:
    ws[cell] = text
    ws[cell].font = _SUBTITLE


def note(ws: Worksheet, cell: str, text: str) -> None:
    ws[cell] = text
    ws[cell].font = _NOTE


def header_row(ws: Worksheet, row: int, col: int, names: list[str]) -> None:
    """Bold white-on-blue headers from (row, col) to the right."""
    for j, name in enumerate(names):
        cell = ws.cell(row=row, column=col + j, value=name)
        cell.font = _HEADER
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def wrap(cell) -> None:
    cell.alignment = _WRAP


def warning(cell) -> None:
    """A warning in plain sight: red, bold, wrapped."""
    cell.font = WARNING_FONT
    cell.alignment = _WRAP


def disclosure(cell) -> None:
    """A disclosure the reader must not miss (the sample's survivorship bias): bold on a yellow fill, wrapped."""
    cell.font = _DISCLOSURE
    cell.fill = _DISCLOSURE_FILL
    cell.alignment = _WRAP
