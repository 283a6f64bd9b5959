"""Trend maths (SPEC §1): the paper's worked table, the closed-form step response, weights, momentum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlsector as xs
from xlsector.errors import DataError, ParameterError

from . import reference

# The source paper's worked table (Lingane, "SectorSurfer Forward Walk Progressive Tuning, An
# Introduction", 2015, page 3): VFINX adjusted NAV, a = 0.02 (tc = 50), k = 21, both states 0 on 1988-09-01.
PAPER_DATES = pd.to_datetime(["1988-09-01", "1988-09-02", "1988-09-06"])
PAPER_PRICES = [14.154, 14.494, 14.554]
PAPER_K_DR = [0.0, 0.50445, 0.08693]
PAPER_EMA = [0.0, 0.010089, 0.011626]
PAPER_EMA2 = [0.0, 0.000202, 0.000430]
# Its last rows (same run continued to 2013): date, EMA, EMA2.
PAPER_2013 = [("2013-06-20", 0.005413, 0.021508), ("2013-06-21", 0.006410, 0.021206),
              ("2013-06-24", 0.001187, 0.020806)]


def test_paper_rows_from_the_printed_prices():
    prices = pd.Series(PAPER_PRICES, index=PAPER_DATES)
    k_dr = xs.to_returns(prices) * 21
    np.testing.assert_allclose(k_dr, PAPER_K_DR, atol=5e-6)  # the paper prints 5 decimals
    np.testing.assert_allclose(xs.ema(prices, 50, k=21), PAPER_EMA, atol=5e-7)
    np.testing.assert_allclose(xs.ema2(prices, 50, k=21), PAPER_EMA2, atol=5e-7)


def test_paper_rows_from_real_vfinx(funds_prices):
    """The same table from the real VFINX series in ../shared/data, started on 1988-09-01 as the paper."""
    vfinx = funds_prices["VFINX"].loc["1988-09-01":"2013-06-24"].dropna()
    scaled = vfinx * 144.940 / vfinx.loc["2013-06-24"]  # the paper's last price (data README: within 0.007%)
    np.testing.assert_allclose(scaled.iloc[:3], PAPER_PRICES, rtol=2e-4)
    e1, e2 = xs.ema(vfinx, 50, k=21), xs.ema2(vfinx, 50, k=21)
    # The paper's prices are rounded to 3 decimals: its daily returns carry up to ~7e-5 of rounding,
    # i.e. up to ~3e-5 in EMA (× k·a = 0.42) and ~6e-7 in EMA2.
    np.testing.assert_allclose(e1.iloc[:3], PAPER_EMA, atol=1e-5)
    np.testing.assert_allclose(e2.iloc[:3], PAPER_EMA2, atol=1e-6)
    # 25 years later the whole history has entered the trend; the real data lands within 1e-5 (0.05 %)
    for date, ema_value, ema2_value in PAPER_2013:
        assert e1.loc[date] == pytest.approx(ema_value, abs=2e-5)
        assert e2.loc[date] == pytest.approx(ema2_value, abs=2e-5)


@pytest.mark.parametrize("tc", [2, 10, 21, 50, 137.5])
@pytest.mark.parametrize("k", [21, 22])
def test_closed_form_step_response(tc, k):
    r = 0.0013
    n = np.arange(300)
    prices = pd.Series(10 * (1 + r) ** n, index=pd.bdate_range("2000-01-03", periods=300))
    a = 1 / tc
    # the first daily return is 0 (first price), so the constant return runs for n days by day n
    expected = k * r * (1 - (1 - a) ** n - n * a * (1 - a) ** n)
    np.testing.assert_allclose(xs.ema2(prices, tc, k=k).to_numpy(), expected, rtol=1e-10, atol=1e-15)


def test_each_column_starts_at_zero_on_its_own_first_price():
    dates = pd.bdate_range("2010-01-01", periods=6)
    prices = pd.DataFrame({"A": [1, 1.1, 1.2, 1.1, 1.3, 1.2], "B": [np.nan, np.nan, 5, 5.5, 5.0, np.nan]},
                          index=dates)
    trend = xs.ema2(prices, 3)
    assert trend["B"].iloc[:2].isna().all()
    assert trend["B"].iloc[2] == 0.0
    # after B's last price its return is 0: the trend decays, it does not vanish
    assert np.isfinite(trend["B"].iloc[5])
    # each column equals the one-column computation on its own rows
    alone = xs.ema2(prices["B"].dropna(), 3)
    np.testing.assert_allclose(trend["B"].iloc[2:5], alone, rtol=1e-14)
    np.testing.assert_allclose(trend, reference.trends(prices, 3, 22), rtol=1e-12)


def test_weights_reproduce_the_recursion_and_sum_to_k():
    """EMA2 is the weighted sum of past scaled returns with weights k·a²(t+1)(1−a)^t (Chart 1)."""
    rng = np.random.default_rng(4)
    prices = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, 400)), index=pd.bdate_range("2005-01-03", periods=400))
    tc = 15
    returns = xs.to_returns(prices).to_numpy()
    weights = xs.ema2_weights(tc, 400)
    by_weights = np.array([np.dot(weights[: n + 1], returns[n::-1]) for n in range(400)])
    np.testing.assert_allclose(by_weights, xs.ema2(prices, tc).to_numpy(), rtol=1e-10, atol=1e-16)
    first_stage = np.array([np.dot(xs.ema_weights(tc, 400)[: n + 1], returns[n::-1]) for n in range(400)])
    np.testing.assert_allclose(first_stage, xs.ema(prices, tc).to_numpy(), rtol=1e-10, atol=1e-16)
    long = np.arange(20_000)
    assert xs.ema_weights(tc, long).sum() == pytest.approx(22)
    assert xs.ema2_weights(tc, long).sum() == pytest.approx(22)
    # EMA2 weights rise then fall: the peak is at age tc − 1 (a shorter tc puts more weight on recent days)
    assert int(np.argmax(xs.ema2_weights(tc, 200))) in (tc - 2, tc - 1)


@pytest.mark.parametrize("tc", [2, 17, 50])
def test_lag_is_the_mean_age_of_the_weights(tc):
    ages = np.arange(50_000)
    weights = xs.ema2_weights(tc, ages)
    assert xs.ema2_lag(tc) == pytest.approx(np.dot(ages, weights) / weights.sum())


def test_momentum_is_n_day_total_return():
    prices = pd.DataFrame({"A": [10.0, 11, 12, 9, 15]}, index=pd.bdate_range("2020-01-01", periods=5))
    mom = xs.momentum(prices, 2)
    assert mom["A"].iloc[:2].isna().all()
    np.testing.assert_allclose(mom["A"].iloc[2:], [12 / 10 - 1, 9 / 11 - 1, 15 / 12 - 1])


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(0.01, 1e4), seed=st.integers(0, 1000))
def test_rescaling_prices_leaves_trends_unchanged(scale, seed):
    rng = np.random.default_rng(seed)
    prices = pd.DataFrame(np.cumprod(1 + rng.normal(0, 0.02, (60, 3)), axis=0))
    np.testing.assert_allclose(xs.ema2(prices * scale, 7), xs.ema2(prices, 7), rtol=1e-9, atol=1e-15)


def test_bad_input_names_argument_rule_and_value():
    prices = pd.Series([1.0, 2.0, 3.0])
    for bad in (0, -1, 0.5, float("nan"), "ten", None, True):
        with pytest.raises(ParameterError, match="tc must be a number >= 1"):
            xs.ema2(prices, bad)
    with pytest.raises(ParameterError, match="k \\(the scale\\) must be a number > 0"):
        xs.ema2(prices, 5, k=0)
    with pytest.raises(DataError, match="must be > 0; column .* has 0"):
        xs.ema2(pd.Series([1.0, 0.0, 2.0]), 5)
    with pytest.raises(DataError, match="must be numeric"):
        xs.ema2(pd.Series(["a", "b"]), 5)
    with pytest.raises(ParameterError, match="days must be a whole number >= 1"):
        xs.momentum(prices, 0)
    with pytest.raises(ParameterError, match="ages must be"):
        xs.ema_weights(5, -3)


def test_numpy_fallback_of_the_ema_equals_the_compiled_one():
    from xlsector import _kernels

    rng = np.random.default_rng(9)
    scaled = rng.normal(0, 0.01, (500, 5))
    outputs = []
    for kernel in (_kernels.ema_pair, _kernels._ema_numpy, _kernels._ema_loop):
        e1, e2 = np.empty_like(scaled), np.empty_like(scaled)
        kernel(scaled, 1 / 13, e1, e2)
        outputs.append((e1, e2))
    for e1, e2 in outputs[1:]:
        np.testing.assert_allclose(e1, outputs[0][0], rtol=1e-13, atol=1e-17)
        np.testing.assert_allclose(e2, outputs[0][1], rtol=1e-13, atol=1e-17)
