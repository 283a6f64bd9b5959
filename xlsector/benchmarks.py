"""Fair benchmarks (SPEC §5): what a rotation's figures are compared with, on every surface.

A rotation over a universe of funds is compared with

* **buy-and-hold of its own universe, equal weight**, bought once on the start day and not rebalanced
  (``"EW buy-and-hold"``; the backtests' default benchmark), and the same **rebalanced daily**
  (``"EW rebalanced daily"``): both over the funds priced on the start day, so a universe picked with
  hindsight flatters the benchmarks as much as the strategy;
* **a total-return market index** (dividends reinvested) when the data has one, else the price index
  labelled :data:`PRICE_ONLY` (it understates the market by the dividend yield, about 2 % a year for the
  S&P 500 since 1990).

Each benchmark is a daily return series on the strategy's dates (0 on the start day, NaN where it has no
price: never a silent 0), labelled; :func:`xlsector.measures.metrics_table` shows them as extra columns
(``benchmarks=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlsector.errors import ParameterError
from xlsector.sides import buy_and_hold_returns, on_price_dates
from xlsector.trend import ffill, price_array

__all__ = ["PRICE_ONLY", "Benchmark", "as_columns", "equal_weight", "fair_benchmarks", "is_price_index",
           "market_benchmark", "primary_label"]

#: How a price-only index is labelled wherever it is shown.
PRICE_ONLY = "price only, excludes dividends (understates the market by the dividend yield)"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: ``key`` (a short column name), ``label`` (what it is, in full), ``returns`` (daily,
    on the strategy's dates, 0 on the first)."""

    key: str
    label: str
    returns: pd.Series


def _held(values: np.ndarray, start: int) -> np.ndarray:
    """Funds with a price on or before the start day."""
    return ~np.isnan(values[: start + 1]).all(axis=0)


def equal_weight(prices: pd.DataFrame, dates: pd.Index, *, rebalance: bool) -> pd.Series:
    """Equal-weight returns of the funds priced on ``dates[0]`` (the start day), over ``dates``.

    ``rebalance=False``: bought in equal amounts at the start day's close and held (a fund that stops
    trading keeps its last value); ``rebalance=True``: back to equal weights at every close, so each day's
    return is the mean of the funds' returns (a fund that stopped trading returns 0). Funds that start
    after the start day are not in either (the same universe as the strategy had on its first day).
    """
    frame = prices.loc[: dates[-1]] if len(dates) else prices
    values = price_array(frame)
    try:
        start = int(frame.index.get_indexer(pd.Index([dates[0]]))[0])
    except (KeyError, TypeError):
        start = -1
    if start < 0:
        raise ParameterError(f"prices has no row on the start day {dates[0]}")
    held = _held(values, start)
    if not held.any():
        raise ParameterError(f"no fund has a price on or before the start day {dates[0]}")
    filled = ffill(values[:, held])[start:]
    out = np.zeros(len(filled))
    if rebalance:
        with np.errstate(invalid="ignore", divide="ignore"):
            daily = filled[1:] / filled[:-1] - 1.0
        out[1:] = np.nanmean(np.where(np.isnan(daily), 0.0, daily), axis=1) if daily.size else []
    else:
        growth = filled / filled[0]
        total = np.nanmean(growth, axis=1)
        out[1:] = total[1:] / total[:-1] - 1.0
    series = pd.Series(out, index=frame.index[start:], name="equal weight")
    return series.reindex(dates)


def market_benchmark(series: pd.Series, dates: pd.Index, *, name: str, total_return: bool) -> Benchmark:
    """Buy-and-hold of a market index over ``dates`` (carried over dates it lacks, NaN before it starts),
    labelled "(total return)" or :data:`PRICE_ONLY`."""
    aligned = on_price_dates(series, dates, name, stacklevel=4)
    returns = buy_and_hold_returns(price_array(aligned, name)[:, 0])
    if total_return:
        key, label = f"{name} (total return)", f"buy-and-hold {name}, total-return index (dividends reinvested)"
    else:
        key, label = f"{name} (price only)", f"buy-and-hold {name}: {PRICE_ONLY}"
    return Benchmark(key, label, pd.Series(returns, index=dates, name=key))


def is_price_index(name: object) -> bool:
    """A Yahoo index ticker (``^GSPC``, ``^DJI``, ``^IXIC``, ...) is a price index unless it names a total
    return (``^SP500TR``: ends in TR); the VIX is no market index at all."""
    text = str(name).upper()
    return text.startswith("^") and not text.endswith("TR") and text != "^VIX"


def primary_label(label: str, price_only: set[str] | frozenset[str] = frozenset()) -> str:
    """A backtest's benchmark label, with :data:`PRICE_ONLY` added when it buys and holds a price index (one
    of ``price_only``, or a ticker :func:`is_price_index` recognises)."""
    prefix = "buy-and-hold "
    name = label[len(prefix):] if label.startswith(prefix) else None
    if name is not None and (name in price_only or is_price_index(name)) and PRICE_ONLY not in label:
        return f"{label}: {PRICE_ONLY}"
    return label


def fair_benchmarks(
    prices: pd.DataFrame,
    dates: pd.Index,
    *,
    primary: str | None = None,
    index: pd.Series | None = None,
    market: pd.Series | None = None,
) -> dict[str, Benchmark]:
    """The fair benchmarks of a rotation over ``prices`` (the funds) on the period ``dates``.

    Parameters
    ----------
    prices : DataFrame
        The strategy's universe (adjusted closes, dates x funds).
    dates : Index
        The strategy's dates, the start day first (``BacktestResult.dates``).
    primary : str, optional
        The label of the benchmark already shown (``BacktestResult.benchmark_label``): an equal-weight
        buy-and-hold primary is not repeated.
    index : Series, optional
        The market's price index (no dividends), shown labelled :data:`PRICE_ONLY` when no ``market`` is given.
    market : Series, optional
        A total-return market index (dividends reinvested).

    Returns
    -------
    dict of key -> Benchmark, in display order: EW buy-and-hold (unless it is the primary), EW rebalanced
    daily, the market (total return, else the price index labelled price only; omitted without either).
    """
    if not len(dates):
        raise ParameterError("dates is empty: no period to compare over")
    out: dict[str, Benchmark] = {}
    count = int(_held(price_array(prices.loc[: dates[0]]), len(prices.loc[: dates[0]]) - 1).sum())
    if not (primary or "").startswith("equal-weight buy-and-hold"):
        out["EW buy-and-hold"] = Benchmark("EW buy-and-hold", f"equal-weight buy-and-hold of the {count} funds "
                                           "(bought on the start day, not rebalanced)",
                                           equal_weight(prices, dates, rebalance=False))
    out["EW rebalanced daily"] = Benchmark("EW rebalanced daily", f"equal weight of the {count} funds, rebalanced "
                                           "at every close", equal_weight(prices, dates, rebalance=True))
    chosen = market if market is not None else index
    if chosen is not None:
        name = str(chosen.name) if chosen.name is not None else ("market" if market is not None else "index")
        found = market_benchmark(chosen, dates, name=name, total_return=market is not None)
        out[found.key] = found
    return out


def as_columns(benchmarks: Mapping[str, Benchmark]) -> dict[str, pd.Series]:
    """``{key: returns}`` for :func:`xlsector.measures.metrics_table` (``benchmarks=``)."""
    return {key: b.returns for key, b in benchmarks.items()}
