"""Portfolio of strategies: rebalancing by hand, invariants, the allocation calculator by hand, the sources
against the core run alone, the CLI, the Excel function and the workbook block."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from xlsector.errors import ParameterError
from xlsector.portfolio import (
    Sleeve,
    allocate,
    combine,
    sleeve_from_profile,
    sleeve_from_rotation,
    sleeve_from_sweep,
)
from xlsector.portfolio.combine import rebalance_days


def _sleeve(name: str, returns: list[float], dates: pd.DatetimeIndex, position=None, prices=None) -> Sleeve:
    series = pd.Series(returns, index=dates, name="strategy")
    return Sleeve(name=name, returns=series, holdings=pd.Series("X", index=dates), position=position or {},
                  prices=prices or {}, source=name)


DATES = pd.DatetimeIndex(["2020-01-30", "2020-01-31", "2020-02-03", "2020-02-28", "2020-03-02", "2020-03-31",
                          "2020-04-01"])
A = [0.0, 0.10, -0.05, 0.02, 0.03, -0.01, 0.04]
B = [0.0, -0.02, 0.01, 0.00, -0.03, 0.05, 0.01]


# ------------------------------------------------------------------------------------------------ combining


def test_rebalance_days_are_the_last_market_days_of_months_and_quarters():
    monthly = rebalance_days(DATES, "monthly")
    quarterly = rebalance_days(DATES, "quarterly")
    assert list(DATES[monthly].strftime("%m-%d")) == ["01-31", "02-28", "03-31"]  # 2020-04-01 is not a month end
    assert list(DATES[quarterly].strftime("%m-%d")) == ["03-31"]
    assert not rebalance_days(DATES, "never").any()
    with pytest.raises(ParameterError, match="rebalance must be one of monthly, quarterly, never, got 'weekly'"):
        rebalance_days(DATES, "weekly")


def test_monthly_rebalancing_by_hand():
    result = combine([_sleeve("a", A, DATES), _sleeve("b", B, DATES)], [3, 1], rebalance="monthly")
    # by hand: values start 0.75 / 0.25; each close they grow; at the month-end closes (01-31, 02-28, 03-31)
    # they are reset to 75 % / 25 % of the total
    v = np.array([0.75, 0.25])
    expected = [1.0]
    for t in range(1, len(DATES)):
        v = v * (1 + np.array([A[t], B[t]]))
        expected.append(v.sum())
        if DATES[t].strftime("%m-%d") in ("01-31", "02-28", "03-31"):
            v = np.array([0.75, 0.25]) * v.sum()
    np.testing.assert_allclose(result.equity.to_numpy(), expected, rtol=0, atol=1e-15)
    assert result.weights == (0.75, 0.25)


def test_never_rebalanced_is_the_weighted_sum_of_the_growths():
    result = combine([_sleeve("a", A, DATES), _sleeve("b", B, DATES)], [0.4, 0.6], rebalance="never")
    growth = 0.4 * np.cumprod(1 + np.array(A)) + 0.6 * np.cumprod(1 + np.array(B))
    np.testing.assert_allclose(result.equity.to_numpy(), growth, rtol=1e-15)


@pytest.mark.parametrize("rule", ["monthly", "quarterly", "never"])
def test_one_strategy_is_the_portfolio_whatever_the_schedule(rule):
    result = combine([_sleeve("a", A, DATES)], rebalance=rule)
    np.testing.assert_allclose(result.returns.to_numpy(), A, rtol=0, atol=1e-15)


def test_sleeves_on_different_calendars_keep_their_growth_over_the_common_period():
    short = DATES.delete(3)  # b has no row on 2020-02-28: its move lands on 2020-03-02
    b = [0.0, -0.02, 0.01, -0.03, 0.05, 0.01]
    result = combine([_sleeve("a", A[1:], DATES[1:]), _sleeve("b", b, short)], rebalance="never")
    assert result.period == (DATES[1], DATES[-1])  # the later start (a starts 01-31) to the common end
    assert result.sleeve_returns.loc["2020-02-28", "b"] == 0.0
    assert (1 + result.sleeve_returns["b"]).prod() == pytest.approx(np.prod(1 + np.array(b[2:])), rel=1e-15)
    assert (1 + result.sleeve_returns["a"]).prod() == pytest.approx(np.prod(1 + np.array(A[2:])), rel=1e-15)


@pytest.mark.parametrize(("weights", "message"), [
    ([1], r"weights must give one weight per strategy \(2\), got 1"),
    ([1, 0], "weights must be numbers > 0, got 0.0"),
    ([1, float("nan")], "weights must be numbers > 0, got nan"),
])
def test_bad_weights_are_errors_naming_them(weights, message):
    with pytest.raises(ParameterError, match=message):
        combine([_sleeve("a", A, DATES), _sleeve("b", B, DATES)], weights)


def test_strategies_without_a_common_period_or_with_one_name_are_errors():
    early, late = DATES[:3], DATES[3:]
    with pytest.raises(ParameterError, match="the strategies share no period"):
        combine([_sleeve("a", A[:3], early), _sleeve("b", B[3:], late)])
    with pytest.raises(ParameterError, match="strategy names must be unique"):
        combine([_sleeve("a", A, DATES), _sleeve("a", B, DATES)])


def test_a_benchmark_with_a_duplicated_date_is_an_error_naming_it():
    """combine() and PORTFOLIO_TABLE: a benchmark range with one date twice is refused by name (pandas' "cannot
    reindex on an axis with duplicate labels" escaped from both before)."""
    from xlwings import XlwingsError

    from udfs.xlsector_udfs import PORTFOLIO_TABLE
    from xlsector.errors import DataError

    bench = pd.Series(np.linspace(100, 106, len(DATES)), index=DATES[[0, 1, 2, 2, 4, 5, 6]])
    with pytest.raises(DataError, match="benchmark SPY has duplicate dates; the first is 2020-02-03"):
        combine([_sleeve("a", A, DATES)], benchmark=bench, benchmark_label="SPY")
    days = pd.bdate_range("2018-01-01", periods=300)
    rng = np.random.default_rng(4)
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (300, 3)), axis=0)), index=days,
                          columns=["AAA", "BBB", "IDX"])
    cells = _cells(prices[["AAA", "BBB"]])
    index = _cells(prices[["IDX"]])
    index[101][0] = index[100][0]
    with pytest.raises(XlwingsError, match="duplicate dates"):
        PORTFOLIO_TABLE(cells, [["s", "AAA,BBB", 20]], None, None, None, index, None)


