"""LibreOffice computing xlsector's functions itself, through the extension (docs/libreoffice.md).

One headless LibreOffice for the module, on a throwaway profile into which ``xlsector addin
install-libreoffice --profile DIR`` installed the extension, recalculating every formula on load
("always"), driven through UNO (tests/lo_uno_driver.py under a Python that has LibreOffice's uno module).

* a tiny workbook written here: single-cell, legacy (CSE) array and Excel dynamic-array formulas equal the
  udfs functions called directly; a bad argument shows its message in the cell;
* the rendered template: LibreOffice's own value of every cell of every formula that calls an xlsector
  function (found by scanning the workbook, so new formulas are picked up) equals the render's cached value;
* changing TrendConstant, then Hysteresis, through UNO recomputes the Summary (pick, today's action,
  metrics), the TrendChart and the FWPT tables as the core does.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.formula import ArrayFormula

from tests import libreoffice as lo
from udfs import xlsector_udfs as u
from xlsector import __version__
from xlsector.addin.libreoffice.calls import ERROR_PREFIX
from xlsector.addin.libreoffice.spec import EXTENSION_ID, function_specs
from xlsector.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]
SPECS = function_specs()
FUNCTION_CALL = re.compile(r"\b(" + "|".join(re.escape(s.name) for s in SPECS) + r")\s*\(", re.IGNORECASE)


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def tools() -> tuple[str, str]:
    return lo.require_uno()


@pytest.fixture(scope="module")
def profile(tools, tmp_path_factory) -> Path:
    """A fresh profile with the extension installed twice (the second install replaces the first)."""
    folder = tmp_path_factory.mktemp("lo-profile")
    for _ in range(2):
        assert cli_main(["addin", "install-libreoffice", "--profile", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def calc(tools, profile):
    soffice, python = tools
    session = lo.UnoSession(profile, soffice=soffice, python=python)
    try:
        session.request("recalc_mode", mode="always")
        yield session
    finally:
        session.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """``xlsector render workbooks/fwpt.xlsx -o OUT.xlsx`` on the bundled sample."""
    out = tmp_path_factory.mktemp("render") / "fwpt.xlsx"
    assert cli_main(["render", str(REPO / "workbooks" / "fwpt.xlsx"), "-o", str(out)]) == 0
    return out


# ------------------------------------------------------------------------------------------ helpers


def _same(expected: Any, actual: Any) -> bool:
    """A cached/expected cell value against LibreOffice's (getDataArray: floats, text, "" when empty)."""
    if isinstance(expected, (dt.datetime, dt.date)):
        expected = to_excel(expected)
    if expected is None or expected == "":
        return actual == ""
    if isinstance(expected, bool):
        return actual == float(expected)
    if isinstance(expected, (int, float)):
        return isinstance(actual, float) and math.isclose(
            actual, float(expected), rel_tol=1e-9, abs_tol=1e-15
        )
    return actual == expected


def _mismatches(
    expected: dict[tuple[int, int], Any], actual: list[list[Any]], top: int, left: int, where: str
) -> list[str]:
    bad = []
    for (row, col), want in sorted(expected.items()):
        got = actual[row - top][col - left]
        if not _same(want, got):
            bad.append(f"{where}!{get_column_letter(col)}{row}: expected {want!r}, LibreOffice {got!r}")
    return bad


def _dynamic_arrays(path: Path) -> None:
    """Make every array formula of ``path`` an Excel dynamic-array formula (cm="1" + the XLDAPR metadata
    Excel writes), in place: what Excel 365 saves for a spilling formula."""
    # fmt: off
    metadata = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
        '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" '
        'pasteAll="1" pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" '
        'clearComments="1" assign="1" coerce="1" cellMeta="1"/></metadataTypes>'
        '<futureMetadata name="XLDAPR" count="1"><bk><extLst>'
        '<ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
        '<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk></futureMetadata>'
        '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>'
    )
    # fmt: on
    parts = {}
    with zipfile.ZipFile(path) as source:
        for info in source.infolist():
            parts[info.filename] = source.read(info.filename)
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        text = parts[name].decode()
        text = re.sub(r'<c r="([A-Z]+\d+)"([^>]*)><f t="array"', r'<c r="\1"\2 cm="1"><f t="array"', text)
        parts[name] = text.encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/metadata.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sheetMetadata+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdXlsectorMeta" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sheetMetadata" Target="metadata.xml"/></Relationships>',
    )
    parts["xl/metadata.xml"] = metadata.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


