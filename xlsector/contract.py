"""The workbook contract: the sheets, named cells and Settings that the refresh, the render, the add-ins and
the Excel functions all agree on. One module owns it, so a sheet, a name or a rule has one definition.

- Sheet ``Data``: A1 = "Date", B1.. = series names (tickers); rows 2.. = a date, then adjusted closes
  (an empty cell is no price). The defined name :data:`DATA_TABLE` covers the whole table and grows with
  it (see :data:`DATA_TABLE_FORMULA`): every formula of the template reads its prices through it and picks
  its columns by name (the Funds, MarketIndex, BearFunds, ... settings), so new rows and a changed setting
  both reach every formula.
- Sheet ``Settings``: one setting per row; each value cell is a workbook-level defined name
  (:data:`SETTINGS`, generated from the parameter model :mod:`xlsector.params`).
- Provenance names on sheet ``Start``: :data:`PROVENANCE`.

Reading a named cell has one policy (:func:`resolve_cell`): an undefined name is ``None`` (the caller
falls back to the default), a name that exists but does not point at one cell is an error naming it.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xlsector.errors import ParameterError, XlsectorError
from xlsector.params import Param, Params, Strategy, TuningParams, param, params_of

__all__ = [
    "COMPUTED_SHEETS",
    "DATA_SHEET",
    "DATA_TABLE",
    "DATA_TABLE_FORMULA",
    "MAX_FUNDS",
    "PROVENANCE",
    "PROVENANCE_NAMES",
    "REQUIRED_SHEETS",
    "SETTINGS",
    "SETTINGS_SHEET",
    "SETTING_NAMES",
    "SETTING_OF_ARGUMENT",
    "SHEET_ORDER",
    "START_SHEET",
    "SUMMARY_SHEET",
    "TICKER_SETTINGS",
    "DataSelection",
    "Setting",
    "WorkbookSettings",
    "describe_cell",
    "named_values",
    "param_from_cell",
    "parameters_page",
    "read_settings",
    "resolve_cell",
    "settings_tickers",
    "split_tickers",
]

START_SHEET = "Start"
SUMMARY_SHEET = "Summary"
SETTINGS_SHEET = "Settings"
DATA_SHEET = "Data"

#: Sheets the render fills from the core, in tab order (after Start, Settings and Data).
COMPUTED_SHEETS = [
    SUMMARY_SHEET,
    "Theory",
    "Trends",
    "Hysteresis",
    "StormGuard",
    "TrendChart",
    "Stationarity",
    "FWPT",
    "Momentum",
]
SHEET_ORDER = [START_SHEET, SUMMARY_SHEET, SETTINGS_SHEET, DATA_SHEET, *COMPUTED_SHEETS[1:]]
#: A render refuses a workbook without these (it cannot know the user's settings and data otherwise).
REQUIRED_SHEETS = [SETTINGS_SHEET, DATA_SHEET]

#: The defined name over the Data sheet's table (header row and date column included).
DATA_TABLE = "DataTable"
#: Its definition: from A1 to the last row with a date in column A and the last column with a header in
#: row 1, so it grows when rows or columns are added (Excel and LibreOffice evaluate it alike; INDEX, unlike
#: OFFSET, is not volatile). Column A and row 1 must be contiguous, which the refresh and render keep.
DATA_TABLE_FORMULA = (f"{DATA_SHEET}!$A$1:INDEX({DATA_SHEET}!$A:$XFD,COUNTA({DATA_SHEET}!$A:$A),"
                      f"COUNTA({DATA_SHEET}!$1:$1))")

#: Provenance named cells on the Start sheet: (name, label, number format).
PROVENANCE: tuple[tuple[str, str, str | None], ...] = (
    ("DataSource", "Data source", None),
    ("DataFirstDate", "First date", "yyyy-mm-dd"),
    ("DataLastDate", "Last date", "yyyy-mm-dd"),
    ("DataFetched", "Fetched", "yyyy-mm-dd hh:mm"),
    ("DataTickers", "Tickers", None),
    ("RenderedAt", "Last render", "yyyy-mm-dd hh:mm"),
)
PROVENANCE_NAMES = tuple(name for name, _, _ in PROVENANCE)

MAX_FUNDS = 12


@dataclass(frozen=True)
class DataSelection(Params):
    """Which Data columns a workbook's strategy uses (the first rows of its Settings sheet)."""

    kind_name = "data setting"

    funds: str = param("XOM,JPM,JNJ,MRK,PG,KO,WMT,HD,GE,MSFT",
                       f"Tickers of the fund universe (up to {MAX_FUNDS}), separated by commas or semicolons; "
                       "each must be a column of the Data sheet.", kind="text", setting="Funds")
    bear: str | None = param(None, "Tickers held in StormGuard's bear state (best trend wins), separated "
                                   "by commas or semicolons; blank = cash.", kind="text", optional=True,
                                   blank="cash", setting="BearFunds")
    index: str = param("^GSPC", "Data column of the market index (price index, no dividends) that "
                              "StormGuard follows.", kind="text", setting="MarketIndex")
    benchmark: str | None = param(None, "Data column the strategy is compared with (metrics and equity charts); "
                                  "blank = equal-weight buy-and-hold of the funds.", kind="text", optional=True,
                                  blank="equal-weight buy-and-hold of the funds", setting="Benchmark")
    market: str | None = param(None, "Data column of a total-return market index (dividends reinvested, e.g. "
                               "^SP500TR) the strategy is also compared with; blank = the MarketIndex price index, "
                               "labelled price only.", kind="text", optional=True,
                               blank="the MarketIndex price index, labelled price only", setting="MarketTotalReturn")
    vix: str | None = param(None, "Data column of the VIX (momentum leverage rules); blank = none.", kind="text",
                            optional=True, blank="none", setting="VixTicker")
    cash_rate: str | None = param(None, "Data column holding the annual cash rate in percent (earned in cash); "
                                  "blank = 0.", kind="text", optional=True, blank="0", setting="CashRate")
    refresh_start: dt.date = param(dt.date(1990, 1, 2), "First date the Refresh data button downloads.",
                                   kind="date", setting="RefreshStart")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not split_tickers(self.funds):
            raise ParameterError("funds must name at least one ticker")
        if len(split_tickers(self.funds)) > MAX_FUNDS:
            raise ParameterError(f"funds names {len(split_tickers(self.funds))} tickers; at most {MAX_FUNDS}")

    @property
    def fund_list(self) -> list[str]:
        return split_tickers(self.funds)

    @property
    def bear_list(self) -> list[str]:
        return split_tickers(self.bear)

    def tickers(self) -> list[str]:
        """Every Data column the settings name (funds, bear funds, index, benchmark, market, VIX, cash rate), once
        each."""
        names = [*self.fund_list, *self.bear_list, self.index, self.benchmark, self.market, self.vix, self.cash_rate]
        return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class Setting:
    """One row of the Settings sheet: a defined name on its value cell, and the parameter it sets."""

    name: str
    param: Param
    group: type  # DataSelection, Strategy or TuningParams

    @property
    def default(self) -> Any:
        return self.param.default

    @property
    def description(self) -> str:
        """The help text shown beside the cell: the parameter's help, its unit and what a blank means."""
        p = self.param
        text = p.help
        if p.unit == "market days" and "market days" not in text:
            text += " In market days."
        if p.optional and p.blank and "blank" not in text.lower():
            text += f" Blank = {p.blank}."
        return text


