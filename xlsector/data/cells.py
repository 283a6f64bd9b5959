"""The one converter from spreadsheet "cells" to a clean price frame.

"Cells" are what xlwings (or openpyxl, or a user) delivers for a range: a list of rows, each a list of
``float``/``int``, ``str``, ``None`` (blank), ``bool``, ``datetime``/``date``, or an Excel error shown
as a string (``"#N/A"``, ``"#DIV/0!"``, ...). Rows may be ragged; a single column may come as a flat list.
The Excel functions, the workbook render and the command line all go through :func:`cells_to_prices`, so
one range gives the same frame everywhere.

Detection rules (each can be forced with ``header=`` / ``dates=``):

Header row
    The first row is a header when it has at least one non-blank text cell that is not an Excel error
    value, and no number, boolean or date cell. Header cells that are blank (or an error value) are
    named ``"Col<j>"`` after their 1-based column position in the range.
Date column
    Only considered when the range has at least two columns. The first column is the date column when
    its non-blank data cells are all dates or times (``datetime``, ``date``, ``numpy.datetime64``); or
    all whole numbers from 18264 to 73050 (Excel serial dates 1950-01-01 .. 2099-12-31) in strictly
    increasing order; or all ISO text dates (``"2020-01-31"``); or when the header's first cell
    contains the word "date" (any case), in which case serial numbers of any valid range are accepted.
Excel serial dates
    The 1900 date system: serial 1 = 1900-01-01, serial 59 = 1900-02-28, serial 61 = 1900-03-01. Serial
    60 is Excel's fictitious 1900-02-29 and is rejected with a :class:`DataError`, as are serials < 1.
    A fraction is a time of day and is kept.
Blanks
    ``None``, ``""`` and NaN are missing prices (NaN). Rows and columns at the end of the range that are
    blank throughout are dropped (a range larger than its data); with a date column, any row whose date
    and prices are all blank is dropped. A blank date with a price on the same row is a :class:`DataError`.
Prices
    Must be numbers. Text, booleans and Excel error values in a price cell raise :class:`DataError`
    naming the cell as Excel would (``row 5, column 3 (XLF)``, counted from the range's top-left cell)
    and the value.

The converter does not sort, de-duplicate or check prices > 0; :func:`xlsector.data.validate_prices`
does that.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import DataError

try:  # pandas' private helper, stable for years; the generic path stands in should it go away
    from pandas._libs.lib import to_object_array as _to_object_array  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    _to_object_array = None

__all__ = ["EXCEL_ERRORS", "cells_to_prices", "excel_serial_to_datetime", "is_excel_error"]

#: Excel error values as xlwings (``err_to_str``) and openpyxl deliver them.
EXCEL_ERRORS = frozenset(
    {
        "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
        "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#EXTERNAL!",
        "#PYTHON!", "#TIMEOUT!",
    }
)  # fmt: skip

_NUMERIC_KINDS = frozenset({"floating", "integer", "mixed-integer-float", "empty"})
_DATE_KINDS = frozenset({"datetime", "datetime64", "date"})
_SERIAL_MIN, _SERIAL_MAX = 18264, 73050  # 1950-01-01 .. 2099-12-31, auto-detection range only
_SERIAL_LIMIT = 2958465  # 9999-12-31, the last date Excel knows
_EPOCH = np.datetime64("1899-12-30", "us")  # serial 61 and later: epoch + serial days
_DAY_US = 86_400_000_000
_DATE_WORD = re.compile(r"date", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$")


def is_excel_error(value: Any) -> bool:
    """True when ``value`` is an Excel error value shown as text (``"#N/A"``, ``"#DIV/0!"``, ...)."""
    return isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return value.strip() == ""
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_datetime(value: Any) -> bool:
    return isinstance(value, (_dt.date, np.datetime64))  # datetime and pd.Timestamp are dates too


def _where(row: int, col: int, name: str | None) -> str:
    label = f" ({name})" if name else ""
    return f"row {row}, column {col}{label}"


def _describe(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return f"the boolean {'TRUE' if value else 'FALSE'}"
    if is_excel_error(value):
        return f"the error value {value.strip()}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    return f"the value {value!r} of type {type(value).__name__}"


def excel_serial_to_datetime(serials: Any) -> np.ndarray:
    """Convert Excel 1900-system serial numbers to ``datetime64[us]`` (array in, array out).

    Serial 1 = 1900-01-01; serials from 61 on count days from 1899-12-30 (Excel's fictitious
    1900-02-29 is serial 60, which is rejected, as are serials < 1 or after 9999-12-31).
    """
    values = np.asarray(serials, dtype=float)
    bad = (
        ~np.isfinite(values) | (values < 1) | (values >= _SERIAL_LIMIT + 1) | ((values >= 60) & (values < 61))
    )
    if bad.any():
        first = values.ravel()[np.flatnonzero(bad.ravel())[0]]
        reason = "Excel's fictitious 1900-02-29" if 60 <= first < 61 else "outside Excel's dates 1 .. 2958465"
        raise DataError(f"Excel serial date {first!r} is not a date ({reason})")
    shifted = np.where(values < 60, values + 1, values)  # before the fake leap day everything is one day off
    micros = np.round(shifted * _DAY_US).astype(np.int64)
    return _EPOCH + micros.astype("timedelta64[us]")


def _to_object_grid(cells: Any) -> np.ndarray:
    """Cells -> 2-D object array (rows padded with None). Fast path for equal-length rows."""
    if isinstance(cells, pd.DataFrame):
        cells = cells.to_numpy(dtype=object).tolist()
    if isinstance(cells, np.ndarray):
        if cells.ndim == 0:
            return np.array([[cells.item()]], dtype=object)
        if cells.ndim == 1:
            return cells.astype(object).reshape(-1, 1)
        if cells.ndim == 2:
            return cells.astype(object, copy=False)
        raise DataError(f"cells must be a 1-D or 2-D range, got an array with {cells.ndim} dimensions")
    if isinstance(cells, (str, bytes)) or not isinstance(cells, Sequence):
        return np.array([[cells]], dtype=object)  # one cell
    rows = list(cells)
    if not rows:
        return np.empty((0, 0), dtype=object)
    if not any(isinstance(row, (list, tuple, np.ndarray)) for row in rows):
        grid = np.empty((len(rows), 1), dtype=object)  # a single column delivered as a flat list
        grid[:, 0] = rows
        return grid
    if not set(map(type, rows)) <= {list, tuple}:
        rows = [row if isinstance(row, (list, tuple, np.ndarray)) else [row] for row in rows]
    elif _to_object_array is not None:
        # pandas' C loop: rows of lists or tuples to a 2-D object array, short rows padded with None
        # (a third of the time of the generic path below, which was half of the whole conversion)
        return _to_object_array(rows)
    lengths = set(map(len, rows))
    width = max(lengths)
    if len(lengths) == 1:
        flat = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * width)
        return flat.reshape(len(rows), width)
    grid = np.full((len(rows), width), None, dtype=object)
    for i, row in enumerate(rows):
        grid[i, : len(row)] = list(row)
    return grid


def _blank_mask(grid: np.ndarray) -> np.ndarray:
    """Boolean mask of blank cells (None, NaN, empty text) in an object grid."""
    return np.frompyfunc(_is_blank, 1, 1)(grid).astype(bool) if grid.size else np.zeros(grid.shape, bool)


def _trim(grid: np.ndarray) -> np.ndarray:
    """Drop trailing all-blank rows and columns (a range larger than its data)."""
    if grid.size == 0:
        return grid
    # cheap check first: most ranges end with data
    last_row, last_col = grid[-1], grid[:, -1]
    if not all(map(_is_blank, last_row)) and not all(map(_is_blank, last_col)):
        return grid
    blank = _blank_mask(grid)
    rows = np.flatnonzero(~blank.all(axis=1))
    cols = np.flatnonzero(~blank.all(axis=0))
    if rows.size == 0:
        return grid[:0, :0]
    return grid[: rows[-1] + 1, : cols[-1] + 1]


def _looks_like_header(row: np.ndarray) -> bool:
    has_text = False
    for value in row:
        if _is_blank(value) or is_excel_error(value):
            continue
        if isinstance(value, str):
            has_text = True
        else:
            return False
    return has_text


def _header_names(row: np.ndarray | None, width: int) -> list[str]:
    names = []
    for j in range(width):
        value = None if row is None else row[j]
        if _is_blank(value) or is_excel_error(value):
            names.append(f"Col{j + 1}")
        elif isinstance(value, float) and value.is_integer():
            names.append(str(int(value)))
        else:
            names.append(str(value).strip())
    return names


def _kind(values: np.ndarray) -> str:
    return pd.api.types.infer_dtype(values, skipna=True)


def _is_serial_column(values: np.ndarray) -> bool:
    numbers = values[~np.asarray(pd.isna(values), dtype=bool)]  # numeric kind: blanks are None/NaN
    if numbers.size == 0:
        return False
    try:
        serials = numbers.astype(float)
    except (TypeError, ValueError):
        return False
    return bool(
        np.all(serials == np.floor(serials))
        and serials.min() >= _SERIAL_MIN
        and serials.max() <= _SERIAL_MAX
        and (serials.size == 1 or np.all(np.diff(serials) > 0))
    )


def _is_iso_text_column(values: np.ndarray) -> bool:
    texts = [v for v in values if not _is_blank(v)]
    return bool(texts) and all(isinstance(v, str) and _ISO_DATE.match(v) for v in texts)


def _detect_dates(column: np.ndarray, header_cell: Any, kind: str | None) -> bool:
    if isinstance(header_cell, str) and _DATE_WORD.search(header_cell):
        return True
    if kind in _DATE_KINDS:
        return True
    if kind in ("floating", "integer", "mixed-integer-float"):
        return _is_serial_column(column)
    if kind == "string":
        return _is_iso_text_column(column)
    return False


def _convert_dates(
    column: np.ndarray, rows: np.ndarray, name: str, kind: str | None = None
) -> pd.DatetimeIndex:
    """Convert the date column (no blanks left) to a DatetimeIndex; DataError names the bad cell."""
    kind = kind or _kind(column)
    try:
        if kind in _DATE_KINDS:
            index = pd.DatetimeIndex(pd.to_datetime(column, cache=False))
        elif kind in ("floating", "integer", "mixed-integer-float"):
            index = pd.DatetimeIndex(excel_serial_to_datetime(column.astype(float)))
        elif kind == "string" and _is_iso_text_column(column):
            index = pd.DatetimeIndex(pd.to_datetime(column.astype(str), format="ISO8601"))
        else:
            raise ValueError
    except (ValueError, TypeError, OverflowError, DataError):
        for i, value in enumerate(column):  # find the first offending cell
            try:
                if _is_datetime(value):
                    pd.Timestamp(value)
                elif _is_number(value):
                    excel_serial_to_datetime([value])
                elif isinstance(value, str) and _ISO_DATE.match(value):
                    pd.Timestamp(value)
                else:
                    raise ValueError
            except (ValueError, TypeError, OverflowError, DataError):
                raise DataError(
                    f"cells: {_where(int(rows[i]), 1, name)} should hold a date, got {_describe(value)}"
                ) from None
        raise DataError(f"cells: column 1 ({name}) mixes kinds of dates; use one kind") from None
    if index.tz is not None:
        index = index.tz_localize(None)
    return index.as_unit("us").rename(name)


def _convert_prices(block: np.ndarray, rows: np.ndarray, col0: int, names: list[str]) -> np.ndarray:
    """Object block -> float array; DataError names the first non-numeric cell in reading order."""
    if block.size == 0:
        return np.empty(block.shape, dtype=float)
    block = np.ascontiguousarray(block)  # one copy of the pointers: the type check and the cast read it twice
    if _kind(block.ravel()) in _NUMERIC_KINDS:
        return block.astype(float)
    # slow path: blanks as "" are fine, anything else that is not a number is an error
    values = np.empty(block.shape, dtype=float)
    for i in range(block.shape[0]):
        for j in range(block.shape[1]):
            value = block[i, j]
            if _is_number(value):
                values[i, j] = float(value)
            elif _is_blank(value):
                values[i, j] = np.nan
            else:
                where = _where(int(rows[i]), col0 + j + 1, names[j])
                raise DataError(
                    f"cells: price cell at {where} holds {_describe(value)}; prices must be numbers"
                )
    return values


def cells_to_prices(
    cells: Any,
    *,
    header: bool | Sequence[str] | None = None,
    dates: bool | None = None,
) -> pd.DataFrame:
    """Convert a spreadsheet range ("cells") to a clean price frame.

    Parameters
    ----------
    cells : list of rows, flat list, 2-D array or DataFrame
        As xlwings delivers a range: rows of floats, text, ``None`` for blanks, booleans, dates and
        Excel error strings; rows may be ragged (padded with blanks); a flat list is one column.
    header : bool, sequence of str or None, default None
        ``True``: the first row holds the column names; ``False``: there is no header row and columns
        are named ``Col1``, ``Col2``, ... by position in the range; a sequence: use these names for the
        price columns (no header row in ``cells``); ``None``: detect (see the module docstring).
    dates : bool or None, default None
        ``True``: the first column holds dates; ``False``: it holds prices; ``None``: detect.

    Returns
    -------
    DataFrame
        Float64 columns named by the header (``"Col<j>"`` without one); a ``DatetimeIndex`` named
        ``"Date"`` (or the header's first cell) when there is a date column, else a ``RangeIndex``
        counting data rows from 0. Blank price cells are NaN. Order and duplicates are kept as given.

    Raises
    ------
    DataError
        Text, a boolean or an Excel error value in a price cell, a bad or blank date next to a price,
        or duplicate column names; the message names the cell (row and column within the range,
        counted from 1) and the value.
    """
    grid = _trim(_to_object_grid(cells))
    n_rows, width = grid.shape
    explicit_names = None
    if header is not None and not isinstance(header, bool):
        explicit_names = [str(name) for name in header]
        header = False
    if header is None:
        header = n_rows > 0 and _looks_like_header(grid[0])
    header_row = grid[0] if header and n_rows else None
    row0 = 1 if header else 0  # rows of the range before the data
    data = grid[row0:]
    first_kind = _kind(data[:, 0]) if width >= 1 and data.shape[0] > 0 else None  # (inferred once)
    if dates is None:
        dates = (
            width >= 2
            and data.shape[0] > 0
            and _detect_dates(data[:, 0], None if header_row is None else header_row[0], first_kind)
        )
    col0 = 1 if dates else 0
    if dates and width < 1:
        raise DataError("cells: dates=True but the range has no column")
    names = _header_names(header_row, width)
    price_names = names[col0:]
    if explicit_names is not None:
        if len(explicit_names) != width - col0:
            raise DataError(
                f"cells: header names {len(explicit_names)} names for {width - col0} price columns"
            )
        price_names = explicit_names
    seen: dict[str, int] = {}
    for j, name in enumerate(price_names):
        if name in seen:
            raise DataError(
                f"cells: column name {name!r} appears twice (columns {seen[name] + col0 + 1} and {j + col0 + 1})"
            )
        seen[name] = j

    if dates:
        date_name = names[0] if header_row is not None and isinstance(header_row[0], str) else "Date"
        if header_row is not None and _is_blank(header_row[0]):
            date_name = "Date"
        date_cells = data[:, 0]
        rows_excel = np.arange(row0 + 1, row0 + 1 + data.shape[0])  # 1-based row of each data row
        date_kind: str | None = first_kind if first_kind is not None else _kind(date_cells)
        if date_kind in _DATE_KINDS | _NUMERIC_KINDS:  # no text: pd.isna finds every blank
            blank_date = np.asarray(pd.isna(date_cells), dtype=bool)
        else:
            blank_date = np.fromiter(map(_is_blank, date_cells), dtype=bool, count=date_cells.size)
        if blank_date.any():
            rest_blank = _blank_mask(data[blank_date, 1:]).all(axis=1)
            rows_with_price = np.flatnonzero(blank_date)[~rest_blank]
            if rows_with_price.size:
                i = int(rows_with_price[0])
                raise DataError(
                    f"cells: {_where(row0 + i + 1, 1, date_name)} has no date but the row has prices"
                )
            keep = ~blank_date
            rows_excel = rows_excel[keep]
            data = data[keep]
            date_kind = None  # text blanks are gone: infer again
        index = (
            _convert_dates(data[:, 0], rows_excel, date_name, date_kind)
            if data.shape[0]
            else pd.DatetimeIndex([], dtype="datetime64[us]", name=date_name)
        )
        values = _convert_prices(data[:, 1:], rows_excel, col0, price_names)
        frame = pd.DataFrame(values, index=index, columns=pd.Index(price_names), copy=False)
    else:
        rows_excel = np.arange(row0 + 1, row0 + 1 + data.shape[0])
        values = _convert_prices(data, rows_excel, 0, price_names)
        frame = pd.DataFrame(values, columns=pd.Index(price_names), copy=False)
    return frame
