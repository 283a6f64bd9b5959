"""xlsector's Excel functions: thin xlwings wrappers over the core (SPEC §6). No maths here.

Each function converts its cells (``xlsector.data.cells_to_prices`` for price ranges,
:func:`xlsector.contract.param_from_cell` for single values, with the parameter model's rules), calls one
core function and shapes the result into a value or a 2-D list that spills. A user error (bad trend
constant, too little history, text in prices, ...) raises xlwings' ``XlwingsError`` with a short message
naming the argument: Excel shows it in the cell (Office.js runtimes show a #VALUE! error with the message;
classic xlwings shows the text), never a dialog and never a wrong number.

One module for every runtime
    * classic xlwings (Windows, COM): name this module in the "UDF Modules" setting (``xlsector_udfs``
      with the ``udfs/`` folder on the PYTHONPATH, or ``udfs.xlsector_udfs`` after ``pip install
      xlsector``) and click "Import Functions" (or use the xlsector add-in);
    * xlwings Server and xlwings Lite (Office.js): with ``XLWINGS_ON_SERVER=true`` the same ``xw.func``
      / ``xw.arg`` decorators register these functions for the add-in's custom functions;
    * LibreOffice Calc: the xlsector extension calls the same functions (docs/libreoffice.md).
    On any other platform the decorators are no-ops and the functions are plain Python functions.

Why ``EMA2_TREND`` and not ``EMA2``: Excel reads ``EMA2`` as the cell in column EMA, row 2 (columns go
up to XFD), so ``=EMA2(...)`` can never be a function call. ``EMA2_TREND`` is the closest legal name and
appears in the autocomplete list as soon as the user types ``=EMA2``.

Conventions
    * Price ranges may include a header row (fund names) and a date column (real dates or Excel serial
      numbers); both are detected (``header``/``dates`` arguments force them where offered). Blank
      cells are missing prices (a fund that has not started yet); text, booleans and error values in a
      price cell are errors naming the cell. ``funds`` picks columns of the range by name (commas or
      semicolons; blank = every column), so one range over a whole data table serves every function.
    * Side series — ``index``, ``bear``, ``cash_rate``, ``benchmark`` — are a range of their own or the
      name(s) of columns of the price range (``"^GSPC"``, ``"TLT"``).
    * Single-value arguments accept a number, a one-cell range (``[[x]]`` from Office.js), numeric text
      or a blank/omitted cell (= the default stated in the argument's help, from xlsector's parameter
      model). An error value (``#N/A``) is reported, never defaulted.
    * Row-aligned results (``EMA2_TREND``, ``EMA_TREND``, ``MOMENTUM``) have one column per fund and one
      row per data row of the input, plus a header row of fund names when the input had one; they omit
      the date column so that the spill lines up with the prices when entered on the same rows. Missing
      values (before a fund's first price) are blank cells.
    * Tables built from scratch (histories, metrics, trend chart, FWPT) always start with a header row.
    * Results are cached by content (:mod:`udfs._cache`): ten cells over one price range parse it once,
      and every tuning table over the same range and settings runs the tc grid once.

Parameters are not type-annotated on purpose: xlwings reads annotations as converters.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import math
from collections.abc import Callable, Mapping
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xlwings as xw
from xlwings import XlwingsError

from udfs import _cache
from xlsector.contract import describe_cell, is_blank, param_from_cell, split_tickers
from xlsector.errors import ParameterError, XlsectorError
from xlsector.params import MAX_GRID, Param, Strategy, TuningParams, param_of

CATEGORY = "xlsector"

__all__ = [
    "BACKTEST_CAGR",
    "BACKTEST_EQUITY",
    "BACKTEST_METRICS",
    "EMA2_TREND",
    "EMA2_WEIGHTS",
    "EMA_TREND",
    "EMA_WEIGHTS",
    "FWPT_TABLE",
    "MOMENTUM",
    "OVERFIT_STATS",
    "PORTFOLIO_TABLE",
    "PROGRESSIVE_TUNE",
    "ROBUSTNESS_MAP",
    "SECTOR_PICK",
    "SECTOR_PICKS",
    "SECTOR_SIGNAL",
    "SPLIT_SAMPLE",
    "STALE_DATA",
    "STORMGUARD_HISTORY",
    "STORMGUARD_STATE",
    "TIMING_LUCK",
    "TREND_CHART",
]

# ---------------------------------------------------------------------------------------------------
# argument help shown by Excel: the parameter model's help for strategy and tuning parameters, these
# for the arguments only the Excel functions have
# ---------------------------------------------------------------------------------------------------

_OWN_DOC = {
    "prices": "Price range: one column per fund, optional header row of names and date column (dates or serials).",
    "funds": "Columns of prices to use, by name (commas or semicolons); blank = every column.",
    "header": "TRUE if the first row holds fund names, FALSE if not; blank = detect.",
    "dates": "TRUE if the first column holds dates, FALSE if not; blank = detect.",
    "ages": "Number of ages N (ages 0..N-1, default 250) or a range of ages in market days (0 = today).",
    "days": "Look-back in market days (whole number >= 1), e.g. 126.",
    "index": "S&P 500 price index for StormGuard: a one-column range, or its column name in prices.",
    "column": "Column of index to use, by name, when index has several columns; blank = the only one.",
    "as_of": "Date (or serial) to report; blank = the last row.",
    "bear": "Bear-market funds held in StormGuard's bear state (else cash): a range, or column names in prices.",
    "daily": "TRUE: one row per day; FALSE (default): one row per change of holding.",
    "detail": "TRUE adds the target, the hurdle and each fund's trend per row (with daily=TRUE).",
    "start": "First date to list; blank = the start of the backtest.",
    "cash_rate": "Annual cash rate in percent (e.g. 2), a range of it, or its column name in prices; blank = 0.",
    "benchmark": "Benchmark: a column name in prices or a price range; blank = equal-weight buy-and-hold "
                 "(PORTFOLIO_TABLE: none).",
    "with_benchmark": "TRUE adds the benchmark's figures as a last column (default FALSE).",
    "every": "Sampling of the rows: day, week (default) or month (the last market day of each).",
    "part": "Which table: see the function's help (blank = the main one).",
    "band": "TRUE adds the band edges +shift and -shift as two columns (for a chart).",
    "window": "Market days each progressive tuning looks back (default 250).",
    "step": "Market days between progressive tunings (default 125).",
    "sg_tc": param_of(Strategy, "sg_tc").help,
    "market": "Total-return market index (dividends reinvested) to compare with: its column name in prices or a "
              "range; blank = the index (a price index), labelled price only.",
    "blocks": "CSCV blocks S for the PBO: even, 2 to 22 (default 16: 12,870 combinations).",
    "trials": "Trials N for the DSR; blank = every tc of the grid. Count every setting you tried (docs/overfitting.md).",
    "values": "Hysteresis values of the map's columns (a range, or text like 0, 0.005, 0.01); blank = 0, 0.005, "
              "0.01, 0.02, 0.04 and the hysteresis given.",
    "metric": "Metric of the map: CAGR (default), score or Sharpe.",
    "offsets": "Decision-day offsets to try: market days after the week or month end (default 0 to 4).",
    "last_date": "Last date of the data (e.g. the name DataLastDate).",
    "next_retune": "Next retune date (FWPT), or blank.",
    "today": "Today's date (e.g. TODAY()).",
    "max_age": "Days of data age still counted fresh (default 5 calendar days).",
    "strategies": "One row per strategy: name, funds (commas), tc (blank = FWPT-tuned), hysteresis (blank = "
                  "default); a header row is skipped.",
    "weights": "One weight per strategy (a column or row of numbers, normalised to sum to 1); blank = equal.",
    "rebalance": "monthly (default), quarterly or never: when the strategies are reset to their weights.",
    "amount": "Money to allocate (for part allocation): shares of each fund to hold now at the last prices.",
    "fractional": "TRUE for fractional shares; FALSE (default) whole shares, the rest in cash.",
}


def _doc(name: str) -> str:
    if name in _OWN_DOC:
        return _OWN_DOC[name]
    for cls in (Strategy, TuningParams):
        if name in cls.names():
            p = param_of(cls, name)
            return f"{p.help} Default {p.describe_default()}."
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------------
# registration with xlwings
# ---------------------------------------------------------------------------------------------------


def _excel_function(f: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every XlsectorError into an XlwingsError (the cell's message). Other exceptions are bugs."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except XlsectorError as exc:
            raise XlwingsError(str(exc)) from None

    return wrapper


# True when xlwings bound its Office.js decorators (xlwings Server / Lite: XLWINGS_ON_SERVER=true)
_OFFICEJS = getattr(xw.func, "__module__", "").startswith("xlwings.pro")


def _officejs_cell(value: Any) -> Any:
    """One Office.js cell value -> plain Python: error objects -> "#N/A" text, other typed values (a date
    formatted number, an entity) -> their basic value, Pyodide's JsNull -> None."""
    if isinstance(value, dict):
        return value.get("basicValue")
    if type(value).__name__ == "JsNull":
        return None
    return value


