"""The sweep without a cluster: the plan, the checks before any work, one combination's row against the core
run alone, the store, the report's figures against the overfitting functions called directly, the CLI's
errors. The Dask runs are in tests/test_sweep_cluster.py."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from xlsector.errors import DataError, ParameterError, XlsectorError
from xlsector.params import TuningParams
from xlsector.sweep import SweepSpec, choose_values, run_sweep
from xlsector.sweep.evaluate import SweepData, SweepRow, evaluate, returns_from_runs
from xlsector.sweep.plan import _count_short, check_spec, count_combinations, make_plan, unrank
from xlsector.sweep.report import asset_returns, build_report, oos_returns, rank_rows
from xlsector.sweep.store import SweepStore

SECTORS = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "XLC", "XLRE", "SPY")


# ------------------------------------------------------------------------------------------------ the plan


@pytest.mark.parametrize(("text", "values"), [("4", (4,)), (4, (4,)), ("3-5", (3, 4, 5)), ("5,3", (3, 5)),
                                              ("2-3,5", (2, 3, 5)), ([2, 2], (2,))])
def test_choose_values_reads_a_k_a_range_or_a_list(text, values):
    assert choose_values(text) == values


@pytest.mark.parametrize("text", ["", "x", "0", "5-3", "-1", True, "2-"])
def test_choose_values_rejects_what_is_not_k(text):
    with pytest.raises(ParameterError, match="choose must be a whole number >= 1 or a range"):
        choose_values(text)


@pytest.mark.parametrize(("n", "k"), [(7, 3), (5, 1), (6, 6), (9, 4)])
def test_unrank_gives_itertools_lexicographic_order(n, k):
    expected = list(combinations(range(n), k))
    assert [unrank(r, n, k) for r in range(math.comb(n, k))] == expected


def test_plan_of_every_combination_is_k_ascending_then_lexicographic():
    spec = SweepSpec(funds=("A", "B", "C", "D", "E"), choose=(2, 3))
    plan = make_plan(spec)
    assert len(plan) == count_combinations(5, (2, 3)) == 10 + 10
    assert plan[:3] == [("A", "B"), ("A", "C"), ("A", "D")]
    assert plan[10] == ("A", "B", "C") and plan[-1] == ("C", "D", "E")


def test_sample_draws_distinct_combinations_in_plan_order_reproducibly():
    funds = tuple(f"F{i:02d}" for i in range(30))
    spec = SweepSpec(funds=funds, choose=(4, 5), sample=200, seed=7)
    plan = make_plan(spec)
    everything = [tuple(funds[i] for i in c) for k in (4, 5) for c in combinations(range(30), k)]
    position = {c: i for i, c in enumerate(everything)}
    assert len(set(plan)) == 200
    assert [position[c] for c in plan] == sorted(position[c] for c in plan)  # every draw is a real combination
    assert make_plan(spec) == plan
    assert make_plan(SweepSpec(funds=funds, choose=(4, 5), sample=200, seed=8)) != plan
    assert {len(c) for c in plan} == {4, 5}


def _young_old(n_young: int, n_old: int, k: int) -> int:
    """Brute force: combinations with at most one old fund (too short for FWPT)."""
    kinds = ["young"] * n_young + ["old"] * n_old
    return sum(1 for c in combinations(range(len(kinds)), k) if sum(kinds[i] == "old" for i in c) <= 1)


@pytest.mark.parametrize(("n_young", "n_old", "k"), [(2, 3, 2), (3, 4, 3), (1, 5, 2), (4, 0, 2), (2, 2, 1)])
def test_count_of_short_combinations_equals_brute_force(n_young, n_old, k):
    dates = pd.bdate_range("2010-01-01", periods=3000)
    first = pd.Series([dates[-100]] * n_young + [dates[0]] * n_old, index=[f"F{i}" for i in range(n_young + n_old)])
    spec = SweepSpec(funds=tuple(first.index), choose=(k,))
    expected = _young_old(n_young, n_old, k) if k > 1 else n_young
    assert _count_short(first, spec, dates[-1]) == expected


# ------------------------------------------------------------------------------------------------ checks


@pytest.fixture(scope="module")
def etf(etf_prices):
    from xlsector.data import validate_prices

    prices, _ = validate_prices(etf_prices, jump_threshold=None)
    return prices


def test_k_larger_than_the_list_is_an_error_naming_choose(etf):
    with pytest.raises(ParameterError, match=r"choose \(K\) must be at most the number of candidate funds \(3\), got 4"):
        check_spec(etf, SweepSpec(funds=("XLB", "XLE", "XLF"), choose=(4,)))


def test_a_fund_not_in_the_prices_is_an_error_naming_it(etf):
    with pytest.raises(ParameterError, match="funds names 'XLQ', which is not a column of the prices"):
        check_spec(etf, SweepSpec(funds=("XLB", "XLQ"), choose=(2,)))


def test_fewer_than_five_years_of_data_for_fwpt_is_an_error_counting_the_combinations(etf):
    # to 2022-06-30 XLC (from 2018-06-19) has four years, XLRE (from 2015-10-08) six: the data start of a pair is
    # its second fund's first price, so XLB,XLC and XLC,XLRE are too short for FWPT, XLB,XLRE is not
    short = etf.loc[:"2022-06-30"]
    with pytest.raises(DataError, match=r"fewer than five years of data for FWPT in 2 combination\(s\): the first, "
                                        r"XLC,XLRE"):
        check_spec(short, SweepSpec(funds=("XLB", "XLC", "XLRE"), choose=(2,)))
    check_spec(short, SweepSpec(funds=("XLB", "XLE", "XLRE"), choose=(2,)))  # XLRE has six years and 8 months


def test_born_on_before_five_years_of_the_youngest_combination_is_an_error(etf):
    with pytest.raises(DataError, match="combination XLC,XLRE starts 2015-10-08.*on or after 2020-10-08"):
        check_spec(etf, SweepSpec(funds=("XLB", "XLC", "XLRE"), choose=(2,),
                                  tuning=TuningParams(born_on="2019-01-02")))


@pytest.mark.parametrize(("changes", "message"), [
    ({"bear": ("XLE",)}, "bear names 'XLE', which is also a candidate fund"),
    ({"sample": 20}, r"sample must be at most the number of combinations \(10\), got 20"),
    ({"sample": 0}, "sample must be a whole number >= 1, got 0"),
    ({"seed": -1}, "seed must be a whole number >= 0"),
    ({"strategy": {"stormguard": "standard"}}, "stormguard needs index"),
    ({"strategy": {"tc": 50}}, "strategy must not set tc"),
    ({"strategy": {"hysteresis": -1}}, "hysteresis must be a number >= 0"),
    ({"strategy": {"colour": 1}}, "unknown strategy parameter 'colour'"),
    ({"funds": ("XLB", "XLB", "XLE")}, "funds names 'XLB' twice"),
    ({"index": "NOPE", "strategy": {"stormguard": "quick"}}, "index names 'NOPE'"),
])
def test_bad_arguments_are_errors_naming_them(etf, changes, message):
    base = {"funds": ("XLB", "XLE", "XLF", "XLI", "XLK"), "choose": (2,)}
    with pytest.raises(ParameterError, match=message):
        check_spec(etf, SweepSpec(**(base | changes)))


# ------------------------------------------------------------------------------------------------ one row


def _spec(**changes):
    base = {"funds": SECTORS, "choose": (4,), "strategy": {"hysteresis": 0.01}}
    return SweepSpec(**(base | changes))


def test_a_row_equals_trend_chart_and_fwpt_run_alone_with_stormguard_and_a_bear_fund(etf):
    from xlsector.measures import count_trades
    from xlsector.tuning import fwpt, trend_chart

    spec = check_spec(etf, _spec(strategy={"stormguard": "standard", "cost_bp": 25.0}, index="SPY", bear=("TLT",),
                                 tuning=TuningParams(tc_min=10, tc_max=120, tc_step=5, retune_days=100)))
    funds = ("XLE", "XLK", "XLU", "XLV")
    row = evaluate(SweepData.from_spec(etf, spec), 3, funds)
    kwargs = {"index": etf["SPY"], "bear": etf[["TLT"]], "stormguard": "standard", "cost_bp": 25.0}
    tcs = spec.tcs
    chart = trend_chart(etf[list(funds)], tcs=tcs, **kwargs)
    walk = fwpt(etf[list(funds)], tcs=tcs, retune_days=100, **kwargs)
    table = walk.metrics()
    assert (row.peak_tc, row.plateau_lo, row.plateau_hi) == (chart.peak_tc, *chart.plateau)
    assert row.is_tc == walk.in_sample_tc and row.current_tc == walk.current_tc
    for field, label, column in [("oos_cagr", "CAGR", "walk_forward"), ("oos_sharpe", "Sharpe ratio", "walk_forward"),
                                 ("oos_max_drawdown", "Max drawdown", "walk_forward"),
                                 ("is_cagr", "CAGR", "in_sample_best"), ("is_sharpe", "Sharpe ratio", "in_sample_best"),
                                 ("bench_cagr", "CAGR", "benchmark")]:
        assert getattr(row, field) == pytest.approx(table.at[label, column], abs=1e-12), field
    assert row.oos_trades == table.at["Trades", "walk_forward"] == count_trades(walk.holdings)
    assert row.tunings == walk.retunes["tries"].sum() and row.tunings >= len(walk.retunes)
    assert "TLT" in row.holdings or "CASH" in row.holdings  # StormGuard's bear state was used
    # the run-length encoded holdings give back FWPT's returns exactly (TLT and CASH included)
    every = asset_returns(etf, ["XLE", "XLK", "XLU", "XLV", "TLT"])
    rebuilt = returns_from_runs(row.holdings, every.loc[walk.returns.index[0]:], 25.0)
    np.testing.assert_array_equal(rebuilt.to_numpy(), walk.returns.to_numpy())


def test_returns_from_runs_charges_the_cost_on_each_change_of_holding():
    dates = pd.bdate_range("2020-01-01", periods=5)
    returns = pd.DataFrame({"A": [0.0, 0.01, 0.02, 0.03, 0.04], "B": [0.0, -0.01, -0.02, -0.03, -0.04],
                            "CASH": 0.0}, index=dates)
    out = returns_from_runs("0:A 2:B 4:CASH", returns, 100.0)  # 1 % a trade
    # day 0 start point; day 1 A; day 2 B with the cost; day 3 B; day 4 CASH with the cost
    expected = [0.0, 0.01, (1 - 0.02) * 0.99 - 1, -0.03, 1 * 0.99 - 1]
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=0, atol=1e-15)


# ------------------------------------------------------------------------------------------------ the store


def _row(i: int, **changes) -> SweepRow:
    values = {"id": i, "funds": f"A{i},B", "k": 2, "peak_tc": 50.0, "plateau_lo": 40.0, "plateau_hi": 60.0,
              "plateau_count": 21, "peak_on_edge": False, "peak_cagr": 0.1, "born_on": "2005-01-03",
              "oos_end": "2010-01-04", "oos_days": 1000, "oos_cagr": 0.05, "oos_sharpe": 0.5,
              "oos_max_drawdown": -0.2, "oos_trades": 10, "current_tc": 50.0, "tunings": 12, "adopted": 3,
              "is_tc": 55.0, "is_cagr": 0.07, "is_sharpe": 0.6, "is_max_drawdown": -0.18, "is_trades": 8,
              "bench_cagr": 0.04, "bench_sharpe": 0.4, "sr": 0.03,
              "holdings": "0:A", "tc_path": "0:50.0"}
    return SweepRow(**(values | changes))


def test_store_keeps_each_combination_once_and_lists_what_is_left(tmp_path):
    path = tmp_path / "s.sqlite"
    plan = [("A0", "B"), ("A1", "B"), ("A2", "B")]
    with SweepStore.create(path, spec={"x": 1}, fingerprint="f", plan=plan) as store:
        assert store.add([_row(0), _row(2, oos_sharpe=float("nan"))]) == 2
        assert store.add([_row(0, oos_cagr=9.0)]) == 0  # a second result for id 0 (a task run twice) is ignored
        assert store.todo() == [(1, ("A1", "B"))]
        assert store.count() == (2, 3)
    with SweepStore.open(path, spec={"x": 1}, fingerprint="f") as store:
        frame = store.frame()
    assert list(frame["id"]) == [0, 2] and frame.at[0, "oos_cagr"] == 0.05
    assert math.isnan(frame.at[1, "oos_sharpe"]) and frame["peak_on_edge"].dtype == bool
    assert frame.iloc[0].to_dict() == _row(0).to_dict()


def test_store_refuses_another_sweep_other_prices_and_an_existing_file(tmp_path):
    path = tmp_path / "s.sqlite"
    SweepStore.create(path, spec={"choose": [2]}, fingerprint="f", plan=[("A", "B")]).close()
    with pytest.raises(XlsectorError, match=r"holds another sweep: choose was \[2\], now \[3\]"):
        SweepStore.open(path, spec={"choose": [3]}, fingerprint="f")
    with pytest.raises(XlsectorError, match="was made from other prices"):
        SweepStore.open(path, spec={"choose": [2]}, fingerprint="g")
    with pytest.raises(XlsectorError, match="exists: resume it"):
        SweepStore.create(path, spec={"choose": [2]}, fingerprint="f", plan=[("A", "B")])
    with pytest.raises(XlsectorError, match="no sweep store at"):
        SweepStore.open(tmp_path / "none.sqlite")


def test_a_batch_interrupted_while_stored_leaves_no_row(tmp_path):
    class Boom(SweepRow):
        @property
        def tc_path(self):  # read last while the batch is converted: the interrupt lands mid-batch
            raise KeyboardInterrupt

    with SweepStore.create(tmp_path / "s.sqlite", spec={}, fingerprint="f", plan=[("A0", "B"), ("A1", "B")]) as store:
        bad = _row(1)
        object.__setattr__(bad, "__class__", Boom)
        with pytest.raises(KeyboardInterrupt):
            store.add([_row(0), bad])
        assert store.count() == (0, 2)


# ------------------------------------------------------------------------------------------------ the report


@pytest.fixture(scope="module")
def small_sweep(etf, tmp_path_factory):
    """Six combinations evaluated in this process (no Dask): the report's inputs."""
    spec = _spec(funds=("XLB", "XLE", "XLK", "XLU"), choose=(2,),
                 tuning=TuningParams(tc_min=20, tc_max=140, tc_step=10))
    path = tmp_path_factory.mktemp("sweep") / "s.sqlite"
    report = run_sweep(etf, spec, store=path, in_process=True, pbo_blocks=8)
    return spec, report


