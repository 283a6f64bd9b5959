"""The rotation backtest: fast kernels against the slow reference loop, look-ahead, bad input, real data."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlsector as xs
from xlsector import _kernels
from xlsector.backtesting import prepare, returns_from_holdings
from xlsector.errors import DataError, ParameterError
from xlsector.params import Strategy

from . import reference


def random_prices(seed: int, days: int = 400, funds: int = 4, *, late: bool = True, drift: float = 0.0003):
    """Seeded random walks on business days; with ``late`` one fund starts late and one stops early."""
    rng = np.random.default_rng(seed)
    rets = rng.normal(drift, 0.015, (days, funds))
    prices = 50 * np.exp(np.cumsum(rets, axis=0))
    frame = pd.DataFrame(prices, index=pd.bdate_range("2001-01-01", periods=days),
                         columns=[f"F{i}" for i in range(funds)])
    if late and funds >= 3:
        frame.iloc[: days // 5, 2] = np.nan
        frame.iloc[-days // 6:, 1] = np.nan
    return frame


def random_index(seed: int, days: int) -> pd.Series:
    rng = np.random.default_rng(seed + 1000)
    # big swings so that StormGuard really changes state within a short sample
    rets = 0.02 * np.sin(np.arange(days) / 25.0) / 22 + rng.normal(0, 0.006, days)
    return pd.Series(1000 * np.exp(np.cumsum(rets)), index=pd.bdate_range("2001-01-01", periods=days), name="SPX")


def assert_matches_reference(prices, **params):
    index = params.pop("index", None)
    bear = params.pop("bear", None)
    result = xs.run_backtest(prices, index=index, bear=bear, **params)
    hold, rets, trades = reference.rotation(prices, index=index, bear=bear, **params)
    assert list(result.holdings) == list(hold)
    assert result.switches == trades
    np.testing.assert_allclose(result.returns.to_numpy(), rets.to_numpy(), rtol=0, atol=1e-12)
    return result


@pytest.mark.parametrize("tc", [2, 3, 7, 15, 33.5, 80, 200])
@pytest.mark.parametrize("hysteresis", [0.0, 0.02])
def test_fast_path_equals_reference_loop(tc, hysteresis):
    prices = random_prices(int(tc * 10))
    result = assert_matches_reference(prices, tc=tc, hysteresis=hysteresis, min_history=10)
    assert result.switches > 0


@pytest.mark.parametrize(
    "params",
    [
        {"schedule": "week", "delay": 0, "cost_bp": 25},
        {"schedule": "month", "min_hold": 30, "hysteresis": 0.05, "decay": 10},
        {"schedule": "daily", "min_hold": 5, "hysteresis": 0.01, "delay": 0, "min_history": 0},
        {"stormguard": "standard", "shift": 0.002, "hysteresis": 0.01},
        {"stormguard": "quick", "shift": 0.002, "schedule": "week"},
    ],
)
def test_schedules_stormguard_and_costs_equal_reference(params):
    prices = random_prices(7, days=600)
    if "stormguard" in params:
        params = dict(params, index=random_index(7, 600))
    assert_matches_reference(prices, tc=12, **params)


def test_bear_universe_and_cash_rate_equal_reference():
    prices = random_prices(11, days=600, funds=3, late=False)
    bear = random_prices(12, days=600, funds=2, late=False).rename(columns=lambda c: "B" + c)
    index = random_index(3, 600)
    result = assert_matches_reference(prices, tc=10, stormguard="quick", shift=0.001, index=index, bear=bear)
    assert set(result.holdings) & {"BF0", "BF1"}, "the bear universe was never held"

    rate = pd.Series(0.03, index=prices.index)
    with_cash = xs.run_backtest(prices, tc=10, stormguard="standard", shift=0.001, index=index, cash_rate=rate)
    daily_cash = pd.Series(np.r_[0.0, np.full(599, 0.03 / 252)], index=prices.index)
    _, rets, _ = reference.rotation(prices, tc=10, stormguard="standard", shift=0.001, index=index,
                                       cash=daily_cash)
    assert (with_cash.holdings == "CASH").sum() > 20
    np.testing.assert_allclose(with_cash.returns.to_numpy(), rets.to_numpy(), atol=1e-12)


# ------------------------------------------------------------------------------------ the kernel's twins
#
# Every implementation of the rotation must give the same paths: the compiled lane kernel (one pass, or in
# blocks of lanes as the parallel path splits them), the compiled one-tc kernel, the same loops run as plain
# Python, and the numpy fallback. Holdings, switches and targets exactly; returns, growth and drawdown to
# 1e-12 (the numpy twin may order a product differently).

KERNEL_CASES = {
    # the common case: every fund eligible from the first day, StormGuard off, daily decisions
    "common": {"late": False, "strategy": {"min_history": 0, "hysteresis": 0.02, "delay": 0}},
    # funds starting late and stopping early: eligibility windows, the general path on those days
    "windows": {"late": True, "strategy": {"hysteresis": 0.01, "min_hold": 3, "cost_bp": 25}},
    "week_delay1": {"late": True, "strategy": {"schedule": "week", "delay": 1, "hysteresis": 0.03, "decay": 7}},
    "month_cash": {"late": False, "strategy": {"schedule": "month", "min_history": 5}, "cash": 0.03},
    "standard_sg": {"late": True, "strategy": {"stormguard": "standard", "shift": 0.002, "hysteresis": 0.01}},
    "quick_sg_bear": {"late": False, "bear": True,
                      "strategy": {"stormguard": "quick", "shift": 0.002, "schedule": "week", "min_hold": 2}},
}


def kernel_inputs(case: str, days: int = 500, funds: int = 5):
    spec = KERNEL_CASES[case]
    prices = random_prices(5, days=days, funds=funds, late=spec["late"])
    strategy = dict(spec["strategy"])
    sg = strategy.get("stormguard") is not None
    index = random_index(5, days) if sg else None
    bear = random_prices(6, days=days, funds=2, late=False).rename(columns=lambda c: "B" + c) if spec.get("bear") else None
    inputs = prepare(prices, Strategy(tc=10, **strategy), index=index, bear=bear, cash_rate=spec.get("cash"))
    return prices, inputs, {**strategy, "index": index, "bear": bear, "cash_rate": spec.get("cash")}


def assert_same_paths(a, b, what):
    np.testing.assert_array_equal(a.holdings, b.holdings, err_msg=f"{what}: holdings")
    np.testing.assert_array_equal(a.switches, b.switches, err_msg=f"{what}: switches")
    np.testing.assert_array_equal(a.last_targets, b.last_targets, err_msg=f"{what}: targets")
    for field in ("net", "growth", "drawdown"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=0, atol=1e-12, err_msg=f"{what}: {field}")


@pytest.mark.parametrize("case", list(KERNEL_CASES))
def test_every_kernel_implementation_gives_the_same_paths(case):
    _, inputs, _ = kernel_inputs(case)
    tcs = np.array([2.0, 3.0, 5.0, 7.5, 11.0, 16.0, 24.0, 40.0, 90.0])
    decays = tcs if inputs.strategy.decay is None else np.full(tcs.size, inputs.strategy.decay)
    args = (inputs.setup, tcs, decays)
    plain = _kernels.rotate_python(*args)
    assert plain.switches.sum() > 0
    others = {
        "python, 4 blocks of lanes": _kernels.rotate_python(*args, chunks=4),
        "python, one tc at a time": _kernels.rotate_python(*args, single=True),
        "numpy": _kernels.rotate_numpy(*args),
        "dispatch": _kernels.rotate(*args),
    }
    if _kernels.HAVE_NUMBA:
        n_days = inputs.setup.returns.shape[1] - inputs.setup.start
        lanes = _kernels._outputs(len(tcs), n_days)
        _kernels._rotate_lanes_compiled(*args, 0, len(tcs), lanes, _kernels.NO_WALK)
        chunks = _kernels._outputs(len(tcs), n_days)
        _kernels._rotate_blocks(*args, chunks, 3)
        single = _kernels._outputs(len(tcs), n_days)
        for m in range(len(tcs)):
            _kernels._rotate_single_compiled(*args, m, single)
        others.update({"compiled lanes": lanes, "compiled, 3 threads' blocks": chunks,
                       "compiled, one tc": single})
    for what, paths in others.items():
        assert_same_paths(plain, paths, what)


@pytest.mark.parametrize("case", ["common", "windows", "standard_sg", "quick_sg_bear"])
def test_kernel_paths_equal_the_reference_loop(case):
    prices, inputs, params = kernel_inputs(case)
    tcs = np.array([3.0, 12.0, 45.0])
    paths = _kernels.rotate_python(inputs.setup, tcs, tcs)
    index, bear, cash_rate = params.pop("index"), params.pop("bear"), params.pop("cash_rate")
    assert cash_rate is None  # (the reference takes the daily cash series; the cash case is checked above)
    for m, tc in enumerate(tcs):
        hold, rets, switches = reference.rotation(prices, tc=tc, index=index, bear=bear, **params)
        assert [inputs.assets[h] for h in paths.holdings[:, m]] == list(hold)
        np.testing.assert_allclose(paths.net[:, m], rets.to_numpy(), rtol=0, atol=1e-12)
        assert paths.switches[m] == switches


def test_quick_path_equals_the_general_path():
    # The lane kernel decides with one comparison on days when every fund (bull and bear) is inside its
    # window and StormGuard is off, and the one-tc kernel has a shortcut of its own; a bear fund that is
    # never eligible turns both off for the whole run (it is never a candidate with StormGuard off) and
    # must change nothing. So must StormGuard with an index that never leaves the bull state.
    prices = random_prices(9, days=600, funds=5, late=False)
    tcs = np.array([2.0, 4.0, 9.0, 20.0, 60.0])
    strategy = Strategy(tc=10, min_history=0, hysteresis=0.02, min_hold=2)
    base = prepare(prices, strategy).setup
    n_funds, n_days = base.returns.shape
    general = base._replace(returns=np.vstack([base.returns, np.zeros((1, n_days))]),
                            opens=np.r_[base.opens, n_days], closes=np.r_[base.closes, n_days])
    always_bull = base._replace(sg_mode=1, month_end=np.ones(n_days, bool))
    quick = _kernels.rotate_python(base, tcs, tcs)
    assert quick.switches.min() > 0
    for setup in (base, general, always_bull):
        for single in (False, True):
            paths = _kernels.rotate_python(setup, tcs, tcs, single=single)
            holdings = paths.holdings.copy()
            holdings[holdings == setup.returns.shape[0]] = n_funds  # cash comes after the (extra) fund
            np.testing.assert_array_equal(holdings, quick.holdings)
            np.testing.assert_array_equal(paths.net, quick.net)
            np.testing.assert_array_equal(paths.switches, quick.switches)


def test_targets_of_the_last_closes_are_the_next_holdings():
    # The kernel keeps every day's target implicitly (the holding delay + 1 days later) and records the
    # targets of the last delay + 1 closes; run on a shorter history, those must be what the longer run holds.
    prices = random_prices(13, days=420, funds=4, late=False)
    tcs = np.array([2.0, 3.0, 6.0, 15.0])
    for delay in (0, 1):
        strategy = Strategy(tc=10, delay=delay, hysteresis=0.0)
        full = _kernels.rotate(prepare(prices, strategy).setup, tcs, tcs)
        short_inputs = prepare(prices.iloc[:-5], strategy)
        short = _kernels.rotate(short_inputs.setup, tcs, tcs)
        n = short.holdings.shape[0]
        targets = short.targets(delay)
        np.testing.assert_array_equal(targets[: n - delay - 1], short.holdings[delay + 1 :])
        for back in range(delay + 1):  # the closes whose holdings lie past the short data
            np.testing.assert_array_equal(targets[n - 1 - back], full.holdings[n - 1 - back + delay + 1])
        changed = (full.holdings[n - delay : n + 1] != full.holdings[n - delay - 1 : n]).any()
        assert changed or delay == 1  # (seeded data: a trade decided at one of the last closes)


def test_fast_price_path_equals_the_general_one():
    from xlsector.backtesting import _clean_values, _fund_arrays
    from xlsector.trend import price_array, returns_array

    prices = random_prices(4, days=300, funds=5, late=False)
    assert _clean_values(prices) is not None
    _, returns, first, last = _fund_arrays(prices, "prices")
    general = returns_array(price_array(prices), before=0.0)
    np.testing.assert_array_equal(returns, general.T)
    assert (first == 0).all() and (last == len(prices) - 1).all()
    for bad in (np.nan, 0.0, -1.0, np.inf):
        other = prices.copy()
        other.iloc[7, 2] = bad
        assert _clean_values(other) is None  # the general path words the error or handles the gap
    assert _clean_values(prices.iloc[::-1]) is None


def test_equal_weight_benchmark_fast_path_is_exact():
    # the benchmark skips the fill and the NaN-skipping sum when no price is missing: same bits
    from xlsector.backtesting import _benchmark
    from xlsector.trend import ffill

    prices = random_prices(2, days=300, funds=6, late=False)
    values = prices.to_numpy()
    daily, _ = _benchmark(None, prices, values, 30)
    filled = ffill(values)
    total = np.nansum(filled / filled[30], axis=1) / 6
    expected = np.zeros(300)
    expected[31:] = total[31:] / total[30:-1] - 1.0
    np.testing.assert_array_equal(daily(), expected)


def test_numba_is_used_where_installed():
    pytest.importorskip("numba")
    assert _kernels.HAVE_NUMBA or _kernels.os.environ.get("XLSECTOR_NO_NUMBA")


def test_backtest_many_rows_equal_single_backtests():
    prices = random_prices(21, days=500)
    tcs = [2, 5, 9, 26, 120]
    grid = xs.run_backtest_grid(prices, tcs, hysteresis=0.015)
    for row, tc in enumerate(tcs):
        single = xs.run_backtest(prices, tc=tc, hysteresis=0.015)
        np.testing.assert_array_equal(grid.returns[row], single.returns.to_numpy())
        assert [grid.assets[i] for i in grid.holdings[row]] == list(single.holdings)
        assert grid.switches[row] == single.switches
    rebuilt = returns_from_holdings(grid.holdings, grid.asset_returns, 10.0)
    np.testing.assert_allclose(rebuilt, grid.returns, atol=1e-15)


def test_result_objects_are_consistent():
    prices = random_prices(3)
    result = xs.run_backtest(prices, tc=20)
    assert result.returns.iloc[0] == 0.0 and result.equity.iloc[0] == 1.0
    np.testing.assert_allclose(result.equity.to_numpy(), np.cumprod(1 + result.returns.to_numpy()))
    trades = result.trades
    assert len(trades) == result.switches + 1  # the initial buy is a trade, not a switch
    assert list(trades.columns) == ["date", "from", "to"]
    assert trades["from"].iloc[0] == "CASH"
    # each trade's "to" is the holding from its date on
    for _, trade in trades.iterrows():
        assert result.holdings.loc[trade["date"]] == trade["to"]
    assert 0.9 < result.exposure <= 1.0
    assert result.benchmark_returns.index.equals(result.returns.index)


def test_delay_means_the_new_holding_earns_from_day_d_plus_delay_plus_1():
    # Two funds; B overtakes A sharply on day 40 → decided at day 40's close
    dates = pd.bdate_range("2020-01-01", periods=60)
    a = np.full(60, 100.0)
    b = np.full(60, 100.0)
    a[1:] = 100 * np.cumprod(np.full(59, 1.001))
    b[40:] = a[39] * 1.2
    b[1:40] = 100 * np.cumprod(np.full(39, 1.0005))
    prices = pd.DataFrame({"A": a, "B": b}, index=dates)
    for delay in (0, 1):
        result = xs.run_backtest(prices, tc=5, hysteresis=0.0, min_history=0, delay=delay)
        switch_day = result.trades.iloc[-1]["date"]
        assert result.trades.iloc[-1]["to"] == "B"
        assert switch_day == dates[40 + delay + 1]


def test_hysteresis_reduces_switching():
    prices = random_prices(8, days=800, funds=6, late=False)
    counts = [xs.run_backtest(prices, tc=10, hysteresis=h).switches for h in (0.0, 0.01, 0.05)]
    assert counts[0] > counts[1] > counts[2]


# ------------------------------------------------------------------------------------ look-ahead

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    cut=st.integers(60, 299),
    tc=st.sampled_from([2, 5, 13, 40]),
    schedule=st.sampled_from(["daily", "week", "month"]),
    stormguard=st.sampled_from([None, "standard", "quick"]),
    delay=st.sampled_from([0, 1]),
)
def test_appending_future_rows_never_changes_past_holdings(seed, cut, tc, schedule, stormguard, delay):
    prices = random_prices(seed, days=300, late=False)
    index = random_index(seed, 300)
    params = {"tc": tc, "schedule": schedule, "stormguard": stormguard, "shift": 0.002, "delay": delay, "hysteresis": 0.01,
                  "min_history": 5}
    full = xs.run_backtest(prices, index=index, **params)
    past = xs.run_backtest(prices.iloc[:cut], index=index.iloc[:cut], **params)
    n = len(past.holdings)
    assert list(full.holdings.iloc[:n]) == list(past.holdings)
    np.testing.assert_allclose(full.returns.iloc[:n].to_numpy(), past.returns.to_numpy(), atol=1e-15)


# ------------------------------------------------------------------------------------ bad input

def test_bad_parameters_name_the_argument():
    prices = random_prices(1)
    with pytest.raises(ParameterError, match="tc must be a number >= 1.*-3"):
        xs.run_backtest(prices, tc=-3)
    with pytest.raises(ParameterError, match="tc must be a number >= 1"):
        xs.run_backtest(prices, tc=0)
    with pytest.raises(ParameterError, match="delay must be 0 or 1"):
        xs.run_backtest(prices, delay=2)
    with pytest.raises(ParameterError, match="schedule must be one of"):
        xs.run_backtest(prices, schedule="yearly")
    with pytest.raises(ParameterError, match="unknown strategy parameter 'tcc'"):
        xs.run_backtest(prices, tcc=3)
    with pytest.raises(ParameterError, match="stormguard needs index"):
        xs.run_backtest(prices, stormguard="standard")
    with pytest.raises(ParameterError, match="hysteresis must be a number >= 0"):
        xs.run_backtest(prices, hysteresis=-0.1)
    with pytest.raises(ParameterError, match="tcs must all be numbers >= 1"):
        xs.run_backtest_grid(prices, [5, 0.5])


def test_bad_prices_name_the_rule_and_value():
    prices = random_prices(1, late=False)
    bad = prices.copy()
    bad.iloc[10, 1] = -4.0
    with pytest.raises(DataError, match=r"prices must be > 0; column F1 has -4 on 2001-01-15"):
        xs.run_backtest(bad)
    bad.iloc[10, 1] = 1e308  # passed the fast path's check, and every later return overflowed
    with pytest.raises(DataError, match=r"prices must be finite and below 1e\+15; column F1 has 1e\+308 on 2001-01-15"):
        xs.run_backtest(bad)
    bad.iloc[10, 1] = np.inf
    with pytest.raises(DataError, match=r"prices must be finite and below 1e\+15; column F1 has inf on 2001-01-15"):
        xs.run_backtest(bad)
    with pytest.raises(DataError, match="sorted and unique; unsorted date"):
        xs.run_backtest(prices.iloc[::-1])
    with pytest.raises(DataError, match="duplicate date"):
        xs.run_backtest(pd.concat([prices.iloc[:5], prices.iloc[4:]]))
    text = prices.astype(object)
    text.iloc[3, 0] = "n/a"
    with pytest.raises(DataError, match="numeric"):
        xs.run_backtest(text)
    with pytest.raises(DataError, match="too few rows"):
        xs.run_backtest(prices.iloc[:10])


# ------------------------------------------------------------------------------------ real data

def test_real_sector_etfs_backtest_is_sane(etf_prices, sp500_index):
    sectors = etf_prices[["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]].loc["1998-12-22":"2024-12-31"]
    result = xs.run_backtest(sectors, tc=20, hysteresis=0.01, stormguard="standard", index=sp500_index,
                         benchmark=etf_prices["SPY"])
    # The first eligible day: the nine ETFs start 1998-12-22, plus min_history=22 market days.
    assert result.dates[0] == sectors.index[22]
    assert 20 < result.switches < 600
    assert (result.holdings == "CASH").mean() > 0.05  # StormGuard took it out of the 2001-02 and 2008 bears
    in_2008 = result.holdings.loc["2008-10-01":"2008-12-31"]
    assert (in_2008 == "CASH").mean() > 0.5
    # The benchmark is SPY buy-and-hold over exactly the same days: rebuild it from the prices.
    spy = etf_prices["SPY"].loc[result.dates]
    np.testing.assert_allclose(np.prod(1 + result.benchmark_returns.to_numpy()), spy.iloc[-1] / spy.iloc[0],
                               rtol=1e-12)


def test_default_benchmark_is_equal_weight_buy_and_hold_of_the_funds_started_by_day_one():
    prices = random_prices(17, days=300, funds=3, late=False)
    prices.iloc[30, 0] = np.nan  # a gap on the first day of the period (row 22 + min_history)
    prices.iloc[22, 0] = np.nan
    with np.errstate(all="raise"):
        result = xs.run_backtest(prices, tc=10)
    filled = prices.ffill().loc[result.dates]
    expected = (filled / filled.iloc[0]).mean(axis=1)
    np.testing.assert_allclose(np.cumprod(1 + result.benchmark_returns.to_numpy()), expected.to_numpy(), rtol=1e-12)
    assert result.benchmark_returns.name == "equal-weight buy-and-hold of 3 funds"


# ------------------------------------------------------------------------------------ start-up and compiling


@pytest.mark.skipif(not _kernels.HAVE_NUMBA, reason="numba not installed")
def test_compile_ahead_samples_have_the_types_production_passes(monkeypatch):
    # On a cold cache every kernel is compiled once from its sample arguments (with a notice); that is
    # only worth it if production calls then find the same signature instead of compiling again.
    import numba

    from xlsector import tuning

    owners = {"_ema_compiled": _kernels, "_rotate_single_compiled": _kernels, "_rotate_lanes_compiled": _kernels,
              "_growth_stats_compiled": tuning, "_fwpt_walk_compiled": tuning}
    _kernels.ready()  # (registers tuning's kernels too)
    samples = {}
    for name, module in owners.items():
        for _, dispatcher, sample in _kernels._KERNELS:
            if dispatcher is getattr(module, name):
                samples[name] = tuple(numba.typeof(a) for a in sample())
    seen: dict[str, set] = {}
    for name, module in owners.items():
        original = getattr(module, name)

        def spy(*args, _name=name, _original=original):
            seen.setdefault(_name, set()).add(tuple(numba.typeof(a) for a in args))
            return _original(*args)

        monkeypatch.setattr(module, name, spy)
    prices = random_prices(3, days=1500, funds=4)
    index = random_index(3, 1500)
    xs.run_backtest(prices, tc=20, stormguard="quick", index=index, shift=0.002)  # one tc, EMA (StormGuard)
    for n in (1, 2):
        monkeypatch.setattr(_kernels, "THREADS", n)
        xs.run_backtest_grid(prices, range(2, 40))  # lanes, or blocks of lanes on threads
        tuning.fwpt(prices, tcs=range(2, 40), born_on="2006-01-02")  # the walk in the kernel or after it
    grid = xs.run_backtest_grid(prices, range(2, 40))
    tuning.trend_chart(prices, grid=grid, start="2003-01-01")  # growth statistics of a window
    tuning.fwpt(prices, grid=grid, born_on="2006-01-02")  # the walk after the kernel
    assert set(seen) == set(owners)
    for name, signatures in seen.items():
        assert signatures == {samples[name]}, name


def test_the_first_cold_run_says_it_compiles(monkeypatch):
    # a cold cache (numba's index says nothing is compiled) gets one notice and a line per kernel
    calls = []
    fake = [("kernel one", lambda *a: calls.append(a), lambda: (1,)),
            ("kernel two", lambda *a: calls.append(a), lambda: (2, 3))]
    lines: list[str] = []
    monkeypatch.setattr(_kernels, "_KERNELS", fake)
    monkeypatch.setattr(_kernels, "_READY", False)
    monkeypatch.setattr(_kernels, "HAVE_NUMBA", True)
    monkeypatch.setattr(_kernels, "_is_cached", lambda dispatcher: dispatcher is fake[0][1])
    monkeypatch.setattr(_kernels, "compile_notice", lines.append)
    _kernels.ready()
    assert calls == [(2, 3)]  # only the cold kernel, from its sample
    assert lines[0].startswith("compiling the trend kernels (first run only")
    assert "1/1 kernel two" in lines[1] and lines[-1].startswith("compiled in")
    _kernels.ready()  # once per process
    assert calls == [(2, 3)]


def test_numba_is_imported_without_scipy_and_scipy_still_imports(tmp_path):
    # numba imports scipy (where installed) only to check its version; xlsector keeps that import out of
    # its start-up, and a later `import scipy` still works
    import subprocess
    import sys

    fake = tmp_path / "scipy"
    fake.mkdir()
    (fake / "__init__.py").write_text("import os\nos.environ['FAKE_SCIPY_IMPORTED'] = '1'\n__version__ = '9.9.9'\n")
    code = ("import os, sys; import xlsector as xs; from xlsector import _kernels\n"
            "import numpy as np, pandas as pd\n"
            "p = pd.DataFrame(100 + np.arange(300.0).reshape(100, 3), index=pd.bdate_range('2001-01-01', periods=100))\n"
            "xs.run_backtest(p, tc=5)\n"
            "assert 'FAKE_SCIPY_IMPORTED' not in os.environ and 'scipy' not in sys.modules, 'scipy imported'\n"
            "import scipy; assert scipy.__version__ == '9.9.9'\n"
            "print('ok', _kernels.HAVE_NUMBA)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    assert "compiling" not in result.stderr  # (the suite's cache is warm)


def test_remembered_strategies_are_keyed_by_type_as_well_as_value():
    from xlsector.backtesting import _strategy

    assert _strategy({"tc": 20, "hysteresis": 0.01}) is _strategy({"hysteresis": 0.01, "tc": 20})
    assert _strategy({"tc": 20}) == Strategy.from_kwargs(tc=20)
    _strategy({"tc": 1})
    with pytest.raises(ParameterError, match="tc must be"):
        _strategy({"tc": True})  # equal to 1 and hashed alike, but no trend constant
    with pytest.raises(ParameterError, match="unknown strategy parameter 'tcc'"):
        _strategy({"tcc": 3})
