"""Two writers of one workbook, as two real processes: the second waits for the first (or refuses, when told not to
wait) and then reads what the first wrote; no update is lost. The lock file goes when the lock is released."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from .data_workbooks import random_walk
from .test_hostile_inputs import small_book
from .yahoo_fake import FakeYahoo

REPO = Path(__file__).resolve().parents[1]

HOLD = textwrap.dedent("""
    import sys, time
    from xlsector.fileio import workbook_lock
    with workbook_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()  # until the test closes our stdin
""")

REFRESH = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import yfinance as yf
    yf.set_tz_cache_location(sys.argv[4])
    from tests.yahoo_fake import LoopbackSession
    import xlsector.data.yahoo as yahoo
    yahoo._default_session = lambda: LoopbackSession(int(sys.argv[2]), impersonate="chrome")
    from xlsector.cli import main
    raise SystemExit(main(["refresh", sys.argv[3], *sys.argv[5:]]))
""")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "XLSECTOR_HOME": str(tmp_path / "home"), "XLSECTOR_CACHE_DIR": str(tmp_path / "cache"),
            **extra}


def test_a_second_writer_refuses_or_waits_while_the_first_holds_the_workbook(tmp_path):
    book = small_book(tmp_path / "book.xlsx")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(book)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=_env(tmp_path))
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = book.read_bytes()
        refused = subprocess.run([sys.executable, "-m", "xlsector", "render", str(book), "-q"], capture_output=True,
                                 text=True, timeout=120, env=_env(tmp_path, XLSECTOR_LOCK_WAIT="0"), check=False)
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines()[-1] == (
            f"Error: {book} is being written by another xlsector process (lock file .book.xlsx.xlsector.lock); "
            "try again when it has finished")
        assert book.read_bytes() == before
        waiting = subprocess.Popen([sys.executable, "-m", "xlsector", "render", str(book)], stderr=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, env=_env(tmp_path, XLSECTOR_LOCK_WAIT="60"))
        time.sleep(3)
        assert waiting.poll() is None and book.read_bytes() == before  # still waiting, nothing written
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    _out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "waiting: " in err and "being written by another xlsector process" in err
    assert book.read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".book")) == []


@pytest.mark.parametrize("first, options", [("refresh", ["--no-render"]), ("render", ["--no-render"]),
                                            ("refresh", [])])
def test_refresh_and_render_started_together_lose_no_update(tmp_path, first, options):
    dates = pd.bdate_range("2019-01-01", periods=325)
    full = random_walk(["AAA", "BBB", "IDX"], dates, seed=5)
    book = small_book(tmp_path / "book.xlsx", prices=full.iloc[:300])
    fake = FakeYahoo()
    try:
        for ticker in full.columns:
            fake.tickers[ticker] = full[ticker]
        refresh = [sys.executable, "-c", REFRESH, str(REPO), str(fake.port), str(book), str(tmp_path / "tz"), *options]
        render = [sys.executable, "-m", "xlsector", "render", str(book), "-q"]
        env = _env(tmp_path, XLSECTOR_LOCK_WAIT="300")
        order = [refresh, render] if first == "refresh" else [render, refresh]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for cmd in order]
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        fake.close()
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err[-3000:]
    from xlsector.data.workbook import read_data_sheet

    prices = read_data_sheet(book).prices
    assert len(prices) == 325 and prices.index[-1] == dates[-1]  # the refresh's 25 new rows are there
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".book")) == []
