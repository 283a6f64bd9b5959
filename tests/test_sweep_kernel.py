"""The sweep kernel (xlsector._kernels.sweep): combinations of one universe run in lockstep, the trends shared.

Its three twins — compiled, the same loop as plain Python, the numpy fallback (each combination alone by the
numpy rotation, then the FWPT walk and stitching of xlsector.tuning) — give the same outputs in several
feature mixes, on seeded random walks where one fund starts late and one stops early; a combination's slice of
the universe is the record preparing it alone builds; and on real data the shared path's rows equal the public
functions' (xlsector.sweep.evaluate.evaluate) in every field.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from xlsector import _kernels
from xlsector.backtesting import prepare
from xlsector.params import Strategy

DAYS = 360
TCS = np.array([2.0, 5.0, 9.0, 17.0, 30.0, 44.0])


def _walks(seed: int, funds: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prices = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, (DAYS, funds)), axis=0))
    frame = pd.DataFrame(prices, index=pd.bdate_range("2001-01-01", periods=DAYS),
                         columns=[f"F{i}" for i in range(funds)])
    frame.iloc[: DAYS // 5, 2] = np.nan  # starts late
    frame.iloc[-DAYS // 6:, 1] = np.nan  # stops early
    return frame


def _index(seed: int) -> pd.Series:
    rng = np.random.default_rng(seed + 1000)
    rets = 0.02 * np.sin(np.arange(DAYS) / 25.0) / 22 + rng.normal(0, 0.006, DAYS)  # StormGuard changes state
    return pd.Series(1000 * np.exp(np.cumsum(rets)), index=pd.bdate_range("2001-01-01", periods=DAYS), name="SPX")


MIXES = [
    pytest.param({}, {}, id="plain"),
    pytest.param({"stormguard": "standard", "shift": 0.002}, {"bear": True}, id="stormguard-bear"),
    pytest.param({"stormguard": "quick", "shift": 0.002, "min_hold": 5}, {}, id="quick-min-hold"),
    pytest.param({"schedule": "week", "delay": 0, "cost_bp": 30}, {"defer": False}, id="week-delay0-nodefer"),
    pytest.param({"hysteresis": 0.0, "decay": 20}, {"retune_days": 17}, id="no-hysteresis"),
]


def _case(seed: int, strategy: dict, options: dict):
    """The universe's record and a batch of K = 2 and K = 3 combinations of its five funds (with born-on days)."""
    prices = _walks(seed)
    index = _index(seed)
    bear = None
    if options.get("bear"):
        bear = pd.DataFrame({"B0": 40 * np.exp(np.cumsum(np.random.default_rng(seed + 7).normal(0, 0.004, DAYS)))},
                            index=prices.index)
    base = Strategy(tc=2, **strategy)
    kwargs = {"index": index if base.stormguard else None, "bear": bear}
    universe = prepare(prices, base, **kwargs).setup
    n_bear = 0 if bear is None else 1
    combos = [c for k in (2, 3) for c in combinations(range(5), k)][::2]
    width = 3 + n_bear
    rows = np.zeros((len(combos), width), np.int64)
    starts, t0s = [], []
    for b, combo in enumerate(combos):
        members = list(combo) + ([5] if n_bear else [])
        rows[b, : len(members)] = members
        alone = prepare(prices[[f"F{i}" for i in combo]], base, **kwargs).setup
        starts.append(alone.start)
        t0s.append(min(40 + 7 * b, DAYS - alone.start - 2))
    batch = _kernels.SweepBatch(rows=rows, n_bull=np.array([len(c) for c in combos], np.int64),
                                n_funds=np.array([len(c) + n_bear for c in combos], np.int64),
                                start=np.array(starts, np.int64), t0=np.array(t0s, np.int64))
    decays = TCS if base.decay is None else np.full(TCS.size, base.decay)
    return prices, kwargs, base, universe, combos, batch, decays


def _same(left: _kernels.SweepPaths, right: _kernels.SweepPaths) -> None:
    for name, a, b in zip(left._fields, left, right):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize(("strategy", "options"), MIXES)
def test_compiled_python_and_numpy_twins_give_the_same_outputs(strategy, options):
    _, _, _, universe, _, batch, decays = _case(3, strategy, options)
    retune = options.get("retune_days", 40)
    defer = options.get("defer", True)
    compiled = _kernels.sweep(universe, batch, TCS, decays, retune, defer)
    python = _kernels.sweep_python(universe, batch, TCS, decays, retune, defer)
    numpy_twin = _kernels.sweep_numpy(universe, batch, TCS, decays, retune, defer)
    _same(compiled, python)
    _same(compiled, numpy_twin)
    assert (compiled.n_events >= 2).all()  # the walks retuned (not only the first tuning)
    assert (compiled.switches > 0).any()


