"""xlsector's Excel functions: thin xlwings wrappers over the core (SPEC §6). No maths here.

Each function converts its cells (``xlsector.data.cells_to_prices`` for price ranges, the helpers below
for single values), calls one core function and shapes the result into a value or a 2-D list that
spills. A user error (bad trend constant, too little history, text in prices, ...) raises xlwings'
``XlwingsError`` with a short message naming the argument: Excel shows it in the cell (Office.js runtimes
show a #VALUE! error with the message; classic xlwings shows the text), never a dialog and never a
wrong number.

One module for every runtime
    * classic xlwings (Windows, COM): name this module in the "UDF Modules" setting (``xlsector_udfs``
      with the ``udfs/`` folder on the PYTHONPATH, or ``udfs.xlsector_udfs`` after ``pip install
      xlsector``) and click "Import Functions" (or use the xlsector add-in);
    * xlwings Server and xlwings Lite (Office.js): with ``XLWINGS_ON_SERVER=true`` the same ``xw.func``
      / ``xw.arg`` decorators register these functions for the add-in's custom functions.
    On any other platform the decorators are no-ops and the functions are plain Python functions.

Why ``EMA2_TREND`` and not ``EMA2``: Excel reads ``EMA2`` as the cell in column EMA, row 2 (columns go
up to XFD), so ``=EMA2(...)`` can never be a function call. ``EMA2_TREND`` is the closest legal name and
appears in the autocomplete list as soon as the user types ``=EMA2``.

Conventions
    * Price ranges may include a header row (fund names) and a date column (real dates or Excel serial
      numbers); both are detected (``header``/``dates`` arguments force them where offered). Blank
      cells are missing prices (a fund that has not started yet); text, booleans and error values in a
      price cell are errors naming the cell.
    * Single-value arguments accept a number, a one-cell range (``[[x]]`` from Office.js), numeric text
      or a blank/omitted cell (= the default). An error value (``#N/A``) is reported, never defaulted.
    * Row-aligned results (``EMA2_TREND``, ``EMA_TREND``, ``MOMENTUM``) have one column per fund and one
      row per data row of the input, plus a header row of fund names when the input had one; they omit
      the date column so that the spill lines up with the prices when entered on the same rows. Empty
      rows at the end of the input range are not repeated. Missing values (before a fund's first price)
      are blank cells.
    * Tables built from scratch (histories, metrics, trend chart, FWPT) always start with a header row.

Parameters are not type-annotated on purpose: xlwings reads annotations as converters.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import numbers
from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw
from xlwings import XlwingsError

from xlsector.data.cells import cells_to_prices, excel_serial_to_datetime, is_excel_error
from xlsector.errors import XlsectorError

CATEGORY = "xlsector"
DEFAULT_K = 22.0

__all__ = [
    "BACKTEST_CAGR",
    "BACKTEST_METRICS",
    "EMA2_TREND",
    "EMA2_WEIGHTS",
    "EMA_TREND",
    "EMA_WEIGHTS",
    "FWPT_TABLE",
    "MOMENTUM",
    "SECTOR_PICK",
    "SECTOR_PICKS",
    "STORMGUARD_HISTORY",
    "STORMGUARD_STATE",
    "TREND_CHART",
]

# ---------------------------------------------------------------------------------------------------
# argument help shown by Excel (one place, so every function describes an argument the same way)
# ---------------------------------------------------------------------------------------------------

DOC = {
    "prices": "Price range: one column per fund, optional header row of names and date column (dates or serials).",
    "tc": "Trend constant in market days (>= 1), e.g. 50.",
    "k": "Scale of the trend (default 22; 21 in the source paper).",
    "header": "TRUE if the first row holds fund names, FALSE if not; blank = detect.",
    "dates": "TRUE if the first column holds dates, FALSE if not; blank = detect.",
    "ages": "Number of ages N (ages 0..N-1, default 250) or a range of ages in market days (0 = today).",
    "days": "Look-back in market days (whole number >= 1), e.g. 126.",
    "hysteresis": "Bonus for the fund just bought, trend units (default 0.01 = 1%); 0 = off.",
    "index": "S&P 500 price index range (one column, optional header/dates) for StormGuard.",
    "stormguard": "StormGuard mode: off (default), standard (month ends) or quick.",
    "as_of": "Date (or serial) to report; blank = the last row.",
    "schedule": "Decision days: daily (default), week or month.",
    "delay": "Days from decision to trade: 0 or 1 (default 1).",
    "cost_bp": "Cost per switch in basis points (default 10).",
    "min_hold": "Minimum market days to hold a fund (default 0).",
    "min_history": "Market days of prices a fund needs before it can be picked (default 22).",
    "decay": "Decay constant of the hysteresis bonus in market days; blank = tc.",
    "shift": "StormGuard band around 0, trend units (default 0.005 = 0.5%).",
    "bear": "Optional price range of bear-market funds held in StormGuard's bear state (else cash).",
    "daily": "TRUE: one row per day; FALSE (default): one row per change of holding.",
    "sg_tc": "Trend constant of the StormGuard indicator (default 50).",
    "cash_rate": "Annual cash rate in percent (e.g. 2), or a one-column range of it; blank = 0.",
    "benchmark": "Benchmark: a fund name in prices or a price range; blank = equal-weight buy-and-hold.",
    "with_benchmark": "TRUE adds the benchmark's figures as a last column (default FALSE).",
    "tc_min": "Smallest trend constant of the chart (default 2).",
    "tc_max": "Largest trend constant of the chart (default 200).",
    "tc_step": "Step between trend constants (default 1).",
    "half_life": "Half-life in market days weighting the score toward recent days; blank = plain score.",
    "born_on": "Born-on date of the walk-forward; blank = five years after the data start.",
    "retune_days": "Market days between retunes (default 125).",
}


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

    base = xw.conversion.RawValueAccessor

    @staticmethod
    def read_value(value: Any, options: dict[str, Any]) -> Any:
        if not isinstance(value, (list, tuple)):
            return [[_officejs_cell(value)]]
        if not value or not isinstance(value[0], (list, tuple)):
            value = [value]  # a single row
        if not all(type(row) is list for row in value):
            value = [list(row) if isinstance(row, (list, tuple)) else [row] for row in value]
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
            if isinstance(v, (dt.date, dt.datetime)):
                return datetime_to_formatted_number(v, options.get("date_format"), options.get("runtime", "1.4"))
            return v

        rows = value if isinstance(value, list) else [[value]]
        if set(map(type, chain.from_iterable(rows))) <= _READY:
            return rows
        return [row if set(map(type, row)) <= _READY else [cell(v) for v in row] for row in rows]


def _register(*arg_names: str, range_args: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Apply ``xw.func`` + one ``xw.arg`` per parameter: ranges as 2-D lists, error cells as "#N/A" text.

    Classic xlwings converts with its default reader (``ndim=2`` for ranges, ``err_to_str``); the Office.js
    runtimes with :class:`_OfficeJsCells` (every argument as a 2-D list, single values unwrapped by the
    conversion helpers below; results written by the same class).
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = _excel_function(f)
        for name in reversed(arg_names):
            options: dict[str, Any] = {"doc": DOC[name]}
            if _OFFICEJS:
                options["convert"] = _OfficeJsCells
            else:
                options["err_to_str"] = True
                if name in range_args:
                    options["ndim"] = 2
            f = xw.arg(name, **options)(f)
        if _OFFICEJS:
            f = xw.ret(_OfficeJsCells)(f)
        return xw.func(category=CATEGORY)(f)

    return decorate


# ---------------------------------------------------------------------------------------------------
# cells -> Python values
# ---------------------------------------------------------------------------------------------------

_REQUIRED = object()


def _unwrap(value: Any) -> Any:
    """``[[x]]``, ``[x]`` or a one-element array -> ``x``; anything larger is returned unchanged."""
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    return value


def _is_blank(value: Any) -> bool:
    """None, empty text, NaN, or an empty list (an empty range) count as a blank cell."""
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value)
    ) or (isinstance(value, (list, tuple)) and all(_is_blank(v) for v in value))


def _describe(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if is_excel_error(value):
        return f"the error value {value.strip()}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "a range of several cells"
    if isinstance(value, (dt.date, np.datetime64)):
        return f"the date {pd.Timestamp(value).date()}"
    return repr(value)


def _number(value: Any, name: str, default: Any = _REQUIRED, *, whole: bool = False) -> Any:
    """One number from a cell; blank -> ``default`` (required if none). Range rules are the core's."""
    value = _unwrap(value)
    if _is_blank(value):
        if default is _REQUIRED:
            raise XlwingsError(f"{name} is required")
        return default
    if isinstance(value, str) and not is_excel_error(value):
        try:
            value = float(value.strip())
        except ValueError:
            raise XlwingsError(f"{name} must be a number, got {_describe(value)}") from None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise XlwingsError(f"{name} must be a number, got {_describe(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise XlwingsError(f"{name} must be a finite number, got {value!r}")
    if whole:
        if not number.is_integer():
            raise XlwingsError(f"{name} must be a whole number, got {value!r}")
        if abs(number) > 1e9:  # no count of market days is this large; numpy indices overflow beyond
            raise XlwingsError(f"{name} must be a whole number of days below 1e9, got {value!r}")
        return int(number)
    return number


def _text(value: Any, name: str, default: str | None, choices: tuple[str, ...]) -> str | None:
    """One option word from a cell (case-insensitive); blank -> ``default``."""
    value = _unwrap(value)
    if _is_blank(value):
        return default
    if isinstance(value, str) and not is_excel_error(value) and value.strip().lower() in choices:
        return value.strip().lower()
    raise XlwingsError(f"{name} must be one of {', '.join(choices)}, got {_describe(value)}")


def _flag(value: Any, name: str, default: bool | None) -> bool | None:
    """TRUE/FALSE (or 1/0, yes/no) from a cell; blank -> ``default``."""
    value = _unwrap(value)
    if _is_blank(value):
        return default
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "false", "no"):
        return value.strip().lower() in ("true", "yes")
    raise XlwingsError(f"{name} must be TRUE or FALSE, got {_describe(value)}")


