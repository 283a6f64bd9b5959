"""CLI: backtest, experiment, tune, runs, show-last through xlsector.cli.main (exit codes, exact Error lines)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xlsector.cli import main


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Run records go to a temporary XLSECTOR_HOME; no user profiles from the environment."""
    folder = tmp_path / "home"
    monkeypatch.setenv("XLSECTOR_HOME", str(folder))
    monkeypatch.delenv("XLSECTOR_PROFILES", raising=False)
    return folder


def _runs(home):
    folder = home / "runs"
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_backtest_profile_on_sample_records_a_run(capsys, home):
    assert main(["backtest", "--profile", "sample_momentum_126"]) == 0
    out = capsys.readouterr().out
    assert "Profile sample_momentum_126 (momentum)" in out
    assert "Period: " in out and "Sample: the whole period" in out and "Definitions:" in out
    assert "CAGR" in out and "benchmark" in out
    assert len(_runs(home)) == 1
    # show-last prints the same text again
    assert main(["show-last"]) == 0
    again = capsys.readouterr().out
    assert out.split("\n(run recorded")[0] in again
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out
    assert "backtest sample_momentum_126" in listing


def test_backtest_json(capsys, home):
    assert main(["backtest", "--profile", "sample_trend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["profile"]["name"] == "sample_trend"
    labels = [row["metric"] for row in data["metrics"]]
    assert "Sharpe ratio" in labels
    assert data["period"][0] < data["period"][1]
    assert main(["show-last", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == data


def test_backtest_unknown_profile(capsys, home):
    assert main(["backtest", "--profile", "nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        "Error: unknown profile 'nope'; known profiles: sample_momentum_126, sample_trend, "
    )
    assert _runs(home) == []  # nothing written


def test_backtest_malformed_toml_names_file_and_line(capsys, home, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    bad = folder / "mine.toml"
    bad.write_text('strategy = "momentum"\nfunds = ["A" "B"]\nbenchmark = "SPY"\n')
    assert main(["backtest", "--profile", "mine", "--profiles-dir", str(folder)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"Error: {bad}: malformed TOML: ")
    assert "(at line 2, column" in err  # tomllib's position, passed through
    assert _runs(home) == []


def test_backtest_profile_needing_absent_tickers(capsys, home):
    assert main(["backtest", "--profile", "sector_rotation_mom_126"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: profile sector_rotation_mom_126 (")
    assert "needs column 'XLK', absent from the prices" in err
    assert _runs(home) == []


def test_experiment_empty_grid(capsys, home, tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text(
        'base = "sample_momentum_126"\n[[phase]]\nname = "m"\nparameter = "lookback"\nvalues = []\n'
    )
    assert main(["experiment", str(path)]) == 1
    assert (
        capsys.readouterr().err.strip()
        == f"Error: {path}: phase 1: the grid of 'lookback' is empty (values = [])"
    )
    assert _runs(home) == []


def test_experiment_sample(capsys, home):
    assert main(["experiment", "sample_four_phase"]) == 0
    out = capsys.readouterr().out
    assert "Experiment sample_four_phase" in out
    assert "Selection (IN SAMPLE" in out and "OUT OF SAMPLE" in out
    assert out.count("momentum ") >= 9 and "benchmark" in out
    assert len(_runs(home)) == 1


def test_tune_trend_chart_and_fwpt(capsys, home):
    args = ["--funds", "XOM,JPM,JNJ,MSFT", "--tc-min", "10", "--tc-max", "100", "--tc-step", "10"]
    assert main(["tune", "trend-chart", *args]) == 0
    out = capsys.readouterr().out
    assert "IN SAMPLE" in out and "Peak: tc " in out and "plateau" in out
    assert main(["tune", "fwpt", *args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["born_on"] == "1995-01-03"
    )  # sample starts 1990-01-02 (a Tuesday); + 5 years -> next market day
    assert data["out_of_sample_period"][0] == data["born_on"]
    assert {row["metric"] for row in data["metrics"]} >= {"CAGR", "Sharpe ratio", "Max drawdown"}
    assert data["retunes"][0]["action"] == "initial"
    assert len(_runs(home)) == 2
    assert main(["tune", "split-sample", *args]) == 0
    assert "first_half" in capsys.readouterr().out
    assert main(["tune", "progressive", *args]) == 0
    assert "prior 250 market days" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--born-on", "1991-06-03"],
            "Error: born_on must be on or after 1995-01-02 (five years after the first price of the oldest fund, "
            "XOM, on 1990-01-02), got 1991-06-03",
        ),
        (["--retune-days", "0"], "Error: retune_days must be a whole number >= 1 (market days), got 0"),
        (
            ["--tc-min", "50", "--tc-max", "10"],
            "Error: --tc-min/--tc-max/--tc-step must give a non-empty grid, got 50..10 step 10 (the grid is empty)",
        ),
        (["--funds", "XOM,NOPE"], None),
    ],
)
def test_tune_fwpt_bad_input(capsys, home, extra, message):
    base = ["tune", "fwpt", "--funds", "XOM,JPM,MSFT", "--tc-min", "10", "--tc-max", "40", "--tc-step", "10"]
    argv = base + extra if extra[0] != "--funds" else ["tune", "fwpt", *extra]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    if message is None:
        assert err.startswith("Error: column 'NOPE' is not in the prices")
    else:
        assert err == message
    assert _runs(home) == []


def test_runs_show_and_compare(capsys, home):
    main(["backtest", "--profile", "sample_momentum_126", "--json"])
    main(["backtest", "--profile", "sample_trend", "--json"])
    capsys.readouterr()
    ids = [p.stem for p in _runs(home)]
    assert main(["runs", "show", ids[0]]) == 0
    assert "sample_momentum_126" in capsys.readouterr().out
    assert main(["runs", "compare", *ids]) == 0
    out = capsys.readouterr().out
    assert "CAGR" in out and ids[0] in out and ids[1] in out
    assert main(["runs", "show", "zzz"]) == 1
    assert capsys.readouterr().err.strip().startswith("Error: run id 'zzz' not found")


def test_show_last_without_runs(capsys, home):
    assert main(["show-last"]) == 1
    assert capsys.readouterr().err.strip().startswith("Error: no run recorded yet in ")


def test_progress_bar_draws_only_on_a_terminal():
    import io

    from xlsector.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    plain = io.StringIO()
    with Progress(3, "x", stream=plain) as bar:
        for _ in range(3):
            bar.advance()
    assert plain.getvalue() == ""  # not a TTY: nothing (pipes, CI logs, tests stay clean)
    tty = Tty()
    with Progress(4, "exp", stream=tty) as bar:
        for _ in range(4):
            bar.advance()
    text = tty.getvalue()
    assert "exp [" in text and "4/4 100%" in text
    assert text.endswith("\r")  # the line is erased at the end


def test_run_record_is_strict_json(home):
    from xlsector.runs import last_run, record_run

    record_run("backtest", argv=["x"], title="t", text="hello", data={"a": float("nan"), "b": [1, 2]})
    saved = last_run()
    assert saved["data"] == {"a": None, "b": [1, 2]}
    assert saved["text"] == "hello"
    assert not list((home / "runs").glob(".*.tmp"))  # no temporary file left behind


# ------------------------------------------------------------------------------ honest evaluation


def test_tune_trend_chart_warns_of_the_grid_edge_and_counts_n(capsys, home):
    assert main(["tune", "trend-chart"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("warning: The peak tc 200 is the grid's last trend constant")  # the sample's peak
    assert any(line.startswith("warning: SURVIVORSHIP BIAS") for line in out)
    assert any(line.startswith("Overfitting statistics of the peak tc (N = 199: every tc of the grid") for line in out)
    assert main(["tune", "trend-chart", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.err.startswith("warning: The peak tc 200")  # the warning reaches the terminal with --json
    assert data["edge"]["peak_on_edge"] and data["warnings"][0].startswith("The peak tc 200")
    fit = data["overfitting"]
    assert fit["n_trials"] == 199 and 0 < fit["dsr"] < fit["psr"] <= 1 and 0 <= fit["pbo"] <= 1
    assert "every tc of the grid" in fit["n_note"] and "raw kurtosis" in fit["conventions"]
    # equal to a direct computation on the same grid
    import xlsector as xs
    from xlsector.backtesting import run_backtest_grid
    from xlsector.overfitting import deflated_sharpe, sharpe_ratios, sharpe_stats

    funds = xs.load_sample().prices.drop(columns="^GSPC")
    trials = run_backtest_grid(funds, range(2, 201)).returns[:, 1:].T
    sr, n, skew, kurt = sharpe_stats(trials[:, -1])  # the peak: tc 200
    var = float(np.var(sharpe_ratios(trials), ddof=1))
    assert fit["dsr"] == pytest.approx(deflated_sharpe(sr, n, 199, var, skew, kurt), rel=1e-12)


def test_tune_fwpt_and_backtest_show_the_fair_benchmarks(capsys, home):
    assert main(["tune", "fwpt", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert captured.err.startswith("warning: the tuned tc now (200) is the grid's last trend constant")  # the sample
    assert data["warnings"][0].startswith("the tuned tc now (200)") and data["share_of_tunings_on_the_grid_edge"] > 0
    assert data["benchmarks"]["EW rebalanced daily"] == "equal weight of the 10 funds, rebalanced at every close"
    assert data["benchmarks"]["^GSPC (price only)"].endswith("price only, excludes dividends (understates the "
                                                              "market by the dividend yield)")
    columns = set(data["metrics"][0])
    assert {"walk_forward", "in_sample_best", "benchmark", "EW rebalanced daily", "^GSPC (price only)"} <= columns
    fit = data["overfitting"]
    tunings = sum(row["tries"] for row in data["retunes"])
    assert fit["n_trials"] == 199 * tunings and "tunings" in fit["n_note"]
    assert main(["backtest", "--profile", "sample_trend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["benchmarks"]["benchmark"].startswith("buy-and-hold ^GSPC: price only")
    assert {"EW buy-and-hold", "EW rebalanced daily"} <= set(data["metrics"][0])
    assert data["track_record"]["n_trials"] == 1 and data["track_record"]["dsr"] is None


def test_tune_robustness(capsys, home):
    assert main(["tune", "robustness", "--tc-min", "100", "--tc-max", "200", "--tc-step", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["map"]["chosen"] == [200.0, 0.01]
    luck = {item["schedule"]: item for item in data["timing_luck"]}
    assert luck["daily"]["spread"] == 0.0 and luck["week"]["spread"] > 0 and luck["month"]["spread"] > 0
    assert [row["retune_days"] for row in data["retune_sensitivity"]] == [63, 125, 250]
    assert main(["tune", "robustness", "--tc-min", "100", "--tc-max", "200", "--tc-step", "10"]) == 0
    out = capsys.readouterr().out
    assert "23.34%*" in out or "*" in out.split("Map:")[1].split("Metric:")[0]


def test_experiment_reports_n_and_the_edge_of_its_grids(capsys, home):
    assert main(["experiment", "sample_four_phase", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    phases = {row["phase"]: row for row in data["overfitting"]}
    assert [phases[p]["n_trials"] for p in ("momentum", "leverage", "index_filter", "combined")] == [9, 14, 18, 19]
    assert phases["momentum"]["best_on_edge"] and phases["momentum"]["best"] == 134
    assert any(w.startswith("phase momentum: the best lookback (134) is the edge of its grid") for w in
               data["warnings"])
    assert "warning: phase momentum" in captured.err


@pytest.mark.parametrize("argv", [
    ["signal"],
    ["portfolio", "--strategy", "profile:sample_trend"],
    ["sweep", "--profile", "sample_trend", "--choose", "9", "--tc-min", "40", "--tc-max", "60", "--tc-step", "10",
     "--workers", "1"],
])
def test_every_command_on_the_sample_starts_with_its_survivorship_disclosure(capsys, home, tmp_path, argv):
    extra = ["--store", str(tmp_path / "s.sqlite")] if argv[0] == "sweep" else []
    assert main([*argv, *extra]) == 0
    assert capsys.readouterr().out.startswith("warning: SURVIVORSHIP BIAS")
