"""Low-level .xlsx primitives (zip + SpreadsheetML text, no openpyxl), shared by :mod:`xlsector.data` and
:mod:`xlsector.workbook`.

openpyxl needs seconds for a Data sheet of 100k cells; these functions read and rewrite worksheet XML
with regular expressions (and numpy for the numbers) instead:

- where things are: :func:`sheet_paths` / :func:`sheet_member` (sheet name -> zip member),
  :func:`shared_strings` (XML entities resolved), :func:`col_number` / :func:`col_letters`;
- reading: :func:`cell_value` (one cell of any type), :func:`read_sheet_grid` (a whole sheet's values);
- rewriting: :func:`strip_sheet_rows` (keep only the header row), :func:`rows_xml` / :func:`inject_rows_xml`
  / :func:`inject_rows` (price rows written from a table), :func:`rezip` (members replaced, others copied
  byte for byte);
- cached values of formula cells: :func:`cached_formula_values`, :func:`patch_cached_values`.

Cells understood: numbers (``<v>``, no type or ``t="n"``), shared strings (``t="s"``), inline strings
(``t="inlineStr"``), formula strings (``t="str"``), booleans (``t="b"``), errors (``t="e"``), ISO dates
(``t="d"``, kept as text); a formula cell gives its cached value. Dates are numbers (Excel serials).

This module depends on nothing else in xlsector but :mod:`xlsector.errors` (both packages import it).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, unescape

import numpy as np
import pandas as pd

from xlsector.errors import DataError, XlsectorError

__all__ = [
    "cached_formula_values",
    "cell_value",
    "col_letters",
    "col_number",
    "inject_rows",
    "inject_rows_xml",
    "patch_cached_values",
    "patch_sheet",
    "read_sheet_grid",
    "rezip",
    "rows_xml",
    "shared_strings",
    "sheet_member",
    "sheet_paths",
    "strip_sheet_rows",
    "unescape_xml",
    "value_xml",
]

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_ENTITIES = {"&quot;": '"', "&apos;": "'"}

# -- where things are ----------------------------------------------------------------------------------

_SHEET = re.compile(r"<sheet\b([^>]*)/>")
_REL = re.compile(r"<Relationship\b([^>]*)/>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_TEXT = re.compile(r"<t\b[^>]*>([^<]*)</t>", re.DOTALL)
_SI = re.compile(r"<si>(.*?)</si>", re.DOTALL)


def unescape_xml(text: str) -> str:
    """``text`` with the five predefined XML entities resolved (``&amp;`` -> ``&`` ...)."""
    return unescape(text, _ENTITIES)


def sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip member of its worksheet XML}, in workbook order."""
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for match in _REL.finditer(rels):
        attrs = dict(_ATTR.findall(match.group(1)))
        target = attrs.get("Target", "")
        if target.startswith("/"):
            target = target[1:]
        elif not target.startswith("xl/"):
            target = "xl/" + target
        targets[attrs.get("Id")] = target
    paths = {}
    for match in _SHEET.finditer(workbook):
        attrs = dict(_ATTR.findall(match.group(1)))
        rid = attrs.get("r:id")
        if rid in targets:
            paths[unescape_xml(attrs.get("name", ""))] = targets[rid]
    return paths