def _date(value: Any, name: str) -> pd.Timestamp | None:
    """A date from a cell: a date, an Excel serial number or ISO text; blank -> None."""
    value = _unwrap(value)
    if _is_blank(value):
        return None
    try:
        if isinstance(value, (dt.date, np.datetime64)):
            return pd.Timestamp(value).tz_localize(None) if pd.Timestamp(value).tz else pd.Timestamp(value)
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
            return pd.Timestamp(excel_serial_to_datetime([float(value)])[0])
        if isinstance(value, str) and not is_excel_error(value):
            return pd.Timestamp(dt.date.fromisoformat(value.strip()[:10]))
    except (ValueError, OverflowError, XlsectorError):
        pass
    raise XlwingsError(f"{name} must be a date, got {_describe(value)}")


def _prices(cells: Any, name: str = "prices", *, header: Any = None, dates: Any = None) -> pd.DataFrame:
    """A price range -> frame (via the shared converter); at least one fund column and one data row."""
    if _is_blank(_unwrap(cells)):
        raise XlwingsError(f"{name} is required: select the price range")
    if not isinstance(cells, (list, tuple)):
        cells = [[cells]]
    header_flag = _flag(header, "header", None)
    dates_flag = _flag(dates, "dates", None)
    try:
        frame = cells_to_prices(cells, header=header_flag, dates=dates_flag)
    except XlsectorError as exc:
        message = str(exc)
        message = message.removeprefix("cells: ")
        raise XlwingsError(f"{name}: {message}") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise XlwingsError(f"{name} has no prices: it needs at least one row of numbers")
    frame.attrs["xlsector_header"] = _had_header(frame, header_flag)
    return frame


