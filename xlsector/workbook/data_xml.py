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

import pandas as pd

from xlsector.xlsx import (
    ROW_RE,
    inject_rows,
    inject_rows_xml,
    rezip,
    rows_xml,
    shared_strings,
    sheet_grid,
    sheet_paths,
    unescape_xml,
)

__all__ = ["inject_rows", "inject_rows_xml", "prepare_for_load", "rows_xml", "strip_rows", "table_grid"]

def _split_body(xml: str) -> tuple[int, int] | None:
    """(start, end) of the text inside <sheetData>...</sheetData>, or None (absent, empty or prefixed element)."""
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


def prepare_for_load(xlsx: bytes, sheet: str, *, name: str = "workbook") -> tuple[bytes, list[list[Any]] | None]:
    """:func:`strip_rows` of the Data sheet, and the previous render's area of each computed sheet cut
    out too (:func:`xlsector.workbook.bulk.strip_area`), so openpyxl loads only what the render keeps."""
    return strip_rows(xlsx, sheet, areas=True, name=name)


def strip_rows(xlsx: bytes, sheet: str, areas: bool = False, *,
               name: str = "workbook") -> tuple[bytes, list[list[Any]] | None]:
    """Cut rows 2.. out of ``sheet``; returns (new bytes, those rows as a grid of values, or None).

    Grid rows start at row 2, column A; blanks are None, numbers float, text str (shared strings
    resolved), booleans bool; errors their text. The values are read by :func:`xlsector.xlsx.sheet_grid` (the
    one reader of price sheets, with its limits); the rows are cut only where the XML is written as the render,
    openpyxl and Excel write it (otherwise openpyxl loads them too, which costs time, not correctness).
    """
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        paths = sheet_paths(archive)
        cut = {}
        if areas:
            from xlsector.workbook.bulk import strip_area

            for sheet_name, box in previous_areas(archive).items():
                if sheet_name in paths and sheet_name != sheet:
                    cut[paths[sheet_name]] = strip_area(archive.read(paths[sheet_name]).decode("utf-8"), *box)
        member = paths.get(sheet)
        if member is None:
            return rezip(archive, cut, stored=True) if cut else xlsx, None
        data = archive.read(member)
        strings = shared_strings(archive) if b't="s"' in data or b"t='s'" in data else []
        grid = sheet_grid(data, strings, f"{name}, sheet {sheet}")
        rows = grid[1:].tolist() if len(grid) > 1 else None
        xml = data.decode("utf-8")
        span = _split_body(xml)
        if span is not None:
            body = xml[span[0]:span[1]]
            found = list(ROW_RE.finditer(body))
            if len(found) == body.count("<row"):  # every row found: cut rows 2..
                keep = "".join(m.group(0) for m in found if int(m.group(1)) < 2)
                cut[member] = xml[: span[0]] + keep + xml[span[1]:]
        if not cut:
            return xlsx, rows
        return rezip(archive, cut, stored=True), rows


def table_grid(table: pd.DataFrame) -> list[list[Any]]:
    """The Data sheet as openpyxl would read it: header row, then [datetime, float | None, ...]."""
    header = ["Date"] + [str(c) for c in table.columns]
    values = table.to_numpy(dtype=float)
    rows: list[list[Any]] = [header]
    for date, line in zip(pd.DatetimeIndex(table.index).to_pydatetime(), values.tolist()):
        rows.append([date] + [None if math.isnan(v) else v for v in line])
    return rows
