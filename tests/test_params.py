"""The parameter model: one declaration per parameter, read by every door (core, Excel, Settings, CLI, docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlsector import contract
from xlsector.errors import ParameterError
from xlsector.params import MomentumStrategy, Param, Strategy, TuningParams, param_of, params_of

MODELS = [Strategy, TuningParams, MomentumStrategy, contract.DataSelection]


@pytest.mark.parametrize("cls", MODELS)
def test_every_parameter_has_help_and_a_default_its_rule_accepts(cls):
    defaults = cls()  # the defaults pass their own rules
    for p in params_of(cls):
        assert p.help and p.help[0].isupper() and p.help.endswith("."), p.name
        assert getattr(defaults, p.name) == p.check(p.default)


@pytest.mark.parametrize(
    ("cls", "values", "message"),
    [
        (Strategy, {"tc": 0.5}, r"tc must be a number >= 1 \(market days\), got 0.5"),
        (Strategy, {"delay": 2}, "delay must be 0 or 1, got 2"),
        (Strategy, {"k": 0}, r"k \(the scale\) must be a number > 0, got 0"),
        (Strategy, {"schedule": "yearly"}, "schedule must be one of daily, week, month, got 'yearly'"),
        (Strategy, {"min_hold": 1.5}, r"min_hold must be a whole number >= 0 \(market days\), got 1.5"),
        (Strategy, {"tcc": 3}, "unknown strategy parameter 'tcc'"),
        (TuningParams, {"tc_min": 50, "tc_max": 10}, "tc_min must be <= tc_max"),
        (TuningParams, {"tc_min": 1, "tc_max": 5000}, "at most 1000 trend constants"),
    ],
)
def test_one_validation_with_messages_naming_rule_and_value(cls, values, message):
    with pytest.raises(ParameterError, match=message):
        cls.from_kwargs(**values)


def test_words_and_aliases_are_canonical():
    assert Strategy(stormguard="off").stormguard is None and Strategy(stormguard="Quick").stormguard == "quick"
    assert Strategy(schedule="Weekly").schedule == "week"
    assert Strategy(tc=3).replace(tc=4).tc == 4.0
    with pytest.raises(ParameterError, match="unknown strategy parameter"):
        Strategy().replace(nope=1)


def test_cells_become_parameters_by_the_same_rules():
    tc = param_of(Strategy, "tc")
    assert contract.param_from_cell(tc, " 20 ") == 20 and contract.param_from_cell(tc, None) == 50
    with pytest.raises(ParameterError, match="tc must be a number, got the text 'x'"):
        contract.param_from_cell(tc, "x")
    with pytest.raises(ParameterError, match="tc must be a number, got the error value #N/A"):
        contract.param_from_cell(tc, "#N/A")
    with pytest.raises(ParameterError, match="tc must not be blank; expected a number >= 1"):
        contract.param_from_cell(tc, "", blank_is_default=False)
    born = param_of(TuningParams, "born_on")
    assert str(contract.param_from_cell(born, 40179)) == "2010-01-01"  # Office.js: a serial number
    assert str(contract.param_from_cell(born, "2010-01-01")) == "2010-01-01"


def test_every_door_reads_the_model():
    """Excel's argument help, the Settings rows and the CLI flags carry the model's own help text."""
    import argparse

    from udfs import xlsector_udfs as u
    from xlsector.commands.params_cli import add_param_flags

    for name in ("tc", "hysteresis", "stormguard", "retune_days"):
        cls = Strategy if name in Strategy.names() else TuningParams
        assert u.DOC[name].startswith(param_of(cls, name).help)
    rows = {s.name: s for s in contract.SETTINGS}
    assert rows["TrendConstant"].description.startswith(param_of(Strategy, "tc").help)
    assert rows["TrendConstant"].default == param_of(Strategy, "tc").default
    parser = argparse.ArgumentParser()
    add_param_flags(parser, Strategy)
    text = parser.format_help()
    for p in params_of(Strategy):
        assert "--" + p.name.replace("_", "-") in text
    assert "Trend constant of the funds' EMA2 trends" in text


def test_parameters_page_is_generated_from_the_model():
    page = (Path(__file__).resolve().parents[1] / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert page == contract.parameters_page(), "regenerate: python -c \"from xlsector.contract import " \
        "parameters_page; open('docs/parameters.md', 'w').write(parameters_page())\""


def test_a_param_declared_by_hand_follows_the_same_rules():
    days = Param(name="window", default=250, help="Window.", kind="whole", low=1)
    assert days.check(10) == 10 and days.rule() == "a whole number >= 1"
    with pytest.raises(ParameterError, match="window must be a whole number >= 1, got 0"):
        days.check(0)
