"""Tests of xlsector.measures (SPEC section 5).

Each formula is checked twice: on a hand-sized series whose answer is worked out in the comments, and
against an independent implementation (a plain Python loop, a brute force, pandas groupby, or an
identity). Hypothesis checks the invariants; real SPY prices check the figures against the prices.
"""

from __future__ import annotations

import itertools
import math
import statistics
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlsector.errors import DataQualityWarning, ParameterError
from xlsector.measures import (
    CASH,
    DEFINITIONS,
    average_leverage,
    best_year,
    bps,
    cagr,
    calmar_ratio,
    count_switches,
    count_trades,
    exposure,
    max_drawdown,
    metrics_after_start,
    metrics_from_prices,
    metrics_table,
    sharpe_ratio,
    sortino_ratio,
    switch_counts,
    total_return,
    turnover,
    ulcer_index,
    volatility,
    win_rate_days,
    win_rate_spells,
    worst_year,
    yearly_returns,
)

SQRT252 = math.sqrt(252)

# ----------------------------------------------------------------------------------------------------
# the hand example: every row is a return; the start point (V = 1) is the close of 2020-12-30
#   dates    (2020-12-30)  2020-12-31  2021-01-04  2021-12-31
#   r        (start)       +0.10       -0.50       +0.20
#   V        1             1.10        0.55        0.66
#   peak     1             1.10        1.10        1.10
#   dd       0             0           -0.50       -0.40
#   holding                A           B           CASH
# calendar days = 2020-12-30 -> 2021-12-31 = 366
# ----------------------------------------------------------------------------------------------------
START = pd.Timestamp("2020-12-30")
DATES = pd.to_datetime(["2020-12-31", "2021-01-04", "2021-12-31"])
R = pd.Series([0.1, -0.5, 0.2], index=DATES)
HOLD = pd.Series(["A", "B", "CASH"], index=DATES)
X = [0.1, -0.5, 0.2]  # the returns


def test_hand_total_return_and_cagr():
    # V_end = 1.1 * 0.5 * 1.2 = 0.66 -> total return -0.34
    assert total_return(R) == pytest.approx(-0.34, abs=1e-15)
    # CAGR = 0.66^(365.25 / 366) - 1 = -0.339438 (0.66^0.997951 = exp(-0.415515 * 0.997951) = 0.660562)
    assert cagr(R, start=START) == pytest.approx(0.66 ** (365.25 / 366) - 1, rel=1e-14)
    assert cagr(R, start=START) == pytest.approx(-0.339438, abs=1e-6)
    # without start= the start point is the weekday before the first return: 2020-12-30 here too
    assert cagr(R) == cagr(R, start=START)


def test_hand_volatility_sharpe_sortino():
    # mean = -0.2/3 = -0.0666667; deviations 0.1666667, -0.4333333, 0.2666667
    # squares 0.0277778 + 0.1877778 + 0.0711111 = 0.2866667; / (3 - 1) = 0.1433333; std = 0.3785939
    assert volatility(R) == pytest.approx(0.3785939 * SQRT252, rel=1e-6)  # 6.009992
    # Sharpe = -0.0666667 / 0.3785939 * 15.874508 = -2.795345
    assert sharpe_ratio(R) == pytest.approx(-2.795345, rel=1e-6)
    # downside: min(r, 0) = 0, -0.5, 0 -> mean square = 0.25 / 3 = 0.0833333, root 0.2886751
    # Sortino = -0.0666667 / 0.2886751 * 15.874508 = -3.666061
    assert sortino_ratio(R) == pytest.approx(-3.666061, rel=1e-6)


def test_hand_drawdowns():
    # dd = 0, -0.5, -0.4 on the return days -> max drawdown -0.5
    assert max_drawdown(R) == pytest.approx(-0.5, abs=1e-15)
    # ulcer = sqrt((0^2 + 50^2 + 40^2) / 3) = sqrt(1366.667) = 36.968455 (percent)
    assert ulcer_index(R) == pytest.approx(36.968455, rel=1e-7)
    # Calmar = CAGR / 0.5
    assert calmar_ratio(R, start=START) == pytest.approx((0.66 ** (365.25 / 366) - 1) / 0.5, rel=1e-14)


