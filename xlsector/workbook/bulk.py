"""Lean XML for the render's large tables: cells that bypass openpyxl's cell objects.

openpyxl spends about 50 microseconds per cell to create, and as much again to save, a cell; the computed
sheets hold tens of thousands. :class:`xlsector.workbook.writer.SheetWriter` therefore keeps its table
columns and formula cells in a :class:`BulkCells` (value, style index, formula), and after openpyxl has
saved the workbook (titles, headers, notes, styles, charts, defined names) :func:`merge_into_sheet` puts
them into the sheet's ``<sheetData>``, merged row by row with openpyxl's cells in column order, each
formula with its cached value (``<v>``). An array formula (:meth:`BulkCells.put_array`) is its anchor cell's
``<f t="array" ref="...">`` marked as an Excel dynamic array (``cm="1"``, see :data:`DYNAMIC_ARRAY_CM`)
plus the result's values in every cell of its range.

Before a re-render, :func:`strip_area` removes the previous render's rectangle from a sheet's XML, so
openpyxl does not load (and the render does not have to clear) thousands of cells it would throw away.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlsector.workbook.style import DATE
from xlsector.xlsx import col_number
from xlsector.xlsx import value_xml as _value_xml

__all__ = ["DYNAMIC_ARRAY_CM", "BulkCells", "merge_into_sheet", "strip_area"]

#: The cell-metadata index (``cm``) of an Excel dynamic array; :func:`xlsector.xlsx.add_dynamic_array_metadata`
#: writes the metadata part it refers to.
DYNAMIC_ARRAY_CM = 1

_EPOCH = dt.datetime(1899, 12, 30)
_SHEETDATA_RE = re.compile(r"<sheetData>(.*?)</sheetData>|<sheetData\s*/>", re.DOTALL)
_ROW_RE = re.compile(r'<row r="(\d+)"([^>]*?)(?:/>|>(.*?)</row>)', re.DOTALL)
_CELL_RE = re.compile(r'<c r="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
_DIM_RE = re.compile(r'<dimension ref="[^"]*"/>')


def _letters_at(body: str, at: int) -> int:
    """Column number of the cell whose ``<c r="`` starts at ``at``."""
    start = at + 6
    end = start
    while body[end].isalpha():
        end += 1
    return col_number(body[start:end])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class BulkCells:
    """Cells of one sheet kept outside openpyxl: single cells {(row, col): (value, style index, formula)}
    and column blocks (first row, column, values, style index, kind)."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.cells: dict[tuple[int, int], tuple[Any, int | None, str | None]] = {}
        self.blocks: list[tuple[int, int, list[Any], int | None, str]] = []
        self.removed: set[tuple[int, int]] = set()
        self._styles: dict[Any, int] = {}
        self._index: dict[tuple[int, int], Any] | None = None
        self.arrays: dict[tuple[int, int], tuple[str, str]] = {}  # anchor -> (formula, "A5:C9")

    def style(self, number_format: str | None, font: Any = None, alignment: Any = None) -> int | None:
        """The workbook's cell-style index of a cell with ``number_format`` (and a font and alignment, if
        given), added to the styles once."""
        if not number_format and font is None and alignment is None:
            return None
        key = (number_format, repr(font), repr(alignment)) if font is not None or alignment is not None \
            else number_format
        found = self._styles.get(key)
        if found is None:
            cell = Cell(self.ws)
            if number_format:
                cell.number_format = number_format
            if font is not None:
                cell.font = font
            if alignment is not None:
                cell.alignment = alignment
            found = self._styles[key] = cell.style_id
        return found

    def _claim(self, row: int, col: int) -> None:
        self.ws._cells.pop((row, col), None)
        self.removed.discard((row, col))
        self._index = None

    def put_column(self, row: int, col: int, values: list[Any], number_format: str | None = None,
                   kind: str = "any") -> None:
        """``values`` down from (row, col); None = no cell. ``kind`` "float" (every value a float or None)
        or "date" (datetimes) makes the XML faster; "any" checks each value."""
        ws_cells = self.ws._cells
        if ws_cells:
            for i in range(len(values)):
                ws_cells.pop((row + i, col), None)
        if self.removed:
            self.removed.difference_update((row + i, col) for i in range(len(values)))
        for i in range(len(values)):
            self.cells.pop((row + i, col), None)
        self.blocks.append((row, col, values, self.style(number_format), kind))
        self._index = None

    def put_formula(self, row: int, col: int, formula: str, number_format: str | None = None, *,
                    font: Any = None, alignment: Any = None) -> None:
        self._claim(row, col)
        self.cells[(row, col)] = (None, self.style(number_format, font, alignment), formula)

    def put_array(self, row: int, col: int, formula: str, rows: list[list[Any]],
                  formats: list[str | None], header_alignment: Any = None) -> str:
        """An array formula at (row, col) whose result ``rows`` (a rectangle) fills its range, column j in
        number format ``formats[j]``; ``header_alignment``: the first row's alignment (wrapped headers);
        returns the range ("A5:C9")."""
        width = max(len(r) for r in rows)
        if header_alignment is not None and len(rows) > 1:
            head, rows = rows[0], rows[1:]
            for j in range(width):
                self._claim(row, col + j)
                self.cells[(row, col + j)] = (head[j] if j < len(head) else None,
                                              self.style(None, alignment=header_alignment), None)
            self.put_array(row + 1, col, formula, rows, formats)
            del self.arrays[(row + 1, col)]
            ref = f"{get_column_letter(col)}{row}:{get_column_letter(col + width - 1)}{row + len(rows)}"
            self.arrays[(row, col)] = (formula, ref)
            return ref
        for j in range(width):
            column = [r[j] if j < len(r) else None for r in rows]
            fmt = formats[j] if j < len(formats) else None
            if fmt != DATE and any(isinstance(v, dt.date) for v in column):  # dates among other values
                for i, value in enumerate(column):
                    self._claim(row + i, col + j)
                    self.cells[(row + i, col + j)] = (value, self.style(DATE if isinstance(value, dt.date)
                                                                       else fmt), None)
            else:
                self.put_column(row, col + j, column, fmt)
        ref = f"{get_column_letter(col)}{row}:{get_column_letter(col + width - 1)}{row + len(rows) - 1}"
        self.arrays[(row, col)] = (formula, ref)
        return ref

    def discard(self, row: int, col: int) -> None:
        """Drop a bulk cell (openpyxl writes that cell instead)."""
        self.cells.pop((row, col), None)
        self.removed.add((row, col))
        self._index = None

    def __contains__(self, key: tuple[int, int]) -> bool:
        return key in self._lookup()

    def _lookup(self) -> dict[tuple[int, int], Any]:
        if self._index is None:
            index: dict[tuple[int, int], Any] = {}
            for row, col, values, _, _ in self.blocks:
                for i, value in enumerate(values):
                    if value is not None:
                        index[(row + i, col)] = value
            for key, (value, _, formula) in self.cells.items():
                index[key] = formula if formula is not None else value
            for key in self.removed:
                index.pop(key, None)
            self._index = index
        return self._index

    def get(self, row: int, col: int) -> Any:
        """The value (or the formula text) of a bulk cell, as openpyxl would give it; None when absent."""
        return self._lookup().get((row, col))

    def formulas(self) -> list[tuple[str, str]]:
        """(coordinate, formula) of every formula cell."""
        return [(f"{get_column_letter(c)}{r}", f) for (r, c), (_, _, f) in self.cells.items() if f is not None]

    # -- XML ----------------------------------------------------------------------------------------
    def rows_xml(self, cached: dict[str, Any]) -> dict[int, list[tuple[int, str]]]:
        """{row: [(col, <c> XML)]}; formula cells get their value from ``cached`` (coordinate -> value)."""
        out: dict[int, list[tuple[int, str]]] = {}
        removed = self.removed
        for row, col, values, s, kind in self.blocks:
            letter = get_column_letter(col)
            s_attr = "" if s is None else f' s="{s}"'
            if kind == "date":
                values = [None if v is None else (v - _EPOCH).total_seconds() / 86400.0 for v in values]
                kind = "float"
            if kind == "float":
                items = [(row + i, f'<c r="{letter}{row + i}"{s_attr}><v>{v!r}</v></c>')
                         for i, v in enumerate(values) if v is not None]
            else:
                items = [(row + i, _cell_xml(f"{letter}{row + i}", s_attr, v, None, cached))
                         for i, v in enumerate(values) if v is not None]
            for r, xml in items:
                if xml and not (removed and (r, col) in removed):
                    line = out.get(r)
                    if line is None:
                        out[r] = [(col, xml)]
                    else:
                        line.append((col, xml))
        for (r, c), (value, s, formula) in self.cells.items():
            s_attr = "" if s is None else f' s="{s}"'
            xml = _cell_xml(f"{get_column_letter(c)}{r}", s_attr, value, formula, cached)
            if xml:
                out.setdefault(r, []).append((c, xml))
        lookup = self._lookup()
        for (r, c), (formula, ref) in self.arrays.items():  # after the values: the anchor's XML wins
            out.setdefault(r, []).append((c, _array_anchor_xml(f"{get_column_letter(c)}{r}", ref, formula,
                                                               lookup.get((r, c)), self._style_at(r, c))))
        return out

    def _style_at(self, row: int, col: int) -> str:
        single = self.cells.get((row, col))
        if single is not None:
            return "" if single[1] is None else f' s="{single[1]}"'
        for first, c, values, s, _ in self.blocks:
            if c == col and first <= row < first + len(values):
                return "" if s is None else f' s="{s}"'
        return ""


def _array_anchor_xml(ref: str, area: str, formula: str, value: Any, s_attr: str) -> str:
    """The first cell of an array formula: the formula over ``area`` and its top-left value."""
    text = _escape(formula.removeprefix("="))
    typed = _value_xml(value)
    cm = f' cm="{DYNAMIC_ARRAY_CM}"'
    if typed is None:
        return f'<c r="{ref}"{s_attr}{cm}><f t="array" ref="{area}">{text}</f></c>'
    return f'<c r="{ref}"{s_attr}{typed[0]}{cm}><f t="array" ref="{area}">{text}</f><v>{typed[1]}</v></c>'


def _cell_xml(ref: str, s_attr: str, value: Any, formula: str | None, cached: dict[str, Any]) -> str:
    if formula is not None:
        text = formula.removeprefix("=")
        typed = _value_xml(cached.get(ref))
        if typed is None:
            return f'<c r="{ref}"{s_attr}><f>{_escape(text)}</f></c>'
        return f'<c r="{ref}"{s_attr}{typed[0]}><f>{_escape(text)}</f><v>{typed[1]}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"{s_attr}><v>{value!r}</v></c>' if math.isfinite(value) else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s_attr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{s_attr}><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        return f'<c r="{ref}"{s_attr}><v>{(value - _EPOCH).total_seconds() / 86400.0!r}</v></c>'
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}"{s_attr} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def merge_into_sheet(xml: str, rows: dict[int, list[tuple[int, str]]]) -> str:
    """Merge bulk cells into a worksheet's XML (openpyxl's rows keep their attributes; cells in column order)."""
    if not rows:
        return xml
    match = _SHEETDATA_RE.search(xml)
    if match is None:
        raise ValueError("worksheet XML without <sheetData>")
    body = match.group(1) or ""
    existing: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for row in _ROW_RE.finditer(body):
        cells = [(col_number(m.group(1)), m.group(0)) for m in _CELL_RE.finditer(row.group(3) or "")]
        existing[int(row.group(1))] = (row.group(2), cells)
    parts = []
    max_col = 1
    for r in sorted(set(existing) | set(rows)):
        attrs, cells = existing.get(r, ("", []))
        attrs = re.sub(r'\s+spans="[^"]*"', "", attrs)
        extra = rows.get(r)
        if extra:
            if cells:
                merged = dict(cells)
                merged.update(extra)  # a bulk cell wins over openpyxl's at the same place; one cell per place
                cells = sorted(merged.items())
            else:
                cells = sorted(dict(extra).items())
        if cells:
            max_col = max(max_col, cells[-1][0])
        parts.append(f'<row r="{r}"{attrs}>' + "".join(x for _, x in cells) + "</row>")
    new = xml[: match.start()] + "<sheetData>" + "".join(parts) + "</sheetData>" + xml[match.end():]
    last_row = max(set(existing) | set(rows))
    return _DIM_RE.sub(f'<dimension ref="A1:{get_column_letter(max_col)}{last_row}"/>', new, count=1)


def strip_area(xml: str, min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    """Remove every cell inside the rectangle from a worksheet's XML (rows left empty are dropped)."""
    match = _SHEETDATA_RE.search(xml)
    if match is None or match.group(1) is None:
        return xml
    parts = []
    for row in _ROW_RE.finditer(match.group(1)):
        r = int(row.group(1))
        if not (min_row <= r <= max_row):
            parts.append(row.group(0))
            continue
        body = row.group(3) or ""
        first, last = body.find('<c r="'), body.rfind('<c r="')
        if first < 0 or (min_col <= _letters_at(body, first) and _letters_at(body, last) <= max_col):
            kept = []  # cells are in column order: the first and the last inside means all inside
        else:
            kept = [m.group(0) for m in _CELL_RE.finditer(body) if not (min_col <= col_number(m.group(1)) <= max_col)]
        attrs = re.sub(r'\s+spans="[^"]*"', "", row.group(2))
        if kept or 'customHeight="1"' in attrs:
            parts.append(f'<row r="{r}"{attrs}>' + "".join(kept) + "</row>")
    return xml[: match.start(1)] + "".join(parts) + xml[match.end(1):]