_PLAIN = frozenset({float, int, str, bool, type(None)})  # cell values that need no conversion
_READY = frozenset({float, int, str, bool})  # result values Office.js takes as they are


class _OfficeJsCells(xw.conversion.Converter):
    """Argument converter for the Office.js runtimes: the raw payload, made 2-D, typed cells made plain.

    xlwings' default Office.js reader tries ``from pyodide.ffi import JsNull`` once per cell, which on
    CPython (xlwings Server) fails slowly: 14 s for a 7000 × 13 range. This converter reads the raw value
    instead (Excel's 2-D list; xlwings passes a single cell as a scalar and a single row as a flat list)
    and converts only the cells that need it.
    """

    base = xw.conversion.RawValueAccessor  # type: ignore[assignment]  # xlwings declares the base as None

    @staticmethod
    def read_value(value: Any, options: dict[str, Any]) -> Any:
        if not isinstance(value, list | tuple):
            return [[_officejs_cell(value)]]
        if not value or not isinstance(value[0], list | tuple):
            value = [value]  # a single row
        if not all(type(row) is list for row in value):
            value = [list(row) if isinstance(row, list | tuple) else [row] for row in value]
        if set(map(type, chain.from_iterable(value))) <= _PLAIN:  # the common case, checked in C
            return value
        return [row if set(map(type, row)) <= _PLAIN else [_officejs_cell(v) for v in row] for row in value]

    @staticmethod
    def write_value(value: Any, options: dict[str, Any]) -> Any:
        """A result (a value or a 2-D list of floats, text, None, datetimes) -> Office.js cells, as xlwings'
        default writer would make them but converting only the cells that need it: None -> "" (an empty
        cell), datetimes -> date-formatted serial numbers (xlwings' own conversion)."""
        from xlwings.pro._xlofficejs import datetime_to_formatted_number

        def cell(v: Any) -> Any:
            if v is None:
                return ""
            if isinstance(v, dt.date | dt.datetime):
                return datetime_to_formatted_number(v, options.get("date_format"), options.get("runtime", "1.4"))
            return v

        rows = value if isinstance(value, list) else [[value]]
        if set(map(type, chain.from_iterable(rows))) <= _READY:
            return rows
        return [row if set(map(type, row)) <= _READY else [cell(v) for v in row] for row in rows]


#: Arguments that take a range (2-D list) rather than a single value in classic xlwings.
_RANGE_ARGS = frozenset({"prices", "index", "bear", "ages", "cash_rate", "benchmark", "market", "values",
                         "strategies", "weights"})


def _register(f: Callable[..., Any]) -> Callable[..., Any]:
    """``xw.func`` + one ``xw.arg`` per parameter (its help from :func:`_doc`): ranges as 2-D lists, error
    cells as "#N/A" text. Classic xlwings converts with its default reader (``ndim=2`` for ranges,
    ``err_to_str``); the Office.js runtimes with :class:`_OfficeJsCells` (every argument as a 2-D list,
    single values unwrapped by the conversion helpers below; results written by the same class)."""
    names = list(inspect.signature(f).parameters)
    f = _excel_function(f)
    for name in reversed(names):
        options: dict[str, Any] = {"doc": _doc(name)}
        if _OFFICEJS:
            options["convert"] = _OfficeJsCells
        else:
            options["err_to_str"] = True
            if name in _RANGE_ARGS:
                options["ndim"] = 2
        f = xw.arg(name, **options)(f)
    if _OFFICEJS:
        f = xw.ret(_OfficeJsCells)(f)
    return xw.func(category=CATEGORY)(f)


# ---------------------------------------------------------------------------------------------------
# cells -> Python values
# ---------------------------------------------------------------------------------------------------

_REQUIRED = object()


def _unwrap(value: Any) -> Any:
    """``[[x]]``, ``[x]`` or a one-element array -> ``x``; anything larger is returned unchanged."""
    while isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    return value


def _blank(value: Any) -> bool:
    """A blank cell, or an empty or all-blank range: the argument counts as omitted."""
    value = _unwrap(value)
    if isinstance(value, list | tuple):
        return all(_blank(v) for v in value)
    return is_blank(value)


def _param(p: Param, value: Any, default: Any = None) -> Any:
    """One parameter from a cell by the parameter model's rule; blank -> ``default`` (None: the model's)."""
    value = _unwrap(value)
    if _blank(value):
        if default is _REQUIRED:
            raise XlwingsError(f"{p.label or p.name} is required")
        if default is not None:
            return default
    try:
        return param_from_cell(p, value)
    except ParameterError as exc:
        raise XlwingsError(str(exc)) from None


def _strategy_param(name: str, value: Any, default: Any = None) -> Any:
    return _param(param_of(Strategy, name), value, default)


def _number(value: Any, name: str, default: Any = _REQUIRED, *, whole: bool = False, low: float = -math.inf) -> Any:
    """A number argument that is not a model parameter (days, ages, window): same cell rules."""
    p = Param(name=name, default=None if default is _REQUIRED else default, help="",
              kind="whole" if whole else "number", low=low, high=1e9 if whole else math.inf,
              optional=default is None)
    if whole and not _blank(value):
        number = _unwrap(value)
        if isinstance(number, float | int) and not isinstance(number, bool) and abs(number) > 1e9:
            raise XlwingsError(f"{name} must be a whole number of days below 1e9, got {number!r}")
    return _param(p, value, default)


def _flag(value: Any, name: str, default: bool | None) -> bool | None:
    """TRUE/FALSE (or 1/0, yes/no) from a cell; blank -> ``default``."""
    if _blank(value):
        return default
    return _param(Param(name=name, default=default, help="", kind="flag"), value)


def _choice(value: Any, name: str, choices: tuple[str, ...], default: str) -> str:
    return _param(Param(name=name, default=default, help="", kind="choice", choices=choices), value)


def _date(value: Any, name: str) -> pd.Timestamp | None:
    """A date from a cell: a date, an Excel serial number or ISO text; blank -> None."""
    from xlsector.data.cells import excel_serial_to_datetime, is_excel_error

    value = _unwrap(value)
    if _blank(value):
        return None
    try:
        if isinstance(value, dt.date | np.datetime64):
            stamp = pd.Timestamp(value)
            return stamp.tz_localize(None) if stamp.tz else stamp
        if isinstance(value, float | int) and not isinstance(value, bool):
            return pd.Timestamp(excel_serial_to_datetime([float(value)])[0])
        if isinstance(value, str) and not is_excel_error(value):
            return pd.Timestamp(dt.date.fromisoformat(value.strip()[:10]))
    except (ValueError, OverflowError, XlsectorError):
        pass
    raise XlwingsError(f"{name} must be a date, got {describe_cell(value)}")


def _names(value: Any, name: str) -> list[str] | None:
    """Column names typed in a cell (commas or semicolons); blank -> None."""
    value = _unwrap(value)
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise XlwingsError(f"{name} must name columns of prices, got {describe_cell(value)}")
    return split_tickers(value)