def sheet_member(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member of ``sheet``'s worksheet XML, or None if there is no such sheet."""
    return sheet_paths(archive).get(sheet)


def shared_strings(archive: zipfile.ZipFile) -> list[str]:
    """The shared-string table (rich text runs joined, XML entities resolved); [] when there is none."""
    try:
        raw = archive.read("xl/sharedStrings.xml")
    except KeyError:
        return []
    xml = raw.decode("utf-8", errors="replace")
    if _canonical(xml, ("si", "t", "r", "sst")):
        return [unescape_xml("".join(_TEXT.findall(si))) for si in _SI.findall(xml)]
    out = []  # prefixed elements, CDATA, character references: a real XML parser
    for element in _iter_elements(raw, "si"):
        out.append("".join(t.text or "" for t in element.iter() if _local(t.tag) == "t"))
        element.clear()
    return out


def _local(tag: str) -> str:
    """An element's name without its namespace: ``{ns}c`` -> ``c``."""
    return tag.rsplit("}", 1)[-1]


def _canonical(xml: str, names: tuple[str, ...]) -> bool:
    """True when ``xml`` can be read by the regular expressions of this module exactly as an XML parser reads it:
    none of ``names`` written with a namespace prefix, no CDATA section, comment, processing instruction inside,
    character reference, and no whitespace or attribute inside ``<v>``/``<t>`` tags' closing forms."""
    if "<![CDATA[" in xml or "&#" in xml or "<!--" in xml:
        return False
    if xml.count("<?") > 1 or (xml.count("<?") == 1 and not xml.lstrip("\ufeff").startswith("<?xml")):
        return False
    if re.search(r"</?[A-Za-z_][\w.-]*:(?:" + "|".join(names) + r")\b", xml):
        return False
    return not re.search(r"</[vt]\s|<v\s", xml)


def _iter_elements(data: bytes, name: str):
    """Elements named ``name`` (any namespace) of an XML document, each at its end tag (defusedxml's parser)."""
    from defusedxml.ElementTree import iterparse

    for _event, element in iterparse(io.BytesIO(data), events=("end",), forbid_dtd=True):
        if _local(element.tag) == name:
            yield element


def col_number(letters: str) -> int:
    """Column number of column letters, 1-based: ``"A"`` -> 1, ``"AB"`` -> 28."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    """Column letters of a 1-based column number: 1 -> ``"A"``, 28 -> ``"AB"``."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def rezip(archive: zipfile.ZipFile, replaced: Mapping[str, str], *, stored: bool = False) -> bytes:
    """The archive with some members' text replaced, the others copied byte for byte.

    Each member keeps its compression, or all are stored uncompressed with ``stored`` (for bytes that are
    only read back in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as dest:
        for item in archive.infolist():
            text = replaced.get(item.filename)
            data = text.encode("utf-8") if text is not None else archive.read(item.filename)
            dest.writestr(item, data, compress_type=zipfile.ZIP_STORED if stored else item.compress_type)
    return out.getvalue()


# -- reading cells -------------------------------------------------------------------------------------
#
# Three ways to read a sheet's cells, the first that applies: (1) every cell is a plain number as the render,
# openpyxl and Excel write them (`<c r="B2" s="3"><v>4.1</v></c>`): numpy, fast; (2) the XML uses no namespace
# prefix, CDATA, comment or character reference and every cell has its `r` reference: a regular expression per
# cell; (3) anything else legal (`<x:c>`, `<v >`, CDATA, cells without `r`): defusedxml's parser. The file was
# checked to be well-formed XML first (xlsector.workbook.guard), so (1) and (2) read what a parser reads.

_PLAIN_CELL = re.compile(r'<c r="([A-Z]{1,3})(\d{1,7})"(?: s="\d+")?(?: t="n")?(?:/>|><v>([^<]*)</v></c>)')
_CELL_START = re.compile(r"<c[\s/>]")
# any cell: its attributes, then nothing or its content (a <v>, a formula, an inline string)
CELL_RE = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_REF = re.compile(r'\br="([A-Z]{1,3})(\d{1,7})"')
_V = re.compile(r"<v>([^<]*)</v>")
_TYPE = re.compile(r'\bt="(\w+)"')
_SHEET_NAMES = ("worksheet", "sheetData", "row", "c", "v", "f", "is", "t", "r")
_MAX_ROW, _MAX_COL = 1_048_576, 16_384  # Excel's last cell, XFD1048576


def cell_value(attrs: str, inner: str, strings: list[str]) -> Any:
    """The value of one cell matched by :data:`CELL_RE` (its attributes, its content): float, str, bool, error
    text (``"#N/A"``), or None when it has no value."""
    kind_match = _TYPE.search(attrs)
    kind = kind_match.group(1) if kind_match else "n"
    if kind == "inlineStr":
        return unescape_xml("".join(_TEXT.findall(inner or "")))
    found = _V.search(inner or "")
    return _typed(kind, unescape_xml(found.group(1)) if found else "", strings)


def _typed(kind: str, raw: str, strings: list[str]) -> Any:
    """A cell's value from its type attribute and the text of its ``<v>``."""
    if not raw:
        return None
    if kind == "n":
        return float(raw)
    if kind == "s":
        return strings[int(raw)]
    if kind == "b":
        return raw.strip() == "1"
    return raw  # "str" (formula text), "e" (error value), "d" (ISO date text)


class _Cells:
    """Cells collected by position, with the limits (Excel's last cell; MAX_CELLS) checked as they come."""

    def __init__(self, where: str):
        from xlsector.limits import MAX_CELLS

        self.where = where
        self.limit = MAX_CELLS
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.values: list[Any] = []

    def add(self, row: int, col: int, value: Any) -> None:
        if value is None:
            return
        if row > _MAX_ROW or col > _MAX_COL or row < 1 or col < 1:
            raise DataError(f"{self.where}: cell {col_letters(col)}{row} is outside a worksheet (the last cell is "
                            "XFD1048576); the file is damaged or hostile")
        self.rows.append(row)
        self.cols.append(col)
        self.values.append(value)
        if len(self.values) > self.limit:
            self._too_many()

    def _too_many(self) -> None:
        from xlsector.limits import describe

        raise DataError(f"{self.where} holds more than {describe('MAX_CELLS')}; refusing to read it")

    def grid(self) -> np.ndarray:
        from xlsector.limits import describe

        if not self.values:
            return np.empty((0, 0), dtype=object)
        rows = np.asarray(self.rows, dtype=np.int64) - 1
        cols = np.asarray(self.cols, dtype=np.int64) - 1
        height, width = int(rows.max()) + 1, int(cols.max()) + 1
        if height * width > self.limit:
            far = int(np.argmax(cols)) if width * 50 > height else int(np.argmax(rows))
            raise DataError(
                f"{self.where}: its cells span A1:{col_letters(width)}{height} ({height:,} rows x {width:,} columns, "
                f"blanks included; the farthest is {col_letters(self.cols[far])}{self.rows[far]}), over "
                f"{describe('MAX_CELLS')}; delete the stray cells far from the table"
            )
        flat = rows * width + cols
        counts = np.bincount(flat, minlength=height * width)
        if counts.max() > 1:  # which of two values would count is a guess: Excel calls such a file damaged
            twice = int(np.flatnonzero(counts[flat] > 1)[0])
            raise DataError(f"{self.where}: cell {col_letters(self.cols[twice])}{self.rows[twice]} is written twice; "
                            "the file is damaged")
        grid = np.full((height, width), None, dtype=object)
        values = np.empty(len(self.values), dtype=object)
        values[:] = self.values
        grid[rows, cols] = values
        return grid


def _plain_cells(body: str, count: int, cells: _Cells) -> bool:
    """Way (1): every one of the ``count`` cells is a plain number. Fills ``cells``; False when it does not apply."""
    found = _PLAIN_CELL.findall(body)
    if len(found) != count:
        return False
    letters, row_text, value_text = zip(*found)
    try:
        values = np.array([v if v else "nan" for v in value_text]).astype(float)
    except ValueError:
        return False
    unique, inverse = np.unique(np.array(letters), return_inverse=True)
    cols = np.array([col_number(str(key)) for key in unique], dtype=np.int64)[inverse]
    rows = np.array(row_text, dtype=np.int64)
    keep = ~np.isnan(values)
    if not keep.any():
        return True
    outside = (rows > _MAX_ROW) | (rows < 1) | (cols > _MAX_COL)  # row 0 would land on the last row of the grid
    if outside.any():
        bad = int(np.argmax(outside))
        cells.add(int(rows[bad]), int(cols[bad]), 0.0)  # raises, naming the cell
    if int(keep.sum()) > cells.limit:
        cells._too_many()
    cells.rows, cells.cols = rows[keep].tolist(), cols[keep].tolist()
    cells.values = values[keep].tolist()
    return True


def _regex_cells(body: str, count: int, strings: list[str], cells: _Cells) -> bool:
    """Way (2): a regular expression per cell; False when a cell has no ``r`` reference."""
    found = CELL_RE.findall(body)
    if len(found) != count:
        return False
    refs = [_REF.search(attrs) for attrs, _ in found]
    if not all(refs):
        return False
    for (attrs, inner), ref in zip(found, refs):
        assert ref is not None
        try:
            value = cell_value(attrs, inner, strings)
        except (ValueError, IndexError):
            return False  # way (3) names the cell
        cells.add(int(ref.group(2)), col_number(ref.group(1)), value)
    return True


def _parsed_cells(data: bytes, strings: list[str], cells: _Cells) -> None:
    """Way (3): defusedxml's parser, namespace-aware; cells and rows without ``r`` follow the previous ones."""
    from defusedxml.ElementTree import iterparse

    row_number, col = 0, 0
    for event, element in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
        name = _local(element.tag)
        if event == "start":
            if name == "row":
                given = element.get("r")
                if given is not None and not re.fullmatch(r"[1-9]\d{0,6}", given):
                    raise DataError(f"{cells.where}: a row is numbered {given[:40]!r}, which is not a row number; "
                                    "the file is damaged")
                row_number = int(given) if given else row_number + 1
                col = 0
            continue
        if name == "c":
            given = element.get("r")
            ref = re.fullmatch(r"([A-Z]{1,3})([1-9]\d{0,6})", given) if given is not None else None
            if given is not None and ref is None:
                raise DataError(f"{cells.where}: a cell is named {given[:40]!r}, which is not a cell reference "
                                "(like B7); the file is damaged")
            col = col_number(ref.group(1)) if ref else col + 1
            kind = element.get("t") or "n"
            if kind == "inlineStr":
                value: Any = "".join(t.text or "" for t in element.iter() if _local(t.tag) == "t")
            else:
                text = next((v.text or "" for v in element if _local(v.tag) == "v"), "")
                try:
                    value = _typed(kind, text.strip() if kind == "n" else text, strings)
                except (ValueError, IndexError):
                    raise DataError(f"{cells.where}: cell {col_letters(col)}{row_number} of type {kind!r} holds "
                                    f"{text[:40]!r}, which is not a valid value of that type") from None
            cells.add(int(ref.group(2)) if ref else row_number, col, value)
            element.clear()
        elif name == "row":
            element.clear()


def sheet_grid(data: bytes, strings: list[str], where: str) -> np.ndarray:
    """The values of one worksheet part (its XML bytes) as a 2-D object array from A1, None for blanks.

    Numbers are floats, text str, booleans bool, error values their text (``"#N/A"``). Raises DataError naming
    ``where`` for a cell beyond Excel's last (XFD1048576) or more cells than
    :data:`~xlsector.limits.MAX_CELLS` (blanks inside the rectangle from A1 counted).
    """
    cells = _Cells(where)
    xml = data.decode("utf-8", errors="replace")
    start, end = xml.find("<sheetData"), xml.rfind("</sheetData>")
    body = xml[start:end] if start >= 0 and end > start else ""
    canonical = start >= 0 and _canonical(xml, _SHEET_NAMES)
    if canonical:
        # the header rows (text) the regular way, the rest (numbers, as written by the render) the fast way
        first = _PLAIN_CELL.search(body)
        cut = max(body.rfind("<row", 0, first.start()), 0) if first else len(body)
        head, tail = body[:cut], body[cut:]
        head_count, tail_count = len(_CELL_START.findall(head)), len(_CELL_START.findall(tail))
        done = head_count == 0 or _regex_cells(head, head_count, strings, cells)
        if done and tail_count:
            rest = _Cells(where)
            if _plain_cells(tail, tail_count, rest):
                cells.rows += rest.rows
                cells.cols += rest.cols
                cells.values += rest.values
                if len(cells.values) > cells.limit:
                    cells._too_many()
            else:
                done = _regex_cells(tail, tail_count, strings, cells)
        if done:
            return cells.grid()
    cells = _Cells(where)
    _parsed_cells(data, strings, cells)
    return cells.grid()


def read_sheet_grid(xlsx: bytes, sheet: str, *, name: str = "workbook") -> np.ndarray | None:
    """The values of ``sheet`` as a 2-D object array from A1 (None for blanks), or None if no such sheet
    (:func:`sheet_grid`; ``name`` is the file's name for messages)."""
    try:
        with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
            member = sheet_member(archive, sheet)
            if member is None:
                return None
            data = archive.read(member)
            strings = shared_strings(archive) if b't="s"' in data or b"t='s'" in data else []
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"cannot read sheet {sheet} of {name}: {type(exc).__name__}: {exc}") from None
    try:
        return sheet_grid(data, strings, f"{name}, sheet {sheet}")
    except Exception as exc:  # an XML error in a part the guard did not see (bytes given directly)
        if isinstance(exc, XlsectorError):
            raise
        raise DataError(f"cannot read sheet {sheet} of {name}: {type(exc).__name__}: {exc}") from None


