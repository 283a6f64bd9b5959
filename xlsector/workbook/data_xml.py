"""Fast path for the Data sheet: its price rows bypass openpyxl (which takes seconds for 100k cells).

Before openpyxl opens a workbook, rows 2.. of the Data sheet are cut out of its XML and parsed here;
after openpyxl saves, the price rows are generated from the price table and put back. Row 1 (the
header) stays with openpyxl. The Data sheet is values only: a formula in a Data cell keeps its last
value, and cell styles in rows 2.. become the render's (dates yyyy-mm-dd, numbers general).
The XML primitives (and :func:`inject_rows`, re-exported here) live in :mod:`xlsector.xlsx`.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from xlsector.xlsx import (
    CELL_RE,
    ROW_RE,
    cell_value,
    col_number,
    inject_rows,
    inject_rows_xml,
    rezip,
    rows_xml,
    shared_strings,
    sheet_paths,
    unescape_xml,
)

__all__ = ["inject_rows", "inject_rows_xml", "prepare_for_load", "rows_xml", "strip_rows", "table_grid"]

_PLAIN_RE = re.compile(r'<c r="([A-Z]+)(\d+)"(?: s="\d+")?><v>([^<]*)</v></c>')


def _plain_grid(body: str) -> list[list[Any]] | None:
    """Fast path: the grid of rows 2.. when every cell is a plain number (as the render writes Data)."""
    found = _PLAIN_RE.findall(body)
    if not found or len(found) != body.count("<c "):
        return None
    letters, row_text, value_text = zip(*found)
    rows = np.array(row_text, dtype=np.int64)
    names, inverse = np.unique(np.array(letters), return_inverse=True)
    cols = np.array([col_number(str(n)) for n in names], dtype=np.int64)[inverse]
    vals = np.array(value_text).astype(float)
    keep = rows >= 2
    if not keep.any():
        return None
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    grid = np.full((rows.max() - 1, cols.max()), np.nan)
    grid[rows - 2, cols - 1] = vals
    return [[None if math.isnan(v) else v for v in line] for line in grid.tolist()]


def _split_body(xml: str) -> tuple[int, int] | None:
    """(start, end) of the text inside <sheetData>...</sheetData>, or None (absent or empty element)."""
    start = xml.find("<sheetData>")
    if start < 0:
        return None
    end = xml.find("</sheetData>", start)
    return (start + len("<sheetData>"), end) if end >= 0 else None


_AREA_RE = re.compile(r'<definedName\b[^>]*\bname="_xlsector_([^"]*)"[^>]*>([^<]*)</definedName>')


def previous_areas(archive: zipfile.ZipFile) -> dict[str, tuple[int, int, int, int]]:
    """{sheet: (min_col, min_row, max_col, max_row)} of the previous render's areas (``_xlsector_<sheet>``)."""
    from openpyxl.utils import range_boundaries

    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    out = {}
    for _key, text in _AREA_RE.findall(workbook):
        text = unescape_xml(text)
        if "!" not in text:
            continue
        sheet, ref = text.rsplit("!", 1)
        sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
        try:
            out[sheet] = range_boundaries(ref.replace("$", ""))
        except ValueError:
            continue
    return out


def prepare_for_load(xlsx: bytes, sheet: str) -> tuple[bytes, list[list[Any]] | None]:
    """:func:`strip_rows` of the Data sheet, and the previous render's area of each computed sheet cut
    out too (:func:`xlsector.workbook.bulk.strip_area`), so openpyxl loads only what the render keeps."""
    return strip_rows(xlsx, sheet, areas=True)


def strip_rows(xlsx: bytes, sheet: str, areas: bool = False) -> tuple[bytes, list[list[Any]] | None]:
    """Cut rows 2.. out of ``sheet``; returns (new bytes, those rows as a grid of values, or None).

    Grid rows start at row 2, column A; blanks are None, numbers float, text str (shared strings
    resolved), booleans bool; errors their text.
    """
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        paths = sheet_paths(archive)
        cut = {}
        if areas:
            from xlsector.workbook.bulk import strip_area

            for name, box in previous_areas(archive).items():
                if name in paths and name != sheet:
                    cut[paths[name]] = strip_area(archive.read(paths[name]).decode("utf-8"), *box)
        member = paths.get(sheet)
        if member is None:
            return rezip(archive, cut, stored=True) if cut else xlsx, None
        xml = archive.read(member).decode("utf-8")
        span = _split_body(xml)
        if span is None:
            return rezip(archive, cut, stored=True) if cut else xlsx, None
        body = xml[span[0]:span[1]]
        second = body.find('<row r="2"')
        head_rows = body[:second].count("<row ") if second >= 0 else -1
        fast = None
        if head_rows == 0 or (head_rows == 1 and body.startswith('<row r="1"')):
            fast = _plain_grid(body[second:])
        if fast is not None:
            keep = body[:second]
            data_rows = []
        else:
            rows = list(ROW_RE.finditer(body))
            keep = "".join(m.group(0) for m in rows if int(m.group(1)) < 2)
            data_rows = [m for m in rows if int(m.group(1)) >= 2]
            if not data_rows:
                return rezip(archive, cut, stored=True) if cut else xlsx, None
        strings = shared_strings(archive) if data_rows and 't="s"' in body else []
        grid_rows: dict[int, dict[int, Any]] = {}
        width = 0
        for row in data_rows:
            cells: dict[int, Any] = {}
            for col, _r, attrs, raw, inner in CELL_RE.findall(row.group(2) or ""):
                value = cell_value(attrs, raw, inner, strings)
                if value is None:
                    continue
                c = col_number(col)
                cells[c] = value
                width = max(width, c)
            grid_rows[int(row.group(1))] = cells
        if fast is not None:
            grid = fast
        else:
            last = max(grid_rows)
            grid = [[grid_rows.get(r, {}).get(c) for c in range(1, width + 1)] for r in range(2, last + 1)]
        cut[member] = xml[: span[0]] + keep + xml[span[1]:]
        return rezip(archive, cut, stored=True), grid


def table_grid(table: pd.DataFrame) -> list[list[Any]]:
    """The Data sheet as openpyxl would read it: header row, then [datetime, float | None, ...]."""
    header = ["Date"] + [str(c) for c in table.columns]
    values = table.to_numpy(dtype=float)
    rows: list[list[Any]] = [header]
    for date, line in zip(table.index.to_pydatetime(), values.tolist()):
        rows.append([date] + [None if math.isnan(v) else v for v in line])
    return rows
