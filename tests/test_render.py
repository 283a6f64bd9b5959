"""``xlsector render`` end to end: the live workbook (every computed table a formula, with its values), the
values-only copy checked in LibreOffice, charts, user content kept, bad input refused."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests import libreoffice as lo
from xlsector import contract
from xlsector.cli import main
from xlsector.render import render_workbook
from xlsector.workbook import layout
from xlsector.workbook.template import write_template

CHART_SHEETS = ["Summary", "Theory", "Trends", "Hysteresis", "StormGuard", "TrendChart", "Stationarity", "FWPT",
                "Momentum"]
#: Charts each sheet must carry (rebuilt by every render).
CHART_COUNTS = {"Summary": 1, "Theory": 2, "Trends": 1, "Hysteresis": 1, "StormGuard": 1, "TrendChart": 2,
                "Stationarity": 2, "FWPT": 3, "Momentum": 4}
#: The xlsector functions whose array formulas make each computed sheet's tables.
LIVE_TABLES = {
    "Summary": ["SECTOR_SIGNAL", "BACKTEST_METRICS", "BACKTEST_EQUITY"],
    "Trends": ["INDEX", "EMA2_TREND"],
    "Hysteresis": ["SECTOR_PICKS", "SECTOR_PICKS"],
    "StormGuard": ["STORMGUARD_HISTORY"],
    "TrendChart": ["TREND_CHART", "TREND_CHART", "TREND_CHART", "OVERFIT_STATS", "ROBUSTNESS_MAP", "ROBUSTNESS_MAP",
                   "TIMING_LUCK", "TIMING_LUCK", "TIMING_LUCK", "TIMING_LUCK"],
    "Stationarity": ["SPLIT_SAMPLE", "PROGRESSIVE_TUNE", "SPLIT_SAMPLE", "PROGRESSIVE_TUNE"],
    "FWPT": ["FWPT_TABLE"] * 6,
}
FUNDS = contract.DataSelection().fund_list


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("render")
    path = write_template(folder / "fwpt.xlsx")
    render_workbook(path)  # in place, bundled sample (Data is empty)
    return path


@pytest.fixture(scope="session")
def values_copy(rendered, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("values") / "fwpt-values.xlsx"
    assert main(["render", str(rendered), "-o", str(out), "--values", "-q"]) == 0
    return out


@pytest.fixture(scope="session")
def lo_values(values_copy, tmp_path_factory):
    lo.require_soffice()
    return lo.export_csv(values_copy, tmp_path_factory.mktemp("csv_values"), recalc="never")


@pytest.fixture(scope="session")
def lo_always(rendered, tmp_path_factory):
    lo.require_soffice()
    return lo.export_csv(rendered, tmp_path_factory.mktemp("csv_always"), recalc="always")


@pytest.fixture(scope="session")
def values(rendered):
    return openpyxl.load_workbook(rendered, data_only=True)


@pytest.fixture(scope="session")
def sample():
    from xlsector.data import load_sample

    return load_sample().prices


def _sheet_xml(path: Path) -> dict[str, str]:
    from xlsector.xlsx import sheet_paths

    with zipfile.ZipFile(path) as archive:
        return {sheet: archive.read(member).decode() for sheet, member in sheet_paths(archive).items()}


_ARRAY_RE = re.compile(r'<c r="([A-Z]+\d+)"([^>]*)><f t="array" ref="([^"]+)">([^<]*)</f>')


def _arrays(path: Path) -> dict[str, list[tuple[str, bool, str, str]]]:
    """{sheet: [(anchor, dynamic, ref, formula)]} of every array formula."""
    return {sheet: [(anchor, ' cm="1"' in attrs, ref, formula) for anchor, attrs, ref, formula in
                    _ARRAY_RE.findall(xml)] for sheet, xml in _sheet_xml(path).items()}


def _formula_cells(path: Path) -> dict[str, list[tuple[int, int, str]]]:
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = [(c.row, c.column, getattr(c.value, "text", c.value)) for row in ws.iter_rows() for c in row
                         if isinstance(getattr(c.value, "text", c.value), str)
                         and getattr(c.value, "text", c.value).startswith("=")]
    return out


# ---------------------------------------------------------------------------------------------- the live workbook


def test_every_computed_table_is_a_live_formula(rendered):
    arrays = _arrays(rendered)
    for sheet, functions in LIVE_TABLES.items():
        found = arrays[sheet]
        heads = [re.match(r"=?([A-Z0-9_]+)\(", formula).group(1) for _, _, _, formula in found]
        assert sorted(heads) == sorted(functions), sheet
        for anchor, dynamic, ref, formula in found:
            assert dynamic, f"{sheet}!{anchor}: not marked as a dynamic array"
            assert ref.startswith(anchor) and contract.DATA_TABLE in formula, (sheet, anchor, formula)
    with zipfile.ZipFile(rendered) as archive:
        assert "XLDAPR" in archive.read("xl/metadata.xml").decode()  # what cm="1" refers to
        assert "metadata.xml" in archive.read("xl/_rels/workbook.xml.rels").decode()
    wb = openpyxl.load_workbook(rendered)
    assert wb.defined_names[contract.DATA_TABLE].attr_text == contract.DATA_TABLE_FORMULA
    assert "Values, not a formula" in wb["Momentum"]["A4"].value


def test_formulas_read_the_settings_names(rendered):
    """A rotation formula passes every strategy setting by name, so a changed setting reaches it."""
    (signal,) = [f for _, _, _, f in _arrays(rendered)["Summary"] if f.startswith("SECTOR_SIGNAL")]
    for name in ("TrendConstant", "Hysteresis", "MarketIndex", "StormGuard", "Schedule", "Delay", "CostBp",
                 "MinHold", "MinHistory", "HysteresisDecay", "StormGuardShift", "Scale", "BearFunds", "Funds"):
        assert re.search(rf"[(,]{name}[,)]", signal), name
    (metrics,) = [f for _, _, _, f in _arrays(rendered)["Summary"] if f.startswith("BACKTEST_METRICS")]
    assert ",CashRate," in metrics  # the Summary table earns the cash rate, as BACKTEST_CAGR does


def test_cached_values_readable_without_calculation(rendered, values):
    """A reader that does not calculate (openpyxl data_only) sees every formula's value and every table."""
    for sheet, cells in _formula_cells(rendered).items():
        for r, c, formula in cells:
            assert values[sheet].cell(r, c).value is not None, f"{sheet}!{r},{c} {formula}"
    for sheet, found in _arrays(rendered).items():
        for _, _, ref, formula in found:
            first, last = ref.split(":")
            area = values[sheet][first:last]
            assert all(any(c.value is not None for c in row) for row in area), f"{sheet}!{ref} has blank rows"