# ---------------------------------------------------------------------------------------------------
# price ranges
# ---------------------------------------------------------------------------------------------------


def _table(cells: Any, name: str = "prices", *, header: Any = None, dates: Any = None) -> pd.DataFrame:
    """A price range -> frame (the shared converter, cached by content); at least one column and one row."""
    if _blank(cells):
        raise XlwingsError(f"{name} is required: select the price range")
    if not isinstance(cells, list | tuple):
        cells = [[cells]]
    header_flag = _flag(header, "header", None)
    dates_flag = _flag(dates, "dates", None)
    try:
        frame = _cache.prices(cells, header_flag, dates_flag)
    except XlsectorError as exc:
        raise XlwingsError(f"{name}: {str(exc).removeprefix('cells: ')}") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise XlwingsError(f"{name} has no prices: it needs at least one row of numbers")
    return frame


def _columns(frame: pd.DataFrame, names: list[str], name: str) -> pd.DataFrame:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise XlwingsError(f"{name} names {missing[0]!r}, which is not a column of prices "
                           f"(columns: {', '.join(map(str, frame.columns))})")
    out = frame[names]
    out.attrs = frame.attrs
    return out


def _prices(cells: Any, funds: Any = None, *, header: Any = None, dates: Any = None) -> pd.DataFrame:
    """The price range, narrowed to the ``funds`` columns when given."""
    table = _table(cells, header=header, dates=dates)
    chosen = _names(funds, "funds")
    return table if chosen is None else _columns(table, chosen, "funds")


def _side(value: Any, table: pd.DataFrame, prices: pd.DataFrame, name: str, *, one: bool) -> Any:
    """A side series (index, bear funds, benchmark, cash rate): its own range, or column names of the price
    range; None when blank. A range lines up with the prices by date when both have dates (the core aligns
    them), else row by row, which needs the same number of rows."""
    single = _unwrap(value)
    if _blank(single):
        return None
    if isinstance(single, str):
        chosen = _columns(table, split_tickers(single), name)
    else:
        chosen = _table(value if isinstance(value, list | tuple) else [[value]], name)
        dated = isinstance(chosen.index, pd.DatetimeIndex)
        if not (dated and isinstance(prices.index, pd.DatetimeIndex)):
            if len(chosen) != len(prices):
                raise XlwingsError(f"{name} has {len(chosen)} rows and prices {len(prices)}: give both a date "
                                   "column, or the same rows")
            chosen = chosen.set_axis(prices.index)
    if one:
        if chosen.shape[1] != 1:
            raise XlwingsError(f"{name} must be one column of values (plus optional dates), got {chosen.shape[1]} "
                               "columns")
        return chosen.iloc[:, 0]
    return chosen


def _up_to(frame: pd.DataFrame, as_of: pd.Timestamp | None, name: str = "as_of") -> pd.DataFrame:
    """Rows up to and including ``as_of`` (no look-ahead: later rows cannot change earlier results)."""
    if as_of is None:
        return frame
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise XlwingsError(f"{name} needs a date column in the range")
    if not frame.index.is_monotonic_increasing:
        raise XlwingsError("prices dates must be sorted ascending (oldest first) for as_of")
    kept = frame.loc[:as_of]
    if kept.empty:
        raise XlwingsError(f"{name} {as_of.date()} is before the first date {frame.index[0].date()}")
    return kept


def _need_dates(frame: pd.DataFrame, function: str) -> None:
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise XlwingsError(f"prices needs a date column for {function} (CAGR counts calendar days)")


def _had_header(frame: pd.DataFrame) -> bool:
    """Whether the range had a header row (names other than the positional Col<j>)."""
    offset = 2 if isinstance(frame.index, pd.DatetimeIndex) else 1
    return [str(c) for c in frame.columns] != [f"Col{j + offset}" for j in range(frame.shape[1])]


# ---------------------------------------------------------------------------------------------------
# the shared strategy arguments
# ---------------------------------------------------------------------------------------------------


class Rotation(NamedTuple):
    """What the strategy arguments of a rotation function come to: the core's inputs, checked."""

    prices: pd.DataFrame  # the funds, up to as_of
    strategy: Strategy
    data: dict[str, Any]  # index, bear, cash_rate, benchmark: the core's keyword arguments

    def key(self, *extra: Any) -> tuple[Any, ...]:
        """A cache key: the price frame's identity (frames are cached by content), parameters, side series."""
        sides = tuple((k, _cache.frame_key(v)) for k, v in sorted(self.data.items()))
        return (_cache.frame_key(self.prices), self.strategy, sides, *extra)


#: The strategy parameters every rotation function takes, in their Excel order after prices and tc.
_STRATEGY_ARGS = ("hysteresis", "stormguard", "schedule", "delay", "cost_bp", "min_hold", "min_history", "decay",
                  "shift", "k")


def _rotation(args: Mapping[str, Any], *, tc: bool = True) -> Rotation:
    """Convert the shared strategy arguments of a rotation function (its ``locals()``) once."""
    table = _table(args["prices"])
    chosen = _names(args.get("funds"), "funds")
    funds = table if chosen is None else _columns(table, chosen, "funds")
    funds = _up_to(funds, _date(args.get("as_of"), "as_of"))
    values: dict[str, Any] = {name: _strategy_param(name, args.get(name)) for name in _STRATEGY_ARGS}
    if tc:
        values["tc"] = _strategy_param("tc", args.get("tc"), _REQUIRED)
    try:
        strategy = Strategy(**values)
    except ParameterError as exc:
        raise XlwingsError(str(exc)) from None
    data: dict[str, Any] = {}
    index = _side(args.get("index"), table, funds, "index", one=True)
    if index is not None:
        data["index"] = index
    elif strategy.stormguard is not None:
        raise XlwingsError("stormguard needs index: the S&P 500 price index range or its column name in prices")
    bear = _side(args.get("bear"), table, funds, "bear", one=False)
    if bear is not None:
        data["bear"] = bear
    cash = _cash_rate(args.get("cash_rate"), table, funds)
    if cash is not None:
        data["cash_rate"] = cash
    benchmark = _benchmark(args.get("benchmark"), table, funds)
    if benchmark is not None:
        data["benchmark"] = benchmark
    return Rotation(funds, strategy, data)


def _cash_rate(value: Any, table: pd.DataFrame, prices: pd.DataFrame) -> Any:
    """Cash rate in percent: a number, a one-column range or a column name -> the core's decimal rate."""
    single = _unwrap(value)
    if _blank(single):
        return None
    if not isinstance(single, list | tuple | str):
        return _number(single, "cash_rate", low=-100.0) / 100.0
    percent = _side(value, table, prices, "cash_rate", one=True)
    return pd.Series(percent.to_numpy() / 100.0, index=percent.index, name=percent.name)  # new values: no cache token


def _benchmark(value: Any, table: pd.DataFrame, prices: pd.DataFrame) -> Any:
    single = _unwrap(value)
    if _blank(single):
        return None
    if isinstance(single, str) and single.strip() in prices.columns:
        return single.strip()  # a fund of the universe: the core names it
    if isinstance(single, str) and single.strip() not in table.columns:
        raise XlwingsError(f"benchmark {single.strip()!r} is not a column of prices")
    return _side(value, table, prices, "benchmark", one=True)


def _backtest(rotation: Rotation) -> Any:
    from xlsector.backtesting import run_backtest

    return _cache.result(rotation.key("backtest"),
                         lambda: run_backtest(rotation.prices, **rotation.data, **rotation.strategy.to_dict()))


def _market(args: Mapping[str, Any], rotation: Rotation) -> Any:
    """The total-return market index argument: a column of the price range or a range of its own; None if blank."""
    value = args.get("market")
    if _blank(_unwrap(value)):
        return None
    series = _side(value, _table(args["prices"]), rotation.prices, "market", one=True)
    if isinstance(_unwrap(value), str):
        return series
    return series.rename(series.name if isinstance(series.name, str) and series.name else "market")


