"""The shared .xlsx primitives (xlsector.xlsx): one reader for data/ and workbook/, entities resolved."""

from __future__ import annotations

import io
import zipfile

import pytest

from xlsector.workbook.data_xml import strip_rows
from xlsector.xlsx import col_letters, col_number, read_sheet_grid, sheet_paths

from .test_data_sheetxml import SHEET, _xlsx


def _with_sheet(sheet_xml: str, workbook_xml: str | None = None) -> bytes:
    """The test workbook of test_data_sheetxml with another Data sheet (and workbook.xml)."""
    src = zipfile.ZipFile(io.BytesIO(_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dest:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = sheet_xml.encode("utf-8")
            elif item.filename == "xl/workbook.xml" and workbook_xml is not None:
                data = workbook_xml.encode("utf-8")
            dest.writestr(item, data)
    return out.getvalue()


def test_render_data_reader_agrees_with_data_reader_on_every_cell_kind():
    data = _xlsx()
    stripped, rows = strip_rows(data, "Data")
    assert rows == read_sheet_grid(data, "Data")[1:].tolist()
    assert rows[0] == [43832.0, 3257.85, 0.015, "#N/A", True]
    assert rows[1] == [43833.0, 6515.7, None, False, None]  # A3 is written <c s="1" r="A3">
    assert read_sheet_grid(stripped, "Data").tolist() == [["Date", "S&P", "XLK", "XLF", "rich text"]]


def test_ampersand_in_data_rows_survives_render_reader():
    # shared string 1 is "S&amp;P" in sharedStrings.xml; an inline string and a formula text with & too
    sheet = SHEET.replace('<c r="E5"><v>-4</v></c>', '<c r="E5" t="s"><v>1</v></c>').replace(
        '<c r="D3" t="b"><v>0</v></c>',
        '<c r="D3" t="inlineStr"><is><t>AT&amp;T</t></is></c><c r="F3" t="str"><f>"a"</f><v>&lt;a&gt;</v></c>',
    )
    data = _with_sheet(sheet)
    _, rows = strip_rows(data, "Data")
    assert rows[3][4] == "S&P"
    assert rows[1][3] == "AT&T" and rows[1][5] == "<a>"
    assert rows == read_sheet_grid(data, "Data")[1:].tolist()


@pytest.mark.parametrize("name, xml_name", [("S&P", "S&amp;P"), ("Bob's", "Bob&apos;s"), ('a"b', "a&quot;b")])
def test_sheet_names_with_entities_and_any_attribute_order(name, xml_name):
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Start" sheetId="1" r:id="rId1"/>'
        f'<sheet r:id="rId2" sheetId="2" name="{xml_name}"/></sheets></workbook>'
    )
    data = _with_sheet(SHEET, workbook)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sheet_paths(archive) == {"Start": "xl/worksheets/sheet1.xml", name: "xl/worksheets/sheet2.xml"}
    assert read_sheet_grid(data, name)[0, 1] == "S&P"


def test_column_letters_round_trip():
    for n in (1, 26, 27, 52, 702, 703, 16384):
        assert col_number(col_letters(n)) == n
    assert col_letters(28) == "AB" and col_number("XFD") == 16384
