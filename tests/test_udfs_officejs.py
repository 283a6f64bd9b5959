"""The Office.js path (xlwings Server / xlwings Lite) through xlwings' own machinery.

xlwings binds ``xw.func``/``xw.arg`` to its Office.js implementation only when ``XLWINGS_ON_SERVER=true``
is set before it is imported (and its PRO parts need ``XLWINGS_LICENSE_KEY``; "noncommercial" is the
free noncommercial licence), so every check runs in a fresh interpreter: ``custom_functions_meta`` (what
the add-in registers with Excel) and ``custom_functions_call`` (what runs when a cell calculates) with
payloads shaped as Excel sends them: 2-D lists, scalars as ``[[x]]``, dates as serial numbers, empty cells
as ``""``, omitted optional arguments as ``null`` and error cells as Office.js error objects.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from udfs import xlsector_udfs as u

REPO = Path(__file__).resolve().parents[1]

DRIVER = textwrap.dedent(
    """
    import asyncio, json, sys
    import xlwings as xw
    assert xw.func.__module__ == "xlwings.pro.udfs_officejs", xw.func.__module__
    from udfs import xlsector_udfs
    assert xlsector_udfs._OFFICEJS
    from xlwings.server import custom_functions_call, custom_functions_meta
    from udfs import xlsector_udfs as module

    calls = json.load(sys.stdin)
    out = {"meta": custom_functions_meta(module), "results": []}
    for func_name, args in calls:
        data = {
            "func_name": func_name, "args": args, "caller_address": "Sheet1!H1", "formula_name": func_name,
            "version": xw.__version__, "client": "Office.js", "runtime": "1.4",
            "culture_info_name": "en-US", "date_format": "yyyy-mm-dd",
        }
        try:
            value = asyncio.run(custom_functions_call(data, module))
            out["results"].append({"value": value})
        except Exception as exc:
            out["results"].append({"error": type(exc).__name__, "message": str(exc)})
    json.dump(out, sys.stdout)
    """
)

NA = {"type": "Error", "basicType": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
SERIAL0 = 43832  # 2020-01-02, a Thursday


def price_grid(n: int = 40, *, late_start: int = 0) -> list[list]:
    """Header + serial dates + two funds (A +1 %/day, B -1 %/day); B blank ("") for ``late_start`` rows."""
    rows = [["Date", "A", "B"]]
    for t in range(n):
        b = "" if t < late_start else 100 * 0.99**t
        rows.append([SERIAL0 + t, 100 * 1.01**t, b])
    return rows


CALLS = {
    "trend": ("EMA2_TREND", [price_grid(5, late_start=2), [[10]], None, None, None]),
    "trend_defaults_as_blank_cells": ("EMA2_TREND", [price_grid(5), [[10]], [[""]], [[""]], [[""]]]),
    "trend_k21": ("EMA2_TREND", [[[100], [110]], [[2]], [[21]]]),
    "trend_error_cell": ("EMA2_TREND", [[["A"], [100], [NA]], [[10]]]),
    "trend_tc_error_cell": ("EMA2_TREND", [price_grid(5), [[NA]]]),
    "trend_tc_text": ("EMA2_TREND", [price_grid(5), [["fifty"]]]),
    "trend_tc_missing": ("EMA2_TREND", [price_grid(5), None]),
    "weights": ("EMA2_WEIGHTS", [[[50]], [[0], [1], [""]]]),
    "weights_count": ("EMA_WEIGHTS", [[[50]], [[3]]]),
    "weights_row": ("EMA_WEIGHTS", [[[50]], [[0, 1]]]),  # xlwings passes a single row as a flat list
    "momentum": ("MOMENTUM", [[[100], [110], [121]], [[2]]]),
    "pick": ("SECTOR_PICK", [price_grid(), [[10]]] + [None] * 13),
    "pick_as_of_serial": ("SECTOR_PICK", [price_grid(), [[10]], None, None, None, [[SERIAL0 + 30]]]),
    "pick_bad_stormguard": ("SECTOR_PICK", [price_grid(), [[10]], None, None, [["sometimes"]]]),
    "picks": ("SECTOR_PICKS", [price_grid(), [[10]]]),
    "cagr": ("BACKTEST_CAGR", [price_grid(), [[10]], [[0]], None, None, None, None, None, [[0]]]),
    "metrics": ("BACKTEST_METRICS", [price_grid(), [[10]]]),
    "sg_state": ("STORMGUARD_STATE", [[[100 * 0.99**t] for t in range(60)]]),
    "sg_history": ("STORMGUARD_HISTORY", [[["Date", "SPX"]] + [[SERIAL0 + t, 100 * 1.01**t] for t in range(3)]]),
    "too_short": ("SECTOR_PICK", [price_grid(10), [[10]]]),
    "trend_chart": ("TREND_CHART", [price_grid(), [[2]], [[10]], [[4]]] + [None] * 8),
    "fwpt_too_short": ("FWPT_TABLE", [price_grid(), None, [[125]]]),
}
# an index or bear range with one date twice: every function that takes it says so in the cell
_DUPLICATE = [["Date", "SPX"]] + [[SERIAL0 + min(t, 38), 100 * 1.001**t] for t in range(40)]
_SG = [[["standard"]]]
CALLS.update({
    "dup_pick": ("SECTOR_PICK", [price_grid(), [[10]], None, _DUPLICATE, *_SG]),
    "dup_picks": ("SECTOR_PICKS", [price_grid(), [[10]], None, _DUPLICATE, *_SG]),
    "dup_cagr": ("BACKTEST_CAGR", [price_grid(), [[10]], None, _DUPLICATE, *_SG]),
    "dup_metrics": ("BACKTEST_METRICS", [price_grid(), [[10]], None, _DUPLICATE, *_SG]),
    "dup_trend_chart": ("TREND_CHART", [price_grid(), [[2]], [[10]], None, None, _DUPLICATE, *_SG]),
    "dup_fwpt_bear": ("FWPT_TABLE", [price_grid(), None, None, None, None, None, None, None, None, None, None,
                                     None, None, None, None, None, _DUPLICATE]),
})


@pytest.fixture(scope="module")
def officejs():
    """Run every call of CALLS through xlwings' Office.js machinery in one fresh interpreter."""
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    names = list(CALLS)
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with stderr shown
        [sys.executable, "-c", DRIVER], input=json.dumps([CALLS[n] for n in names]), capture_output=True,
        text=True, env=env, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    return out["meta"], dict(zip(names, out["results"]))


