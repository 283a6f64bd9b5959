"""The public API: every exported name resolves, functions stay functions, import stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import xlsector


def test_every_exported_name_resolves():
    for name in xlsector.__all__:
        assert getattr(xlsector, name) is not None, name


def test_no_public_name_is_a_submodule_name():
    """A function named like a submodule would be replaced by the module once the module is imported."""
    import pkgutil

    import xlsector.data

    for package in (xlsector, xlsector.data):
        modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
        assert not modules & set(package.__all__), package.__name__


@pytest.mark.parametrize(
    ("old", "new"),
    [("backtest", "run_backtest"), ("backtest_many", "run_backtest_grid"), ("metrics", "metrics_table"),
     ("momentum_backtest", "run_momentum_backtest"), ("refresh", "refresh_file")],
)
def test_old_names_work_one_release_with_a_warning(old, new):
    with pytest.warns(DeprecationWarning, match=f"xlsector.{old} is deprecated; use xlsector.{new}"):
        function = getattr(xlsector, old)
    if old == "metrics":  # its new name takes every row as a return; the old name keeps the start-row rule
        from xlsector.measures import metrics_after_start

        assert function is metrics_after_start
    else:
        assert function is getattr(xlsector, new)


def test_old_names_work_in_any_import_order():
    code = (
        "import warnings, pandas as pd, xlsector.measures, xlsector.backtesting, xlsector;"
        "warnings.simplefilter('ignore', DeprecationWarning);"
        "r = pd.Series([0.0, 0.1], index=pd.to_datetime(['2020-01-01', '2020-01-02']));"
        "assert xlsector.metrics(r).loc['Total return', 'strategy'] > 0.0999;"
        "assert callable(xlsector.backtest)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_loads_nothing_heavy():
    code = "import sys, xlsector; print(sorted(m for m in ('pandas', 'numba', 'openpyxl', 'xlwings', 'yfinance', 'exchange_calendars', 'defusedxml', 'filelock') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_readme_api_table_matches_the_package():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = text.split("### Public API", 1)[1].split("\n\n| area | names |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([A-Za-z_][A-Za-z_0-9]*)`", table))
    assert listed == set(xlsector.__all__) - {"__version__"}


def test_docs_function_table_is_generated_from_the_module():
    from pathlib import Path

    from xlsector.render import functions_table

    text = (Path(__file__).resolve().parents[1] / "docs" / "excel.md").read_text(encoding="utf-8")
    block = text.split("<!-- functions:start -->\n", 1)[1].split("\n<!-- functions:end -->", 1)[0]
    assert block == functions_table(), "regenerate docs/excel.md's table with xlsector.render.functions_table()"
