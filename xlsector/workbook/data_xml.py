"""Fast path for the Data sheet: its price rows bypass openpyxl (which takes seconds for 100k cells).

Before openpyxl opens a workbook, rows 2.. of the Data sheet are cut out of its XML and parsed here;
after openpyxl saves, the price rows are generated from the price table and put back. Row 1 (the
header) stays with openpyxl. The Data sheet is values only: a formula in a Data cell keeps its last
value, and cell styles in rows 2.. become the render's (dates yyyy-mm-dd, numbers general).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import XlsectorError
from xlsector.workbook.xlsx_patch import sheet_paths

__all__ = ["inject_rows", "strip_rows", "table_grid"]

_ROWS_RE = re.compile(r"(<sheetData>)(.*?)(</sheetData>)|<sheetData\s*/>", re.DOTALL)
_ROW_RE = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', re.DOTALL)
_CELL_RE = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)
_V_RE = re.compile(r"<v>([^<]*)</v>")
_IS_RE = re.compile(r"<t[^>]*>([^<]*)</t>")
_EPOCH = dt.datetime(1899, 12, 30)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    try:
        xml = archive.read("xl/sharedStrings.xml").decode("utf-8")
    except KeyError:
        return []
    return ["".join(_IS_RE.findall(si)) for si in re.findall(r"<si>(.*?)</si>", xml, re.DOTALL)]


_PLAIN_RE = re.compile(r'<c r="([A-Z]+)(\d+)"(?: s="\d+")?><v>([^<]*)</v></c>')


def _plain_grid(body: str) -> list[list[Any]] | None:
    """Fast path: the grid of rows 2.. when every cell is a plain number (as the render writes Data)."""
    found = _PLAIN_RE.findall(body)
    if not found or len(found) != body.count("<c "):
        return None
    letters, row_text, value_text = zip(*found)
    rows = np.array(row_text, dtype=np.int64)
    names, inverse = np.unique(np.array(letters), return_inverse=True)
    cols = np.array([_col_index(str(n)) for n in names], dtype=np.int64)[inverse]
    vals = np.array(value_text).astype(float)
    keep = rows >= 2
    if not keep.any():
        return None
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    grid = np.full((rows.max() - 1, cols.max()), np.nan)
    grid[rows - 2, cols - 1] = vals
    return [[None if v != v else v for v in line] for line in grid.tolist()]


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
        text = text.replace("&apos;", "'").replace("&amp;", "&")
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
            return _rezip(archive, cut) if cut else xlsx, None
        xml = archive.read(member).decode("utf-8")
        span = _split_body(xml)
        if span is None:
            return _rezip(archive, cut) if cut else xlsx, None
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
            rows = list(_ROW_RE.finditer(body))
            keep = "".join(m.group(0) for m in rows if int(m.group(1)) < 2)
            data_rows = [m for m in rows if int(m.group(1)) >= 2]
            if not data_rows:
                return _rezip(archive, cut) if cut else xlsx, None
        strings = None
        grid_rows: dict[int, dict[int, Any]] = {}
        width = 0
        for row in data_rows:
            cells: dict[int, Any] = {}
            for col, _r, attrs, inner in _CELL_RE.findall(row.group(2) or ""):
                if not inner:
                    continue
                t = re.search(r'\bt="(\w+)"', attrs)
                kind = t.group(1) if t else "n"
                if kind == "inlineStr":
                    value: Any = "".join(_IS_RE.findall(inner))
                else:
                    v = _V_RE.search(inner)
                    if v is None:
                        continue
                    text = v.group(1)
                    if kind == "s":
                        if strings is None:
                            strings = _shared_strings(archive)
                        value = strings[int(text)]
                    elif kind == "b":
                        value = text == "1"
                    elif kind in ("str", "e"):
                        value = text
                    else:
                        value = float(text)
                c = _col_index(col)
                cells[c] = value
                width = max(width, c)
            grid_rows[int(row.group(1))] = cells
        if fast is not None:
            grid = fast
        else:
            last = max(grid_rows)
            grid = [[grid_rows.get(r, {}).get(c) for c in range(1, width + 1)] for r in range(2, last + 1)]
        cut[member] = xml[: span[0]] + keep + xml[span[1]:]
        return _rezip(archive, cut), grid


def _rezip(archive: zipfile.ZipFile, replaced: dict[str, str]) -> bytes:
    """The archive with some members' text replaced (stored uncompressed: it is only read back in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dest:
        for item in archive.infolist():
            text = replaced.get(item.filename)
            data = text.encode("utf-8") if text is not None else archive.read(item.filename)
            item.compress_type = zipfile.ZIP_STORED
            dest.writestr(item, data)
    return out.getvalue()


