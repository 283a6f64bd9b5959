"""validate_prices: dates, positivity, calendar alignment, the jump guard and the reference check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlsector.data.validate import compare_returns, jump_flags, validate_prices
from xlsector.errors import DataError, DataQualityWarning


def _frame(values, start="2020-01-01", columns=("A", "B")):
    index = pd.bdate_range(start, periods=len(values)).as_unit("us")
    return pd.DataFrame(values, index=index, columns=list(columns), dtype=float)


def test_clean_frame_passes_unchanged():
    frame = _frame([[1.0, 2.0], [1.1, 2.1], [1.2, 2.2]])
    out, issues = validate_prices(frame, warn=False)
    pd.testing.assert_frame_equal(out, frame)
    assert issues == []


def test_duplicate_dates_are_an_error():
    frame = _frame([[1.0, 2.0], [1.1, 2.1]])
    frame.index = [frame.index[0], frame.index[0]]
    with pytest.raises(DataError, match="dates must be unique; 1 date.s. appear more than once: 2020-01-01"):
        validate_prices(frame)


def test_unsorted_dates_are_sorted_with_a_warning():
    frame = _frame([[1.0, 2.0], [1.1, 2.1], [1.2, 2.2]]).iloc[[2, 0, 1]]
    with pytest.warns(DataQualityWarning, match="not in increasing order"):
        out, _ = validate_prices(frame)
    assert out.index.is_monotonic_increasing
    assert out["A"].tolist() == [1.0, 1.1, 1.2]


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, 1e308])
def test_prices_must_be_positive_and_finite(bad):
    """1e308 passed, and the returns after it overflowed to inf and NaN."""
    frame = _frame([[1.0, 2.0], [1.1, bad]])
    with pytest.raises(DataError, match=r"finite and > 0 \(and below 1e\+15\), got .* for B on 2020-01-02"):
        validate_prices(frame)


def test_text_column_is_an_error():
    frame = _frame([[1.0, 2.0], [1.1, 2.1]]).astype(object)
    frame.iloc[1, 1] = "abc"
    with pytest.raises(DataError, match="column B must hold numbers, got 'abc' on 2020-01-02"):
        validate_prices(frame)


def test_non_date_index_is_an_error():
    frame = pd.DataFrame({"A": [1.0, 2.0]}, index=["x", "y"])
    with pytest.raises(DataError, match="index must hold dates"):
        validate_prices(frame)


def test_interior_gap_filled_leading_kept_empty_rows_dropped():
    nan = np.nan
    frame = _frame([[nan, 2.0], [1.0, 2.1], [nan, 2.2], [nan, nan], [1.3, 2.3]])
    with pytest.warns(DataQualityWarning):
        out, issues = validate_prices(frame)
    assert len(out) == 4  # the all-empty row 2020-01-06 is dropped
    assert np.isnan(out["A"].iloc[0])  # A had not started: stays NaN
    assert out["A"].tolist()[1:] == [1.0, 1.0, 1.3]  # the gap on 2020-01-03 takes the previous price
    assert any("dropped 1 dates where no ticker has a price: 2020-01-06" in m for m in issues)
    assert any("A has no price on 1 dates inside its history, filled with the previous price: 2020-01-03" in m
               for m in issues)  # fmt: skip


def test_no_fill_leaves_gaps():
    frame = _frame([[1.0, 2.0], [np.nan, 2.1], [1.2, 2.2]])
    out, issues = validate_prices(frame, fill=False, warn=False)
    assert np.isnan(out["A"].iloc[1]) and "left blank" in issues[0]


def test_ticker_stopping_early_is_reported_not_filled():
    frame = _frame([[1.0, 2.0], [1.1, 2.1], [np.nan, 2.2]])
    out, issues = validate_prices(frame, warn=False)
    assert np.isnan(out["A"].iloc[2])
    assert issues == [
        "prices: A stops on 2020-01-02, before the last date 2020-01-03 (1 dates without a price)"
    ]


def test_jump_guard_hand_sized():
    # B falls 20% on day 3 while A and the index move 1%: flagged; a 10% move is not
    frame = _frame([[100, 100], [101, 101], [102, 81.6], [103, 73.4]])
    index = pd.Series([1000, 1010, 1020, 1030.0], index=frame.index)
    flags = jump_flags(frame, index=index)
    assert [(t, f"{d:%Y-%m-%d}") for t, d, _, _ in flags] == [("B", "2020-01-03")]
    _, _, move, peer = flags[0]
    assert move == pytest.approx(81.6 / 101 - 1) and peer == pytest.approx(102 / 101 - 1)


def test_jump_guard_single_series_compares_the_move_itself():
    frame = _frame([[100.0], [84.0], [85.0]], columns=["A"])
    assert [t for t, *_ in jump_flags(frame)] == ["A"]


def test_real_etfs_and_crashes_are_not_flagged(etf_prices, sp500_index):
    # 14 ETFs 1993-2025 with the S&P 500 index (the data README: every move > 15% is a real event,
    # e.g. 2008-10-13, 2020-03-09, 2020-03-16)
    out, issues = validate_prices(etf_prices, index=sp500_index, warn=False)
    assert [m for m in issues if "moved" in m] == []
    for day in ["2008-10-13", "2020-03-09", "2020-03-16"]:
        assert (out.loc[day, "SPY"] / out["SPY"].shift().loc[day] - 1) ** 2 > 0.05**2  # really big days


def _estrader_total_return(shared_data, ticker):
    raw = pd.read_csv(shared_data / f"raw/estrader1__qstrader/data/{ticker}.csv.gz", index_col="Date")
    raw.index = pd.DatetimeIndex([d[:10] for d in raw.index]).as_unit("us")
    # total return rebuilt as the data README says: (Close + Dividends) / Close.shift()
    return ((raw["Close"] + raw["Dividends"]) / raw["Close"].shift()).fillna(1.0).cumprod().rename(ticker)


def test_real_xlf_split_applied_twice_is_the_only_flag(shared_data, sp500_index):
    tickers = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]
    frame = pd.concat([_estrader_total_return(shared_data, t) for t in tickers], axis=1)
    flags = jump_flags(frame, index=sp500_index)
    assert [(t, f"{d:%Y-%m-%d}") for t, d, _, _ in flags] == [("XLF", "2016-09-19")]
    assert flags[0][2] == pytest.approx(-0.188, abs=0.01)  # 1/1.231 - 1 = -18.8%, plus that day's move


def test_real_agg_missing_dividend_found_by_the_reference_check(shared_data):
    cweill = pd.read_csv(shared_data / "raw/cweill__qstrader-examples/data/AGG.csv.gz", index_col="Date",
                         parse_dates=True)[["Adj Close"]].iloc[:-1].rename(columns={"Adj Close": "AGG"})  # fmt: skip
    good = pd.read_csv(shared_data / "raw/jmlestevez-source__taa-dashboard/data/AGG.csv.gz", skiprows=[1, 2, 3],
                       index_col=0, parse_dates=True).iloc[:, [0]].set_axis(["AGG"], axis=1)  # fmt: skip
    # the jump guard alone cannot see a 0.3% move of a bond fund...
    assert jump_flags(cweill) == []
    # ...the comparison with another copy of the same ticker can (data README: only 2024-12-02 differs)
    diffs = compare_returns(cweill, good)
    assert [(t, f"{d:%Y-%m-%d}") for t, d, _, _ in diffs] == [("AGG", "2024-12-02")]
    _, issues = validate_prices(cweill, reference=good, warn=False)
    assert any("AGG return on 2024-12-02 is -0.3024% here but +0.0121% in the reference" in m for m in issues)


def test_real_estrader_agg_merged_dividends_found_by_the_reference_check(shared_data):
    # estrader1's AGG lists 0.624 on 2024-09-03: two monthly dividends merged, so 2024-08-01 misses one
    rebuilt = _estrader_total_return(shared_data, "AGG").to_frame()
    good = pd.read_csv(shared_data / "raw/jmlestevez-source__taa-dashboard/data/AGG.csv.gz", skiprows=[1, 2, 3],
                       index_col=0, parse_dates=True).iloc[:, [0]].set_axis(["AGG"], axis=1)  # fmt: skip
    dates = [f"{d:%Y-%m-%d}" for _, d, _, _ in compare_returns(rebuilt, good, tolerance=1e-3)]
    assert "2024-09-03" in dates


def test_sample_flags_only_its_documented_real_events():
    from xlsector.data import load_sample

    prices = load_sample().prices
    flags = jump_flags(prices.drop(columns="^GSPC"), index=prices["^GSPC"])
    # listed in xlsector/data/sample/README.md, each a real single-stock event
    assert sorted((t, f"{d:%Y-%m-%d}") for t, d, _, _ in flags) == [
        ("HD", "2000-10-12"), ("JPM", "2009-01-20"), ("JPM", "2009-01-21"), ("MRK", "2004-09-30"),
        ("MRK", "2008-03-31"), ("MSFT", "2000-04-03"), ("PG", "2000-03-07"),
    ]  # fmt: skip
