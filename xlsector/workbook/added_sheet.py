"""Write one sheet of our own (Sweep, Portfolio) into an existing workbook file, atomically, with openpyxl,
keeping what an openpyxl round trip of the file would otherwise lose in the other sheets.

openpyxl reads a workbook and writes it back without: the cached values of formula cells (a rendered
template would open blank in a viewer), the dynamic-array marks of array formulas (Excel 365 would show
them as legacy CSE arrays) and parts of its charts (date axes, titles, styles). So this module

1. reads from the original file the cached values of every formula cell, the cells marked as dynamic arrays
   (``cm="1"``) with the metadata part that defines the mark, and every chart's XML (by sheet, in drawing
   order);
2. loads the workbook with openpyxl, replaces the named sheet (or adds it at the end), lets the caller fill
   it, and saves to memory;
3. puts back (1) into the saved file's other sheets: values by sheet and cell, the marks and the metadata
   part, each chart's original XML over the chart openpyxl wrote in the same place (a chart whose XML
   refers to a part of its own, ``r:id``, is left as openpyxl wrote it);
4. replaces the file atomically (:func:`xlsector.fileio.atomic_output`): a failure leaves it unchanged.

What openpyxl cannot read at all (images, pivot tables, slicers; VBA unless the file is .xlsm) is lost as
in any openpyxl write (the render has the same limits).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import XlsectorError
from xlsector.fileio import atomic_output, check_writable
from xlsector.xlsx import (
    METADATA_PART,
    cached_formula_values,
    patch_sheet,
    register_dynamic_array_metadata,
    sheet_paths,
)

__all__ = ["write_added_sheet"]

_CM = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*?\bcm="(\d+)"')
_REL = re.compile(r"<Relationship\b([^>]*)/>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_CHART_REF = re.compile(r'<c:chart\b[^>]*?\br:id="([^"]+)"')
_DRAWING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"


def cell_value(value: Any) -> Any:
    """A value as openpyxl writes it into a cell of an added sheet: NaN, infinity and NaT blank, numpy scalars
    and timestamps as plain Python."""
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _rels(archive: zipfile.ZipFile, member: str) -> dict[str, tuple[str, str]]:
    """{rId: (type, target member)} of ``member``'s relationships part (empty when it has none)."""
    folder, name = posixpath.split(member)
    path = posixpath.join(folder, "_rels", name + ".rels")
    try:
        xml = archive.read(path).decode("utf-8")
    except KeyError:
        return {}
    out = {}
    for match in _REL.finditer(xml):
        attrs = dict(_ATTR.findall(match.group(1)))
        target = attrs.get("Target", "")
        resolved = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[attrs.get("Id", "")] = (attrs.get("Type", ""), resolved)
    return out


def _charts(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """{sheet: [chart members in its drawing's order]}."""
    out: dict[str, list[str]] = {}
    for sheet, member in sheet_paths(archive).items():
        charts: list[str] = []
        for kind, drawing in _rels(archive, member).values():
            if kind != _DRAWING:
                continue
            try:
                xml = archive.read(drawing).decode("utf-8")
            except KeyError:
                continue
            targets = _rels(archive, drawing)
            charts += [targets[rid][1] for rid in _CHART_REF.findall(xml) if rid in targets]
        if charts:
            out[sheet] = charts
    return out


def _marks(archive: zipfile.ZipFile) -> dict[str, dict[str, str]]:
    """{sheet: {cell: cm value}} of the cells carrying cell metadata (dynamic arrays)."""
    out: dict[str, dict[str, str]] = {}
    for sheet, member in sheet_paths(archive).items():
        try:
            xml = archive.read(member).decode("utf-8")
        except KeyError:
            continue
        found = dict(_CM.findall(xml))
        if found:
            out[sheet] = found
    return out


def _mark(xml: str, cells: dict[str, str]) -> str:
    def add(match: re.Match[str]) -> str:
        tag = match.group(0)
        value = cells.get(match.group(1))
        if value is None or " cm=" in tag:
            return tag
        end = 2 if tag.endswith("/>") else 1
        return f'{tag[:-end]} cm="{value}"{tag[-end:]}'

    return re.sub(r'<c r="([A-Z]+[0-9]+)"[^>]*>', add, xml)


def write_added_sheet(path: str | Path, name: str, fill: Callable[[Any], None]) -> Path:
    """Replace (or add, at the end) the sheet ``name`` of the workbook at ``path`` with what ``fill(worksheet)``
    writes; every other sheet keeps its cells, formulas, cached values, dynamic arrays and charts.

    Raises XlsectorError when the file is not a workbook, is open in Excel, or cannot be written.
    """
    import openpyxl

    target = check_writable(path)
    try:
        original = target.read_bytes()
        archive = zipfile.ZipFile(io.BytesIO(original))
    except (OSError, zipfile.BadZipFile) as exc:
        raise XlsectorError(f"{target} is not a workbook (.xlsx): {exc}") from None
    with archive:
        keep = cached_formula_values(original, skip={name})
        marks = _marks(archive)
        marks.pop(name, None)
        charts_before = _charts(archive)
        chart_xml = {m: archive.read(m) for members in charts_before.values() for m in members}
        metadata = archive.read(METADATA_PART) if METADATA_PART in archive.namelist() else None
    try:
        book = openpyxl.load_workbook(io.BytesIO(original), keep_vba=target.suffix.lower() == ".xlsm")
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file it cannot read
        raise XlsectorError(f"cannot read the workbook {target}: {exc}") from None
    position = None
    if name in book.sheetnames:
        position = book.sheetnames.index(name)
        book.remove(book[name])
    sheet = book.create_sheet(name, position)
    fill(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    saved = buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved)) as written, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        members = {member: sheet_name for sheet_name, member in sheet_paths(written).items()}
        restore: dict[str, bytes] = {}
        for sheet_name, charts in _charts(written).items():
            before = charts_before.get(sheet_name, [])
            if sheet_name == name or len(before) != len(charts):
                continue
            for old, new in zip(before, charts):
                if b"r:id=" not in chart_xml[old]:
                    restore[new] = chart_xml[old]
        for item in written.infolist():
            data = written.read(item.filename)
            owner = members.get(item.filename)
            if owner is not None and owner != name:
                xml = data.decode("utf-8")
                if owner in keep:
                    xml, _ = patch_sheet(xml, {}, keep[owner])
                if owner in marks:
                    xml = _mark(xml, marks[owner])
                data = xml.encode("utf-8")
            elif item.filename in restore:
                data = restore[item.filename]
            elif metadata is not None and item.filename in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                data = register_dynamic_array_metadata(item.filename, data)
            dest.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
        if metadata is not None:
            dest.writestr(METADATA_PART, metadata, compress_type=zipfile.ZIP_DEFLATED)
    with atomic_output(target) as tmp:
        tmp.write_bytes(out.getvalue())
    return target