# ------------------------------------------------------------------------------------------ the extension


def test_install_registers_the_extension_in_the_profile(calc):
    assert calc.request("extensions") == {EXTENSION_ID: __version__}


def test_install_refuses_the_profile_of_a_running_libreoffice(calc, profile, capsys):
    assert cli_main(["addin", "install-libreoffice", "--profile", str(profile)]) == 1
    assert capsys.readouterr().err == (
        f"Error: LibreOffice is running on the profile {profile.resolve()}: close it, then try again\n"
    )
    assert calc.request("extensions") == {EXTENSION_ID: __version__}  # untouched


def test_calc_describes_every_function_with_the_udfs_help(calc):
    """The Function Wizard's names, one-line help and argument help are the module's."""
    for spec in SPECS:
        described = calc.request("function", name=spec.name)
        assert described is not None, f"LibreOffice does not know {spec.name}"
        assert described["description"] == spec.description
        assert [a[:2] for a in described["arguments"]] == [[p.name, p.help] for p in spec.params]
        assert all(a[2] for a in described["arguments"])  # optional: omitted arguments arrive empty


# ------------------------------------------------------------------------------------------ a tiny workbook

ROWS = 300


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Any]:
    """A workbook written with openpyxl: prices (with a fund starting late) and xlsector formulas as
    single cells, a legacy (CSE) array, and, in a copy, the same as Excel dynamic arrays."""
    rng = np.random.default_rng(11)
    days = pd.bdate_range("2019-01-02", periods=ROWS)
    prices = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, (ROWS, 3)), axis=0))
    cells: list[list[Any]] = [["Date", "AAA", "BBB", "CCC"]]
    for i, day in enumerate(days):
        cells.append(
            [day.to_pydatetime()]
            + [float(p) for p in prices[i, :2]]
            + [None if i < 40 else float(prices[i, 2])]
        )
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Prices"
    for row in cells:
        data.append(row)
    for r in range(2, ROWS + 2):
        data.cell(r, 1).number_format = "yyyy-mm-dd"
    ws = wb.create_sheet("Calc")
    whole = f"Prices!$A$1:$D${ROWS + 1}"
    funds = f"Prices!$B$1:$D${ROWS + 1}"
    trend = u.EMA2_TREND([row[1:] for row in cells], 20)
    picks = u.SECTOR_PICKS(cells, 20)
    expected: dict[str, Any] = {
        "I1": u.SECTOR_PICK(cells, 20),
        "I2": u.BACKTEST_CAGR(cells, 20),
        "I3": u.SECTOR_PICK(cells, 20, decay=None),  # decay given as an empty cell (K1)
        "I6": trend[ROWS][1],
        "I7": u.STORMGUARD_STATE([[row[0], row[1]] for row in cells]),
    }
    ws["A1"] = ArrayFormula(f"A1:C{len(trend)}", f"=EMA2_TREND({funds},20)")
    ws["M1"] = ArrayFormula(f"M1:N{len(picks)}", f"=SECTOR_PICKS({whole},20)")
    ws["I1"] = f"=SECTOR_PICK({whole},20)"
    ws["I2"] = f"=BACKTEST_CAGR({whole},20)"
    ws["I3"] = f"=SECTOR_PICK({whole},20,,,,,,,,,,Calc!$K$1)"
    ws["I4"] = f'=SECTOR_PICK({whole},"abc")'
    ws["I5"] = f"=EMA2_TREND({funds},-5)"
    ws["I6"] = f"=INDEX(EMA2_TREND({funds},20),{ROWS + 1},2)"
    ws["I7"] = f"=STORMGUARD_STATE(Prices!$A$1:$B${ROWS + 1})"
    errors = wb.create_sheet("Errors")  # an error value inside a range (a limit, see docs/libreoffice.md)
    errors["A1"], errors["A2"], errors["A3"] = 100.0, "=1/0", 101.0
    errors["B1"] = "=EMA2_TREND(A1:A3,5)"
    folder = tmp_path_factory.mktemp("tiny")
    legacy = folder / "legacy.xlsx"
    wb.save(legacy)
    dynamic = folder / "dynamic.xlsx"
    wb.save(dynamic)
    _dynamic_arrays(dynamic)
    return {"legacy": legacy, "dynamic": dynamic, "trend": trend, "picks": picks, "cells": expected}