# -- rewriting rows ------------------------------------------------------------------------------------

_SHEETDATA = re.compile(r"<sheetData>(.*?)</sheetData>", re.DOTALL)
_ROW1 = re.compile(r'<row\b[^>]*?\br="1"[^>]*?(?:/>|>.*?</row>)', re.DOTALL)
_ROWS_RE = re.compile(r"(<sheetData>)(.*?)(</sheetData>)|<sheetData\s*/>", re.DOTALL)
ROW_RE = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', re.DOTALL)


def strip_sheet_rows(xlsx: bytes, sheet: str) -> bytes:
    """A copy of the file in which ``sheet`` keeps only its first row (header); other parts byte-identical."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        member = sheet_member(archive, sheet)
        if member is None:
            return xlsx
        xml = archive.read(member).decode("utf-8")
        match = _SHEETDATA.search(xml)
        if match is None:
            return xlsx
        first = _ROW1.search(match.group(1))
        body = first.group(0) if first else ""
        return rezip(archive, {member: xml[: match.start(1)] + body + xml[match.end(1) :]})


def rows_xml(table: pd.DataFrame, date_style: str | None) -> str:
    """XML of rows 2.. for ``table`` (dates in A as serial numbers with ``date_style``)."""
    letters = [col_letters(j + 2) for j in range(table.shape[1])]
    serials = ((pd.DatetimeIndex(table.index) - pd.Timestamp(_EXCEL_EPOCH)) / pd.Timedelta(days=1)).to_numpy()
    values = table.to_numpy(dtype=float)
    s_attr = f' s="{date_style}"' if date_style else ""
    parts = []
    for i in range(len(table)):
        r = i + 2
        cells = [f'<c r="A{r}"{s_attr}><v>{serials[i]:.10g}</v></c>']
        for j, v in enumerate(values[i].tolist()):
            if not math.isnan(v):
                cells.append(f'<c r="{letters[j]}{r}"><v>{v!r}</v></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(parts)


def inject_rows_xml(xml: str, table: pd.DataFrame) -> str:
    """The Data sheet's XML with ``table``'s rows (2..) after openpyxl's row 1.

    openpyxl's row 2, if any, holds one date cell written only to obtain a date style index; it is
    replaced.
    """
    match = _ROWS_RE.search(xml)
    if match is None:  # openpyxl always writes the element, even empty
        raise ValueError("the Data sheet's XML has no sheetData element")
    body = match.group(2) or ""
    rows = list(ROW_RE.finditer(body))
    date_style = None
    for row in rows:
        if int(row.group(1)) == 2:
            found = re.search(r'<c r="A2"[^>]*?\bs="(\d+)"', row.group(0))
            date_style = found.group(1) if found else None
    head = "".join(m.group(0) for m in rows if int(m.group(1)) < 2)
    new_body = head + rows_xml(table, date_style)
    if match.group(2) is None:
        new_xml = xml[: match.start()] + f"<sheetData>{new_body}</sheetData>" + xml[match.end() :]
    else:
        new_xml = xml[: match.start(2)] + new_body + xml[match.end(2) :]
    last = len(table) + 1
    return re.sub(
        r'<dimension ref="[^"]*"/>',
        f'<dimension ref="A1:{col_letters(table.shape[1] + 1)}{last}"/>',
        new_xml,
        count=1,
    )


def inject_rows(xlsx: bytes, sheet: str, table: pd.DataFrame) -> bytes:
    """Put ``table``'s rows (2..) into ``sheet`` of a saved file (see :func:`inject_rows_xml`)."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        member = sheet_member(archive, sheet)
        if member is None:
            raise XlsectorError(f"internal: sheet {sheet} missing in the saved workbook")
        return rezip(archive, {member: inject_rows_xml(archive.read(member).decode("utf-8"), table)})