def test_correlation_is_that_of_the_daily_returns():
    result = combine([_sleeve("a", A, DATES), _sleeve("b", B, DATES)])
    assert result.correlation().at["a", "b"] == pytest.approx(np.corrcoef(A[1:], B[1:])[0, 1], rel=1e-12)


# ------------------------------------------------------------------------------------------------ allocation


def test_allocation_by_hand_whole_shares_and_cash():
    day = pd.Timestamp("2020-04-01")
    a = _sleeve("a", A, DATES, {"X": 1.0}, {"X": (33.0, day)})
    b = _sleeve("b", B, DATES, {"Y": 1.0}, {"Y": (7.0, day)})
    found = allocate([a, b], 10_000, [0.6, 0.4])
    table = found.table.set_index("fund")
    # 6000 / 33 = 181.8 -> 181 shares = 5973; 4000 / 7 = 571.4 -> 571 shares = 3997; cash 10000 - 9970 = 30
    assert (table.at["X", "shares"], table.at["X", "value"]) == (181, 5973.0)
    assert (table.at["Y", "shares"], table.at["Y", "value"]) == (571, 3997.0)
    assert found.cash == pytest.approx(30.0, abs=1e-9) and table.at["CASH", "value"] == pytest.approx(30.0)
    assert table["value"].sum() == pytest.approx(10_000, abs=1e-9)


def test_allocation_adds_up_a_fund_two_strategies_hold_and_keeps_cash_for_a_strategy_in_cash():
    day = pd.Timestamp("2020-04-01")
    a = _sleeve("a", A, DATES, {"X": 1.0}, {"X": (10.0, day)})
    b = _sleeve("b", B, DATES, {"X": 1.0}, {"X": (10.0, day)})
    c = _sleeve("c", B, DATES, {}, {})  # StormGuard bear state without bear funds: cash
    found = allocate([a, b, c], 900, whole_shares=False)
    table = found.table.set_index("fund")
    assert table.at["X", "shares"] == pytest.approx(60.0) and table.at["X", "strategies"] == "a, b"
    assert table.at["CASH", "target"] == pytest.approx(300.0) and table.at["CASH", "strategies"] == "c"
    with pytest.raises(ParameterError, match="amount must be a number > 0"):
        allocate([a], 0)


# ------------------------------------------------------------------------------------------------ sources


@pytest.fixture(scope="module")
def etf(etf_prices):
    from xlsector.data import validate_prices

    return validate_prices(etf_prices, jump_threshold=None)[0]


