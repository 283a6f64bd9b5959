"""The portfolio-of-strategies Excel function, written like udfs/xlsector_udfs.py (to be moved into it).

``PORTFOLIO_TABLE`` combines several rotation strategies over one price range (``DataTable``) with weights and
a rebalance schedule, and shows one of: the allocation calculator (an amount -> shares of each fund to hold
now, at the last prices), the metrics of the portfolio, each strategy and the benchmark over the same days,
the strategies' correlation, or the weekly growth of 1. No maths here: :mod:`xlsector.portfolio` computes.

The strategies are a range with one row per strategy::

    Name       | Funds              | tc  | Hysteresis
    Growth     | XLK,XLY,XLC,XLE    | 50  |
    Defensive  | XLP,XLU,XLV        |     | 0.02

``tc`` blank = FWPT-tuned (out of sample after the born-on date, five years after the data start); hysteresis
blank = the default. A header row is skipped (its tc cell is text). Every other strategy parameter takes its
default. Bad input gives a short message in the cell naming the argument, as in the main module.

Parameters are not type-annotated on purpose: xlwings reads annotations as converters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd
import xlwings as xw
from xlwings import XlwingsError

from udfs import _cache
from udfs.xlsector_udfs import (
    _OFFICEJS,
    CATEGORY,
    _blank,
    _cell,
    _choice,
    _excel_function,
    _flag,
    _number,
    _OfficeJsCells,
    _sample,
    _side,
    _table,
    _table_rows,
    _unwrap,
)
from xlsector.contract import describe_cell, split_tickers
from xlsector.errors import XlsectorError

__all__ = ["PORTFOLIO_TABLE"]

DOC: dict[str, str] = {
    "prices": "Price range: one column per fund, optional header row of names and date column (dates or serials).",
    "strategies": "One row per strategy: name, funds (commas), tc (blank = FWPT-tuned), hysteresis (blank = "
                  "default); a header row is skipped.",
    "weights": "One weight per strategy (a column or row of numbers, normalised to sum to 1); blank = equal.",
    "rebalance": "monthly (default), quarterly or never: when the strategies are reset to their weights.",
    "amount": "Money to allocate (for part allocation): shares of each fund to hold now at the last prices.",
    "benchmark": "Benchmark: a column name in prices or a price range, bought and held; blank = none.",
    "part": "allocation (default when amount is given), metrics (default otherwise), correlation, equity, summary.",
    "fractional": "TRUE for fractional shares; FALSE (default) whole shares, the rest in cash.",
}
_RANGE_ARGS = frozenset({"prices", "strategies", "weights", "benchmark"})
_PARTS = ("allocation", "metrics", "correlation", "equity", "summary")


def _register(f: Callable[..., Any]) -> Callable[..., Any]:
    """As ``udfs.xlsector_udfs._register``, with this module's argument help."""
    names = list(inspect.signature(f).parameters)
    f = _excel_function(f)
    for name in reversed(names):
        options: dict[str, Any] = {"doc": DOC[name]}
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


def _rows(value: Any, name: str) -> list[list[Any]]:
    if _blank(value):
        raise XlwingsError(f"{name} is required: select the strategy rows (name, funds, tc, hysteresis)")
    if not isinstance(value, list | tuple):
        return [[value]]
    return [list(row) if isinstance(row, list | tuple) else [row] for row in value]


def _strategies(value: Any) -> tuple[tuple[str, tuple[str, ...], float | None, float | None], ...]:
    """(name, funds, tc or None, hysteresis or None) per non-blank row; a header row (text tc) is skipped."""
    out = []
    for i, row in enumerate(_rows(value, "strategies"), start=1):
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


def _weights(value: Any, count: int) -> tuple[float, ...] | None:
    if _blank(value):
        return None
    cells = [c for row in _rows(value, "weights") for c in row if not _blank(c)]
    numbers = tuple(_number(c, "weights", low=0.0) for c in cells)
    if len(numbers) != count:
        raise XlwingsError(f"weights must give one weight per strategy ({count}), got {len(numbers)}")
    return numbers


def _portfolio(prices: Any, strategies: Any, weights: Any, rebalance: Any, benchmark: Any) -> tuple[Any, Any]:
    from xlsector.portfolio import combine, normalise_weights, sleeve_from_rotation

    table = _table(prices)
    rows = _strategies(strategies)
    shares = _weights(weights, len(rows))
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
    view = _choice(part, "part", _PARTS, "allocation" if money is not None else "metrics")
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
        growth = pd.DataFrame({"Portfolio": result.equity})
        for name in result.sleeve_returns.columns:
            growth[name] = (1.0 + result.sleeve_returns[name]).cumprod()
        if result.benchmark_returns is not None:
            growth[f"Benchmark ({result.benchmark_label})"] = (1.0 + result.benchmark_returns).cumprod()
        return _table_rows(_sample(growth, "week"))
    start, end = result.period
    rows: list[list[Any]] = [["Item", "Value"], ["Period start (start point)", _cell(start)],
                             ["Period end", _cell(end)], ["Rebalance", result.rebalance]]
    for sleeve, weight in zip(result.sleeves, result.weights):
        rows.append([f"Weight of {sleeve.name}", float(weight)])
        rows.append([f"{sleeve.name}: returns", sleeve.sample])
    return rows
