"""Tests of xlsector.overfitting (SPEC section 4, "Overfitting and robustness").

Each statistic is checked three ways: against the numbers printed in the papers' worked examples (the
paper and section beside each number, with the hand arithmetic that connects them), against a slow and
obvious implementation written here (direct formula loops with an erf-based normal CDF and a bisection
quantile for PSR/MinTRL/DSR; a loop over every CSCV combination with plain-Python ranking for PBO), and by
hypothesis properties. A real-data check runs the PBO of the trend-constant grid on the sector ETFs.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xlsector.errors import DataError, ParameterError
from xlsector.overfitting import (
    EULER_GAMMA,
    PBO_CONVENTION,
    PboResult,
    deflated_sharpe,
    expected_max_sharpe,
    min_track_record,
    pbo,
    probabilistic_sharpe,
    sharpe_ratios,
    sharpe_stats,
)

# ----------------------------------------------------------------------------------------------------
# slow, obvious implementations (no scipy, no statistics.NormalDist)
# ----------------------------------------------------------------------------------------------------


def phi(z: float) -> float:
    """Standard normal CDF from math.erf."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def phi_inv(p: float) -> float:
    """Standard normal quantile by bisection; upper tail on erfc (1 - p is exact for p >= 0.5)."""
    q = 1.0 - p
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if (0.5 * math.erfc(mid / math.sqrt(2.0)) > q) if p >= 0.5 else (phi(mid) < p):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def psr_slow(sr, n, skew, kurt, bench):
    sigma_sr = math.sqrt((1 - skew * sr + (kurt - 1) / 4 * sr**2) / (n - 1))  # std of the estimated SR
    return phi((sr - bench) / sigma_sr)


def sr0_slow(n_trials, var):
    return math.sqrt(var) * ((1 - EULER_GAMMA) * phi_inv(1 - 1 / n_trials)
                             + EULER_GAMMA * phi_inv(1 - 1 / (n_trials * math.e)))


def mintrl_slow(sr, skew, kurt, bench, prob):
    # smallest real n with psr_slow(sr, n, ...) >= prob, by bisection on n (PSR increases with n)
    lo, hi = 1.0, 1e12
    for _ in range(300):
        mid = (lo + hi) / 2
        if psr_slow(sr, mid, skew, kurt, bench) < prob:
            lo = mid
        else:
            hi = mid
    return hi


def sharpe_slow(column):
    n = len(column)
    mean = sum(column) / n
    var = sum((v - mean) ** 2 for v in column) / (n - 1)
    return mean / math.sqrt(var)


def mean_slow(column):
    return sum(column) / len(column)


def pbo_slow(x, blocks, perf=sharpe_slow):
    """CSCV as the paper describes it: one pass over every combination, concatenated rows, Python ranks."""
    t, n = x.shape
    parts = np.array_split(np.arange(t), blocks)
    logits, selected, is_perf, oos_perf = [], [], [], []
    for combo in itertools.combinations(range(blocks), blocks // 2):
        rest = [b for b in range(blocks) if b not in combo]
        rows_is = np.concatenate([parts[b] for b in combo])
        rows_oos = np.concatenate([parts[b] for b in rest])
        r_is = [perf(list(x[rows_is, j])) for j in range(n)]
        r_oos = [perf(list(x[rows_oos, j])) for j in range(n)]
        best = 0
        for j in range(1, n):
            if r_is[j] > r_is[best]:  # strictly greater: ties stay with the first column
                best = j
        v = r_oos[best]
        below = sum(1 for j in range(n) if r_oos[j] < v)
        equal = sum(1 for j in range(n) if r_oos[j] == v)
        rank = below + (equal + 1) / 2  # average rank, 1 = worst
        omega = rank / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
        selected.append(best)
        is_perf.append(r_is[best])
        oos_perf.append(v)
    pbo_value = sum(1 for lam in logits if lam <= 0) / len(logits)
    return pbo_value, np.array(logits), np.array(selected), np.array(is_perf), np.array(oos_perf)


def ols_slow(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((a - mx) ** 2 for a in xs)
    sxy = sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True))
    syy = sum((b - my) ** 2 for b in ys)
    slope = sxy / sxx
    return slope, my - slope * mx, sxy**2 / (sxx * syy)


def noise(seed, t, n, mean=0.0, sd=0.01):
    return np.random.default_rng(seed).normal(mean, sd, (t, n))


# ----------------------------------------------------------------------------------------------------
# PSR and MinTRL: Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier", J. of Risk 15(2)
# ----------------------------------------------------------------------------------------------------


