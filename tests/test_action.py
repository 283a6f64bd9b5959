"""Today's action (xlsector.action, SECTOR_SIGNAL, `xlsector signal`): timing, hurdle, runner-up, StormGuard."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from tests import reference
from xlsector.action import signal, signal_from_result
from xlsector.backtesting import run_backtest
from xlsector.cli import main


def crossing(n: int = 80) -> pd.DataFrame:
    """A rises 1 %/day for 40 days then falls 1 %/day; B falls 0.5 %/day then rises 1 %/day."""
    t = np.arange(40)
    a = np.r_[100 * 1.01**t, 100 * 1.01**39 * 0.99 ** (t + 1)][:n]
    b = np.r_[100 * 0.995**t, 100 * 0.995**39 * 1.01 ** (t + 1)][:n]
    return pd.DataFrame({"A": a, "B": b}, index=pd.bdate_range("2020-01-01", periods=n))


@pytest.mark.parametrize("delay", [0, 1])
def test_held_is_the_target_decided_delay_closes_ago(delay):
    prices = crossing()
    result = run_backtest(prices, tc=5, hysteresis=0.0, delay=delay)
    targets = result.targets.to_numpy()
    switch = int(np.flatnonzero(targets[1:] != targets[:-1])[-1]) + 1  # the close that chose B
    for cut in range(switch, switch + 3):  # the data end at, one and two closes after that decision
        found = signal(prices.iloc[: 22 + cut + 1], tc=5, hysteresis=0.0, delay=delay)
        assert found.target == "B"
        decided_ago = cut - switch
        assert found.held == ("B" if decided_ago >= delay else "A")
        assert found.trade == (found.held != found.target)
        expected = found.as_of if delay == 0 else found.as_of + pd.offsets.BDay(1)
        assert found.effective == expected


def test_held_is_what_the_backtest_holds_on_the_next_day():
    """After the last close a follower owns what the backtest holds on the following day (no look-ahead)."""
    prices = crossing()
    full = run_backtest(prices, tc=5, hysteresis=0.01)
    for end in range(30, 79):
        found = signal(prices.iloc[:end], tc=5, hysteresis=0.01)
        assert found.held == full.holdings.iloc[end - 22]  # row `end` of prices is the next day


def test_hurdle_is_the_target_trend_plus_the_decayed_bonus():
    prices = crossing()
    result = run_backtest(prices, tc=5, hysteresis=0.02, decay=8)
    targets = result.targets.to_numpy()
    trends = result.trends
    hurdle = result.hurdle.to_numpy()
    chosen = 0
    for i in range(1, len(targets)):
        if targets[i] != targets[i - 1]:
            chosen = i
        if targets[i] == "CASH":
            assert np.isnan(hurdle[i])
            continue
        bonus = 0.02 * np.exp(-(i - chosen) / 8)
        assert hurdle[i] == pytest.approx(trends[targets[i]].iloc[i] + bonus, rel=1e-12)
        # the rule the kernel applied: no other fund beat the hurdle on a day it kept the target
        if i > chosen:
            other = "B" if targets[i] == "A" else "A"
            assert trends[other].iloc[i] <= hurdle[i] + 1e-15


def test_runner_up_and_margin_at_the_last_close():
    prices = crossing(60)
    found = signal(prices, tc=5, hysteresis=0.01)
    result = run_backtest(prices, tc=5, hysteresis=0.01)
    last = result.trends.iloc[-1]
    assert found.target in ("A", "B") and found.runner_up == ({"A", "B"} - {found.target}).pop()
    assert found.margin == pytest.approx(result.hurdle.iloc[-1] - last[found.runner_up], rel=1e-12)
    assert found.margin > 0  # the runner-up is below the hurdle, or it would be the target
    assert found.to_dict()["margin"] == found.margin


def test_stormguard_reading_and_distance_to_the_band():
    prices = crossing()
    index = pd.Series(100 * 0.99 ** np.arange(80), index=prices.index, name="SPX")  # a falling market
    found = signal(prices, index=index, tc=5, stormguard="quick", shift=0.002)
    sg = found.stormguard
    indicator = reference.trends(index.to_frame(), 50, 22)["SPX"].iloc[-1]
    assert sg is not None and not sg.bull and sg.indicator == pytest.approx(indicator, rel=1e-12)
    assert sg.distance == pytest.approx(0.002 - indicator, rel=1e-12)  # bear: how far below +shift
    assert found.target == "CASH" and found.to_dict()["stormguard"]["state"] == "bear"
    assert found.runner_up in ("A", "B")  # the fund bought when the market filter turns bull


def test_next_decision_day_and_data_age():
    prices = crossing()  # ends on a Tuesday, 2020-04-21
    assert prices.index[-1] == pd.Timestamp("2020-04-21")
    found = signal(prices, tc=5, schedule="month", today=dt.date(2020, 4, 30))
    assert found.next_decision == pd.Timestamp("2020-04-30") and found.data_age_days == 9
    assert signal(prices, tc=5, schedule="week").next_decision == pd.Timestamp("2020-04-24")
    assert signal(prices, tc=5).next_decision == pd.Timestamp("2020-04-22")


def test_signal_from_result_is_the_function_the_excel_block_shows():
    from udfs import xlsector_udfs as u

    prices = crossing()
    cells = [["Date", "A", "B"]] + [[d.to_pydatetime(), a, b] for d, a, b in prices.itertuples()]
    rows = {row[0]: row[1] for row in u.SECTOR_SIGNAL(cells, 5, 0.01)}
    found = signal_from_result(run_backtest(prices, tc=5, hysteresis=0.01))
    assert rows["Target"] == found.target and rows["Held now"] == found.held
    assert rows["As of"] == found.as_of.to_pydatetime()
    assert rows["Margin (trend units)"] == pytest.approx(found.margin)


def test_cli_signal_json_on_the_sample_and_the_sector_etfs(shared_data, capsys):
    assert main(["signal", "--json"]) == 0
    sample = json.loads(capsys.readouterr().out)
    for key in ("as_of", "held", "target", "effective", "next_decision", "stormguard", "runner_up", "margin"):
        assert key in sample, key
    assert sample["as_of"] == "2022-12-28" and sample["held"] in ("XOM", "JPM", "JNJ", "MRK", "PG", "KO", "WMT",
                                                                    "HD", "GE", "MSFT", "CASH")
    prices = shared_data / "etf_adjclose_daily.csv"
    args = ["signal", "--prices", str(prices), "--funds", "XLB,XLE,XLF,XLI,XLK,XLP,XLU,XLV,XLY", "--index", "SPY",
            "--stormguard", "standard", "--json"]
    assert main(args) == 0
    etfs = json.loads(capsys.readouterr().out)
    frame = pd.read_csv(prices, index_col="Date", parse_dates=True)
    core = signal(frame[["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]], index=frame["SPY"],
                  stormguard="standard")
    assert etfs["target"] == core.target and etfs["held"] == core.held
    assert etfs["stormguard"]["state"] == ("bull" if core.stormguard.bull else "bear")
    assert etfs["as_of"] == f"{frame.index[-1]:%Y-%m-%d}"


def test_cli_signal_on_old_data_says_it_is_stale(tmp_path, capsys):
    """Prices that end long ago: the action is the last close's, so the CLI says STALE (a warning line and the JSON's
    "stale"), as the workbook's Summary and STALE_DATA do; it printed "hold ..., trade at the close of <a day years
    ago>" with only a "Data age" row before. Fresh data gives no such line."""
    old = pd.DataFrame({"A": np.linspace(10, 12, 120), "B": np.linspace(10, 11, 120)},
                       index=pd.bdate_range("2001-01-01", periods=120))
    old.to_csv(tmp_path / "old.csv", index_label="Date")
    assert main(["signal", "--prices", str(tmp_path / "old.csv"), "--json"]) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["stale"] is True and payload["staleness"].startswith("STALE: the data end")
    stale = [line for line in captured.err.splitlines() if line.startswith("warning: STALE: the data of ")]
    assert len(stale) == 1 and "old.csv" in stale[0] and f"({old.index[-1]:%Y-%m-%d})" in stale[0]
    fresh = old.set_axis(pd.bdate_range(end=pd.Timestamp.today().normalize(), periods=120))
    fresh.to_csv(tmp_path / "fresh.csv", index_label="Date")
    assert main(["signal", "--prices", str(tmp_path / "fresh.csv"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["stale"] is False and "STALE" not in captured.err


def test_cli_signal_from_a_workbook_and_bad_input(tmp_path, capsys):
    from xlsector.render import render_workbook
    from xlsector.workbook.template import write_template

    path = write_template(tmp_path / "fwpt.xlsx")
    render_workbook(path)
    assert main(["signal", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2022-12-28"
    assert main(["signal", "--prices", str(tmp_path / "missing.csv")]) == 1
    assert capsys.readouterr().err.startswith("Error: ")
    assert main(["signal", "--tc", "zero"]) == 1
    assert capsys.readouterr().err.strip() == "Error: tc must be a number, got the text 'zero'"