def _had_header(frame: pd.DataFrame, header_flag: bool | None) -> bool:
    """Whether the range had a header row (forced, or detected: names other than the positional Col<j>)."""
    if header_flag is not None:
        return header_flag
    offset = 2 if isinstance(frame.index, pd.DatetimeIndex) else 1
    return [str(c) for c in frame.columns] != [f"Col{j + offset}" for j in range(frame.shape[1])]


def _series(cells: Any, name: str) -> pd.Series:
    """A one-column range (index level, cash rate) -> Series."""
    frame = _prices(cells, name)
    if frame.shape[1] != 1:
        raise XlwingsError(f"{name} must be one column of values (plus optional dates), got {frame.shape[1]} columns")
    return frame.iloc[:, 0]


def _on_dates(side: pd.Series | pd.DataFrame, prices: pd.DataFrame, name: str) -> pd.Series | pd.DataFrame:
    """Line a side range (index, bear funds, cash rate) up with the prices: by date when both have dates
    (the core aligns them), else row by row, which needs the same number of rows."""
    dated = isinstance(side.index, pd.DatetimeIndex)
    if dated and isinstance(prices.index, pd.DatetimeIndex):
        return side
    if len(side) != len(prices):
        raise XlwingsError(
            f"{name} has {len(side)} rows and prices {len(prices)}: give both a date column, or the same rows"
        )
    side = side.copy()
    side.index = prices.index
    return side