def test_psr_published_example():
    # Bailey & López de Prado (2012), section 3 (PSR), numerical example: two years of monthly returns
    # (n = 24) with an annualised SR of 1.59, i.e. 0.458 per month (0.458 * sqrt(12) = 1.587).
    # Normal returns: PSR(0) = 0.982 as printed. (These figures as quoted by the paper-example tests of
    # rubenbriones/Probabilistic-Sharpe-Ratio, tests/test_sharpe_ratio_stats.py; re-derived below by hand.)
    #   sigma(SR) = sqrt((1 + 0.458^2 / 2) / 23) = sqrt(1.104882 / 23) = 0.219176; z = 0.458 / 0.219176
    #   = 2.0896; Phi(2.0896) = 0.9817.
    assert probabilistic_sharpe(0.458, 24) == pytest.approx(0.982, abs=5e-4)
    # Same SR with skewness -2.448 and (raw) kurtosis 10.164: PSR(0) = 0.913 as printed.
    #   1 + 2.448 * 0.458 + (10.164 - 1) / 4 * 0.458^2 = 1 + 1.121184 + 0.480569 = 2.601753;
    #   sigma(SR) = sqrt(2.601753 / 23) = 0.336334; z = 1.36174; Phi(1.36174) = 0.9134.
    assert probabilistic_sharpe(0.458, 24, skew=-2.448, kurtosis=10.164) == pytest.approx(0.913, abs=5e-4)


def test_min_track_record_published_examples():
    # Bailey & López de Prado (2012), section 4 (minimum track record length), the two hedge-fund index
    # examples on monthly returns, MinTRL printed in years (so months / 12), PSR benchmark 0, 95 % (as
    # quoted by the same rubenbriones/Probabilistic-Sharpe-Ratio tests; re-derived here by hand):
    #   SR 0.7079, skew -0.2250, kurtosis 2.9570 -> 0.7152 years:
    #     1 + 0.2250 * 0.7079 + 1.957 / 4 * 0.7079^2 = 1.404452; (1.644854 / 0.7079)^2 = 5.398967;
    #     1 + 1.404452 * 5.398967 = 8.582588 months = 0.715216 years.
    assert min_track_record(0.7079, skew=-0.2250, kurtosis=2.9570) / 12 == pytest.approx(0.7152, abs=5e-5)
    #   SR 0.8183, skew -1.4455, kurtosis 7.0497 -> 1.1593 years:
    #     1 + 1.4455 * 0.8183 + 6.0497 / 4 * 0.8183^2 = 3.195595; (1.644854 / 0.8183)^2 = 4.040447;
    #     1 + 3.195595 * 4.040447 = 13.911632 months = 1.159303 years.
    assert min_track_record(0.8183, skew=-1.4455, kurtosis=7.0497) / 12 == pytest.approx(1.1593, abs=5e-5)


def test_psr_against_slow_formula_loop():
    for sr in (-0.2, 0.0, 0.03, 0.1, 0.458):
        for n in (2, 24, 252, 5000):
            for skew, kurt in ((0.0, 3.0), (-2.448, 10.164), (0.5, 4.0), (-1.0, 2.0)):
                for bench in (0.0, 0.05, -0.1):
                    expected = psr_slow(sr, n, skew, kurt, bench)
                    assert probabilistic_sharpe(sr, n, skew, kurt, bench) == pytest.approx(expected, abs=1e-12)


def test_min_track_record_against_slow_bisection():
    for sr, skew, kurt, bench, prob in [
        (0.1, 0.0, 3.0, 0.0, 0.95),
        (0.05, -0.5, 6.0, 0.01, 0.99),
        (0.3, 1.0, 5.0, -0.1, 0.9),
        (0.7079, -0.2250, 2.9570, 0.0, 0.95),
    ]:
        assert min_track_record(sr, skew, kurt, bench, prob) == pytest.approx(
            mintrl_slow(sr, skew, kurt, bench, prob), rel=1e-9)


def test_min_track_record_edges():
    assert min_track_record(0.1, sr_benchmark=0.1) == math.inf  # SR equal to the benchmark: never
    assert min_track_record(-0.05) == math.inf  # SR below the benchmark: never
    assert min_track_record(0.1, prob=0.5) == 1.0  # Z(0.5) = 0: any track record gives PSR >= 0.5
    assert math.isnan(min_track_record(float("nan")))


def test_psr_nan_policy():
    assert math.isnan(probabilistic_sharpe(float("nan"), 100))
    assert math.isnan(probabilistic_sharpe(0.1, 100, skew=float("nan")))
    assert math.isnan(probabilistic_sharpe(0.1, 100, sr_benchmark=float("nan")))
    # variance term 1 - 3 * 0.5 + (1 - 1) / 4 * 0.25 = -0.5 <= 0 (kurtosis 1 < 1 + skew^2: no distribution)
    assert math.isnan(probabilistic_sharpe(0.5, 100, skew=3.0, kurtosis=1.0))
    assert math.isnan(min_track_record(0.5, skew=3.0, kurtosis=1.0))
    assert math.isnan(deflated_sharpe(0.5, 100, 10, 0.01, skew=3.0, kurtosis=1.0))
    # n_obs = 2 is the smallest allowed: sqrt(n - 1) = 1
    assert probabilistic_sharpe(0.5, 2) == pytest.approx(phi(0.5 / math.sqrt(1.125)), abs=1e-15)


# ----------------------------------------------------------------------------------------------------
# expected maximum Sharpe and DSR: Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", JPM 40(5)
# ----------------------------------------------------------------------------------------------------