# -- cached values of formula cells --------------------------------------------------------------------
#
# openpyxl writes every formula cell as ``<c r="B7"><f>...</f><v></v></c>``: a formula without a result,
# which a program that does not calculate (a viewer, pandas, a phone preview) shows blank. These fill
# ``<v>`` (with the right ``t`` type attribute), and read the cached values of an existing file, which
# openpyxl drops on load.

# A formula cell as openpyxl writes it: attributes, the <f> element (or <f .../>), an empty <v>.
_FORMULA_CELL_RE = re.compile(
    r'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f(?:\s[^>]*)?(?:/>|>.*?</f>))(?:<v\s*/>|<v></v>|<v>[^<]*</v>)?</c>',
    re.DOTALL,
)
_CACHED_RE = re.compile(
    r'<c r="([A-Z]+[0-9]+)"([^>]*)>(?:<f(?:\s[^>]*)?(?:/>|>.*?</f>))<v>([^<]*)</v>', re.DOTALL
)
_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def _type_attr(attrs: str) -> str:
    return re.sub(r'\s+t="[^"]*"', "", attrs)


def value_xml(value: Any) -> tuple[str, str] | None:
    """(t attribute or "", <v> content) for a Python value; None when it has no cached form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if math.isnan(number):
            return ' t="e"', "#N/A"
        if math.isinf(number):
            return ' t="e"', "#NUM!"
        return "", repr(number) if not number.is_integer() else str(int(number))
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        return value_xml(value.item())
    if isinstance(value, dt.datetime):
        return "", repr((value - _EXCEL_EPOCH).total_seconds() / 86400.0)
    if isinstance(value, dt.date):
        return "", str((dt.datetime(value.year, value.month, value.day) - _EXCEL_EPOCH).days)
    text = str(value)
    if text in _ERRORS:
        return ' t="e"', text
    return ' t="str"', escape(text)


def patch_sheet(xml: str, values: Mapping[str, Any], keep: Mapping[str, tuple[str, str]]) -> tuple[str, int]:
    """A worksheet's XML with cached values in its formula cells (see :func:`patch_cached_values`)."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        ref, attrs, formula = match.group(1), match.group(2), match.group(3)
        attrs = _type_attr(attrs)
        if ref in values:
            cached = value_xml(values[ref])
            if cached is not None:
                count += 1
                return f'<c r="{ref}"{attrs}{cached[0]}>{formula}<v>{cached[1]}</v></c>'
        elif ref in keep:
            t_attr, content = keep[ref]
            count += 1
            return f'<c r="{ref}"{attrs}{t_attr}>{formula}<v>{content}</v></c>'
        return f'<c r="{ref}"{attrs}>{formula}</c>'

    return _FORMULA_CELL_RE.sub(replace, xml), count


