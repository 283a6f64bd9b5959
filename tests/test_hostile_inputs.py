"""Hostile and broken inputs, made at test time: every door refuses them with one ``Error:`` line naming the file
and the rule, exit code 1, in under 5 s and 500 MB, and leaves the target's bytes as they were; legal but unusual
input is read as an XML parser reads it.

Each command runs in a fresh process (``python -m xlsector``), measured with ``os.wait4`` (its own peak memory).
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest

from .data_workbooks import random_walk

REPO = Path(__file__).resolve().parents[1]
SECONDS = 5.0
MEGABYTES = 500


# The child's peak memory is read from /proc/self/status (VmHWM, the peak of its own address space) as it
# exits. getrusage's ru_maxrss would not do: Linux carries the forking parent's peak into the child across
# exec, so every child of a large pytest process would look as large as pytest.
_MEASURED_MAIN = """
import runpy, sys
try:
    runpy.run_module("xlsector", run_name="__main__", alter_sys=True)
finally:
    peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    with open(PEAK_FILE, "w") as file:
        file.write(peak[0].split()[1] if peak else "nan")
"""


def run_cli(args: list[str], tmp_path: Path, *, timeout: float = 60) -> tuple[int, str, str, float, float]:
    """(exit code, stdout, stderr, wall seconds, peak memory MB) of ``xlsector ARGS`` in a fresh process."""
    env = {**os.environ, "XLSECTOR_HOME": str(tmp_path / "home"), "XLSECTOR_CACHE_DIR": str(tmp_path / "cache"),
           "XLSECTOR_LOCK_WAIT": "0", "PYTHONWARNINGS": ""}
    out, err, peak = tmp_path / "stdout.txt", tmp_path / "stderr.txt", tmp_path / "peak-kb.txt"
    main = f"PEAK_FILE = {str(peak)!r}\n{_MEASURED_MAIN}"
    start = time.monotonic()
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", main, *args], cwd=tmp_path, env=env,
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"xlsector {' '.join(args)} still running after {timeout} s") from None
    seconds = time.monotonic() - start
    return proc.returncode, out.read_text(), err.read_text(), seconds, float(peak.read_text()) / 1024


def assert_refused(args: list[str], tmp_path: Path, file: Path, *rule: str) -> str:
    """The command exits 1 with one Error: line naming ``file`` and each text of ``rule``, quickly and in
    little memory, and ``file`` keeps its bytes (when it is a regular file)."""
    before = file.read_bytes() if file.is_file() else None
    code, out, err, seconds, megabytes = run_cli(args, tmp_path)
    errors = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert code == 1, (code, out[-500:], err[-2000:])
    assert "Traceback" not in err, err[-3000:]
    assert len(errors) == 1, err
    assert file.name in errors[0], errors[0]
    for text in rule:
        assert text in errors[0], errors[0]
    assert seconds < SECONDS, f"{seconds:.1f} s: {errors[0]}"
    assert 10 < megabytes < MEGABYTES, f"{megabytes:.0f} MB: {errors[0]}"  # a Python process is > 10 MB
    if before is not None:
        assert file.read_bytes() == before
    return errors[0]


# ------------------------------------------------------------------------------------------- workbooks

def small_book(path: Path, days: int = 300, prices: pd.DataFrame | None = None) -> Path:
    """A template workbook whose Data holds ``days`` days of two funds and an index (or ``prices`` with those
    columns), its Settings naming them."""
    from openpyxl import load_workbook

    from xlsector.workbook.template import write_template

    write_template(path, overwrite=True)
    if prices is None:
        prices = random_walk(["AAA", "BBB", "IDX"], pd.bdate_range("2019-01-01", periods=days), seed=5)
    book = load_workbook(path)
    for name, value in (("Funds", "AAA,BBB"), ("MarketIndex", "IDX")):
        title, coord = next(iter(book.defined_names[name].destinations))
        book[title][coord.replace("$", "")].value = value
    data = book["Data"]
    for j, column in enumerate(["Date", *prices.columns], start=1):
        data.cell(1, j).value = column
    for i, (date, row) in enumerate(prices.iterrows(), start=2):
        data.cell(i, 1).value = date.to_pydatetime()
        for j, value in enumerate(row.tolist(), start=2):
            data.cell(i, j).value = float(value)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def book_bytes(tmp_path_factory) -> bytes:
    """A small template workbook with 300 days of two funds and an index."""
    return small_book(tmp_path_factory.mktemp("hostile") / "base.xlsx").read_bytes()


def replace_parts(data: bytes, parts: dict[str, bytes | None], *, extra: dict[str, bytes] | None = None) -> bytes:
    """A copy of the workbook with some parts' bytes replaced (None: removed) and others added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for item in src.infolist():
            if item.filename in parts:
                if parts[item.filename] is not None:
                    dest.writestr(item.filename, parts[item.filename])
            else:
                dest.writestr(item, src.read(item.filename))
        for name, payload in (extra or {}).items():
            dest.writestr(name, payload)
    return out.getvalue()