# The paper's numerical example is in annualised units on daily data with 250 days a year: SR 2.5, five
# years (T = 1250), N = 100 independent trials, V[SR_n] = 1/2, skewness -3, kurtosis 10, giving SR0 = 0.1132
# and DSR = 0.9004 (inputs and results as also used by the tests of jameschch/LeanOptimization,
# Optimization.Tests/DeflatedSharpeRatioFitnessTest.cs; re-derived below by hand). Per period:
DSR_SR = 2.5 / math.sqrt(250)  # 0.158114 per day
DSR_VAR = 0.5 / 250  # 0.002 per day^2 (a variance converts with the factor itself)


def test_expected_max_sharpe_published_example():
    # Bailey & López de Prado (2014), numerical example: E[max SR] = SR0 = 0.1132 (non-annualised).
    #   Z(1 - 1/100) = 2.326348, Z(1 - 1/(100 e)) = Z(0.996321) = 2.680210;
    #   sqrt(0.002) * (0.422784 * 2.326348 + 0.577216 * 2.680210) = 0.044721 * 2.530603 = 0.113172.
    assert expected_max_sharpe(100, DSR_VAR) == pytest.approx(0.1132, abs=5e-5)


def test_dsr_published_example():
    # Bailey & López de Prado (2014), numerical example: DSR = 0.9004 as printed.
    #   1 + 3 * 0.158114 + 9 / 4 * 0.158114^2 = 1.530592; z = (0.158114 - 0.113172) * sqrt(1249)
    #   / sqrt(1.530592) = 1.28382; Phi(1.28382) = 0.90040.
    assert deflated_sharpe(DSR_SR, 1250, 100, DSR_VAR, skew=-3.0, kurtosis=10.0) == pytest.approx(0.9004, abs=5e-5)
    # with 252 days a year instead the same annual inputs give 0.8997: the paper used 250
    assert deflated_sharpe(2.5 / math.sqrt(252), 1250, 100, 0.5 / 252, -3.0, 10.0) == pytest.approx(0.8997, abs=5e-5)


def test_expected_max_sharpe_against_slow_formula_loop():
    for n_trials in (2, 3, 10, 100, 199, 1000, 1e6):
        for var in (0.0, 1e-4, 0.002, 1.0):
            assert expected_max_sharpe(n_trials, var) == pytest.approx(sr0_slow(n_trials, var), abs=1e-12)


def test_dsr_against_slow_formula_loop():
    for sr in (0.01, 0.05, 0.158):
        for n in (252, 1250, 8000):
            for n_trials in (2, 50, 199):
                for var in (1e-5, 1e-3):
                    for skew, kurt in ((0.0, 3.0), (-3.0, 10.0), (0.3, 5.0)):
                        expected = psr_slow(sr, n, skew, kurt, sr0_slow(n_trials, var))
                        got = deflated_sharpe(sr, n, n_trials, var, skew, kurt)
                        assert got == pytest.approx(expected, abs=1e-12)


def test_expected_max_sharpe_approximates_the_exact_expected_maximum():
    # Independent check of the formula (not of the code): E[max of N iid standard normals]
    #   = integral of x * N * phi(x) * Phi(x)^(N-1) dx, by the trapezoid rule. The paper's approximation
    #   is within 3 % for N = 10, 100, 1000 (1.5388 vs 1.5746, 2.5076 vs 2.5306, 3.2414 vs 3.2551).
    grid = np.linspace(-10, 10, 200_001)
    pdf = np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(grid / math.sqrt(2)))
    for n_trials in (10, 100, 1000):
        exact = np.trapezoid(grid * n_trials * pdf * cdf ** (n_trials - 1), grid)
        assert expected_max_sharpe(n_trials, 1.0) == pytest.approx(exact, rel=0.03)
        assert expected_max_sharpe(n_trials, 4.0) == pytest.approx(2 * expected_max_sharpe(n_trials, 1.0))


def test_expected_max_sharpe_nan_and_zero():
    assert expected_max_sharpe(10, 0.0) == 0.0
    assert math.isnan(expected_max_sharpe(10, float("nan")))
    assert math.isnan(deflated_sharpe(0.1, 100, 10, float("nan")))


# ----------------------------------------------------------------------------------------------------
# PSR / DSR / MinTRL properties
# ----------------------------------------------------------------------------------------------------

# skewness and a raw kurtosis that one distribution can have (Pearson: kurtosis >= 1 + skew^2)
moments = st.tuples(st.floats(-2, 2), st.floats(0, 20)).map(lambda t: (t[0], 1 + t[0] ** 2 + t[1]))


@settings(max_examples=200, deadline=None)
@given(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5), st.integers(2, 10_000), moments)
def test_psr_increases_with_the_sharpe_ratio(sr1, sr2, n, mom):
    # dPSR/dSR has the sign of 1 - skew * SR / 2 (benchmark 0), positive for |skew| <= 2, |SR| <= 0.5
    skew, kurt = mom
    lo, hi = min(sr1, sr2), max(sr1, sr2)
    assert probabilistic_sharpe(lo, n, skew, kurt) <= probabilistic_sharpe(hi, n, skew, kurt) + 1e-15