def test_values_copy_opens_with_numbers_in_libreoffice(rendered, values_copy, lo_values):
    """Without Excel or the extension: the --values copy shows every table, no error, no formula left."""
    assert set(contract.SHEET_ORDER) <= set(lo_values)
    for sheet, rows in lo_values.items():
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                assert not any(m in text for m in lo.ERROR_MARKERS), f"{sheet} row {i + 1} col {j + 1}: {text}"
    # no cell formula left (a conditional format's rule, <formula>, is formatting and works anywhere)
    assert not any(re.search(r"<f[ >]", xml) for xml in _sheet_xml(values_copy).values())
    for sheet, found in _arrays(rendered).items():
        rows = lo_values[sheet]
        for anchor, _, ref, _ in found:
            first, last = (openpyxl.utils.cell.coordinate_to_tuple(x) for x in ref.split(":"))
            shown = [rows[r - 1][first[1] - 1] for r in range(first[0], last[0] + 1)]
            assert all(text.strip() for text in shown[:2]), f"{sheet}!{anchor} is blank in LibreOffice"


def test_theory_native_formulas_recalculated_by_libreoffice_equal_core(rendered, lo_always):
    from xlsector.trend import ema, ema2, ema2_weights

    wb = openpyxl.load_workbook(rendered)
    ws = wb["Theory"]
    tc = wb["Settings"][f"B{layout.setting_row('TrendConstant')}"].value
    k = wb["Settings"][f"B{layout.setting_row('Scale')}"].value
    rows = [r for r in lo_always["Theory"][5:] if r and r[0]]
    prices = pd.Series([float(ws.cell(6 + i, 2).value) for i in range(len(rows))])
    assert len(rows) == 260
    np.testing.assert_allclose([float(r[3]) for r in rows], ema(prices, tc, k=k).to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose([float(r[4]) for r in rows], ema2(prices, tc, k=k).to_numpy(), rtol=0, atol=1e-9)
    # LibreOffice recalculated for real: without the extension the add-in's function is #NAME?
    assert all(r[5] == "#NAME?" for r in rows)
    weights = np.array([float(r[10]) for r in lo_always["Theory"][5:206]])
    np.testing.assert_allclose(weights, ema2_weights(20, np.arange(201), k=k), rtol=1e-12)


def _block(ws, label: str, start: str | None = None) -> dict[str, list]:
    """A labelled block (header row ``label``, first column labels) as {label: values of its other columns};
    ``start``: the block's anchor cell, when several blocks have the same header."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label and (start is None or cell.coordinate == start):
                out = {}
                r = cell.row + 1
                while ws.cell(r, cell.column).value is not None:
                    out[ws.cell(r, cell.column).value] = [ws.cell(r, cell.column + j).value for j in range(1, 5)]
                    r += 1
                return out
    raise AssertionError(f"{ws.title}: no block {label!r}")


def test_summary_equals_core(values, sample):
    from xlsector.action import signal_from_result
    from xlsector.backtesting import run_backtest

    result = run_backtest(sample[FUNDS], tc=50, k=22, hysteresis=0.01)
    summary = values["Summary"]
    assert summary["B5"].value == result.holdings.iloc[-1]
    action = _block(summary, "Item")
    expected = signal_from_result(result)
    assert action["Target"][0] == expected.target and action["Held now"][0] == expected.held
    assert action["As of"][0] == sample.index[-1].to_pydatetime()  # the same range the pick uses
    assert action["Margin (trend units)"][0] == pytest.approx(expected.margin, rel=1e-12)
    metrics = _block(summary, "Metric")
    core = result.metrics()
    assert metrics["CAGR"][0] == pytest.approx(core.loc["CAGR", "strategy"], rel=1e-12)
    assert metrics["CAGR"][2] == pytest.approx(core.loc["CAGR", "benchmark"], rel=1e-12)
    assert values["Theory"]["G100"].value == pytest.approx(0.0, abs=1e-12)  # native EMA2 - EMA2_TREND


def _core_kwargs():
    return {"k": 22.0, "hysteresis": 0.01, "schedule": "daily", "min_hold": 0, "delay": 1, "cost_bp": 10.0,
            "min_history": 22, "tcs": range(2, 201)}


def test_trend_chart_sheet_equals_core(values, sample):
    from xlsector.tuning import trend_chart

    chart = trend_chart(sample[FUNDS], **_core_kwargs())
    ws = values["TrendChart"]
    facts = _block(ws, "Item")
    assert facts["Peak tc"][0] == chart.peak_tc
    assert facts["Peak score"][0] == pytest.approx(chart.peak_score, rel=1e-12)
    assert (facts["Plateau from tc"][0], facts["Plateau to tc"][0]) == chart.plateau
    assert facts["Peak on the grid's edge"][0].startswith("YES")  # the sample's peak is tc 200
    assert [ws.cell(r, 1).value for r in range(6, 6 + 199)] == list(range(2, 201))
    scores = np.array([ws.cell(r, 2).value for r in range(6, 6 + 199)], dtype=float)
    np.testing.assert_allclose(scores, chart.table["score"].to_numpy(), rtol=1e-12)


def test_stationarity_sheet_equals_core(values, sample):
    from xlsector.tuning import progressive_tune, split_sample

    split = split_sample(sample[FUNDS], **_core_kwargs())
    ws = values["Stationarity"]
    assert [ws.cell(r, 1).value for r in range(6, 9)] == [2, 3, 4]
    got = np.array([[ws.cell(r, c).value for c in (2, 3, 4)] for r in range(6, 6 + 199)], dtype=float)
    np.testing.assert_allclose(got, split[["first_half", "second_half", "whole"]].to_numpy(), rtol=1e-12)
    prog = progressive_tune(sample[FUNDS], window=250, step=125, **_core_kwargs())
    assert [ws.cell(6 + i, 8).value for i in range(len(prog))] == prog["tc"].tolist()
    assert ws.cell(6 + len(prog), 8).value is None


def test_fwpt_sheet_and_summary_equal_core(values, sample):
    from xlsector.tuning import fwpt

    walk = fwpt(sample[FUNDS], retune_days=125, **_core_kwargs())
    ws = values["FWPT"]
    facts = _block(ws, "Item")
    assert facts["Born on (first tuning)"][0] == walk.born_on.to_pydatetime()
    assert facts["Tuned tc now"][0] == walk.current_tc
    assert facts["In-sample best tc (hindsight)"][0] == walk.in_sample_tc
    cagr = walk.metrics().loc["CAGR"]
    metrics = _block(ws, "Metric")
    assert metrics["CAGR"][:3] == pytest.approx([cagr["walk_forward"], cagr["in_sample_best"], cagr["benchmark"]],
                                                rel=1e-12)
    assert "AFTER the born-on date only" in ws["A3"].value
    assert facts["Tuned tc now on the grid's edge"][0].startswith("YES")  # tc 200 = TcMax on the sample
    assert facts["Share of tunings choosing the grid's edge"][0] == pytest.approx(
        walk.retunes["best_tc"].isin([2.0, 200.0]).mean())
    # the Summary reads the FWPT sheet's function (INDEX of its summary part)
    summary = {row[0].value: row[1].value for row in values["Summary"].iter_rows(max_col=2) if row[0].value}
    assert summary["Tuned tc now"] == walk.current_tc
    assert summary["Next retune (estimate)"] == facts["Next retune (estimate)"][0] > sample.index[-1]


def test_momentum_sheet_equals_core(values, sample):
    import dataclasses

    from xlsector.profiles import load_experiment, run_experiment

    experiment = load_experiment("sample_four_phase")
    base = dataclasses.replace(experiment.base, funds=tuple(FUNDS), benchmark="^GSPC")
    result = run_experiment(dataclasses.replace(experiment, base=base), sample)
    best = result.table[(result.table["phase"] == "momentum") & result.table["best"]].iloc[0]
    ws = values["Momentum"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_row=20, max_col=13)]
    header = next(i for i, r in enumerate(rows) if r[0] == "lookback")
    grid = rows[header + 1: header + 10]
    assert [r[0] for r in grid] == list(range(118, 135, 2))
    chosen = [r for r in grid if r[12] == "best"]
    assert len(chosen) == 1 and chosen[0][0] == best["value"]
    assert chosen[0][2] == pytest.approx(best["Sharpe ratio"], rel=1e-12)
    assert "No VIX column" in ws["A3"].value  # the bundled sample has no VIX: phase 2 is fixed leverage


# ---------------------------------------------------------------------------------------------- charts


def test_charts_render_and_are_not_blank(values_copy, tmp_path):
    lo.require_soffice()
    # Print only the chart sheets of the values copy: hide the others (zip-level edit, no openpyxl round trip).
    with zipfile.ZipFile(values_copy) as src:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/workbook.xml":
                    text = data.decode()
                    for sheet in contract.SHEET_ORDER:
                        if sheet not in CHART_SHEETS:
                            text = re.sub(rf'(<sheet [^>]*name="{sheet}"[^>]*?)state="visible"', r'\1state="hidden"',
                                          text)
                    text = text.replace('activeTab="0"', f'activeTab="{contract.SHEET_ORDER.index("Summary")}"')
                    data = text.encode()
                dst.writestr(item, data)
    copy = tmp_path / "charts.xlsx"
    copy.write_bytes(buffer.getvalue())
    pdf = lo.export_pdf(copy, tmp_path / "pdf")
    pages = lo.pdf_to_gray(pdf, tmp_path / "gray", dpi=40)
    assert len(pages) == len(CHART_SHEETS)
    for name, pixels in zip(CHART_SHEETS, pages):
        blocks = _chart_blocks(pixels)
        assert len(blocks) == CHART_COUNTS[name], f"{name}: {len(blocks)} chart images on the page"
        for i, block in enumerate(blocks):
            block = block.astype(float)
            assert (block < 240).mean() > 0.03, f"{name} chart {i + 1}: almost white"
            assert block.std() > 20, f"{name} chart {i + 1} looks blank"


def _runs(flags, min_len: int = 5) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True at least ``min_len`` long."""
    out, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= min_len:
                out.append((start, i))
            start = None
    return out


def _chart_blocks(pixels) -> list:
    """The chart images of a printed page: non-white blocks separated by white rows, then white columns."""
    mask = pixels < 250
    blocks = []
    for r0, r1 in _runs(mask.any(axis=1)):
        for c0, c1 in _runs(mask[r0:r1].any(axis=0)):
            blocks.append(pixels[r0:r1, c0:c1])
    return blocks


def test_every_chart_series_points_at_numbers(rendered, values):
    """Each series of each chart reads a range that holds numbers in the saved file (no blank chart)."""
    from openpyxl.utils import range_boundaries

    found: dict[str, int] = {}
    with zipfile.ZipFile(rendered) as archive:
        for name in sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart")):
            xml = archive.read(name).decode()
            refs = re.findall(r"<(?:c:)?(?:val|yVal)>\s*<(?:c:)?numRef>\s*<(?:c:)?f>([^<]+)</(?:c:)?f>", xml)
            assert refs, f"{name}: no data series"
            sheets = set()
            longest = 0
            for ref in refs:
                sheet, cells = ref.rsplit("!", 1)
                sheet = sheet.strip("'")
                sheets.add(sheet)
                min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
                numbers = [v for row in values[sheet].iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                                                                max_col=max_col, values_only=True)
                           for v in row if isinstance(v, int | float)]
                assert numbers, f"{name}: series {ref} has no numbers"
                longest = max(longest, len(numbers))
            assert longest >= 2, f"{name}: no series with two points or more"
            assert len(sheets) == 1, f"{name}: series on several sheets {sheets}"
            sheet = sheets.pop()
            found[sheet] = found.get(sheet, 0) + 1
    assert found == CHART_COUNTS


