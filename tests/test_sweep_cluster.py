"""The sweep on a real Dask LocalCluster of worker processes (two workers, one thread each): rows equal to the
core run alone, a worker killed mid-sweep, an interrupted sweep resumed, Ctrl-C on the command line.

Kept small for CI: one cluster for the module, short tc grids where the test is about the machinery, the full
grid where it is about the numbers."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from xlsector.params import TuningParams
from xlsector.sweep import ClusterOptions, SweepInterrupted, SweepSpec, run_sweep
from xlsector.sweep.cluster import connect, workers_info
from xlsector.sweep.store import SweepStore

SECTORS = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "XLC", "XLRE", "SPY")
SIX = ("XLB", "XLE", "XLK", "XLP", "XLU", "XLV")
SHORT_GRID = TuningParams(tc_min=20, tc_max=140, tc_step=10)


@pytest.fixture(scope="module")
def etf(etf_prices):
    from xlsector.data import validate_prices

    return validate_prices(etf_prices, jump_threshold=None)[0]


@pytest.fixture(scope="module")
def client():
    with connect(ClusterOptions(workers=2), {}) as (opened, _):
        yield opened


@pytest.fixture(scope="module")
def machinery_spec():
    """6 funds choose 3 = 20 combinations on a 13-tc grid: what the kill, interrupt and resume tests run."""
    return SweepSpec(funds=SIX, choose=(3,), tuning=SHORT_GRID)


@pytest.fixture(scope="module")
def reference(etf, machinery_spec, tmp_path_factory):
    """The same sweep in this process, without Dask: the rows every cluster run must reproduce."""
    path = tmp_path_factory.mktemp("reference") / "s.sqlite"
    report = run_sweep(etf, machinery_spec, store=path, in_process=True)
    with SweepStore.open(path) as store:
        return store.frame(), report


def _stored(path) -> pd.DataFrame:
    with SweepStore.open(path) as store:
        return store.frame()


def _decode(runs: str, index: pd.Index, kind=str) -> np.ndarray:
    starts, values = zip(*(part.split(":", 1) for part in runs.split()))
    lengths = np.diff([*map(int, starts), len(index)])
    return np.repeat([kind(v) for v in values], lengths)


def test_workers_use_one_numba_thread_each_and_are_warmed_once(client):
    infos = workers_info(client)
    assert len(infos) == 2
    assert all(info.numba_threads == 1 for info in infos)  # NUMBA_NUM_THREADS = the worker's one thread
    assert all(info.threads == 1 for info in infos)
    assert all(math.isfinite(info.warm_seconds) for info in infos)  # the plugin's warm-up ran in each
    assert len({info.pid for info in infos} | {os.getpid()}) == 3  # separate processes


def test_five_random_combinations_equal_each_combination_run_alone(etf, client, tmp_path):
    from xlsector.tuning import fwpt, trend_chart

    spec = SweepSpec(funds=SECTORS, choose=(4,), sample=5, seed=13)  # the full grid, tc 2..200
    report = run_sweep(etf, spec, store=tmp_path / "s.sqlite", cluster=ClusterOptions(client=client, batch=2))
    assert report.done == 5
    for row in report.table.itertuples():
        prices = etf[row.funds.split(",")]
        chart = trend_chart(prices)
        walk = fwpt(prices)
        table = walk.metrics()
        assert (row.peak_tc, row.plateau_lo, row.plateau_hi) == (chart.peak_tc, *chart.plateau)
        np.testing.assert_array_equal(_decode(row.tc_path, walk.tc.index, float), walk.tc.to_numpy())  # tc path
        np.testing.assert_array_equal(_decode(row.holdings, walk.holdings.index), walk.holdings.to_numpy())
        assert (row.current_tc, row.is_tc, row.born_on) == (walk.current_tc, walk.in_sample_tc,
                                                            f"{walk.born_on:%Y-%m-%d}")
        assert row.tunings == walk.retunes["tries"].sum()
        for field, label, column in [("oos_cagr", "CAGR", "walk_forward"), ("oos_sharpe", "Sharpe ratio", "walk_forward"),
                                     ("oos_max_drawdown", "Max drawdown", "walk_forward"),
                                     ("oos_trades", "Trades", "walk_forward"),
                                     ("is_cagr", "CAGR", "in_sample_best"),
                                     ("is_sharpe", "Sharpe ratio", "in_sample_best"),
                                     ("is_max_drawdown", "Max drawdown", "in_sample_best"),
                                     ("bench_cagr", "CAGR", "benchmark"), ("bench_sharpe", "Sharpe ratio", "benchmark")]:
            assert abs(getattr(row, field) - table.at[label, column]) <= 1e-12, (row.funds, field)


def test_a_worker_killed_mid_sweep_still_gives_every_combination_exactly_once(etf, client, machinery_spec,
                                                                              reference, tmp_path):
    before = client.run(os.getpid)
    killed: list[int] = []

    def kill_one(_batch) -> None:
        if not killed:
            pid = min(before.values())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    path = tmp_path / "s.sqlite"
    report = run_sweep(etf, machinery_spec, store=path, cluster=ClusterOptions(client=client, batch=1),
                       on_batch=kill_one)
    assert killed and report.done == report.planned == 20
    with sqlite3.connect(path) as db:
        ids = [i for (i,) in db.execute("SELECT id FROM results ORDER BY id")]
    assert ids == list(range(20))  # each plan id once
    pd.testing.assert_frame_equal(_stored(path), reference[0], check_exact=True)
    client.wait_for_workers(2, timeout=120)  # the nanny restarted the killed worker
    after = client.run(os.getpid)
    assert killed[0] not in after.values() and len(after) == 2


def test_an_interrupted_sweep_resumed_gives_the_same_final_table(etf, client, machinery_spec, reference, tmp_path):
    path = tmp_path / "s.sqlite"
    seen: list[int] = []

    def stop_after_two(batch) -> None:
        seen.append(len(batch.rows))
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as stop:
        run_sweep(etf, machinery_spec, store=path, cluster=ClusterOptions(client=client, batch=2),
                  on_batch=stop_after_two)
    assert stop.value.done == 4 and stop.value.planned == 20  # what was stored before Ctrl-C is kept
    assert len(_stored(path)) == 4
    resumed = run_sweep(etf, machinery_spec, store=path, resume=True, cluster=ClusterOptions(client=client, batch=3))
    pd.testing.assert_frame_equal(_stored(path), reference[0], check_exact=True)
    pd.testing.assert_frame_equal(resumed.table, reference[1].table, check_exact=True)
    assert resumed.trials == reference[1].trials and resumed.pbo.pbo == reference[1].pbo.pbo


def test_resuming_with_other_arguments_is_an_error_before_any_work(etf, client, machinery_spec, tmp_path):
    from xlsector.errors import XlsectorError

    path = tmp_path / "s.sqlite"
    SweepStore.create(path, spec=machinery_spec.to_dict(), fingerprint="not these prices", plan=[SIX[:3]]).close()
    with pytest.raises(XlsectorError, match="was made from other prices"):
        run_sweep(etf, machinery_spec, store=path, resume=True, cluster=ClusterOptions(client=client))
    other = SweepSpec(funds=SIX, choose=(2,), tuning=SHORT_GRID)
    with pytest.raises(XlsectorError, match=r"holds another sweep: choose was \[3\], now \[2\]"):
        run_sweep(etf, other, store=path, resume=True, cluster=ClusterOptions(client=client))


def test_ctrl_c_on_the_command_line_keeps_what_is_done_and_resume_finishes(shared_data, reference, tmp_path):
    """A real SIGINT to `xlsector sweep` (its own local cluster): exit 130 with the resume hint, the store keeps
    the finished batches; `--resume` completes the same table, printed as JSON and written as CSV."""
    store = tmp_path / "s.sqlite"
    argv = [sys.executable, "-m", "xlsector", "sweep", "--prices", str(shared_data / "etf_adjclose_daily.csv"),
            "--funds", ",".join(SIX), "--choose", "3", "--tc-min", "20", "--tc-max", "140", "--tc-step", "10",
            "--workers", "1", "--batch", "1", "--store", str(store)]
    env = {**os.environ, "XLSECTOR_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if store.exists():
            with sqlite3.connect(store) as db:
                try:
                    if db.execute("SELECT COUNT(*) FROM results").fetchone()[0] >= 1:
                        break
                except sqlite3.OperationalError:  # the tables are being created
                    pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    done = len(_stored(store))
    assert proc.returncode == 130, err
    assert 1 <= done < 20
    assert f"Interrupted: {done:,} of 20 combinations are stored in {store}; run the same command with --resume" in err
    assert "Traceback" not in err
    csv = tmp_path / "table.csv"
    finished = subprocess.run([*argv, "--resume", "--json", "--output", str(csv)], env=env, capture_output=True,
                              text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr
    import json

    summary = json.loads(finished.stdout)
    assert summary["done"] == summary["planned"] == 20 and summary["complete"]
    pd.testing.assert_frame_equal(_stored(store), reference[0], check_exact=True)
    table = pd.read_csv(csv)
    assert list(table["funds"]) == list(reference[1].table["funds"]) and list(table["rank"]) == list(range(1, 21))


def test_a_running_cluster_by_its_scheduler_address(etf, client, reference, tmp_path):
    """--scheduler tcp://...: a new client to a running cluster (here the module's), the same rows."""
    spec = SweepSpec(funds=SIX, choose=(3,), tuning=SHORT_GRID, sample=4, seed=2)
    address = client.scheduler.address
    assert address.startswith("tcp://")
    report = run_sweep(etf, spec, store=tmp_path / "s.sqlite", cluster=ClusterOptions(scheduler=address, batch=1))
    frame = _stored(tmp_path / "s.sqlite")
    expected = reference[0].set_index("funds").loc[frame["funds"]].reset_index()
    pd.testing.assert_frame_equal(frame.drop(columns="id"), expected.drop(columns="id")[frame.drop(columns="id").columns],
                                  check_exact=True)
    assert report.done == 4