@settings(max_examples=200, deadline=None)
@given(st.floats(-0.5, 0.5), st.integers(2, 10_000), st.integers(2, 10_000), st.floats(1e-8, 0.1), moments)
def test_dsr_is_at_most_psr_against_zero(sr, n, n_trials, var, mom):
    skew, kurt = mom
    dsr = deflated_sharpe(sr, n, n_trials, var, skew, kurt)
    psr = probabilistic_sharpe(sr, n, skew, kurt, 0.0)
    assert 0.0 <= dsr <= psr <= 1.0
    assert expected_max_sharpe(n_trials, var) > 0.0


@settings(max_examples=200, deadline=None)
@given(st.floats(0.01, 0.5), st.floats(-0.1, 0.0), moments, st.floats(0.5, 0.999))
def test_min_track_record_inverts_psr(sr, bench, mom, prob):
    skew, kurt = mom
    n = min_track_record(sr, skew, kurt, bench, prob)
    assume(n >= 2)
    assert probabilistic_sharpe(sr, n, skew, kurt, bench) == pytest.approx(prob, abs=1e-9)


# ----------------------------------------------------------------------------------------------------
# sharpe_ratios and sharpe_stats
# ----------------------------------------------------------------------------------------------------


def test_sharpe_stats_hand_example():
    # r = 1, 2, 3, 6: mean 3, deviations -2, -1, 0, 3
    #   sample std = sqrt(14 / 3) = 2.160247 -> SR = 3 / 2.160247 = 1.388730
    #   m2 = 14/4 = 3.5, m3 = (-8 - 1 + 0 + 27)/4 = 4.5, m4 = (16 + 1 + 0 + 81)/4 = 24.5
    #   skew = 4.5 / 3.5^1.5 = 0.687243, kurtosis = 24.5 / 3.5^2 = 2.0 exactly
    sr, n, skew, kurt = sharpe_stats(np.array([1.0, 2.0, 3.0, 6.0]))
    assert n == 4
    assert sr == pytest.approx(3 / math.sqrt(14 / 3), rel=1e-15)
    assert skew == pytest.approx(4.5 / 3.5**1.5, rel=1e-14)
    assert kurt == pytest.approx(2.0, rel=1e-14)
    assert sharpe_ratios(np.array([1.0, 2.0, 3.0, 6.0])) == pytest.approx([1.388730], rel=1e-6)


def test_sharpe_stats_match_pandas_after_the_small_sample_adjustment():
    # pandas reports the adjusted estimators: G1 = g1 * sqrt(n (n - 1)) / (n - 2) and excess
    # G2 = (n - 1) / ((n - 2)(n - 3)) * ((n + 1) * (b2 - 3) + 6); ours are the moment estimators g1, b2.
    x = pd.Series(np.random.default_rng(5).standard_t(5, 300) * 0.01 + 0.0005)
    sr, n, skew, kurt = sharpe_stats(x)
    assert sr == pytest.approx(x.mean() / x.std(), rel=1e-12)
    assert skew * math.sqrt(n * (n - 1)) / (n - 2) == pytest.approx(x.skew(), rel=1e-10)
    assert (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * (kurt - 3) + 6) == pytest.approx(x.kurt(), rel=1e-10)
    assert sharpe_ratios(x.to_frame())[0] == pytest.approx(sr, rel=1e-13)


def test_sharpe_ratios_columns_and_degenerate():
    x = noise(1, 500, 4)
    x[:, 2] = 0.0001  # cash at a fixed rate: zero variance
    got = sharpe_ratios(pd.DataFrame(x))
    assert got.shape == (4,)
    for j in (0, 1, 3):
        assert got[j] == pytest.approx(sharpe_slow(list(x[:, j])), rel=1e-12)
    assert math.isnan(got[2])
    sr, n, skew, kurt = sharpe_stats(x[:, 2])
    assert n == 500 and math.isnan(sr) and math.isnan(skew) and math.isnan(kurt)
    assert math.isnan(probabilistic_sharpe(sr, n))


# ----------------------------------------------------------------------------------------------------
# PBO: hand examples
# ----------------------------------------------------------------------------------------------------


def test_pbo_hand_example_mean_metric():
    # S = 2 blocks of 2 rows, 3 trials, metric = mean return of each half. Combinations: {0} and {1}.
    #   block 0 means: A 2, B 1, C 0          block 1 means: A -1, B 3, C 1
    # combination 0 (in = block 0): best A (2); out of sample A is the worst of (-1, 3, 1): rank 1,
    #   omega = 1/4, logit = ln(1/3) = -1.098612
    # combination 1 (in = block 1): best B (3); out of sample B is 2nd of (2, 1, 0): rank 2,
    #   omega = 2/4, logit = 0 -> counts as overfit (<= 0)
    # PBO = 2/2 = 1; out-of-sample metric of the selected: -1, 1 -> prob_loss = 1/2
    # degradation through (2, -1) and (3, 1): slope 2, intercept -5, R^2 1
    x = np.array([[3.0, 1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 3.0, 1.0], [-1.0, 3.0, 1.0]])
    res = pbo(pd.DataFrame(x, columns=["A", "B", "C"]), blocks=2, metric="mean")
    np.testing.assert_allclose(res.logits, [math.log(1 / 3), 0.0], atol=1e-15)
    assert res.selected.tolist() == [0, 1]
    assert res.pbo == 1.0 and res.prob_loss == 0.5
    np.testing.assert_allclose(res.is_performance, [2.0, 3.0])
    np.testing.assert_allclose(res.oos_performance, [-1.0, 1.0])
    assert (res.slope, res.intercept, res.r2) == pytest.approx((2.0, -5.0, 1.0))
    assert res.n_combinations == 2 and res.blocks == 2 and res.n_trials == 3 and res.n_obs == 4
    assert res.summary()["most_selected"] in ("A", "B") and res.trials == ("A", "B", "C")