def test_hand_win_rates_trades_exposure():
    # positive days: +0.1 and +0.2 out of 3 return days
    assert win_rate_days(R) == pytest.approx(2 / 3)
    # spells: A (+10 %, a win), B (-50 %, a loss), CASH (ignored) -> 1 / 2
    assert win_rate_spells(R, HOLD) == 0.5
    # A -> B trade, B -> CASH trade
    assert count_trades(HOLD) == 2
    # days held: A, B, CASH -> 2 of 3 invested
    assert exposure(HOLD) == pytest.approx(2 / 3)
    # 2 trades in 366 calendar days
    assert turnover(2, R, start=START) == pytest.approx(2 * 365.25 / 366)
    # every row is a day's leverage: mean of 2 and 3
    assert average_leverage(pd.Series([2.0, 3.0], index=DATES[:2])) == 2.5


def test_hand_yearly_returns():
    # 2020: only 2020-12-31 -> V 1.1 / V_start 1 - 1 = +0.10
    # 2021: V 0.66 / V(2020-12-31) 1.1 - 1 = -0.40
    years = yearly_returns(R)
    assert list(years.index) == [2020, 2021]
    assert years.to_numpy() == pytest.approx([0.1, -0.4], abs=1e-15)
    assert best_year(R) == pytest.approx(0.1, abs=1e-15)
    assert worst_year(R) == pytest.approx(-0.4, abs=1e-15)


def test_start_on_december_31_adds_no_year():
    # returns from 2021-01-04 on (start point 2020-12-31): 2020 holds no return, so no entry;
    # 2021 = 0.5 * 1.2 - 1 = -0.40
    r = R.iloc[1:]
    assert list(yearly_returns(r).index) == [2021]
    assert yearly_returns(r).iloc[0] == pytest.approx(0.5 * 1.2 - 1)


def test_hand_bps():
    # 0.4 * 1.0 + 0.3 * 0.10 + 0.2 * 0.55 - 0.1 * 0.20 = 0.4 + 0.03 + 0.11 - 0.02 = 0.52
    assert bps(1.0, 0.10, 0.55, -0.20) == pytest.approx(0.52)
    assert bps(1.0, 0.10, 0.55, 0.20) == pytest.approx(0.52)  # sign of the drawdown is irrelevant


def test_hand_table():
    table = metrics_table(R, holdings=HOLD, start=START)
    assert list(table.columns) == ["strategy", "definition"]
    assert table.index.name == "metric"
    s = table["strategy"]
    assert s["Days"] == 3
    assert s["Years"] == pytest.approx(366 / 365.25)
    assert s["CAGR"] == pytest.approx(cagr(R, start=START), rel=1e-15)
    assert s["Max drawdown"] == -0.5
    assert s["Win rate (spells)"] == 0.5
    assert s["Trades"] == 2
    assert s["Exposure"] == pytest.approx(2 / 3)
    assert s["Best year"] == pytest.approx(0.1)
    assert s["BPS"] == pytest.approx(bps(sharpe_ratio(R), cagr(R, start=START), 2 / 3, -0.5), rel=1e-14)
    assert "Average leverage" not in s.index  # only when leverage is given
    # every label has its definition text, in DEFINITIONS order
    assert all(table.loc[label, "definition"] == DEFINITIONS[label] for label in table.index)
    order = [label for label in DEFINITIONS if label in table.index]
    assert list(table.index) == order


def test_table_switches_win_over_holdings_and_leverage_row():
    lev = pd.Series([1.0, 2.0, 1.0], index=DATES)
    table = metrics_table(R, holdings=HOLD, switches=5, leverage=lev, start=START)
    assert table.loc["Trades", "strategy"] == 5
    assert table.loc["Turnover (trades/yr)", "strategy"] == pytest.approx(5 * 365.25 / 366)
    assert table.loc["Average leverage", "strategy"] == pytest.approx(4 / 3)


# ----------------------------------------------------------------------------------------------------
# independent implementations
# ----------------------------------------------------------------------------------------------------


def _series(values, start="2001-03-01", freq="B"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq=freq), dtype=float)


def _loop_equity(x):
    v, out = 1.0, [1.0]
    for r in x:
        v *= 1 + r
        out.append(v)
    return out


