"""``xlsector render`` end to end, checked in LibreOffice (converted once per session and reused)."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from tests import libreoffice as lo
from xlsector.cli import main
from xlsector.workbook import layout
from xlsector.workbook.render import render_workbook
from xlsector.workbook.template import write_template

CHART_SHEETS = ["Summary", "Theory", "Trends", "Hysteresis", "StormGuard", "TrendChart", "Stationarity", "FWPT",
                "Momentum"]
#: Charts each sheet must carry (rebuilt by every render).
CHART_COUNTS = {"Summary": 1, "Theory": 2, "Trends": 1, "Hysteresis": 2, "StormGuard": 2, "TrendChart": 2,
                "Stationarity": 2, "FWPT": 3, "Momentum": 4}
TUNING_SHEETS = ["TrendChart", "Stationarity", "FWPT", "Momentum"]
FUNDS = layout.SETTINGS[0].default.split(",")
#: The template's default strategy (Settings sheet) as core keywords, for direct core calls.
STRATEGY = dict(k=22.0, hysteresis=0.01, decay=None, schedule="daily", min_hold=0, delay=1, cost_bp=10.0,
                min_history=22, stormguard=None, shift=0.005)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("render")
    path = write_template(folder / "fwpt.xlsx")
    render_workbook(path, progress=None)  # in place, bundled sample (Data is empty)
    return path


@pytest.fixture(scope="session")
def lo_never(rendered, tmp_path_factory):
    lo.require_soffice()
    return lo.export_csv(rendered, tmp_path_factory.mktemp("csv_never"), recalc="never")


@pytest.fixture(scope="session")
def lo_always(rendered, tmp_path_factory):
    lo.require_soffice()
    return lo.export_csv(rendered, tmp_path_factory.mktemp("csv_always"), recalc="always")


def _formula_cells(path: Path) -> dict[str, list[tuple[int, int, str]]]:
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = [(c.row, c.column, c.value) for row in ws.iter_rows() for c in row
                         if isinstance(c.value, str) and c.value.startswith("=")]
    return out


def test_no_error_and_no_blank_formula_cell_in_libreoffice(rendered, lo_never):
    assert set(layout.SHEET_ORDER) <= set(lo_never)
    for sheet, rows in lo_never.items():
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                assert not any(marker in text for marker in lo.ERROR_MARKERS), f"{sheet} row {i + 1} col {j + 1}: {text}"
    formulas = _formula_cells(rendered)
    assert sum(len(v) for v in formulas.values()) > 1000
    for sheet, cells in formulas.items():
        rows = lo_never[sheet]
        for r, c, formula in cells:
            assert rows[r - 1][c - 1].strip() != "", f"{sheet} {r},{c} {formula} is blank in LibreOffice"


def test_cached_values_readable_without_calculation(rendered):
    """A reader that does not calculate (openpyxl data_only) sees every formula's value."""
    values = openpyxl.load_workbook(rendered, data_only=True)
    for sheet, cells in _formula_cells(rendered).items():
        for r, c, formula in cells:
            assert values[sheet].cell(r, c).value is not None, f"{sheet}!{r},{c} {formula}"