def test_pbo_hand_example_ties():
    # S = 2, 4 trials, metric = mean.   block 0 means: A 1, B 1, C 0, D 0   block 1 means: A 5, B 5, C 5, D 0
    # combination 0: A and B tie in sample -> A (first column). Out of sample (5, 5, 5, 0): below 1, equal 3,
    #   average rank 1 + (3 + 1)/2 = 3, omega = 3/5, logit = ln(3/2) = 0.405465
    # combination 1: A, B, C tie in sample -> A. Out of sample (1, 1, 0, 0): below 2, equal 2,
    #   rank 2 + 3/2 = 3.5, omega = 0.7, logit = ln(7/3) = 0.847298
    # PBO = 0
    x = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [5.0, 5.0, 5.0, 0.0], [5.0, 5.0, 5.0, 0.0]])
    res = pbo(x, blocks=2, metric="mean")
    assert res.selected.tolist() == [0, 0]
    np.testing.assert_allclose(res.logits, [math.log(1.5), math.log(7 / 3)], rtol=1e-15)
    assert res.pbo == 0.0 and res.prob_loss == 0.0
    # degradation through (in 1, out 5) and (in 5, out 1): slope -1, intercept 6, R^2 1
    assert (res.slope, res.intercept, res.r2) == pytest.approx((-1.0, 6.0, 1.0))


def test_pbo_hand_example_sharpe_metric():
    # S = 2 blocks of 2 rows, 2 trials, Sharpe of 2 values a, b = (a + b) / 2 / (|a - b| / sqrt(2)).
    #   trial 0: block 0 (1, 3) -> 2 / sqrt(2) = 1.414214;  block 1 (0, 2) -> 1 / sqrt(2) = 0.707107
    #   trial 1: block 0 (0, 4) -> 2 / (4 / sqrt(2)) = 0.707107;  block 1 (3, 5) -> 4 / sqrt(2) = 2.828427
    # combination 0: best trial 0 (1.414 > 0.707); out of sample (0.707, 2.828): rank 1 -> logit ln(1/2)
    # combination 1: best trial 1 (2.828 > 0.707); out of sample (1.414, 0.707): rank 1 -> logit ln(1/2)
    x = np.array([[1.0, 0.0], [3.0, 4.0], [0.0, 3.0], [2.0, 5.0]])
    res = pbo(x, blocks=2)
    np.testing.assert_allclose(res.logits, [math.log(0.5)] * 2, rtol=1e-15)
    np.testing.assert_allclose(res.is_performance, [math.sqrt(2), 2 * math.sqrt(2)], rtol=1e-14)
    np.testing.assert_allclose(res.oos_performance, [1 / math.sqrt(2), 1 / math.sqrt(2)], rtol=1e-14)
    assert res.pbo == 1.0 and res.prob_loss == 0.0 and res.slope == pytest.approx(0.0, abs=1e-14)


def test_combination_order_pairs_complements():
    # the block-sum path relies on it: in itertools order the first half of the combinations hold block 0
    # and combination C - 1 - i is the complement of combination i (each half is computed once per pair)
    for s in range(2, 19, 2):  # (a property of the lexicographic order for every even S)
        combos = list(itertools.combinations(range(s), s // 2))
        c = len(combos)
        for i in range(c // 2):
            assert 0 in combos[i]
            assert set(combos[c - 1 - i]) == set(range(s)) - set(combos[i])


def test_pbo_paper_combination_count():
    # Bailey, Borwein, López de Prado & Zhu (2017), section 2: S = 16 gives C(16, 8) = 12,870 combinations.
    res = pbo(noise(3, 64, 3), blocks=16)
    assert res.n_combinations == 12_870 == math.comb(16, 8)
    assert res.logits.shape == res.selected.shape == res.is_performance.shape == (12_870,)


# ----------------------------------------------------------------------------------------------------
# PBO against the slow implementation
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "t", "n", "blocks"), [(0, 80, 5, 4), (1, 103, 7, 6), (2, 97, 4, 8), (3, 40, 2, 2)])
def test_pbo_matches_slow_loop(seed, t, n, blocks):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.normal(0, 0.002, n), 0.01, (t, n))  # uneven blocks when t % blocks != 0
    x[:, -1] = x[:, 0]  # a duplicated trial: exact ties in and out of sample
    for metric, perf in (("sharpe", sharpe_slow), ("mean", mean_slow)):
        slow_pbo, logits, selected, is_perf, oos_perf = pbo_slow(x, blocks, perf)
        fast = pbo(x, blocks=blocks, metric=metric)
        np.testing.assert_array_equal(fast.selected, selected)
        np.testing.assert_allclose(fast.logits, logits, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast.is_performance, is_perf, rtol=1e-10)
        np.testing.assert_allclose(fast.oos_performance, oos_perf, rtol=1e-10)
        assert fast.pbo == slow_pbo
        assert fast.prob_loss == np.mean(oos_perf < 0)
        assert (fast.slope, fast.intercept, fast.r2) == pytest.approx(ols_slow(list(is_perf), list(oos_perf)), rel=1e-8)