def _loop_max_drawdown(x):
    equity = _loop_equity(x)  # brute force over every pair (peak before trough)
    return min(min(equity[j] / equity[i] - 1 for i in range(j + 1)) for j in range(len(equity)))


def _loop_ulcer(x):
    peak, squares = 1.0, []
    for v in _loop_equity(x)[1:]:
        peak = max(peak, v)
        squares.append((100 * (v / peak - 1)) ** 2)
    return math.sqrt(sum(squares) / len(squares))


@pytest.fixture(scope="module")
def seeded():
    rng = np.random.default_rng(20261121)
    x = rng.normal(0.0004, 0.012, 400)
    r = _series(x, start="2003-06-02")
    return r, list(x)


def test_volatility_sharpe_sortino_against_statistics_module(seeded):
    r, x = seeded
    assert volatility(r) == pytest.approx(statistics.stdev(x) * SQRT252, rel=1e-12)
    rf = 0.03  # annual -> 0.03 / 252 a day
    excess = [v - rf / 252 for v in x]
    assert sharpe_ratio(r, rf=rf) == pytest.approx(
        statistics.fmean(excess) / statistics.stdev(excess) * SQRT252, rel=1e-12
    )
    downside = math.sqrt(sum(min(v, 0.0) ** 2 for v in excess) / len(excess))
    assert sortino_ratio(r, rf=rf) == pytest.approx(statistics.fmean(excess) / downside * SQRT252, rel=1e-12)


def test_rf_series_is_daily_and_extra_dates_are_ignored(seeded):
    r, _ = seeded
    daily = 0.0001
    longer = pd.Series(daily, index=pd.date_range("2003-01-01", "2005-12-31", freq="B"))
    assert sharpe_ratio(r, rf=longer) == pytest.approx(sharpe_ratio(r, rf=daily * 252), rel=1e-12)
    assert sortino_ratio(r, rf=longer) == pytest.approx(sortino_ratio(r - daily), rel=1e-12)


def test_drawdown_and_ulcer_against_loops(seeded):
    r, x = seeded
    assert max_drawdown(r) == pytest.approx(_loop_max_drawdown(x), rel=1e-12)
    assert ulcer_index(r) == pytest.approx(_loop_ulcer(x), rel=1e-12)


def test_cagr_of_a_constant_daily_return_is_its_compounding():
    # every calendar day +0.03 %: V_end = 1.0003^n over n calendar days -> CAGR = 1.0003^365.25 - 1
    c, n = 0.0003, 1000
    r = _series([c] * n, start="2001-03-02", freq="D")
    assert cagr(r, start="2001-03-01") == pytest.approx((1 + c) ** 365.25 - 1, rel=1e-10)
    assert total_return(r) == pytest.approx((1 + c) ** n - 1, rel=1e-10)


def test_yearly_returns_against_pandas_groupby(seeded):
    r, _ = seeded
    expected = (1 + r).groupby(r.index.year).prod() - 1
    got = yearly_returns(r)
    assert list(got.index) == list(expected.index)
    assert got.to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    # the years compound to the whole period
    assert np.prod(1 + got.to_numpy()) - 1 == pytest.approx(total_return(r), rel=1e-12)


def test_spells_trades_exposure_against_groupby_loop():
    rng = np.random.default_rng(7)
    names = np.repeat(rng.choice(["XLK", "XLE", "CASH", "TLT"], 60), rng.integers(1, 9, 60))
    r = _series(rng.normal(0.0, 0.01, names.size))
    h = pd.Series(names, index=r.index)
    wins = spells = 0
    position = 0  # spells over every row (each row is a return)
    for name, run in itertools.groupby(names):
        n = len(list(run))
        growth = math.prod(1 + v for v in r.iloc[position : position + n])
        position += n
        if name != "CASH":
            spells += 1
            wins += growth > 1
    assert win_rate_spells(r, h) == wins / spells
    assert count_trades(h) == sum(a != b for a, b in itertools.pairwise(names))
    assert exposure(h) == sum(n != "CASH" for n in names) / names.size


def test_win_rate_days_counts_zero_days_as_not_winning():
    r = _series([0.01, 0.0, 0.0, -0.01])
    assert win_rate_days(r) == 0.25