def part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def data_member(data: bytes) -> str:
    from xlsector.xlsx import sheet_member

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = sheet_member(archive, "Data")
    assert member is not None
    return member


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol9;</workbook>')


@pytest.mark.parametrize("command", ["render", "refresh", "signal", "backtest-prices", "render-data"])
def test_billion_laughs_is_refused_everywhere(book_bytes, tmp_path, command):
    book = write(tmp_path, "laughs.xlsx", replace_parts(book_bytes, {"xl/workbook.xml": LAUGHS}))
    args = {
        "render": ["render", book.name],
        "refresh": ["refresh", book.name, "--tickers", "AAA"],
        "signal": ["signal", book.name],
        "backtest-prices": ["tune", "trend-chart", "--prices", book.name],
        "render-data": ["render", _template(tmp_path).name, "-o", "out.xlsx", "--data", book.name],
    }[command]
    assert_refused(args, tmp_path, book, "document type declaration")


def _template(tmp_path: Path) -> Path:
    from xlsector.workbook.template import write_template

    return write_template(tmp_path / "template.xlsx", overwrite=True)


def test_external_entity_reads_no_local_file(book_bytes, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("SECRET-CANARY")
    member = data_member(book_bytes)
    xml = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY leak SYSTEM "file://' + str(canary).encode() + b'">]>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
           b'<c r="A1" t="inlineStr"><is><t>&leak;</t></is></c></row></sheetData></worksheet>')
    book = write(tmp_path, "leak.xlsx", replace_parts(book_bytes, {member: xml}))
    error = assert_refused(["signal", book.name], tmp_path, book, "document type declaration")
    assert "SECRET" not in error


def _deflated(size: int) -> tuple[bytes, int]:
    """``size`` zero bytes deflated (raw deflate), and their CRC."""
    chunk = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = b"".join(compressor.compress(chunk) for _ in range(size >> 20)) + compressor.flush()
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    return body, crc


def _zip_with(data: bytes, name: str, body: bytes, crc: int, size: int, declared: int | None = None) -> bytes:
    """The workbook with one more member written by hand (raw deflate ``body``), its declared uncompressed size
    in both headers set to ``declared`` (a lie when it differs from ``size``)."""
    declared = size if declared is None else declared
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    central = []
    for item in src.infolist():
        payload = src.read(item.filename)
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = compressor.compress(payload) + compressor.flush()
        central.append(_member(out, item.filename.encode(), packed, zlib.crc32(payload), len(payload)))
    central.append(_member(out, name.encode(), body, crc, declared))
    start = out.tell()
    for record in central:
        out.write(record)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def _member(out: io.BytesIO, name: bytes, packed: bytes, crc: int, size: int) -> bytes:
    offset = out.tell()
    out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(packed), size, len(name), 0))
    out.write(name)
    out.write(packed)
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(packed), size, len(name), 0, 0,
                       0, 0, 0, offset) + name


@pytest.mark.parametrize("command", ["render", "refresh", "signal", "backtest-prices"])
def test_zip_bomb_is_refused_by_every_door(book_bytes, tmp_path, command):
    body, crc = _deflated(1 << 30)  # 1 GiB of zeros: about 1 MB deflated
    book = write(tmp_path, "bomb.xlsx", _zip_with(book_bytes, "xl/worksheets/sheet9.xml", body, crc, 1 << 30))
    assert book.stat().st_size < 2 << 20
    args = {"render": ["render", book.name], "refresh": ["refresh", book.name, "--tickers", "AAA"],
            "signal": ["signal", book.name], "backtest-prices": ["tune", "fwpt", "--prices", book.name]}[command]
    assert_refused(args, tmp_path, book, "MAX_UNCOMPRESSED")


def test_zip_directory_that_understates_the_size_is_refused(book_bytes, tmp_path):
    body, crc = _deflated(64 << 20)
    book = write(tmp_path, "liar.xlsx", _zip_with(book_bytes, "xl/worksheets/sheet9.xml", body, crc, 64 << 20,
                                                  declared=100_000))
    assert_refused(["render", book.name], tmp_path, book, "liar.xlsx")


def test_too_many_sheets_and_parts(book_bytes, tmp_path):
    from xlsector.limits import MAX_SHEETS

    workbook = part(book_bytes, "xl/workbook.xml").decode()
    sheets = "".join(f'<sheet name="S{i}" sheetId="{100 + i}" r:id="rId{100 + i}"/>' for i in range(MAX_SHEETS))
    book = write(tmp_path, "sheets.xlsx", replace_parts(book_bytes, {
        "xl/workbook.xml": workbook.replace("</sheets>", sheets + "</sheets>").encode()}))
    assert_refused(["render", book.name], tmp_path, book, "MAX_SHEETS")
    extra = {f"customXml/item{i}.bin": b"x" for i in range(2_001)}
    book = write(tmp_path, "parts.xlsx", replace_parts(book_bytes, {}, extra=extra))
    assert_refused(["signal", book.name], tmp_path, book, "MAX_PARTS")