def _settings() -> tuple[Setting, ...]:
    out = []
    for group in (DataSelection, Strategy, TuningParams):
        out += [Setting(p.setting, p, group) for p in params_of(group) if p.setting]
    return tuple(out)


#: Every setting, in the Settings sheet's order.
SETTINGS: tuple[Setting, ...] = _settings()
SETTING_NAMES = tuple(s.name for s in SETTINGS)
#: Settings whose values name Data columns.
TICKER_SETTINGS = tuple(s.name for s in SETTINGS if s.group is DataSelection and s.param.kind == "text")
#: The setting that gives each argument of the Excel functions its value in the template (argument names are
#: the parameter model's names: ``tc`` -> ``TrendConstant``, ``index`` -> ``MarketIndex``, ...).
SETTING_OF_ARGUMENT: dict[str, str] = {s.param.name: s.name for s in SETTINGS}


def settings_tickers(values: Mapping[str, Any]) -> list[str]:
    """Every ticker the ticker settings name (Funds, BearFunds, MarketIndex, Benchmark, VixTicker, CashRate),
    in that order, once each, read from raw cell values (what a refresh downloads)."""
    found = [t for name in TICKER_SETTINGS if isinstance(values.get(name), str) for t in split_tickers(values[name])]
    return list(dict.fromkeys(found))