# ---------------------------------------------------------------------------------------------- the user's content


def test_render_keeps_user_sheet_and_cells_and_rerenders(rendered, tmp_path):
    path = tmp_path / "mine.xlsx"
    path.write_bytes(rendered.read_bytes())
    wb = openpyxl.load_workbook(path)
    mine = wb.create_sheet("Mine")
    mine["A1"] = "my note"
    mine["B2"] = "=Summary!B5"
    mine["B3"] = "=[1]!SECTOR_PICK(DataTable,20)"  # Excel's spelling of a loaded .xlam's function
    mine.column_dimensions["A"].width = 33
    wb["Trends"]["A2"] = "kept text in a non-computed cell"
    wb.defined_names["FundPrices"] = openpyxl.workbook.defined_name.DefinedName("FundPrices",
                                                                               attr_text="Data!$A$1:$K$9")
    wb.save(path)
    before_data = openpyxl.load_workbook(rendered)["Data"].max_row
    report = render_workbook(path)
    assert report.cached_cells > 20
    assert any("FundPrices" in note for note in report.notes)  # the fixed range of an old template is gone
    after = openpyxl.load_workbook(path)
    assert after["Mine"]["A1"].value == "my note"
    assert after["Mine"]["B2"].value == "=Summary!B5"
    assert after["Mine"]["B3"].value == "=SECTOR_PICK(DataTable,20)"  # written plainly: LibreOffice knows it
    assert after["Mine"].column_dimensions["A"].width == 33
    assert after["Trends"]["A2"].value == "kept text in a non-computed cell"
    assert after["Data"].max_row == before_data
    assert after["Summary"]["B5"].value.startswith("=SECTOR_PICK(DataTable,")
    assert "TrendConstant" in after.defined_names and "FundPrices" not in after.defined_names
    assert len(after["Trends"]._charts) == 1
    assert after["Data"]["A2"].number_format == "yyyy-mm-dd"
    again = _arrays(path)
    assert {sheet: again[sheet] for sheet in _arrays(rendered)} == _arrays(rendered)  # same tables, not doubled


