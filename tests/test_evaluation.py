"""xlsector.evaluation: the overfitting statistics of each surface equal a direct computation with
xlsector.overfitting on the same trials, with N counted as docs/overfitting.md says; bad input is an error
naming the argument or NaN with its reason."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from xlsector.backtesting import run_backtest_grid
from xlsector.errors import DataError, ParameterError
from xlsector.evaluation import (
    experiment_report,
    fwpt_report,
    grid_report,
    progressive_report,
    split_sample_report,
    track_record_report,
    trend_chart_report,
)
from xlsector.overfitting import (
    deflated_sharpe,
    expected_max_sharpe,
    pbo,
    probabilistic_sharpe,
    sharpe_ratios,
    sharpe_stats,
)
from xlsector.tuning import fwpt, progressive_tune, split_sample, trend_chart


def _walks(n: int = 2200, m: int = 4, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2001-01-01", periods=n)
    drift = np.linspace(0.0001, 0.0006, m)
    return pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(drift, 0.012, (n, m)), axis=0)), index=dates,
                        columns=[f"F{j}" for j in range(m)])


@pytest.fixture(scope="module")
def setup():
    prices = _walks()
    tcs = list(range(5, 61, 5))
    grid = run_backtest_grid(prices, tcs)
    return prices, tcs, grid


def test_trend_chart_report_equals_the_overfitting_module(setup):
    prices, tcs, grid = setup
    chart = trend_chart(prices, grid=grid)
    report = trend_chart_report(chart, grid)
    matrix = grid.returns[:, 1:].T  # every tc a trial, every row a return
    peak = tcs.index(chart.peak_tc)
    sr, n, skew, kurt = sharpe_stats(matrix[:, peak])
    var = np.var(sharpe_ratios(matrix), ddof=1)
    assert report.n_trials == len(tcs)  # N = the grid size
    assert report.n_obs == n == len(grid.dates) - 1
    assert report.sr == sr and report.kurtosis == kurt  # raw kurtosis, as the module's
    assert report.psr == pytest.approx(probabilistic_sharpe(sr, n, skew, kurt), rel=1e-12)
    assert report.sr0 == pytest.approx(expected_max_sharpe(len(tcs), var), rel=1e-12)
    assert report.dsr == pytest.approx(deflated_sharpe(sr, n, len(tcs), var, skew, kurt), rel=1e-12)
    assert report.dsr < report.psr  # the selection costs
    # PBO: selecting by the chart's score = the mean daily log return of each half
    direct = pbo(np.log1p(matrix), blocks=16, metric="mean")
    assert report.pbo is not None and report.pbo.pbo == direct.pbo
    np.testing.assert_array_equal(report.pbo.logits, direct.logits)
    # every figure is labelled with its definition; N and the conventions are stated
    rows = {label: (value, text) for label, value, text in report.rows()}
    assert rows["Trials N"][0] == len(tcs) and "every tc of the grid" in rows["Trials N"][1]
    assert f"DSR (N = {len(tcs)})" in rows
    assert "raw kurtosis" in rows["Conventions"][0] and "per day" in rows["Conventions"][0]


def test_more_trials_deflate_more(setup):
    prices, _, grid = setup
    chart = trend_chart(prices, grid=grid)
    few = trend_chart_report(chart, grid)
    many = trend_chart_report(chart, grid, n_trials=5000)
    assert many.n_trials == 5000 and many.dsr < few.dsr and many.psr == few.psr
    with pytest.raises(ParameterError, match="n_trials must be a number >= 1"):
        trend_chart_report(chart, grid, n_trials=0)


def test_fwpt_report_counts_every_tuning(setup):
    prices, tcs, grid = setup
    result = fwpt(prices, born_on="2006-01-02", retune_days=60, grid=grid)
    report = fwpt_report(result, grid)
    tunings = int(result.retunes["tries"].sum())
    assert tunings >= len(result.retunes) > 5
    assert report.n_trials == len(tcs) * tunings  # grid size x tunings, deferred re-tries included
    walk = result.returns.to_numpy()[1:]  # after the born-on date only
    sr, n, skew, kurt = sharpe_stats(walk)
    assert report.n_obs == n and report.psr == pytest.approx(probabilistic_sharpe(sr, n, skew, kurt), rel=1e-12)
    t0 = grid.dates.get_loc(result.born_on)
    var = np.var(sharpe_ratios(grid.returns[:, t0 + 1 :].T), ddof=1)  # the trials over the same days
    assert report.dsr == pytest.approx(deflated_sharpe(sr, n, len(tcs) * tunings, var, skew, kurt), rel=1e-12)
    assert report.pbo is not None and report.pbo.n_trials == len(tcs) and report.pbo.n_obs == len(grid.dates) - 1


def test_one_trial_zero_variance_and_short_data_give_nan_with_a_reason():
    rng = np.random.default_rng(1)
    single = track_record_report(rng.normal(0.001, 0.01, 500), subject="fixed", selected_label="x")
    assert single.n_trials == 1 and math.isnan(single.dsr) and "N = 1" in single.notes["dsr"]
    assert single.psr > 0.5 and single.pbo is None
    flat = grid_report(np.column_stack([np.full(40, 0.001), rng.normal(0, 0.01, 40)]), 0, subject="s",
                       selected_label="flat")
    assert math.isnan(flat.psr) and "zero variance" in flat.notes["sr"]
    shown = {s.key: s.shown for s in flat.stats()}
    assert shown["psr"].startswith("n/a: the returns do not vary")
    short = grid_report(rng.normal(0, 0.01, (20, 3)), 1, subject="s", selected_label="short", blocks=16)
    assert short.pbo is None and "blocks=16 needs at least 32" in short.pbo_note
    with pytest.raises(DataError, match="NaN"):
        grid_report(np.array([[0.01, np.nan], [0.02, 0.01], [0.0, 0.01]]), 0, subject="s", selected_label="nan")
    with pytest.raises(ParameterError, match="blocks must be an even integer"):
        grid_report(rng.normal(0, 0.01, (100, 3)), 0, subject="s", selected_label="odd", blocks=7)
    with pytest.raises(DataError, match="at least 2 observations"):
        track_record_report([0.01], subject="s", selected_label="one")


def test_report_json_has_no_nan():
    import json

    rng = np.random.default_rng(2)
    single = track_record_report(rng.normal(0.001, 0.01, 300), subject="fixed", selected_label="x")
    data = single.to_dict()
    json.dumps(data, allow_nan=False)  # NaN as None, the reason in notes
    assert data["dsr"] is None and "N = 1" in data["notes"]["dsr"]


def test_split_sample_report_and_its_out_of_sample_rank(setup):
    prices, tcs, grid = setup
    split = split_sample(prices, grid=grid)
    report = split_sample_report(split, grid)
    assert list(report.index) == ["first_half", "second_half", "whole"]
    assert (report["n_trials"] == len(tcs)).all()
    oos = report.attrs["out_of_sample"]
    second = split["second_half"]
    first_peak = split.attrs["peaks"]["first_half"]
    assert oos["its_rank_in_second_half"] == int((second > second.loc[first_peak]).sum()) + 1


def test_progressive_report_counts_and_edges(setup):
    prices, tcs, grid = setup
    frame = progressive_tune(prices, window=250, step=125, grid=grid)
    found = progressive_report(frame, tcs)
    assert found["n_trials"] == len(tcs) * len(frame)
    on_edge = frame["tc"].isin([tcs[0], tcs[-1]]).mean()
    assert found["share_on_edge"] == pytest.approx(on_edge)


def test_experiment_report_counts_every_grid_point_so_far():
    import xlsector as xs
    from xlsector.profiles import load_experiment, run_experiment

    experiment = load_experiment("sample_four_phase")
    result = run_experiment(experiment, xs.load_sample().prices)
    report = experiment_report(result)
    sizes = [len(p.values) if not p.combine else 1 for p in experiment.phases]
    assert report["n_trials"].tolist() == list(np.cumsum(sizes))  # 9, 14, 18, 19
    assert report.attrs["n_total"] == sum(sizes)
    # the momentum phase's best lookback is its grid's edge (118..134): flagged
    assert report.at["momentum", "best"] == 134 and report.at["momentum", "best_on_edge"]
    # DSR of the first phase's best, directly: the selection-period returns of its 9 runs
    runs = result.selection_returns
    first = runs[list(range(9))].to_numpy()
    best = int(np.flatnonzero(result.table["best"].to_numpy()[:9])[0])
    sr, n, skew, kurt = sharpe_stats(first[:, best])
    var = np.var(sharpe_ratios(first), ddof=1)
    assert report.at["momentum", "dsr"] == pytest.approx(deflated_sharpe(sr, n, 9, var, skew, kurt), rel=1e-12)
    assert report.at["momentum", "pbo"] == pbo(first, blocks=16).pbo  # rank_by sharpe: the Sharpe metric
    assert math.isnan(report.at["combined", "pbo"]) and "one run" in report.at["combined", "pbo_note"]


def test_two_valued_returns_have_kurtosis_one_not_a_rounding_below():
    """m4 / m2**2 is exactly 1 for a two-valued sample; rounding put it a few ulps below (found by the property
    tests: a backtest with two return days), which the PSR functions reject as an excess kurtosis."""
    rng = np.random.default_rng(0)
    below = 0
    for _ in range(400):
        x = rng.normal(0, 0.01, 2)
        dev = x - x.mean()
        below += np.mean(dev**4) / np.mean(dev**2) ** 2 < 1.0
        sr, n, skew, kurt = sharpe_stats(x)
        assert kurt >= 1.0
        probabilistic_sharpe(sr, n, skew, kurt)  # no ParameterError
    assert below > 0  # the raw formula does round below 1 on some of these
    report = track_record_report([0.001, -0.002], subject="s", selected_label="two days")
    assert report.kurtosis == 1.0 and 0 < report.psr < 1
