"""Profiles and experiments (TOML): lookup, extends, errors naming file/line, experiment phases."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from xlsector.errors import ParameterError
from xlsector.profiles import (
    PROFILES_ENV,
    experiments_dir,
    list_profiles,
    load_experiment,
    load_profile,
    run_experiment,
    run_profile,
)


def test_shipped_profiles_exist_and_load():
    names = list_profiles()
    expected = [f"sector_rotation_mom_{n}" for n in range(118, 135, 2)]
    expected += [f"sector_rotation_vix_{n}" for n in range(10, 15)]
    expected += [
        "sector_rotation_spy_150",
        "sector_rotation_spy_200",
        "sector_rotation_spy_250",
        "sector_rotation_combined_v2",
        "sectorsurfer_trend",
        "sample_momentum_126",
        "sample_trend",
    ]
    for name in expected:
        assert name in names
        load_profile(name)  # every shipped profile is valid
    mom = load_profile("sector_rotation_mom_130")
    assert mom.params["lookback"] == 130 and mom.params["leverage"] == 1.25
    assert mom.params["slippage_bp"] == 10.0  # inherited from sector_rotation_base
    assert mom.funds[-1] == "TLT" and mom.benchmark == "SPY" and len(mom.funds) == 12
    vix = load_profile("sector_rotation_vix_13")
    assert vix.params["leverage"] == 1.3 and vix.params["leverage_rule"] == "vix_formula"
    assert load_profile("sector_rotation_spy_250").params["ma_filter"] == 250
    assert load_profile("sectorsurfer_trend").strategy == "trend"


def test_user_folder_overrides_shipped(tmp_path, monkeypatch):
    (tmp_path / "sector_rotation_mom_126.toml").write_text(
        'extends = "sector_rotation_base"\n[params]\nlookback = 99\n'
    )
    assert load_profile("sector_rotation_mom_126", [tmp_path]).params["lookback"] == 99
    assert load_profile("sector_rotation_mom_126").params["lookback"] == 126
    monkeypatch.setenv(PROFILES_ENV, str(tmp_path))
    assert load_profile("sector_rotation_mom_126").params["lookback"] == 99


def test_unknown_profile_lists_known_ones():
    with pytest.raises(
        ParameterError, match=r"unknown profile 'nope'; known profiles: .*sector_rotation_mom_118"
    ):
        load_profile("nope")


def test_malformed_toml_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('description = "x"\n[params\nlookback = 3\n')
    with pytest.raises(ParameterError, match=rf"{bad}: malformed TOML: .*line 2"):
        load_profile("broken", [tmp_path])


def test_unknown_key_and_parameter(tmp_path):
    (tmp_path / "a.toml").write_text('strategy = "momentum"\nfundz = ["X"]\n')
    with pytest.raises(ParameterError, match=r"a.toml: unknown key 'fundz'"):
        load_profile("a", [tmp_path])
    (tmp_path / "b.toml").write_text('strategy = "momentum"\n[params]\nlookbak = 3\n')
    with pytest.raises(ParameterError, match=r"b.toml: unknown momentum parameter 'lookbak'"):
        load_profile("b", [tmp_path])
    (tmp_path / "c.toml").write_text('extends = "d"\n')
    (tmp_path / "d.toml").write_text('extends = "c"\n')
    with pytest.raises(ParameterError, match="extends cycle"):
        load_profile("c", [tmp_path])


def test_profile_parameter_error_names_the_profile(tmp_path):
    (tmp_path / "neg.toml").write_text('strategy = "momentum"\nfunds = ["A", "B"]\n[params]\nlookback = -3\n')
    prices = pd.DataFrame({"A": [1.0, 2, 3], "B": [1.0, 1, 1]}, index=pd.bdate_range("2020-01-01", periods=3))
    with pytest.raises(
        ParameterError, match=r"profile neg \(.*neg.toml\): lookback must be a whole number from 1 to 100000, got -3"
    ):
        run_profile(load_profile("neg", [tmp_path]), prices)


# ------------------------------------------------------------------------------------------ experiments


def _walks(n=900, seed=5):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2005-01-03", periods=n)
    cols = ["XLK", "XLF", "XLE", "XLV", "XLI", "XLP", "XLU", "XLY", "XLC", "XLB", "XLRE", "TLT", "SPY"]
    data = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, (n, len(cols))), axis=0))
    return pd.DataFrame(data, index=dates, columns=cols)


EXPERIMENT = """
base = "sector_rotation_mom_126"
rank_by = "cagr"
[[phase]]
name = "mom"
parameter = "lookback"
range = [20, 60, 20]
[[phase]]
name = "lev"
parameter = "leverage"
values = [1.0, 1.5]
[[phase]]
name = "ma"
parameter = "ma_filter"
values = [0, 50]
start_from = "mom"
[[phase]]
name = "all"
combine = ["mom", "lev", "ma"]
"""


def test_experiment_phases_start_from_previous_best(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    experiment = load_experiment(path)
    assert [p.values for p in experiment.phases[:2]] == [(20, 40, 60), (1.0, 1.5)]
    result = run_experiment(experiment, _walks())
    table = result.table
    assert list(table["phase"]) == ["mom"] * 3 + ["lev"] * 2 + ["ma"] * 2 + ["all", "benchmark"]
    mom = table[table["phase"] == "mom"]
    best_lookback = mom.loc[mom["CAGR"].idxmax(), "params"]["lookback"]
    assert mom.loc[mom["best"], "params"].iloc[0]["lookback"] == best_lookback
    lev = table[table["phase"] == "lev"]
    assert all(p["lookback"] == best_lookback for p in lev["params"])  # phase 2 starts from phase 1's best
    ma = table[table["phase"] == "ma"]
    assert all(p["leverage"] == 1.25 for p in ma["params"])  # start_from = "mom": phase 1's leverage
    combined = table[table["phase"] == "all"].iloc[0]["params"]
    best_lev = lev.loc[lev["best"], "params"].iloc[0]["leverage"]
    best_ma = ma.loc[ma["best"], "params"].iloc[0]["ma_filter"]
    assert (combined["lookback"], combined["leverage"], combined["ma_filter"]) == (
        best_lookback,
        best_lev,
        best_ma,
    )
    # every run reports over the same days: after the longest warm-up of any configuration the file can
    # produce, here the base profile's lookback 126, plus delay 1 (first decision day 126, trade at 127)
    assert result.period[0] == _walks().index[127]
    assert set(table["params"].iloc[:-1].map(lambda p: p["lookback"])) <= {20, 40, 60}


def test_experiment_out_of_sample_split(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.replace('rank_by = "cagr"', 'rank_by = "cagr"\nselect_until = "2007-06-29"'))
    result = run_experiment(load_experiment(path), _walks())
    assert result.selection_period[1] == pd.Timestamp("2007-06-29")
    assert result.oos_period[0] == pd.Timestamp("2007-06-29")
    assert "OOS CAGR" in result.table.columns and result.table["OOS CAGR"].notna().all()


@pytest.mark.parametrize(
    "body, message",
    [
        (
            'base = "sector_rotation_mom_126"\n[[phase]]\nparameter = "lookback"\nvalues = []\n',
            r"phase 1: the grid of 'lookback' is empty",
        ),
        (
            'base = "sector_rotation_mom_126"\n[[phase]]\nparameter = "lookbak"\nvalues = [1]\n',
            r"phase 1: parameter must be one of",
        ),
        ('base = "sector_rotation_mom_126"\n[[phase]]\ncombine = ["x"]\n', r"phase 1: combine must be"),
        (
            'base = "sector_rotation_mom_126"\nrank_by = "luck"\n[[phase]]\nparameter = "lookback"\nvalues = [5]\n',
            r"rank_by must be one of",
        ),
        ('base = "nope"\n', r"unknown profile 'nope'"),
        ('base = "sector_rotation_mom_126"\n[[phase]\n', r"malformed TOML: .*line 2"),
    ],
)
def test_bad_experiment_files(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ParameterError, match=message):
        load_experiment(path)


def test_shipped_experiments_load():
    four = load_experiment(experiments_dir() / "four_phase_study.toml")
    assert [p.name for p in four.phases] == ["momentum", "vix_leverage", "spy_filter", "combined"]
    assert four.phases[0].values == tuple(range(118, 135, 2))
    assert four.phases[1].values == (1.0, 1.1, 1.2, 1.3, 1.4)
    assert four.phases[2].values == (0, 150, 200, 250)
    sample = load_experiment("sample_four_phase")
    assert sample.phases[1].values == (1.0, 1.25, 1.5, 1.75, 2.0)


def test_four_phase_study_on_real_sector_etfs(etf_prices, shared_data):
    vix = pd.read_csv(shared_data / "vix_cboe_daily.csv", index_col="Date", parse_dates=True)["Close"]
    experiment = load_experiment(experiments_dir() / "four_phase_study.toml")
    with pytest.warns(Warning):  # the Cboe calendar differs from NYSE's: aligning it warns
        result = run_experiment(experiment, etf_prices, vix=vix)
    table = result.table
    assert len(table) == 9 + 5 + 4 + 1 + 1
    assert table.groupby("phase")["best"].sum().drop("benchmark").eq(1).all()
    assert result.oos_period[0] == pd.Timestamp("2014-12-31")
    vix_rows = table[table["phase"] == "vix_leverage"]
    # VIX-scaled leverage really varies: base x 30 / max(VIX, 15) averages above the base (VIX ~ 20)
    assert (vix_rows["Average leverage"] > vix_rows["params"].map(lambda p: p["leverage"])).all()
    spy = table[table["phase"] == "spy_filter"]
    assert spy.loc[spy["params"].map(lambda p: p["ma_filter"]) == 0, "Exposure"].iloc[0] == 1.0
    assert (spy.loc[spy["params"].map(lambda p: p["ma_filter"]) > 0, "Exposure"] < 0.9).all()


def test_sample_profiles_run_on_bundled_sample():
    from xlsector.data import load_sample

    prices = load_sample().prices
    run = run_profile(load_profile("sample_momentum_126"), prices)
    assert run.table.loc["Days", "strategy"] > 7000
    trend = run_profile(load_profile("sample_trend"), prices)
    assert trend.returns.index[0] < pd.Timestamp("1990-03-01")


def test_select_until_before_the_runs_start_names_the_setting():
    from xlsector.data import load_sample
    from xlsector.errors import ParameterError
    from xlsector.profiles import load_experiment, run_experiment

    experiment = load_experiment("sample_four_phase")
    experiment = type(experiment)(**{**experiment.__dict__, "select_until": "1990-01-10"})
    with pytest.raises(ParameterError, match="select_until 1990-01-10 leaves no days to rank the runs on"):
        run_experiment(experiment, load_sample().prices)


# ------------------------------------------------------------------------------------------ the parameter model


def test_profile_names_come_from_the_parameter_model():
    from xlsector.params import MomentumStrategy, Strategy
    from xlsector.profiles.loader import parameter_names

    assert parameter_names("momentum") == MomentumStrategy.names()
    assert parameter_names("trend") == (*Strategy.names(), "cash_rate")


@pytest.mark.parametrize(
    "line, message",
    [
        ("lookback = inf", "lookback must be a whole number from 1 to 100000, got inf"),
        ("lookback = nan", "lookback must be a whole number from 1 to 100000, got nan"),
        ('leverage = "1.25"', "leverage must be a number from 0 to 100, got '1.25'"),
        ("slippage_bp = -inf", "slippage_bp must be a number from 0 to 10000 (bp), got -inf"),
        ('rebalance = "hourly"', "rebalance must be one of daily, week, month, got 'hourly'"),
        ("vix_bands = [[20, 1.0], [10, 2.0]]", "vix_bands thresholds must increase strictly"),
        ("top_k = 1.5", "top_k must be a whole number >= 1, got 1.5"),
    ],
)
def test_bad_toml_values_name_the_file_and_key(tmp_path, line, message):
    (tmp_path / "bad.toml").write_text(f'strategy = "momentum"\n[params]\n{line}\n')
    where = re.escape(f"profile bad ({tmp_path / 'bad.toml'}): ")
    with pytest.raises(ParameterError, match=f"^{where}{re.escape(message)}"):
        load_profile("bad", [tmp_path])


def test_bad_value_in_a_parent_names_the_parent_and_values_are_checked_together(tmp_path):
    (tmp_path / "parent.toml").write_text('strategy = "momentum"\n[params]\nborrow_rate = nan\n')
    (tmp_path / "child.toml").write_text('extends = "parent"\n[params]\nlookback = 20\n')
    with pytest.raises(ParameterError, match=r"profile parent \(.*parent.toml\): borrow_rate must be a number from "
                                             r"0 to 1, got nan"):
        load_profile("child", [tmp_path])
    (tmp_path / "parent.toml").write_text('strategy = "momentum"\n[params]\nleverage_min = 1.5\n')
    (tmp_path / "child.toml").write_text('extends = "parent"\n[params]\nleverage_max = 1.2\n')
    with pytest.raises(ParameterError, match=r"profile child \(.*child.toml\): leverage_max must be >= leverage_min"):
        load_profile("child", [tmp_path])


def test_trend_profile_values_and_its_cash_rate(tmp_path):
    (tmp_path / "t.toml").write_text('strategy = "trend"\n[params]\ntc = inf\n')
    with pytest.raises(ParameterError, match=r"profile t \(.*t.toml\): tc must be a number >= 1"):
        load_profile("t", [tmp_path])
    (tmp_path / "t.toml").write_text('strategy = "trend"\n[params]\ncash_rate = "2%"\n')
    with pytest.raises(ParameterError, match=r"profile t \(.*t.toml\): cash_rate must be a number from -1 to 1"):
        load_profile("t", [tmp_path])
    (tmp_path / "t.toml").write_text('strategy = "trend"\n[params]\ncash_rate = 0.02\nlookback = 3\n')
    with pytest.raises(ParameterError, match=r"t.toml: unknown trend parameter 'lookback' in \[params\]"):
        load_profile("t", [tmp_path])


def test_with_params_checks_names_and_values():
    profile = load_profile("sample_momentum_126")
    assert profile.with_params(lookback=60, ma_filter=0).params["lookback"] == 60
    with pytest.raises(ParameterError, match=r"profile sample_momentum_126 \(.*\): unknown momentum parameter 'tc'"):
        profile.with_params(tc=50)
    with pytest.raises(ParameterError, match=r"profile sample_momentum_126 \(.*\): leverage must be a number from 0 to 100, "
                                             r"got -1"):
        profile.with_params(leverage=-1)


@pytest.mark.parametrize(
    "phase, message",
    [
        ('parameter = "lookback"\nvalues = [20, inf]', r"phase 1: values: lookback must be a whole number from 1 to 100000, got inf"),
        ('parameter = "leverage"\nvalues = ["high"]', r"phase 1: values: leverage must be a number from 0 to 100, got 'high'"),
        ('parameter = "lookback"\nrange = [0, 10, 5]', r"phase 1: range: lookback must be a whole number from 1 to 100000, got 0"),
        ('parameter = "lookback"\nrange = [1, inf, 1]', r"phase 1: range must be \[first, last, step\]"),
        ('parameter = "lookback"\nrange = [1, nan, 1]', r"phase 1: range must be \[first, last, step\]"),
        ('parameter = "lookback"\nvalues = [20]\nset = { leverage = nan }',
         r"phase 1: set: leverage must be a number from 0 to 100, got nan"),
    ],
)
def test_bad_grid_and_set_values_name_the_file_and_phase(tmp_path, phase, message):
    path = tmp_path / "bad.toml"
    path.write_text(f'base = "sample_momentum_126"\n[[phase]]\n{phase}\n')
    with pytest.raises(ParameterError, match=rf"{path}: {message}"):
        load_experiment(path)


def test_grid_point_limit(tmp_path):
    from xlsector.profiles.experiment import MAX_GRID_POINTS

    assert MAX_GRID_POINTS == 10_000
    path = tmp_path / "big.toml"
    path.write_text('base = "sample_momentum_126"\n[[phase]]\nparameter = "lookback"\nrange = [1, 10000, 1]\n')
    assert len(load_experiment(path).phases[0].values) == 10_000  # the limit itself is allowed
    path.write_text('base = "sample_momentum_126"\n[[phase]]\nparameter = "lookback"\nrange = [1, 10001, 1]\n')
    with pytest.raises(ParameterError, match=r"phase 1: the grid has 10,001 points, more than the limit MAX_GRID_POINTS = 10,000 runs"):
        load_experiment(path)
    path.write_text('base = "sample_momentum_126"\n[[phase]]\nparameter = "leverage"\nrange = [0, 1e300, 1e-300]\n')
    with pytest.raises(ParameterError, match=r"the grid has about 1e\+600 points|the grid has about inf points"):
        load_experiment(path)
    many = ", ".join(["1.0"] * 10_001)
    path.write_text(f'base = "sample_momentum_126"\n[[phase]]\nparameter = "leverage"\nvalues = [{many}]\n')
    with pytest.raises(ParameterError, match="more than the limit MAX_GRID_POINTS = 10,000 runs"):
        load_experiment(path)


def test_experiment_benchmark_row_is_buy_and_hold_over_the_runs_days(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    prices = _walks()
    result = run_experiment(load_experiment(path), prices)
    bench = result.table[result.table["phase"] == "benchmark"].iloc[0]
    first, last = result.period
    spy = prices["SPY"]
    years = (last - first).days / 365.25
    assert bench["CAGR"] == pytest.approx((spy.loc[last] / spy.loc[first]) ** (1 / years) - 1, rel=1e-12)