def test_pbo_callable_metric_matches_slow_loop_and_vectorised():
    x = noise(4, 90, 6)
    x[:, 4] = x[:, 1]

    def sortino_like(half):  # any metric: mean over root mean square of the losses
        return half.mean(axis=0) / np.sqrt(np.mean(np.minimum(half, 0.0) ** 2, axis=0))

    slow_pbo, logits, selected, _, _ = pbo_slow(x, 6, lambda col: float(sortino_like(np.array(col)[:, None])[0]))
    got = pbo(x, blocks=6, metric=sortino_like)
    assert got.metric == "sortino_like"
    np.testing.assert_array_equal(got.selected, selected)
    np.testing.assert_allclose(got.logits, logits, atol=1e-12)
    assert got.pbo == slow_pbo
    # the loop path with the Sharpe ratio agrees with the block-sum path
    loop, fast = pbo(x, blocks=6, metric=sharpe_ratios), pbo(x, blocks=6)
    np.testing.assert_array_equal(loop.selected, fast.selected)
    np.testing.assert_allclose(loop.logits, fast.logits, atol=1e-12)
    np.testing.assert_allclose(loop.is_performance, fast.is_performance, rtol=1e-12)


# ----------------------------------------------------------------------------------------------------
# PBO properties
# ----------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.sampled_from([2, 4, 6, 8]), st.integers(0, 40),
       st.sampled_from(["sharpe", "mean"]))
def test_pbo_bounds(seed, n, blocks, extra, metric):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.normal(0, 0.003, n), rng.uniform(0.005, 0.02, n), (2 * blocks + extra, n))
    res = pbo(x, blocks=blocks, metric=metric)
    assert 0.0 <= res.pbo <= 1.0 and 0.0 <= res.prob_loss <= 1.0
    assert np.isfinite(res.logits).all()
    # logits lie between those of the worst (rank 1) and the best (rank N) out-of-sample place
    assert (res.logits >= math.log(1 / n) - 1e-12).all() and (res.logits <= math.log(n) + 1e-12).all()
    assert res.n_combinations == math.comb(blocks, blocks // 2) == len(res.logits)
    assert ((res.selected >= 0) & (res.selected < n)).all()
    assert res.pbo == np.mean(res.logits <= 0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 8), st.sampled_from([2, 4, 6]))
def test_pbo_invariant_under_column_order(seed, n, blocks):
    x = noise(seed, 60, n)
    order = np.random.default_rng(seed + 1).permutation(n)
    a, b = pbo(x, blocks=blocks), pbo(x[:, order], blocks=blocks)
    np.testing.assert_allclose(b.logits, a.logits, atol=1e-12)
    np.testing.assert_array_equal(order[b.selected], a.selected)
    assert a.pbo == b.pbo


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 12), st.sampled_from([2, 4, 6, 8]))
def test_pbo_dominant_trial_is_never_overfit(seed, n, blocks):
    # trial 2 % n has a mean return 5 standard deviations above the others in every row block: it is the
    # best in and out of sample in every combination, rank N, omega = N/(N+1), logit = ln N > 0
    x = noise(seed, 20 * blocks, n)
    star = 2 % n
    x[:, star] += 0.05
    for metric in ("sharpe", "mean"):
        res = pbo(x, blocks=blocks, metric=metric)
        assert res.pbo == 0.0 and res.prob_loss == 0.0
        assert (res.selected == star).all()
        np.testing.assert_allclose(res.logits, math.log(n), rtol=1e-14)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 12), st.sampled_from([2, 4, 6, 8]))
def test_pbo_identical_trials_give_logit_zero(seed, n, blocks):
    # N copies of one trial: the in-sample best is column 0 (ties to the first); out of sample all N tie,
    # average rank (N + 1)/2, omega = 1/2, logit = 0 <= 0: PBO = 1 (selection gains nothing)
    x = np.repeat(noise(seed, 10 * blocks, 1), n, axis=1)
    res = pbo(x, blocks=blocks)
    assert (res.selected == 0).all()
    assert (res.logits == 0.0).all()
    assert res.pbo == 1.0
    np.testing.assert_allclose(res.is_performance, sharpe_ratio_halves(x[:, 0], blocks), rtol=1e-10)