# ----------------------------------------------------------------------------------------------------
# degenerate input: NaN, never an exception or a RuntimeWarning (RuntimeWarning is an error in pytest)
# ----------------------------------------------------------------------------------------------------


def test_no_return_gives_nan_and_flat_series_gives_zero():
    none = _series([])
    for f in (total_return, cagr, volatility, sharpe_ratio, sortino_ratio, max_drawdown, ulcer_index):
        assert math.isnan(f(none)), f.__name__
    one = _series([0.01])  # one return: no volatility, but a growth
    assert math.isnan(volatility(one)) and total_return(one) == pytest.approx(0.01)
    flat = _series([0.0] * 30)
    assert cagr(flat) == 0.0
    assert max_drawdown(flat) == 0.0
    assert ulcer_index(flat) == 0.0
    assert volatility(flat) == 0.0
    assert math.isnan(sharpe_ratio(flat))  # zero std
    assert math.isnan(sortino_ratio(flat))  # no downside
    assert math.isnan(calmar_ratio(flat))  # no drawdown
    assert yearly_returns(none).empty and math.isnan(best_year(none))


def test_constant_cash_rate_has_no_sharpe():
    # 100 % in cash at a constant daily rate: std is rounding noise, not risk
    r = _series([0.0001] * 500)
    assert math.isnan(sharpe_ratio(r))
    assert math.isnan(sharpe_ratio(r, rf=0.02))


def test_nan_returns_and_total_loss():
    assert math.isnan(cagr(_series([0.0, 0.01, np.nan, 0.02])))
    assert math.isnan(max_drawdown(_series([0.0, np.nan])))
    lost = _series([0.5, -1.0, 0.1])
    assert cagr(lost) == -1.0
    assert max_drawdown(lost) == -1.0
    metrics_table(lost)  # no warning, no exception
    table = metrics_table(_series([]))
    assert table.loc["Days", "strategy"] == 0 and math.isnan(table.loc["CAGR", "strategy"])


# ----------------------------------------------------------------------------------------------------
# bad input: ParameterError naming the argument
# ----------------------------------------------------------------------------------------------------


def test_bad_input_messages():
    with pytest.raises(ParameterError, match="returns must be a pandas Series, got list"):
        cagr([0.0, 0.1])
    with pytest.raises(ParameterError, match="returns must have a DatetimeIndex"):
        cagr(pd.Series([0.0, 0.1]))
    with pytest.raises(ParameterError, match="returns dates must be sorted"):
        cagr(R.iloc[::-1])
    with pytest.raises(ParameterError, match="returns must hold numbers"):
        volatility(pd.Series(["a", "b", "c"], index=DATES[:3]))
    with pytest.raises(ParameterError, match="rf must give a daily risk-free return on every return date"):
        sharpe_ratio(R, rf=pd.Series(0.0, index=DATES[:2]))
    with pytest.raises(ParameterError, match="rf must be None, an annual rate"):
        sharpe_ratio(R, rf="2%")
    with pytest.raises(ParameterError, match="holdings must have exactly the same dates as returns"):
        metrics_table(R, holdings=HOLD.iloc[1:])
    with pytest.raises(ParameterError, match="holdings must name the asset held on every date"):
        metrics_table(R, holdings=pd.Series(["A", None, "B"], index=DATES))
    with pytest.raises(ParameterError, match="switches must be a number >= 0, got -1"):
        metrics_table(R, switches=-1)
    with pytest.raises(ParameterError, match="switches must be a number >= 0"):
        turnover("many", R)
    with pytest.raises(ParameterError, match="start must be before the first return's date 2020-12-31"):
        cagr(R, start="2020-12-31")
    with pytest.raises(ParameterError, match="start must be a date"):
        metrics_table(R, start="soon")
    with pytest.raises(ParameterError, match="benchmarks labels must be texts other than strategy"):
        metrics_table(R, benchmarks={"strategy": R})


# ----------------------------------------------------------------------------------------------------
# benchmark: the same days as the strategy
# ----------------------------------------------------------------------------------------------------


