"""The fast Data-sheet reader agrees with openpyxl on every kind of cell."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import pytest

from xlsector.xlsx import read_sheet_grid, strip_sheet_rows

WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Start" sheetId="1" r:id="rId1"/><sheet name="Data" sheetId="2" r:id="rId2"/></sheets></workbook>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
STRINGS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">
<si><t>Date</t></si><si><t>S&amp;P</t></si><si><r><t>rich </t></r><r><t>text</t></r></si></sst>"""
SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:E5"/>
<sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>XLK</t></is></c>
<c r="D1" t="str"><f>"X"&amp;"LF"</f><v>XLF</v></c><c r="E1" t="s"><v>2</v></c></row>
<row r="2"><c r="A2" s="1"><v>43832</v></c><c r="B2"><v>3257.85</v></c><c r="C2" t="n"><v>1.5E-2</v></c>
<c r="D2" t="e"><v>#N/A</v></c><c r="E2" t="b"><v>1</v></c></row>
<row r="3"><c s="1" r="A3"><v>43833</v></c><c r="B3"><f>B2*2</f><v>6515.7</v></c><c r="C3"/><c r="D3" t="b"><v>0</v></c></row>
<row r="5"><c r="A5" s="1"><v>43836</v></c><c r="E5"><v>-4</v></c></row>
</sheetData></worksheet>"""
START = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>"""
STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>
<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", TYPES.replace(
            "</Types>", '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.styles+xml"/></Types>'))  # fmt: skip
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS.replace(
            "</Relationships>", '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/styles" Target="styles.xml"/></Relationships>'))  # fmt: skip
        archive.writestr("xl/sharedStrings.xml", STRINGS)
        archive.writestr("xl/worksheets/sheet1.xml", START)
        archive.writestr("xl/worksheets/sheet2.xml", SHEET)
        archive.writestr("xl/styles.xml", STYLES)
    return out.getvalue()


def test_every_cell_kind_matches_openpyxl():
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import to_excel

    data = _xlsx()
    grid = read_sheet_grid(data, "Data")
    book = load_workbook(io.BytesIO(data), data_only=True)
    expected = [list(row) for row in book["Data"].iter_rows(values_only=True)]
    # openpyxl turns date-formatted numbers into datetimes; the fast reader keeps Excel serials
    expected = [[to_excel(v) if isinstance(v, dt.datetime) else v for v in row] for row in expected]
    assert grid.tolist() == expected
    assert grid[0].tolist() == ["Date", "S&P", "XLK", "XLF", "rich text"]
    assert grid[1].tolist() == [43832.0, 3257.85, 0.015, "#N/A", True]
    assert grid[2].tolist() == [43833.0, 6515.7, None, False, None]  # formula -> its cached value
    assert grid[3].tolist() == [None] * 5  # row 4 is missing in the file
    assert read_sheet_grid(data, "Start").shape == (0, 0)
    assert read_sheet_grid(data, "Nope") is None


def test_strip_keeps_header_and_other_parts():
    data = _xlsx()
    stripped = strip_sheet_rows(data, "Data")
    assert read_sheet_grid(stripped, "Data").tolist() == [["Date", "S&P", "XLK", "XLF", "rich text"]]
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(io.BytesIO(stripped)) as new:
        for name in old.namelist():
            if name != "xl/worksheets/sheet2.xml":
                assert old.read(name) == new.read(name)


def test_sample_sized_sheet_round_trip(tmp_path):
    from xlsector.data import cells_to_prices, load_sample

    from .data_workbooks import make_workbook

    prices = load_sample().prices.iloc[:500]
    path = make_workbook(tmp_path / "b.xlsx", prices)
    frame = cells_to_prices(read_sheet_grid(path.read_bytes(), "Data"), header=True, dates=True)
    assert frame.index.equals(prices.index) and list(frame.columns) == list(prices.columns)
    np.testing.assert_array_equal(frame.to_numpy(), prices.to_numpy())


def test_not_a_zip():
    from xlsector.errors import DataError

    with pytest.raises(DataError, match="cannot read sheet Data"):
        read_sheet_grid(b"not a zip", "Data")
