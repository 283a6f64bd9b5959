"""The "Refresh data" button against an xlwings Book built from Excel's JSON (the Office.js path).

In a fresh interpreter with ``XLWINGS_ON_SERVER=true`` and ``XLWINGS_LICENSE_KEY=noncommercial``, the
workbook is ``xw.Book(json=...)`` shaped as the xlwings Office.js client sends it (sheets with their
values, dates as serial numbers, empty cells as "", book-level names with sheet index and address), and
xlwings' own ``custom_scripts_call`` runs the ``refresh_data`` script of ``udfs/scripts.py``. The network
boundary (``xlsector.data.yahoo.yahoo_download``, the call into yfinance) is replaced by a stub returning
a yfinance-shaped frame. The returned actions are what Excel would apply.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

DRIVER = textwrap.dedent(
    """
    import asyncio, json, sys
    import numpy as np
    import pandas as pd
    import xlwings as xw
    from xlwings.server import custom_scripts_call, custom_scripts_meta
    import xlsector.data.yahoo as yahoo
    import udfs.scripts as scripts

    case = json.load(sys.stdin)
    calls = []

    def fake_download(tickers, start, end=None, session=None):
        # yfinance.download(auto_adjust=False) shape: MultiIndex columns (field, ticker)
        calls.append({"tickers": list(tickers), "start": start})
        days = pd.bdate_range("2020-01-02", periods=4)
        growth = {"XLK": 0.01, "XLF": 0.02, "^GSPC": 0.005}
        frame = pd.DataFrame(
            {("Adj Close", t): 50.0 * (1 + growth.get(t, 0.0)) ** np.arange(4) for t in tickers
             if t not in case["fail"]},
            index=days,
        )
        frame.columns = pd.MultiIndex.from_tuples(frame.columns)
        return frame, [f"${t}: possibly delisted; no price data found" for t in case["fail"]]

    yahoo.yahoo_download = fake_download  # the network boundary
    book = xw.Book(json=case["payload"])
    result = asyncio.run(custom_scripts_call(scripts, "refresh_data", typehint_to_value={xw.Book: book}))
    json.dump({"actions": result.json()["actions"], "calls": calls, "meta": custom_scripts_meta(scripts)},
              sys.stdout, default=str)
    """
)


def _name(name: str, sheet: int, address: str) -> dict:
    return {"name": name, "sheet_index": sheet, "address": address, "book_scope": True,
            "scope_sheet_name": None, "scope_sheet_index": None}  # fmt: skip


def payload() -> dict:
    """A small fwpt-like workbook: Start (provenance names), Settings (names), Data (serial dates)."""
    provenance = ["DataSource", "DataFirstDate", "DataLastDate", "DataFetched", "DataTickers"]
    return {
        "client": "Office.js",
        "version": "0.37.8",
        "book": {"name": "fwpt.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": [_name("Funds", 1, "B2"), _name("MarketIndex", 1, "B3"), _name("RefreshStart", 1, "B4"),
                  _name("BearFunds", 1, "B5")]
        + [_name(n, 0, f"B{i + 2}") for i, n in enumerate(provenance)],
        "sheets": [
            {"name": "Start", "values": [["Data", ""], ["Source", "bundled sample"], ["First", ""], ["Last", ""],
                                         ["Fetched", ""], ["Tickers", ""]], "pictures": [], "tables": []},
            {"name": "Settings", "values": [["Setting", "Value"], ["Funds", "XLK, XLF"], ["MarketIndex", "^GSPC"],
                                            ["RefreshStart", 43832], ["BearFunds", ""]], "pictures": [], "tables": []},
            {"name": "Data", "values": [["Date", "XLK", "XLF", "^GSPC"], [43832, 50.0, 50.0, 50.0],
                                        [43833, 50.5, 51.0, 50.25]], "pictures": [], "tables": []},
        ],
    }  # fmt: skip


def run_refresh(tmp_path: Path, fail: list[str]) -> dict:
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial",
               XLSECTOR_CACHE_DIR=str(tmp_path / "cache"))  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with stderr shown
        [sys.executable, "-c", DRIVER], input=json.dumps({"payload": payload(), "fail": fail}),
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _writes(actions: list[dict], sheet_position: int) -> list[dict]:
    return [a for a in actions if a["func"] == "setValues" and a["sheet_position"] == sheet_position]


def test_refresh_script_writes_data_and_provenance_then_recalculates(tmp_path):
    out = run_refresh(tmp_path, fail=[])
    # the Data columns and the Settings tickers, from RefreshStart (serial 43832 = 2020-01-02)
    assert out["calls"] == [{"tickers": ["XLK", "XLF", "^GSPC"], "start": "2020-01-02"}]
    actions = out["actions"]
    funcs = [a["func"] for a in actions]
    assert funcs[0] == "rangeClearContents" and actions[0]["sheet_position"] == 2  # old Data cleared first
    (data,) = _writes(actions, 2)
    assert (data["start_row"], data["start_column"]) == (0, 0)
    values = data["values"]
    assert values[0] == ["Date", "XLK", "XLF", "^GSPC"]
    assert [row[0] for row in values[1:]] == ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"]
    # the download reaches back to each ticker's first date in the sheet, so it replaces the column
    assert values[1][1:] == [50.0, 50.0, 50.0]
    assert values[4][1:] == [pytest.approx(50 * 1.01**3), pytest.approx(50 * 1.02**3), pytest.approx(50 * 1.005**3)]
    stamps = {a["start_row"]: a["values"][0][0] for a in _writes(actions, 0)}
    assert stamps[1].startswith("Yahoo Finance")  # DataSource (Start!B2)
    assert stamps[2] == "2020-01-02" and stamps[3] == "2020-01-07"  # DataFirstDate, DataLastDate
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", stamps[4])  # DataFetched: the download time (UTC)
    assert stamps[5] == "XLK, XLF, ^GSPC"  # DataTickers
    assert funcs.index("calculate") > max(i for i, a in enumerate(actions) if a["func"] == "setValues")
    alert = actions[-1]
    assert alert["func"] == "alert" and alert["args"][1] == "xlsector: Refresh data"
    assert "Refreshed fwpt.xlsx: 3 tickers, 2020-01-02 to 2020-01-07" in alert["args"][0]


def test_failed_download_leaves_the_data_sheet_untouched_and_names_the_tickers(tmp_path):
    out = run_refresh(tmp_path, fail=["XLF"])
    actions = out["actions"]
    assert [a["func"] for a in actions] == ["alert"]  # no clear, no write, no provenance, no recalculation
    message = actions[0]["args"][0]
    assert "nothing written" in message and "download failed for 1 ticker" in message
    assert "XLF: possibly delisted; no price data found" in message
    assert "XLK" not in message.split("ticker", 1)[1]  # only the failed ticker is named


def test_script_is_registered_for_office_js(tmp_path):
    out = run_refresh(tmp_path, fail=[])
    scripts = {m["function_name"]: m for m in out["meta"]}
    assert set(scripts) == {"refresh_data", "recalculate"}
    meta = scripts["refresh_data"]
    assert meta["name"] == "Refresh data" and meta["include"] == "Start,Settings,Data"
    assert scripts["recalculate"]["name"] == "Recalculate"


# ------------------------------------------------------------------------------ the shared path, in process


class FakeBook:
    """A BookAccess double: settings by name, Data cells, and a record of what the refresh did."""

    name = "fwpt.xlsx"

    def __init__(self, settings: dict, data: list[list] | None):
        self.settings, self.data = settings, data
        self.written = None
        self.recalculated = 0
        self.alerts: list[str] = []

    def named_values(self, names):
        return {n: self.settings[n] for n in names if n in self.settings}

    def data_cells(self):
        return self.data

    def write(self, prices, provenance):
        self.written = (prices, provenance)

    def recalculate(self):
        self.recalculated += 1

    def alert(self, text, title):
        self.alerts.append(text)


def stub(frames: dict):
    """A downloader at the network boundary returning the given price series (yfinance's shape)."""
    import pandas as pd

    def download(tickers, start, end=None, session=None):
        frame = pd.DataFrame({("Adj Close", t): frames[t] for t in tickers if t in frames})
        frame.columns = pd.MultiIndex.from_tuples(frame.columns)
        return frame, []

    return download


def test_refresh_workbook_fills_an_empty_workbook_from_the_settings(tmp_path):
    import pandas as pd

    from xlsector.addin.refresh import refresh_workbook

    days = pd.bdate_range("2021-03-01", periods=5)
    frames = {"XLK": pd.Series([10.0, 10.1, 10.2, 10.3, 10.4], index=days),
              "^GSPC": pd.Series([100.0, 100.5, 101.0, 101.5, 102.0], index=days)}  # fmt: skip
    book = FakeBook({"Funds": "XLK", "MarketIndex": "^GSPC", "RefreshStart": None}, None)
    report = refresh_workbook(book, downloader=stub(frames), cache_dir=tmp_path)
    assert report.written and report.start == "1990-01-01"  # no RefreshStart, no Data: the default start
    prices, provenance = book.written
    assert list(prices.columns) == ["XLK", "^GSPC"] and len(prices) == 5
    assert provenance.first_date.isoformat() == "2021-03-01" and provenance.last_date.isoformat() == "2021-03-05"
    assert book.recalculated == 1


def test_refresh_workbook_stops_on_a_new_jump_no_peer_made(tmp_path):
    import pandas as pd

    from xlsector.addin.refresh import refresh_workbook
    from xlsector.data.refresh import RefreshError

    days = pd.bdate_range("2021-03-01", periods=6)
    frames = {"XLK": pd.Series([10.0, 10.1, 20.2, 20.3, 20.4, 20.5], index=days),  # +100 % on day 3 alone
              "XLF": pd.Series([30.0, 30.1, 30.2, 30.3, 30.4, 30.5], index=days),
              "XLV": pd.Series([50.0, 50.2, 50.3, 50.5, 50.6, 50.8], index=days)}  # fmt: skip
    book = FakeBook({"Funds": "XLK, XLF, XLV"}, [["Date", "XLK", "XLF", "XLV"]])
    with pytest.raises(RefreshError, match="jump guard flagged 1 one-day move") as info:
        refresh_workbook(book, downloader=stub(frames), cache_dir=tmp_path)
    assert "XLK moved +100.0% on 2021-03-03" in info.value.report.jumps[0]
    assert book.written is None and book.recalculated == 0  # nothing written
    assert refresh_workbook(book, downloader=stub(frames), cache_dir=tmp_path, accept_jumps=True).written


def test_refresh_workbook_needs_tickers(tmp_path):
    from xlsector.addin.refresh import refresh_workbook
    from xlsector.errors import DataError

    book = FakeBook({"Funds": ""}, None)
    with pytest.raises(DataError, match="no tickers to refresh; fill the Funds setting"):
        refresh_workbook(book, downloader=stub({}), cache_dir=tmp_path)
    assert book.written is None


def test_file_book_gives_the_same_workbook_as_the_data_packages_refresh(tmp_path):
    """The CLI can share the button's path: refresh_workbook(FileBook(path)) == xlsector.data.refresh.refresh_file."""
    import numpy as np
    import pandas as pd

    from xlsector.addin.refresh import FileBook, refresh_workbook
    from xlsector.cli import main as cli_main
    from xlsector.data.refresh import refresh_file
    from xlsector.data.workbook import read_data_sheet, read_named_values

    first = tmp_path / "a.xlsx"
    assert cli_main(["template", str(first)]) == 0
    second = tmp_path / "b.xlsx"
    second.write_bytes(first.read_bytes())
    settings = read_named_values(first, ["Funds", "MarketIndex"])
    tickers = [t.strip() for t in settings["Funds"].split(",")] + [settings["MarketIndex"]]
    days = pd.bdate_range("2020-01-02", periods=30)
    frames = {t: pd.Series(100.0 * (1 + 0.001 * (i + 1)) ** np.arange(30), index=days) for i, t in enumerate(tickers)}

    report_a = refresh_file(first, downloader=stub(frames), cache_dir=tmp_path / "cache")
    book = FileBook(second)
    report_b = refresh_workbook(book, downloader=stub(frames), cache_dir=tmp_path / "cache")
    assert report_a.written and report_b.written
    assert report_a.tickers == report_b.tickers and report_a.start == report_b.start == "1990-01-02"
    a, b = read_data_sheet(first), read_data_sheet(second)
    pd.testing.assert_frame_equal(a.prices, b.prices)
    assert a.prices.shape == (30, len(tickers))
    assert (a.provenance.source, a.provenance.first_date, a.provenance.last_date) == (
        b.provenance.source, b.provenance.first_date, b.provenance.last_date)  # fmt: skip


# ------------------------------------------------------------------------------ the Recalculate button

RECALC_DRIVER = textwrap.dedent(
    """
    import asyncio, json, sys
    import xlwings as xw
    from xlwings.server import custom_scripts_call
    import udfs.scripts as scripts

    book = xw.Book(json=json.load(sys.stdin))
    result = asyncio.run(custom_scripts_call(scripts, "recalculate", typehint_to_value={xw.Book: book}))
    json.dump(result.json()["actions"], sys.stdout, default=str)
    """
)


def recalc_payload(prices) -> dict:
    """A template-like workbook: every Settings name (their defaults), Data from ``prices``, a Momentum sheet."""
    import datetime as dt

    from xlsector.contract import SETTINGS

    def cell(value):
        if isinstance(value, dt.date):
            return (dt.datetime(value.year, value.month, value.day) - dt.datetime(1899, 12, 30)).days
        return "" if value is None else value

    settings = [["Setting", "Value"]] + [[s.name, cell(s.default)] for s in SETTINGS]
    serials = (prices.index - dt.datetime(1899, 12, 30)).days.tolist()
    data = [["Date", *map(str, prices.columns)]] + [[s, *row] for s, row in zip(serials, prices.to_numpy().tolist())]
    return {
        "client": "Office.js", "version": "0.37.8",
        "book": {"name": "fwpt.xlsx", "active_sheet_index": 0, "selection": "A1"},
        "names": [_name(s.name, 0, f"B{i + 2}") for i, s in enumerate(SETTINGS)],
        "sheets": [{"name": "Settings", "values": settings, "pictures": [], "tables": []},
                   {"name": "Data", "values": data, "pictures": [], "tables": []},
                   {"name": "Momentum", "values": [["Momentum", ""], ["old text", ""]], "pictures": [],
                    "tables": []}],
    }  # fmt: skip


def run_recalculate(book: dict) -> list[dict]:
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with stderr shown
        [sys.executable, "-c", RECALC_DRIVER], input=json.dumps(book), capture_output=True, text=True, env=env,
        cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_recalculate_writes_the_renders_momentum_tables_in_place():
    from xlsector.addin.refresh import CellSink
    from xlsector.contract import read_settings
    from xlsector.data import load_sample
    from xlsector.workbook.compute import momentum
    from xlsector.workbook.inputs import split_inputs
    from xlsector.workbook.sheet_momentum import write_momentum

    prices = load_sample().prices
    actions = run_recalculate(recalc_payload(prices))
    writes = _writes(actions, 2)  # the Momentum sheet
    assert len(writes) == 1 and writes[0]["start_row"] == 2  # from row 3: titles of the render stay
    settings = read_settings({})
    expected = CellSink()
    write_momentum(expected, momentum(split_inputs(prices, settings), settings))  # what the render writes
    rows = writes[0]["values"]
    assert rows[0][0] == expected.rows(3)[0][0] and len(rows) == len(expected.rows(3))
    lookback = next(i for i, row in enumerate(rows) if row[0] == "lookback")
    assert [r[0] for r in rows[lookback + 1: lookback + 10]] == list(range(118, 135, 2))
    funcs = [a["func"] for a in actions]
    assert funcs.index("calculate") > funcs.index("setValues") and funcs[-1] == "alert"


def test_recalculate_on_bad_data_changes_nothing_and_says_why():
    from xlsector.data import load_sample

    book = recalc_payload(load_sample().prices.iloc[:400])
    book["sheets"][1]["values"][5][2] = "n/a"  # text in a price cell
    actions = run_recalculate(book)
    assert [a["func"] for a in actions] == ["alert"]
    message = actions[0]["args"][0]
    assert "nothing changed" in message and "holds the text 'n/a'" in message
