"""A portfolio of strategies: sleeves with target weights, rebalanced on a schedule.

Semantics
---------
* **Period**: the days every sleeve covers: from the latest first date (the start point, value 1) to the
  earliest last date. Sleeves on different calendars are put on the union of their dates through their
  equity (a sleeve without a row on a date keeps its value; its move lands on its next date), so no return is
  lost or counted twice.
* **Weights**: positive numbers, normalised to sum to 1 (``50, 30, 20`` = 0.5, 0.3, 0.2).
* **Rebalancing**: at the start point each sleeve gets its weight of the money; each day every sleeve's
  value grows by its own return; at the close of a rebalance day the values are reset to the target
  weights of the total. ``monthly``: the last market day of each month; ``quarterly``: of March, June,
  September and December (known without look-ahead, as the rotation's decision days); ``never``: buy and
  hold the sleeves (their weights drift). Each strategy pays its own trading costs; moving money between
  the sleeves at a rebalance is free here.
* **Benchmark**: a price series (e.g. SPY) bought at the start point and held, over the same days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from xlsector.errors import DataError, ParameterError
from xlsector.portfolio.sleeves import Sleeve

__all__ = ["REBALANCE", "PortfolioResult", "combine", "normalise_weights", "rebalance_days"]

REBALANCE: tuple[str, ...] = ("monthly", "quarterly", "never")
Rebalance = Literal["monthly", "quarterly", "never"]


def normalise_weights(weights: Sequence[float] | None, count: int) -> tuple[float, ...]:
    """Weights summing to 1 (equal weights when None); ParameterError for a wrong count or a weight <= 0."""
    if count < 1:
        raise ParameterError("a portfolio needs at least one strategy")
    if weights is None:
        return tuple([1.0 / count] * count)
    values = [float(w) for w in weights]
    if len(values) != count:
        raise ParameterError(f"weights must give one weight per strategy ({count}), got {len(values)}")
    bad = [w for w in values if not np.isfinite(w) or w <= 0]
    if bad:
        raise ParameterError(f"weights must be numbers > 0, got {bad[0]!r}")
    total = sum(values)
    return tuple(w / total for w in values)


def rebalance_days(dates: pd.DatetimeIndex, rule: str) -> np.ndarray:
    """Boolean mask of the rebalance closes of ``rule`` (see the module docstring)."""
    from xlsector.rotation import decision_days

    if rule not in REBALANCE:
        raise ParameterError(f"rebalance must be one of {', '.join(REBALANCE)}, got {rule!r}")
    if rule == "never":
        return np.zeros(len(dates), bool)
    month_end = decision_days(dates, "month")
    if rule == "monthly":
        return month_end
    return month_end & np.isin(dates.month, (3, 6, 9, 12))


def _on_calendar(returns: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    """Daily returns of a sleeve on ``dates`` (its equity carried over dates it lacks), from dates[0] (return 0)."""
    equity = (1.0 + returns.astype(float)).cumprod()
    equity = equity / equity.loc[:dates[0]].iloc[-1]
    on = equity.reindex(equity.index.union(dates)).ffill().reindex(dates).to_numpy()
    out = np.zeros(len(dates))
    out[1:] = on[1:] / on[:-1] - 1.0
    return out


@dataclass(frozen=True)
class PortfolioResult:
    """The combined strategies over their common period (see the module docstring).

    ``returns``: the portfolio's daily returns (first date = start point, 0). ``sleeve_returns``: each sleeve's
    daily returns on the same dates. ``values``: each sleeve's value at each close (the portfolio starts at 1).
    """

    sleeves: tuple[Sleeve, ...]
    weights: tuple[float, ...]
    rebalance: str
    returns: pd.Series
    sleeve_returns: pd.DataFrame
    values: pd.DataFrame
    benchmark_returns: pd.Series | None
    benchmark_label: str

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(self.returns.index[0]), pd.Timestamp(self.returns.index[-1])

    @cached_property
    def equity(self) -> pd.Series:
        return (1.0 + self.returns).cumprod().rename("portfolio")

    def growth(self) -> pd.DataFrame:
        """Growth of 1 by date: the portfolio ("Portfolio"), each sleeve (its name) and the benchmark
        ("Benchmark (label)", when there is one), all starting at the period's start point."""
        growth = pd.DataFrame({"Portfolio": self.equity})
        for name in self.sleeve_returns.columns:
            growth[name] = (1.0 + self.sleeve_returns[name]).cumprod()
        if self.benchmark_returns is not None:
            growth[f"Benchmark ({self.benchmark_label})"] = (1.0 + self.benchmark_returns).cumprod()
        return growth

    def metrics(self) -> pd.DataFrame:
        """SPEC §5 metrics of the portfolio, each sleeve and the benchmark over the same days, with definitions."""
        from xlsector.measures import metrics_after_start  # the first date is the start point (return 0)

        table = metrics_after_start(self.returns, benchmark=self.benchmark_returns)
        out = pd.DataFrame({"portfolio": table["strategy"]})
        for sleeve in self.sleeves:
            figures = metrics_after_start(self.sleeve_returns[sleeve.name])
            out[sleeve.name] = figures["strategy"].reindex(out.index)
        if "benchmark" in table.columns:
            out[f"benchmark ({self.benchmark_label})"] = table["benchmark"]
        out["definition"] = table["definition"]
        return out

    def correlation(self) -> pd.DataFrame:
        """Correlation of the sleeves' daily returns over the period's return days (Pearson)."""
        return self.sleeve_returns.iloc[1:].corr()

    def summary(self) -> dict[str, object]:
        start, end = self.period
        return {
            "period": [f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}"],
            "rebalance": self.rebalance,
            "strategies": [{"name": s.name, "weight": w, "source": s.source, "sample": s.sample}
                           for s, w in zip(self.sleeves, self.weights)],
            "benchmark": self.benchmark_label,
        }