def test_theory_native_formulas_recalculated_by_libreoffice_equal_core(rendered, lo_always):
    from xlsector.trend import ema, ema2

    wb = openpyxl.load_workbook(rendered)
    ws = wb["Theory"]
    tc = wb["Settings"][f"B{layout.setting_row('TrendConstant')}"].value
    k = wb["Settings"][f"B{layout.setting_row('Scale')}"].value
    rows = lo_always["Theory"][5:]
    rows = [r for r in rows if r and r[0]]
    import pandas as pd

    prices = pd.Series([float(ws.cell(6 + i, 2).value) for i in range(len(rows))])
    got_ema = np.array([float(r[3]) for r in rows])
    got_ema2 = np.array([float(r[4]) for r in rows])
    assert len(rows) == 260
    np.testing.assert_allclose(got_ema, ema(prices, tc, k=k).to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(got_ema2, ema2(prices, tc, k=k).to_numpy(), rtol=0, atol=1e-9)
    # LibreOffice recalculated for real: a forced full recalculation turns the add-in's function into #NAME?
    assert all(r[5] == "#NAME?" for r in rows)
    # ... and the weights of Chart 1 (native formulas) equal the core's.
    from xlsector.trend import ema2_weights

    weights = np.array([float(r[10]) for r in lo_always["Theory"][5:206]])
    np.testing.assert_allclose(weights, ema2_weights(20, np.arange(201), k=k), rtol=1e-12)


def test_function_cells_cache_the_core_values(rendered):
    from xlsector.backtesting import run_backtest
    from xlsector.data import load_sample
    from xlsector.measures import cagr

    wb = openpyxl.load_workbook(rendered, data_only=True)
    table = load_sample().prices
    funds = [t for t in layout.SETTINGS[0].default.split(",")]
    result = run_backtest(table[funds], tc=50, k=22, hysteresis=0.01)
    summary = wb["Summary"]
    assert summary["B5"].value == result.holdings.iloc[-1]
    assert summary["B7"].value == pytest.approx(cagr(result.returns), rel=1e-12)
    theory = wb["Theory"]
    assert theory["G100"].value == pytest.approx(0.0, abs=1e-12)  # native EMA2 - EMA2_TREND


def test_charts_render_and_are_not_blank(rendered, tmp_path):
    lo.require_soffice()
    # Print only the chart sheets: hide the others in a copy (zip-level edit, no openpyxl round trip).
    with zipfile.ZipFile(rendered) as src:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/workbook.xml":
                    text = data.decode()
                    for sheet in layout.SHEET_ORDER:
                        if sheet not in CHART_SHEETS:
                            text = re.sub(rf'(<sheet [^>]*name="{sheet}"[^>]*?)state="visible"', r'\1state="hidden"', text)
                    text = text.replace('activeTab="0"', f'activeTab="{layout.SHEET_ORDER.index("Summary")}"')
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
            non_white = (block < 240).mean()
            assert non_white > 0.03, f"{name} chart {i + 1}: only {non_white:.1%} non-white pixels"
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


def test_render_keeps_user_sheet_and_cells_and_rerenders(rendered, tmp_path):
    path = tmp_path / "mine.xlsx"
    path.write_bytes(rendered.read_bytes())
    wb = openpyxl.load_workbook(path)
    mine = wb.create_sheet("Mine")
    mine["A1"] = "my note"
    mine["B2"] = "=Summary!B7*2"
    mine.column_dimensions["A"].width = 33
    wb["Trends"]["A2"] = "kept text in a non-computed cell"
    wb.save(path)
    before_data = openpyxl.load_workbook(rendered)["Data"].max_row
    report = render_workbook(path, progress=None)
    assert report.cached_cells > 1000
    after = openpyxl.load_workbook(path)
    assert after["Mine"]["A1"].value == "my note"
    assert after["Mine"]["B2"].value == "=Summary!B7*2"
    assert after["Mine"].column_dimensions["A"].width == 33
    assert after["Trends"]["A2"].value == "kept text in a non-computed cell"
    assert after["Data"].max_row == before_data
    assert after["Summary"]["B5"].value.startswith("=SECTOR_PICK(")
    assert "TrendConstant" in after.defined_names and "FundPrices" in after.defined_names
    assert len(after["Trends"]._charts) == 1
    assert after["Data"]["A2"].number_format == "yyyy-mm-dd"


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
        "from xlsector.workbook.render import render_workbook\n"
        f"render_workbook({str(path)!r}, progress=None)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name not in ("fwpt.xlsx",)]


# -- the tuning and momentum sheets: values cross-checked against direct core calls -------------------------


@pytest.fixture(scope="session")
def values(rendered):
    return openpyxl.load_workbook(rendered, data_only=True)


@pytest.fixture(scope="session")
def sample():
    from xlsector.data import load_sample

    return load_sample().prices


def _find(ws, label, col_offset=1):
    """Value right of the first cell whose text is ``label`` (offset columns to the right)."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label:
                return ws.cell(cell.row, cell.column + col_offset).value
    raise AssertionError(f"{ws.title}: no cell {label!r}")


def _core_kwargs(sample):
    return dict(STRATEGY, index=sample["^GSPC"], benchmark=sample["^GSPC"], tcs=range(2, 201))


def test_trend_chart_sheet_equals_core(values, sample):
    from xlsector.tuning import trend_chart

    chart = trend_chart(sample[FUNDS], **_core_kwargs(sample))
    ws = values["TrendChart"]
    assert _find(ws, "Peak tc") == chart.peak_tc
    assert _find(ws, "Peak score") == pytest.approx(chart.peak_score, rel=1e-12)
    assert (_find(ws, "Plateau from tc"), _find(ws, "Plateau to tc")) == chart.plateau
    # the table: one row per tc 2..200, score column as the core's
    tcs = [ws.cell(r, 1).value for r in range(6, 6 + 199)]
    assert tcs == list(range(2, 201))
    scores = np.array([ws.cell(r, 2).value for r in range(6, 6 + 199)], dtype=float)
    np.testing.assert_allclose(scores, chart.table["score"].to_numpy(), rtol=1e-12)
    assert "cumulative log return" in ws["A3"].value and "In sample" in ws["A3"].value


def test_stationarity_sheet_equals_core(values, sample):
    from xlsector.tuning import progressive_tune, split_sample

    kw = _core_kwargs(sample)
    split = split_sample(sample[FUNDS], **kw)
    ws = values["Stationarity"]
    got = np.array([[ws.cell(r, c).value for c in (2, 3, 4)] for r in range(6, 6 + 199)], dtype=float)
    np.testing.assert_allclose(got, split[["first_half", "second_half", "whole"]].to_numpy(), rtol=1e-12)
    prog = progressive_tune(sample[FUNDS], window=250, step=125, **kw)
    tuned = [ws.cell(6 + i, 8).value for i in range(len(prog))]
    assert tuned == prog["tc"].tolist()
    assert ws.cell(6 + len(prog), 8).value is None


def test_fwpt_sheet_and_summary_equal_core(values, sample):
    from xlsector.tuning import fwpt

    walk = fwpt(sample[FUNDS], retune_days=125, **_core_kwargs(sample))
    ws = values["FWPT"]
    assert _find(ws, "Born on (first tuning)") == walk.born_on.to_pydatetime()
    assert _find(ws, "Tuned tc now") == walk.current_tc
    assert _find(ws, "In-sample best tc (hindsight)") == walk.in_sample_tc
    cagr = walk.metrics().loc["CAGR"]
    assert _find(ws, "CAGR") == pytest.approx(cagr["walk_forward"], rel=1e-12)
    assert _find(ws, "CAGR", 2) == pytest.approx(cagr["in_sample_best"], rel=1e-12)
    assert _find(ws, "CAGR", 3) == pytest.approx(cagr["benchmark"], rel=1e-12)
    assert "AFTER the born-on date only" in ws["A3"].value
    summary = values["Summary"]
    assert summary["B9"].value == walk.current_tc
    next_retune = summary["B8"].value
    assert next_retune > sample.index[-1].to_pydatetime() and next_retune == _find(ws, "Next retune (estimate)")


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


def test_tuning_sheets_show_numbers_in_libreoffice(lo_never):
    for sheet in TUNING_SHEETS:
        numbers = 0
        for row in lo_never[sheet]:
            for text in row:
                try:
                    float(text.replace("%", ""))
                except ValueError:
                    continue
                numbers += 1
        assert numbers > 50, f"{sheet}: only {numbers} numeric cells in LibreOffice"


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
                           for v in row if isinstance(v, (int, float))]
                assert numbers, f"{name}: series {ref} has no numbers"  # a 1-point series is fine (plateau)
                longest = max(longest, len(numbers))
            assert longest >= 2, f"{name}: no series with two points or more"
            assert len(sheets) == 1, f"{name}: series on several sheets {sheets}"
            sheet = sheets.pop()
            found[sheet] = found.get(sheet, 0) + 1
    assert found == CHART_COUNTS


def test_short_data_renders_with_notes_instead_of_fwpt(tmp_path):
    """Three years of prices: no five-year first tuning, so the FWPT sheet says why; the rest renders."""
    from xlsector.data import load_sample

    csv = tmp_path / "short.csv"
    load_sample().prices.loc["2020-01-01":].to_csv(csv)
    path = write_template(tmp_path / "fwpt.xlsx")
    report = render_workbook(path, data=str(csv), progress=None)
    assert any("FWPT sheet: not possible" in n and "five years" in n for n in report.notes)
    wb = openpyxl.load_workbook(path, data_only=True)
    assert wb["FWPT"]["A3"].value.startswith("FWPT not possible on this data")
    assert wb["Summary"]["B8"].value == "n/a" and wb["Summary"]["B9"].value == "n/a"
    assert isinstance(wb["TrendChart"]["B6"].value, float)  # the trend chart still runs on three years
    assert wb["Momentum"]["A6"].value is not None


def test_bad_born_on_and_huge_grid_name_the_cell(tmp_path):
    path = write_template(tmp_path / "fwpt.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Settings"][f"B{layout.setting_row('BornOn')}"] = dt.datetime(1991, 1, 2)  # < 5 years after 1990
    wb.save(path)
    before = path.read_bytes()
    code, err = _cli("render", str(path))
    assert code == 1 and f"Settings!B{layout.setting_row('BornOn')} (BornOn): born_on must be on or after" in err
    assert path.read_bytes() == before
    wb["Settings"][f"B{layout.setting_row('BornOn')}"] = None
    wb["Settings"][f"B{layout.setting_row('TcMax')}"] = 5000
    wb.save(path)
    code, err = _cli("render", str(path))
    assert code == 1 and f"Settings!B{layout.setting_row('TcMax')} (TcMax)" in err and "at most 1000" in err
