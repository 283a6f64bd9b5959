"""Post-process a saved .xlsx (zip + XML): put cached values into formula cells.

openpyxl writes every formula cell as ``<c r="B7"><f>...</f><v></v></c>``: a formula without a
result, which a program that does not calculate (a viewer, pandas, a phone preview) shows blank, and
which Excel without the xlsector add-in would turn into ``#NAME?`` on recalculation. The primitives
(fill ``<v>`` with the right ``t`` type from a map ``{sheet: {cell: value}}``; read the cached values of
formula cells from an existing file, so that formulas the render did not compute, the user's own, keep
the values they had: openpyxl drops them on load) live in :mod:`xlsector.xlsx`; this module adds the
render's single pass over the saved file, :func:`finish_xlsx`.

The zip members other than the patched worksheets are copied byte for byte.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from typing import Any

from xlsector.xlsx import (
    DYNAMIC_ARRAY_METADATA,
    METADATA_PART,
    cached_formula_values,
    inject_rows_xml,
    patch_sheet,
    register_dynamic_array_metadata,
    sheet_paths,
    strip_formulas,
)

__all__ = ["cached_formula_values", "finish_xlsx"]

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
    *,
    functions: tuple[str, ...] = (),
    values_only: bool = False,
) -> tuple[bytes, int]:
    """One pass over the saved file: cached values into openpyxl's formula cells (``values``, else ``keep``),
    the bulk cells of each computed sheet (:mod:`xlsector.workbook.bulk`, formulas and arrays with their
    values), the Data sheet's rows (:func:`xlsector.xlsx.inject_rows_xml`) and the dynamic-array metadata
    part. Calls of ``functions`` that Excel stored through an add-in link (``[1]!SECTOR_PICK(``) are written
    plainly (LibreOffice shows ``#NAME?`` for the linked spelling). ``values_only`` drops every formula and
    keeps its value. Returns (bytes, formula cells with a value).
    """
    from xlsector.workbook.bulk import merge_into_sheet

    linked = re.compile(r"\[\d+\]!(?=(?:" + "|".join(map(re.escape, functions)) + r")\()") if functions else None
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
                    xml, count = patch_sheet(xml, values.get(sheet, {}), keep.get(sheet, {}))
                    total += count
                bulk = bulks.get(sheet)
                if bulk is not None:
                    cached = values.get(sheet, {})
                    xml = merge_into_sheet(xml, bulk.rows_xml(cached))
                    total += sum(1 for ref, _ in bulk.formulas() if cached.get(ref) is not None)
                    total += len(bulk.arrays)
                if sheet == data_sheet and data_table is not None:
                    xml = inject_rows_xml(xml, data_table)
                if linked is not None and "]!" in xml:
                    xml = linked.sub("", xml)
                if values_only:
                    xml = strip_formulas(xml)
                data = xml.encode("utf-8")
            elif item.filename == METADATA_PART:
                continue  # written below: the render's arrays use its first cell-metadata entry
            elif item.filename in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels") and not values_only:
                data = register_dynamic_array_metadata(item.filename, data)
            item.compress_type = zipfile.ZIP_DEFLATED
            dest.writestr(item, data)
        if not values_only:
            dest.writestr(METADATA_PART, DYNAMIC_ARRAY_METADATA, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue(), total
