"""xlsector.benchmarks: the universe bought and held (equal to the backtests' default benchmark) and
rebalanced daily, a total-return index, a price index labelled price only; the figures the issue measured on
the bundled sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlsector.backtesting import run_backtest
from xlsector.benchmarks import (
    PRICE_ONLY,
    as_columns,
    equal_weight,
    fair_benchmarks,
    is_price_index,
    market_benchmark,
    primary_label,
)


def _prices() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2010-01-01", periods=300)
    frame = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0.0004, 0.01, (300, 3)), axis=0)), index=dates,
                         columns=["A", "B", "C"])
    frame.iloc[:40, 2] = np.nan  # C starts later: not in the start day's universe
    return frame


def test_equal_weight_held_and_rebalanced_by_hand():
    prices = _prices()
    dates = prices.index[30:]
    held = equal_weight(prices, dates, rebalance=False)
    both = prices.loc[dates, ["A", "B"]]
    growth = (both / both.iloc[0]).mean(axis=1)
    np.testing.assert_allclose((1 + held).cumprod().to_numpy(), growth.to_numpy(), rtol=1e-12)
    daily = equal_weight(prices, dates, rebalance=True)
    np.testing.assert_allclose(daily.to_numpy()[1:], both.pct_change().iloc[1:].mean(axis=1).to_numpy(), rtol=1e-12)
    assert held.iloc[0] == 0.0 == daily.iloc[0]


def test_buy_and_hold_equals_the_backtests_default_benchmark():
    prices = _prices()
    result = run_backtest(prices, tc=10)
    found = fair_benchmarks(prices, result.dates)  # no primary: the held one is listed too
    np.testing.assert_allclose(found["EW buy-and-hold"].returns.to_numpy(), result.benchmark_returns.to_numpy(),
                               rtol=1e-12, atol=1e-15)
    again = fair_benchmarks(prices, result.dates, primary=result.benchmark_label)
    assert list(again) == ["EW rebalanced daily"]  # the primary is not repeated
    table = result.metrics(benchmarks=as_columns(again))
    assert list(table.columns) == ["strategy", "benchmark", "EW rebalanced daily", "definition"]


def test_market_labels():
    prices = _prices()
    index = pd.Series(1000 * np.exp(np.linspace(0, 0.1, len(prices))), index=prices.index, name="^GSPC")
    found = fair_benchmarks(prices, prices.index, index=index)
    assert found["^GSPC (price only)"].label == f"buy-and-hold ^GSPC: {PRICE_ONLY}"
    assert PRICE_ONLY == "price only, excludes dividends (understates the market by the dividend yield)"
    total = fair_benchmarks(prices, prices.index, index=index, market=index.rename("^SP500TR"))
    assert "^SP500TR (total return)" in total and "^GSPC (price only)" not in total
    assert primary_label("buy-and-hold ^GSPC") == f"buy-and-hold ^GSPC: {PRICE_ONLY}"
    assert primary_label("buy-and-hold SPY") == "buy-and-hold SPY"
    assert is_price_index("^DJI") and not is_price_index("^SP500TR") and not is_price_index("SPY")
    bench = market_benchmark(index, prices.index[10:], name="^GSPC", total_return=False)
    assert bench.returns.iloc[0] == 0.0
    np.testing.assert_allclose(bench.returns.iloc[1:], index.pct_change().iloc[11:].to_numpy(), rtol=1e-12)


def test_the_issue_figures_on_the_bundled_sample():
    """Buying and holding the sample's 10 stocks gave 15.52 % a year (rebalanced daily 15.17 %, Sharpe 0.87
    against the strategy's 0.61); the S&P 500 price index 7.7 %."""
    import xlsector as xs

    data = xs.load_sample()
    funds = data.prices.drop(columns="^GSPC")
    result = run_backtest(funds, tc=50, index=data.prices["^GSPC"])
    fair = fair_benchmarks(funds, result.dates, primary=result.benchmark_label, index=data.prices["^GSPC"])
    table = result.metrics(benchmarks=as_columns(fair))
    assert table.at["CAGR", "benchmark"] == pytest.approx(0.1552, abs=5e-5)
    assert table.at["CAGR", "EW rebalanced daily"] == pytest.approx(0.1517, abs=5e-5)
    assert table.at["Sharpe ratio", "EW rebalanced daily"] == pytest.approx(0.87, abs=5e-3)
    assert table.at["Sharpe ratio", "strategy"] == pytest.approx(0.61, abs=5e-3)
    assert table.at["CAGR", "^GSPC (price only)"] == pytest.approx(0.0771, abs=5e-4)


def test_total_return_index_from_shared_data(shared_data):
    """The real S&P 500 total-return index beats the price index by about the dividend yield."""
    tr = pd.read_csv(shared_data / "sp500_total_return_index_daily.csv", index_col=0, parse_dates=True).iloc[:, 0]
    px = pd.read_csv(shared_data / "sp500_price_index_daily.csv", index_col=0, parse_dates=True).iloc[:, 0]
    dates = tr.loc["2000-01-03":"2019-12-31"].index
    prices = pd.DataFrame({"A": tr.loc[dates], "B": px.reindex(dates)})
    found = fair_benchmarks(prices, dates, index=px.rename("^GSPC"), market=tr.rename("^SP500TR"))
    price_only = fair_benchmarks(prices, dates, index=px.rename("^GSPC"))["^GSPC (price only)"].returns
    years = (dates[-1] - dates[0]).days / 365.25
    gap = (1 + found["^SP500TR (total return)"].returns).prod() ** (1 / years) - (1 + price_only).prod() ** (1 / years)
    assert 0.015 < gap < 0.025  # the dividend yield of 2000-2019
