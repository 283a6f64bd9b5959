"""Caches of the Excel functions, by content: a spreadsheet recalculates many cells over the same range.

* :func:`prices` keeps the parsed price frame of a range: ten formulas over one range parse it once. The
  key is the cells themselves (a tuple of rows, compared exactly on a hit), so an edited cell is a miss.
* :func:`result` keeps computed results (a backtest, the tc grid, FWPT) under a key built from
  :func:`frame_key` of their inputs and the parameter records, so every tuning table over the same range
  and settings runs the grid once.

Both are small LRU caches: a workbook has a few ranges and a few parameter sets at a time.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import pandas as pd

__all__ = ["clear", "frame_key", "prices", "result"]

T = TypeVar("T")

MAX_TABLES = 8
MAX_RESULTS = 48
_TOKEN = "xlsector_cells"  # attrs key: which cached range a frame (or a part of it) came from

_tables: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
_results: OrderedDict[Hashable, Any] = OrderedDict()
_tokens = itertools.count(1)
# (the very list of rows, header, dates, its frame): a caller that passes the same list object again (the render's
# formula evaluator hands every formula over DataTable one list) skips hashing its rows. Excel passes new lists.
_same: list[tuple[Any, bool | None, bool | None, pd.DataFrame]] = []


def clear() -> None:
    _tables.clear()
    _results.clear()
    _same.clear()


def _remember(store: OrderedDict, key: Hashable, value: Any, limit: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


def prices(cells: list[list[Any]], header: bool | None, dates: bool | None) -> pd.DataFrame:
    """``cells_to_prices(cells, header=, dates=)``, parsed once per distinct content."""
    from xlsector.data.cells import cells_to_prices

    for same, same_header, same_dates, found in _same:
        if same is cells and same_header == header and same_dates == dates:
            return found
    try:
        key: Hashable = (tuple(map(tuple, cells)), header, dates)
        hash(key)
    except TypeError:  # a cell the converter will reject (a list in a cell, ...): no caching
        return cells_to_prices(cells, header=header, dates=dates)
    frame = _tables.get(key)
    if frame is None:
        frame = cells_to_prices(cells, header=header, dates=dates)
        frame.attrs[_TOKEN] = next(_tokens)
        _remember(_tables, key, frame, MAX_TABLES)
    else:
        _tables.move_to_end(key)
    if isinstance(cells, list) and len(cells) > 100:  # a large range: remember this very object
        _same.append((cells, header, dates, frame))
        del _same[:-2]
    return frame


def frame_key(value: Any) -> Hashable:
    """A key for a price frame or series: which cached range it came from and which part of it (columns
    chosen by name, rows up to a date: pandas keeps ``attrs`` through such selections), or, for anything
    else, a digest of its values, index and names. Values computed from a cached range must be built as
    new objects (no ``attrs``), so that they are keyed by their own values."""
    if not isinstance(value, pd.DataFrame | pd.Series):
        return value
    shape = (value.shape, tuple(map(str, value.columns)) if isinstance(value, pd.DataFrame) else str(value.name))
    token = value.attrs.get(_TOKEN)
    if token is not None and len(value):
        return (token, shape, value.index[0], value.index[-1])
    digest = hashlib.blake2b(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes(), digest_size=16)
    return ("values", shape, digest.hexdigest())


def result(key: Hashable, compute: Callable[[], T]) -> T:
    """The cached value under ``key``, computed on a miss (errors are not cached)."""
    if key in _results:
        _results.move_to_end(key)
        return _results[key]
    value = compute()
    _remember(_results, key, value, MAX_RESULTS)
    return value