def test_a_profile_sleeve_is_the_profile_backtest(etf):
    from xlsector.profiles import load_profile, run_profile

    sleeve = sleeve_from_profile("sectorsurfer_trend", etf)
    run = run_profile(load_profile("sectorsurfer_trend"), etf)
    pd.testing.assert_series_equal(sleeve.returns, run.returns)
    assert sleeve.position == ({} if run.result.targets.iloc[-1] == "CASH" else {run.result.targets.iloc[-1]: 1.0})
    assert set(sleeve.prices) >= set(sleeve.funds) and sleeve.prices["XLK"][1] == etf.index[-1]


def test_a_sweep_row_sleeve_is_the_fwpt_walk_forward_of_its_funds(etf, tmp_path):
    from xlsector.params import TuningParams
    from xlsector.sweep import SweepSpec, run_sweep
    from xlsector.tuning import fwpt

    tuning = TuningParams(tc_min=20, tc_max=140, tc_step=10)
    report = run_sweep(etf, SweepSpec(funds=("XLB", "XLE", "XLK"), choose=(2,), tuning=tuning),
                       store=tmp_path / "s.sqlite", in_process=True, pbo_blocks=4)
    sleeve = sleeve_from_sweep(tmp_path / "s.sqlite", etf, rank=2)
    funds = report.table.at[1, "funds"].split(",")
    walk = fwpt(etf[funds], tcs=tuning.tcs)
    np.testing.assert_array_equal(sleeve.returns.to_numpy(), walk.returns.to_numpy())
    assert sleeve.name == f"sweep #2 {','.join(funds)}" and "out of sample" in sleeve.sample
    same = sleeve_from_sweep(tmp_path / "s.sqlite", etf, funds=list(reversed(funds)))
    assert same.name == sleeve.name
    with pytest.raises(ParameterError, match=r"rank must be from 1 to 3 \(the sweep's combinations\), got 4"):
        sleeve_from_sweep(tmp_path / "s.sqlite", etf, rank=4)


def test_portfolio_metrics_of_each_strategy_are_its_own_over_the_common_period(etf):
    from xlsector.measures import metrics_after_start

    fixed = sleeve_from_rotation("growth", etf, ["XLK", "XLY", "XLE"], tc=50)
    tuned = sleeve_from_rotation("defensive", etf, ["XLP", "XLU", "XLV"], tc=None)
    result = combine([fixed, tuned], [2, 1], rebalance="quarterly", benchmark=etf["SPY"], benchmark_label="SPY")
    start = tuned.start  # FWPT's born-on date: the later start
    assert result.period[0] == start
    own = fixed.returns.loc[start:].copy()
    own.iloc[0] = 0.0
    table = result.metrics()
    expected = metrics_after_start(own)["strategy"]  # own's first row is the start point
    for label in ("CAGR", "Sharpe ratio", "Max drawdown"):
        assert table.at[label, "growth"] == pytest.approx(expected[label], rel=1e-12)
    spy = etf["SPY"].loc[start:]
    assert table.at["Total return", "benchmark (SPY)"] == pytest.approx(spy.iloc[-1] / spy.iloc[0] - 1, rel=1e-12)


# ------------------------------------------------------------------------------------------------ CLI


