"""Fast reading of one worksheet's values straight from the .xlsx XML (no openpyxl cell objects).

The functions live in :mod:`xlsector.xlsx` (shared with :mod:`xlsector.workbook`); this module keeps the
names the data package has always imported.
"""

from __future__ import annotations

from xlsector.xlsx import read_sheet_grid, strip_sheet_rows

__all__ = ["read_sheet_grid", "strip_sheet_rows"]
