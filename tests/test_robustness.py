"""xlsector.robustness and the decision-day offset: the grid-edge flag, the tc x hysteresis map and its chosen
point, timing luck (zero for daily decisions), FWPT's retune sensitivity; a shifted week/month end is known
without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlsector.backtesting import run_backtest, run_backtest_grid
from xlsector.errors import ParameterError
from xlsector.measures import cagr
from xlsector.robustness import edge_report, map_tcs, retune_sensitivity, robustness_map, timing_luck
from xlsector.rotation import decision_days, next_decision_day
from xlsector.tuning import fwpt, trend_chart


def _walks(n: int = 2200, m: int = 4, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2001-01-01", periods=n)
    return pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, (n, m)), axis=0)), index=dates,
                        columns=[f"F{j}" for j in range(m)])


@pytest.fixture(scope="module")
def prices():
    return _walks()


# ------------------------------------------------------------------------------ grid edge and plateau


def test_edge_flag_and_warning(prices):
    tcs = list(range(5, 61, 5))
    chart = trend_chart(prices, tcs=tcs)
    score = chart.table["score"]
    cut = [t for t in tcs if t <= chart.peak_tc]  # a grid ending at the peak: the peak is on its edge
    edged = trend_chart(prices, tcs=cut)
    assert edged.peak_tc == cut[-1] == chart.peak_tc
    report = edge_report(edged)
    assert report.on_edge and report.edge == "high" and report.plateau_open
    assert report.warning.startswith(f"The peak tc {cut[-1]:g} is the grid's last trend constant")
    assert "TcMax" in report.warning
    steps = min(10, len(cut) - 1)
    assert report.rise == pytest.approx(score.loc[cut[-1]] - score.loc[cut[-1 - steps]])
    facts = dict(report.facts())
    assert facts["Warning"] == report.warning and facts["Plateau touches the grid's edge"].startswith("YES")


def test_interior_wide_plateau_has_no_warning():
    from xlsector.tuning import TrendChart

    tcs = np.arange(2.0, 12.0)
    score = np.array([1.0, 2.0, 2.9, 2.98, 3.0, 2.99, 2.97, 2.5, 2.0, 1.0])
    table = pd.DataFrame({"score": score, "in_plateau": np.abs(score - 3.0) <= -np.log1p(-0.05)},
                         index=pd.Index(tcs, name="tc"))
    chart = TrendChart(table=table, peak_tc=6.0, peak_score=3.0, plateau=(4.0, 8.0), plateau_tolerance=0.05,
                       score_label="", period=(pd.Timestamp("2001-01-01"), pd.Timestamp("2002-01-01")))
    report = edge_report(chart)
    assert not report.on_edge and not report.plateau_open and report.warning == ""
    spike = chart.table.assign(in_plateau=tcs == 6.0)
    lone = edge_report(TrendChart(table=spike, peak_tc=6.0, peak_score=3.0, plateau=(6.0, 6.0),
                                  plateau_tolerance=0.05, score_label="", period=chart.period))
    assert "1 tc wide" in lone.warning and "spike" in lone.warning


# ------------------------------------------------------------------------------ tc x hysteresis


def test_map_marks_the_trend_charts_peak_and_equals_backtests(prices):
    tcs = list(range(5, 61, 5))
    found = robustness_map(prices, tcs, [0.0, 0.02], metric="CAGR", hysteresis=0.01)
    chart = trend_chart(prices, tcs=tcs, hysteresis=0.01)
    assert found.chosen == (chart.peak_tc, 0.01)  # the trend chart's peak at the chosen hysteresis
    assert list(found.table.columns) == [0.0, 0.01, 0.02]
    assert found.chosen_value == pytest.approx(chart.table.at[chart.peak_tc, "CAGR"], rel=1e-12)
    for tc, h in [(5.0, 0.0), (30.0, 0.02), (60.0, 0.01)]:
        r = run_backtest(prices, tc=tc, hysteresis=h).returns
        assert found.table.at[tc, h] == pytest.approx(cagr(r.iloc[1:], start=r.index[0]), rel=1e-9)
    flat = found.table.to_numpy()
    assert found.best == (float(found.table.index[np.argmax(flat) // 3]), float(found.table.columns[np.argmax(flat) % 3]))
    facts = {label: value for label, value, _ in found.facts()}
    assert facts["Chosen tc"] == chart.peak_tc and facts["Rank of the chosen point on the map"] >= 1
    with pytest.raises(ParameterError, match="metric must be one of CAGR, score, Sharpe"):
        robustness_map(prices, tcs, [0.0], metric="bps")


def test_map_axis_is_thinned_with_edges_and_the_chosen_tc():
    axis = map_tcs(list(range(2, 201)), chosen=137.0, rows=40)
    assert axis[0] == 2 and axis[-1] == 200 and 137.0 in axis and len(axis) <= 41


# ------------------------------------------------------------------------------ timing luck


def test_timing_luck_is_zero_for_daily_decisions(prices):
    luck = timing_luck(prices, tc=20)
    assert luck.schedule == "daily" and luck.spread == 0.0
    assert luck.table["CAGR"].nunique() == 1 and "changes nothing" in luck.note


def test_timing_luck_of_week_and_month_decisions(prices):
    for schedule in ("week", "month"):
        luck = timing_luck(prices, tc=20, schedule=schedule)
        assert list(luck.table.index) == [0, 1, 2, 3, 4]
        plain = run_backtest(prices, tc=20, schedule=schedule).returns
        assert luck.table.at[0, "CAGR"] == pytest.approx(cagr(plain.iloc[1:], start=plain.index[0]), rel=1e-12)
        assert luck.spread > 0  # the calendar moves the result
        assert luck.spread == pytest.approx(luck.table["CAGR"].max() - luck.table["CAGR"].min())
    with pytest.raises(ParameterError, match="offsets must be whole numbers >= 0"):
        timing_luck(prices, offsets=[-1], tc=20)


# ------------------------------------------------------------------------------ decision-day offset


def test_offset_shifts_the_period_end_by_rows():
    dates = pd.bdate_range("2024-01-01", periods=60)
    for schedule in ("week", "month"):
        ends = np.flatnonzero(decision_days(dates, schedule))
        for offset in range(1, 5):
            shifted = np.flatnonzero(decision_days(dates, schedule, offset))
            assert shifted.tolist() == [e + offset for e in ends if e + offset < len(dates)]
    assert decision_days(dates, "daily", 3).all()
    with pytest.raises(ParameterError, match="offset must be a whole number >= 0"):
        decision_days(dates, "week", -1)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=4), min_size=2, max_size=80),
    cut=st.integers(min_value=1, max_value=80),
    offset=st.integers(min_value=1, max_value=4),
    schedule=st.sampled_from(["week", "month"]),
)
def test_offset_decision_days_never_look_ahead(gaps, cut, offset, schedule):
    """A shifted week/month end is known from the data up to that day: appending rows never changes it."""
    dates = pd.DatetimeIndex(pd.Timestamp("2023-12-28") + pd.to_timedelta(np.cumsum(gaps), unit="D"))
    full = decision_days(dates, schedule, offset)
    m = min(cut, len(dates))
    assert decision_days(dates[:m], schedule, offset).tolist() == full[:m].tolist()


def test_next_decision_day_with_an_offset():
    dates = pd.bdate_range("2024-01-01", periods=30)  # ends on Friday 2024-02-09, a week's last day
    assert next_decision_day(dates[-1], "week") == pd.Timestamp("2024-02-16")
    assert next_decision_day(dates[-1], "week", offset=2, recent=dates) == pd.Timestamp("2024-02-13")  # two days after Friday


def test_backtest_with_an_offset_decides_on_the_shifted_days(prices):
    base = run_backtest(prices, tc=20, schedule="week")
    shifted = run_backtest(prices, tc=20, schedule="week", decision_offset=2)
    days = decision_days(prices.index, "week", 2)[base.inputs.start:]
    changes = np.flatnonzero(shifted.target_ids[1:] != shifted.target_ids[:-1]) + 1
    assert days[changes].all()  # the target changes only on shifted decision days
    assert not base.returns.equals(shifted.returns)


# ------------------------------------------------------------------------------ FWPT retune interval


def test_retune_sensitivity_rows_equal_fwpt(prices):
    tcs = list(range(5, 61, 5))
    grid = run_backtest_grid(prices, tcs)
    frame = retune_sensitivity(prices, (63, 125, 250), grid=grid, born_on="2006-01-02")
    assert list(frame.index) == [63, 125, 250]
    for days in (63, 250):
        walk = fwpt(prices, born_on="2006-01-02", retune_days=days, grid=grid)
        r = walk.returns
        assert frame.at[days, "CAGR"] == pytest.approx(cagr(r.iloc[1:], start=r.index[0]), rel=1e-12)
        assert frame.at[days, "Trials N"] == len(tcs) * walk.retunes["tries"].sum()
        assert frame.at[days, "tc now"] == walk.current_tc