def _up_to(frame: pd.DataFrame, as_of: pd.Timestamp | None, name: str = "as_of") -> pd.DataFrame:
    """Rows up to and including ``as_of`` (no look-ahead: later rows cannot change earlier results)."""
    if as_of is None:
        return frame
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise XlwingsError(f"{name} needs a date column in the range")
    kept = frame.loc[: as_of]
    if kept.empty:
        raise XlwingsError(f"{name} {as_of.date()} is before the first date {frame.index[0].date()}")
    return kept


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
    """Dates as datetimes (Excel dates), else 1-based data row numbers."""
    if isinstance(index, pd.DatetimeIndex):
        return list(index.to_pydatetime())
    return list(range(1, len(index) + 1))


def _row_aligned(result: pd.DataFrame, prices: pd.DataFrame) -> list[list[Any]]:
    rows = _blank_nan(result.to_numpy(dtype=float))
    if prices.attrs.get("xlsector_header"):
        rows.insert(0, [str(c) for c in result.columns])
    return rows


def _cell(value: Any) -> Any:
    """One output cell: NaN -> blank, numpy scalars -> Python, timestamps -> datetimes."""
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# ---------------------------------------------------------------------------------------------------
# trend maths (SPEC §1)
# ---------------------------------------------------------------------------------------------------


@_register("prices", "tc", "k", "header", "dates", range_args=("prices",))
def EMA2_TREND(prices, tc, k=None, header=None, dates=None):
    """EMA2 trend of each fund (SectorSurfer trend), one column per fund, spilling row by row."""
    from xlsector.trend import ema2

    frame = _prices(prices, header=header, dates=dates)
    trend = ema2(frame, _number(tc, "tc"), k=_number(k, "k", DEFAULT_K))
    return _row_aligned(trend, frame)


@_register("prices", "tc", "k", "header", "dates", range_args=("prices",))
def EMA_TREND(prices, tc, k=None, header=None, dates=None):
    """First-stage EMA of k x daily returns of each fund, one column per fund, spilling row by row."""
    from xlsector.trend import ema

    frame = _prices(prices, header=header, dates=dates)
    first = ema(frame, _number(tc, "tc"), k=_number(k, "k", DEFAULT_K))
    return _row_aligned(first, frame)


def _weights(kind: str, tc: Any, ages: Any, k: Any) -> Any:
    from xlsector import trend

    function = trend.ema_weights if kind == "ema" else trend.ema2_weights
    tc_value = _number(tc, "tc")
    k_value = _number(k, "k", DEFAULT_K)
    single = _unwrap(ages)
    if _is_blank(single) or not isinstance(single, (list, tuple)):  # a count of ages 0..N-1
        count = _number(single, "ages", 250, whole=False)
        weights = function(tc_value, count if not float(count).is_integer() else int(count), k=k_value)
        return [[float(w)] for w in weights]
    grid = [list(row) if isinstance(row, (list, tuple)) else [row] for row in ages]
    width = max(len(row) for row in grid)
    out: list[list[Any]] = []
    for row in grid:
        out_row: list[Any] = []
        for value in list(row) + [None] * (width - len(row)):
            if _is_blank(value):
                out_row.append(None)
            else:
                age = _number(value, "ages")
                out_row.append(float(function(tc_value, np.array([age]), k=k_value)[0]))
        out.append(out_row)
    return out


@_register("tc", "ages", "k", range_args=("ages",))
def EMA_WEIGHTS(tc, ages=None, k=None):
    """Weight of the daily return of each age in the EMA: k*a*(1-a)^t with a = 1/tc (Chart 1)."""
    return _weights("ema", tc, ages, k)


@_register("tc", "ages", "k", range_args=("ages",))
def EMA2_WEIGHTS(tc, ages=None, k=None):
    """Weight of the daily return of each age in the EMA2 trend: k*a^2*(t+1)*(1-a)^t (Chart 1)."""
    return _weights("ema2", tc, ages, k)