@pytest.mark.parametrize(("strategy", "options"), MIXES[:2])
def test_each_combination_is_the_lane_kernel_run_alone(strategy, options):
    """The growth, drawdown and switches of every tc and the walk of FWPT equal the rotation of the combination
    alone with the kernel's own walk (the path xlsector.tuning.fwpt takes)."""
    prices, kwargs, base, universe, combos, batch, decays = _case(11, strategy, options)
    out = _kernels.sweep(universe, batch, TCS, decays, 40, True)
    for b, combo in enumerate(combos):
        alone = prepare(prices[[f"F{i}" for i in combo]], base, **kwargs).setup
        assert _kernels.combination_setup(universe, batch, b)._asdict().keys() == alone._asdict().keys()
        for name, mine, theirs in zip(alone._fields, _kernels.combination_setup(universe, batch, b), alone):
            np.testing.assert_array_equal(mine, theirs, err_msg=name)  # the slice is the record alone
        n_days = alone.returns.shape[1] - alone.start
        walk = _kernels.Walk.new(int(batch.t0[b]), 40, True, n_days)
        paths = _kernels.rotate_python(alone, TCS, decays, walk=walk)
        np.testing.assert_array_equal(out.growth[b], paths.growth)
        np.testing.assert_array_equal(out.drawdown[b], paths.drawdown)
        np.testing.assert_array_equal(out.switches[b], paths.switches)
        count = walk.n_events[0]
        assert out.n_events[b] == count
        np.testing.assert_array_equal(out.events[b, :, :count], walk.events[:, :count])
        t0 = int(batch.t0[b])
        np.testing.assert_array_equal(out.hold[b, t0:n_days], walk.hold[t0:])
        np.testing.assert_array_equal(out.net[b, t0:n_days], walk.net[t0:])


# ------------------------------------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def etf(etf_prices):
    from xlsector.data import validate_prices

    return validate_prices(etf_prices, jump_threshold=None)[0]


SHARED_MIXES = [
    pytest.param({}, {}, id="defaults"),
    pytest.param({"strategy": {"stormguard": "standard", "cost_bp": 20.0}, "index": "SPY", "bear": ("TLT", "AGG")},
                 {}, id="stormguard-two-bear-funds"),
    pytest.param({"strategy": {"stormguard": "quick", "min_hold": 10, "schedule": "week", "delay": 0}, "index": "SPY"},
                 {}, id="quick-week-delay0"),
    pytest.param({"tuning": {"born_on": "2023-07-03", "retune_days": 40, "defer": False, "tc_min": 5,
                             "tc_max": 150, "tc_step": 5}, "benchmark": "SPY"}, {}, id="born-on-benchmark"),
]


@pytest.mark.parametrize(("changes", "_"), SHARED_MIXES)
def test_shared_rows_equal_the_public_functions_row_by_row(etf, changes, _):
    """Combinations of K = 1..3 with young funds (XLC from 2018, XLRE from 2015: later periods and born-on
    days) in one batch: every field of every row is the public path's (floats to 1e-12)."""
    from xlsector.params import TuningParams
    from xlsector.sweep import SweepSpec
    from xlsector.sweep.evaluate import SweepData, evaluate
    from xlsector.sweep.plan import check_spec
    from xlsector.sweep.shared import evaluate_shared

    tuning = TuningParams(**changes.get("tuning", {}))
    funds = ("XLE", "XLK", "XLU", "XLC", "XLRE")
    spec = check_spec(etf, SweepSpec(funds=funds, choose=(1, 2, 3), tuning=tuning,
                                     **{k: v for k, v in changes.items() if k != "tuning"}))
    data = SweepData.from_spec(etf, spec)
    batch = [(i, c) for i, c in enumerate(c for k in (1, 2, 3) for c in combinations(funds, k))][1::3]
    shared = evaluate_shared(data, batch)
    for (combo_id, combo), row in zip(batch, shared):
        alone = evaluate(data, combo_id, combo)
        for name, value in alone.to_dict().items():
            mine = getattr(row, name)
            if isinstance(value, float):
                assert mine == pytest.approx(value, abs=1e-12, nan_ok=True), (combo, name)
            else:
                assert mine == value, (combo, name)
    assert {row.born_on for row in shared} != {shared[0].born_on} or "born_on" in changes.get("tuning", {})