def _value(results, name):
    result = results[name]
    assert "value" in result, result
    return result["value"]


def _error(results, name):
    result = results[name]
    assert result.get("error") == "XlwingsError", result
    return result["message"]


def test_meta_lists_every_function_with_its_parameters(officejs):
    meta, _ = officejs
    functions = {f["name"]: f for f in meta["functions"]}
    assert sorted(functions) == sorted(u.__all__)
    for name, entry in functions.items():
        python = inspect.signature(getattr(u, name))
        assert [p["name"] for p in entry["parameters"]] == list(python.parameters), name
        for param, spec in zip(entry["parameters"], python.parameters.values()):
            assert param.get("optional", False) is (spec.default is not inspect.Parameter.empty), (name, param)
            assert param["description"] and not param["description"].startswith("Positional argument")
        assert entry["description"] == getattr(u, name).__doc__
        assert entry["result"] == {"dimensionality": "matrix", "type": "any"}
    assert meta["allowErrorForDataTypeAny"] is True  # error cells reach Python instead of failing in Excel


def test_trend_spill_through_officejs_matches_the_plain_call(officejs):
    _, results = officejs
    value = _value(results, "trend")
    plain = u.EMA2_TREND(
        [["Date", "A", "B"]] + [[SERIAL0 + t, 100 * 1.01**t, None if t < 2 else 100 * 0.99**t] for t in range(5)],
        10,
    )
    # blanks (a fund not started yet) come back as empty cells, numbers as numbers
    expected = [[("" if v is None else v) for v in row] for row in plain]
    assert value == expected
    assert value[0] == ["A", "B"] and value[1] == [0.0, ""] and value[3][1] == 0.0
    # empty cells ([[""]]) for the optional k, header and dates mean their defaults
    assert _value(results, "trend_defaults_as_blank_cells") == u.EMA2_TREND(price_grid(5), 10)
    # k = 21 given as [[21]]: EMA2 after one +10 % day with tc 2 = 0.5 * 0.5 * 21 * 0.1
    assert _value(results, "trend_k21") == [[0.0], [pytest.approx(0.525)]]


