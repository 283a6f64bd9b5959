"""The Sweep sheet written into a rendered template: its figures are the report's, and every other sheet keeps
its formulas, cached values, dynamic-array marks and charts byte for byte (what an openpyxl round trip loses)."""

from __future__ import annotations

import io
import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlsector.errors import DataQualityWarning, XlsectorError
from xlsector.params import TuningParams
from xlsector.sweep import SweepSpec, run_sweep
from xlsector.workbook.added_sheet import _charts, _marks
from xlsector.workbook.sheet_sweep import SWEEP_SHEET, TABLE_COLUMNS, write_sweep_sheet
from xlsector.xlsx import METADATA_PART, cached_formula_values

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """The template rendered on seven years of the bundled sample (short, so that each write is quick): formulas
    with cached values, dynamic arrays, charts."""
    from xlsector.data import load_sample
    from xlsector.render import render_workbook

    folder = tmp_path_factory.mktemp("book")
    prices = folder / "prices.csv"
    load_sample().prices.loc["2009-01-01":"2015-12-31"].to_csv(prices, index_label="Date")
    out = folder / "rendered.xlsx"
    with warnings.catch_warnings():  # the jump guard's notes on real moves of the sample (JPM in January 2009)
        warnings.simplefilter("ignore", DataQualityWarning)
        render_workbook(REPO / "workbooks" / "fwpt.xlsx", out, data=str(prices))
    return out


@pytest.fixture(scope="module")
def report(etf_prices, tmp_path_factory):
    from xlsector.data import validate_prices

    prices = validate_prices(etf_prices, jump_threshold=None)[0]
    spec = SweepSpec(funds=("XLB", "XLE", "XLK", "XLU"), choose=(2,), tuning=TuningParams(tc_min=20, tc_max=140,
                                                                                           tc_step=10))
    return run_sweep(prices, spec, store=tmp_path_factory.mktemp("s") / "s.sqlite", in_process=True, pbo_blocks=8)


@pytest.fixture()
def book(rendered, tmp_path) -> Path:
    path = tmp_path / "book.xlsx"
    shutil.copy(rendered, path)
    return path


def _labels(ws) -> dict[str, object]:
    return {row[0]: row[1] for row in ws.iter_rows(min_row=5, max_row=40, max_col=2, values_only=True) if row[0]}


def test_sweep_sheet_holds_the_report_figures_ranked_out_of_sample(book, report):
    write_sweep_sheet(book, report, data="sector ETFs", top=4)
    ws = openpyxl.load_workbook(book, read_only=True)[SWEEP_SHEET]
    facts = _labels(ws)
    assert facts["Trials N"] == report.trials.trials
    assert facts["DSR (N trials)"] == pytest.approx(report.best.dsr, abs=1e-15)
    assert facts["PBO across combinations"] == pytest.approx(report.pbo.pbo, abs=1e-15)
    assert facts["Best out of sample"] == report.table.at[0, "funds"]
    assert facts["Combinations done / planned"] == "6 / 6"
    header = next(r for r in range(1, 60) if ws.cell(row=r, column=1).value == "Rank (out of sample)")
    assert [ws.cell(row=header, column=j + 1).value for j in range(len(TABLE_COLUMNS))] == [h for _, h, _ in
                                                                                          TABLE_COLUMNS]
    funds = [ws.cell(row=header + i, column=2).value for i in range(1, 5)]
    assert funds == list(report.table["funds"][:4])
    sharpe = [ws.cell(row=header + i, column=4).value for i in range(1, 5)]
    assert sharpe == sorted(sharpe, reverse=True)
    assert ws.cell(row=header + 5, column=1).value is None  # top=4
    with zipfile.ZipFile(book) as archive:
        charts = _charts(archive)[SWEEP_SHEET]
        assert len(charts) == 1 and b"scatterChart>" in archive.read(charts[0])
    points = [ws.cell(row=r, column=19).value for r in range(5, 11)]
    assert sorted(points) == sorted(report.table["is_sharpe"])


