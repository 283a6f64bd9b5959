"""Property tests: arbitrary cell grids into every Excel function.

Whatever a user selects — numbers, text, blanks, booleans, error values, dates, serial numbers, ragged or
empty ranges, a single cell — each function either returns something Excel can show (a value or a
rectangular 2-D list of values) or raises ``XlwingsError`` (a message in the cell). Any other exception
escaping would be a crash in Excel; a ``RuntimeWarning`` is an error in the test configuration too.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xlwings import XlwingsError

from udfs import xlsector_udfs as u

ERRORS = ["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!"]

cell = st.one_of(
    st.none(),
    st.just(""),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=0.01, max_value=1e6),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.sampled_from(ERRORS),
    st.text(max_size=8),
    st.sampled_from(["Date", "SPY", "2020-01-31", "50", "daily", "quick", "TRUE", " "]),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.integers(min_value=18264, max_value=73050),  # serial dates
)

ragged_grid = st.lists(st.lists(cell, min_size=0, max_size=5), min_size=0, max_size=8)


@st.composite
def price_like_grid(draw, n_funds=None, spoil=True):
    """Valid price ranges (optional header and dates, positive prices, blanks), with ``spoil`` sometimes a
    cell replaced by anything a cell can hold."""
    n_rows = draw(st.integers(min_value=0, max_value=60))
    n_funds = n_funds or draw(st.integers(min_value=1, max_value=3))
    header = draw(st.booleans())
    dates = draw(st.sampled_from(["datetime", "serial", None]))
    start = dt.datetime(2020, 1, 1)
    rows = []
    if header:
        rows.append((["Date"] if dates else []) + [f"F{j}" for j in range(n_funds)])
    for i in range(n_rows):
        row = [] if dates is None else [start + dt.timedelta(days=i) if dates == "datetime" else 43831 + i]
        price = st.floats(min_value=1.0, max_value=200.0)
        # blanks anywhere, but every fund has a price on the last row (a fund with no price at all is no fund)
        row += [draw(price if i == n_rows - 1 else st.one_of(price, st.just(None))) for _ in range(n_funds)]
        rows.append(row)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2])) if spoil else 0):
        if rows:
            i = draw(st.integers(min_value=0, max_value=len(rows) - 1))
            if rows[i]:
                j = draw(st.integers(min_value=0, max_value=len(rows[i]) - 1))
                rows[i][j] = draw(cell)
    return rows


garbage_grid = st.one_of(ragged_grid, cell, st.lists(cell, max_size=6))
grid = st.one_of(price_like_grid(), price_like_grid(), price_like_grid(), garbage_grid)
one_column = st.one_of(price_like_grid(n_funds=1), price_like_grid(n_funds=1), garbage_grid)
garbage = st.one_of(cell, cell.map(lambda v: [[v]]), st.sampled_from([[[50]], [[1, 2]], [], [[]], 10, 2, 0.5]))


def usually(good):
    """Mostly a good value (as a number or a one-cell range), sometimes anything a cell can hold."""
    good_or_cell = st.one_of(good, good.map(lambda v: [[v]]))
    return st.one_of(good_or_cell, good_or_cell, good_or_cell, garbage)


def optional(good):
    return st.one_of(st.none(), st.none(), usually(good))


tc = usually(st.one_of(st.integers(min_value=1, max_value=100), st.floats(min_value=1.0, max_value=300.0)))
day = st.datetimes(min_value=dt.datetime(2019, 12, 1), max_value=dt.datetime(2020, 4, 1))
GOOD = {
    "k": st.sampled_from([21, 22, 10.5]),
    "header": st.booleans(),
    "dates": st.booleans(),
    "days": st.integers(min_value=1, max_value=70),
    "hysteresis": st.floats(min_value=0.0, max_value=0.1),
    "stormguard": st.sampled_from(["off", "standard", "quick", "Quick"]),
    "as_of": st.one_of(day, day.map(lambda d: (d - dt.datetime(1899, 12, 30)).days)),
    "schedule": st.sampled_from(["daily", "week", "month"]),
    "delay": st.sampled_from([0, 1]),
    "cost_bp": st.floats(min_value=0.0, max_value=100.0),
    "min_hold": st.integers(min_value=0, max_value=10),
    "min_history": st.integers(min_value=0, max_value=30),
    "decay": st.floats(min_value=1.0, max_value=100.0),
    "shift": st.floats(min_value=0.0, max_value=0.05),
    "flag": st.booleans(),
    "cash_rate": st.floats(min_value=0.0, max_value=10.0),
    "benchmark": st.sampled_from(["F0", "F1", "ZZ"]),
    "tc_range": st.integers(min_value=1, max_value=60),
    "born_on": day,
    "retune_days": st.integers(min_value=1, max_value=40),
    "funds": st.sampled_from(["F0", "F1,F0", "F0; F2", "ZZ", "Date"]),
    "every": st.sampled_from(["day", "week", "month", "Week"]),
    "part": st.sampled_from(["table", "plateau", "summary", "retunes", "metrics", "series", "overfit", "sensitivity",
                             "map", "chosen", "bogus"]),
    "blocks": st.sampled_from([2, 4, 16, 3, 24, 0]),
    "trials": st.one_of(st.integers(min_value=1, max_value=10_000), st.floats(min_value=0.5, max_value=1e6)),
    "values": st.one_of(st.sampled_from(["0, 0.01", "0.02", "0;0.005;0.04", "x"]),
                        st.lists(st.lists(st.floats(min_value=0.0, max_value=0.1), min_size=1, max_size=1),
                                 min_size=1, max_size=4)),
    "metric": st.sampled_from(["CAGR", "score", "Sharpe", "sharpe", "other"]),
    "offsets": st.one_of(st.sampled_from(["0,1,2", "3", "0;4"]),
                         st.lists(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=1),
                                  min_size=1, max_size=5)),
    "max_age": st.integers(min_value=0, max_value=30),
}


def opt(name):
    return optional(GOOD[name])


def _excel_value(value) -> bool:
    return value is None or isinstance(value, (str, bool, int, float, dt.datetime, dt.date)) and not (
        isinstance(value, float) and math.isnan(value)
    )


def assert_excel_result(result) -> None:
    if isinstance(result, list):
        assert result and all(isinstance(row, list) for row in result), result
        width = len(result[0])
        assert width and all(len(row) == width for row in result), "ragged spill"
        assert all(_excel_value(v) for row in result for v in row)
    else:
        assert _excel_value(result), result


def call(function, *args) -> None:
    try:
        result = function(*args)
    except XlwingsError as exc:
        assert str(exc), "an empty message says nothing in the cell"
        return
    assert_excel_result(result)


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(prices=grid, tc=tc, k=opt("k"), header=opt("header"), dates=opt("dates"))
def test_trends_never_crash(prices, tc, k, header, dates):
    call(u.EMA2_TREND, prices, tc, k, header, dates)
    call(u.EMA_TREND, prices, tc, k, header, dates)


@SETTINGS
@given(prices=grid, days=usually(GOOD["days"]), header=opt("header"), dates=opt("dates"))
def test_momentum_never_crashes(prices, days, header, dates):
    call(u.MOMENTUM, prices, days, header, dates)


@SETTINGS
@given(
    tc=tc,
    ages=st.one_of(opt("days"), st.lists(st.lists(st.one_of(st.integers(0, 300), cell), max_size=3), max_size=5)),
    k=opt("k"),
)
def test_weights_never_crash(tc, ages, k):
    call(u.EMA_WEIGHTS, tc, ages, k)
    call(u.EMA2_WEIGHTS, tc, ages, k)


@SETTINGS
@given(
    prices=grid, tc=tc, hysteresis=opt("hysteresis"), index=st.one_of(st.none(), one_column),
    stormguard=opt("stormguard"), as_of=opt("as_of"), schedule=opt("schedule"), delay=opt("delay"),
    cost_bp=opt("cost_bp"), min_hold=opt("min_hold"), min_history=opt("min_history"), decay=opt("decay"),
    shift=opt("shift"), k=opt("k"), bear=st.one_of(st.none(), st.none(), grid), daily=opt("flag"),
    cash_rate=st.one_of(opt("cash_rate"), one_column), benchmark=st.one_of(opt("benchmark"), one_column),
    with_benchmark=opt("flag"), funds=opt("funds"), every=opt("every"),
)
def test_rotation_functions_never_crash(prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp,
                                        min_hold, min_history, decay, shift, k, bear, daily, cash_rate, benchmark,
                                        with_benchmark, funds, every):
    args = (prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp, min_hold, min_history,
            decay, shift, k, bear)
    call(u.SECTOR_PICK, *args)
    call(u.SECTOR_PICKS, *args, daily)
    call(u.SECTOR_PICKS, *args, daily, funds, with_benchmark, as_of)  # funds, detail, start
    call(u.SECTOR_SIGNAL, *args, funds)
    call(u.BACKTEST_CAGR, *args, cash_rate)
    call(u.BACKTEST_METRICS, *args, cash_rate, benchmark, with_benchmark)
    call(u.BACKTEST_EQUITY, *args, cash_rate, benchmark, funds, every)


@SETTINGS
@given(index=one_column, shift=opt("shift"), tc=st.one_of(st.none(), tc), as_of=opt("as_of"), k=opt("k"))
def test_stormguard_functions_never_crash(index, shift, tc, as_of, k):
    call(u.STORMGUARD_STATE, index, shift, tc, as_of, k)
    call(u.STORMGUARD_HISTORY, index, shift, tc, k)


@SETTINGS
@given(
    prices=grid, tc_min=opt("tc_range"), tc_max=opt("tc_range"), hysteresis=opt("hysteresis"),
    index=st.one_of(st.none(), one_column), stormguard=opt("stormguard"), born_on=opt("born_on"),
    retune_days=opt("retune_days"), half_life=opt("retune_days"), funds=opt("funds"), part=opt("part"),
)
def test_tuning_functions_never_crash(prices, tc_min, tc_max, hysteresis, index, stormguard, born_on, retune_days,
                                      half_life, funds, part):
    call(u.TREND_CHART, prices, tc_min, tc_max, None, hysteresis, index, stormguard, None, None, None, None,
         half_life)
    call(u.TREND_CHART, prices, tc_min, tc_max, None, hysteresis, index, stormguard, None, None, None, None,
         half_life, None, None, None, None, None, None, funds, None, part)
    call(u.FWPT_TABLE, prices, born_on, retune_days, tc_min, tc_max, hysteresis, index, stormguard)
    call(u.FWPT_TABLE, prices, born_on, retune_days, tc_min, tc_max, hysteresis, index, stormguard, None, None,
         None, None, None, None, None, None, None, funds, None, None, part)
    call(u.SPLIT_SAMPLE, prices, tc_min, tc_max, hysteresis, index, stormguard)
    call(u.SPLIT_SAMPLE, prices, tc_min, tc_max, hysteresis, index, stormguard, None, None, None, None, None, None,
         None, None, None, funds, None, part)
    call(u.PROGRESSIVE_TUNE, prices, retune_days, retune_days, tc_min, tc_max, hysteresis, index, stormguard)
    call(u.PROGRESSIVE_TUNE, prices, retune_days, retune_days, tc_min, tc_max, hysteresis, index, stormguard, None,
         None, None, None, None, None, None, None, None, funds, None, part)


@SETTINGS
@given(
    prices=grid, tc_min=opt("tc_range"), tc_max=opt("tc_range"), hysteresis=opt("hysteresis"),
    index=st.one_of(st.none(), one_column), stormguard=opt("stormguard"), schedule=opt("schedule"),
    funds=opt("funds"), blocks=opt("blocks"), trials=opt("trials"), values=opt("values"), metric=opt("metric"),
    part=opt("part"), tc=tc, offsets=opt("offsets"),
)
def test_robustness_functions_never_crash(prices, tc_min, tc_max, hysteresis, index, stormguard, schedule, funds,
                                          blocks, trials, values, metric, part, tc, offsets):
    call(u.OVERFIT_STATS, prices, tc_min, tc_max, None, hysteresis, index, stormguard, None, schedule, None, None,
         None, None, None, None, None, None, None, funds, None, blocks, trials)
    call(u.ROBUSTNESS_MAP, prices, tc_min, tc_max, None, hysteresis, index, stormguard, None, schedule, None, None,
         None, None, None, None, None, None, funds, None, values, metric, part)
    call(u.TIMING_LUCK, prices, tc, hysteresis, index, stormguard, None, schedule, None, None, None, None, None,
         None, None, None, None, funds, offsets, part)


@SETTINGS
@given(last=st.one_of(cell, day), retune=st.one_of(cell, day), today=st.one_of(cell, day), max_age=opt("max_age"))
def test_stale_data_never_crashes(last, retune, today, max_age):
    call(u.STALE_DATA, last, retune, today, max_age)


strategy_row = st.tuples(
    st.one_of(st.sampled_from(["Growth", "Defensive", 7]), cell), st.one_of(GOOD["funds"], cell),
    st.one_of(st.none(), GOOD["tc_range"], cell), st.one_of(st.none(), GOOD["hysteresis"], cell),
).map(list)
strategy_rows = st.one_of(
    st.lists(strategy_row, max_size=3),
    st.lists(strategy_row, min_size=1, max_size=3).map(lambda rows: [["Name", "Funds", "tc", "Hysteresis"], *rows]),
    garbage_grid,
)
portfolio_parts = st.sampled_from(["allocation", "metrics", "correlation", "equity", "summary", "bogus"])


@SETTINGS
@given(
    prices=grid, strategies=strategy_rows, weights=st.one_of(st.none(), garbage_grid, st.lists(st.lists(
        st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=1), min_size=1, max_size=3)),
    rebalance=optional(st.sampled_from(["monthly", "quarterly", "never", "weekly"])),
    amount=optional(st.floats(min_value=0.0, max_value=1e7)), benchmark=opt("benchmark"),
    part=optional(portfolio_parts), fractional=opt("flag"),
)
def test_portfolio_never_crashes(prices, strategies, weights, rebalance, amount, benchmark, part, fractional):
    call(u.PORTFOLIO_TABLE, prices, strategies, weights, rebalance, amount, benchmark, part, fractional)


# ------------------------------------------------------------------ valid inputs: a value, not an error

clean = price_like_grid(spoil=False)
# a header-only range ([["F0"]]) is one cell of text: a column name by the functions' rule, not an index series
clean_index = price_like_grid(n_funds=1, spoil=False).filter(lambda rows: len(rows) > 1 or not rows or
                                                            not isinstance(rows[0][-1], str))
# the only errors valid arguments may give: the data is too short for the rule asked for
DATA_SIZE = r"needs at least 2 observations|prices is required|index is required|stormguard needs index|too few rows|has no prices|needs a date column|is before the first date|has \d+ rows and prices|no values|needs dates|all blank|share no period"


def call_valid(function, *args):
    try:
        result = function(*args)
    except XlwingsError as exc:
        assert re.search(DATA_SIZE, str(exc)), f"valid input gave an error: {exc}"
        return None
    assert_excel_result(result)
    return result


def maybe(name):
    return st.one_of(st.none(), GOOD[name])


@SETTINGS
@given(prices=clean, tc=GOOD["tc_range"], k=maybe("k"), days=GOOD["days"])
def test_valid_trends_always_give_numbers(prices, tc, k, days):
    call_valid(u.EMA2_TREND, prices, tc, k)
    call_valid(u.EMA_TREND, prices, tc, k)
    call_valid(u.MOMENTUM, prices, days)


@SETTINGS
@given(
    prices=clean, tc=GOOD["tc_range"], hysteresis=maybe("hysteresis"), index=clean_index,
    stormguard=maybe("stormguard"), as_of=maybe("as_of"), schedule=maybe("schedule"), delay=maybe("delay"),
    cost_bp=maybe("cost_bp"), min_hold=maybe("min_hold"), min_history=maybe("min_history"), decay=maybe("decay"),
    shift=maybe("shift"), k=maybe("k"), cash_rate=maybe("cash_rate"),
)
def test_valid_rotation_arguments_give_a_pick(prices, tc, hysteresis, index, stormguard, as_of, schedule, delay,
                                               cost_bp, min_hold, min_history, decay, shift, k, cash_rate):
    args = (prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp, min_hold, min_history,
            decay, shift, k, None)
    pick = call_valid(u.SECTOR_PICK, *args)
    picks = call_valid(u.SECTOR_PICKS, *args)
    if pick is not None:
        assert picks is not None and picks[-1][1] == pick  # the last change of holding is the current one
        signal = call_valid(u.SECTOR_SIGNAL, *args)
        target = {row[0]: row[1] for row in signal}["Target"] if signal else None
        assert target in ("CASH", "F0", "F1", "F2", "Col1", "Col2", "Col3", "Col4")
        call_valid(u.BACKTEST_EQUITY, *args, cash_rate)
    call_valid(u.BACKTEST_CAGR, *args, cash_rate)
    call_valid(u.BACKTEST_METRICS, *args, cash_rate)


@SETTINGS
@given(index=clean_index, shift=maybe("shift"), tc=st.one_of(st.none(), GOOD["tc_range"]), as_of=maybe("as_of"))
def test_valid_stormguard_arguments_give_a_state(index, shift, tc, as_of):
    state = call_valid(u.STORMGUARD_STATE, index, shift, tc, as_of)
    history = call_valid(u.STORMGUARD_HISTORY, index, shift, tc)
    if state is not None and as_of is None:
        assert history[-1][2] == state


@pytest.mark.parametrize("name", u.__all__)
def test_every_function_is_covered_by_a_property_test(name):
    covered = {
        "EMA2_TREND", "EMA_TREND", "MOMENTUM", "EMA_WEIGHTS", "EMA2_WEIGHTS", "SECTOR_PICK", "SECTOR_PICKS",
        "BACKTEST_CAGR", "BACKTEST_METRICS", "STORMGUARD_STATE", "STORMGUARD_HISTORY", "TREND_CHART", "FWPT_TABLE",
        "SECTOR_SIGNAL", "BACKTEST_EQUITY", "SPLIT_SAMPLE", "PROGRESSIVE_TUNE", "OVERFIT_STATS", "ROBUSTNESS_MAP",
        "TIMING_LUCK", "STALE_DATA", "PORTFOLIO_TABLE",
    }  # fmt: skip
    assert name in covered


@SETTINGS
@given(
    prices=clean, tc_min=GOOD["tc_range"], tc_max=GOOD["tc_range"], tc=GOOD["tc_range"],
    hysteresis=maybe("hysteresis"), schedule=maybe("schedule"), blocks=st.sampled_from([None, 2, 4, 16]),
    metric=st.sampled_from([None, "CAGR", "score", "Sharpe"]),
)
def test_valid_robustness_arguments_give_tables(prices, tc_min, tc_max, tc, hysteresis, schedule, blocks, metric):
    low, high = sorted((tc_min, tc_max))
    stats = call_valid(u.OVERFIT_STATS, prices, low, high, None, hysteresis, None, None, None, schedule, None, None,
                       None, None, None, None, None, None, None, None, None, blocks)
    if stats is not None:  # every figure is a number, a text, or blank with its reason beside it
        assert stats[0] == ["Statistic", "Value", "Definition"] and all(row[2] for row in stats[1:])
    for part in (None, "chosen"):
        call_valid(u.ROBUSTNESS_MAP, prices, low, high, None, hysteresis, None, None, None, schedule, None, None,
                   None, None, None, None, None, None, None, None, None, metric, part)
    for part in (None, "summary"):
        call_valid(u.TIMING_LUCK, prices, tc, hysteresis, None, None, None, schedule, None, None, None, None, None,
                   None, None, None, None, None, None, part)


dated_with_names = clean.filter(lambda rows: bool(rows) and bool(rows[0]) and rows[0][0] == "Date")


@SETTINGS
@given(
    prices=dated_with_names, tcs=st.lists(GOOD["tc_range"], min_size=1, max_size=3),
    hysteresis=maybe("hysteresis"), rebalance=st.sampled_from([None, "monthly", "quarterly", "never"]),
    amount=st.floats(min_value=1.0, max_value=1e6), part=portfolio_parts.filter(lambda p: p != "bogus"),
)
def test_valid_portfolio_arguments_give_a_table(prices, tcs, hysteresis, rebalance, amount, part):
    strategies = [[f"S{i}", "F0", tc, hysteresis] for i, tc in enumerate(tcs)]
    table = call_valid(u.PORTFOLIO_TABLE, prices, strategies, None, rebalance, amount, None, part)
    if table is not None and part == "allocation":  # every strategy holds F0 or cash: the money is all there
        assert sum(row[6] for row in table[1:]) == pytest.approx(amount, rel=1e-9)