def _with_data_cell(book_bytes: bytes, ref: str) -> bytes:
    member = data_member(book_bytes)
    xml = part(book_bytes, member).decode()
    row = "".join(ch for ch in ref if ch.isdigit())
    cell = f'<c r="{ref}"><v>1.5</v></c>'
    if f'<row r="{row}"' in xml:
        xml = xml.replace(f'<row r="{row}">', f'<row r="{row}">', 1)
        start = xml.index(f'<row r="{row}"')
        end = xml.index("</row>", start)
        xml = xml[:end] + cell + xml[end:]
    else:
        xml = xml.replace("</sheetData>", f'<row r="{row}">{cell}</row></sheetData>')
    return replace_parts(book_bytes, {member: xml.encode()})


@pytest.mark.parametrize("ref, rule", [("XFE9", "outside a worksheet"), ("XFD1048576", "MAX_CELLS"),
                                       ("ZZ900000", "MAX_CELLS")])
def test_far_away_cell_in_data_is_refused(book_bytes, tmp_path, ref, rule):
    book = write(tmp_path, "far.xlsx", _with_data_cell(book_bytes, ref))
    assert_refused(["signal", book.name], tmp_path, book, rule)
    assert_refused(["refresh", book.name, "--tickers", "AAA"], tmp_path, book, rule)
    assert_refused(["render", book.name], tmp_path, book, rule)


@pytest.mark.parametrize("bad, rule", [("B0", "outside a worksheet"), ("b10", "not a cell reference"),
                                       ("!!", "not a cell reference")])
def test_a_data_cell_with_a_broken_reference_is_refused(book_bytes, tmp_path, bad, rule):
    """A price named B0 landed on the last row of the Data grid (numpy's index -1), silently; a malformed name was
    read as the cell after the previous one."""
    member = data_member(book_bytes)
    xml = part(book_bytes, member).decode()
    assert '<c r="B10"' in xml
    broken = xml.replace('<c r="B10"', f'<c r="{bad}"', 1).encode()
    book = write(tmp_path, "broken.xlsx", replace_parts(book_bytes, {member: broken}))
    for args in (["signal", book.name], ["tune", "trend-chart", "--prices", book.name]):
        assert_refused(args, tmp_path, book, rule)


def test_a_data_cell_written_twice_is_refused(book_bytes, tmp_path):
    """Two <c r="B10"> elements: one of the two prices was kept, silently."""
    member = data_member(book_bytes)
    xml = part(book_bytes, member).decode()
    start = xml.index('<c r="B10"')
    cell = xml[start:xml.index("</c>", start) + len("</c>")]
    twice = xml.replace(cell, cell + cell.replace("<v>", "<v>1", 1), 1).encode()
    book = write(tmp_path, "twice.xlsx", replace_parts(book_bytes, {member: twice}))
    for args in (["signal", book.name], ["tune", "trend-chart", "--prices", book.name]):
        assert_refused(args, tmp_path, book, "cell B10 is written twice")


def test_intraday_rows_are_refused(book_bytes, tmp_path):
    """Two rows on one day (a date serial with a time of day, x.5) were read as two market days, silently."""
    import re

    member = data_member(book_bytes)
    xml = part(book_bytes, member).decode()
    serial = re.search(r'<c r="A2"[^>]*><v>([0-9.]+)</v>', xml)
    assert serial is not None
    noon = xml.replace(re.search(r'<c r="A3"[^>]*><v>[0-9.]+</v>', xml).group(0),
                       f'<c r="A3"><v>{float(serial.group(1)) + 0.5}</v>', 1)
    book = write(tmp_path, "intraday.xlsx", replace_parts(book_bytes, {member: noon.encode()}))
    assert_refused(["tune", "trend-chart", "--prices", book.name], tmp_path, book,
                   "one row per date; 1 date(s) have more than one row")


def test_declared_dimension_of_the_whole_grid_costs_nothing(book_bytes, tmp_path):
    member = data_member(book_bytes)
    xml = part(book_bytes, member).decode()
    import re

    xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml)
    book = write(tmp_path, "dimension.xlsx", replace_parts(book_bytes, {member: xml.encode()}))
    code, _, err, seconds, megabytes = run_cli(["signal", book.name, "--json"], tmp_path)
    assert code == 0, err
    assert seconds < SECONDS and megabytes < MEGABYTES, (seconds, megabytes)
    from xlsector.data.workbook import read_data_sheet

    assert read_data_sheet(book).prices.shape == (300, 3)