@pytest.fixture()
def cli(tmp_path, monkeypatch, capsys, shared_data):
    from xlsector.cli import main

    monkeypatch.setenv("XLSECTOR_HOME", str(tmp_path / "home"))
    prices = str(shared_data / "etf_adjclose_daily.csv")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["portfolio", "--prices", prices, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cli_portfolio_prints_metrics_correlation_and_the_allocation(cli):
    code, out, err = cli("--strategy", "profile:sectorsurfer_trend", "--strategy", "funds:XLP,XLU,XLV@60",
                         "--weights", "3,1", "--rebalance", "quarterly", "--benchmark", "SPY", "--amount", "50000",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [s["weight"] for s in data["strategies"]] == [0.75, 0.25] and data["rebalance"] == "quarterly"
    allocation = data["allocation"]
    assert sum(row["value"] for row in allocation["table"]) == pytest.approx(50_000, abs=1e-6)
    assert all(row["shares"] == int(row["shares"]) for row in allocation["table"] if row["fund"] != "CASH")
    assert {row["metric"] for row in data["metrics"]} >= {"CAGR", "Sharpe ratio", "Max drawdown"}
    assert data["metrics"][0].keys() >= {"portfolio", "sectorsurfer_trend", "XLP,XLU,XLV tc 60", "benchmark (SPY)"}


@pytest.mark.parametrize(("argv", "line"), [
    (["--strategy", "fund:XLK"], "Error: --strategy must be one of profile:NAME, sweep:STORE[#RANK or #A,B,C], "
                                 "workbook:FILE, funds:A,B,C[@TC], got 'fund:XLK'"),
    (["--strategy", "funds:XLK,XLE", "--weights", "1,2"],
     "Error: weights must give one weight per strategy (1), got 2"),
    (["--strategy", "funds:XLK,XLE", "--rebalance", "weekly"],
     "Error: --rebalance must be one of monthly, quarterly, never, got 'weekly'"),
    (["--strategy", "funds:XLK,XLE", "--amount", "-5"], "Error: --amount must be a number > 0, got '-5'"),
    (["--strategy", "funds:XLK,XLQ@50"], "Error: strategy XLK,XLQ tc 50: fund 'XLQ' is not a column of the prices"),
    ([], "Error: --strategy is required (at least one): profile:NAME, sweep:STORE[#RANK or #A,B,C], "
         "workbook:FILE, funds:A,B,C[@TC]"),
])
def test_cli_bad_input_is_one_error_line(cli, argv, line):
    assert cli(*argv) == (1, "", line + "\n")


# ------------------------------------------------------------------------------------------------ Excel, workbook


def _cells(prices: pd.DataFrame) -> list[list]:
    frame = prices.reset_index()
    return [["Date", *prices.columns]] + frame.astype(object).where(frame.notna(), None).values.tolist()


def test_portfolio_table_function_allocates_as_the_library(etf):
    from xlwings import XlwingsError

    from udfs.xlsector_udfs import PORTFOLIO_TABLE

    cells = _cells(etf.loc["2010-01-01":, ["XLK", "XLE", "XLP", "XLU", "SPY"]])
    strategies = [["Name", "Funds", "tc", "Hysteresis"], ["Growth", "XLK,XLE", 50, None], ["Calm", "XLP,XLU", 40, 0.02]]
    out = PORTFOLIO_TABLE(cells, strategies, [[2], [1]], "never", 30_000, None, "allocation")
    growth = sleeve_from_rotation("Growth", etf.loc["2010-01-01":], ["XLK", "XLE"], tc=50)
    calm = sleeve_from_rotation("Calm", etf.loc["2010-01-01":], ["XLP", "XLU"], tc=40, hysteresis=0.02)
    expected = allocate([growth, calm], 30_000, [2, 1]).table
    assert out[0][0] == "Fund" and [r[0] for r in out[1:]] == list(expected["fund"])
    assert [r[5] for r in out[1:]] == pytest.approx(list(expected["shares"]))
    metrics = PORTFOLIO_TABLE(cells, strategies, None, "monthly", None, "SPY", None)
    assert metrics[0][:4] == ["Metric", "portfolio", "Growth", "Calm"] and metrics[0][4] == "benchmark (SPY)"
    with pytest.raises(XlwingsError, match="amount is required for part allocation"):
        PORTFOLIO_TABLE(cells, strategies, None, None, None, None, "allocation")
    with pytest.raises(XlwingsError, match=r"strategies row 2: the second cell must list funds"):
        PORTFOLIO_TABLE(cells, [["G", "XLK", 50], ["H", 3, 50]], None, None, None, None, None)


def test_portfolio_sheet_holds_the_tables(etf, tmp_path):
    import openpyxl

    from xlsector.workbook.sheet_portfolio import PORTFOLIO_SHEET, write_portfolio_sheet
    from xlsector.workbook.template import write_template

    book = write_template(tmp_path / "book.xlsx")
    sleeves = [sleeve_from_rotation("Growth", etf, ["XLK", "XLE"], tc=50),
               sleeve_from_rotation("Calm", etf, ["XLP", "XLU"], tc=40)]
    result = combine(sleeves, [1, 1], benchmark=etf["SPY"], benchmark_label="SPY")
    found = allocate(sleeves, 10_000)
    write_portfolio_sheet(book, result, found)
    ws = openpyxl.load_workbook(book, read_only=True)[PORTFOLIO_SHEET]
    cells: dict = {}
    for row in ws.iter_rows(min_row=1, max_row=60, max_col=9, values_only=True):
        if row[0]:
            cells.setdefault(row[0], row[1:])  # the first table naming it (strategies before correlation)
    assert cells["Growth"][0] == pytest.approx(0.5) and cells["Calm"][0] == pytest.approx(0.5)
    assert cells["CAGR"][0] == pytest.approx(result.metrics().at["CAGR", "portfolio"], rel=1e-12)
    assert cells["CASH"][5] == pytest.approx(found.cash)
    assert math.isclose(sum(r for r in (cells[f][5] for f in found.table["fund"])), 10_000, abs_tol=1e-6)