def test_error_cells_and_bad_scalars_become_messages_in_the_cell(officejs):
    _, results = officejs
    assert "prices: price cell at row 3, column 1 (A) holds the error value #N/A" in _error(results, "trend_error_cell")
    assert _error(results, "trend_tc_error_cell") == "tc must be a number, got the error value #N/A"
    assert _error(results, "trend_tc_text") == "tc must be a number, got the text 'fifty'"
    assert _error(results, "trend_tc_missing") == "tc is required"
    assert "stormguard must be one of off, standard, quick" in _error(results, "pick_bad_stormguard")
    assert "too few rows" in _error(results, "too_short")


def test_weights_and_momentum_through_officejs(officejs):
    _, results = officejs
    assert _value(results, "weights") == [[pytest.approx(0.0088)], [pytest.approx(0.017248)], [""]]
    assert _value(results, "weights_count") == [[pytest.approx(0.44)], [pytest.approx(0.4312)], [pytest.approx(0.422576)]]
    assert _value(results, "momentum") == [[""], [""], [pytest.approx(0.21)]]
    assert _value(results, "weights_row") == [[pytest.approx(0.44), pytest.approx(0.4312)]]  # stays a row


def test_rotation_functions_through_officejs(officejs):
    _, results = officejs
    assert _value(results, "pick") == [["A"]]
    assert _value(results, "pick_as_of_serial") == [["A"]]
    picks = _value(results, "picks")
    assert picks[0] == ["Date", "Holding"] and [row[1] for row in picks[1:]] == ["CASH", "A"]
    # dates go back to Excel as date-formatted serial numbers (runtime 1.4+)
    first = picks[1][0]
    assert first["type"] == "FormattedNumber" and first["numberFormat"] == "yyyy-mm-dd"
    assert first["basicValue"] == SERIAL0 + 22  # the period starts once both funds have 22 days of history
    cagr = _value(results, "cagr")
    assert len(cagr) == 1 and len(cagr[0]) == 1 and cagr[0][0] > 1.0  # +1 %/day compounds to > 100 % a year
    metrics = _value(results, "metrics")
    assert metrics[0] == ["Metric", "Value", "Definition"]
    assert all(len(row) == 3 for row in metrics)


def test_stormguard_through_officejs(officejs):
    _, results = officejs
    assert _value(results, "sg_state") == [["BEAR"]]
    history = _value(results, "sg_history")
    assert history[0] == ["Date", "Indicator", "State"]
    assert [row[0]["basicValue"] for row in history[1:]] == [SERIAL0, SERIAL0 + 1, SERIAL0 + 2]
    assert [row[2] for row in history[1:]] == ["BULL"] * 3


def test_tuning_tables_through_officejs(officejs):
    _, results = officejs
    chart = _value(results, "trend_chart")
    assert chart[0][0] == "tc" and chart[0][2:] == ["CAGR", "Switches", "Max drawdown"]
    assert [row[0] for row in chart[1:]] == [2.0, 6.0, 10.0]
    # FWPT needs five years of data before the born-on date: a clear message, not a number
    assert "born_on" in _error(results, "fwpt_too_short")


@pytest.mark.parametrize("name", ["dup_pick", "dup_picks", "dup_cagr", "dup_metrics", "dup_trend_chart",
                                  "dup_fwpt_bear"])
def test_duplicate_dates_in_index_or_bear_are_a_message_through_officejs(officejs, name):
    _, results = officejs
    message = _error(results, name)
    assert "duplicate dates" in message and "reindex" not in message