def test_rows_are_ranked_by_out_of_sample_sharpe_then_cagr_then_plan_order():
    frame = pd.DataFrame({"id": [0, 1, 2, 3, 4], "oos_sharpe": [0.5, np.nan, 0.7, 0.5, 0.5],
                          "oos_cagr": [0.1, 0.9, 0.05, 0.2, 0.1], "is_sharpe": [9, 9, 9, 9, 9]})
    ranked = rank_rows(frame)
    assert list(ranked["id"]) == [2, 3, 0, 4, 1] and list(ranked["rank"]) == [1, 2, 3, 4, 5]


def test_trial_count_is_tcs_times_the_tunings_of_every_walk(small_sweep):
    _, report = small_sweep
    assert report.done == report.planned == 6
    assert report.trials.tcs == 13  # tc 20..140 step 10
    assert report.trials.trials == 13 * int(report.table["tunings"].sum())
    assert report.trials.combinations == 6


def test_dsr_of_the_best_is_deflated_sharpe_of_its_returns_with_n_and_the_variance_of_the_combinations(etf, small_sweep):
    from xlsector.overfitting import deflated_sharpe, sharpe_stats
    from xlsector.tuning import fwpt

    spec, report = small_sweep
    best = report.table.iloc[0]
    assert best["oos_sharpe"] == report.table["oos_sharpe"].max()
    walk = fwpt(etf[best["funds"].split(",")], tcs=spec.tcs, hysteresis=0.01)
    sr, n, skew, kurt = sharpe_stats(walk.returns.to_numpy()[1:])
    srs = [sharpe_stats(fwpt(etf[f.split(",")], tcs=spec.tcs, hysteresis=0.01).returns.to_numpy()[1:])[0]
           for f in report.table["funds"]]
    expected = deflated_sharpe(sr, n, report.trials.trials, np.var(srs, ddof=1), skew=skew, kurtosis=kurt)
    assert report.best.dsr == pytest.approx(expected, abs=1e-12)
    assert report.best.dsr < report.best.psr  # N >= 2 deflates