def test_benchmark_uses_exactly_the_strategy_days(seeded):
    r, _ = seeded
    rng = np.random.default_rng(3)
    wide = pd.date_range("2002-01-01", "2006-12-29", freq="B")  # starts before and ends after r
    bench = pd.Series(rng.normal(0.0003, 0.01, wide.size), index=wide)
    table = metrics_table(r, benchmark=bench)
    assert list(table.columns) == ["strategy", "benchmark", "definition"]
    same_days = bench.loc[r.index]  # the same returns and the same start point as the strategy
    expected = metrics_table(same_days)["strategy"]
    pd.testing.assert_series_equal(table["benchmark"], expected, check_names=False)
    # and it differs from the benchmark's whole history
    assert table.loc["CAGR", "benchmark"] != pytest.approx(cagr(bench))
    assert table.loc["Days", "benchmark"] == len(r)
    # more benchmarks: one labelled column each, by the same rules
    more = metrics_table(r, benchmark=bench, benchmarks={"half": bench / 2, "zero": bench * 0})
    assert list(more.columns) == ["strategy", "benchmark", "half", "zero", "definition"]
    pd.testing.assert_series_equal(more["half"], metrics_table(same_days / 2)["strategy"], check_names=False)
    assert more.loc["Total return", "zero"] == 0.0


def test_benchmark_on_another_calendar_warns_and_gives_nan():
    bench = pd.Series(0.01, index=DATES[[0, 2]])  # lacks 2021-01-04
    with pytest.warns(DataQualityWarning, match="benchmark has no return on 1 of the strategy's 3"):
        table = metrics_table(R, benchmark=bench, holdings=HOLD)
    assert math.isnan(table.loc["CAGR", "benchmark"])
    assert math.isnan(table.loc["Trades", "benchmark"])  # holdings rows do not apply to the benchmark


def test_benchmark_missing_only_on_start_date_is_fine():
    # a backtest's returns carry their start point as a first row (return 0): metrics_after_start
    r0 = pd.Series([0.0, *X], index=pd.DatetimeIndex([START, *DATES]))
    bench = pd.Series([0.01, 0.02, 0.03], index=DATES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = metrics_after_start(r0, benchmark=bench)
    assert table.loc["Total return", "benchmark"] == pytest.approx(1.01 * 1.02 * 1.03 - 1)


def test_three_doors_to_the_same_figures():
    # returns (every row), returns after a start row, and prices (or equity): one table
    r0 = pd.Series([0.0, *X], index=pd.DatetimeIndex([START, *DATES]))
    h0 = pd.Series(["A", *HOLD], index=r0.index)
    direct = metrics_table(R, start=START, holdings=HOLD)
    after = metrics_after_start(r0, holdings=h0)
    prices = metrics_from_prices(100 * (1 + r0).cumprod(), holdings=h0)
    pd.testing.assert_frame_equal(after, direct)
    pd.testing.assert_frame_equal(prices, direct, rtol=1e-12)
    # the old count: a change of holding from the start date to the first return day is a trade
    moved = pd.Series(["B", *HOLD], index=r0.index)
    assert metrics_after_start(r0, holdings=moved).loc["Trades", "strategy"] == 3


def test_deprecated_metrics_keeps_the_start_row_convention():
    import xlsector

    r0 = pd.Series([0.0, *X], index=pd.DatetimeIndex([START, *DATES]))
    with pytest.warns(DeprecationWarning, match="xlsector.metrics is deprecated; use xlsector.metrics_table"):
        old = xlsector.metrics
    pd.testing.assert_frame_equal(old(r0), metrics_table(R, start=START))
    assert metrics_table(r0).loc["Days", "strategy"] == 4  # the new door counts that row as a return


# ----------------------------------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------------------------------

daily = st.floats(min_value=-0.5, max_value=0.5, allow_nan=False, allow_subnormal=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(daily, min_size=1, max_size=80))
def test_drawdown_and_ulcer_bounds(x):
    r = _series(x)
    mdd = max_drawdown(r)
    assert -1.0 < mdd <= 0.0
    assert ulcer_index(r) >= 0.0
    assert ulcer_index(r) <= -100 * mdd + 1e-9  # the RMS of the drawdowns never exceeds the worst one


@settings(max_examples=200, deadline=None)
@given(st.lists(daily, min_size=2, max_size=80), st.randoms(use_true_random=False))
def test_permuting_days_keeps_order_free_figures(x, random):
    shuffled = list(x)
    random.shuffle(shuffled)
    a, b = _series(x), _series(shuffled)
    assert volatility(b) == pytest.approx(volatility(a), rel=1e-9, abs=1e-15)
    assert total_return(b) == pytest.approx(total_return(a), rel=1e-9, abs=1e-12)
    assert win_rate_days(b) == win_rate_days(a)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(min_value=1.0, max_value=1000.0), min_size=2, max_size=60),
    st.floats(min_value=1e-3, max_value=1e3),
)
def test_rescaling_prices_leaves_every_metric_unchanged(prices, scale):
    p = _series(prices)
    a = metrics_from_prices(p)["strategy"].to_numpy()
    b = metrics_from_prices(p * scale)["strategy"].to_numpy()
    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-9, equal_nan=True)
    c = metrics_table(p.pct_change().dropna(), start=p.index[0])["strategy"].to_numpy()
    np.testing.assert_allclose(c, a, rtol=1e-9, atol=1e-12, equal_nan=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(daily, min_size=2, max_size=80), st.floats(min_value=0.01, max_value=100.0))