@_register("prices", "days", "header", "dates", range_args=("prices",))
def MOMENTUM(prices, days, header=None, dates=None):
    """N-day total-return momentum P(n)/P(n-days)-1 of each fund, spilling row by row."""
    from xlsector.trend import momentum

    frame = _prices(prices, header=header, dates=dates)
    result = momentum(frame, _number(days, "days", whole=True))
    return _row_aligned(result, frame)


# ---------------------------------------------------------------------------------------------------
# rotation and backtest (SPEC §2)
# ---------------------------------------------------------------------------------------------------

_STRATEGY_ARGS = (
    "prices", "tc", "hysteresis", "index", "stormguard", "as_of", "schedule", "delay", "cost_bp",
    "min_hold", "min_history", "decay", "shift", "k", "bear",
)
_STRATEGY_RANGES = ("prices", "index", "bear")


def _strategy(prices, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp, min_hold=None,
              min_history=None, decay=None, shift=None, k=None, bear=None):
    """Convert the shared strategy arguments: (price frame up to ``as_of``, keyword arguments of the core)."""
    frame = _up_to(_prices(prices), _date(as_of, "as_of"))
    mode = _text(stormguard, "stormguard", None, ("off", "standard", "quick"))
    params: dict[str, Any] = {
        "hysteresis": _number(hysteresis, "hysteresis", 0.01),
        "stormguard": None if mode == "off" else mode,
        "schedule": _text(schedule, "schedule", "daily", ("daily", "week", "month")),
        "delay": _number(delay, "delay", 1, whole=True),
        "cost_bp": _number(cost_bp, "cost_bp", 10.0),
        "min_hold": _number(min_hold, "min_hold", 0, whole=True),
        "min_history": _number(min_history, "min_history", 22, whole=True),
        "decay": _number(decay, "decay", None),
        "shift": _number(shift, "shift", 0.005),
        "k": _number(k, "k", DEFAULT_K),
    }
    if not _is_blank(_unwrap(index)):
        params["index"] = _on_dates(_series(index, "index"), frame, "index")
    elif params["stormguard"] is not None:
        raise XlwingsError("stormguard needs index: the S&P 500 price index range")
    if not _is_blank(_unwrap(bear)):
        params["bear"] = _on_dates(_prices(bear, "bear"), frame, "bear")
    return frame, params


def _backtest(prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp, min_hold,
              min_history, decay, shift, k, bear, *, cash_rate=None, benchmark=None):
    """Convert the shared strategy arguments and run the core backtest up to ``as_of``."""
    from xlsector.backtesting import run_backtest

    frame, params = _strategy(prices, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp, min_hold,
                              min_history, decay, shift, k, bear)
    if cash_rate is not None:
        params["cash_rate"] = cash_rate
    if benchmark is not None:
        params["benchmark"] = benchmark
    return frame, run_backtest(frame, tc=_number(tc, "tc"), **params)


def _cash_rate(value: Any, prices: Any) -> Any:
    """Cash rate argument in percent (a number or a one-column range) -> the core's decimal rate."""
    if _is_blank(_unwrap(value)):
        return None
    single = _unwrap(value)
    if not isinstance(single, (list, tuple)):
        return _number(single, "cash_rate") / 100.0
    frame = _prices(prices)
    return _on_dates(_series(value, "cash_rate"), frame, "cash_rate") / 100.0


def _benchmark(value: Any, prices: Any) -> Any:
    single = _unwrap(value)
    if _is_blank(single):
        return None
    if isinstance(single, str) and not is_excel_error(single):
        return single.strip()
    if not isinstance(single, (list, tuple)):
        raise XlwingsError(f"benchmark must be a fund name or a price range, got {_describe(single)}")
    return _on_dates(_series(value, "benchmark"), _prices(prices), "benchmark")


@_register(*_STRATEGY_ARGS, range_args=_STRATEGY_RANGES)
def SECTOR_PICK(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None, delay=None,
                cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None, bear=None):
    """Fund the rotation holds on the last row (or on as_of): best EMA2 trend with hysteresis, StormGuard."""
    _, result = _backtest(prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp,
                          min_hold, min_history, decay, shift, k, bear)
    return str(result.holdings.iloc[-1])