def test_pbo_is_pbo_of_the_out_of_sample_returns_of_each_combination_run_alone(etf, small_sweep):
    from xlsector.overfitting import pbo
    from xlsector.tuning import fwpt

    spec, report = small_sweep
    frame = report.table.sort_values("id")
    alone = pd.DataFrame({f: fwpt(etf[f.split(",")], tcs=spec.tcs, hysteresis=0.01).returns.iloc[1:]
                          for f in frame["funds"]})
    rebuilt = oos_returns(frame, etf, spec.to_dict())
    np.testing.assert_array_equal(rebuilt.to_numpy(), alone.to_numpy())
    expected = pbo(alone, blocks=8)
    assert report.pbo.pbo == expected.pbo and report.pbo.columns == 6 and report.pbo.blocks == 8
    assert report.pbo.n_obs == len(alone) and report.pbo.start == pd.Timestamp("2003-12-22")


def test_pbo_takes_a_seeded_subset_above_pbo_max(etf, small_sweep):
    spec, report = small_sweep
    again = build_report(report.table.drop(columns="rank"), etf, spec.to_dict(), store=report.store, planned=6,
                         n_tcs=13, pbo_blocks=8, pbo_max=4)
    assert again.pbo.columns == 4 and again.pbo.of == 6
    assert any("random subset of 4 of the 6" in note for note in again.notes)