def test_sharpe_does_not_depend_on_the_scale_of_returns(x, k):
    # mean and std both scale by k > 0 (without a risk-free rate)
    a, b = sharpe_ratio(_series(x)), sharpe_ratio(_series([k * v for v in x]))
    if math.isnan(a):
        return
    assert b == pytest.approx(a, rel=1e-6, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(daily, min_size=0, max_size=80), st.sampled_from(["D", "B", "W"]))
def test_years_compound_to_the_whole_period_and_table_never_warns(x, freq):
    r = _series(x, start="1999-11-15", freq=freq)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = metrics_table(r, holdings=pd.Series("A", index=r.index), leverage=pd.Series(1.0, index=r.index))
    years = yearly_returns(r)
    if x:
        assert np.prod(1 + years.to_numpy()) - 1 == pytest.approx(total_return(r), rel=1e-9, abs=1e-12)
    assert table.loc["Trades", "strategy"] == 0


# ----------------------------------------------------------------------------------------------------
# real data: SPY (../shared/data/etf_adjclose_daily.csv, Yahoo adjusted closes, dividends reinvested)
# ----------------------------------------------------------------------------------------------------


def _returns_from_prices(prices: pd.Series) -> pd.Series:
    return prices.pct_change().iloc[1:]  # every row a return; the first date is the start point


def test_spy_buy_and_hold_cagr_matches_its_prices(etf_prices):
    spy = etf_prices["SPY"].loc["1999-01-04":"2024-12-31"]
    r = _returns_from_prices(spy)
    # independent: straight from the first and last adjusted closes and the calendar
    years = (spy.index[-1] - spy.index[0]).days / 365.25
    direct = (spy.iloc[-1] / spy.iloc[0]) ** (1 / years) - 1
    assert cagr(r, start=spy.index[0]) == pytest.approx(direct, rel=1e-9)
    assert cagr(r) == cagr(r, start=spy.index[0])  # the weekday before 1999-01-05 is the start point
    # plausible: the S&P 500 with dividends returned about 8 % a year over 1999-2024
    assert 0.06 < cagr(r) < 0.10
    assert metrics_table(r).loc["CAGR", "strategy"] == cagr(r)


def test_spy_max_drawdown_2007_2009_is_the_2008_crash(etf_prices):
    spy = etf_prices["SPY"].loc["2007-01-01":"2009-12-31"]
    r = _returns_from_prices(spy)
    mdd = max_drawdown(r)
    # SPY peaked on 2007-10-09 and bottomed on 2009-03-09; the S&P 500 price index fell 56.8 % between
    # those closes (1565.15 -> 676.53) and SPY with dividends reinvested about 55 %
    assert mdd < -0.50
    running_peak = spy.cummax()
    assert mdd == pytest.approx((spy / running_peak).min() - 1, rel=1e-9)  # straight from the prices
    assert (spy / running_peak).idxmin() == pd.Timestamp("2009-03-09")
    assert spy.loc[:"2009-03-09"].idxmax() == pd.Timestamp("2007-10-09")