def split_tickers(text: Any) -> list[str]:
    """A ticker list typed in one cell: separated by commas or semicolons, blanks dropped, order kept."""
    if text is None:
        return []
    parts = str(text).replace(";", ",").split(",")
    return list(dict.fromkeys(part.strip() for part in parts if part.strip()))


# --------------------------------------------------------------------------------------------------
# cell values -> parameters
# --------------------------------------------------------------------------------------------------

def describe_cell(value: Any) -> str:
    """A cell's value as a message shows it: ``the text 'abc'``, ``TRUE``, ``the error value #N/A``, ``3.5``."""
    from xlsector.data.cells import is_excel_error

    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if is_excel_error(value):
        return f"the error value {value.strip()}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, dt.date):
        return f"the date {value:%Y-%m-%d}"
    if isinstance(value, list | tuple):
        return "a range of several cells"
    return repr(value)


def is_blank(value: Any) -> bool:
    """None, empty text or NaN: what an empty cell arrives as."""
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


_KIND_WORDS = {"number": "a number", "whole": "a whole number", "date": "a date", "flag": "TRUE or FALSE"}


def param_from_cell(p: Param, value: Any, *, blank_is_default: bool = True) -> Any:
    """A parameter's value from what a cell holds: blank -> the default (or, with ``blank_is_default``
    False, None where the parameter may be blank and an error where it may not), numeric text -> a
    number, a choice in any letter case, a date as a date or ISO text; then the parameter's rule applies.

    Raises ParameterError naming the parameter and either the kind expected (``tc must be a number, got
    the text 'abc'``) or its rule (``tc must be a number >= 1 (market days), got -3``).
    """
    from xlsector.data.cells import is_excel_error

    name = p.label or p.name
    if is_blank(value):
        if blank_is_default:
            return p.check(p.default)
        if p.optional:
            return None
        expected = "" if p.kind == "text" else f"; expected {p.rule()}"
        raise ParameterError(f"{name} must not be blank{expected}")
    wrong = ParameterError(f"{name} must be {_KIND_WORDS.get(p.kind, p.rule())}, got {describe_cell(value)}")
    if is_excel_error(value) or isinstance(value, list | tuple):
        raise wrong
    if p.kind in ("number", "whole"):
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise wrong from None
            if value.is_integer():
                value = int(value)  # as typed: "0" is 0 in messages
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise wrong
    elif p.kind == "date" and isinstance(value, numbers.Real) and not isinstance(value, bool):
        from xlsector.data.cells import excel_serial_to_datetime  # Office.js sends dates as serial numbers

        try:
            value = excel_serial_to_datetime([float(value)])[0].astype("datetime64[D]").item()
        except XlsectorError:
            raise wrong from None
    elif p.kind == "flag" and isinstance(value, str):
        word = value.strip().lower()
        if word not in ("true", "false", "yes", "no"):
            raise wrong
        value = word in ("true", "yes")
    elif p.kind == "text" and isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = f"{value:g}"
    return p.check(value)


# --------------------------------------------------------------------------------------------------
# named cells
# --------------------------------------------------------------------------------------------------

def resolve_cell(book: Any, name: str) -> tuple[str, str] | None:
    """(sheet, cell) of the workbook-level name ``name`` (an openpyxl workbook), or None when undefined.

    A name that exists but is not one cell of an existing sheet is an XlsectorError naming it.
    """
    defined = book.defined_names.get(name)
    if defined is None:
        return None
    try:
        destinations = list(defined.destinations)
    except Exception:  # noqa: BLE001 - openpyxl cannot parse what the name holds (a formula, a constant)
        destinations = []
    if len(destinations) != 1:
        raise XlsectorError(f"defined name {name} must point at one cell, got {defined.attr_text!r}")
    sheet, ref = destinations[0]
    ref = ref.replace("$", "")
    first, _, last = ref.partition(":")
    if last and last != first:
        raise XlsectorError(f"defined name {name} must point at one cell, got {defined.attr_text!r}")
    if sheet not in book.sheetnames:
        raise XlsectorError(f"defined name {name} points at sheet {sheet!r}, which the workbook lacks")
    return sheet, first


