"""Read the Settings sheet's named cells of an open workbook into the contract's typed settings."""

from __future__ import annotations

from typing import Any

from xlsector.contract import SETTING_NAMES, WorkbookSettings, named_values, resolve_cell
from xlsector.contract import read_settings as settings_from_values

__all__ = ["read_settings"]


def read_settings(wb: Any) -> WorkbookSettings:
    """The checked settings of an openpyxl workbook (a name the workbook lacks takes its default).

    Raises XlsectorError naming the sheet, the cell, the setting, the rule and the value found.
    """
    cells = {}
    for name in SETTING_NAMES:
        where = resolve_cell(wb, name)
        if where is not None:
            cells[name] = f"{where[0]}!{where[1]}"
    return settings_from_values(named_values(wb, SETTING_NAMES), cells)