def test_spy_benchmark_over_the_strategy_days(etf_prices):
    # XLK as the "strategy", SPY (full history from 1993) as the benchmark: same days only
    xlk = _returns_from_prices(etf_prices["XLK"].loc["2010-01-04":"2019-12-31"])
    spy_all = _returns_from_prices(etf_prices["SPY"].dropna())
    table = metrics_table(xlk, benchmark=spy_all)
    spy = etf_prices["SPY"].loc["2010-01-04":"2019-12-31"]
    direct = (spy.iloc[-1] / spy.iloc[0]) ** (365.25 / (spy.index[-1] - spy.index[0]).days) - 1
    assert table.loc["CAGR", "benchmark"] == pytest.approx(direct, rel=1e-9)


def test_docs_table_shows_every_definition():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
    for label, definition in DEFINITIONS.items():
        assert f"| {label} | {definition.replace('|', chr(92) + '|')} |" in text, label


# ----------------------------------------------------------------------------------------------------
# switches: one definition (count_switches), equal to the kernel's, the momentum rotation's and FWPT's
# ----------------------------------------------------------------------------------------------------


def test_count_switches_by_hand():
    # invested from the start: every change is a switch (A -> B, B -> CASH)
    assert count_switches(HOLD) == 2 == count_trades(HOLD)
    # starting in cash: the first entry (CASH -> A) is the initial buy, not a switch; a later return to
    # cash and the re-entry are switches
    from_cash = pd.Series(["CASH", "CASH", "A", "A", "B", "CASH", "B"], index=_series([0.0] * 7).index)
    assert count_switches(from_cash) == 3  # A -> B, B -> CASH, CASH -> B
    assert count_trades(from_cash) == 4  # every change, the initial buy included
    assert count_switches(pd.Series(["CASH"] * 3)) == 0
    assert count_switches(pd.Series(["CASH", "A"])) == 0  # only the initial buy
    assert count_switches(pd.Series([], dtype=object)) == 0
    # the metrics table's Trades from holdings are the switches
    table = metrics_table(_series([0.0, 0.01, 0.0, 0.02, 0.0, 0.01, 0.0]), holdings=from_cash.set_axis(
        _series([0.0] * 7).index))
    assert table.loc["Trades", "strategy"] == 3


def test_switch_counts_of_integer_paths_equal_count_switches():
    rng = np.random.default_rng(3)
    paths = rng.integers(0, 4, (40, 30)) * (rng.random((40, 30)) < 0.3)  # code 0 = cash, runs of it
    paths[:5, :3] = 0  # some paths start in cash
    names = np.array(["CASH", "A", "B", "C"], dtype=object)
    got = switch_counts(paths, cash=0)
    assert got.tolist() == [count_switches(pd.Series(names[row])) for row in paths]
    assert switch_counts(paths[0], cash=0).shape == (1,)


def _walks(n: int = 900, m: int = 4, seed: int = 8, drift: float = 0.0003, vol: float = 0.012) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2000-01-03", periods=n)
    return pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(drift, vol, (n, m)), axis=0)), index=dates,
                        columns=[f"F{j}" for j in range(m)])


def _bear_index(dates: pd.Index, start: int, end: int) -> pd.Series:
    steps = np.full(len(dates), 0.0008)
    steps[start:end] = -0.006  # a crash: StormGuard goes to cash
    return pd.Series(1000 * np.exp(np.cumsum(steps)), index=dates)


@pytest.mark.parametrize("stormguard", [None, "quick"])
def test_kernel_switches_equal_count_switches(stormguard):
    from xlsector.backtesting import run_backtest, run_backtest_grid

    prices = _walks()
    extra = {"index": _bear_index(prices.index, 300, 420), "stormguard": stormguard} if stormguard else {}
    result = run_backtest(prices, tc=15, **extra)
    assert result.holdings.iloc[0] == CASH  # the period starts in cash: the first entry is no switch
    assert result.switches == count_switches(result.holdings) > 5
    assert len(result.trades) == count_trades(result.holdings) == result.switches + 1
    if stormguard:
        assert (result.holdings == CASH).sum() > 20  # really out of the market for a while
    grid = run_backtest_grid(prices, [3, 8, 20, 60], **extra)
    assert grid.switches.tolist() == switch_counts(grid.holdings, cash=len(grid.assets) - 1).tolist()


