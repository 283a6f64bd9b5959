"""Side series (xlsector.sides): putting them on the prices' dates, and the benchmark's buy-and-hold returns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from xlsector.errors import DataError, DataQualityWarning, ParameterError
from xlsector.sides import buy_and_hold_returns, on_price_dates

# price dates: Mon 2024-01-01 .. Mon 2024-01-08 (business days)
DATES = pd.bdate_range("2024-01-01", periods=6)


def _series(days: list[str], values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.to_datetime(days), dtype=float)


# ------------------------------------------------------------------------------------------ on_price_dates


def test_same_dates_come_back_unchanged_without_a_warning():
    side = pd.Series(np.arange(6.0), index=DATES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert on_price_dates(side, DATES, "vix") is side


def test_dates_it_lacks_carry_its_last_value_and_the_warning_says_so():
    # the side has 01-02, 01-04 and a Saturday 01-06; the prices 01-01 .. 01-08 (Mon-Fri)
    side = _series(["2024-01-02", "2024-01-04", "2024-01-06"], [1.0, 2.0, 3.0])
    with pytest.warns(DataQualityWarning) as caught:
        out = on_price_dates(side, DATES, "vix")
    assert out.index.equals(DATES)
    # 01-01: before its first date -> NaN; 01-03 carries 01-02's 1; 01-05 carries 01-04's 2;
    # 01-08 (Monday) carries the Saturday's 3 (the last value known on that date)
    np.testing.assert_array_equal(out.to_numpy(), [np.nan, 1.0, 1.0, 2.0, 2.0, 3.0])
    assert str(caught[0].message) == (
        "vix put on the prices' dates: 3 price dates it lacks carry its last value (first 2024-01-03); "
        "1 price dates before its first date have no value; "
        "1 of its dates are not price dates (first 2024-01-06)"
    )


def test_only_extra_dates_still_warn_and_are_dropped():
    # a Cboe-like calendar: every price date plus a Saturday inside the period, and dates outside it
    days = ["2023-12-29", *[f"{d:%Y-%m-%d}" for d in DATES], "2024-01-06", "2024-01-09"]
    side = pd.Series(np.arange(len(days), dtype=float), index=pd.to_datetime(days)).sort_index()
    with pytest.warns(DataQualityWarning, match=r"^index put on the prices' dates: 1 of its dates are not price "
                                                r"dates \(first 2024-01-06\)$"):
        out = on_price_dates(side, DATES, "index")
    np.testing.assert_array_equal(out.to_numpy(), side.loc[DATES].to_numpy())


def test_its_own_nan_values_are_not_filled():
    side = pd.Series([1.0, np.nan, 3.0], index=DATES[[0, 2, 4]])
    with pytest.warns(DataQualityWarning):
        out = on_price_dates(side, DATES, "cash_rate")
    # 01-02 carries 01-01's 1; 01-03 is its own NaN, carried to 01-04; 01-08 carries 01-05's 3
    np.testing.assert_array_equal(out.to_numpy(), [1.0, 1.0, np.nan, np.nan, 3.0, 3.0])


def test_frames_unsorted_input_and_integer_values():
    side = pd.DataFrame({"TLT": [3, 1], "AGG": [30, 10]}, index=DATES[[3, 1]])  # unsorted, ints
    with pytest.warns(DataQualityWarning):
        out = on_price_dates(side, DATES, "bear")
    assert list(out.columns) == ["TLT", "AGG"]
    np.testing.assert_array_equal(out["TLT"].to_numpy(), [np.nan, 1, 1, 3, 3, 3])
    np.testing.assert_array_equal(out["AGG"].to_numpy(), [np.nan, 10, 10, 30, 30, 30])


def test_bad_side_series():
    with pytest.raises(ParameterError, match="vix must be a pandas Series or DataFrame, got list"):
        on_price_dates([1, 2], DATES, "vix")  # type: ignore[type-var]
    twice = pd.Series([1.0, 2.0], index=DATES[[1, 1]])
    with pytest.raises(DataError, match="vix has duplicate dates; the first is 2024-01-02"):
        on_price_dates(twice, DATES, "vix")
    with pytest.raises(ParameterError, match="vix must be indexed like the prices"):
        on_price_dates(pd.Series([1.0, 2.0], index=["a", "b"]), DATES, "vix")


# ------------------------------------------------------------------------------------------ buy and hold


def test_buy_and_hold_returns_by_hand():
    prices = np.array([100.0, 110.0, 99.0, 99.0])
    np.testing.assert_allclose(buy_and_hold_returns(prices), [0.0, 0.1, -0.1, 0.0], rtol=1e-15)
    # from row 1: its own start point is 0
    np.testing.assert_allclose(buy_and_hold_returns(prices, 1), [0.0, -0.1, 0.0], rtol=1e-15)


def test_buy_and_hold_nan_policy():
    #          row:   0       1      2       3      4      5
    prices = np.array([np.nan, 100.0, np.nan, 110.0, 121.0, np.nan])
    got = buy_and_hold_returns(prices)
    # row 0: the start point (0); row 1: its first price, nothing held the day before (NaN, not 0);
    # row 2: a gap carries 100 (0); row 3: the move of the gap lands here (+10 %); row 5: after its last
    # price there is no return (NaN, not 0)
    np.testing.assert_allclose(got, [0.0, np.nan, 0.0, 0.1, 0.1, np.nan], rtol=1e-15)
    # a start inside the gap: the carried price 100 is the start
    np.testing.assert_allclose(buy_and_hold_returns(prices, 2), [0.0, 0.1, 0.1, np.nan], rtol=1e-15)
    # never a 0 for a missing price: every NaN above is a row without a price on it or the day before
    assert np.isnan(buy_and_hold_returns(np.array([np.nan, np.nan, 5.0]))[1:]).all()


def test_buy_and_hold_compounds_to_the_price_ratio():
    rng = np.random.default_rng(1)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    prices[[50, 51, 120]] = np.nan  # gaps
    got = buy_and_hold_returns(prices, 10)
    assert np.prod(1 + got) == pytest.approx(prices[-1] / prices[10], rel=1e-12)


def test_an_empty_side_gives_no_values():
    with pytest.warns(DataQualityWarning, match="6 price dates before its first date have no value"):
        out = on_price_dates(pd.Series([], index=pd.DatetimeIndex([]), dtype=float), DATES, "vix")
    assert out.index.equals(DATES) and out.isna().all()
