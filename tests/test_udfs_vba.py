"""The classic path (Windows, COM): the VBA wrappers that xlwings' "Import Functions" generates.

``xlwings.udfs`` imports pywin32 modules at the top, so a fresh interpreter stubs ``pythoncom``,
``pywintypes`` and ``win32com.client`` (only their names are touched at import time), binds ``xw.func``/
``xw.arg`` to the classic implementations exactly as ``xlwings/__init__.py`` does on Windows, imports the
UDF module and runs xlwings' own ``generate_vba_wrapper`` into a string — the text "Import Functions"
writes into the workbook's ``xlwings_udfs`` VBA module.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from udfs import xlsector_udfs as u

REPO = Path(__file__).resolve().parents[1]

DRIVER = textwrap.dedent(
    """
    import io, json, sys, types
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["win32com.client"].Dispatch = lambda *args, **kwargs: None
    sys.modules["win32com"].client = sys.modules["win32com.client"]
    import xlwings
    import xlwings.udfs as classic
    xlwings.func, xlwings.arg, xlwings.ret, xlwings.script = classic.xlfunc, classic.xlarg, classic.xlret, classic.xlsub
    module_name = sys.argv[1]
    import importlib
    module = importlib.import_module(module_name)

    class AddinWorkbook:
        Name = sys.argv[2]

    text = io.StringIO()
    classic.generate_vba_wrapper(module_name, module, text, AddinWorkbook())
    info = {
        name: {
            "category": f.__xlfunc__["category"],
            "doc": f.__xlfunc__["ret"]["doc"],
            "argdocs": [a["doc"] for a in f.__xlfunc__["args"]],
        }
        for name, f in vars(module).items() if hasattr(f, "__xlfunc__")
    }
    json.dump({"vba": text.getvalue(), "info": info}, sys.stdout)
    """
)


def generate(module_name: str, workbook: str) -> dict:
    env = dict(os.environ)
    env.pop("XLWINGS_ON_SERVER", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "udfs"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(  # noqa: PLW1510 - the return code is asserted with stderr shown
        [sys.executable, "-c", DRIVER, module_name, workbook], capture_output=True, text=True, env=env,
        cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def addin_wrappers() -> dict:
    # the add-in names the module "xlsector_udfs" (udfs/ on the PYTHONPATH); generated into xlsector.xlam
    return generate("xlsector_udfs", "xlsector.xlam")


def test_every_function_is_a_vba_function_with_its_arguments(addin_wrappers):
    vba = addin_wrappers["vba"]
    assert not re.search(r"^\s*Sub ", vba, re.MULTILINE), "a Sub would be a macro, not a worksheet function"
    declared = re.findall(r"^Function (\w+)\((.*)\)$", vba, re.MULTILINE)
    assert sorted(name for name, _ in declared) == sorted(u.__all__)
    for name, arglist in declared:
        params = inspect.signature(getattr(u, name)).parameters.values()
        expected = ", ".join(
            ("Optional " if p.default is not inspect.Parameter.empty else "") + p.name for p in params
        )
        assert arglist == expected, name
        call = f'{name} = XLPy.CallUDF("xlsector_udfs", "{name}", Array({", ".join(p.name for p in params)}), ActiveWorkbook, Application.Caller)'
        assert call in vba, name  # an add-in calls with ActiveWorkbook (the book using the function)
    # every function shows Python's error message in the cell instead of raising a VBA error dialog
    assert vba.count("On Error GoTo failed") == len(u.__all__)


def test_functions_are_in_one_category_with_help_for_every_argument(addin_wrappers):
    info = addin_wrappers["info"]
    assert set(info) == set(u.__all__)
    for name, entry in info.items():
        assert entry["category"] == "xlsector"
        assert entry["doc"] == getattr(u, name).__doc__ and len(entry["doc"]) <= 255  # MacroOptions limit
        assert all(doc and not doc.startswith("Positional argument") and len(doc) <= 255 for doc in entry["argdocs"])


def test_the_package_module_name_works_too():
    # after `pip install xlsector`, "UDF Modules" may name udfs.xlsector_udfs instead
    out = generate("udfs.xlsector_udfs", "fwpt.xlsm")
    assert 'EMA2_TREND = XLPy.CallUDF("udfs.xlsector_udfs", "EMA2_TREND", Array(prices, tc, k, header, dates, funds), ThisWorkbook, Application.Caller)' in out["vba"]
