"""The public API: every exported name resolves, functions stay functions, import stays light."""

from __future__ import annotations

import subprocess
import sys

import xlsector


def test_every_exported_name_resolves():
    for name in xlsector.__all__:
        assert getattr(xlsector, name) is not None, name


def test_functions_named_like_submodules_stay_functions():
    import xlsector.data
    from xlsector.backtest import backtest_many  # noqa: F401 - imports the submodule
    from xlsector.data.refresh import RefreshReport  # noqa: F401
    from xlsector.metrics import cagr  # noqa: F401
    from xlsector.momentum import momentum_backtest  # noqa: F401

    assert callable(xlsector.backtest) and xlsector.backtest.__module__ == "xlsector.backtest"
    assert callable(xlsector.metrics) and xlsector.metrics.__module__ == "xlsector.metrics"
    assert xlsector.momentum.__module__ == "xlsector.trend"
    assert callable(xlsector.data.refresh) and xlsector.refresh is xlsector.data.refresh


def test_import_loads_nothing_heavy():
    code = "import sys, xlsector; print(sorted(m for m in ('pandas', 'numba', 'openpyxl', 'xlwings', 'yfinance') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
