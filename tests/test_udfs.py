"""Plain calls of the Excel functions (udfs/xlsector_udfs.py) on hand-sized ranges and on real data.

On Linux without ``XLWINGS_ON_SERVER`` the xlwings decorators are no-ops, so these are the very functions
Excel calls, given cells shaped as xlwings delivers them (lists of rows, ``None`` for blanks, datetimes
or serial numbers for dates, ``"#N/A"`` for error cells). The Office.js and classic (VBA) paths through
xlwings' own machinery are in test_udfs_officejs.py and test_udfs_vba.py.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from xlwings import XlwingsError

from udfs import xlsector_udfs as u

FUNCTIONS = [
    "EMA2_TREND", "EMA_TREND", "EMA_WEIGHTS", "EMA2_WEIGHTS", "MOMENTUM", "SECTOR_PICK", "SECTOR_PICKS",
    "STORMGUARD_STATE", "STORMGUARD_HISTORY", "BACKTEST_CAGR", "BACKTEST_METRICS", "TREND_CHART", "FWPT_TABLE",
    "SECTOR_SIGNAL", "BACKTEST_EQUITY", "SPLIT_SAMPLE", "PROGRESSIVE_TUNE", "OVERFIT_STATS", "ROBUSTNESS_MAP",
    "TIMING_LUCK", "STALE_DATA", "PORTFOLIO_TABLE",
]  # fmt: skip


def to_cells(frame: pd.DataFrame, *, header: bool = True, dates: str | None = "datetime") -> list[list]:
    """A price frame as xlwings delivers a range: rows of floats/None, dates as datetimes or serials."""
    rows = []
    if header:
        rows.append((["Date"] if dates else []) + [str(c) for c in frame.columns])
    if dates == "serial":
        labels = ((frame.index - pd.Timestamp("1899-12-30")).days).tolist()
    else:
        labels = list(frame.index.to_pydatetime()) if dates else []
    values = frame.to_numpy(dtype=float)
    for i, row in enumerate(values):
        cells = [None if np.isnan(v) else float(v) for v in row]
        rows.append(([labels[i]] if dates else []) + cells)
    return rows


def two_funds(n: int = 40) -> pd.DataFrame:
    """A rises 1 % a day, B falls 1 % a day, on business days from 2020-01-01."""
    days = pd.bdate_range("2020-01-01", periods=n)
    return pd.DataFrame({"A": 100 * 1.01 ** np.arange(n), "B": 100 * 0.99 ** np.arange(n)}, index=days)


def crossing_funds() -> pd.DataFrame:
    """A rises 1 %/day for 40 days then falls 1 %/day; B falls 0.5 %/day then rises 1 %/day (80 days)."""
    t = np.arange(40)
    a = np.r_[100 * 1.01**t, 100 * 1.01**39 * 0.99 ** (t + 1)]
    b = np.r_[100 * 0.995**t, 100 * 0.995**39 * 1.01 ** (t + 1)]
    return pd.DataFrame({"A": a, "B": b}, index=pd.bdate_range("2020-01-01", periods=80))


def test_module_lists_every_function_with_a_one_line_docstring():
    assert sorted(u.__all__) == sorted(FUNCTIONS)
    for name in FUNCTIONS:
        doc = getattr(u, name).__doc__
        assert doc and "\n" not in doc.strip() and len(doc) <= 255, name


# ------------------------------------------------------------------------------ names


_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]+)$")
_R1C1 = re.compile(r"^(R(\d+|\[-?\d+\])?)?(C(\d+|\[-?\d+\])?)?$")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def is_cell_reference(name: str) -> bool:
    """True if Excel would read ``name`` as an A1 (A1..XFD1048576) or R1C1 reference (R, C, R1C1, RC[-1], ...)."""
    upper = name.upper()
    match = _A1.match(upper)
    if match and _column_number(match.group(1)) <= 16384 and 1 <= int(match.group(2)) <= 1048576:
        return True
    return bool(upper) and _R1C1.match(upper) is not None


def test_reference_check_itself_recognises_references():
    # the names the rule is about: EMA2 is column EMA, row 2; XFD1048576 is the last cell of a sheet
    for ref in ["EMA2", "A1", "XFD1048576", "$B$3", "R1C1", "RC", "R", "C", "R[-1]C[2]", "rc3"]:
        assert is_cell_reference(ref), ref
    for name in ["XFE1", "A1048577", "EMA", "EMA2_TREND", "A0", "RC_1", "SECTOR_PICK"]:
        assert not is_cell_reference(name), name


@pytest.mark.parametrize("name", FUNCTIONS)
def test_no_function_name_reads_as_a_cell_reference(name):
    assert name == name.upper()
    assert not is_cell_reference(name)
    # Excel function names: letters first, then letters, digits, underscores or periods
    assert re.fullmatch(r"[A-Z][A-Z0-9_.]*", name)


# ------------------------------------------------------------------------------ trends


def test_ema2_trend_reproduces_the_source_papers_table():
    # SPEC §1 test vector (source paper, a = 0.02 i.e. tc = 50, k = 21, VFINX): EMA2 0, 0.000202, 0.000430
    cells = [["Date", "VFINX"], [dt.datetime(1988, 9, 1), 14.154], [dt.datetime(1988, 9, 2), 14.494],
             [dt.datetime(1988, 9, 6), 14.554]]  # fmt: skip
    out = u.EMA2_TREND(cells, 50, 21)
    assert out[0] == ["VFINX"]  # the input had a header row, so the spill has one
    assert [round(row[0], 6) for row in out[1:]] == [0.0, 0.000202, 0.000430]
    first = u.EMA_TREND(cells, 50, 21)
    assert [round(row[0], 6) for row in first[1:]] == [0.0, 0.010089, 0.011626]


def test_ema2_trend_by_hand_two_rows():
    # one return of +10 % on day 2, tc = 2 (a = 0.5), k = 22: EMA = 0.5*22*0.1 = 1.1, EMA2 = 0.5*1.1 = 0.55
    out = u.EMA2_TREND([[100], [110]], 2)
    assert out == [[0.0], [pytest.approx(0.55)]]
    assert u.EMA_TREND([[100], [110]], 2) == [[0.0], [pytest.approx(1.1)]]


def test_trend_output_mirrors_input_rows_with_and_without_header_and_dates():
    frame = two_funds(5)
    with_all = u.EMA2_TREND(to_cells(frame), 10)
    no_header = u.EMA2_TREND(to_cells(frame, header=False), 10)
    no_dates = u.EMA2_TREND(to_cells(frame, dates=None), 10)
    bare = u.EMA2_TREND(to_cells(frame, header=False, dates=None), 10)
    serials = u.EMA2_TREND(to_cells(frame, dates="serial"), 10)
    assert with_all[0] == ["A", "B"] and len(with_all) == 6
    assert len(no_header) == 5 and no_header == with_all[1:] == bare == no_dates[1:] == serials[1:]
    assert all(len(row) == 2 for row in with_all)


def test_blank_cells_before_a_fund_starts_stay_blank():
    cells = [["A", "B"], [100, None], [101, None], [102, 50], [103, 51]]
    out = u.EMA2_TREND(cells, 10)
    assert [row[1] for row in out[1:]] == [None, None, 0.0, pytest.approx(0.1 * 22 * 0.02 * 0.1)]


def test_trailing_blank_rows_of_a_large_range_are_not_repeated():
    cells = [["A"], [100], [110], [None], [None]]
    assert len(u.EMA2_TREND(cells, 2)) == 3


def test_header_and_dates_can_be_forced():
    # a numeric first row read as data unless header=TRUE says otherwise
    cells = [[1.0, 2.0], [100.0, 50.0], [110.0, 50.0]]
    assert len(u.EMA2_TREND(cells, 2)) == 3
    forced = u.EMA2_TREND(cells, 2, None, True)
    assert forced[0] == ["1", "2"] and len(forced) == 3
    with_dates = u.EMA2_TREND(cells, 2, None, False, True)  # first column as (serial) dates
    assert len(with_dates[0]) == 1


def test_scalars_arrive_as_numbers_one_cell_ranges_or_numeric_text():
    cells = to_cells(two_funds(5))
    expected = u.EMA2_TREND(cells, 10)
    assert u.EMA2_TREND(cells, [[10]]) == expected
    assert u.EMA2_TREND(cells, [10.0]) == expected
    assert u.EMA2_TREND(cells, " 10 ") == expected
    assert u.EMA2_TREND(cells, 10, [[None]]) == expected  # blank k = default 22
    assert u.EMA2_TREND(cells, 10, 22) == expected


def test_weights_by_hand():
    # tc = 50 (a = 0.02), k = 22: EMA weight 0.44 * 0.98^t; EMA2 weight 22 * 0.0004 * (t+1) * 0.98^t
    assert u.EMA_WEIGHTS(50, 3) == [[pytest.approx(0.44)], [pytest.approx(0.4312)], [pytest.approx(0.422576)]]
    assert u.EMA2_WEIGHTS(50, 2) == [[pytest.approx(0.0088)], [pytest.approx(0.017248)]]
    # a range of ages keeps its shape; blanks stay blank
    assert u.EMA2_WEIGHTS(50, [[0], [None], [1]]) == [[pytest.approx(0.0088)], [None], [pytest.approx(0.017248)]]
    assert u.EMA_WEIGHTS(50, [[0, 1]]) == [[pytest.approx(0.44), pytest.approx(0.4312)]]
    assert len(u.EMA_WEIGHTS(50)) == 250  # default: ages 0..249
    # EMA weights sum to k over all ages (a geometric series): check with many ages
    assert sum(w[0] for w in u.EMA_WEIGHTS(50, 3000)) == pytest.approx(22.0)


def test_momentum_by_hand():
    cells = [["Date", "A"], [dt.datetime(2020, 1, 1), 100.0], [dt.datetime(2020, 1, 2), 110.0],
             [dt.datetime(2020, 1, 3), 121.0]]  # fmt: skip
    assert u.MOMENTUM(cells, 1) == [["A"], [None], [pytest.approx(0.1)], [pytest.approx(0.1)]]
    assert u.MOMENTUM(cells, 2) == [["A"], [None], [None], [pytest.approx(0.21)]]


# ------------------------------------------------------------------------------ rotation


def test_sector_pick_holds_the_rising_fund():
    cells = to_cells(two_funds())
    assert u.SECTOR_PICK(cells, 10) == "A"
    # history: cash on the first day of the period (row 23: 22 days of history needed), then A from the
    # second day after the first decision (decided at the first day's close, traded a day later)
    picks = u.SECTOR_PICKS(cells, 10)
    assert picks == [["Date", "Holding"], [dt.datetime(2020, 1, 31), "CASH"], [dt.datetime(2020, 2, 4), "A"]]
    daily = u.SECTOR_PICKS(cells, 10, None, None, None, None, None, None, None, None, None, None, None, None,
                           None, True)
    assert len(daily) == 1 + 40 - 22 and daily[-1][1] == "A"


def test_sector_pick_follows_the_trends_across_a_crossing_and_never_looks_ahead():
    frame = crossing_funds()
    cells = to_cells(frame)
    picks = u.SECTOR_PICKS(cells, 5, 0)
    assert [row[1] for row in picks[1:]] == ["CASH", "A", "B"]
    assert picks[-1][0] > dt.datetime(2020, 2, 25)  # the switch to B comes after B turns up (row 40)
    switch = picks[-1][0]
    assert u.SECTOR_PICK(cells, 5, 0) == "B"
    before = frame.index[frame.index < switch][-1].to_pydatetime()
    assert u.SECTOR_PICK(cells, 5, 0, None, None, before) == "A"
    # as_of = date d gives the same pick as the range cut at d (no look-ahead), also as a serial number
    cut = to_cells(frame.loc[:before])
    assert u.SECTOR_PICK(cut, 5, 0) == "A"
    serial = (pd.Timestamp(before) - pd.Timestamp("1899-12-30")).days
    assert u.SECTOR_PICK(cells, 5, 0, None, None, [[serial]]) == "A"


def test_stormguard_state_and_history_by_hand():
    falling = [[100 * 0.99**t] for t in range(60)]
    rising = [[100 * 1.01**t] for t in range(60)]
    assert u.STORMGUARD_STATE(falling) == "BEAR"
    assert u.STORMGUARD_STATE(rising) == "BULL"
    history = u.STORMGUARD_HISTORY(falling)
    assert history[0] == ["Row", "Indicator", "State"] and len(history) == 61
    # indicator = EMA2 with tc 50 of 22 x daily return: day 2 = 0.02 * (0.02 * 22 * -0.01) = -0.000088
    assert history[2][1] == pytest.approx(-0.000088)
    states = [row[2] for row in history[1:]]
    first_bear = states.index("BEAR")
    assert set(states[:first_bear]) == {"BULL"} and set(states[first_bear:]) == {"BEAR"}
    # the state turns bear on the first day the indicator is below -shift (0.5 %)
    assert history[1 + first_bear][1] < -0.005 <= history[first_bear][1]
    # a wider band (shift) delays the turn
    wide = [row[2] for row in u.STORMGUARD_HISTORY(falling, 0.02)[1:]]
    assert wide.index("BEAR") > first_bear


def test_stormguard_filter_in_sector_pick_needs_and_uses_the_index():
    frame = two_funds(60)
    cells = to_cells(frame)
    with pytest.raises(XlwingsError, match="index"):
        u.SECTOR_PICK(cells, 10, None, None, "quick")
    falling_index = [["Date", "SPX"]] + [[d.to_pydatetime(), 100 * 0.98**t] for t, d in enumerate(frame.index)]
    assert u.SECTOR_PICK(cells, 10, None, falling_index, "quick") == "CASH"
    assert u.SECTOR_PICK(cells, 10, None, falling_index, "off") == "A"
    # an index without dates lines up row by row with the prices
    assert u.SECTOR_PICK(cells, 10, None, [row[1:] for row in falling_index], "quick") == "CASH"


def test_backtest_cagr_by_hand():
    # one fund rising 0.1 % every calendar day, no cost, no history needed: the rotation buys it at the
    # first close and earns every later day's return except the first one (delay 1):
    # equity = 1.001^(n-2) over n-1 calendar days
    n = 366
    days = pd.date_range("2020-01-01", periods=n, freq="D")
    cells = to_cells(pd.DataFrame({"A": 100 * 1.001 ** np.arange(n)}, index=days))
    cagr = u.BACKTEST_CAGR(cells, 10, 0, None, None, None, None, 1, 0, None, 0)
    assert cagr == pytest.approx(1.001 ** ((n - 2) * 365.25 / (n - 1)) - 1)
    # delay 0 buys a day earlier: 1.001^(n-1)
    cagr0 = u.BACKTEST_CAGR(cells, 10, 0, None, None, None, None, 0, 0, None, 0)
    assert cagr0 == pytest.approx(1.001 ** 365.25 - 1)
    # 10 bp per trade: one trade
    cagr_cost = u.BACKTEST_CAGR(cells, 10, 0, None, None, None, None, 0, 10, None, 0)
    assert cagr_cost == pytest.approx((1.001 ** (n - 1) * (1 - 0.001)) ** (365.25 / (n - 1)) - 1)


def test_backtest_metrics_table():
    cells = to_cells(crossing_funds())
    table = u.BACKTEST_METRICS(cells, 5, 0)
    assert table[0] == ["Metric", "Value", "Definition"]
    labels = [row[0] for row in table[1:]]
    assert {"CAGR", "Max drawdown", "Sharpe ratio", "Win rate (days)", "Trades"} <= set(labels)
    values = {row[0]: row[1] for row in table[1:]}
    assert values["CAGR"] == pytest.approx(u.BACKTEST_CAGR(cells, 5, 0))
    assert values["Max drawdown"] <= 0 and values["Trades"] == 1  # cash -> A (initial buy) -> B: one switch
    assert all(isinstance(row[2], str) and row[2] for row in table[1:])
    wide = u.BACKTEST_METRICS(cells, 5, 0, None, None, None, None, None, None, None, None, None, None, None,
                              None, None, "A", True)
    # the chosen benchmark, then the fair ones: the universe bought and held, and rebalanced daily (no index given)
    assert wide[0] == ["Metric", "Value", "Definition", "Benchmark: buy-and-hold A",
                       "equal-weight buy-and-hold of the 2 funds (bought on the start day, not rebalanced)",
                       "equal weight of the 2 funds, rebalanced at every close"]
    bench = {row[0]: row[3] for row in wide[1:]}
    # buy-and-hold A over the same days as the strategy
    funds = crossing_funds()
    period = funds["A"].iloc[22:]
    years = (period.index[-1] - period.index[0]).days / 365.25
    assert bench["CAGR"] == pytest.approx((period.iloc[-1] / period.iloc[0]) ** (1 / years) - 1)
    # equal weight, held: the mean growth of the two funds; rebalanced: the mean of their daily returns
    held = {row[0]: row[4] for row in wide[1:]}
    both = funds.iloc[22:]
    growth = (both / both.iloc[0]).mean(axis=1)
    assert held["CAGR"] == pytest.approx(growth.iloc[-1] ** (1 / years) - 1)
    rebalanced = {row[0]: row[5] for row in wide[1:]}
    daily = both.pct_change().iloc[1:].mean(axis=1)
    assert rebalanced["CAGR"] == pytest.approx((1 + daily).prod() ** (1 / years) - 1)
    # a price index as the index: shown labelled price only
    index = [["Date", "IDX"]] + [[row[0], 100.0 + i] for i, row in enumerate(cells[1:])]
    labelled = u.BACKTEST_METRICS(cells, 5, 0, index, None, None, None, None, None, None, None, None, None, None,
                                  None, None, None, True)
    assert labelled[0][-1] == ("buy-and-hold IDX: price only, excludes dividends (understates the market by the "
                               "dividend yield)")


def test_cash_rate_in_percent_earns_in_cash():
    frame = two_funds(60)
    falling_index = [[100 * 0.98**t] for t in range(60)]
    cells = to_cells(frame)
    no_cash = u.BACKTEST_CAGR(cells, 10, None, falling_index, "quick", None, None, None, 0)
    assert no_cash == pytest.approx(0.0)  # always in cash, rate 0
    with_cash = u.BACKTEST_CAGR(cells, 10, None, falling_index, "quick", None, None, None, 0, None, None, None,
                                None, None, None, 5)
    assert 0.04 < with_cash < 0.06  # 5 % a year, earned daily as 5 %/252


# ------------------------------------------------------------------------------ user errors


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: u.EMA2_TREND(c, -3), r"tc must be a number >= 1 .*-3"),
        (lambda c: u.EMA2_TREND(c, "fifty"), r"tc must be a number, got the text 'fifty'"),
        (lambda c: u.EMA2_TREND(c, "#N/A"), r"tc must be a number, got the error value #N/A"),
        (lambda c: u.EMA2_TREND(c, True), r"tc must be a number, got TRUE"),
        (lambda c: u.EMA2_TREND(c, None), r"tc is required"),
        (lambda c: u.EMA2_TREND(c, [[1, 2]]), r"tc must be a number, got a range"),
        (lambda c: u.EMA2_TREND(c, 10, 0), r"k \(the scale\) must be a number > 0"),
        (lambda c: u.EMA2_TREND(None, 10), r"prices is required"),
        (lambda c: u.EMA_WEIGHTS(0.5, 10), r"tc must be a number >= 1"),
        (lambda c: u.EMA_WEIGHTS(50, -1), r"ages"),
        (lambda c: u.MOMENTUM(c, 1.5), r"days must be a whole number"),
        (lambda c: u.SECTOR_PICK(c, 10, None, None, "sometimes"), r"stormguard must be one of off, standard, quick"),
        (lambda c: u.SECTOR_PICK(c, 10, None, None, None, None, "yearly"), r"schedule must be one of"),
        (lambda c: u.SECTOR_PICK(c, 10, None, None, None, None, None, 2), r"delay must be 0 or 1"),
        (lambda c: u.SECTOR_PICK(c, 10, -0.1), r"hysteresis must be a number >= 0"),
        (lambda c: u.SECTOR_PICK(c, 10, None, None, None, dt.datetime(1990, 1, 1)), r"as_of 1990-01-01 is before"),
        (lambda c: u.SECTOR_PICK(c, 10, None, None, None, "soon"), r"as_of must be a date, got the text 'soon'"),
        (lambda c: u.SECTOR_PICK(c, 10, None, [[1.0], [2.0]], "quick"), r"index has 2 rows and prices 40"),
        (lambda c: u.SECTOR_PICK(c[:10], 10), r"too few rows"),
        (lambda c: u.STORMGUARD_STATE(c), r"index must be one column"),
        (lambda c: u.BACKTEST_CAGR([row[1:] for row in c], 10), r"prices needs a date column"),
        (lambda c: u.BACKTEST_METRICS(c, 10, None, None, None, None, None, None, None, None, None, None, None,
                                      None, None, None, "ZZZ"), r"benchmark 'ZZZ' is not a column"),
        (lambda c: u.EMA2_TREND(c, 10, None, "maybe"), r"header must be TRUE or FALSE"),
    ],
)
def test_user_errors_name_the_argument(call, message):
    cells = to_cells(two_funds())
    with pytest.raises(XlwingsError, match=message):
        call(cells)


def test_text_error_values_and_negative_prices_are_named_by_cell():
    cells = to_cells(two_funds(5))
    cells[3][2] = "n/a"
    with pytest.raises(XlwingsError, match=r"prices: price cell at row 4, column 3 \(B\) holds the text 'n/a'"):
        u.EMA2_TREND(cells, 10)
    cells[3][2] = "#N/A"
    with pytest.raises(XlwingsError, match=r"row 4, column 3 \(B\) holds the error value #N/A"):
        u.EMA2_TREND(cells, 10)
    cells[3][2] = -5.0
    with pytest.raises(XlwingsError, match=r"prices must be > 0; column B has -5(\.0)? on 2020-01-03"):
        u.EMA2_TREND(cells, 10)


# ------------------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def sectors(etf_prices):
    return etf_prices[["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]].loc["2010":"2014"]


def test_real_data_trend_matches_the_core_for_every_cell_shape(sectors):
    from xlsector.trend import ema2

    expected = ema2(sectors, 50).to_numpy()
    for dates in ("datetime", "serial", None):
        out = u.EMA2_TREND(to_cells(sectors, dates=dates), 50)
        assert out[0] == list(sectors.columns)
        np.testing.assert_allclose(np.array(out[1:], dtype=float), expected, rtol=0, atol=1e-15)


def test_real_data_pick_and_backtest_match_the_core(sectors, sp500_index):
    from xlsector.backtesting import run_backtest
    from xlsector.measures import cagr

    cells = to_cells(sectors)
    serial_cells = to_cells(sectors, dates="serial")
    index = sp500_index.loc["2010":"2014"].rename("SPX").to_frame()
    index_cells = to_cells(index)
    result = run_backtest(sectors, tc=50, index=index.iloc[:, 0], stormguard="standard")
    pick = u.SECTOR_PICK(cells, 50, None, index_cells, "standard")
    assert pick == result.holdings.iloc[-1] and pick in set(sectors.columns) | {"CASH"}
    assert u.SECTOR_PICK(serial_cells, 50, None, to_cells(index, dates="serial"), "standard") == pick
    value = u.BACKTEST_CAGR(cells, 50, None, index_cells, "standard")
    assert value == pytest.approx(cagr(result.returns.iloc[1:], start=result.returns.index[0]), rel=1e-12)
    assert -0.5 < value < 0.5
    picks = u.SECTOR_PICKS(cells, 50, None, index_cells, "standard")
    assert len(picks) - 2 == len(result.trades)  # header + first day, then one row per trade
    assert u.STORMGUARD_STATE(index_cells) in ("BULL", "BEAR")
    assert len(u.STORMGUARD_HISTORY(index_cells)) == len(index) + 1


def test_regressions_found_by_the_property_tests():
    # empty ranges mean "omitted"; absurd day counts are refused before numpy overflows
    assert len(u.EMA_WEIGHTS(50, [])) == 250 and len(u.EMA2_WEIGHTS(50, [[]])) == 250
    with pytest.raises(XlwingsError, match="days must be a whole number of days below 1e9"):
        u.MOMENTUM([[1.0], [2.0]], 9.223372036854776e18)


# ------------------------------------------------------------------------------ tuning


def test_trend_chart_by_hand_one_rising_fund():
    # one fund rising 0.1 % a day, no cost: the period starts once it has 22 days of history (row 23);
    # every tc buys it at that close and earns every later day but the first (delay 1):
    # score = (n - 22 - 2) * log(1.001) for every tc, over n - 22 - 1 calendar days
    n = 100
    days = pd.date_range("2020-01-01", periods=n, freq="D")
    cells = to_cells(pd.DataFrame({"A": 100 * 1.001 ** np.arange(n)}, index=days))
    chart = u.TREND_CHART(cells, 2, 20, 2, 0, None, None, None, None, 1, 0)
    assert chart[0][:1] == ["tc"] and chart[0][1].startswith("Score: cumulative log return")
    assert chart[0][2:] == ["CAGR", "Switches", "Max drawdown"]
    assert [row[0] for row in chart[1:]] == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
    for tc, score, cagr, switches, mdd in chart[1:]:
        assert score == pytest.approx((n - 24) * np.log(1.001))
        assert cagr == pytest.approx(1.001 ** ((n - 24) * 365.25 / (n - 23)) - 1)
        assert switches == 0 and mdd == pytest.approx(0.0)  # the initial buy is not a switch


def test_trend_chart_rows_agree_with_single_backtests():
    cells = to_cells(crossing_funds())
    chart = u.TREND_CHART(cells, 2, 12, 5)
    assert [row[0] for row in chart[1:]] == [2.0, 7.0, 12.0]
    for row in chart[1:]:
        assert row[2] == pytest.approx(u.BACKTEST_CAGR(cells, row[0]), rel=1e-9)
    half_life = u.TREND_CHART(cells, 2, 12, 5, None, None, None, None, None, None, None, 20)
    assert "half-life 20" in half_life[0][1]
    with pytest.raises(XlwingsError, match="tc_min must be >= 1 and <= tc_max"):
        u.TREND_CHART(cells, 50, 10)
    with pytest.raises(XlwingsError, match="tc_step must be > 0"):
        u.TREND_CHART(cells, 2, 200, 0)


def test_fwpt_table_on_real_data_matches_the_core(etf_prices):
    from xlsector.tuning import fwpt

    sectors = etf_prices[["XLB", "XLE", "XLK", "XLV", "XLY"]].loc["2003":"2012"]
    table = u.FWPT_TABLE(to_cells(sectors), None, 125, 10, 100)
    expected = fwpt(sectors, retune_days=125, tcs=np.arange(10.0, 101.0)).retunes
    assert table[0] == ["Date", "Tuned tc", "Action", "tc in force"]
    assert len(table) - 1 == len(expected) >= 3
    assert [row[0] for row in table[1:]] == list(expected["date"].dt.to_pydatetime())
    assert [row[1] for row in table[1:]] == list(expected["best_tc"])
    assert table[1][2] == "initial" and table[1][1] == table[1][3]
    # born on five years after the data start (2003-01-02, the first market day of the range)
    assert dt.datetime(2008, 1, 2) <= table[1][0] <= dt.datetime(2008, 1, 10)
    for _, best, action, in_force in table[1:]:
        if action in ("initial", "adopted", "kept"):
            assert in_force == best
    with pytest.raises(XlwingsError, match="born_on"):
        u.FWPT_TABLE(to_cells(sectors), dt.datetime(2005, 1, 1))  # less than five years of data


# ------------------------------------------------------------------------------ honest evaluation


def test_stale_data_with_a_fixed_today():
    flag = u.STALE_DATA(dt.datetime(2022, 12, 28), dt.datetime(2023, 3, 23), dt.datetime(2026, 11, 30))
    assert flag.startswith("STALE: the data end 1,433 days before today (2022-12-28); the next retune date "
                           "(2023-03-23) is past.")
    serials = u.STALE_DATA(44923, 45008, 46356)  # the same dates as Excel serial numbers
    assert serials == flag
    assert u.STALE_DATA(46353, None, 46356).startswith("Data current")
    # LibreOffice passes a blank single cell as 0: rejected naming the argument, so the extension retries blank
    with pytest.raises(XlwingsError, match="next_retune must be a date"):
        u.STALE_DATA(46353, 0, 46356)
    with pytest.raises(XlwingsError, match="last_date is required"):
        u.STALE_DATA(None)


def test_overfit_stats_and_timing_luck_cells():
    cells = to_cells(crossing_funds())
    stats = u.OVERFIT_STATS(cells, 2, 12)
    assert stats[0] == ["Statistic", "Value", "Definition"]
    rows = {row[0]: row[1] for row in stats[1:]}
    assert rows["Trials N"] == 11 and rows["Selected"].startswith("peak tc ")
    assert isinstance(rows["PBO"], float) and rows["Return days T"] == 57
    short = {row[0]: row[1] for row in u.OVERFIT_STATS(to_cells(two_funds(40)), 2, 12)[1:]}
    assert short["PBO"].startswith("n/a: returns has 17 rows: blocks=16 needs at least 32")  # a reason, no number
    two = u.OVERFIT_STATS(to_cells(two_funds(40)), 2, 12, None, None, None, None, None, None, None, None, None, None,
                          None, None, None, None, None, None, None, 2)
    assert isinstance({row[0]: row[1] for row in two[1:]}["PBO"], float)  # 2 blocks: a PBO
    with pytest.raises(XlwingsError, match="blocks must be an even integer"):
        u.OVERFIT_STATS(cells, 2, 12, None, None, None, None, None, None, None, None, None, None, None, None, None,
                        None, None, None, None, 3)
    luck = u.TIMING_LUCK(cells, 5, 0)
    assert [row[0] for row in luck[1:]] == [0, 1, 2, 3, 4] and len({row[1] for row in luck[1:]}) == 1
    summary = {row[0]: row[1] for row in u.TIMING_LUCK(cells, 5, 0, None, None, None, None, None, None, None, None,
                                                         None, None, None, None, None, None, None, "summary")}
    assert summary["CAGR spread (max - min)"] == 0.0 and summary["Schedule"] == "daily"


def test_robustness_map_of_a_period_with_one_return_is_blank_not_a_warning():
    # found by the property tests: two price rows give one return, too few for a Sharpe ratio; the map's
    # facts then reduced an all-NaN table (numpy warned, an error under the test configuration)
    days = pd.date_range("2020-01-01", periods=30, freq="D")
    cells = to_cells(pd.DataFrame({"A": np.r_[np.full(28, np.nan), 1.0, 1.0], "B": np.r_[np.full(28, np.nan), 1.0, 2.0]},
                                  index=days))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        chosen = u.ROBUSTNESS_MAP(cells, 2, 4, None, None, None, None, None, None, 0, None, None, 0, None,
                                  None, None, None, None, None, None, "Sharpe", "chosen")
    facts = {row[0]: row[1] for row in chosen[1:]}
    assert facts["Median of the map"] in ("", None) or math.isnan(facts["Median of the map"])