def _fair(args: Mapping[str, Any], rotation: Rotation, dates: pd.Index, primary: str) -> Any:
    """The fair benchmarks over ``dates`` (:func:`xlsector.benchmarks.fair_benchmarks`): EW buy-and-hold
    (unless it is the primary), EW rebalanced daily, the total-return index or the price index labelled so."""
    from xlsector.benchmarks import fair_benchmarks

    market = _market(args, rotation)
    index = rotation.data.get("index")
    key = rotation.key("fair", dates[0], dates[-1], len(dates), primary, _cache.frame_key(market))
    return _cache.result(key, lambda: fair_benchmarks(rotation.prices, dates, primary=primary, index=index,
                                                      market=market))


def _primary_label(rotation: Rotation, label: str) -> str:
    """The backtest's benchmark label, marked price only when it is the index column (a price index)."""
    from xlsector.benchmarks import primary_label

    index = rotation.data.get("index")
    return primary_label(label, {str(index.name)} if index is not None and index.name is not None else set())


# ---------------------------------------------------------------------------------------------------
# Python values -> cells
# ---------------------------------------------------------------------------------------------------


def _blank_nan(values: np.ndarray) -> list[list[Any]]:
    """2-D float array -> rows of Python floats with None (a blank cell) for NaN."""
    values = np.asarray(values, dtype=float)
    rows = values.tolist()
    for i in np.flatnonzero(np.isnan(values).any(axis=1)):  # usually only rows before a fund starts
        rows[i] = [None if math.isnan(x) else x for x in rows[i]]
    return rows


def _row_labels(index: pd.Index) -> list[Any]:
    """Dates as datetimes (Excel dates); the positions of an undated range as 1-based data row numbers; other
    labels (trend constants) as they are."""
    if isinstance(index, pd.DatetimeIndex):
        return list(index.to_pydatetime())
    if isinstance(index, pd.RangeIndex):
        return [int(i) + 1 for i in index]
    return [_cell(v) for v in index]


def _row_aligned(result: pd.DataFrame, prices: pd.DataFrame) -> list[list[Any]]:
    rows = _blank_nan(result.to_numpy(dtype=float))
    if _had_header(prices):
        rows.insert(0, [str(c) for c in result.columns])
    return rows


def _cell(value: Any) -> Any:
    """One output cell: NaN -> blank, numpy scalars -> Python, timestamps -> datetimes."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _table_rows(frame: pd.DataFrame, index_label: str | None = "Date") -> list[list[Any]]:
    """A frame as a header row and rows of cells (its index first, unless ``index_label`` is None)."""
    head = ([index_label] if index_label else []) + [str(c) for c in frame.columns]
    labels = _row_labels(frame.index) if index_label else None
    body = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    if labels is not None:
        body = [[label, *row] for label, row in zip(labels, body)]
    return [head, *body]


def _sample(frame: pd.DataFrame, every: str) -> pd.DataFrame:
    """The last row of each week or month (and always the last row), or every row."""
    if every == "day" or not isinstance(frame.index, pd.DatetimeIndex):
        return frame
    from xlsector.rotation import decision_days

    keep = decision_days(frame.index, "week" if every == "week" else "month")
    keep[0] = keep[-1] = True
    return frame[keep]


# ---------------------------------------------------------------------------------------------------
# trend maths (SPEC §1)
# ---------------------------------------------------------------------------------------------------


@_register
def EMA2_TREND(prices, tc, k=None, header=None, dates=None, funds=None):
    """EMA2 trend of each fund (SectorSurfer trend), one column per fund, spilling row by row."""
    from xlsector.trend import ema2

    frame = _prices(prices, funds, header=header, dates=dates)
    trend = ema2(frame, _strategy_param("tc", tc, _REQUIRED), k=_strategy_param("k", k))
    return _row_aligned(trend, frame)


@_register
def EMA_TREND(prices, tc, k=None, header=None, dates=None, funds=None):
    """First-stage EMA of k x daily returns of each fund, one column per fund, spilling row by row."""
    from xlsector.trend import ema

    frame = _prices(prices, funds, header=header, dates=dates)
    first = ema(frame, _strategy_param("tc", tc, _REQUIRED), k=_strategy_param("k", k))
    return _row_aligned(first, frame)


def _weights(kind: str, tc: Any, ages: Any, k: Any) -> Any:
    from xlsector import trend

    function = trend.ema_weights if kind == "ema" else trend.ema2_weights
    tc_value = _strategy_param("tc", tc, _REQUIRED)
    k_value = _strategy_param("k", k)
    single = _unwrap(ages)
    if _blank(single) or not isinstance(single, list | tuple):  # a count of ages 0..N-1
        count = _number(single, "ages", 250)
        try:
            weights = function(tc_value, int(count) if float(count).is_integer() else count, k=k_value)
        except XlsectorError as exc:
            raise XlwingsError(str(exc)) from None
        return [[float(w)] for w in weights]
    grid = [list(row) if isinstance(row, list | tuple) else [row] for row in ages]
    width = max(len(row) for row in grid)
    out: list[list[Any]] = []
    for row in grid:
        out_row: list[Any] = []
        for value in list(row) + [None] * (width - len(row)):
            if _blank(value):
                out_row.append(None)
            else:
                age = _number(value, "ages")
                out_row.append(float(function(tc_value, np.array([age]), k=k_value)[0]))
        out.append(out_row)
    return out


@_register
def EMA_WEIGHTS(tc, ages=None, k=None):
    """Weight of the daily return of each age in the EMA: k*a*(1-a)^t with a = 1/tc (Chart 1)."""
    return _weights("ema", tc, ages, k)


@_register
def EMA2_WEIGHTS(tc, ages=None, k=None):
    """Weight of the daily return of each age in the EMA2 trend: k*a^2*(t+1)*(1-a)^t (Chart 1)."""
    return _weights("ema2", tc, ages, k)


@_register
def MOMENTUM(prices, days, header=None, dates=None, funds=None):
    """N-day total-return momentum P(n)/P(n-days)-1 of each fund, spilling row by row."""
    from xlsector.trend import momentum

    frame = _prices(prices, funds, header=header, dates=dates)
    result = momentum(frame, _number(days, "days", whole=True))
    return _row_aligned(result, frame)


# ---------------------------------------------------------------------------------------------------
# rotation and backtest (SPEC §2)
# ---------------------------------------------------------------------------------------------------


@_register
def SECTOR_PICK(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None, delay=None,
                cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None, bear=None,
                funds=None):
    """Fund the rotation holds on the last row (or on as_of): best EMA2 trend with hysteresis, StormGuard."""
    return str(_backtest(_rotation(locals())).holdings.iloc[-1])


@_register
def SECTOR_SIGNAL(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                  delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                  bear=None, funds=None):
    """Today's action: held now, target decided at the last close, trade date, next decision, margins."""
    from xlsector.action import signal_from_result

    found = signal_from_result(_backtest(_rotation(locals())))
    return [["Item", "Value", "Meaning"]] + [[label, _cell(value), note] for label, value, note in found.rows()]


@_register
def SECTOR_PICKS(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                 delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                 bear=None, daily=None, funds=None, detail=None, start=None):
    """Pick history: date and fund held, one row per change of holding (or per day with daily=TRUE)."""
    result = _backtest(_rotation(locals()))
    frame = result.holdings.to_frame("Holding")
    if _flag(detail, "detail", False):
        frame["Target"] = result.targets
        frame["Hurdle"] = result.hurdle
        for name in result.assets[:-1]:
            frame[f"Trend {name}"] = result.trends[name]
    begin = _date(start, "start")
    if begin is not None:
        frame = frame.loc[begin:]
    if not _flag(daily, "daily", False):
        names = frame["Holding"].to_numpy()
        keep = np.ones(len(names), bool)
        keep[1:] = names[1:] != names[:-1]
        frame = frame[keep]
    return _table_rows(frame, "Date" if isinstance(frame.index, pd.DatetimeIndex) else "Row")