def cached_formula_values(xlsx: bytes, skip: Any = ()) -> dict[str, dict[str, tuple[str, str]]]:
    """The cached values of the formula cells of an existing file: {sheet: {cell: (t attr, content)}}.

    Sheets named in ``skip`` are not read."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        for sheet, member in sheet_paths(archive).items():
            if sheet in skip:
                continue
            try:
                xml = archive.read(member).decode("utf-8")
            except KeyError:
                continue
            if "<f" not in xml:
                continue
            cells = {}
            for ref, attrs, content in _CACHED_RE.findall(xml):
                t_match = re.search(r'\bt="([^"]*)"', attrs)
                t_attr = f' t="{t_match.group(1)}"' if t_match and t_match.group(1) != "n" else ""
                cells[ref] = (t_attr, content)
            if cells:
                found[sheet] = cells
    return found


def patch_cached_values(
    xlsx: bytes,
    values: Mapping[str, Mapping[str, Any]],
    keep: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
) -> tuple[bytes, int]:
    """Insert cached values into the formula cells of ``xlsx``; returns (new bytes, cells patched).

    ``values`` maps sheet name -> cell -> Python value (number, text, bool, date; NaN becomes ``#N/A``).
    ``keep`` maps sheet -> cell -> (t attribute, raw ``<v>`` content) read by :func:`cached_formula_values`,
    used for formula cells not in ``values``. Formula cells in neither keep no ``<v>`` (a calculating
    program computes them on load).
    """
    keep = keep or {}
    out = io.BytesIO()
    total = 0
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as archive,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest,
    ):
        targets = {member: sheet for sheet, member in sheet_paths(archive).items()}
        for item in archive.infolist():
            data = archive.read(item.filename)
            sheet = targets.get(item.filename)
            if sheet is not None and (sheet in values or sheet in keep):
                xml = data.decode("utf-8")
                if "<f" in xml:
                    xml, count = patch_sheet(xml, values.get(sheet, {}), keep.get(sheet, {}))
                    total += count
                    data = xml.encode("utf-8")
            dest.writestr(item, data, compress_type=item.compress_type)
    return out.getvalue(), total


# ------------------------------------------------------------------------------------------ dynamic arrays

METADATA_PART = "xl/metadata.xml"
#: Cell metadata marking an array formula as an Excel dynamic array (cells carry ``cm="1"``): Excel 365
#: spills it and resizes it when its result grows; older Excel and LibreOffice read a plain array formula.
DYNAMIC_ARRAY_METADATA = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
    '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" pasteAll="1" '
    'pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" clearComments="1" assign="1" '
    'coerce="1" cellMeta="1"/></metadataTypes>'
    '<futureMetadata name="XLDAPR" count="1"><bk><extLst><ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
    '<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk></futureMetadata>'
    '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>'
)
_METADATA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
_METADATA_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"


def register_dynamic_array_metadata(member: str, data: bytes) -> bytes:
    """``[Content_Types].xml`` or the workbook's relationships, with the metadata part declared (once)."""
    xml = data.decode("utf-8")
    if member == "[Content_Types].xml":
        if "/xl/metadata.xml" not in xml:
            xml = xml.replace("</Types>", f'<Override PartName="/{METADATA_PART}" ContentType="{_METADATA_TYPE}"/>'
                                          "</Types>")
    elif _METADATA_REL not in xml:
        used = {int(n) for n in re.findall(r'Id="rId(\d+)"', xml)}
        rid = max(used, default=0) + 1
        xml = xml.replace("</Relationships>", f'<Relationship Id="rId{rid}" Type="{_METADATA_REL}" '
                                              'Target="metadata.xml"/></Relationships>')
    return xml.encode("utf-8")


_FORMULA_RE = re.compile(r"<f(?:\s[^>]*)?(?:/>|>.*?</f>)", re.DOTALL)


_STR_RESULT_RE = re.compile(r'(<c [^>]*?)t="str"([^>]*)><v>([^<]*)</v></c>')


def strip_formulas(xml: str) -> str:
    """A worksheet's XML with every formula removed and its cached value kept (and no dynamic-array marks);
    a text result becomes an inline string (``t="str"`` is for formula results)."""
    xml = _FORMULA_RE.sub("", xml).replace(' cm="1"', "")
    return _STR_RESULT_RE.sub(r'\1t="inlineStr"\2><is><t xml:space="preserve">\3</t></is></c>', xml)
