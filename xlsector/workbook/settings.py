"""Read and check the Settings sheet's named cells of a workbook.

Each setting is a workbook-level defined name on one cell. A value of the wrong kind raises an
:class:`~xlsector.errors.XlsectorError` naming the sheet, the cell, the setting and the value found.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from openpyxl.workbook.workbook import Workbook

from xlsector.errors import XlsectorError
from xlsector.workbook import layout

__all__ = ["Settings", "named_cell", "read_settings", "tickers"]


@dataclass(frozen=True)
class Settings:
    """The checked settings (attribute names as in the workbook) and where each was read."""

    values: dict[str, Any]
    cells: dict[str, str]  # name -> "Sheet!B7"

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def where(self, name: str) -> str:
        return self.cells.get(name, f"{layout.SETTINGS_SHEET}!?")


def named_cell(wb: Workbook, name: str) -> tuple[str, str] | None:
    """(sheet, cell) of a workbook-level defined name pointing at one cell, or None when undefined."""
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    destinations = list(defined.destinations)
    if len(destinations) != 1:
        raise XlsectorError(f"defined name {name} must point at one cell, got {defined.attr_text!r}")
    sheet, ref = destinations[0]
    ref = ref.replace("$", "")
    if ":" in ref:
        first, last = ref.split(":")
        if first != last:
            raise XlsectorError(f"defined name {name} must point at one cell, got {defined.attr_text!r}")
        ref = first
    if sheet not in wb.sheetnames:
        raise XlsectorError(f"defined name {name} points at sheet {sheet!r}, which the workbook lacks")
    return sheet, ref


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"text {value!r}"
    return repr(value)


def tickers(text: Any) -> list[str]:
    """Split a comma-separated ticker list; blanks dropped."""
    if text is None:
        return []
    return [part.strip() for part in str(text).split(",") if part.strip()]


def _check(setting: layout.Setting, value: Any, where: str) -> Any:
    label = f"{where} ({setting.name})"
    if isinstance(value, str) and setting.kind != "text":
        value = value.strip()
        if value == "":
            value = None
    if value is None or (isinstance(value, str) and value == ""):
        if setting.blank_ok:
            return "" if setting.kind == "text" else None
        if setting.kind == "text":
            raise XlsectorError(f"{label} must not be blank")
        raise XlsectorError(f"{label} must not be blank; expected {_expected(setting)}")
    if setting.kind == "text":
        return str(value).strip()
    if setting.kind == "choice":
        text = str(value).strip().lower()
        if text not in setting.choices:
            raise XlsectorError(f"{label} must be one of {', '.join(setting.choices)}, got {_describe(value)}")
        return text
    if setting.kind == "date":
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        raise XlsectorError(f"{label} must be a date (or an ISO text yyyy-mm-dd), got {_describe(value)}")
    # number / whole
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise XlsectorError(f"{label} must be {_expected(setting)}, got {_describe(value)}") from None
        else:
            raise XlsectorError(f"{label} must be {_expected(setting)}, got {_describe(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise XlsectorError(f"{label} must be {_expected(setting)}, got {value!r}")
    if setting.kind == "whole" and not number.is_integer():
        raise XlsectorError(f"{label} must be {_expected(setting)}, got {value!r}")
    if (setting.low is not None and number < setting.low) or (setting.high is not None and number > setting.high):
        raise XlsectorError(f"{label} must be {_expected(setting)}, got {value!r}")
    return int(number) if setting.kind == "whole" else number


def _expected(setting: layout.Setting) -> str:
    what = "a whole number" if setting.kind == "whole" else "a number"
    if setting.kind == "date":
        return "a date"
    if setting.kind == "choice":
        return "one of " + ", ".join(setting.choices)
    if setting.low is not None and setting.high is not None:
        return f"{what} from {setting.low:g} to {setting.high:g}"
    return what


def read_settings(wb: Workbook) -> Settings:
    """Read every setting from its named cell; a missing name falls back to the template's default.

    Raises
    ------
    XlsectorError
        A value of the wrong kind or out of range (the message names sheet, cell, setting and value).
    """
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for setting in layout.SETTINGS:
        found = named_cell(wb, setting.name)
        if found is None:
            values[setting.name] = setting.default
            continue
        sheet, ref = found
        where = f"{sheet}!{ref}"
        cells[setting.name] = where
        raw = wb[sheet][ref].value
        if isinstance(raw, str) and raw.startswith("="):
            raise XlsectorError(f"{where} ({setting.name}) holds a formula {raw!r}; type a value")
        values[setting.name] = _check(setting, raw, where)
    funds = tickers(values["Funds"])
    if not funds:
        raise XlsectorError(f"{cells.get('Funds', 'Settings')} (Funds) must name at least one ticker")
    if len(funds) > 12:
        raise XlsectorError(f"{cells.get('Funds', 'Settings')} (Funds) names {len(funds)} tickers; at most 12")
    if values["TcMin"] > values["TcMax"]:
        raise XlsectorError(
            f"{cells.get('TcMin', 'Settings')} (TcMin) must be <= TcMax, got {values['TcMin']} > {values['TcMax']}"
        )
    return Settings(values, cells)