@_register
def BACKTEST_CAGR(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                  delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                  bear=None, cash_rate=None, funds=None):
    """CAGR of the rotation's backtest, net of costs, from its first pick to the last row (or as_of)."""
    from xlsector.measures import cagr

    rotation = _rotation(locals())
    _need_dates(rotation.prices, "BACKTEST_CAGR")
    returns = _backtest(rotation).returns  # its first row is the start point (return 0)
    return _cell(cagr(returns.iloc[1:], start=returns.index[0]))


@_register
def BACKTEST_METRICS(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                     delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                     bear=None, cash_rate=None, benchmark=None, with_benchmark=None, funds=None, market=None):
    """Backtest metrics table: metric, value, definition; with_benchmark adds the fair benchmarks, labelled."""
    from xlsector.benchmarks import as_columns

    args = locals()
    rotation = _rotation(args)
    _need_dates(rotation.prices, "BACKTEST_METRICS")
    result = _backtest(rotation)
    show_benchmark = _flag(with_benchmark, "with_benchmark", False)
    fair = _fair(args, rotation, result.dates, result.benchmark_label) if show_benchmark else {}
    table = result.metrics(benchmarks=as_columns(fair))
    head = ["Metric", "Value", "Definition"]
    if show_benchmark:
        head += [f"Benchmark: {_primary_label(rotation, result.benchmark_label)}"] + [b.label for b in fair.values()]
    rows = [head]
    for label, row in table.iterrows():
        line = [str(label), _cell(row["strategy"]), str(row["definition"])]
        if show_benchmark:
            line += [_cell(row["benchmark"])] + [_cell(row[key]) for key in fair]
        rows.append(line)
    return rows


@_register
def BACKTEST_EQUITY(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                    delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                    bear=None, cash_rate=None, benchmark=None, funds=None, every=None, market=None):
    """Growth of 1 of the rotation and its fair benchmarks over the same days (weekly samples by default)."""
    args = locals()
    rotation = _rotation(args)
    _need_dates(rotation.prices, "BACKTEST_EQUITY")
    result = _backtest(rotation)
    fair = _fair(args, rotation, result.dates, result.benchmark_label)
    frame = pd.DataFrame({"Strategy": result.equity,
                          f"Benchmark ({_primary_label(rotation, result.benchmark_label)})":
                              (1.0 + result.benchmark_returns).cumprod(),
                          **{b.key: (1.0 + b.returns).cumprod() for b in fair.values()}})
    return _table_rows(_sample(frame, _choice(every, "every", ("day", "week", "month"), "week")))


# ---------------------------------------------------------------------------------------------------
# StormGuard (SPEC §2)
# ---------------------------------------------------------------------------------------------------


def _stormguard(index: Any, column: Any, shift: Any, sg_tc: Any, k: Any) -> pd.DataFrame:
    from xlsector.rotation import stormguard

    table = _table(index, "index")
    chosen = _names(column, "column")
    if chosen is not None:
        table = _columns(table, chosen, "column")
    if table.shape[1] != 1:
        raise XlwingsError(f"index must be one column of values (plus optional dates), got {table.shape[1]} columns"
                           " (name one with column)")
    series = table.iloc[:, 0]
    shift_value = _strategy_param("shift", shift)
    tc_value = _strategy_param("sg_tc", sg_tc)
    k_value = _strategy_param("k", k)
    return _cache.result(("stormguard", _cache.frame_key(series), shift_value, tc_value, k_value),
                         lambda: stormguard(series, tc=tc_value, k=k_value, shift=shift_value))


@_register
def STORMGUARD_STATE(index, shift=None, sg_tc=None, as_of=None, k=None, column=None):
    """StormGuard's daily market state, BULL or BEAR, on the last row (or on as_of)."""
    states = _up_to(_stormguard(index, column, shift, sg_tc, k), _date(as_of, "as_of"))
    return "BULL" if bool(states["bull"].iloc[-1]) else "BEAR"


@_register
def STORMGUARD_HISTORY(index, shift=None, sg_tc=None, k=None, column=None, band=None):
    """StormGuard history: date, indicator (EMA2 of the index, tc 50) and state BULL/BEAR per row."""
    states = _stormguard(index, column, shift, sg_tc, k)
    label = "Date" if isinstance(states.index, pd.DatetimeIndex) else "Row"
    indicator = states["indicator"].to_numpy(dtype=float).tolist()
    bull = states["bull"].to_numpy(dtype=bool)
    rows = [[r, v, "BULL" if b else "BEAR"] for r, v, b in zip(_row_labels(states.index), indicator, bull)]
    if not _flag(band, "band", False):
        return [[label, "Indicator", "State"], *rows]
    edge = _strategy_param("shift", shift)
    return [[label, "Indicator", "State", "Bull above (+shift)", "Bear below (-shift)"]] + [
        [*row, edge, -edge] for row in rows]


# ---------------------------------------------------------------------------------------------------
# tuning (SPEC §4)
# ---------------------------------------------------------------------------------------------------


def _tuning(args: Mapping[str, Any]) -> TuningParams:
    """The tuning arguments of a tuning function (its ``locals()``), checked by the parameter model."""
    low = _number(args.get("tc_min"), "tc_min", param_of(TuningParams, "tc_min").default)
    high = _number(args.get("tc_max"), "tc_max", param_of(TuningParams, "tc_max").default)
    step = _number(args.get("tc_step"), "tc_step", param_of(TuningParams, "tc_step").default)
    if not 1 <= low <= high:
        raise XlwingsError(f"tc_min must be >= 1 and <= tc_max, got tc_min {low:g} and tc_max {high:g}")
    if step <= 0 or (high - low) / step + 1 > MAX_GRID:
        raise XlwingsError(f"tc_step must be > 0 and give at most {MAX_GRID} trend constants, got {step:g}")
    values = {name: _param(param_of(TuningParams, name), args.get(name)) for name in ("retune_days", "half_life")}
    try:
        return TuningParams(tc_min=low, tc_max=high, tc_step=step, born_on=_date(args.get("born_on"), "born_on"),
                            **values)
    except ParameterError as exc:
        raise XlwingsError(str(exc)) from None


def _grid(rotation: Rotation, tuning: TuningParams) -> Any:
    """The rotation for every tc of the grid: one run per (prices, strategy, series, grid), shared by every
    tuning table over the same range and settings."""
    return _grid_of(rotation, tuple(tuning.tcs))


def _grid_of(rotation: Rotation, tcs: tuple[float, ...]) -> Any:
    from xlsector.backtesting import run_backtest_grid

    kwargs = {k: v for k, v in rotation.strategy.to_dict().items() if k != "tc"}
    return _cache.result(rotation.key("grid", tcs),
                         lambda: run_backtest_grid(rotation.prices, tcs, **rotation.data, **kwargs))


def _grid_pbo(rotation: Rotation, tuning: TuningParams, blocks: int) -> tuple[Any, str]:
    """PBO (by score, CSCV with ``blocks``) of the grid's whole period, once per grid: (result or None, why not)."""
    from xlsector.evaluation import grid_pbo

    grid = _grid(rotation, tuning)
    return _cache.result(rotation.key("pbo", tuple(tuning.tcs), blocks), lambda: grid_pbo(grid, blocks))


def _blocks(value: Any) -> int:
    return int(_number(value, "blocks", 16, whole=True, low=2))


def _chart_report(rotation: Rotation, tuning: TuningParams, chart: Any, blocks: int, trials: Any = None) -> Any:
    from xlsector.evaluation import trend_chart_report

    found, note = _grid_pbo(rotation, tuning, blocks)
    return trend_chart_report(chart, _grid(rotation, tuning), blocks=blocks, n_trials=trials, pbo_result=found,
                              pbo_note=note)


def _part(value: Any, parts: tuple[str, ...]) -> str:
    return _choice(value, "part", parts, parts[0])