def test_trend_chart_window_switches_equal_count_switches():
    from xlsector.backtesting import run_backtest
    from xlsector.tuning import trend_chart

    prices = _walks()
    index = _bear_index(prices.index, 300, 420)
    chart = trend_chart(prices, tcs=[5, 15, 40], start="2001-04-02", end="2002-01-15", index=index,
                        stormguard="quick")
    for tc, switches in chart.table["switches"].items():
        holdings = run_backtest(prices, tc=tc, index=index, stormguard="quick").holdings
        window = holdings.loc[chart.period[0] : chart.period[1]]
        assert switches == count_switches(window), tc
    whole = trend_chart(prices, tcs=[5, 15, 40])  # the whole period: the kernel's count
    for tc, switches in whole.table["switches"].items():
        assert switches == run_backtest(prices, tc=tc).switches


@pytest.mark.parametrize("stormguard", [None, "quick"])
def test_fwpt_switches_equal_count_switches(stormguard):
    from xlsector.tuning import fwpt

    prices = _walks(n=1800, m=3, seed=4, drift=0.0004, vol=0.01)
    extra = {"index": _bear_index(prices.index, 1280, 1420), "stormguard": stormguard} if stormguard else {}
    result = fwpt(prices, born_on="2005-03-01", retune_days=60, tcs=[10, 30, 60], **extra)
    starts_in_cash = result.holdings.iloc[0] == CASH
    assert starts_in_cash == bool(stormguard)  # born on inside the crash: the walk-forward starts in cash
    table = result.metrics()
    assert table.loc["Trades", "walk_forward"] == count_switches(result.holdings)
    assert table.loc["Trades", "in_sample_best"] == count_switches(result.in_sample_holdings)
    # the trades table lists every change of holding, so the initial buy too when it starts in cash
    assert len(result.trades) == count_trades(result.holdings) == count_switches(result.holdings) + starts_in_cash


def test_momentum_switches_equal_count_switches():
    from xlsector.momentum_rotation import run_momentum_backtest

    prices = _walks()
    prices["SPY"] = prices.mean(axis=1)
    result = run_momentum_backtest(prices, funds=["F0", "F1", "F2", "F3"], benchmark="SPY", lookback=20,
                                   top_k=2, ma_filter=50)
    assert result.holdings.iloc[0] == CASH
    assert result.switches == count_switches(result.holdings) == len(result.trades) - 1
    assert result.metrics().loc["Trades", "strategy"] == result.switches


def test_spy_2020_2024_from_pct_change_drops_no_day(etf_prices):
    # issue 16: the usual prices.pct_change().dropna() is every row a return. The old convention (first row
    # = the start) dropped 2020-01-03's -0.76 % and gave 14.43 %; from the prices directly it is 14.25 %.
    spy = etf_prices["SPY"].loc["2020-01-01":"2024-12-31"].dropna()
    direct = (spy.iloc[-1] / spy.iloc[0]) ** (365.25 / (spy.index[-1] - spy.index[0]).days) - 1
    assert direct == pytest.approx(0.1425, abs=5e-5)
    returns = spy.pct_change().dropna()
    assert metrics_table(returns).loc["CAGR", "strategy"] == pytest.approx(direct, rel=1e-12)
    assert metrics_from_prices(spy).loc["CAGR", "strategy"] == pytest.approx(direct, rel=1e-12)
    assert metrics_table(returns).loc["Days", "strategy"] == len(spy) - 1
    assert metrics_after_start(returns).loc["CAGR", "strategy"] == pytest.approx(0.1443, abs=5e-5)  # the old way


def test_sharpe_of_tiny_returns_is_the_sharpe_of_their_shape():
    # found by the scale property: [0, a] has mean a/2 and sample std a/sqrt(2), Sharpe sqrt(252/2) for any
    # a > 0; at a = 4e-161 the squares underflowed to subnormal numbers and gave 11.35
    for a in (0.01, 4.02133098180406e-161, 2.01e-161):
        assert sharpe_ratio(_series([0.0, a])) == pytest.approx(math.sqrt(126), rel=1e-12)