# ------------------------------------------------------------------------------------------------ the CLI


@pytest.fixture()
def cli(tmp_path, monkeypatch, capsys):
    from xlsector.cli import main

    monkeypatch.setenv("XLSECTOR_HOME", str(tmp_path / "home"))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["sweep", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.mark.parametrize(("argv", "line"), [
    (["--funds", "XLB,XLE,XLF", "--choose", "4"],
     "Error: --choose 4: K must be at most the number of candidate funds (3 in --funds), got 4"),
    (["--funds", "XLB,XLQ", "--choose", "2"],
     "Error: funds names 'XLQ', which is not a column of the prices (columns: XLB, XLC, XLE, XLF, XLI, XLK, XLP, "
     "XLRE, XLU, XLV, XLY, SPY, TLT, AGG)"),
    (["--funds", "XLB,XLE", "--choose", "2", "--born-on", "2000-06-30"],
     "Error: born_on must be at least five years after the first price of every combination's oldest fund; "
     "combination XLB,XLE starts 1998-12-22, so born_on must be on or after 2003-12-22, got 2000-06-30"),
    (["--funds", "XLB,XLE", "--choose", "two"], "Error: --choose must be a whole number >= 1 or a range like 3-5, "
                                                "got 'two'"),
    (["--funds", "XLB,XLE", "--choose", "2", "--batch", "0"], "Error: --batch must be a whole number >= 1, got '0'"),
    (["--funds", "XLB,XLE", "--choose", "2", "--output", "x.txt"],
     "Error: --output must name a .csv or .parquet file, got 'x.txt'"),
    (["--choose", "2"], "Error: --funds A,B,... is required (the candidate funds), or a --profile with funds"),
    # was accepted and ignored: the sweep ran without StormGuard
    (["--funds", "XLB,XLE", "--choose", "2", "--index", "NOPE"],
     "Error: --index NOPE is StormGuard's index, and StormGuard is off; add --stormguard standard (or quick), or "
     "leave --index out"),
])
def test_cli_bad_input_is_one_error_line_and_no_store(cli, shared_data, tmp_path, argv, line):
    store = tmp_path / "s.sqlite"
    code, out, err = cli("--prices", str(shared_data / "etf_adjclose_daily.csv"), "--store", str(store), *argv)
    assert (code, out, err) == (1, "", line + "\n")
    assert not store.exists() and not (tmp_path / "home" / "sweeps").exists()


def test_cli_too_little_data_for_fwpt_is_an_error_before_any_work(cli, etf, tmp_path):
    short = tmp_path / "short.csv"
    etf.loc[:"2022-06-30"].to_csv(short, index_label="Date")
    code, out, err = cli("--prices", str(short), "--funds", "XLB,XLC,XLRE", "--choose", "2", "--store",
                         str(tmp_path / "s.sqlite"))
    assert code == 1 and out == ""
    assert err.startswith("Error: fewer than five years of data for FWPT in 2 combination(s): the first, XLC,XLRE, "
                          "has prices of two funds from 2018-06-19 and the data end 2022-06-30")
    assert err.count("\n") == 1 and not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_output_table_round_trips_every_ranked_row(small_sweep, tmp_path, suffix):
    """--output writes the ranked table (CSV, or parquet through pyarrow, which the test extra installs)."""
    from xlsector.commands.sweep import _write_table

    table = small_sweep[1].table
    path = tmp_path / f"table{suffix}"
    _write_table(table, path)
    back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert list(back["funds"]) == list(table["funds"]) and len(back) == 6
    np.testing.assert_allclose(back["oos_sharpe"].to_numpy(float), table["oos_sharpe"].to_numpy(float), rtol=1e-15)