@_register
def TREND_CHART(prices, tc_min=None, tc_max=None, tc_step=None, hysteresis=None, index=None, stormguard=None,
                as_of=None, schedule=None, delay=None, cost_bp=None, half_life=None, min_hold=None, min_history=None,
                decay=None, shift=None, k=None, bear=None, funds=None, cash_rate=None, part=None):
    """Trend chart: score, CAGR, switches and max drawdown per tc; part: table, plateau, summary (edge, PBO, DSR)."""
    from xlsector.robustness import edge_report

    rotation = _rotation(locals(), tc=False)
    _need_dates(rotation.prices, "TREND_CHART")
    tuning = _tuning(locals())
    chart = _chart(rotation, tuning)
    view = _part(part, ("table", "plateau", "summary"))
    if view == "summary":
        edge = edge_report(chart)
        report = _chart_report(rotation, tuning, chart, 16)
        stats = {stat.key: stat for stat in report.stats()}
        n = f"{report.n_trials:,.0f}"
        pbo_label = (f"PBO (N = {report.pbo.n_trials} tcs, S = {report.pbo.blocks} blocks)" if report.pbo is not None
                     else "PBO")
        facts = [*chart.facts(), *edge.facts(),
                 ("Trials N (every tc of the grid)", report.n_trials),
                 ("Sharpe ratio at the peak (annualised)", stats["sharpe_annual"].shown),
                 ("PSR at the peak (one trial)", stats["psr"].shown),
                 (f"Expected max Sharpe of {n} trials (annualised)", stats["sr0_annual"].shown),
                 (f"DSR at the peak (N = {n})", stats["dsr"].shown),
                 (pbo_label, stats["pbo"].shown),
                 ("Conventions", "Sharpe per day x sqrt(252); raw kurtosis; PBO metric: the score per day "
                  "(mean log return); OVERFIT_STATS gives every figure with its definition")]
        return [["Item", "Value"]] + [[label, _cell(value)] for label, value in facts]
    table = chart.table
    if view == "plateau":
        return [["tc", "Score in plateau"]] + [[_cell(tc), _cell(score) if inside else None] for tc, score, inside
                                               in zip(table.index, table["score"], table["in_plateau"])]
    head = ["tc", "Score: " + chart.score_label, "CAGR", "Switches", "Max drawdown"]
    body = [
        [_cell(tc), _cell(score), _cell(cagr), int(switches), _cell(mdd)]
        for tc, score, cagr, switches, mdd in zip(
            table.index, table["score"], table["CAGR"], table["switches"], table["max_drawdown"]
        )
    ]
    return [head] + body


def _chart(rotation: Rotation, tuning: TuningParams) -> Any:
    from xlsector.tuning import trend_chart

    return _cache.result(rotation.key("chart", tuple(tuning.tcs), tuning.half_life),
                         lambda: trend_chart(rotation.prices, grid=_grid(rotation, tuning),
                                             score="cumulative" if tuning.half_life is None else tuning.half_life))


@_register
def OVERFIT_STATS(prices, tc_min=None, tc_max=None, tc_step=None, hysteresis=None, index=None, stormguard=None,
                  as_of=None, schedule=None, delay=None, cost_bp=None, half_life=None, min_hold=None,
                  min_history=None, decay=None, shift=None, k=None, bear=None, funds=None, cash_rate=None,
                  blocks=None, trials=None):
    """Overfitting statistics of the trend chart's peak: N, PSR, DSR, MinTRL, PBO, each with its definition."""
    rotation = _rotation(locals(), tc=False)
    _need_dates(rotation.prices, "OVERFIT_STATS")
    tuning = _tuning(locals())
    chart = _chart(rotation, tuning)
    count = _number(trials, "trials", None, low=1)
    report = _chart_report(rotation, tuning, chart, _blocks(blocks), count)
    return [["Statistic", "Value", "Definition"]] + [[label, _cell(value), text] for label, value, text
                                                    in report.rows()]


def _hysteresis_values(value: Any) -> list[float] | None:
    """The map's hysteresis values: a range of numbers or a text list; blank -> None (the defaults)."""
    single = _unwrap(value)
    if _blank(single):
        return None
    if isinstance(single, str):
        items: list[Any] = [v for v in single.replace(";", ",").split(",") if v.strip()]
    elif isinstance(value, list | tuple):
        items = [v for row in value for v in (row if isinstance(row, list | tuple) else [row]) if not _blank(v)]
    else:
        items = [single]
    out = [float(_param(param_of(Strategy, "hysteresis"), v)) for v in items]
    if len(out) > 20:
        raise XlwingsError(f"values must hold at most 20 hysteresis values, got {len(out)}")
    return out


@_register
def ROBUSTNESS_MAP(prices, tc_min=None, tc_max=None, tc_step=None, hysteresis=None, index=None, stormguard=None,
                   as_of=None, schedule=None, delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None,
                   shift=None, k=None, bear=None, funds=None, cash_rate=None, values=None, metric=None, part=None):
    """Metric (CAGR, score, Sharpe) over tc x hysteresis, in sample; part: map (default) or chosen (its marked point)."""
    from xlsector.robustness import DEFAULT_HYSTERESIS_VALUES, robustness_map

    rotation = _rotation(locals(), tc=False)
    _need_dates(rotation.prices, "ROBUSTNESS_MAP")
    tuning = _tuning(locals())
    chosen_metric = {"cagr": "CAGR", "score": "score", "sharpe": "Sharpe"}[
        _choice(metric, "metric", ("cagr", "score", "sharpe"), "cagr")]
    columns = _hysteresis_values(values) or list(DEFAULT_HYSTERESIS_VALUES)
    base = rotation.strategy.hysteresis
    peak = _chart(rotation, tuning.replace(half_life=None) if tuning.half_life is not None else tuning).peak_tc

    def grid_for(h: float, tcs: list[float]) -> Any:
        other = rotation if h == base else rotation._replace(strategy=rotation.strategy.replace(hysteresis=h))
        return _grid_of(other, tuple(tcs))

    found = _cache.result(rotation.key("map", tuple(tuning.tcs), tuple(columns), chosen_metric), lambda: robustness_map(
        rotation.prices, tuning.tcs, columns, metric=chosen_metric, chosen=(peak, base), grid_for=grid_for))
    if _part(part, ("map", "chosen")) == "chosen":
        return [["Item", "Value", "Definition"]] + [[label, _cell(value), text] for label, value, text in found.facts()]
    table = found.table
    head: list[Any] = [f"tc down, hysteresis across: {found.metric}"] + [float(h) for h in table.columns]
    return [head] + [[float(tc), *[_cell(v) for v in row]] for tc, row in zip(table.index, table.to_numpy().tolist())]


@_register
def TIMING_LUCK(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None, delay=None,
                cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None, bear=None,
                cash_rate=None, funds=None, offsets=None, part=None):
    """Timing luck: the strategy with its week/month decision day shifted 0..4 market days; part: table, summary."""
    from xlsector.robustness import DEFAULT_OFFSETS, timing_luck

    rotation = _rotation(locals())
    _need_dates(rotation.prices, "TIMING_LUCK")
    shifts = tuple(int(v) for v in _whole_numbers(offsets, "offsets")) if not _blank(_unwrap(offsets)) \
        else DEFAULT_OFFSETS
    kwargs = {k: v for k, v in rotation.strategy.to_dict().items() if k != "decision_offset"}
    found = _cache.result(rotation.key("timing", shifts),
                          lambda: timing_luck(rotation.prices, shifts, **rotation.data, **kwargs))
    if _part(part, ("table", "summary")) == "summary":
        return [["Item", "Value", "Definition"]] + [[label, _cell(value), text] for label, value, text in found.facts()]
    table = found.table
    return [["Decision-day offset (market days)", *map(str, table.columns)]] + [
        [int(offset), *[_cell(v) for v in row]] for offset, row in zip(table.index, table.to_numpy().tolist())]


def _whole_numbers(value: Any, name: str) -> list[float]:
    """Whole numbers >= 0 (at most 20) from a range or a text list."""
    single = _unwrap(value)
    if isinstance(single, str):
        items: list[Any] = [v for v in single.replace(";", ",").split(",") if v.strip()]
    elif isinstance(value, list | tuple):
        items = [v for row in value for v in (row if isinstance(row, list | tuple) else [row]) if not _blank(v)]
    else:
        items = [single]
    if not items or len(items) > 20:
        raise XlwingsError(f"{name} must hold 1 to 20 whole numbers, got {len(items)}")
    return [_number(v, name, whole=True, low=0) for v in items]


