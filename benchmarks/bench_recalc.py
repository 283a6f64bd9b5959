"""Recalculation of the live workbook through the Excel functions' own call path (issue 11). Not a test.

Renders the template on the bundled sample (8313 days x 10 funds + the index), collects every xlsector
formula of the rendered file (array formulas and single cells) and the cells each argument names
(DataTable, the Settings names, cell references), and replays them the way Excel calls them:

* ``officejs``: through xlwings' ``custom_functions_call`` in a fresh interpreter with
  ``XLWINGS_ON_SERVER=true`` (xlwings Server / Lite), payloads shaped as Excel sends them (2-D lists, dates as
  serial numbers, blanks as "", omitted arguments as null);
* ``python``: the plain functions (classic xlwings hands them the same lists).

Each round recomputes every formula of the workbook; timings are process CPU seconds of the replay loop:

1. ``first``: after one warm-up call (numba loaded), with empty result caches;
2. ``TrendConstant 60``: the setting changed, every formula recomputed (what Excel's full recalculation
   asks of the add-in); the tuning tables do not read TrendConstant, so their results come from the cache;
3. ``Hysteresis 0.02``: a setting every table reads, so the tc grid runs again.

    python benchmarks/bench_recalc.py [--repeat 5] [--path officejs|python|both]

Target (issue 11): <= 0.5 s of Python for recomputing every formula after a setting change, warm process.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EPOCH = dt.datetime(1899, 12, 30)


def _excel(value):
    """A cell value as Office.js sends it: dates as serial numbers, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (value - EPOCH).total_seconds() / 86400.0
    return value


def _arguments(text: str, functions) -> tuple[str, list[str]]:
    """(function, argument texts) of the xlsector call in a formula (inside INDEX(...) if need be)."""
    for name in functions:
        at = text.find(name + "(")
        if at < 0 or (at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_")):
            continue
        depth, start, args = 0, at + len(name) + 1, []
        for i in range(start, len(text)):
            ch = text[i]
            if ch == "(":
                depth += 1
            elif ch == ")" and depth:
                depth -= 1
            elif ch in ",)" and depth == 0:
                args.append(text[start:i])
                start = i + 1
                if ch == ")":
                    return name, args
    raise ValueError(text)


def collect(path: Path) -> dict:
    """Every xlsector formula of the rendered workbook as (function, argument specs): "DATA" (the Data
    table), "=Name" (a Settings cell, resolved at replay so a setting can change), or the cells themselves."""
    import openpyxl

    from xlsector.contract import DATA_TABLE, SETTING_NAMES, named_values
    from xlsector.render import excel_functions
    from xlsector.xlsx import read_sheet_grid

    functions = excel_functions()
    grid = read_sheet_grid(path.read_bytes(), "Data")
    data = [[_excel(v) for v in row] for row in grid.tolist()]
    wb = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    calls = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                text = getattr(cell.value, "text", cell.value)
                if not (isinstance(text, str) and text.startswith("=") and any(f + "(" in text for f in functions)):
                    continue
                name, texts = _arguments(text, functions)
                specs: list = []
                for arg in (t.strip() for t in texts):
                    if arg == "":
                        specs.append(None)
                    elif arg == DATA_TABLE:
                        specs.append("DATA")
                    elif arg in SETTING_NAMES:
                        specs.append("=" + arg)
                    elif arg.startswith('"'):
                        specs.append([[arg[1:-1]]])
                    elif arg in ("TRUE", "FALSE"):
                        specs.append([[arg == "TRUE"]])
                    elif arg.replace(".", "", 1).isdigit():
                        specs.append([[float(arg)]])
                    else:  # a cell or a range of the same sheet
                        found = cached[ws.title][arg.replace("$", "")]
                        rows = found if isinstance(found, tuple) else ((found,),)
                        specs.append([[_excel(c.value) for c in line] for line in rows])
                calls.append({"name": name, "args": specs})
    settings = {k: _excel(v) for k, v in named_values(wb, SETTING_NAMES).items()}
    return {"data": data, "calls": calls, "settings": settings}


DRIVER = textwrap.dedent(
    """
    import asyncio, json, os, sys, time
    import xlwings as xw
    from xlwings.server import custom_functions_call
    from udfs import xlsector_udfs as module
    from udfs import _cache

    job = json.load(sys.stdin)
    data, calls, settings = job["data"], job["calls"], job["settings"]
    rounds = job["rounds"]

    def resolve(spec, changed):
        if spec == "DATA":
            return data
        if isinstance(spec, str):  # "=Name": a Settings cell
            return [[changed.get(spec[1:], settings.get(spec[1:]))]]
        return spec

    def run(setting, value):
        changed = {} if setting is None else {setting: value}
        start = time.process_time()
        for call in calls:
            request = {"func_name": call["name"], "args": [resolve(a, changed) for a in call["args"]],
                       "caller_address": "Sheet1!A1", "formula_name": call["name"], "version": xw.__version__,
                       "client": "Office.js", "runtime": "1.4", "culture_info_name": "en-US",
                       "date_format": "yyyy-mm-dd"}
            asyncio.run(custom_functions_call(request, module))
        return time.process_time() - start

    results = {}
    for name, setting, value in rounds:
        times = []
        for _ in range(job["repeat"]):
            if name == "first":
                _cache.clear()
            times.append(run(setting, value))
            if setting is not None:
                run(None, None)  # back to the rendered settings, caches warm for the next repeat
        results[name] = times
    json.dump(results, sys.stdout)
    """
)

ROUNDS = [("first", None, None), ("TrendConstant 60", "TrendConstant", 60), ("Hysteresis 0.02", "Hysteresis", 0.02)]


def replay_officejs(job: dict, repeat: int) -> dict:
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    warm = [job["calls"][0]]
    job = dict(job, rounds=ROUNDS, repeat=repeat, calls=warm + job["calls"])
    proc = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(job), capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=1800, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout)


