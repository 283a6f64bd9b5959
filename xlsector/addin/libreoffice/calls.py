"""Run an Excel function of :mod:`udfs.xlsector_udfs` for LibreOffice: cells in, cells out, no maths.

The extension's UNO component (running in LibreOffice's Python) hands every call to :func:`call`, which
converts LibreOffice's arguments into what xlwings would pass, calls the same function as Excel does and
converts the result into what LibreOffice can show.

Arguments (LibreOffice → the function)
    * a range arrives as a tuple of row tuples; its empty cells as ``""`` → ``None`` (a blank cell);
    * an omitted argument arrives empty → ``None``;
    * a single cell or constant arrives as a float or text (``""`` → ``None``). LibreOffice passes
      TRUE/FALSE as 1/0 and dates as serial numbers, which the functions accept.
    * LibreOffice passes an *empty single cell* as 0, exactly like a cell holding 0. Where the function
      rejects that 0 with an error naming the argument (a blank ``HysteresisDecay`` or ``BornOn`` setting:
      0 is not a valid decay or date), the call is repeated with that argument blank, which is what the
      cell meant. Where 0 is valid (hysteresis, delay, cost_bp, ...), a blank cell reads as 0.

Results (the function → LibreOffice)
    Always a 2-D array (LibreOffice shows a one-cell array in a single cell): floats, text, booleans,
    ``None`` (an empty cell). Python and numpy integers become floats, dates Excel serial numbers, NaN and
    infinities empty cells (as the render writes them), ragged rows are padded with empty cells.

Errors
    A user error (xlwings' ``XlwingsError``, which the functions raise with a short message) becomes the
    text ``#VALUE! <message>`` in the cell — LibreOffice cannot attach a message to an error value — and
    anything else (a bug) ``#VALUE! internal error: ...`` with the traceback on LibreOffice's stderr.
    Nothing is raised into LibreOffice: no dialog, no crash.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import math
import numbers
import re
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import XlsectorError

__all__ = ["ERROR_PREFIX", "call", "error_cells", "to_calc", "to_python"]

ERROR_PREFIX = "#VALUE! "
_EPOCH = dt.datetime(1899, 12, 30)

Cells = tuple[tuple[Any, ...], ...]


def _arg_cell(value: Any) -> Any:
    if isinstance(value, str) and value == "":
        return None
    return value


def to_python(value: Any) -> Any:
    """One argument from LibreOffice → what xlwings passes: 2-D lists for ranges, None for blanks."""
    if isinstance(value, (tuple, list)):
        return [
            [_arg_cell(v) for v in row] if isinstance(row, (tuple, list)) else [_arg_cell(row)]
            for row in value
        ]
    return _arg_cell(value)


def _serial(value: dt.datetime | dt.date) -> float:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    return (value - _EPOCH) / dt.timedelta(days=1)


def _out_cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)  # numpy's str_ too
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (numbers.Integral, np.integer)):
        return float(value)
    if isinstance(value, (numbers.Real, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()  # NaT -> None
        return None if value is None else _serial(value)
    if isinstance(value, (dt.datetime, dt.date)):  # pandas Timestamps are datetimes, and so is NaT
        return None if value is pd.NaT else _serial(value)
    return str(value)


def to_calc(result: Any) -> Cells:
    """A function's result (a value or a 2-D list) → a 2-D tuple LibreOffice can show."""
    if isinstance(result, (list, tuple, np.ndarray)):
        rows = list(result)
        if not rows:
            return ((None,),)
        if not all(isinstance(r, (list, tuple, np.ndarray)) for r in rows):
            rows = [rows]  # a flat list is one row, as xlwings writes it
        out = [tuple(_out_cell(v) for v in row) for row in rows]
        width = max(len(r) for r in out) or 1
        return tuple(r + (None,) * (width - len(r)) for r in out)
    return ((_out_cell(result),),)


def error_cells(message: str) -> Cells:
    """The one-cell result showing an error message."""
    return ((ERROR_PREFIX + " ".join(str(message).split()),),)


def _live_params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def _names_argument(message: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message) is not None


def call(name: str, args: Sequence[Any], params: Sequence[str], module: str = "udfs.xlsector_udfs") -> Cells:
    """Call ``module.name`` with LibreOffice's ``args``; ``params`` are the argument names the extension was
    built with (checked against the installed module). Never raises: errors are returned as a cell."""
    try:
        functions = importlib.import_module(module)
        function = getattr(functions, name, None)
        if function is None or list(params) != _live_params(function):
            return error_cells(
                f"the xlsector extension was built for another version of {module} ({name} is "
                f"{'missing' if function is None else 'different'} in the installed one): run "
                "`xlsector addin install-libreoffice` again and restart LibreOffice"
            )
        from xlwings import XlwingsError

        values = [to_python(a) for a in args]
        # LibreOffice passes an empty single cell as 0: candidates for "this was a blank cell"
        zeros = {i for i, a in enumerate(args) if type(a) is float and a == 0.0}
        while True:
            try:
                return to_calc(function(*values))
            except (XlwingsError, XlsectorError) as exc:
                message = str(exc)
                blanks = {i for i in zeros if _names_argument(message, params[i])}
                if not blanks:
                    return error_cells(message)
                for i in blanks:
                    values[i] = None
                zeros -= blanks
    except Exception as exc:  # noqa: BLE001 - a bug: shown in the cell, never raised into LibreOffice
        traceback.print_exc(file=sys.stderr)
        return error_cells(f"internal error in {name}: {type(exc).__name__}: {exc}")