@_register
def STALE_DATA(last_date, next_retune=None, today=None, max_age=None):
    """Stale-data flag: how old the data is on today, and whether the next retune date is past."""
    from xlsector.action import staleness

    last = _date(last_date, "last_date")
    if last is None:
        raise XlwingsError("last_date is required: the data's last date (e.g. DataLastDate)")
    retune = _date(next_retune, "next_retune")
    now = _date(today, "today")
    for value, name in ((last, "last_date"), (retune, "next_retune"), (now, "today")):
        if value is not None and value.year < 1901:  # a serial 0: LibreOffice's blank cell, or no date at all
            raise XlwingsError(f"{name} must be a date after 1900, got {value:%Y-%m-%d}")
    age = int(_number(max_age, "max_age", 5, whole=True, low=0))
    return staleness(last, retune, today=now.date() if now is not None else None, max_age=age).text


@_register
def SPLIT_SAMPLE(prices, tc_min=None, tc_max=None, hysteresis=None, index=None, stormguard=None, schedule=None,
                 delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                 bear=None, funds=None, cash_rate=None, part=None):
    """Split-sample stationarity: score per tc on each half and the whole; part overfit: PSR, DSR, out of sample."""
    from xlsector.tuning import split_sample

    rotation = _rotation(locals(), tc=False)
    _need_dates(rotation.prices, "SPLIT_SAMPLE")
    tuning = _tuning(locals())
    grid = _grid(rotation, tuning)
    split = _cache.result(rotation.key("split", tuple(tuning.tcs)), lambda: split_sample(rotation.prices, grid=grid))
    if _part(part, ("table", "overfit")) == "overfit":
        from xlsector.evaluation import split_sample_report

        report = _cache.result(rotation.key("split overfit", tuple(tuning.tcs)),
                               lambda: split_sample_report(split, grid, with_pbo=False))
        names = {"first_half": "First half", "second_half": "Second half", "whole": "Whole period"}
        head = ["Window", "From", "To", "Peak tc", "Sharpe at the peak (annualised)", "PSR (one trial)",
                f"DSR (N = {len(grid.tcs)} tcs)", "Trials N", "Note"]
        rows: list[list[Any]] = [head]
        for name, line in report.iterrows():
            rows.append([names.get(str(name), str(name)), _cell(line["start"]), _cell(line["end"]),
                         _cell(line["peak_tc"]), _cell(line["sharpe_annual"]), _cell(line["psr"]), _cell(line["dsr"]),
                         _cell(line["n_trials"]), "in sample on its own window"])
        oos = report.attrs["out_of_sample"]
        rows.append(["First half's peak on the second half", _cell(split.attrs["periods"]["second_half"][0]),
                     _cell(split.attrs["periods"]["second_half"][1]), _cell(oos["first_half_peak_tc"]), None, None,
                     None, _cell(float(oos["of"])),
                     f"out of sample: rank {oos['its_rank_in_second_half']} of {oos['of']} tcs there (1 = best; the "
                     f"second half's own peak is tc {oos['second_half_peak_tc']:g})"])
        return rows
    periods = split.attrs["periods"]
    names = {"first_half": "First half", "second_half": "Second half", "whole": "Whole period"}
    frame = pd.DataFrame({f"{label} {periods[key][0]:%Y-%m-%d} to {periods[key][1]:%Y-%m-%d}": split[key]
                          for key, label in names.items()}, index=split.index)
    return _table_rows(frame, "tc")


@_register
def PROGRESSIVE_TUNE(prices, window=None, step=None, tc_min=None, tc_max=None, hysteresis=None, index=None,
                     stormguard=None, schedule=None, delay=None, cost_bp=None, min_hold=None, min_history=None,
                     decay=None, shift=None, k=None, bear=None, funds=None, cash_rate=None, part=None):
    """Progressive tune: every step market days, the best tc on the prior window; part summary: N, stability."""
    from xlsector.tuning import progressive_tune

    rotation = _rotation(locals(), tc=False)
    _need_dates(rotation.prices, "PROGRESSIVE_TUNE")
    tuning = _tuning(locals())
    try:
        frame = progressive_tune(rotation.prices, grid=_grid(rotation, tuning),
                                 window=_number(window, "window", 250, whole=True, low=1),
                                 step=_number(step, "step", 125, whole=True, low=1))
    except XlsectorError as exc:
        raise XlwingsError(str(exc)) from None
    if _part(part, ("table", "summary")) == "summary":
        from xlsector.evaluation import progressive_report

        found = progressive_report(frame, tuning.tcs)
        return [["Item", "Value", "Definition"],
                ["Trials N", found["n_trials"], found["n_note"]],
                ["Tunings", found["tunings"], "windows tuned"],
                ["Tuned tc: median", _cell(found["tuned_tc_median"]), "over the tunings"],
                ["Tuned tc: interquartile range", _cell(found["tuned_tc_iqr"]), "a wide range: an unstable optimum"],
                ["Share of tunings on the grid's edge", _cell(found["share_on_edge"]),
                 "best tc = TcMin or TcMax: the grid may be too narrow"]]
    frame = frame.set_index("date").rename(columns={"window_start": "Window start", "tc": "Tuned tc",
                                                    "score": "Score in window"})
    return _table_rows(frame, "Tuning date")


_FWPT_PARTS = ("retunes", "metrics", "series", "summary", "overfit", "sensitivity")


@_register
def FWPT_TABLE(prices, born_on=None, retune_days=None, tc_min=None, tc_max=None, hysteresis=None, index=None,
               stormguard=None, schedule=None, delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None,
               shift=None, k=None, bear=None, funds=None, cash_rate=None, benchmark=None, part=None, market=None):
    """Forward Walk Progressive Tuning: retunes; part: metrics, series, summary, overfit (PSR, DSR), sensitivity."""
    from xlsector.benchmarks import as_columns
    from xlsector.tuning import fwpt

    args = locals()
    rotation = _rotation(args, tc=False)
    _need_dates(rotation.prices, "FWPT_TABLE")
    tuning = _tuning(args)
    grid = _grid(rotation, tuning)
    result = _cache.result(rotation.key("fwpt", tuple(tuning.tcs), tuning),
                           lambda: fwpt(rotation.prices, born_on=tuning.born_on, retune_days=tuning.retune_days,
                                        grid=grid))
    view = _part(part, _FWPT_PARTS)
    if view == "metrics":
        fair = _fair(args, rotation, result.returns.index, result.benchmark_label)
        metrics = result.metrics(benchmarks=as_columns(fair))
        head = ["Metric", "Walk-forward (out of sample)", f"In-sample best tc {result.in_sample_tc:g}",
                f"Benchmark ({_primary_label(rotation, result.benchmark_label)})",
                *[b.label for b in fair.values()], "Definition"]
        return [head] + [[str(label), _cell(row["walk_forward"]), _cell(row["in_sample_best"]),
                          _cell(row["benchmark"]), *[_cell(row[key]) for key in fair], str(row["definition"])]
                         for label, row in metrics.iterrows()]
    if view == "series":
        return _table_rows(_sample(result.series(), "week"))
    if view in ("summary", "overfit"):
        from xlsector.evaluation import fwpt_report

        found, note = _grid_pbo(rotation, tuning, 16)
        report = _cache.result(rotation.key("fwpt overfit", tuple(tuning.tcs), tuning),
                               lambda: fwpt_report(result, grid, pbo_result=found, pbo_note=note))
        if view == "overfit":
            return [["Statistic", "Value", "Definition"]] + [[label, _cell(value), text] for label, value, text
                                                            in report.rows()]
        stats = {stat.key: stat for stat in report.stats()}
        n = f"{report.n_trials:,.0f}"
        edges = (float(grid.tcs[0]), float(grid.tcs[-1]))
        extra = [("Tuned tc now on the grid's edge", "YES: widen the grid (TcMin/TcMax)" if result.current_tc in edges
                  else "no"),
                 ("Share of tunings choosing the grid's edge", float(result.retunes["best_tc"].isin(edges).mean())),
                 (f"Trials N (grid x {int(result.retunes['tries'].sum())} tunings)", report.n_trials),
                 ("Walk-forward Sharpe (annualised)", stats["sharpe_annual"].shown),
                 ("PSR of the walk-forward (P[true SR > 0])", stats["psr"].shown),
                 (f"DSR of the walk-forward (N = {n})", stats["dsr"].shown),
                 (f"PBO of the tc grid (N = {len(grid.tcs)} tcs)", stats["pbo"].shown)]
        return [["Item", "Value"]] + [[label, _cell(value)] for label, value in [*result.facts(), *extra]]
    if view == "sensitivity":
        from xlsector.robustness import DEFAULT_RETUNE_DAYS, retune_sensitivity

        intervals = tuple(sorted({*DEFAULT_RETUNE_DAYS, int(tuning.retune_days)}))
        table = _cache.result(rotation.key("fwpt sensitivity", tuple(tuning.tcs), tuning.born_on, intervals),
                              lambda: retune_sensitivity(rotation.prices, intervals, grid=grid,
                                                         born_on=tuning.born_on))
        return _table_rows(table.rename(columns={"CAGR": "OOS CAGR", "Sharpe": "OOS Sharpe",
                                                 "Max drawdown": "OOS max drawdown", "PSR": "OOS PSR"}),
                           "Retune every (market days)")
    retunes = result.retunes
    head = ["Date", "Tuned tc", "Action", "tc in force"]
    return [head] + [
        [_cell(date), _cell(best), str(action), _cell(tc)]
        for date, best, action, tc in zip(retunes["date"], retunes["best_tc"], retunes["action"], retunes["tc"])
    ]