def named_values(book: Any, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """Values of the named cells that exist (openpyxl workbook, normal or read-only); undefined names are left out."""
    from openpyxl.utils.cell import coordinate_to_tuple

    out: dict[str, Any] = {}
    for name in names:
        where = resolve_cell(book, name)
        if where is None:
            continue
        sheet = book[where[0]]
        row, col = coordinate_to_tuple(where[1])
        cells = sheet.iter_rows(min_row=row, max_row=row, min_col=col, max_col=col, values_only=True)
        out[name] = next(cells, (None,))[0]
    return out


# --------------------------------------------------------------------------------------------------
# the Settings sheet as typed records
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkbookSettings:
    """The checked settings of a workbook, as the parameter records the core takes, and where each was read."""

    data: DataSelection
    strategy: Strategy
    tuning: TuningParams
    values: Mapping[str, Any]  # setting name -> checked value
    cells: Mapping[str, str]  # setting name -> "Settings!B7" (names the workbook defines)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def where(self, name: str) -> str:
        """The cell of a setting ("Settings!B7"), or "Settings!?" when the workbook does not define it."""
        return self.cells.get(name, f"{SETTINGS_SHEET}!?")


def read_settings(values: Mapping[str, Any], cells: Mapping[str, str] | None = None) -> WorkbookSettings:
    """The settings from the named cells' ``values``; a name the workbook lacks takes the default.

    A blank cell is an error unless the setting may be blank. Raises XlsectorError naming the cell, the
    setting, the rule and the value found.
    """
    cells = dict(cells or {})

    def where(name: str) -> str:
        return f"{cells.get(name, SETTINGS_SHEET + '!?')} ({name})"

    checked: dict[str, Any] = {}
    groups: dict[type, dict[str, Any]] = {DataSelection: {}, Strategy: {}, TuningParams: {}}
    for setting in SETTINGS:
        raw = values.get(setting.name, setting.default)
        if isinstance(raw, str) and raw.startswith("="):
            raise XlsectorError(f"{where(setting.name)} holds a formula {raw!r}; type a value")
        try:
            value = param_from_cell(setting.param, raw, blank_is_default=False)
        except ParameterError as exc:
            message = str(exc).removeprefix(setting.param.label or setting.param.name).strip()
            raise XlsectorError(f"{where(setting.name)} {message}") from None
        checked[setting.name] = value
        groups[setting.group][setting.param.name] = value
    by_param = {s.param.name: s.name for s in SETTINGS}
    records: dict[type, Any] = {}
    for group, kwargs in groups.items():
        try:
            records[group] = group(**kwargs)
        except ParameterError as exc:  # a rule over several settings: name the first one it mentions
            text = str(exc)
            first = next((by_param[n] for n in kwargs if text.startswith(n + " ") or f" {n} " in text), None)
            raise XlsectorError(f"{where(first) if first else SETTINGS_SHEET} {text}") from None
    return WorkbookSettings(records[DataSelection], records[Strategy], records[TuningParams], checked, cells)


# --------------------------------------------------------------------------------------------------
# the parameters reference page
# --------------------------------------------------------------------------------------------------

PARAMETER_GROUPS: tuple[tuple[str, type, str], ...] = (
    ("Rotation strategy", Strategy, "`xlsector.Strategy`; keyword arguments of `run_backtest`, the trend "
     "functions in Excel, trend profiles' `[params]`, CLI flags of `tune` and `signal`"),
    ("Tuning", TuningParams, "`xlsector.TuningParams`; arguments of `trend_chart`, `fwpt` and the Excel tuning "
     "functions, CLI flags of `tune`"),
    ("Data selection (workbook)", DataSelection, "the template's Settings sheet: which Data columns the "
     "formulas use"),
)


def parameters_page() -> str:
    """docs/parameters.md: every parameter with its default, rule, Settings cell and help, from the model."""
    from xlsector.params import MomentumStrategy

    groups = (*PARAMETER_GROUPS, ("Momentum strategy", MomentumStrategy, "`xlsector.MomentumStrategy`; keyword "
                                  "arguments of `run_momentum_backtest`, momentum profiles' `[params]`"))
    lines = ["# Parameters", "",
             "Generated from the parameter model (`xlsector/params.py`, `xlsector/contract.py`) by "
             "`xlsector.contract.parameters_page()`; a test keeps this page equal to it. Each parameter has one "
             "default, one rule and one help text, which the Excel functions, the Settings sheet, the TOML "
             "profiles and the command line all read.", ""]
    for title, cls, where in groups:
        lines += [f"## {title}", "", f"{where}.", "", "| parameter | default | rule | Settings cell | meaning |",
                  "|---|---|---|---|---|"]
        for p in params_of(cls):
            rule = p.rule() + (" (blank allowed)" if p.optional else "")
            lines.append(f"| `{p.name}` | {p.describe_default()} | {rule} | {p.setting or ''} | "
                         f"{p.help.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines)