@pytest.mark.parametrize("kind", ["legacy", "dynamic"])
def test_tiny_workbook_computes_like_the_udfs_functions(calc, tiny, kind):
    if kind == "dynamic":
        with zipfile.ZipFile(tiny["dynamic"]) as z:  # really a dynamic-array file
            assert b'cm="1"' in z.read("xl/worksheets/sheet2.xml") and "xl/metadata.xml" in z.namelist()
    doc = calc.request("open", path=str(tiny[kind]))
    try:
        # the only error cells: the limit pinned in test_an_error_value_in_a_range_is_an_error_of_the_formula
        assert calc.request("error_cells", doc=doc) == {"Errors": "Errors.A2,Errors.B1"}
        trend, picks = tiny["trend"], tiny["picks"]
        got = calc.request("values", doc=doc, sheet="Calc", ref=f"A1:C{len(trend)}")
        expected = {(r + 1, c + 1): v for r, row in enumerate(trend) for c, v in enumerate(row)}
        assert _mismatches(expected, got, 1, 1, "Calc") == []
        assert got[0] == ["AAA", "BBB", "CCC"] and got[1][2] == ""  # header row; CCC blank before it starts
        got = calc.request("values", doc=doc, sheet="Calc", ref=f"M1:N{len(picks)}")
        expected = {(r + 1, c + 13): v for r, row in enumerate(picks) for c, v in enumerate(row)}
        assert _mismatches(expected, got, 1, 13, "Calc") == []
        got = calc.request("values", doc=doc, sheet="Calc", ref="I1:I7")
        for ref, want in tiny["cells"].items():
            row = int(ref[1:])
            assert _same(want, got[row - 1][0]), f"{ref}: expected {want!r}, LibreOffice {got[row - 1][0]!r}"
    finally:
        calc.request("close", doc=doc)


def test_a_bad_argument_shows_its_message_in_the_cell(calc, tiny):
    doc = calc.request("open", path=str(tiny["legacy"]))
    try:
        got = calc.request("values", doc=doc, sheet="Calc", ref="I4:I5")
        assert got[0][0] == ERROR_PREFIX + "tc must be a number, got the text 'abc'"
        assert got[1][0].startswith(ERROR_PREFIX + "tc must be")
        assert "Calc" not in calc.request("error_cells", doc=doc)  # a message, not an error value
    finally:
        calc.request("close", doc=doc)
    assert calc.request("extensions")  # LibreOffice is still there


def test_a_formula_entered_in_libreoffice_uses_the_excel_name(calc, tiny):
    doc = calc.request("open", path=str(tiny["legacy"]))
    try:
        calc.request(
            "set_formula",
            doc=doc,
            sheet="Calc",
            ref="K5",
            formula=f"=SECTOR_PICK($Prices.$A$1:$D${ROWS + 1};20)",
        )
        got = calc.request("values", doc=doc, sheet="Calc", ref="K5")[0][0]
    finally:
        calc.request("close", doc=doc)
    assert got == tiny["cells"]["I1"]


def test_an_error_value_in_a_range_is_an_error_of_the_formula(calc, tiny):
    """LibreOffice does not pass error values to an add-in: the formula over them is an error itself."""
    doc = calc.request("open", path=str(tiny["legacy"]))
    try:
        assert calc.request("error_cells", doc=doc)["Errors"] == "Errors.A2,Errors.B1"
    finally:
        calc.request("close", doc=doc)