def replay_python(job: dict, repeat: int) -> dict:
    import time

    from udfs import _cache
    from xlsector.render import excel_functions

    functions = excel_functions()
    data = [[None if v == "" else v for v in row] for row in job["data"]]

    def args_of(call, setting, value):
        out = []
        for a in call["args"]:
            if a == "DATA":
                out.append(data)
            elif isinstance(a, str):  # "=Name": a Settings cell
                out.append([[value if a[1:] == setting else job["settings"].get(a[1:])]])
            else:
                out.append(a)
        return out

    def run(setting, value):
        from xlwings import XlwingsError

        start = time.process_time()
        for call in job["calls"]:
            with contextlib.suppress(XlwingsError):  # a cell's error message is a result too
                functions[call["name"]](*args_of(call, setting, value))
        return time.process_time() - start

    run(None, None)
    results = {}
    for name, setting, value in ROUNDS:
        times = []
        for _ in range(repeat):
            if name == "first":
                _cache.clear()
            times.append(run(setting, value))
            if setting is not None:
                run(None, None)
        results[name] = times
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--path", choices=["officejs", "python", "both"], default="both")
    args = parser.parse_args()
    from xlsector.render import render_workbook
    from xlsector.workbook.template import write_template

    with tempfile.TemporaryDirectory() as folder:
        path = write_template(Path(folder) / "fwpt.xlsx")
        render_workbook(path)
        job = collect(path)
    names = sorted({c["name"] for c in job["calls"]})
    print(f"{len(job['calls'])} formulas ({', '.join(names)}) over {len(job['data']) - 1} data rows x "
          f"{len(job['data'][0]) - 1} columns; CPU seconds of one full recalculation, {args.repeat} runs")
    paths = ["officejs", "python"] if args.path == "both" else [args.path]
    for which in paths:
        results = replay_officejs(job, args.repeat) if which == "officejs" else replay_python(job, args.repeat)
        for name, times in results.items():
            print(f"  {which:8s} {name:18s} median {statistics.median(times):6.3f} s  "
                  f"[{min(times):.3f}-{max(times):.3f}]")


if __name__ == "__main__":
    main()