def test_data_sheet_cut_off_half_way_is_refused(book_bytes, tmp_path):
    member = data_member(book_bytes)
    xml = part(book_bytes, member)
    book = write(tmp_path, "cut.xlsx", replace_parts(book_bytes, {member: xml[: len(xml) // 2]}))
    assert_refused(["signal", book.name], tmp_path, book, "not well-formed XML")
    assert_refused(["render", book.name], tmp_path, book, "not well-formed XML")


@pytest.mark.parametrize("change, rule", [
    ("no-sheet-part", "should be in part xl/worksheets/"),
    ("no-rels", "no xl/_rels/workbook.xml.rels"),
    ("utf-16", "is not UTF-8 text"),
])
def test_damaged_structure_is_refused_by_every_door(book_bytes, tmp_path, change, rule):
    """A sheet listed without its part, no workbook relationships, an XML part in UTF-16: refused by the checks
    every door shares (the render read them later and ended with a KeyError or UnicodeDecodeError traceback)."""
    member = data_member(book_bytes)
    parts: dict[str, bytes | None] = {
        "no-sheet-part": {member: None},
        "no-rels": {"xl/_rels/workbook.xml.rels": None},
        "utf-16": {member: part(book_bytes, member).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
                   .encode("utf-16")},
    }[change]
    book = write(tmp_path, "damaged.xlsx", replace_parts(book_bytes, parts))
    for args in (["render", book.name, "-q"], ["render", book.name, "-o", "out.xlsx"], ["signal", book.name],
                 ["tune", "fwpt", "--prices", book.name]):
        assert_refused(args, tmp_path, book, rule)
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom"])
def test_devices_are_not_workbooks(tmp_path, path):
    for args in (["render", path, "-o", "out.xlsx"], ["signal", path], ["tune", "trend-chart", "--prices", path],
                 ["render", str(_template(tmp_path)), "-o", "out.xlsx", "--data", path]):
        assert_refused(args, tmp_path, Path(path), "character device")


def test_fifo_is_not_a_workbook(tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    for args in (["render", fifo.name], ["refresh", fifo.name], ["signal", fifo.name],
                 ["backtest", "--profile", "sample_trend", "--prices", fifo.name]):
        assert_refused(args, tmp_path, fifo, "FIFO")


def test_output_to_a_device_or_a_csv_name_is_refused(tmp_path):
    book = _template(tmp_path)
    assert_refused(["render", book.name, "-o", "/dev/null"], tmp_path, Path("/dev/null"), "character device")
    assert_refused(["render", book.name, "-o", "out.csv"], tmp_path, tmp_path / "out.csv", "must end in .xlsx")
    assert Path("/dev/null").is_char_device()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_output_on_a_full_disk_is_one_error_line(tmp_path):
    """stdout on a full disk (/dev/full) ended in an OSError traceback."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "xlsector", "backtest", "--list"], cwd=tmp_path, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == ["Error: No space left on device (writing the output)"]


@pytest.mark.parametrize("flag", ["--funds", "--bear"])
def test_a_ticker_list_naming_no_ticker_is_refused(tmp_path, flag):
    """``--funds ""`` fell back to the default universe, silently."""
    for prog, command in (("signal", ["signal"]), ("tune trend-chart", ["tune", "trend-chart"]),
                          ("sweep", ["sweep", "--choose", "2"])):
        code, _, err, _, _ = run_cli([*command, flag, " , "], tmp_path)
        assert code == 1, err
        assert [line for line in err.splitlines() if line.startswith("Error: ")] == [
            f"Error: argument {flag}: names no ticker, got ' , ' (see: xlsector {prog} --help)"]


def test_refresh_tickers_follow_the_one_ticker_rule(book_bytes, tmp_path):
    """``refresh --tickers`` split on commas only and an empty list meant every ticker; it reads a list as the
    other ticker flags and the Settings cells do (split_tickers)."""
    book = write(tmp_path, "book.xlsx", book_bytes)
    code, _, err, _, _ = run_cli(["refresh", book.name, "--tickers", " , "], tmp_path)
    assert code == 1 and book.read_bytes() == book_bytes, err
    assert [line for line in err.splitlines() if line.startswith("Error: ")] == [
        "Error: argument --tickers: names no ticker, got ' , ' (see: xlsector refresh --help)"]
    from xlsector.commands.args import tickers_arg

    assert tickers_arg("XLK; XLE,XLK") == ["XLK", "XLE"]


def test_values_in_place_is_refused(book_bytes, tmp_path):
    """--values replaces every formula by its value: only into a copy (-o), never over the workbook itself (it did
    replace the rendered workbook's formulas, the user's own too)."""
    book = write(tmp_path, "book.xlsx", book_bytes)
    for args in (["render", book.name, "--values", "-q"], ["render", book.name, "-o", f"./{book.name}", "--values"]):
        assert_refused(args, tmp_path, book, "--values", "-o OUT.xlsx", "replace every formula")
    code, _, err, *_ = run_cli(["render", book.name, "-o", "copy.xlsx", "--values", "-q"], tmp_path, timeout=120)
    assert code == 0, err
    assert b"<f>" not in part((tmp_path / "copy.xlsx").read_bytes(), "xl/worksheets/sheet2.xml")


def _data_xml(values: list[tuple[str, str]]) -> bytes:
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>AAA</t></is></c></row>']
    for i, (date, cell) in enumerate(values, start=2):
        rows.append(f'<row r="{i}"><c r="A{i}"><v>{date}</v></c>{cell.format(r=i)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><sheetData>{"".join(rows)}</sheetData></worksheet>').encode()


@pytest.mark.parametrize("cell, expected", [
    ('<c r="B{r}"><v >4.148</v></c>', 4.148),
    ('<c r="B{r}"><v><![CDATA[12.5]]></v></c>', 12.5),
    ('<c r="B{r}" t="n"><v>&#52;.25</v></c>', 4.25),
    ("<c r='B{r}'><v>7.5</v></c>", 7.5),
    ('<c t="n" r="B{r}"><v>\n 3.5 </v></c>', 3.5),
])
def test_legal_xml_forms_are_read_as_a_parser_reads_them(book_bytes, tmp_path, cell, expected):
    from xlsector.data.workbook import load_fast

    member = data_member(book_bytes)
    rows = [(str(43832 + i), f'<c r="B{{r}}"><v>{10 + i}</v></c>') for i in range(4)]
    rows[2] = (rows[2][0], cell)
    book = write(tmp_path, "legal.xlsx", replace_parts(book_bytes, {member: _data_xml(rows)}))
    _, grid, _ = load_fast(book)
    assert grid[3][1] == pytest.approx(expected)
    from xlsector.workbook.data_xml import strip_rows

    _, render_rows = strip_rows(book.read_bytes(), "Data")
    assert render_rows[2][1] == pytest.approx(expected)


def test_namespace_prefixed_spreadsheetml_is_read(book_bytes, tmp_path):
    from xlsector.data.workbook import read_data_sheet

    member = data_member(book_bytes)
    xml = part(book_bytes, member).decode()
    prefixed = (xml.replace("<worksheet xmlns=", "<x:worksheet xmlns:x=").replace("</worksheet>", "</x:worksheet>"))
    import re

    prefixed = re.sub(r"<(/?)(sheetData|row|c|v|is|t|sheetPr|dimension|sheetViews|sheetView|selection|pane|"
                      r"sheetFormatPr|pageMargins|outlinePr|pageSetUpPr|cols|col)\b", r"<\1x:\2", prefixed)
    book = write(tmp_path, "prefixed.xlsx", replace_parts(book_bytes, {member: prefixed.encode()}))
    expected = read_data_sheet(write(tmp_path, "plain.xlsx", book_bytes)).prices
    got = read_data_sheet(book).prices
    pd.testing.assert_frame_equal(got, expected)


def test_in_place_render_keeps_a_price_written_unusually(tmp_path):
    """`<v >` in the Data sheet: the render reads the price and writes it back (it was deleted before)."""
    from xlsector.workbook.template import write_template

    sample = pd.read_csv(REPO / "xlsector" / "data" / "sample" / "prices.csv.gz", index_col=0, parse_dates=True)
    path = write_template(tmp_path / "book.xlsx")
    code, _, err, *_ = run_cli(["render", path.name, "-q", "--data", "sample"], tmp_path, timeout=120)
    assert code == 0, err
    raw = path.read_bytes()
    member = data_member(raw)
    xml = part(raw, member).decode()
    value = repr(float(sample["XOM"].iloc[100]))
    target = f'<c r="B102"><v>{value}</v></c>'
    assert target in xml
    write(tmp_path, "book.xlsx", replace_parts(raw, {member: xml.replace(target, f'<c r="B102"><v >{value}</v></c>')
                                                     .encode()}))
    code, _, err, *_ = run_cli(["render", path.name, "-q"], tmp_path, timeout=120)
    assert code == 0, err
    xml = part(path.read_bytes(), member).decode()
    assert f'<c r="B102"><v>{value}</v></c>' in xml
    # and renders do not pile up <selection> elements in the sheet views (one per pane)
    import re

    raw = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                panes = [re.search(r'pane="(\w+)"', attrs).group(1) if 'pane="' in attrs else ""
                         for attrs in re.findall(r"<selection\b([^>]*)>", archive.read(name).decode())]
                assert len(panes) == len(set(panes)), (name, panes)


def test_in_place_render_keeps_the_macros_of_an_xlsm(tmp_path):
    from xlsector.workbook.template import build_template

    book = build_template()
    buffer = io.BytesIO()
    book.save(buffer)
    vba = b"\xd0\xcf\x11\xe0 fake VBA project"
    types = part(buffer.getvalue(), "[Content_Types].xml").decode().replace(
        "</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    types = types.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                          "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    rels = part(buffer.getvalue(), "xl/_rels/workbook.xml.rels").decode().replace(
        "</Relationships>", '<Relationship Id="rId999" Type="http://schemas.microsoft.com/office/2006/relationships/'
        'vbaProject" Target="vbaProject.bin"/></Relationships>')
    macro = write(tmp_path, "macro.xlsm", replace_parts(buffer.getvalue(), {
        "[Content_Types].xml": types.encode(), "xl/_rels/workbook.xml.rels": rels.encode()},
        extra={"xl/vbaProject.bin": vba}))
    code, _, err, *_ = run_cli(["render", macro.name, "-q"], tmp_path, timeout=120)
    assert code == 0, err
    assert part(macro.read_bytes(), "xl/vbaProject.bin") == vba
    assert b"macroEnabled" in part(macro.read_bytes(), "[Content_Types].xml")
    assert_refused(["render", macro.name, "-o", "copy.xlsx"], tmp_path, macro, "macros", ".xlsm")


# ------------------------------------------------------------------------------------------------ CSV

def _etf_csv(shared_data: Path, tmp_path: Path, name: str, change=None, date_format: str = "%Y-%m-%d") -> Path:
    frame = pd.read_csv(shared_data / "etf_adjclose_daily.csv", index_col="Date", parse_dates=True)
    frame = frame[["XLK", "XLF", "XLE", "XLV", "XLU", "SPY"]].dropna().loc["2005":"2015"]
    if change is not None:
        frame = change(frame)
    text = frame.copy()
    text.index = text.index.strftime(date_format)
    path = tmp_path / name
    text.to_csv(path, index_label="Date")
    return path


def test_day_first_dates_give_the_iso_numbers(shared_data, tmp_path):
    iso = _etf_csv(shared_data, tmp_path, "iso.csv")
    dmy = _etf_csv(shared_data, tmp_path, "dmy.csv", date_format="%d/%m/%Y")
    results = []
    for path in (iso, dmy):
        code, out, err, *_ = run_cli(["tune", "trend-chart", "--prices", path.name, "--benchmark", "SPY",
                                      "--json"], tmp_path)
        assert code == 0, err
        assert "sorted" not in err
        results.append(out)
    import json

    a, b = (json.loads(r) for r in results)
    assert a["peak_tc"] == b["peak_tc"] and a["table"] == b["table"]


def test_ambiguous_dates_are_refused(tmp_path):
    path = tmp_path / "ambiguous.csv"
    path.write_text("Date,A,B\n01/02/2020,1,2\n03/04/2020,1.1,2.1\n05/06/2020,1.2,2.2\n")
    assert_refused(["tune", "trend-chart", "--prices", path.name], tmp_path, path, "'%d/%m/%Y' or '%m/%d/%Y'")


def test_header_only_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("Date,XLK,XLF\n")
    for args in (["tune", "trend-chart", "--prices", path.name], ["backtest", "--profile", "sample_trend",
                                                                   "--prices", path.name]):
        assert_refused(args, tmp_path, path, "no prices")


def test_prices_on_one_date_are_refused_naming_the_file(tmp_path):
    """One row of prices ended in "prices has too few rows", which named no file."""
    path = tmp_path / "onerow.csv"
    path.write_text("Date,XLK,XLF\n2020-01-02,1,2\n")
    for args in (["tune", "trend-chart", "--prices", path.name], ["signal", "--prices", path.name]):
        assert_refused(args, tmp_path, path, "one date only (2020-01-02)")


def test_a_ticker_named_twice_in_the_header_is_refused(tmp_path):
    """pandas renames a second XLK to XLK.1: the file's two columns were read as two funds, silently."""
    path = tmp_path / "twice.csv"
    path.write_text("Date,XLK,XLF,XLK\n" + "".join(f"2020-01-{d:02d},{d},2,3\n" for d in range(2, 30)))
    for args in (["tune", "trend-chart", "--prices", path.name], ["signal", "--prices", path.name]):
        assert_refused(args, tmp_path, path, "names column 'XLK' more than once")


def test_wide_csv_is_read_quickly_and_long_text_is_cut_in_the_message(tmp_path):
    """20,000 columns (a 200 kB file) took 10 s, one pandas call per column; a 5 MB field was quoted whole in the
    Error line."""
    wide = tmp_path / "wide.csv"
    wide.write_text("Date," + ",".join(f"C{i}" for i in range(20_000)) + "\n2020-01-02," + ",".join("1" * 20_000)
                    + "\n")
    assert_refused(["tune", "trend-chart", "--prices", wide.name], tmp_path, wide, "20,000 price columns", "MAX_SERIES")
    long = tmp_path / "long.csv"
    long.write_text("Date,A\n2020-01-02," + "1x" * 2_500_000 + "\n")
    error = assert_refused(["tune", "trend-chart", "--prices", long.name], tmp_path, long, "5,000,000 characters",
                           "prices must be numbers")
    assert len(error) < 300


def test_gzip_bomb_csv(tmp_path):
    import gzip

    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"Date,A\n")
        block = b"2020-01-02," + b"1" * 1000 + b"\n"
        for _ in range(140_000):
            handle.write(block)
    assert path.stat().st_size < 1 << 20
    assert_refused(["tune", "trend-chart", "--prices", path.name], tmp_path, path, "MAX_RATIO")


def test_not_utf8_csv(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("Date,Café\n2020-01-02,1\n".encode("latin-1"))
    assert_refused(["tune", "trend-chart", "--prices", path.name], tmp_path, path, "not UTF-8")


def test_split_applied_twice_and_bad_tick_are_reported(shared_data, tmp_path):
    def halve(frame):
        frame = frame.copy()
        frame.loc["2010-06-01":, "XLE"] /= 2
        return frame

    def tick(frame):
        frame = frame.copy()
        frame.loc["2012-03-01", "XLF"] *= 1000
        return frame

    for name, change, expected in (("split.csv", halve, [("XLE moved -5", "on 2010-06-01")]),
                                   ("tick.csv", tick, [("XLF moved +100", "on 2012-03-01"),
                                                       ("XLF moved -99.9%", "on 2012-03-02")])):
        path = _etf_csv(shared_data, tmp_path, name, change)
        for args in (["tune", "trend-chart", "--prices", path.name],
                     ["render", str(_template(tmp_path)), "-o", "out.xlsx", "--data", path.name, "-q"]):
            _, _, err, *_ = run_cli(args, tmp_path, timeout=120)
            warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
            for move, day in expected:
                assert any(move in line and day in line and path.name in line for line in warnings), err
            assert "Warning:" not in err and "warnings.warn" not in err  # one clean line each


def test_dates_shifted_by_centuries_are_refused(shared_data, tmp_path):
    def shift(frame):
        frame = frame.copy()
        half = len(frame) // 2
        frame.index = frame.index[:half].append(frame.index[half:] + pd.DateOffset(years=300))
        return frame

    path = _etf_csv(shared_data, tmp_path, "typo.csv", shift)
    assert_refused(["tune", "trend-chart", "--prices", path.name], tmp_path, path, "in the future")

    def back(frame):
        frame = frame.copy()
        frame.index = (frame.index[:10] - pd.DateOffset(years=100)).append(frame.index[10:])
        return frame

    path = _etf_csv(shared_data, tmp_path, "typo2.csv", back)
    assert_refused(["tune", "trend-chart", "--prices", path.name], tmp_path, path, "no gap of a year")


# ---------------------------------------------------------------------------------------------- TOML

@pytest.mark.parametrize("body, rule", [
    (b"description = \"caf\xe9\"\n", "not UTF-8"),
    (b'extends = "sample_momentum_126"\n[params]\nlookback = inf\n', "lookback"),
    (b'extends = "sample_momentum_126"\n[params]\nlookback = nan\n', "lookback"),
    (b'extends = "sample_momentum_126"\n[params]\nlookback = "126"\n', "lookback"),
    (b'extends = "sample_momentum_126"\n[params]\nma_filter = -inf\n', "ma_filter"),
    # were "no decision day ... (lookback 9223372036854775808)", one more than given, and "returns must not
    # contain NaN": now bounded where they are read
    (b'extends = "sample_momentum_126"\n[params]\nlookback = 9223372036854775807\n', "lookback must be a whole "
     "number from 1 to 100000, got 9223372036854775807"),
    (b'extends = "sample_momentum_126"\n[params]\nleverage = 1e300\n', "leverage must be a number from 0 to 100"),
    (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "malformed TOML"),
])
def test_hostile_profiles(tmp_path, body, rule):
    path = tmp_path / "bad.toml"
    path.write_bytes(body)
    assert_refused(["backtest", "--profile", str(path)], tmp_path, path, rule)


@pytest.mark.parametrize("parent", ["/etc/passwd", "../../../../etc/hostname", "~/x", "sample_trend.toml"])
def test_extends_names_a_profile_never_a_path(tmp_path, parent):
    """``extends = "/etc/passwd"`` read that file as a profile."""
    profile = tmp_path / "bad.toml"
    profile.write_text(f'extends = "{parent}"\n')
    assert_refused(["backtest", "--profile", str(profile)], tmp_path, profile, "extends must be a profile name")


def test_long_extends_chain_is_refused_quickly(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    for i in range(3000):
        parent = f'extends = "p{i + 1}"\n' if i < 2999 else 'extends = "sample_momentum_126"\n'
        (folder / f"p{i}.toml").write_text(parent)
    assert_refused(["backtest", "--profile", "p0", "--profiles-dir", str(folder)], tmp_path, folder / "p0.toml",
                   "MAX_EXTENDS_DEPTH")


@pytest.mark.parametrize("grid", ["range = [1, 10000000, 1]", "range = [1.0, 2.0, 1e-9]", "range = [1, 1e12, 1]"])
def test_huge_experiment_grids_are_refused(tmp_path, grid):
    path = tmp_path / "grid.toml"
    path.write_text(f'base = "sample_momentum_126"\n[[phase]]\nparameter = "lookback"\n{grid}\n')
    assert_refused(["experiment", str(path)], tmp_path, path, "MAX_GRID_POINTS")


# ----------------------------------------------------------------------------------------------- CLI

@pytest.mark.parametrize("args, text", [
    (["backtest", "--profile", "sample_trend", "--start", "2020-13-45"], "argument --start: must be a date"),
    (["backtest", "--bogus"], "unrecognized arguments: --bogus"),
    (["tune", "trend-chart", "--prices"], "expected one argument"),
    (["tune", "nope"], "invalid choice"),
    (["runs", "delete"], "invalid choice"),
    (["backtest", "--profile", "sample_trend", "--start", "2030-01-01"], "after the last date"),
    (["tune", "fwpt", "--start", "2010-01-01", "--end", "2005-01-01"], "must be before --end"),
    (["backtest", "--profile", "sample_tren"], "did you mean 'sample_trend'"),
    (["experiment", "sample_four_phas"], "did you mean 'sample_four_phase'"),
    (["backtest", "--profile", "sample_trend", "--prices", "/tmp"], "is a folder"),
])
def test_bad_arguments_give_one_error_line(tmp_path, args, text):
    code, out, err, *_ = run_cli(args, tmp_path)
    assert code == 1, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: ") and text in lines[-1], err
    assert "Traceback" not in err and "usage:" not in err


def test_closed_stdout_ends_quietly(tmp_path):
    env = {**os.environ, "XLSECTOR_HOME": str(tmp_path / "home")}
    proc = subprocess.run(f"'{sys.executable}' -m xlsector backtest --list | head -1", shell=True, cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.stdout.startswith("profile")
    assert proc.stderr == ""


@pytest.mark.parametrize("command", [["render", "{book}", "-o", "out.xlsx", "--json", "--data", "{csv}"],
                                     ["template", "fresh.xlsx", "--json"],
                                     ["addin", "build", "-o", "dist", "--no-libreoffice", "--json"]])
def test_json_on_commands_that_write_files(tmp_path, command):
    import json

    prices = random_walk(["AAA", "BBB", "^GSPC"], pd.bdate_range("2019-01-01", periods=300), seed=2)
    prices.to_csv(tmp_path / "p.csv", index_label="Date")
    book = _template(tmp_path)
    args = [a.format(book=book.name, csv="p.csv") for a in command]
    (tmp_path / "dist").mkdir()
    if args[0] == "render":
        from openpyxl import load_workbook

        wb = load_workbook(book)
        wb["Settings"]["B4"].value = "AAA,BBB"
        wb.save(book)
    code, out, err, *_ = run_cli(args, tmp_path, timeout=180)
    assert code == 0, err
    payload = json.loads(out)
    assert payload["command"] == " ".join(args[:2]) if args[0] == "addin" else payload["command"] == args[0]


def test_numbers_in_messages_are_plain(tmp_path):
    path = tmp_path / "zero.csv"
    path.write_text("Date,A,B\n2020-01-02,1,2\n2020-01-03,0,2\n")
    error = assert_refused(["tune", "trend-chart", "--prices", path.name], tmp_path, path, "> 0")
    assert "np." not in error and "got 0.0" in error



def test_the_limits_are_documented_as_they_are():
    from xlsector.limits import LIMITS

    text = (REPO / "docs" / "data.md").read_text(encoding="utf-8")
    for name, (value, unit, what) in LIMITS.items():
        shown = f"{value / (1 << 20):g} MiB" if unit == "bytes" else (f"{value:,}x" if unit == "x" else
                                                                       f"{value:,} {unit}")
        assert f"| `{name}` | {shown} | {what} |" in text, name


def test_end_beside_start(tmp_path):
    import json

    code, out, err, *_ = run_cli(["backtest", "--profile", "sample_trend", "--start", "2000-01-03", "--end",
                                  "2004-12-31", "--json"], tmp_path, timeout=120)
    assert code == 0, err
    assert json.loads(out)["period"] == ["1999-12-31", "2004-12-31"]
    code, out, err, *_ = run_cli(["tune", "trend-chart", "--end", "2004-12-31", "--tc-max", "20", "--json"],
                                 tmp_path, timeout=120)
    assert code == 0, err
    assert json.loads(out)["period"][1] == "2004-12-31"
