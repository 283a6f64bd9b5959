"""Tuning (SPEC §4): scores, trend chart, FWPT (fast vs naive re-simulation), stationarity, look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsector.backtesting import run_backtest
from xlsector.errors import ParameterError
from xlsector.measures import cagr, max_drawdown
from xlsector.tuning import fwpt, progressive_tune, scores, split_sample, trend_chart

# ------------------------------------------------------------------------------------------ data


def synthetic(n_days: int = 2600, n_funds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Seeded random walks whose drifts switch every 50 days in the first half and every 250 days in the
    second, so that the best trend constant moves from short to long (FWPT really retunes)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2000-01-03", periods=n_days)
    drift = np.empty((n_days, n_funds))
    t = 0
    while t < n_days:
        length = 50 if t < n_days // 2 else 250
        drift[t : t + length] = rng.normal(0, 0.002, size=n_funds)
        t += length
    rets = drift + rng.normal(0, 0.01, size=(n_days, n_funds))
    prices = 100 * np.exp(np.cumsum(rets, axis=0))
    frame = pd.DataFrame(prices, index=dates, columns=[f"F{j}" for j in range(n_funds)])
    frame.iloc[:300, n_funds - 1] = np.nan  # one fund starts later
    return frame


SMALL_TCS = [4, 9, 16, 30, 55, 90]


# ------------------------------------------------------------------------------------------ scores


def test_cumulative_score_is_sum_of_log_returns():
    r = np.array([[0.0, 0.01, -0.02, 0.03], [0.0, 0.0, 0.0, 0.0]])
    expected = np.log(1.01) + np.log(0.98) + np.log(1.03)  # by hand; column 0 is the start point
    assert scores(r)[0] == pytest.approx(expected, rel=1e-14)
    assert scores(r)[1] == 0.0


def test_recency_weighted_score_weights_by_age():
    r = np.array([[0.0, 0.01, -0.02, 0.03]])
    h = 2.0
    # ages 2, 1, 0 for the three return days
    expected = 2 ** (-2 / h) * math.log(1.01) + 2 ** (-1 / h) * math.log(0.98) + math.log(1.03)
    assert scores(r, half_life=h)[0] == pytest.approx(expected, rel=1e-14)
    # a very long half-life tends to the cumulative score
    assert scores(r, half_life=1e12)[0] == pytest.approx(scores(r)[0], rel=1e-9)


def test_score_rejects_bad_half_life():
    with pytest.raises(ParameterError, match="half-life"):
        scores(np.zeros((1, 3)), half_life=-1)


# ------------------------------------------------------------------------------------------ trend chart


def test_trend_chart_matches_per_tc_backtest_and_metrics():
    prices = synthetic(900)
    chart = trend_chart(prices, tcs=SMALL_TCS, hysteresis=0.01)
    for tc in SMALL_TCS:
        single = run_backtest(prices, tc=tc, hysteresis=0.01)
        row = chart.table.loc[float(tc)]
        assert row["score"] == pytest.approx(
            np.log1p(single.returns.to_numpy()[1:]).sum(), rel=1e-12, abs=1e-12
        )
        assert row["CAGR"] == pytest.approx(cagr(single.returns.iloc[1:], start=single.returns.index[0]), rel=1e-12, abs=1e-15)
        assert row["max_drawdown"] == max_drawdown(single.returns)  # same operations, same order: exact
        assert row["switches"] == single.switches
    assert chart.peak_tc == chart.table["score"].idxmax()
    lo, hi = chart.plateau
    assert lo <= chart.peak_tc <= hi
    assert chart.table.loc[lo:hi, "in_plateau"].all()
    assert "cumulative" in chart.score_label
    assert chart.period == (single.returns.index[0], single.returns.index[-1])


def test_trend_chart_plateau_definition():
    prices = synthetic(900)
    chart = trend_chart(prices, tcs=range(2, 60), plateau=0.2)
    table = chart.table
    floor = chart.peak_score + math.log(0.8)
    inside = table[table["in_plateau"]]
    assert (inside["score"] >= floor).all()
    lo, hi = chart.plateau
    below = table.index < lo
    above = table.index > hi
    if below.any():
        assert table["score"][below].iloc[-1] < floor  # the run stops where the score drops out
    if above.any():
        assert table["score"][above].iloc[0] < floor


def test_trend_chart_bad_input():
    prices = synthetic(600)
    with pytest.raises(ParameterError, match="tcs must be a non-empty"):
        trend_chart(prices, tcs=[])
    with pytest.raises(ParameterError, match="score must be 'cumulative' or a half-life"):
        trend_chart(prices, score="recent")


# ------------------------------------------------------------------------------------------ FWPT: naive reference


def naive_fwpt(prices: pd.DataFrame, *, born_on, retune_days: int, tcs, defer: bool, **strategy):
    """Slow reference: at every candidate retune date, re-simulate every tc on data truncated at that date.

    Returns (events [(date, best_tc, action)], stitched holding names per out-of-sample day, net returns).
    """
    delay = strategy.get("delay", 1)
    lag = delay + 1
    full = {tc: run_backtest(prices, tc=tc, **strategy) for tc in tcs}
    any_run = full[tcs[0]]
    dates = any_run.returns.index
    n = len(dates)
    t0 = int(dates.searchsorted(pd.Timestamp(born_on)))
    cost = strategy.get("cost_bp", 10) / 1e4
    schedule = strategy.get("schedule", "daily")
    from xlsector.rotation import decision_days

    decision = decision_days(prices.index, schedule)[prices.index.get_indexer(dates)]

    def best_at(t: int) -> int:
        cut = prices.loc[: dates[t]]
        values = []
        for tc in tcs:
            r = run_backtest(cut, tc=tc, **strategy).returns.to_numpy()
            values.append(scores(r[None, :])[0])
        return int(np.argmax(values))

    def pick(i: int, t: int):
        """Target tc i decides at the close of t: its holding on day t + delay + 1, or on the last closes
        (whose holding is beyond the data) the target its backtest records."""
        return full[tcs[i]].holdings.iloc[t + lag] if t + lag < n else full[tcs[i]].targets.iloc[t]

    events = []
    current = best_at(t0)
    events.append((dates[t0], tcs[current], "initial"))
    active = [current] * n
    last, due = t0, False
    for t in range(t0 + 1, n):
        if not due and t - last >= retune_days:
            due = True
        if due and decision[t]:
            best = best_at(t)
            if best == current:
                action = "kept"
            elif not defer or pick(best, t) == pick(current, t):
                action = "adopted"
            else:
                action = "deferred"
            if action == "adopted":
                current = best
            if action in ("kept", "adopted"):
                due, last = False, t
            if not (action == "deferred" and events[-1][2] == "deferred" and events[-1][1] == tcs[best]):
                events.append((dates[t], tcs[best], action))
        active[t] = current
    holdings, net = [], []
    for t in range(t0, n):
        source = active[max(t - lag, t0)] if t - lag >= t0 else active[t0]
        holdings.append(full[tcs[source]].holdings.iloc[t])
    asset_prices = prices.copy()
    if strategy.get("bear") is not None:
        asset_prices = asset_prices.join(strategy["bear"])
    asset_prices["CASH"] = 1.0
    rets = asset_prices.pct_change(fill_method=None).reindex(dates)
    for k, t in enumerate(range(t0, n)):
        if k == 0:
            net.append(0.0)
            continue
        r = rets[holdings[k]].iloc[t] if holdings[k] != "CASH" else 0.0
        r = 0.0 if pd.isna(r) else r
        net.append((1 + r) * (1 - cost) - 1 if holdings[k] != holdings[k - 1] else r)
    return events, holdings, np.array(net)


def _compare(fast, events, holdings, net):
    got = list(zip(fast.retunes["date"], fast.retunes["best_tc"], fast.retunes["action"]))
    assert got == [(d, float(b), a) for d, b, a in events]
    assert list(fast.holdings) == holdings
    np.testing.assert_allclose(fast.returns.to_numpy(), net, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "defer, schedule, delay", [(True, "daily", 1), (False, "daily", 1), (True, "week", 0), (True, "month", 1)]
)
def test_fwpt_fast_equals_naive_resimulation_synthetic(defer, schedule, delay):
    prices = synthetic()
    kwargs = {"hysteresis": 0.005, "schedule": schedule, "delay": delay, "cost_bp": 10}
    born_on = "2005-01-10"
    fast = fwpt(prices, born_on=born_on, retune_days=60, tcs=SMALL_TCS, defer=defer, **kwargs)
    events, holdings, net = naive_fwpt(
        prices, born_on=born_on, retune_days=60, tcs=SMALL_TCS, defer=defer, **kwargs
    )
    actions = [a for _, _, a in events]
    assert actions.count("adopted") >= 3  # the walk really changes tc (seeded data chosen for it)
    if defer and schedule == "daily":
        assert "deferred" in actions
    _compare(fast, events, holdings, net)


def test_fwpt_fast_equals_naive_real_data_slice(etf_prices):
    prices = etf_prices.loc["1998-12-22":"2009-12-31", ["XLB", "XLE", "XLF", "XLK", "XLU", "XLV"]]
    kwargs = {"hysteresis": 0.01, "cost_bp": 10}
    born_on = "2004-01-02"
    fast = fwpt(prices, born_on=born_on, retune_days=125, tcs=[10, 25, 50, 80, 120], **kwargs)
    events, holdings, net = naive_fwpt(
        prices, born_on=born_on, retune_days=125, tcs=[10, 25, 50, 80, 120], defer=True, **kwargs
    )
    _compare(fast, events, holdings, net)


def test_fwpt_fast_equals_naive_with_stormguard_and_bear_fund(etf_prices):
    # StormGuard (month-end) on SPY with TLT as the bear fund: holdings switch between sectors and TLT
    prices = etf_prices.loc["1998-12-22":"2011-12-30", ["XLB", "XLE", "XLK", "XLU", "XLV"]]
    extra = etf_prices.loc["1998-12-22":"2011-12-30"]
    kwargs = {
        "hysteresis": 0.01, "stormguard": "standard", "index": extra["SPY"], "bear": extra[["TLT"]], "schedule": "week"
    }
    tcs = [15, 40, 90, 150]
    fast = fwpt(prices, born_on="2004-01-02", retune_days=100, tcs=tcs, **kwargs)
    events, holdings, net = naive_fwpt(
        prices, born_on="2004-01-02", retune_days=100, tcs=tcs, defer=True, **kwargs
    )
    assert "TLT" in set(holdings)
    _compare(fast, events, holdings, net)


def test_fwpt_stitched_path_without_tc_change_equals_that_tc():
    prices = synthetic()
    # a one-tc grid never changes tc: the walk-forward is exactly that tc's backtest after the born-on date
    fast = fwpt(prices, born_on="2005-01-10", tcs=[30], hysteresis=0.01)
    single = run_backtest(prices, tc=30, hysteresis=0.01)
    tail = single.returns.loc[fast.born_on :].to_numpy().copy()
    tail[0] = 0.0
    np.testing.assert_array_equal(fast.returns.to_numpy(), tail)
    np.testing.assert_array_equal(fast.in_sample_returns.to_numpy(), tail)
    assert fast.metrics().loc["CAGR", "walk_forward"] == pytest.approx(cagr(fast.returns.iloc[1:], start=fast.returns.index[0]))


def test_fwpt_metrics_are_out_of_sample_only():
    prices = synthetic()
    result = fwpt(prices, born_on="2005-01-10", tcs=SMALL_TCS)
    assert result.returns.index[0] == result.born_on >= pd.Timestamp("2005-01-10")
    assert result.metrics().attrs["period"][0] == result.born_on
    assert result.metrics().loc["Days", "walk_forward"] == len(result.returns) - 1
    assert "out of sample" in result.metrics().attrs["sample"]
    assert list(result.metrics().columns) == ["walk_forward", "in_sample_best", "benchmark", "definition"]


# ------------------------------------------------------------------------------------------ FWPT: the walk's twins


@pytest.mark.parametrize("defer, schedule, delay", [(True, "daily", 1), (False, "daily", 0), (True, "week", 0)])
def test_every_walk_implementation_gives_the_same_walk(defer, schedule, delay):
    # The walk runs inside the one-thread lane kernel (compiled, or as plain Python), or afterwards on the
    # paths (compiled, plain loop, numpy twin); all must agree exactly, stitched path included.
    from xlsector import _kernels
    from xlsector.backtesting import GridSetup
    from xlsector.tuning import _born_on, _fwpt_walk, _fwpt_walk_loop, _fwpt_walk_py, _stitch

    prices = synthetic()
    setup = GridSetup.prepare(prices, SMALL_TCS, hysteresis=0.005, schedule=schedule, delay=delay)
    t0, _, _ = _born_on(prices, setup.dates, "2005-01-10")
    n_days = len(setup.dates)
    fused = {}
    for name, run in {"python": lambda w: _kernels.rotate_python(setup.inputs.setup, setup.tcs, setup.decays, walk=w),
                      "dispatch": lambda w: _kernels.rotate(setup.inputs.setup, setup.tcs, setup.decays, w)}.items():
        walk = _kernels.Walk.new(t0, 60, defer, n_days)
        paths = run(walk)
        if name == "dispatch" and walk.n_events[0] < 0:
            continue  # (the parallel path leaves the walk to the caller)
        fused[name] = (walk, paths)
    if _kernels.HAVE_NUMBA:
        walk = _kernels.Walk.new(t0, 60, defer, n_days)
        paths = _kernels._outputs(len(setup.tcs), n_days)
        _kernels._rotate_lanes_compiled(setup.inputs.setup, setup.tcs, setup.decays, 0, len(setup.tcs), paths, walk)
        fused["compiled"] = (walk, paths)
    walk, paths = fused["python"]
    events = walk.events[:, : walk.n_events[0]]
    kinds = list(events[2])
    assert kinds.count(2) >= 2 and (not defer or schedule != "daily" or 3 in kinds)  # it adopts and defers
    decision = setup.inputs.setup.decision[setup.inputs.start :]
    after = {}
    for name, fn in {"compiled": _fwpt_walk, "loop": _fwpt_walk_loop, "numpy": _fwpt_walk_py}.items():
        after[name] = fn(paths.net, paths.holdings, paths.last_targets, delay + 1, decision, t0, 60, defer)
    for name, (other, other_paths) in fused.items():
        np.testing.assert_array_equal(other.events[:, : other.n_events[0]], events, err_msg=name)
        np.testing.assert_array_equal(other.active, walk.active, err_msg=name)
        np.testing.assert_array_equal(other.hold[t0:], walk.hold[t0:], err_msg=name)
        np.testing.assert_array_equal(other.net[t0:], walk.net[t0:], err_msg=name)
        np.testing.assert_array_equal(other_paths.holdings, paths.holdings, err_msg=name)
    for name, (active, ev_day, ev_best, ev_kind, growth) in after.items():
        np.testing.assert_array_equal(active, walk.active, err_msg=name)
        np.testing.assert_array_equal(np.array([ev_day, ev_best, ev_kind]), events, err_msg=name)
        np.testing.assert_array_equal(growth, paths.growth, err_msg=name)
    lag = delay + 1
    governing = np.r_[np.full(lag, walk.active[0]), walk.active[:-lag]]
    governing[: t0 + 1] = walk.active[t0]
    from xlsector.backtesting import GridResult  # noqa: F401  (asset returns as the grid gives them)

    grid = setup.run()
    stitched, net = _stitch(grid.paths.holdings, governing, grid.asset_returns, grid.cost, t0)
    np.testing.assert_array_equal(stitched[t0:], walk.hold[t0:])
    np.testing.assert_array_equal(net[t0:], walk.net[t0:])


def test_growth_statistics_implementations_agree():
    from xlsector.backtesting import run_backtest_grid
    from xlsector.tuning import _growth_stats, _growth_stats_loop, _growth_stats_py

    grid = run_backtest_grid(synthetic(900), SMALL_TCS, hysteresis=0.01)
    net = grid.paths.net
    for fn in (_growth_stats, _growth_stats_loop, _growth_stats_py):
        growth, worst = fn(net)
        np.testing.assert_array_equal(growth, grid.paths.growth)  # the kernel carried the same products
        np.testing.assert_array_equal(worst, grid.paths.drawdown)
    assert (grid.paths.drawdown < 0).all()


# ------------------------------------------------------------------------------------------ FWPT: bad input


def test_fwpt_born_on_too_early_names_the_earliest_date():
    prices = synthetic()  # F0 starts 2000-01-03: the earliest born-on is 2005-01-03
    with pytest.raises(
        ParameterError, match=r"born_on must be on or after 2005-01-03 .*oldest fund, F0.*got 2003-01-02"
    ):
        fwpt(prices, born_on="2003-01-02", tcs=SMALL_TCS)


def test_fwpt_without_five_years_of_data():
    prices = synthetic(900)
    with pytest.raises(ParameterError, match="no fund has five years of prices"):
        fwpt(prices, tcs=SMALL_TCS)


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_fwpt_retune_days_must_be_positive_int(bad):
    with pytest.raises(ParameterError, match=f"retune_days must be a whole number >= 1 .*got {bad!r}"):
        fwpt(synthetic(), retune_days=bad, tcs=SMALL_TCS)


def test_fwpt_empty_grid():
    with pytest.raises(ParameterError, match="tcs must be a non-empty list"):
        fwpt(synthetic(), tcs=[])


# ------------------------------------------------------------------------------------------ look-ahead


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=1400, max_value=2599), defer=st.booleans())
def test_truncating_the_data_never_changes_past_tuning_or_picks(cut, defer):
    prices = synthetic()
    kwargs = {"born_on": "2005-01-10", "retune_days": 40, "tcs": SMALL_TCS, "defer": defer, "hysteresis": 0.005}
    full = fwpt(prices, **kwargs)
    short = fwpt(prices.iloc[:cut], **kwargs)
    common = short.returns.index
    pd.testing.assert_series_equal(short.tc, full.tc.loc[common])
    pd.testing.assert_series_equal(short.holdings, full.holdings.loc[common])
    np.testing.assert_array_equal(short.returns.to_numpy(), full.returns.loc[common].to_numpy())
    # every tuning whose outcome is known from the truncated data (its pick lies inside it) is unchanged
    lag = 2
    known_until = common[-1 - lag] if len(common) > lag else common[0]
    a = short.retunes[short.retunes["date"] <= known_until].reset_index(drop=True)
    b = full.retunes[full.retunes["date"] <= known_until].reset_index(drop=True)
    if len(a) and a["action"].iloc[-1] == "deferred":  # the run of re-tries may continue in the longer data
        a, b = a.drop(columns="tries"), b.drop(columns="tries")
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------------------------------ stationarity


def test_split_sample_columns_match_trend_charts():
    prices = synthetic(900)
    frame = split_sample(prices, tcs=SMALL_TCS)
    whole = trend_chart(prices, tcs=SMALL_TCS)
    np.testing.assert_allclose(frame["whole"].to_numpy(), whole.table["score"].to_numpy(), rtol=1e-12)
    # the halves add up to the whole (log returns are additive)
    np.testing.assert_allclose(
        frame["first_half"] + frame["second_half"], frame["whole"], rtol=1e-9, atol=1e-12
    )
    assert frame.attrs["periods"]["first_half"][1] == frame.attrs["periods"]["second_half"][0]
    assert set(frame.attrs["peaks"]) == {"first_half", "second_half", "whole"}


def test_progressive_tune_windows():
    prices = synthetic(1200)
    frame = progressive_tune(prices, window=250, step=125, tcs=SMALL_TCS)
    grid_dates = run_backtest(prices, tc=10).returns.index
    assert (frame["date"].diff().dropna() > pd.Timedelta(0)).all()
    first = frame.iloc[0]
    assert first["date"] == grid_dates[250] and first["window_start"] == grid_dates[0]
    # the best tc of the first window, by re-simulating each tc and summing its log returns on the window
    values = []
    for tc in SMALL_TCS:
        r = run_backtest(prices, tc=tc).returns.to_numpy()
        values.append(np.log1p(r[1:251]).sum())
    assert first["tc"] == SMALL_TCS[int(np.argmax(values))]
    assert first["score"] == pytest.approx(max(values), rel=1e-9)
    with pytest.raises(ParameterError, match="step must be a whole number >= 1"):
        progressive_tune(prices, step=0, tcs=SMALL_TCS)


def test_a_precomputed_grid_gives_the_same_results():
    from xlsector.backtesting import run_backtest_grid

    prices = synthetic()
    grid = run_backtest_grid(prices, SMALL_TCS, hysteresis=0.01)
    a = trend_chart(prices, tcs=SMALL_TCS, hysteresis=0.01)
    b = trend_chart(prices, grid=grid)
    pd.testing.assert_frame_equal(a.table, b.table)
    f1 = fwpt(prices, born_on="2005-01-10", tcs=SMALL_TCS, hysteresis=0.01)
    f2 = fwpt(prices, born_on="2005-01-10", grid=grid)
    pd.testing.assert_frame_equal(f1.retunes, f2.retunes)
    pd.testing.assert_series_equal(f1.returns, f2.returns)
    pd.testing.assert_frame_equal(
        split_sample(prices, grid=grid), split_sample(prices, tcs=SMALL_TCS, hysteresis=0.01)
    )
    pd.testing.assert_frame_equal(
        progressive_tune(prices, grid=grid), progressive_tune(prices, tcs=SMALL_TCS, hysteresis=0.01)
    )