def sharpe_ratio_halves(column, blocks):
    parts = np.array_split(column, blocks)
    return np.array([sharpe_slow(list(np.concatenate([parts[b] for b in combo])))
                     for combo in itertools.combinations(range(blocks), blocks // 2)])


def test_pbo_of_pure_noise_averages_one_half():
    # Independent derivation: with N exchangeable trials of iid noise the in-sample winner's
    # out-of-sample rank is uniform on 1..N, so for even N P(logit <= 0) = P(rank <= N/2) = 1/2 exactly.
    # The mean PBO over 200 seeded noise panels (N = 6, S = 8) estimates it; its standard error is
    # about 0.02, the bound 0.08 is 4 of them.
    values = [pbo(noise(seed, 64, 6), blocks=8).pbo for seed in range(200)]
    assert abs(np.mean(values) - 0.5) < 0.08


# ----------------------------------------------------------------------------------------------------
# PBO result object and errors
# ----------------------------------------------------------------------------------------------------


def test_pbo_result_is_frozen_and_read_only():
    res = pbo(noise(7, 40, 3), blocks=4)
    assert isinstance(res, PboResult)
    with pytest.raises(AttributeError):
        res.pbo = 0.5
    with pytest.raises(ValueError, match="read-only"):
        res.logits[0] = 1.0
    summary = res.summary()
    assert summary["pbo"] == res.pbo and summary["n_combinations"] == 6 and summary["blocks"] == 4
    assert summary["convention"] == PBO_CONVENTION and summary["metric"] == "sharpe"
    assert summary["logit_median"] == float(np.median(res.logits))
    assert 0 < summary["most_selected_share"] <= 1


def test_pbo_degradation_nan_when_in_sample_flat():
    # metric = mean and every half has the same mean for the selected trial: no line can be fitted
    x = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    res = pbo(x, blocks=2, metric="mean")
    assert math.isnan(res.slope) and math.isnan(res.intercept) and math.isnan(res.r2)
    assert res.pbo == 0.0  # trial 0 is best out of sample too: rank 2, omega 2/3, logit ln 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"blocks": 5}, ParameterError, "blocks must be an even integer >= 2, got 5"),
        ({"blocks": 0}, ParameterError, "blocks must be an even integer >= 2"),
        ({"blocks": 4.0}, ParameterError, "blocks must be an even integer, got 4.0"),
        ({"blocks": True}, ParameterError, "blocks must be an even integer"),
        ({"blocks": 24}, ParameterError, "blocks must be <= 22"),
        ({"blocks": 16, "rows": 31}, DataError, "returns has 31 rows: blocks=16 needs at least 32"),
        ({"metric": "sortino"}, ParameterError, "metric must be 'sharpe', 'mean' or a callable"),
        ({"metric": lambda h: h.mean()}, DataError, r"metric must return 4 numbers .* got shape \(\)"),
        ({"metric": lambda h: h.mean(axis=0) * np.nan}, DataError, "metric returned nan for trial 0"),
        ({"threshold": float("nan")}, ParameterError, "threshold must be a number"),
    ],
)
def test_pbo_parameter_errors(kwargs, error, match):
    rows = kwargs.pop("rows", 64)
    with pytest.raises(error, match=match):
        pbo(noise(0, rows, 4), **kwargs)


def test_pbo_data_errors():
    x = noise(0, 64, 4)
    with pytest.raises(DataError, match="at least 2 columns"):
        pbo(x[:, :1])
    with pytest.raises(ParameterError, match="2-D T x N matrix"):
        pbo(x[:, 0])
    bad = x.copy()
    bad[10, 2] = np.nan
    with pytest.raises(DataError, match=r"returns must not contain NaN .* 1 found, the first at position \(10, 2\)"):
        pbo(bad)
    with pytest.raises(ParameterError, match="must hold numbers"):
        pbo([["a", "b"], ["c", "d"]])
    both = x.copy()
    both[3, 0], both[5, 1] = np.inf, -np.inf  # inf - inf: the quick sum check sees NaN, the scan finds both
    with pytest.raises(DataError, match=r"2 found, the first at position \(3, 0\)"):
        pbo(both)
    flat = pd.DataFrame(x, columns=["tc2", "tc3", "tc4", "tc5"])
    flat["tc4"] = 0.0  # a trial that never trades: zero variance, no Sharpe ratio
    with pytest.raises(DataError, match="returns column 'tc4' is constant over blocks .* use metric='mean'"):
        pbo(flat, blocks=4)
    assert 0.0 <= pbo(flat, blocks=4, metric="mean").pbo <= 1.0  # the mean return is defined
    half_flat = x.copy()
    half_flat[:32, 1] = 0.0002  # constant over blocks 0 and 1 only (cash at a fixed rate)
    with pytest.raises(DataError, match=r"returns column 1 is constant over blocks \[0, 1\]"):
        pbo(half_flat, blocks=4)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: probabilistic_sharpe(0.1, 1), ParameterError, "n_obs must be a number >= 2, got 1"),
        (lambda: probabilistic_sharpe(0.1, float("nan")), ParameterError, "n_obs must be a number >= 2"),
        (lambda: probabilistic_sharpe(0.1, 100, kurtosis=0.0), ParameterError, "excess kurtosis"),
        (lambda: probabilistic_sharpe(float("inf"), 100), ParameterError, "sr must be finite"),
        (lambda: probabilistic_sharpe("0.1", 100), ParameterError, "sr must be a number"),  # type: ignore[arg-type]
        (lambda: probabilistic_sharpe(0.1, True), ParameterError, "n_obs must be a number"),
        (lambda: min_track_record(0.1, prob=0.4), ParameterError, "0.5 <= prob < 1, got 0.4"),
        (lambda: min_track_record(0.1, prob=1.0), ParameterError, "0.5 <= prob < 1"),
        (lambda: min_track_record(0.1, kurtosis=-1.0), ParameterError, "raw kurtosis"),
        (lambda: expected_max_sharpe(1, 0.01), ParameterError, "n_trials must be a number >= 2, got 1"),
        (lambda: expected_max_sharpe(10, -0.01), ParameterError, "trials_sr_var must be >= 0"),
        (lambda: deflated_sharpe(0.1, 100, 1, 0.01), ParameterError, "n_trials must be a number >= 2"),
        (lambda: deflated_sharpe(0.1, 1, 10, 0.01), ParameterError, "n_obs must be a number >= 2"),
        (lambda: sharpe_stats([0.01]), DataError, "returns needs at least 2 observations, got 1"),
        (lambda: sharpe_stats([0.01, np.nan, 0.02]), DataError, "returns must not contain NaN"),
        (lambda: sharpe_stats(np.zeros((3, 2))), ParameterError, "returns must be 1-D"),
        (lambda: sharpe_ratios(np.zeros((1, 3))), DataError, "at least 2 rows"),
        (lambda: sharpe_ratios(np.zeros((2, 2, 2))), ParameterError, "1-D or 2-D"),
        (lambda: sharpe_ratios([[0.1, np.inf], [0.2, 0.3]]), DataError, "NaN or infinite"),
    ],
)
def test_statistic_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------------------------------
# real data: the trend-constant grid of the rotation on the sector ETFs
# ----------------------------------------------------------------------------------------------------