def table_grid(table: pd.DataFrame) -> list[list[Any]]:
    """The Data sheet as openpyxl would read it: header row, then [datetime, float | None, ...]."""
    header = ["Date"] + [str(c) for c in table.columns]
    values = table.to_numpy(dtype=float)
    rows: list[list[Any]] = [header]
    for date, line in zip(table.index.to_pydatetime(), values.tolist()):
        rows.append([date] + [None if math.isnan(v) else v for v in line])
    return rows


def _letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def rows_xml(table: pd.DataFrame, date_style: str | None) -> str:
    """XML of rows 2.. for ``table`` (dates in A as serial numbers with ``date_style``)."""
    letters = [_letters(j + 2) for j in range(table.shape[1])]
    serials = ((table.index - pd.Timestamp(_EPOCH)) / pd.Timedelta(days=1)).to_numpy()
    values = table.to_numpy(dtype=float)
    s_attr = f' s="{date_style}"' if date_style else ""
    parts = []
    for i in range(len(table)):
        r = i + 2
        cells = [f'<c r="A{r}"{s_attr}><v>{serials[i]:.10g}</v></c>']
        for j, v in enumerate(values[i].tolist()):
            if v == v:  # not NaN
                cells.append(f'<c r="{letters[j]}{r}"><v>{v!r}</v></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(parts)


def inject_rows_xml(xml: str, table: pd.DataFrame) -> str:
    """The Data sheet's XML with ``table``'s rows (2..) after openpyxl's row 1.

    openpyxl's row 2, if any, holds one date cell written only to obtain a date style index; it is
    replaced.
    """
    match = _ROWS_RE.search(xml)
    body = match.group(2) or "" if match else ""
    rows = list(_ROW_RE.finditer(body))
    date_style = None
    for row in rows:
        if int(row.group(1)) == 2:
            found = re.search(r'<c r="A2"[^>]*?\bs="(\d+)"', row.group(0))
            date_style = found.group(1) if found else None
    head = "".join(m.group(0) for m in rows if int(m.group(1)) < 2)
    new_body = head + rows_xml(table, date_style)
    if match.group(2) is None:
        new_xml = xml[: match.start()] + f"<sheetData>{new_body}</sheetData>" + xml[match.end():]
    else:
        new_xml = xml[: match.start(2)] + new_body + xml[match.end(2):]
    last = len(table) + 1
    return re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{_letters(table.shape[1] + 1)}{last}"/>',
                  new_xml, count=1)


def inject_rows(xlsx: bytes, sheet: str, table: pd.DataFrame) -> bytes:
    """Put ``table``'s rows (2..) into ``sheet`` of a saved file (see :func:`inject_rows_xml`)."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        member = sheet_paths(archive).get(sheet)
        if member is None:
            raise XlsectorError(f"internal: sheet {sheet} missing in the saved workbook")
        new_xml = inject_rows_xml(archive.read(member).decode("utf-8"), table)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
            for item in archive.infolist():
                data = new_xml.encode("utf-8") if item.filename == member else archive.read(item.filename)
                dest.writestr(item, data, compress_type=item.compress_type)
    return out.getvalue()


_ = np
