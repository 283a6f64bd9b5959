"""Template, settings, file checks and the xlsx cached-value patch (no LibreOffice needed)."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from xlsector import contract
from xlsector.errors import XlsectorError
from xlsector.render import excel_functions
from xlsector.workbook import layout
from xlsector.workbook.formulas import FormulaEvaluator, uses_udf
from xlsector.workbook.guard import check_workbook_bytes
from xlsector.workbook.settings import read_settings
from xlsector.workbook.template import build_template, write_template
from xlsector.xlsx import cached_formula_values, patch_cached_values


def test_template_has_every_sheet_and_named_cell(tmp_path):
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == contract.SHEET_ORDER
    for setting in contract.SETTINGS:
        assert setting.name in wb.defined_names, setting.name
    for name, _, _ in contract.PROVENANCE:
        assert name in wb.defined_names, name
    settings = read_settings(wb)
    assert settings["TrendConstant"] == 50 and settings["Scale"] == 22
    assert settings.strategy.tc == 50 and settings.data.fund_list[0] == "XOM"  # the records the core takes
    assert settings.where("TrendConstant") == f"Settings!B{layout.setting_row('TrendConstant')}"
    # openpyxl's default would force a full recalculation on open (and #NAME? without the add-in).
    assert wb.calculation.fullCalcOnLoad is False


def test_template_refuses_to_overwrite(tmp_path):
    path = write_template(tmp_path / "t.xlsx")
    before = path.read_bytes()
    with pytest.raises(XlsectorError, match="exists"):
        write_template(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TrendConstant", "abc", r"Settings!B\d+ \(TrendConstant\) must be a number.* got the text 'abc'"),
        ("Delay", 2, r"\(Delay\) must be 0 or 1, got 2"),
        ("Schedule", "yearly", r"\(Schedule\) must be one of daily, week, month"),
        ("MinHold", 1.5, r"\(MinHold\) must be a whole number"),
        ("Funds", "", r"\(Funds\) must not be blank"),
    ],
)
def test_bad_setting_names_sheet_and_cell(name, value, message):
    wb = build_template()
    wb[contract.SETTINGS_SHEET][f"B{layout.setting_row(name)}"] = value
    with pytest.raises(XlsectorError, match=message):
        read_settings(wb)


def test_guard_rejects_non_spreadsheets():
    with pytest.raises(XlsectorError, match="not a spreadsheet"):
        check_workbook_bytes(b"hello, world", "x.xlsx")
    with pytest.raises(XlsectorError, match="encrypted"):
        check_workbook_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "x.xlsx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(XlsectorError, match="no xl/workbook.xml"):
        check_workbook_bytes(buffer.getvalue(), "x.docx")


def test_guard_rejects_zip_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 << 20))  # 50 MB of zeros: ~1000x
    with pytest.raises(XlsectorError, match="zip bomb"):
        check_workbook_bytes(buffer.getvalue(), "bomb.xlsx")


def _saved(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_patch_puts_typed_cached_values_and_reads_them_back():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["A1"] = 2
    ws["B1"] = "=A1*3"
    ws["B2"] = '=MYFUNC(A1)'
    ws["B3"] = "=A1>1"
    ws["B4"] = "=1/0"
    ws["B5"] = "=A1+1"  # no value given: left without <v> (a calculating program computes it)
    data, count = patch_cached_values(_saved(wb), {"S": {"B1": 6.0, "B2": "XOM", "B3": True, "B4": float("nan")}})
    assert count == 4
    values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)["S"]
    assert values["B1"].value == 6
    assert values["B2"].value == "XOM"
    assert values["B3"].value is True
    assert values["B4"].value == "#N/A"
    assert values["B5"].value is None
    formulas = openpyxl.load_workbook(io.BytesIO(data))["S"]
    assert formulas["B2"].value == "=MYFUNC(A1)"
    # Values of formulas we did not compute are read from the old file and put back.
    kept = cached_formula_values(data)
    assert kept["S"]["B2"] == (' t="str"', "XOM")
    again, count = patch_cached_values(_saved(openpyxl.load_workbook(io.BytesIO(data))), {}, kept)
    assert count == 4
    assert openpyxl.load_workbook(io.BytesIO(again), data_only=True)["S"]["B1"].value == 6


def test_evaluator_calls_the_excel_function():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "T"
    for i, price in enumerate([100.0, 101.0, 99.0, 102.0]):
        ws.cell(row=i + 1, column=2, value=price)
    ws["D1"] = 50
    from openpyxl.workbook.defined_name import DefinedName

    wb.defined_names["Tc"] = DefinedName("Tc", attr_text="T!$D$1")
    formula = "=INDEX(EMA2_TREND($B$1:$B$4,Tc,22),ROWS($B$1:B3))"
    functions = excel_functions()
    assert uses_udf(formula, functions) and not uses_udf("=SUM(A1:A3)", functions)
    import pandas as pd

    from xlsector.trend import ema2

    expected = ema2(pd.Series([100.0, 101.0, 99.0, 102.0]), 50, k=22).iloc[2]
    evaluator = FormulaEvaluator(wb, functions)
    assert evaluator.evaluate(formula, "T") == pytest.approx(expected, abs=1e-15)
    # INDEX with row 0 is the whole column (the Trends sheet's date column)
    assert evaluator.evaluate_array("=INDEX($B$1:$B$4,0,1)", "T") == [[100.0], [101.0], [99.0], [102.0]]


def test_momentum_sheet_uses_vix_leverage_when_a_vix_column_exists():
    """With VixTicker naming a Data column, phase 2 grids VIX-scaled leverage: base x 30 / max(VIX, 15),
    clipped to [0.5, 2.0] (four_phase_study). A constant VIX of 20 gives base x 1.5 on every invested day."""
    from xlsector.data import load_sample
    from xlsector.workbook import compute
    from xlsector.workbook.inputs import split_inputs

    wb = build_template()
    wb[contract.SETTINGS_SHEET][f"B{layout.setting_row('VixTicker')}"] = "^VIX"
    settings = read_settings(wb)
    table = load_sample().prices.copy()
    table["^VIX"] = 20.0
    result = compute.momentum(split_inputs(table, settings), settings)
    assert result.has_vix and result.experiment == "four_phase_study"
    rows = result.result.table
    vix_rows = rows[rows["phase"] == "vix_leverage"]
    assert list(vix_rows["value"]) == [1.0, 1.1, 1.2, 1.3, 1.4]
    expected = [min(v * 30 / 20, 2.0) for v in vix_rows["value"]]
    assert vix_rows["Average leverage"].to_numpy() == pytest.approx(expected, rel=1e-12)


def test_momentum_sheet_without_vix_grids_fixed_leverage():
    from xlsector.data import load_sample
    from xlsector.workbook import compute
    from xlsector.workbook.inputs import split_inputs

    settings = read_settings(build_template())
    result = compute.momentum(split_inputs(load_sample().prices, settings), settings)
    assert not result.has_vix and result.experiment == "sample_four_phase"
    rows = result.result.table
    lev = rows[rows["phase"] == "leverage"]
    assert lev["Average leverage"].to_numpy() == pytest.approx(lev["value"].to_numpy(dtype=float), rel=1e-12)


def test_shared_grid_gives_the_same_tuning_as_separate_runs():
    """The render runs the tc grid once and passes it to every tuning call (grid=): same numbers as alone."""
    import numpy as np

    from xlsector.backtesting import run_backtest_grid
    from xlsector.data import load_sample
    from xlsector.tuning import fwpt, split_sample, trend_chart

    prices = load_sample().prices
    funds = prices[["XOM", "JPM", "KO", "MSFT"]].loc["2000":]
    tcs = np.arange(10.0, 61.0)
    strategy = {"hysteresis": 0.01, "cost_bp": 10.0, "benchmark": prices["^GSPC"].loc["2000":]}
    alone = trend_chart(funds, tcs=tcs, **strategy), fwpt(funds, tcs=tcs, **strategy)
    grid = run_backtest_grid(funds, tcs, **strategy)
    shared = trend_chart(funds, grid=grid), fwpt(funds, grid=grid)
    assert shared[0].table.equals(alone[0].table) and shared[0].peak_tc == alone[0].peak_tc
    assert shared[1].retunes.equals(alone[1].retunes) and shared[1].returns.equals(alone[1].returns)
    assert split_sample(funds, grid=grid).equals(split_sample(funds, tcs=tcs, **strategy))


def test_refresh_and_render_read_the_same_funds():
    """One ticker-list rule for the workbook contract: "XLK; XLE,XLF" is three funds for both."""
    from xlsector.contract import settings_tickers

    wb = build_template()
    wb[contract.SETTINGS_SHEET][f"B{layout.setting_row('Funds')}"] = "XLK; XLE,XLF"
    wb[contract.SETTINGS_SHEET][f"B{layout.setting_row('MarketIndex')}"] = "SPY"
    settings = read_settings(wb)  # the render's reading
    raw = contract.named_values(wb, contract.SETTING_NAMES)  # the refresh's reading (raw cells)
    assert settings.data.fund_list == ["XLK", "XLE", "XLF"]
    assert settings_tickers(raw)[:3] == settings.data.fund_list and settings_tickers(raw)[3] == "SPY"


def test_one_named_cell_policy():
    """Undefined: None (the caller's default); defined but not one cell: an error naming it."""
    from openpyxl.workbook.defined_name import DefinedName

    wb = build_template()
    assert contract.resolve_cell(wb, "NoSuchName") is None
    wb.defined_names["Wide"] = DefinedName("Wide", attr_text="Settings!$B$4:$B$9")
    with pytest.raises(XlsectorError, match="defined name Wide must point at one cell"):
        contract.resolve_cell(wb, "Wide")
    wb.defined_names["Lost"] = DefinedName("Lost", attr_text="Nowhere!$B$4")
    with pytest.raises(XlsectorError, match="points at sheet 'Nowhere'"):
        contract.resolve_cell(wb, "Lost")