def combine(sleeves: Sequence[Sleeve], weights: Sequence[float] | None = None, *, rebalance: str = "monthly",
            benchmark: pd.Series | None = None, benchmark_label: str | None = None) -> PortfolioResult:
    """Combine ``sleeves`` with ``weights`` (equal when None), rebalanced ``monthly``, ``quarterly`` or ``never``.

    ``benchmark``: a price series bought and held over the same days (e.g. SPY), labelled ``benchmark_label``.
    """
    sleeves = tuple(sleeves)
    shares = normalise_weights(weights, len(sleeves))
    names = [s.name for s in sleeves]
    if len(set(names)) != len(names):
        raise ParameterError(f"strategy names must be unique, got {names}")
    start = max(s.start for s in sleeves)
    end = min(s.end for s in sleeves)
    if start >= end:
        raise ParameterError(
            f"the strategies share no period: the latest starts {start:%Y-%m-%d}, the earliest ends {end:%Y-%m-%d}"
        )
    union = pd.DatetimeIndex(sorted(set().union(*(s.returns.index for s in sleeves))))
    dates = union[(union >= start) & (union <= end)]
    matrix = np.column_stack([_on_calendar(s.returns, dates) for s in sleeves])
    marks = rebalance_days(dates, rebalance)
    w = np.asarray(shares)
    values = np.empty_like(matrix)
    current = w.copy()
    values[0] = current
    total = np.empty(len(dates))
    total[0] = 1.0
    for t in range(1, len(dates)):
        current = current * (1.0 + matrix[t])
        total[t] = current.sum()
        values[t] = current
        if marks[t]:
            current = w * total[t]
    port = np.zeros(len(dates))
    port[1:] = total[1:] / total[:-1] - 1.0
    bench = None
    label = benchmark_label or "benchmark"
    if benchmark is not None:
        if not benchmark.index.is_unique:  # reindexing cannot say which of the two prices of a day counts
            repeated = pd.Timestamp(benchmark.index[benchmark.index.duplicated()][0])
            raise DataError(f"benchmark {label} has duplicate dates; the first is {repeated:%Y-%m-%d}")
        filled = benchmark.astype(float).reindex(benchmark.index.union(dates)).ffill().reindex(dates)
        if filled.isna().iloc[0]:
            raise ParameterError(f"benchmark {label} has no price on the start date {dates[0]:%Y-%m-%d}")
        bench = filled.pct_change().fillna(0.0).rename(label)
        bench.iloc[0] = 0.0
    return PortfolioResult(
        sleeves=sleeves, weights=shares, rebalance=rebalance, returns=pd.Series(port, index=dates, name="portfolio"),
        sleeve_returns=pd.DataFrame(matrix, index=dates, columns=names),
        values=pd.DataFrame(values, index=dates, columns=names), benchmark_returns=bench, benchmark_label=label,
    )
