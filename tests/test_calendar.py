"""The market days after the data (xlsector.calendar): NYSE sessions when the data follows the NYSE calendar, else
weekdays; a week or month end before a holiday is seen on the last row as the next row will show it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import xlsector as xs
from xlsector.calendar import market_days, market_days_after
from xlsector.rotation import decision_days, next_decision_day


def _cut(index: pd.DatetimeIndex, day: str) -> pd.DatetimeIndex:
    return index[index <= pd.Timestamp(day)]


@pytest.mark.parametrize("day, schedule", [("2024-03-28", "week"), ("2024-03-28", "month"),
                                           ("2021-05-28", "month"), ("2022-04-14", "week"),
                                           ("2020-12-24", "week"), ("2015-04-02", "week")])
def test_last_row_before_a_holiday_ends_its_period_as_the_next_row_shows(etf_prices, day, schedule):
    """The next weekday is an NYSE holiday (Good Friday, Memorial Day, Christmas): the last row is the period's last
    market day, which the full data confirms; the weekday rule missed it."""
    full = pd.DatetimeIndex(etf_prices.index)
    cut = _cut(full, day)
    assert cut[-1] == pd.Timestamp(day)
    assert market_days(cut).name == "NYSE"
    assert decision_days(cut, schedule)[-1]
    assert decision_days(full, schedule)[len(cut) - 1]


def test_appending_rows_keeps_every_decision_of_real_data(etf_prices):
    """Cut the real ETF dates at every day of 2019-2024: the cut's last decision equals the full data's."""
    full = pd.DatetimeIndex(etf_prices.index)
    marks = {s: decision_days(full, s) for s in ("week", "month")}
    for i in np.flatnonzero((full >= "2019-01-01") & (full < "2024-12-31")):
        for schedule, mark in marks.items():
            assert decision_days(full[: i + 1], schedule)[-1] == mark[i], (full[i], schedule)


def test_picks_at_a_holiday_month_end_do_not_change_when_the_next_row_arrives(etf_prices):
    """At 2024-03-28 every trend constant decides what it decides once 2024-04-01 is known (43 of 199 did not)."""
    funds = etf_prices[["XLK", "XLF", "XLE", "XLV", "XLI", "XLP", "XLU", "XLY", "XLB"]].dropna().loc["2015":"2024-06"]
    cut = funds.loc[:"2024-03-28"]
    for tc in range(2, 201):
        a = xs.run_backtest(funds, tc=tc, schedule="month", min_history=22)
        b = xs.run_backtest(cut, tc=tc, schedule="month", min_history=22)
        targets = pd.Series(np.asarray(a.target_ids), index=pd.DatetimeIndex(a.dates))
        assert list(targets.loc[pd.DatetimeIndex(b.dates)]) == list(b.target_ids), tc  # the last close's decision


def test_business_days_and_short_data_use_weekdays():
    bdays = pd.bdate_range("2024-01-02", "2024-03-28")  # includes 2024-01-15 and 2024-02-19, NYSE holidays
    assert market_days(bdays).name == "weekdays"
    assert not decision_days(bdays, "month")[-1]  # by weekdays, 2024-03-29 still follows in March
    june = pd.DatetimeIndex(["2023-06-05", "2023-06-06", "2023-06-07"])  # no holiday in sight: cannot tell
    assert market_days(june).name == "weekdays"
    other = pd.DatetimeIndex(pd.bdate_range("2023-01-02", "2024-03-28").drop(pd.Timestamp("2023-12-26")))
    assert market_days(other).name == "weekdays"  # a day the NYSE was closed (2024-01-01) is in the data


def test_next_decision_and_market_days_after_skip_holidays(etf_prices):
    dates = _cut(pd.DatetimeIndex(etf_prices.index), "2024-03-27")
    calendar = market_days(dates)
    assert calendar.name == "NYSE"
    assert list(market_days_after(pd.Timestamp("2024-03-27"), 2, calendar)) == [pd.Timestamp("2024-03-28"),
                                                                              pd.Timestamp("2024-04-01")]
    assert next_decision_day(pd.Timestamp("2024-03-27"), "week", calendar) == pd.Timestamp("2024-03-28")
    assert next_decision_day(pd.Timestamp("2024-03-27"), "month", calendar) == pd.Timestamp("2024-03-28")
    assert next_decision_day(pd.Timestamp("2024-03-27"), "month") == pd.Timestamp("2024-03-29")  # weekdays
    assert next_decision_day(pd.Timestamp("2024-12-24"), "daily", calendar) == pd.Timestamp("2024-12-26")


def test_signal_trades_on_the_next_session(etf_prices):
    prices = etf_prices[["XLK", "XLF", "XLE"]].dropna().loc["2020":"2024-03-28"]
    found = xs.signal(prices, tc=20, delay=1, schedule="month")
    assert found.effective == pd.Timestamp("2024-04-01")
    assert found.next_decision == pd.Timestamp("2024-04-30")


def test_stormguard_indicator_runs_on_the_whole_index_then_aligns(sp500_index, etf_prices):
    """Fund prices from 2021-12-01, the S&P 500 index from 1927: the state is the index's own, bear from
    2022-05-11 (cut to the funds' dates first, the indicator restarted and turned bear on 2022-03-11)."""
    from xlsector.rotation import stormguard, stormguard_on_dates

    dates = etf_prices.loc["2021-12-01":"2022-12-30"].index
    indicator, bull = stormguard_on_dates(sp500_index, dates, tc=50, k=22, shift=0.005)
    state = pd.Series(bull, index=dates)
    assert state[~state].index[0] == pd.Timestamp("2022-05-11")
    whole = stormguard(sp500_index).reindex(dates)
    np.testing.assert_allclose(indicator, whole["indicator"].to_numpy())
    # no look-ahead: the index's later days do not change what a date reads
    early, _ = stormguard_on_dates(sp500_index.loc[:"2022-06-30"], dates[dates <= "2022-06-30"], tc=50, k=22,
                                   shift=0.005)
    np.testing.assert_array_equal(early, indicator[: len(early)])


def test_backtest_and_signal_use_the_index_history_before_the_funds(sp500_index, etf_prices):
    """ETF prices from 2021-12-01 with the whole S&P 500 index: the rotation goes to cash when the index's own
    indicator turns bear (2022-05-11, quick mode), not when an indicator restarted at the funds' start would."""
    funds = etf_prices[["XLK", "XLF", "XLE", "XLV"]].loc["2021-12-01":"2022-12-30"]
    result = xs.run_backtest(funds, tc=20, stormguard="quick", index=sp500_index, delay=0, min_history=5)
    cash = result.targets.loc[result.targets == "CASH"].index
    assert cash[cash >= "2022-01-01"][0] == pd.Timestamp("2022-05-11")
    found = xs.signal(funds, tc=20, stormguard="quick", index=sp500_index)
    whole = xs.stormguard(sp500_index)
    assert found.stormguard.indicator == pytest.approx(whole["indicator"].loc[funds.index[-1]])