def test_other_sheets_keep_formulas_cached_values_dynamic_arrays_and_charts(book):
    before = book.read_bytes()
    write_sweep_sheet(book, _tiny_report(), data="x")
    after = book.read_bytes()
    assert cached_formula_values(after, skip={SWEEP_SHEET}) == cached_formula_values(before)
    with zipfile.ZipFile(io.BytesIO(before)) as old, zipfile.ZipFile(io.BytesIO(after)) as new:
        assert _marks(new) == _marks(old) and sum(len(v) for v in _marks(old).values()) > 10
        assert new.read(METADATA_PART) == old.read(METADATA_PART)
        assert "metadata.xml" in new.read("xl/_rels/workbook.xml.rels").decode()
        charts_old, charts_new = _charts(old), _charts(new)
        assert set(charts_new) == set(charts_old) | {SWEEP_SHEET}
        for sheet, members in charts_old.items():
            assert [new.read(m) for m in charts_new[sheet]] == [old.read(m) for m in members], sheet
    names = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert names[-1] == SWEEP_SHEET and names[:-1] == openpyxl.load_workbook(io.BytesIO(before), read_only=True).sheetnames


def test_writing_again_replaces_the_sheet_in_its_place(book, report):
    write_sweep_sheet(book, report, top=2)
    write_sweep_sheet(book, report, top=3)
    wb = openpyxl.load_workbook(book, read_only=True)
    assert wb.sheetnames.count(SWEEP_SHEET) == 1 and wb.sheetnames[-1] == SWEEP_SHEET
    ws = wb[SWEEP_SHEET]
    header = next(r for r in range(1, 60) if ws.cell(row=r, column=1).value == "Rank (out of sample)")
    assert ws.cell(row=header + 3, column=1).value == 3 and ws.cell(row=header + 4, column=1).value is None


def test_a_failure_while_writing_leaves_the_file_unchanged(book, monkeypatch):
    import xlsector.workbook.sheet_sweep as sheet

    before = book.read_bytes()
    monkeypatch.setattr(sheet, "scatter_chart", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        write_sweep_sheet(book, _tiny_report())
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]  # no temporary file left


def test_a_workbook_open_in_excel_is_an_error_naming_it(book):
    (book.parent / f"~${book.name}").write_text("lock")
    with pytest.raises(XlsectorError, match="it is open in Excel or LibreOffice"):
        write_sweep_sheet(book, _tiny_report())


def _tiny_report():
    """A two-row report built by hand (the preservation tests need no real sweep)."""
    import pandas as pd

    from xlsector.sweep.report import SweepReport, TrialCount, rank_rows

    rows = pd.DataFrame({"id": [0, 1], "funds": ["A,B", "A,C"], "k": 2, "peak_tc": [50.0, 60.0],
                         "plateau_lo": [45.0, 55.0], "plateau_hi": [55.0, 65.0], "born_on": "2005-01-03",
                         "oos_cagr": [0.1, 0.12], "oos_sharpe": [0.5, 0.6], "oos_max_drawdown": [-0.3, -0.2],
                         "oos_trades": [10, 12], "current_tc": [50.0, 60.0], "is_tc": [50.0, 61.0],
                         "is_cagr": [0.11, 0.13], "is_sharpe": [0.55, 0.65], "bench_cagr": [0.08, 0.09]})
    spec = {"funds": ["A", "B", "C"], "choose": [2], "sample": None, "seed": None, "strategy": {},
            "tuning": {"tc_min": 2.0, "tc_max": 200.0, "tc_step": 1.0, "born_on": None, "retune_days": 125,
                       "defer": True}}
    return SweepReport(table=rank_rows(rows), spec=spec, store=Path("s.sqlite"), done=2, planned=3,
                       trials=TrialCount(combinations=2, tcs=199, tunings=80, trials=199 * 80), best=None, pbo=None,
                       notes=["partial"])