SECTORS = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]  # all trading from 1998-12-22


@pytest.fixture(scope="module")
def sector_grid(etf_prices: pd.DataFrame):
    from xlsector.backtesting import run_backtest_grid

    prices = etf_prices[SECTORS].loc["1998-12-22":]
    grid = run_backtest_grid(prices, range(2, 201))
    returns = pd.DataFrame(grid.returns[:, 1:].T, index=grid.dates[1:], columns=grid.tcs.astype(int))
    return returns  # days x 199 trend constants, the start row dropped


def test_real_grid_pbo(sector_grid: pd.DataFrame, shared_data: Path):
    res = pbo(sector_grid)
    assert res.n_trials == 199 and res.n_combinations == 12_870 and res.n_obs == len(sector_grid)
    assert 0.0 <= res.pbo <= 1.0 and 0.0 <= res.prob_loss <= 1.0
    assert np.isfinite(res.logits).all() and np.isfinite([res.slope, res.intercept, res.r2]).all()
    assert res.summary()["most_selected"] in sector_grid.columns  # a trend constant
    # the selected trend constant has the highest in-sample Sharpe ratio of all 199 on that half, and its
    # out-of-sample Sharpe ratio is its own on the other half (combination 12,000 is in the second chunk of
    # combinations the block-sum path evaluates at once)
    parts = np.array_split(np.arange(len(sector_grid)), 16)
    all_combos = list(itertools.combinations(range(16), 8))
    for c in (100, 12_000):
        rows_is = np.concatenate([parts[b] for b in all_combos[c]])
        rows_oos = np.concatenate([parts[b] for b in range(16) if b not in all_combos[c]])
        srs_is, srs_oos = sharpe_ratios(sector_grid.iloc[rows_is]), sharpe_ratios(sector_grid.iloc[rows_oos])
        assert res.is_performance[c] == pytest.approx(srs_is.max(), rel=1e-10)
        assert res.oos_performance[c] == pytest.approx(srs_oos[res.selected[c]], rel=1e-10)


def test_real_grid_block_sums_match_the_loop(sector_grid: pd.DataFrame):
    # real grids have near-identical trend constants; both paths must rank them the same way
    loop, fast = pbo(sector_grid, blocks=6, metric=sharpe_ratios), pbo(sector_grid, blocks=6)
    np.testing.assert_array_equal(loop.selected, fast.selected)
    np.testing.assert_allclose(loop.logits, fast.logits, atol=1e-12)
    assert loop.pbo == fast.pbo


def test_real_grid_dsr_of_the_best_trend_constant(sector_grid: pd.DataFrame):
    srs = sharpe_ratios(sector_grid)
    best = sector_grid.iloc[:, int(np.argmax(srs))]
    sr, n, skew, kurt = sharpe_stats(best)
    assert sr == pytest.approx(srs.max(), rel=1e-12) and n == len(sector_grid) and kurt > 3  # daily returns have fat tails
    psr = probabilistic_sharpe(sr, n, skew, kurt)
    dsr = deflated_sharpe(sr, n, 199, np.var(srs, ddof=1), skew, kurt)
    assert 0.0 < dsr < psr < 1.0
    assert min_track_record(sr, skew, kurt) < n  # PSR(0) > 0.95 <=> more than MinTRL observations
