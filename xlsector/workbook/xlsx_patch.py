"""Post-process a saved .xlsx (zip + XML): put cached values into formula cells.

openpyxl writes every formula cell as ``<c r="B7"><f>...</f><v></v></c>``: a formula without a
result, which a program that does not calculate (a viewer, pandas, a phone preview) shows blank, and
which Excel without the xlsector add-in would turn into ``#NAME?`` on recalculation. This module fills
``<v>`` (with the right ``t`` type attribute) from a map ``{sheet: {cell: value}}``. It also reads the
cached values of formula cells from an existing file, so that formulas the render did not compute (the
user's own) keep the values they had: openpyxl drops them on load.

The zip members other than the patched worksheets are copied byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["cached_formula_values", "finish_xlsx", "patch_cached_values", "sheet_paths"]

_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_RE = re.compile(r'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"[^>]*/>')
_REL_RE = re.compile(r'<Relationship\b([^>]*)/>')
_ATTR_RE = re.compile(r'(\w+(?::\w+)?)="([^"]*)"')
# A formula cell as openpyxl writes it: attributes, the <f> element (or <f .../>), an empty <v>.
_FORMULA_CELL_RE = re.compile(
    r'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f(?:\s[^>]*)?(?:/>|>.*?</f>))(?:<v\s*/>|<v></v>|<v>[^<]*</v>)?</c>',
    re.DOTALL,
)
_CACHED_RE = re.compile(
    r'<c r="([A-Z]+[0-9]+)"([^>]*)>(?:<f(?:\s[^>]*)?(?:/>|>.*?</f>))<v>([^<]*)</v>', re.DOTALL
)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip member of its worksheet XML}."""
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for match in _REL_RE.finditer(rels):
        attrs = dict(_ATTR_RE.findall(match.group(1)))
        target = attrs.get("Target", "")
        if target.startswith("/"):
            target = target[1:]
        elif not target.startswith("xl/"):
            target = "xl/" + target
        targets[attrs.get("Id")] = target
    return {_unescape(name): targets[rid] for name, rid in _SHEET_RE.findall(workbook) if rid in targets}


def _type_attr(attrs: str) -> str:
    return re.sub(r'\s+t="[^"]*"', "", attrs)


def _value_xml(value: Any) -> tuple[str, str] | None:
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
        return _value_xml(value.item())
    if isinstance(value, dt.datetime):
        return "", repr((value - _EXCEL_EPOCH).total_seconds() / 86400.0)
    if isinstance(value, dt.date):
        return "", str((dt.datetime(value.year, value.month, value.day) - _EXCEL_EPOCH).days)
    text = str(value)
    if text in _ERRORS:
        return ' t="e"', text
    return ' t="str"', escape(text)


def _patch_sheet(xml: str, values: Mapping[str, Any], keep: Mapping[str, tuple[str, str]]) -> tuple[str, int]:
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        ref, attrs, formula = match.group(1), match.group(2), match.group(3)
        attrs = _type_attr(attrs)
        if ref in values:
            cached = _value_xml(values[ref])
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
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        targets = {member: sheet for sheet, member in sheet_paths(archive).items()}
        for item in archive.infolist():
            data = archive.read(item.filename)
            sheet = targets.get(item.filename)
            if sheet is not None and (sheet in values or sheet in keep):
                xml = data.decode("utf-8")
                if "<f" in xml:
                    xml, count = _patch_sheet(xml, values.get(sheet, {}), keep.get(sheet, {}))
                    total += count
                    data = xml.encode("utf-8")
            dest.writestr(item, data, compress_type=item.compress_type)
    return out.getvalue(), total


#: zlib level of the rendered file: 1 is several times faster than the default 6 on the large sheets, for a
#: file about a fifth larger.
COMPRESS_LEVEL = 1


def finish_xlsx(
    xlsx: bytes,
    values: Mapping[str, Mapping[str, Any]],
    keep: Mapping[str, Mapping[str, tuple[str, str]]],
    bulks: Mapping[str, Any],
    data_sheet: str | None = None,
    data_table: Any = None,
) -> tuple[bytes, int]:
    """One pass over the saved file: cached values into openpyxl's formula cells (``values``, else ``keep``),
    the bulk cells of each computed sheet (:mod:`xlsector.workbook.bulk`, formulas with their values) and
    the Data sheet's rows (:mod:`xlsector.workbook.data_xml`). Returns (bytes, formula cells with a value).
    """
    from xlsector.workbook.bulk import merge_into_sheet
    from xlsector.workbook.data_xml import inject_rows_xml

    out = io.BytesIO()
    total = 0
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as dest:
        targets = {member: sheet for sheet, member in sheet_paths(archive).items()}
        for item in archive.infolist():
            data = archive.read(item.filename)
            sheet = targets.get(item.filename)
            if sheet is not None:
                xml = data.decode("utf-8")
                if (sheet in values or sheet in keep) and "<f" in xml:
                    xml, count = _patch_sheet(xml, values.get(sheet, {}), keep.get(sheet, {}))
                    total += count
                bulk = bulks.get(sheet)
                if bulk is not None:
                    cached = values.get(sheet, {})
                    xml = merge_into_sheet(xml, bulk.rows_xml(cached))
                    total += sum(1 for ref, _ in bulk.formulas() if cached.get(ref) is not None)
                if sheet == data_sheet and data_table is not None:
                    xml = inject_rows_xml(xml, data_table)
                data = xml.encode("utf-8")
            item.compress_type = zipfile.ZIP_DEFLATED
            dest.writestr(item, data)
    return out.getvalue(), total
