"""Price data: the cells converter, sources (workbook, file, yfinance, bundled sample), validation, refresh.

Names are re-exported lazily so that ``from xlsector.data import cells_to_prices`` does not import
openpyxl or yfinance.
"""

from __future__ import annotations

from xlsector._lazy import export_lazily

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
    "refresh_file": "xlsector.data.refresh",
    "RefreshReport": "xlsector.data.refresh",
}

__all__ = list(_EXPORTS)


export_lazily(__name__, _EXPORTS)