def test_saving_as_xlsx_keeps_the_excel_names(calc, tiny, tmp_path):
    """Saved from LibreOffice, the formulas call SECTOR_PICK etc. again, as Excel with the add-in expects."""
    doc = calc.request("open", path=str(tiny["legacy"]))
    try:
        calc.request("save_xlsx", doc=doc, path=str(tmp_path / "saved.xlsx"))
    finally:
        calc.request("close", doc=doc)
    saved = openpyxl.load_workbook(tmp_path / "saved.xlsx")["Calc"]
    assert saved["I1"].value == f"=SECTOR_PICK(Prices!$A$1:$D${ROWS + 1},20)"
    assert saved["I6"].value == f"=INDEX(EMA2_TREND(Prices!$B$1:$D${ROWS + 1},20),{ROWS + 1},2)"
    array = saved["A1"].value
    assert isinstance(array, ArrayFormula) and array.text == f"=EMA2_TREND(Prices!$B$1:$D${ROWS + 1},20)"


# ------------------------------------------------------------------------------------------ rendered template


def _xlsector_formula_cells(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Every cell of every formula that calls an xlsector function, per sheet: {(row, col): formula}
    (all cells of an array formula's range)."""
    wb = openpyxl.load_workbook(path)
    found: dict[str, dict[tuple[int, int], str]] = defaultdict(dict)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, ArrayFormula):
                    if FUNCTION_CALL.search(value.text or ""):
                        min_col, min_row, max_col, max_row = range_boundaries(value.ref)
                        for r in range(min_row, max_row + 1):
                            for c in range(min_col, max_col + 1):
                                found[ws.title][(r, c)] = value.text
                elif isinstance(value, str) and value.startswith("=") and FUNCTION_CALL.search(value):
                    found[ws.title][(cell.row, cell.column)] = value
    return dict(found)


def test_rendered_workbook_computes_its_cached_values_in_libreoffice(calc, rendered):
    formulas = _xlsector_formula_cells(rendered)
    called = {
        m.upper() for cells in formulas.values() for f in cells.values() for m in FUNCTION_CALL.findall(f)
    }
    assert {"SECTOR_PICK", "SECTOR_SIGNAL", "BACKTEST_METRICS", "BACKTEST_EQUITY", "EMA2_TREND", "SECTOR_PICKS",
            "STORMGUARD_HISTORY", "TREND_CHART", "SPLIT_SAMPLE", "PROGRESSIVE_TUNE", "FWPT_TABLE"} <= called
    # every computed table is a formula: the Trends, StormGuard and FWPT series alone have thousands of cells
    assert sum(len(cells) for cells in formulas.values()) >= 100_000
    cached = openpyxl.load_workbook(rendered, data_only=True)
    doc = calc.request("open", path=str(rendered))
    try:
        assert calc.request("error_cells", doc=doc) == {}
        problems = []
        for sheet, cells in formulas.items():
            rows = [r for r, _ in cells]
            cols = [c for _, c in cells]
            top, left, bottom, right = min(rows), min(cols), max(rows), max(cols)
            ref = f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"
            got = calc.request("values", doc=doc, sheet=sheet, ref=ref)
            expected = {(r, c): cached[sheet].cell(r, c).value for r, c in cells}
            problems += _mismatches(expected, got, top, left, sheet)
            problems += [
                f"{sheet}!{get_column_letter(c)}{r}: {got[r - top][c - left]}"
                for r, c in cells
                if str(got[r - top][c - left]).startswith(ERROR_PREFIX)
            ]
        assert problems == [], f"{len(problems)} cells differ, e.g. " + "; ".join(problems[:10])
    finally:
        calc.request("close", doc=doc)


def _named(wb: openpyxl.Workbook, name: str) -> Any:
    """The cells (a tuple of rows) of a workbook-level name."""
    ((sheet, ref),) = wb.defined_names[name].destinations
    return wb[sheet][ref.replace("$", "")]


def _named_cell(wb: openpyxl.Workbook, name: str) -> Any:
    return _named(wb, name).value


def _rows(wb: openpyxl.Workbook, name: str) -> list[list[Any]]:
    return [[c.value for c in row] for row in _named(wb, name)]


def _table(values: list[list[Any]], label: str) -> dict[Any, list[Any]]:
    """A labelled block of a sheet's values (rows from LibreOffice) as {first column: the rest}."""
    for i, row in enumerate(values):
        if row and row[0] == label:
            out = {}
            for line in values[i + 1:]:
                if line[0] in (None, ""):
                    break
                out[line[0]] = line[1:]
            return out
    raise AssertionError(f"no block {label!r}")


def test_changing_settings_recomputes_the_tables_as_the_core(calc, rendered):
    """Driving LibreOffice through UNO: TrendConstant, then Hysteresis, changed and recalculated; the
    Summary, TrendChart and FWPT tables equal the core's output for the new values."""
    from xlsector.action import signal_from_result
    from xlsector.backtesting import run_backtest
    from xlsector.contract import SETTING_NAMES, read_settings
    from xlsector.data.cells import cells_to_prices
    from xlsector.tuning import fwpt, trend_chart

    data = openpyxl.load_workbook(rendered, data_only=True)
    table = cells_to_prices([[c.value for c in row] for row in data["Data"].iter_rows()])
    settings = read_settings({name: _named_cell(data, name) for name in SETTING_NAMES if name in data.defined_names})
    funds = table[settings.data.fund_list]
    new_tc, new_h = 23, 0.03
    strategy = settings.strategy.replace(tc=new_tc)
    result = run_backtest(funds, **strategy.to_dict())
    want_signal = signal_from_result(result)
    tuned = {k: v for k, v in settings.strategy.replace(hysteresis=new_h).to_dict().items() if k != "tc"}
    chart = trend_chart(funds, tcs=settings.tuning.tcs, **tuned)
    walk = fwpt(funds, tcs=settings.tuning.tcs, retune_days=settings.tuning.retune_days, **tuned)

    def facts_ref(sheet: str) -> str:  # where the render put the sheet's summary block (header "Item")
        cell = next(c for row in data[sheet].iter_rows(min_row=5, max_row=5) for c in row if c.value == "Item")
        return f"{cell.coordinate}:{get_column_letter(cell.column + 1)}20"

    doc = calc.request("open", path=str(rendered))
    try:
        calc.request("set_named", doc=doc, name="TrendConstant", value=new_tc)
        calc.request("calculate_all", doc=doc)
        summary = calc.request("values", doc=doc, sheet="Summary", ref="A1:E60")
        calc.request("set_named", doc=doc, name="Hysteresis", value=new_h)
        calc.request("calculate_all", doc=doc)
        trend_sheet = calc.request("values", doc=doc, sheet="TrendChart", ref=facts_ref("TrendChart"))
        fwpt_sheet = calc.request("values", doc=doc, sheet="FWPT", ref=facts_ref("FWPT"))
    finally:
        calc.request("close", doc=doc)
    assert summary[4][1] == str(result.holdings.iloc[-1])  # B5: SECTOR_PICK
    action = _table(summary, "Item")
    assert action["Target"][0] == want_signal.target and action["Held now"][0] == want_signal.held
    metrics = _table(summary, "Metric")
    core = result.metrics()
    assert math.isclose(metrics["CAGR"][0], core.loc["CAGR", "strategy"], rel_tol=1e-9)
    assert not math.isclose(metrics["CAGR"][0], _table([[c.value for c in r] for r in
                                                        data["Summary"].iter_rows(max_col=5)], "Metric")["CAGR"][0],
                            rel_tol=1e-6), "pick a trend constant that changes the CAGR"
    facts = _table(trend_sheet, "Item")
    assert facts["Peak tc"][0] == chart.peak_tc
    assert math.isclose(facts["Peak score"][0], chart.peak_score, rel_tol=1e-9)
    walk_facts = _table(fwpt_sheet, "Item")
    assert walk_facts["Tuned tc now"][0] == walk.current_tc
    assert walk_facts["In-sample best tc (hindsight)"][0] == walk.in_sample_tc
