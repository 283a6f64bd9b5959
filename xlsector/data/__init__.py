"""Price data: the cells converter, sources (workbook, file, yfinance, bundled sample), validation, refresh.

Names are re-exported lazily so that ``from xlsector.data import cells_to_prices`` does not import
openpyxl or yfinance.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "cells_to_prices": "xlsector.data.cells",
    "excel_serial_to_datetime": "xlsector.data.cells",
    "PriceData": "xlsector.data.sources",
    "Provenance": "xlsector.data.sources",
    "load_sample": "xlsector.data.sample",
    "load_prices": "xlsector.data.sources",
    "read_data_sheet": "xlsector.data.workbook",
    "validate_prices": "xlsector.data.validate",
    "download_prices": "xlsector.data.yahoo",
    "refresh": "xlsector.data.refresh",
    "RefreshReport": "xlsector.data.refresh",
}

__all__ = [  # noqa: RUF022 - same order as _EXPORTS
    *_EXPORTS,
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlsector.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
