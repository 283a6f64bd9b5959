"""Momentum rotation (SPEC §3): hand-checked paths, leverage rules, filter, costs, look-ahead, real data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsector.errors import DataQualityWarning, ParameterError
from xlsector.measures import cagr
from xlsector.momentum_rotation import run_momentum_backtest

DATES = pd.bdate_range("2024-01-01", periods=6)
HAND = pd.DataFrame(
    {"A": [100, 101, 102, 103, 104, 105], "B": [100, 103, 106, 104, 102, 100]}, index=DATES, dtype=float
)


def test_hand_example_delay_0():
    # 1-day momentum: day1 B (+3% vs +1%), day2 B, day3 A (B fell), day4 A.
    # delay 0: the decision at day d's close earns from day d+1. Start point = day 1 (first signal).
    r = run_momentum_backtest(HAND, lookback=1, delay=0, slippage_bp=0)
    assert r.returns.index[0] == DATES[1]
    # holdings[t] = asset earning day t's return; the start point holds nothing yet
    assert list(r.holdings) == ["CASH", "B", "B", "A", "A"]
    expected = [0.0, 106 / 103 - 1, 104 / 106 - 1, 104 / 103 - 1, 105 / 104 - 1]
    np.testing.assert_allclose(r.returns.to_numpy(), expected, rtol=1e-15)
    assert r.switches == 1  # B -> A; the initial buy (CASH -> B) is a trade, not a switch
    assert list(r.trades["to"]) == ["B", "A"]


def test_hand_example_delay_1_and_costs():
    # delay 1: the decision at day 1 trades at day 2's close and earns from day 3
    r = run_momentum_backtest(HAND, lookback=1, delay=1, slippage_bp=20, commission_bp=5)
    assert r.returns.index[0] == DATES[2]
    assert list(r.holdings) == ["CASH", "B", "B", "A"]
    c = 25e-4  # entry from cash and the switch both pay (slippage + commission) on their first day
    expected = [0.0, (104 / 106) * (1 - c) - 1, 102 / 104 - 1, (105 / 104) * (1 - c) - 1]
    np.testing.assert_allclose(r.returns.to_numpy(), expected, rtol=1e-14)


def test_top_k_equal_weight():
    prices = HAND.assign(C=[100, 100.5, 101, 101.5, 102, 102.5])
    r = run_momentum_backtest(prices, lookback=1, top_k=2, delay=0, slippage_bp=0)
    # day 1 momentum: B 3%, A 1%, C 0.5% -> A and B, half each
    assert r.holdings.iloc[1] == "A+B"
    assert r.weights.iloc[1].tolist() == [0.5, 0.5, 0.0]
    assert r.returns.iloc[1] == pytest.approx(0.5 * (102 / 101 - 1) + 0.5 * (106 / 103 - 1), rel=1e-14)


def _vix(values):
    return pd.Series(values, index=DATES, dtype=float)


def test_vix_band_table():
    vix = _vix([12, 17, 25, 40, 14.99, 15])
    r = run_momentum_backtest(
        HAND, lookback=1, delay=0, slippage_bp=0, vix=vix, leverage=1.0, leverage_rule="vix_bands"
    )
    # leverage decided at d from VIX(d), earned on d+1: days 2..5 use VIX of days 1..4
    np.testing.assert_allclose(r.leverage.to_numpy()[1:], [1.0, 0.8, 0.6, 1.2])
    bands = [(20, 2.0), (math.inf, 0.5)]
    r2 = run_momentum_backtest(
        HAND,
        lookback=1,
        delay=0,
        slippage_bp=0,
        vix=vix,
        leverage=1.0,
        leverage_rule="vix_bands",
        vix_bands=bands,
    )
    np.testing.assert_allclose(r2.leverage.to_numpy()[1:], [2.0, 0.5, 0.5, 2.0])


def test_vix_formula_clipped():
    vix = _vix([10, 10, 30, 60, 20, 20])
    r = run_momentum_backtest(
        HAND,
        lookback=1,
        delay=0,
        slippage_bp=0,
        vix=vix,
        leverage=1.2,
        leverage_rule="vix_formula",
        leverage_min=0.75,
        leverage_max=1.5,
    )
    # 1.2*30/max(VIX,15): VIX 10 -> 2.4 clipped 1.5; 30 -> 1.2; 60 -> 0.6 clipped 0.75; 20 -> 1.8 -> 1.5
    np.testing.assert_allclose(r.leverage.to_numpy()[1:], [1.5, 1.2, 0.75, 1.5])
    assert r.average_leverage == pytest.approx(np.mean([1.5, 1.2, 0.75, 1.5]))


def test_leverage_and_borrowing_cost():
    rate = 0.0252  # 0.0001 a day
    r = run_momentum_backtest(HAND, lookback=1, delay=0, slippage_bp=0, leverage=2.0, borrow_rate=rate)
    expected_day2 = 2 * (106 / 103 - 1) - 1.0 * rate / 252
    assert r.returns.iloc[1] == pytest.approx(expected_day2, rel=1e-13)
    half = run_momentum_backtest(HAND, lookback=1, delay=0, slippage_bp=0, leverage=0.5, cash_rate=0.0252)
    assert half.returns.iloc[1] == pytest.approx(0.5 * (106 / 103 - 1) + 0.5 * 0.0001, rel=1e-13)


def test_a_leveraged_loss_of_everything_ruins_the_account():
    """At 50x, B's fall of 2.8% on day 3 loses more than everything: the account is ruined that day (-100%) and
    stays at 0 although A, held next, rises (the equity went negative before, and the metrics showed a CAGR above
    1000% with a max drawdown of -66977% on the bundled sample at 100x)."""
    prices = pd.DataFrame({"A": [100, 101, 102, 103, 104, 105], "B": [100, 103, 106, 103, 104, 105]},
                          index=DATES, dtype=float)
    r = run_momentum_backtest(prices, lookback=1, delay=0, slippage_bp=0, leverage=50.0)
    assert list(r.holdings) == ["CASH", "B", "B", "A", "A"]
    assert r.returns.iloc[1] == pytest.approx(50 * (106 / 103 - 1))
    assert r.returns.tolist()[2:] == [-1.0, 0.0, 0.0]
    assert r.equity.iloc[-1] == 0.0 and (r.equity >= 0).all()
    metrics = r.metrics()
    assert metrics.loc["CAGR", "strategy"] == -1.0 and metrics.loc["Max drawdown", "strategy"] == -1.0


def test_ma_filter_goes_to_cash_below_the_average():
    bench = pd.Series([100, 101, 102, 90, 91, 95], index=DATES, dtype=float)
    prices = HAND.assign(SPY=bench)
    r = run_momentum_backtest(
        prices, funds=["A", "B"], benchmark="SPY", lookback=1, delay=0, slippage_bp=0, ma_filter=2
    )
    # SMA2 on day 2 = 101.5 < 102: invested; day 3: 96 > 90: cash; day 4: 90.5 < 91: invested
    assert r.returns.index[0] == DATES[1]
    assert list(r.holdings) == ["CASH", "B", "B", "CASH", "A"]
    assert r.returns.iloc[3] == 0.0
    assert r.exposure == pytest.approx(3 / 4)


def test_bad_parameters():
    with pytest.raises(ParameterError, match="lookback must be a whole number from 1 to 100000, got 0"):
        run_momentum_backtest(HAND, lookback=0)
    with pytest.raises(ParameterError, match="fund 'Z' is not a column"):
        run_momentum_backtest(HAND, funds=["A", "Z"])
    with pytest.raises(ParameterError, match="needs VIX closes"):
        run_momentum_backtest(HAND, leverage_rule="vix_bands")
    with pytest.raises(ParameterError, match="rebalance must be one of"):
        run_momentum_backtest(HAND, rebalance="hourly")
    with pytest.raises(ParameterError, match="vix_bands thresholds must increase"):
        run_momentum_backtest(
            HAND, lookback=1, vix=_vix([15] * 6), leverage_rule="vix_bands", vix_bands=[(20, 1), (10, 2)]
        )


def _walks(n=400, m=4, seed=3):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2010-01-01", periods=n)
    return pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, (n, m)), axis=0)), index=dates, columns=list("ABCD")
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=100, max_value=399),
    rebalance=st.sampled_from(["daily", "week", "month"]),
    delay=st.sampled_from([0, 1]),
)
def test_appending_future_rows_never_changes_past_holdings(cut, rebalance, delay):
    prices = _walks()
    prices["SPY"] = prices.mean(axis=1)
    kwargs = {
        "funds": list("ABCD"),
        "benchmark": "SPY",
        "lookback": 20,
        "top_k": 2,
        "rebalance": rebalance,
        "delay": delay,
        "ma_filter": 30,
    }
    full = run_momentum_backtest(prices, **kwargs)
    short = run_momentum_backtest(prices.iloc[:cut], **kwargs)
    common = short.returns.index
    pd.testing.assert_series_equal(short.holdings, full.holdings.loc[common])
    np.testing.assert_array_equal(short.returns.to_numpy(), full.returns.loc[common].to_numpy())


def test_real_sector_etfs(etf_prices, shared_data):
    funds = ["XLK", "XLF", "XLE", "XLV", "XLI", "XLP", "XLU", "XLY", "XLC", "XLB", "XLRE", "TLT"]
    vix = pd.read_csv(shared_data / "vix_cboe_daily.csv", index_col="Date", parse_dates=True)["Close"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = run_momentum_backtest(
            etf_prices,
            funds=funds,
            benchmark="SPY",
            vix=vix,
            lookback=126,
            leverage=1.0,
            leverage_rule="vix_bands",
            ma_filter=200,
        )
    # the Cboe file has non-NYSE dates (data README): aligning them warns, it is not silent
    assert any(issubclass(w.category, DataQualityWarning) for w in caught)
    # the first signal needs 126 days of a sector ETF (from 1998-12-22) and 200 days of SPY
    assert r.returns.index[0] > pd.Timestamp("1999-06-01")
    assert r.returns.index[-1] == pd.Timestamp("2025-01-06")
    assert 0.3 < r.exposure < 1.0
    assert 0.6 <= r.average_leverage <= 1.2  # band multipliers 0.6 .. 1.2
    m = r.metrics()
    assert m.loc["CAGR", "strategy"] == pytest.approx(cagr(r.returns.iloc[1:], start=r.returns.index[0]))
    assert m.loc["Trades", "strategy"] == r.switches
    # XLC and XLRE have no price before 2018/2015: never held before
    assert not r.holdings.loc[:"2015-10-01"].str.contains("XLRE").any()


def naive_momentum(
    prices,
    *,
    funds,
    bench,
    vix,
    lookback,
    top_k,
    schedule,
    delay,
    leverage,
    rule,
    bands,
    lo,
    hi,
    borrow,
    cash,
    ma,
    cost,
):
    """Day-by-day loop by the rules of xlsector.momentum (the independent reference)."""
    from xlsector.rotation import decision_days

    dates = prices.index
    n = len(dates)
    p = prices[funds]
    decide_days = decision_days(dates, schedule)
    decided = None  # exposures decided at the latest decision day
    history = []  # exposures decided at each day's close
    first_decision = None
    for d in range(n):
        target = None
        if d >= lookback:
            mom = {
                f: p[f].iloc[d] / p[f].iloc[d - lookback] - 1
                for f in funds
                if not (np.isnan(p[f].iloc[d]) or np.isnan(p[f].iloc[d - lookback]))
            }
            ok = bool(mom)
            if ma:
                window = bench.iloc[d - ma + 1 : d + 1] if d >= ma - 1 else None
                ok = ok and window is not None and not window.isna().any()
            if rule != "fixed":
                ok = ok and not np.isnan(vix.iloc[d])
            if ok and decide_days[d]:
                ranked = sorted(mom, key=lambda f: (-mom[f], funds.index(f)))[:top_k]
                if rule == "fixed":
                    lev = leverage
                elif rule == "vix_bands":
                    lev = leverage * next(m for t, m in bands if vix.iloc[d] < t)
                else:
                    lev = leverage * 30 / max(vix.iloc[d], 15)
                lev = min(max(lev, lo), hi)
                bull = True
                if ma:
                    bull = bench.iloc[d] > bench.iloc[d - ma + 1 : d + 1].mean()
                target = {f: (lev / len(ranked) if bull else 0.0) for f in ranked}
                if first_decision is None:
                    first_decision = d
        if target is not None:
            decided = target
        history.append(decided or {})
    start = first_decision + delay
    out = [0.0]
    prev = history[start - delay - 1] if start - delay - 1 >= 0 else {}
    for t in range(start + 1, n):
        held = history[t - delay - 1]
        gross = sum(w * (p[f].iloc[t] / p[f].iloc[t - 1] - 1) for f, w in held.items())
        total = sum(held.values())
        gross += max(1 - total, 0) * cash / 252 - max(total - 1, 0) * borrow / 252
        names = set(held) | set(prev)
        change = [held.get(f, 0.0) - prev.get(f, 0.0) for f in names]
        traded = max(sum(c for c in change if c > 0), -sum(c for c in change if c < 0))
        out.append((1 + gross) * (1 - cost * traded) - 1)
        prev = held
    return pd.Series(out, index=dates[start:])


@pytest.mark.parametrize(
    "rule, schedule, delay, top_k, ma",
    [("fixed", "daily", 1, 1, None), ("vix_bands", "week", 0, 2, 20), ("vix_formula", "month", 1, 3, 40)],
)
def test_vectorised_equals_naive_loop(rule, schedule, delay, top_k, ma):
    prices = _walks(n=260, m=4, seed=11)
    prices.iloc[:60, 3] = np.nan  # a fund that starts later
    bench = prices.iloc[:, :3].mean(axis=1)
    rng = np.random.default_rng(2)
    vix = pd.Series(rng.uniform(10, 45, len(prices)), index=prices.index)
    bands = [(15, 1.2), (20, 1.0), (30, 0.8), (math.inf, 0.6)]
    fast = run_momentum_backtest(
        prices.assign(SPY=bench),
        funds=list("ABCD"),
        benchmark="SPY",
        vix=vix,
        lookback=15,
        top_k=top_k,
        rebalance=schedule,
        delay=delay,
        leverage=1.3,
        leverage_rule=rule,
        vix_bands=bands,
        leverage_min=0.5,
        leverage_max=1.8,
        borrow_rate=0.04,
        cash_rate=0.01,
        ma_filter=ma,
        slippage_bp=7,
        commission_bp=3,
    )
    slow = naive_momentum(
        prices,
        funds=list("ABCD"),
        bench=bench,
        vix=vix,
        lookback=15,
        top_k=top_k,
        schedule=schedule,
        delay=delay,
        leverage=1.3,
        rule=rule,
        bands=bands,
        lo=0.5,
        hi=1.8,
        borrow=0.04,
        cash=0.01,
        ma=ma,
        cost=10e-4,
    )
    assert fast.returns.index.equals(slow.index)
    np.testing.assert_allclose(fast.returns.to_numpy(), slow.to_numpy(), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------------------ the stages


def test_stage_signals_and_targets_by_hand():
    from xlsector.momentum_rotation import _signals, _targets

    p = HAND.to_numpy()
    signals = _signals(p, 1)
    assert np.isnan(signals[0]).all()  # no price a day before the first
    np.testing.assert_allclose(signals[1], [101 / 100 - 1, 103 / 100 - 1], rtol=1e-15)
    s = np.array([[np.nan, np.nan, np.nan], [0.01, 0.03, 0.02], [0.02, 0.02, np.nan], [np.nan, 0.5, np.nan]])
    # top 1: none; B; a tie of A and B goes to A (listed first); B
    np.testing.assert_array_equal(_targets(s, 1), [[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0]])
    # top 2: half each of the two best; one fund with a signal takes it all (m = min(top_k, available))
    np.testing.assert_array_equal(_targets(s, 2), [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0.5, 0], [0, 1, 0]])
    assert _targets(s, 5)[1].tolist() == pytest.approx([1 / 3] * 3)


def test_stage_filter_by_hand():
    from xlsector.momentum_rotation import _filter

    bench = np.array([100, 101, 102, 90, 91, 95], dtype=float)
    bull, known = _filter(bench, 2)
    # SMA2: -, 100.5, 101.5, 96, 90.5, 93 -> close above it: -, yes, yes, no, yes, yes
    assert known.tolist() == [False, True, True, True, True, True]
    assert bull.tolist() == [False, True, True, False, True, True]
    bull, known = _filter(np.array([100, np.nan, 102, 103]), 2)  # a missing close: not known
    assert known.tolist() == [False, False, False, True]


def test_stage_leverage_by_hand():
    from xlsector.momentum_rotation import _leverage
    from xlsector.params import MomentumStrategy

    vix = np.array([10.0, 15.0, 25.0, np.nan, 60.0])
    lev, known = _leverage(None, MomentumStrategy(leverage=1.5), 5)
    assert lev.tolist() == [1.5] * 5 and known.all()
    lev, known = _leverage(vix, MomentumStrategy(leverage=1.0, leverage_rule="vix_bands"), 5)
    # bands (15, 1.2), (20, 1.0), (30, 0.8), (inf, 0.6): VIX 10 -> 1.2, 15 -> 1.0 (not below 15), 25 -> 0.8
    assert lev[[0, 1, 2, 4]].tolist() == [1.2, 1.0, 0.8, 0.6]
    assert known.tolist() == [True, True, True, False, True]  # no VIX close: not known
    lev, _ = _leverage(vix, MomentumStrategy(leverage=2.0, leverage_rule="vix_formula", leverage_max=3.0), 5)
    # 2 x 30 / max(VIX, 15): 10 -> 4 clipped to 3; 15 -> 4 -> 3; 25 -> 2.4; 60 -> 1
    assert lev[[0, 1, 2, 4]].tolist() == pytest.approx([3.0, 3.0, 2.4, 1.0])


def test_stage_decide_execute_traded_labels_by_hand():
    from xlsector.momentum_rotation import _decide, _execute, _label_holdings, _trade_table, _traded

    target = np.array([[0, 0], [0, 1.0], [1.0, 0], [0.5, 0.5], [0, 0]])
    decide = np.array([False, True, False, True, False])
    decided = _decide(target, decide)  # the latest decision day's target, nothing before the first
    np.testing.assert_array_equal(decided, [[0, 0], [0, 1], [0, 1], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(_execute(decided, 0), [[0, 0], [0, 0], [0, 1], [0, 1], [0.5, 0.5]])
    np.testing.assert_array_equal(_execute(decided, 1), [[0, 0], [0, 0], [0, 0], [0, 1], [0, 1]])
    held = np.array([[0, 0], [0, 1.0], [1.0, 0], [0.5, 0.5], [0.5, 0.5], [0, 0]])
    # into each later day: cash -> B buys 1; B -> A buys 1 and sells 1; A -> A+B buys 0.5; none; sells 1
    assert _traded(held).tolist() == [1.0, 1.0, 0.5, 0.0, 1.0]
    labels = _label_holdings(held, ["A", "B"])
    assert labels.tolist() == ["CASH", "B", "A", "A+B", "A+B", "CASH"]
    trades = _trade_table(pd.bdate_range("2024-01-01", periods=6), labels, _traded(held))
    assert trades["to"].tolist() == ["B", "A", "A+B", "CASH"]
    assert trades["traded"].tolist() == [1.0, 1.0, 0.5, 1.0]


def test_stage_returns_by_hand():
    from xlsector.momentum_rotation import _inputs, _returns
    from xlsector.params import MomentumStrategy

    data = _inputs(HAND, None, None, None, None)
    held = np.zeros((6, 2))
    held[2:4, 1] = 2.0  # B at 2x on days 2 and 3
    held[4:, 0] = 0.5  # A at 0.5x on days 4 and 5
    strategy = MomentumStrategy(borrow_rate=0.0252, cash_rate=0.0252, slippage_bp=10)
    net, traded = _returns(data, held, 1, strategy)
    c, day = 10e-4, 0.0252 / 252
    expected = [
        0.0,  # the start point
        (1 + 2 * (106 / 103 - 1) - day) * (1 - c * 2) - 1,  # enters 2x B: buys 2 units, borrows 1
        2 * (104 / 106 - 1) - day,
        (1 + 0.5 * (104 / 103 - 1) + 0.5 * day) * (1 - c * 2) - 1,  # sells 2 B, buys 0.5 A: traded 2
        0.5 * (105 / 104 - 1) + 0.5 * day,  # half in cash earns the cash rate
    ]
    np.testing.assert_allclose(net, expected, rtol=1e-13, atol=1e-16)
    assert traded.tolist() == [2.0, 0.0, 2.0, 0.0]


# ------------------------------------------------------------------------------------------ the parameters


def test_strategy_record_or_keywords_give_the_same_run():
    from xlsector.params import MomentumStrategy

    by_keywords = run_momentum_backtest(HAND, lookback=1, delay=0, slippage_bp=0)
    record = MomentumStrategy(lookback=1, delay=0, slippage_bp=0)
    by_record = run_momentum_backtest(HAND, strategy=record)
    pd.testing.assert_series_equal(by_record.returns, by_keywords.returns)
    assert by_record.strategy == record and by_record.params["lookback"] == 1
    # keywords replace parts of the record
    changed = run_momentum_backtest(HAND, strategy=record, delay=1)
    assert changed.strategy.delay == 1 and changed.returns.index[0] == DATES[2]
    with pytest.raises(ParameterError, match="unknown momentum parameter 'lookbak'; known: "):
        run_momentum_backtest(HAND, lookbak=3)
    with pytest.raises(ParameterError, match="strategy must be a MomentumStrategy, got dict"):
        run_momentum_backtest(HAND, strategy={"lookback": 1})


def test_parameter_spellings_kept_from_before_the_parameter_model():
    base = run_momentum_backtest(HAND, lookback=1, delay=0, leverage=3.0, leverage_max=None)
    for spelling in ({"leverage_max": math.inf}, {"ma_filter": 0}, {"vix_bands": None}, {"rebalance": "weekly"}):
        r = run_momentum_backtest(HAND, lookback=1, delay=0, leverage=3.0, **spelling)
        if "rebalance" not in spelling:
            pd.testing.assert_series_equal(r.returns, base.returns)
    assert r.strategy.rebalance == "week"
    assert base.leverage.iloc[1:].tolist() == [3.0] * 4  # no upper clip
    with pytest.raises(ParameterError, match=r"leverage_max must be >= leverage_min \(2\), got 1"):
        run_momentum_backtest(HAND, leverage_min=2.0, leverage_max=1.0)
    for bad in (math.nan, math.inf, "126"):
        with pytest.raises(ParameterError, match="lookback must be a whole number from 1 to 100000, got"):
            run_momentum_backtest(HAND, lookback=bad)


# ------------------------------------------------------------------------------------------ the sides


def test_benchmark_series_on_another_calendar_and_its_nan_policy():
    # the benchmark starts on day 2 and lacks day 4: no return before its first price (NaN, not 0), the
    # gap carries its last price
    bench = pd.Series([50.0, 51.0, 52.0, 53.0], index=DATES[[2, 3, 5]].append(pd.DatetimeIndex(["2024-01-13"])))
    with pytest.warns(DataQualityWarning, match=r"benchmark put on the prices' dates: 1 price dates it lacks carry "
                                                r"its last value \(first 2024-01-05\); 2 price dates before its "
                                                r"first date have no value"):
        r = run_momentum_backtest(HAND, benchmark=bench, lookback=1, delay=0, slippage_bp=0)
    assert r.returns.index[0] == DATES[1]
    got = r.benchmark_returns
    # days 1..5: start point 0; day 2 is its first price (nothing held before): NaN; 51/50 - 1; day 4
    # carries 51 (0); day 5: 52/51 - 1
    np.testing.assert_allclose(got.to_numpy(), [0.0, np.nan, 51 / 50 - 1, 0.0, 52 / 51 - 1], rtol=1e-15)
    with pytest.warns(DataQualityWarning, match="benchmark has no return on 1 of the strategy's 4 return days"):
        table = r.metrics()
    assert math.isnan(table.loc["CAGR", "benchmark"])


def test_vix_series_with_missing_dates_carries_the_last_close():
    vix = pd.Series([12.0, 17.0, 25.0], index=DATES[[0, 1, 3]])
    with pytest.warns(DataQualityWarning, match="vix put on the prices' dates: 3 price dates it lacks"):
        r = run_momentum_backtest(
            HAND, lookback=1, delay=0, slippage_bp=0, vix=vix, leverage=1.0, leverage_rule="vix_bands"
        )
    # VIX on days 1..5: 17, 17 (carried), 25, 25 and 25 (carried) -> leverage decided on days 1..4 and
    # earned on days 2..5: 1.0, 1.0, 0.8, 0.8
    np.testing.assert_allclose(r.leverage.to_numpy()[1:], [1.0, 1.0, 0.8, 0.8])