@_register(*_STRATEGY_ARGS, "daily", range_args=_STRATEGY_RANGES)
def SECTOR_PICKS(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                 delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                 bear=None, daily=None):
    """Pick history: date and fund held, one row per change of holding (or per day with daily=TRUE)."""
    _, result = _backtest(prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp,
                          min_hold, min_history, decay, shift, k, bear)
    holdings = result.holdings
    label = "Date" if isinstance(holdings.index, pd.DatetimeIndex) else "Row"
    if not _flag(daily, "daily", False):
        names = holdings.to_numpy()
        keep = np.ones(len(names), bool)
        keep[1:] = names[1:] != names[:-1]
        holdings = holdings[keep]
    if label == "Row":  # data row numbers of the range, counted from 1
        rows = [int(i) + 1 for i in holdings.index]
    else:
        rows = list(holdings.index.to_pydatetime())
    return [[label, "Holding"]] + [[r, str(h)] for r, h in zip(rows, holdings.to_numpy())]


def _need_dates(frame: pd.DataFrame, function: str) -> None:
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise XlwingsError(f"prices needs a date column for {function} (CAGR counts calendar days)")
    if len(frame.index) > 1 and not (frame.index[1:] > frame.index[:-1]).all():
        raise XlwingsError("prices dates must be sorted and unique")


@_register(*_STRATEGY_ARGS, "cash_rate", range_args=_STRATEGY_RANGES + ("cash_rate",))
def BACKTEST_CAGR(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                  delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                  bear=None, cash_rate=None):
    """CAGR of the rotation's backtest, net of costs, from its first pick to the last row (or as_of)."""
    from xlsector.measures import cagr

    frame, result = _backtest(prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp,
                              min_hold, min_history, decay, shift, k, bear,
                              cash_rate=_cash_rate(cash_rate, prices))
    _need_dates(frame, "BACKTEST_CAGR")
    return _cell(cagr(result.returns))


@_register(*_STRATEGY_ARGS, "cash_rate", "benchmark", "with_benchmark",
           range_args=_STRATEGY_RANGES + ("cash_rate", "benchmark"))
def BACKTEST_METRICS(prices, tc, hysteresis=None, index=None, stormguard=None, as_of=None, schedule=None,
                     delay=None, cost_bp=None, min_hold=None, min_history=None, decay=None, shift=None, k=None,
                     bear=None, cash_rate=None, benchmark=None, with_benchmark=None):
    """Backtest metrics table: metric, value, definition (CAGR, Sharpe, max drawdown, win rates, ...)."""
    frame, result = _backtest(prices, tc, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp,
                              min_hold, min_history, decay, shift, k, bear,
                              cash_rate=_cash_rate(cash_rate, prices), benchmark=_benchmark(benchmark, prices))
    _need_dates(frame, "BACKTEST_METRICS")
    table = result.metrics()
    show_benchmark = _flag(with_benchmark, "with_benchmark", False)
    head = ["Metric", "Value", "Definition"] + (["Benchmark"] if show_benchmark else [])
    rows = [head]
    for label, row in table.iterrows():
        line = [str(label), _cell(row["strategy"]), str(row["definition"])]
        if show_benchmark:
            line.append(_cell(row["benchmark"]) if "benchmark" in table.columns else None)
        rows.append(line)
    return rows


# ---------------------------------------------------------------------------------------------------
# StormGuard (SPEC §2)
# ---------------------------------------------------------------------------------------------------


def _stormguard(index: Any, shift: Any, tc: Any, k: Any) -> pd.DataFrame:
    from xlsector.rotation import STORMGUARD_SHIFT, STORMGUARD_TC, stormguard

    series = _series(index, "index")
    return stormguard(series, tc=_number(tc, "tc", STORMGUARD_TC), k=_number(k, "k", DEFAULT_K),
                      shift=_number(shift, "shift", STORMGUARD_SHIFT))


@_register("index", "shift", "tc", "as_of", "k", range_args=("index",))
def STORMGUARD_STATE(index, shift=None, tc=None, as_of=None, k=None):
    """StormGuard's daily market state, BULL or BEAR, on the last row (or on as_of)."""
    states = _up_to(_stormguard(index, shift, tc, k), _date(as_of, "as_of"))
    return "BULL" if bool(states["bull"].iloc[-1]) else "BEAR"


