"""Write computed tables into a worksheet and remember what was written.

Each computed sheet records the rectangle the render filled in a hidden workbook-level defined name
``_xlsector_<sheet>``; the next render clears exactly that rectangle (values and styles) before writing,
so cells the user typed outside it survive. Formula cells are written with their value alongside, which
:mod:`xlsector.workbook.xlsx_patch` stores as the cell's cached value after saving.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlsector.workbook import style
from xlsector.workbook.bulk import BulkCells

__all__ = ["Block", "SheetWriter", "area_name", "clean"]


@dataclass(frozen=True)
class Block:
    """Where an array formula's result landed: its first row (the header), first column, size and values."""

    row: int
    col: int
    height: int
    width: int
    ref: str
    rows: list[list[Any]]

    @property
    def last_row(self) -> int:
        return self.row + self.height - 1

    @property
    def ok(self) -> bool:
        """True when the function gave a table (a header and at least one row), not an error."""
        return self.height > 1


def area_name(sheet: str) -> str:
    return "_xlsector_" + "".join(ch if ch.isalnum() else "_" for ch in sheet)


def clean(value: Any) -> Any:
    """A value openpyxl can write: NaN/inf/NaT -> None, numpy scalars -> Python, Timestamps -> datetime."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime().replace(tzinfo=None)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    return value


class SheetWriter:
    """Writes one computed sheet: clears the previous render's area, tracks the new one and the formulas.

    ``evaluate(formula, sheet)`` computes a formula's result as Excel with the add-in would
    (:class:`xlsector.workbook.formulas.FormulaEvaluator`): :meth:`array` writes an xlsector function's
    whole result with the formula, so the file holds both the live formula and its values.
    """

    def __init__(self, wb: Workbook, ws: Worksheet, cached: dict[str, dict[str, Any]],
                 evaluate: Callable[[str, str], Any], cell_errors: tuple[type[Exception], ...] = ()):
        self.wb = wb
        self.ws = ws
        self.evaluate = evaluate
        self.cell_errors = cell_errors
        self.notes: list[str] = []
        self.cached = cached.setdefault(ws.title, {})
        self.min_row = self.min_col = 10**9
        self.max_row = self.max_col = 0
        self.bulk = BulkCells(ws)  # table columns and formulas: lean XML after openpyxl saves (bulk.py)
        self._clear_previous()
        ws._charts = []  # every chart on a computed sheet is the render's

    # -- area bookkeeping -------------------------------------------------------------------------
    def _clear_previous(self) -> None:
        defined = self.wb.defined_names.get(area_name(self.ws.title))
        if defined is None:
            return
        for _, ref in defined.destinations:
            min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
            for key in [k for k in self.ws._cells if min_row <= k[0] <= max_row and min_col <= k[1] <= max_col]:
                del self.ws._cells[key]

    def _touch(self, row: int, col: int) -> None:
        self.min_row = min(self.min_row, row)
        self.max_row = max(self.max_row, row)
        self.min_col = min(self.min_col, col)
        self.max_col = max(self.max_col, col)

    def finish(self) -> None:
        """Record the rectangle written in the hidden name ``_xlsector_<sheet>``."""
        name = area_name(self.ws.title)
        if self.max_row == 0:
            self.wb.defined_names.pop(name, None)
            return
        sheet = self.ws.title.replace("'", "''")
        ref = (f"'{sheet}'!${get_column_letter(self.min_col)}${self.min_row}:"
               f"${get_column_letter(self.max_col)}${self.max_row}")
        self.wb.defined_names[name] = DefinedName(name, attr_text=ref, hidden=True)

    # -- writing ------------------------------------------------------------------------------------
    def value(self, row: int, col: int, value: Any, number_format: str | None = None):
        self.bulk.discard(row, col)
        cell = self.ws.cell(row=row, column=col, value=clean(value))
        if number_format:
            cell.number_format = number_format
        self._touch(row, col)
        return cell

    def formula(self, row: int, col: int, formula: str, cached: Any, number_format: str | None = None, *,
                font: Any = None, alignment: Any = None) -> str:
        """A formula cell; ``cached`` is the value stored with it (the file's cached result; None = evaluate
        the xlsector function). Returns the coordinate."""
        self.bulk.put_formula(row, col, formula, number_format, font=font, alignment=alignment)
        ref = f"{get_column_letter(col)}{row}"
        self.cached[ref] = clean(cached)
        self._touch(row, col)
        return ref

    def array(self, row: int, col: int, formula: str, formats: Sequence[str | None] = (),
              default_format: str | None = None, *, wrap_header: bool = False) -> Block:
        """An xlsector function's result as an array formula at (row, col), with its values: a table whose
        first row is its header. A user error (the function's message) becomes ``#VALUE!`` in the cell and
        a note for the render's report."""
        try:
            value = self.evaluate(formula, self.ws.title)
        except self.cell_errors as exc:  # the function refused its arguments: Excel shows #VALUE!
            self.notes.append(f"{self.ws.title}!{get_column_letter(col)}{row}: {exc}")
            value = "#VALUE!"
        rows = value if isinstance(value, list) and value and isinstance(value[0], list) else [[value]]
        width = max(len(r) for r in rows)
        formats = [formats[j] if j < len(formats) else default_format for j in range(width)]
        ref = self.bulk.put_array(row, col, formula, [[clean(v) for v in r] for r in rows], formats,
                                  header_alignment=style.WRAP if wrap_header else None)
        self._touch(row, col)
        self._touch(row + len(rows) - 1, col + width - 1)
        return Block(row, col, len(rows), width, ref, rows)

    def text(self, row: int, col: int, text: str, kind: str = "plain"):
        cell = self.value(row, col, text)
        if kind == "subtitle":
            style.subtitle(self.ws, cell.coordinate, text)
        elif kind == "note":
            style.note(self.ws, cell.coordinate, text)
        elif kind == "warning":
            style.warning(cell)
        elif kind == "disclosure":
            style.disclosure(cell)
        return cell

    def merge(self, row: int, col: int, last_col: int, height: float | None = None) -> None:
        """Merge (row, col)..(row, last_col) into one cell (a wrapped text across the columns), replacing any
        merge that overlaps it (a re-render merges again); ``height``: the row's height in points (a merged
        cell's text does not grow its row by itself)."""
        replace_merge(self.ws, row, col, last_col)
        self._touch(row, last_col)
        if height:
            self.ws.row_dimensions[row].height = height

    def header(self, row: int, col: int, names: Sequence[str]) -> None:
        style.header_row(self.ws, row, col, list(names))
        for j in range(len(names)):
            self._touch(row, col + j)

    def column(self, row: int, col: int, values: Sequence[Any] | np.ndarray | pd.Index,
               number_format: str | None = None) -> int:
        """Write values down from (row, col); returns the last row written."""
        kind = "any"
        if isinstance(values, np.ndarray) and values.dtype.kind == "f":
            items = [v if math.isfinite(v) else None for v in values.tolist()]
            kind = "float"
        elif isinstance(values, pd.DatetimeIndex):
            items = [None if pd.isna(v) else v for v in values.to_pydatetime()]
            kind = "date"
        else:
            items = [clean(v) for v in values]
        self.bulk.put_column(row, col, items, number_format, kind)
        last = row + len(items) - 1
        if items:
            self._touch(row, col)
            self._touch(last, col)
        return last

    def table(
        self,
        row: int,
        col: int,
        frame: pd.DataFrame,
        *,
        index_label: str | None = "Date",
        formats: dict[str, str] | None = None,
        index_format: str = style.DATE,
        default_format: str | None = None,
    ) -> tuple[int, int]:
        """Header + rows of ``frame`` (its index first unless ``index_label`` is None).

        Returns (first data row, last data row).
        """
        formats = formats or {}
        names = ([index_label] if index_label is not None else []) + [str(c) for c in frame.columns]
        self.header(row, col, names)
        first = row + 1
        c = col
        if index_label is not None:
            index = frame.index
            fmt = index_format if isinstance(index, pd.DatetimeIndex) else None
            self.column(first, c, index if isinstance(index, pd.DatetimeIndex) else list(index), fmt)
            c += 1
        for name in frame.columns:
            series = frame[name]
            values = series.to_numpy(dtype=float) if series.dtype.kind in "fiub" else series.tolist()
            self.column(first, c, values, formats.get(str(name), default_format))
            c += 1
        return first, first + len(frame) - 1

    def widths(self, widths: dict[str, float]) -> None:
        for letter, width in widths.items():
            self.ws.column_dimensions[letter].width = width


def replace_merge(ws: Worksheet, row: int, col: int, last_col: int) -> None:
    """Merge one row's cells col..last_col, first dropping merges that overlap them (and their leftover cells)."""
    from openpyxl.cell.cell import MergedCell
    from openpyxl.worksheet.cell_range import CellRange

    target = CellRange(min_col=col, min_row=row, max_col=last_col, max_row=row)
    for found in list(ws.merged_cells.ranges):
        if not found.isdisjoint(target):
            ws.merged_cells.remove(found)
            for key in list(found.cells)[1:]:
                if isinstance(ws._cells.get(key), MergedCell):
                    del ws._cells[key]
    ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=last_col)


def to_datetime(value: Any) -> dt.datetime | None:
    return clean(pd.Timestamp(value)) if value is not None else None