def _cli(*args: str) -> tuple[int, str]:
    import contextlib

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a spreadsheet at all", "not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "encrypted"),
    ],
)
def test_bad_files_give_error_and_write_nothing(tmp_path, content, message):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    code, err = _cli("render", str(path))
    assert code == 1
    assert err.splitlines()[-1].startswith("Error: ") and message in err
    assert path.read_bytes() == content


def test_bad_setting_and_missing_sheet_write_nothing(rendered, tmp_path):
    path = tmp_path / "bad.xlsx"
    wb = openpyxl.load_workbook(rendered)
    wb["Settings"][f"B{layout.setting_row('TrendConstant')}"] = "fifty"
    wb.save(path)
    before = path.read_bytes()
    code, err = _cli("render", str(path))
    assert code == 1
    assert f"Settings!B{layout.setting_row('TrendConstant')} (TrendConstant)" in err and "'fifty'" in err
    assert path.read_bytes() == before
    del wb["Settings"]
    wb.save(path)
    before = path.read_bytes()
    code, err = _cli("render", str(path))
    assert code == 1 and "no sheet named 'Settings'" in err
    assert path.read_bytes() == before


def test_locked_workbook_gives_clear_error(rendered, tmp_path):
    path = tmp_path / "fwpt.xlsx"
    path.write_bytes(rendered.read_bytes())
    (tmp_path / "~$fwpt.xlsx").write_bytes(b"lock")
    code, err = _cli("render", str(path))
    assert code == 1 and "open in Excel" in err
    assert path.read_bytes() == rendered.read_bytes()


