"""xlsector: trend-following sector rotation (SectorSurfer-style EMA2 trends) for Excel, CLI and Python.

The public API is re-exported here lazily (PEP 562) so that ``import xlsector`` stays fast: pandas,
numba, openpyxl, xlwings and yfinance load only when a function that needs them is first used.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "XlsectorError": "xlsector.errors",
    "ParameterError": "xlsector.errors",
    "DataError": "xlsector.errors",
    "DataQualityWarning": "xlsector.errors",
    # trend maths (SPEC 1)
    "to_returns": "xlsector.trend",
    "ema": "xlsector.trend",
    "ema2": "xlsector.trend",
    "ema_weights": "xlsector.trend",
    "ema2_weights": "xlsector.trend",
    "ema2_lag": "xlsector.trend",
    "momentum": "xlsector.trend",
    # rotation and backtest (SPEC 2)
    "Strategy": "xlsector.rotation",
    "stormguard": "xlsector.rotation",
    "backtest": "xlsector.backtest",
    "backtest_many": "xlsector.backtest",
    "BacktestResult": "xlsector.backtest",
    # metrics (SPEC 5)
    "metrics": "xlsector.metrics",
    # tuning and momentum experiments (SPEC 3, 4)
    "trend_chart": "xlsector.tuning",
    "fwpt": "xlsector.tuning",
    "split_sample": "xlsector.tuning",
    "progressive_tune": "xlsector.tuning",
    "momentum_backtest": "xlsector.momentum",
    # data (SPEC 8)
    "load_sample": "xlsector.data",
    "load_prices": "xlsector.data",
    "cells_to_prices": "xlsector.data",
    "refresh": "xlsector.data",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlsector' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


class _Package(types.ModuleType):
    """Keeps ``xlsector.backtest``, ``xlsector.metrics`` and ``xlsector.momentum`` the public functions
    after submodules of the same names are imported: the import system binds each submodule as an
    attribute of the package, which would shadow the function. Import those submodules with
    ``from xlsector.backtest import ...``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS and value.__name__ == f"{__name__}.{name}":
            value = getattr(importlib.import_module(_EXPORTS[name]), name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