@_register("index", "shift", "tc", "k", range_args=("index",))
def STORMGUARD_HISTORY(index, shift=None, tc=None, k=None):
    """StormGuard history: date, indicator (EMA2 of the index, tc 50) and state BULL/BEAR per row."""
    states = _stormguard(index, shift, tc, k)
    label = "Date" if isinstance(states.index, pd.DatetimeIndex) else "Row"
    indicator = states["indicator"].to_numpy(dtype=float).tolist()
    bull = states["bull"].to_numpy(dtype=bool)
    return [[label, "Indicator", "State"]] + [
        [r, v, "BULL" if b else "BEAR"] for r, v, b in zip(_row_labels(states.index), indicator, bull)
    ]


# ---------------------------------------------------------------------------------------------------
# tuning (SPEC §4)
# ---------------------------------------------------------------------------------------------------


def _tc_grid(tc_min: Any, tc_max: Any, tc_step: Any) -> np.ndarray:
    """The grid of trend constants tc_min, tc_min + tc_step, ..., tc_max (at most 2000 of them)."""
    low = _number(tc_min, "tc_min", 2.0)
    high = _number(tc_max, "tc_max", 200.0)
    step = _number(tc_step, "tc_step", 1.0)
    if not 1 <= low <= high:
        raise XlwingsError(f"tc_min must be >= 1 and <= tc_max, got tc_min {low:g} and tc_max {high:g}")
    if step <= 0 or (high - low) / step > 2000:
        raise XlwingsError(f"tc_step must be > 0 and give at most 2000 trend constants, got {step:g}")
    count = math.floor((high - low) / step + 1e-9) + 1
    return low + step * np.arange(count)


@_register("prices", "tc_min", "tc_max", "tc_step", "hysteresis", "index", "stormguard", "as_of", "schedule",
           "delay", "cost_bp", "half_life", range_args=("prices", "index"))
def TREND_CHART(prices, tc_min=None, tc_max=None, tc_step=None, hysteresis=None, index=None, stormguard=None,
                as_of=None, schedule=None, delay=None, cost_bp=None, half_life=None):
    """Trend chart: score, CAGR, switches and max drawdown of the rotation for each trend constant."""
    from xlsector.tuning import trend_chart

    frame, params = _strategy(prices, hysteresis, index, stormguard, as_of, schedule, delay, cost_bp)
    _need_dates(frame, "TREND_CHART")
    life = _number(half_life, "half_life", None)
    chart = trend_chart(frame, tcs=_tc_grid(tc_min, tc_max, tc_step),
                        score="cumulative" if life is None else life, **params)
    table = chart.table
    head = ["tc", "Score: " + chart.score_label, "CAGR", "Switches", "Max drawdown"]
    body = [
        [_cell(tc), _cell(score), _cell(cagr), int(switches), _cell(mdd)]
        for tc, score, cagr, switches, mdd in zip(
            table.index, table["score"], table["CAGR"], table["switches"], table["max_drawdown"]
        )
    ]
    return [head] + body


@_register("prices", "born_on", "retune_days", "tc_min", "tc_max", "hysteresis", "index", "stormguard",
           "schedule", "delay", "cost_bp", range_args=("prices", "index"))
def FWPT_TABLE(prices, born_on=None, retune_days=None, tc_min=None, tc_max=None, hysteresis=None, index=None,
               stormguard=None, schedule=None, delay=None, cost_bp=None):
    """Forward Walk Progressive Tuning: each retune date, the tuned tc, what was done and the tc in force."""
    from xlsector.tuning import fwpt

    frame, params = _strategy(prices, hysteresis, index, stormguard, None, schedule, delay, cost_bp)
    _need_dates(frame, "FWPT_TABLE")
    result = fwpt(frame, born_on=_date(born_on, "born_on"), retune_days=_number(retune_days, "retune_days", 125,
                  whole=True), tcs=_tc_grid(tc_min, tc_max, None), **params)
    retunes = result.retunes
    head = ["Date", "Tuned tc", "Action", "tc in force"]
    return [head] + [
        [_cell(date), _cell(best), str(action), _cell(tc)]
        for date, best, action, tc in zip(retunes["date"], retunes["best_tc"], retunes["action"], retunes["tc"])
    ]