def test_killed_render_leaves_previous_file_intact(rendered, tmp_path):
    path = tmp_path / "fwpt.xlsx"
    path.write_bytes(rendered.read_bytes())
    before = path.read_bytes()
    # Kill the render in the middle of writing (after compute, in the cached-values stage).
    script = (
        "import os, signal, sys\n"
        "import xlsector.workbook.xlsx_patch as p\n"
        "orig = p.finish_xlsx\n"
        "def boom(*a, **k):\n"
        "    out = orig(*a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "p.finish_xlsx = boom\n"
        "from xlsector.render import render_workbook\n"
        f"render_workbook({str(path)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert path.read_bytes() == before
    # a killed process cannot remove its lock file (the OS released the lock itself); the next writer does
    assert not [p for p in tmp_path.iterdir() if p.name not in ("fwpt.xlsx", ".fwpt.xlsx.xlsector.lock")]
    stale = tmp_path / ".fwpt.xlsx.a1b2c3d4.tmp"  # what a kill inside the write window leaves
    stale.write_bytes(b"half a workbook")
    render_workbook(path, data="sample")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fwpt.xlsx"]


def test_short_data_renders_with_notes_instead_of_fwpt(tmp_path):
    """Three years of prices: no five-year first tuning, so the FWPT tables show the function's message."""
    from xlsector.data import load_sample

    csv = tmp_path / "short.csv"
    load_sample().prices.loc["2020-01-01":].to_csv(csv)
    path = write_template(tmp_path / "fwpt.xlsx")
    report = render_workbook(path, data=str(csv))
    assert any(note.startswith("FWPT!A5") and "five years" in note for note in report.notes)
    wb = openpyxl.load_workbook(path, data_only=True)
    assert wb["FWPT"]["A5"].value == "#VALUE!"
    assert isinstance(wb["TrendChart"]["B6"].value, float)  # the trend chart still runs on three years
    assert wb["Momentum"]["A3"].value is not None


def test_cash_rate_setting_reaches_every_table(tmp_path, sample):
    """CashRate names a Data column (annual %): the Summary metrics, BACKTEST_CAGR and the core agree."""
    from xlsector.backtesting import run_backtest
    from xlsector.measures import cagr

    table = sample.copy()
    table["RATE"] = 3.0
    csv = tmp_path / "with_rate.csv"
    table.to_csv(csv)
    path = write_template(tmp_path / "fwpt.xlsx")
    wb = openpyxl.load_workbook(path)
    for name, value in (("CashRate", "RATE"), ("StormGuard", "standard")):
        wb["Settings"][f"B{layout.setting_row(name)}"] = value
    wb.save(path)
    render_workbook(path, data=str(csv))
    core = run_backtest(sample[FUNDS], tc=50, stormguard="standard", index=sample["^GSPC"],
                        cash_rate=table["RATE"] / 100.0)
    metrics = _block(openpyxl.load_workbook(path, data_only=True)["Summary"], "Metric")
    assert metrics["CAGR"][0] == pytest.approx(cagr(core.returns.iloc[1:], start=core.returns.index[0]), rel=1e-12)
    from udfs import xlsector_udfs as u
    from xlsector.data.workbook import read_data_sheet

    cells = [["Date", *table.columns]] + [[d.to_pydatetime(), *row] for d, row in
                                          zip(read_data_sheet(path).prices.index, table.to_numpy().tolist())]
    direct = u.BACKTEST_CAGR(cells, 50, None, "^GSPC", "standard", None, None, None, None, None, None, None, None,
                             None, None, "RATE", ",".join(FUNDS))
    assert direct == pytest.approx(metrics["CAGR"][0], rel=1e-12)
    from xlsector.portfolio import sleeve_from_workbook

    sleeve = sleeve_from_workbook(path)  # Settings and Data read back (xlsector portfolio's workbook: strategies)
    assert cagr(sleeve.returns.iloc[1:], start=sleeve.returns.index[0]) == pytest.approx(metrics["CAGR"][0], rel=1e-12)


# ---------------------------------------------------------------------------------------------- honest evaluation


def _first_screen_disclosure(ws, rows: int = 8, width_cols: int = 2) -> tuple[str, object]:
    """The survivorship disclosure within the first ``rows`` rows of column A, in a wrapped cell merged across
    at least ``width_cols`` columns and tall enough for its lines."""
    for r in range(1, rows + 1):
        text = ws.cell(r, 1).value
        if isinstance(text, str) and text.startswith("SURVIVORSHIP BIAS"):
            merged = [m for m in ws.merged_cells.ranges if m.min_row == r and m.min_col == 1]
            assert merged and merged[0].max_col - merged[0].min_col + 1 >= width_cols, "not merged across columns"
            assert ws.cell(r, 1).alignment.wrap_text, "not wrapped"
            assert (ws.row_dimensions[r].height or 0) >= 45, "too short for its lines"
            return text, merged[0]
    raise AssertionError(f"{ws.title}: no survivorship disclosure in rows 1..{rows}")


def test_survivorship_disclosure_on_the_first_screen_of_start_and_summary(values):
    from xlsector.workbook.layout import SAMPLE_DISCLOSURE

    for sheet in ("Start", "Summary"):
        text, _ = _first_screen_disclosure(values[sheet])
        assert text == SAMPLE_DISCLOSURE
        assert "chosen today, in hindsight" in text and "not sector funds" in text
    start = values["Start"]
    assert start["B5"].value.startswith("Bundled sample")  # the provenance stays below it


def test_stale_data_flag_on_summary(rendered, values):
    import datetime as dt

    from xlsector.action import staleness

    formulas = {(r, c): f for r, c, f in _formula_cells(rendered)["Summary"]}
    formula = formulas[(6, 1)]
    assert formula.startswith("=STALE_DATA(DataLastDate,INDEX(FWPT_TABLE(") and formula.endswith(",TODAY())")
    flag = values["Summary"]["A6"]
    next_retune = {row[0].value: row[1].value for row in values["Summary"].iter_rows(max_col=2)}[
        "Next retune (estimate)"]
    assert flag.value == staleness(dt.date(2022, 12, 28), next_retune, today=dt.date.today()).text
    assert flag.value.startswith("STALE: the data end ") and "the next retune date" in flag.value
    assert flag.font.color.rgb.endswith("C00000")  # red


def test_staleness_with_a_fixed_today():
    import datetime as dt

    from xlsector.action import staleness

    old = staleness("2022-12-28", "2023-03-23", today=dt.date(2026, 11, 30))
    assert old.stale and old.age_days == 1433 and old.retune_past
    assert old.text.startswith("STALE: the data end 1,433 days before today (2022-12-28); the next retune date "
                               "(2023-03-23) is past.")
    fresh = staleness("2026-11-27", "2027-01-26", today=dt.date(2026, 11, 30))
    assert not fresh.stale and fresh.text == "Data current: the last date 2026-11-27 is 3 days before today."
    due = staleness("2026-11-27", "2026-11-26", today=dt.date(2026, 11, 30))
    assert due.stale and not due.age_days > 5 and "next retune date (2026-11-26) is past" in due.text


def test_trend_chart_sheet_warns_and_shows_the_overfitting_statistics(rendered, values, sample):
    from xlsector.backtesting import run_backtest_grid
    from xlsector.evaluation import trend_chart_report
    from xlsector.tuning import trend_chart

    ws = values["TrendChart"]
    warning = ws["B4"]
    assert warning.value.startswith("The peak tc 200 is the grid's last trend constant") and "TcMax" in warning.value
    assert warning.font.color.rgb.endswith("C00000") and warning.font.b  # red, bold
    assert any(m.min_row == 4 and m.min_col == 2 and m.max_col >= 8 for m in ws.merged_cells.ranges)
    kwargs = _core_kwargs()
    grid = run_backtest_grid(sample[FUNDS], kwargs.pop("tcs"), **kwargs)
    report = trend_chart_report(trend_chart(sample[FUNDS], grid=grid), grid)
    facts = _block(ws, "Item")
    assert facts["DSR at the peak (N = 199)"][0] == pytest.approx(report.dsr, rel=1e-12)
    assert facts["PBO (N = 199 tcs, S = 16 blocks)"][0] == pytest.approx(report.pbo.pbo, rel=1e-12)
    assert facts["Trials N (every tc of the grid)"][0] == 199
    stats = _block(ws, "Statistic")
    assert stats["Trials N"][0] == 199 and stats["PSR (P[true SR > 0])"][0] == pytest.approx(report.psr, rel=1e-12)
    assert "raw kurtosis" in stats["Conventions"][0]


def test_heat_map_marks_the_chosen_point(rendered, values):
    wb = openpyxl.load_workbook(rendered)
    ws = values["TrendChart"]
    (anchor,) = [a for a, _, _, f in _arrays(rendered)["TrendChart"] if f.startswith("ROBUSTNESS_MAP")
                 and '"chosen"' not in f]
    (info,) = [a for a, _, _, f in _arrays(rendered)["TrendChart"] if f.startswith("ROBUSTNESS_MAP")
               and '"chosen"' in f]
    chosen = _block(ws, "Item", start=info)
    assert chosen["Chosen tc"][0] == 200 and chosen["Chosen hysteresis"][0] == 0.01
    col, row = openpyxl.utils.cell.coordinate_from_string(anchor)
    c0 = openpyxl.utils.column_index_from_string(col)
    header = [ws.cell(row, c0 + j).value for j in range(1, 6)]
    assert 0.01 in header
    tcs = [ws.cell(r, c0).value for r in range(row + 1, row + 60) if isinstance(ws.cell(r, c0).value, float)]
    assert 200.0 in tcs
    value = ws.cell(row + 1 + tcs.index(200.0), c0 + 1 + header.index(0.01)).value
    assert value == pytest.approx(chosen["CAGR at the chosen point"][0], rel=1e-12)
    rules = [rule for cf in wb["TrendChart"].conditional_formatting for rule in cf.rules]
    assert {r.type for r in rules} >= {"colorScale", "expression"}  # coloured, and the chosen cell framed
    (frame,) = [r for r in rules if r.type == "expression"]
    assert f"${col}{row + 1}=" in frame.formula[0]


def test_summary_benchmarks_are_the_fair_ones(values):
    ws = values["Summary"]
    for r in range(1, 80):
        if ws.cell(r, 1).value == "Metric":
            header = [ws.cell(r, c).value for c in range(1, 7)]
            break
    else:
        raise AssertionError("no metrics table")
    assert header[3] == "Benchmark: equal-weight buy-and-hold of 10 funds"
    assert header[4] == "equal weight of the 10 funds, rebalanced at every close"
    assert header[5] == ("buy-and-hold ^GSPC: price only, excludes dividends (understates the market by the "
                         "dividend yield)")