# ---------------------------------------------------------------------------------------------------
# portfolio of strategies (xlsector.portfolio): several rotations over one price range, weighted
# ---------------------------------------------------------------------------------------------------

_PORTFOLIO_PARTS = ("allocation", "metrics", "correlation", "equity", "summary")


def _strategy_rows(value: Any, name: str) -> list[list[Any]]:
    if _blank(value):
        raise XlwingsError(f"{name} is required: select the strategy rows (name, funds, tc, hysteresis)")
    if not isinstance(value, list | tuple):
        return [[value]]
    return [list(row) if isinstance(row, list | tuple) else [row] for row in value]


def _strategies(value: Any) -> tuple[tuple[str, tuple[str, ...], float | None, float | None], ...]:
    """(name, funds, tc or None, hysteresis or None) per non-blank row; a header row (text tc) is skipped."""
    out = []
    for i, row in enumerate(_strategy_rows(value, "strategies"), start=1):
        cells = [*row, None, None, None, None][:4]
        if all(_blank(c) for c in cells):
            continue
        name, funds, tc, hysteresis = (_unwrap(c) for c in cells)
        if i == 1 and isinstance(tc, str) and tc.strip() and not _looks_numeric(tc):
            continue
        if _blank(name) or not isinstance(name, str | int | float):
            raise XlwingsError(f"strategies row {i}: the first cell must name the strategy, got {describe_cell(name)}")
        if not isinstance(funds, str) or not split_tickers(funds):
            raise XlwingsError(f"strategies row {i}: the second cell must list funds (commas), got "
                               f"{describe_cell(funds)}")
        tc_value = None if _blank(tc) else _number(tc, f"strategies row {i} tc", low=1.0)
        h_value = None if _blank(hysteresis) else _number(hysteresis, f"strategies row {i} hysteresis", low=0.0)
        out.append((str(name).strip(), tuple(split_tickers(funds)), tc_value, h_value))
    if not out:
        raise XlwingsError("strategies has no strategy row (name, funds, tc, hysteresis)")
    return tuple(out)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _portfolio_weights(value: Any, count: int) -> tuple[float, ...] | None:
    if _blank(value):
        return None
    cells = [c for row in _strategy_rows(value, "weights") for c in row if not _blank(c)]
    numbers = tuple(_number(c, "weights", low=0.0) for c in cells)
    if len(numbers) != count:
        raise XlwingsError(f"weights must give one weight per strategy ({count}), got {len(numbers)}")
    return numbers


def _portfolio(prices: Any, strategies: Any, weights: Any, rebalance: Any, benchmark: Any) -> tuple[Any, Any]:
    from xlsector.portfolio import combine, normalise_weights, sleeve_from_rotation

    table = _table(prices)
    rows = _strategies(strategies)
    shares = _portfolio_weights(weights, len(rows))
    rule = _choice(rebalance, "rebalance", ("monthly", "quarterly", "never"), "monthly")
    bench = _side(benchmark, table, table, "benchmark", one=True)
    if not isinstance(table.index, pd.DatetimeIndex):
        raise XlwingsError("prices needs a date column for PORTFOLIO_TABLE (rebalancing and CAGR use dates)")
    key = ("portfolio", _cache.frame_key(table), rows, shares, rule, _cache.frame_key(bench))

    def compute() -> tuple[Any, Any]:
        try:
            sleeves = []
            for name, funds, tc, h in rows:
                extra: dict[str, Any] = {} if h is None else {"hysteresis": h}
                sleeves.append(sleeve_from_rotation(name, table, list(funds), tc=tc, **extra))
            result = combine(sleeves, normalise_weights(shares, len(sleeves)), rebalance=rule, benchmark=bench,
                             benchmark_label=None if bench is None else str(bench.name))
        except XlsectorError as exc:
            raise XlwingsError(str(exc)) from None
        return sleeves, result

    return _cache.result(key, compute)


@_register
def PORTFOLIO_TABLE(prices, strategies, weights=None, rebalance=None, amount=None, benchmark=None, part=None,
                    fractional=None):
    """Portfolio of strategies: allocation (shares to hold now), metrics, correlation, equity or summary."""
    from xlsector.portfolio import allocate

    sleeves, result = _portfolio(prices, strategies, weights, rebalance, benchmark)
    money = None if _blank(amount) else _number(amount, "amount", low=0.0)
    view = _choice(part, "part", _PORTFOLIO_PARTS, "allocation" if money is not None else "metrics")
    if view == "allocation":
        if money is None or money <= 0:
            raise XlwingsError("amount is required for part allocation: the money to allocate (a number > 0)")
        found = allocate(sleeves, money, result.weights, whole_shares=not _flag(fractional, "fractional", False))
        head = ["Fund", "Strategies", "Target amount", "Last price", "Price date", "Shares", "Value", "Weight"]
        return [head] + [[_cell(r["fund"]), r["strategies"], _cell(r["target"]), _cell(r["price"]),
                          _cell(r["price_date"]), _cell(r["shares"]), _cell(r["value"]), _cell(r["weight"])]
                         for r in found.table.to_dict(orient="records")]
    if view == "metrics":
        metrics = result.metrics()
        columns = [c for c in metrics.columns if c != "definition"]
        return [["Metric", *columns, "Definition"]] + [
            [str(label), *(_cell(row[c]) for c in columns), str(row["definition"])] for label, row in metrics.iterrows()]
    if view == "correlation":
        corr = result.correlation()
        return [["", *map(str, corr.columns)]] + [[str(label), *(_cell(v) for v in row)] for label, row in
                                                  corr.iterrows()]
    if view == "equity":
        return _table_rows(_sample(result.growth(), "week"))
    start, end = result.period
    rows: list[list[Any]] = [["Item", "Value"], ["Period start (start point)", _cell(start)],
                             ["Period end", _cell(end)], ["Rebalance", result.rebalance]]
    for sleeve, weight in zip(result.sleeves, result.weights):
        rows.append([f"Weight of {sleeve.name}", float(weight)])
        rows.append([f"{sleeve.name}: returns", sleeve.sample])
    return rows


#: The help of every argument of every function, by argument name (what Excel shows; other hosts, such as the
#: LibreOffice extension, read it from here).
DOC: dict[str, str] = {name: _doc(name) for function in __all__
                       for name in inspect.signature(globals()[function]).parameters}
