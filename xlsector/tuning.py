"""Tuning the trend constant (SPEC §4): scores, trend chart, Forward Walk Progressive Tuning, stationarity.

Every function here runs the rotation for the whole grid of trend constants ONCE
(:func:`xlsector.backtesting.run_backtest_grid`) and then only selects among the precomputed paths.

Definitions
-----------
* **Score** of a trend constant on [start, d] ("cumulative"): the sum of the strategy's daily log returns
  ``Σ log(1 + r_t)`` over the return days after ``start`` through ``d``, i.e. the log of the growth of 1
  (computed as ``log(Π(1 + r_t))`` with the product taken day by day, which equals the sum of the logs up
  to rounding). **Recency-weighted** ("half-life h"): ``Σ 2^(−age_t/h)·log(1 + r_t)``, age_t = market days
  from t to d (0 on d). Every output says which score it uses (``score_label``).
* **Tuned tc**: the trend constant of the grid with the highest score; ties go to the smallest tc.
* **Plateau** of a trend chart: the contiguous run of grid tcs around the peak whose score is at least
  ``peak + log(1 − plateau)`` (default plateau = 0.05: the tcs whose growth of 1 is within 5 % of the
  peak's). A narrow plateau (few tcs) is a sharp, well-defined peak; a wide one a flat optimum.
* **FWPT** (:func:`fwpt`): see its docstring for the exact retune, deferral and stitching rules.

The dates: every table states its period; FWPT metrics are computed **after the born-on date only** (out
of sample); the in-sample best tc is chosen on the whole period (hindsight) and shown over the same days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector import _kernels
from xlsector._kernels import HAVE_NUMBA, NO_WALK, Walk
from xlsector.errors import ParameterError
from xlsector.params import Schedule

__all__ = [
    "SCORE_DEFINITIONS",
    "FwptResult",
    "TrendChart",
    "fwpt",
    "progressive_tune",
    "score_label",
    "scores",
    "split_sample",
    "trend_chart",
]

SCORE_DEFINITIONS = {
    "cumulative": "sum of daily log returns log(1 + r) of the strategy over the window (log of the growth of 1)",
    "recency": "sum of 2^(-age/half_life) * log(1 + r) over the window, age = market days before the window's last day",
}
DEFAULT_TCS = range(2, 201)


# ----------------------------------------------------------------------------------------------- kernels
#
# Each kernel is written once as a plain loop (compiled with numba where it is installed) and has a numpy
# twin vectorised over trend constants (the fallback); the tests check that they agree exactly. Paths are
# day-major (days × tcs, as the rotation kernel writes them): a loop over days reads each day's row
# contiguously and vectorises over the tcs.


def _growth_stats_loop(returns):  # pragma: no cover - compiled
    """Per column of a days × tcs array: growth of 1 over rows 1.. (row 0 is the start point) and max
    drawdown (<= 0), as :func:`xlsector.measures.max_drawdown`: the same operations in the same order."""
    n_days, n_tcs = returns.shape
    growth = np.ones(n_tcs)
    peak = np.ones(n_tcs)
    worst = np.zeros(n_tcs)
    for t in range(1, n_days):
        row = returns[t]
        for m in range(n_tcs):
            growth[m] = growth[m] * (1.0 + row[m])
            peak[m] = max(peak[m], growth[m])
            worst[m] = min(worst[m], growth[m] / peak[m] - 1.0)
    return growth, worst


def _growth_stats_py(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_growth_stats_loop` vectorised over tcs (numba-free twin)."""
    n_days, n_tcs = returns.shape
    growth = np.ones(n_tcs)
    peak = np.ones(n_tcs)
    worst = np.zeros(n_tcs)
    for t in range(1, n_days):
        growth = growth * (1.0 + returns[t])
        peak = np.maximum(peak, growth)
        worst = np.minimum(worst, growth / peak - 1.0)
    return growth, worst


def _retune_kind(best, current, pick_best, pick_current, defer):
    """What a due retune does: 1 kept (best is the current tc), 2 adopted, 3 deferred (the new tc's pick at
    that close differs from the current one's)."""
    if best == current:
        return 1
    if not defer or pick_best == pick_current:
        return 2
    return 3


def _pick(holdings, last_targets, m, t, lag):
    """The target tc column m decides at the close of day t: its holding ``lag`` (= delay + 1) days later,
    or for the last closes the kernel's record (see :meth:`RotationPaths.targets`)."""
    n_days = holdings.shape[0]
    if t + lag < n_days:
        return holdings[t + lag, m]
    return last_targets[m, n_days - 1 - t]


def _fwpt_walk_loop(net, holdings, last_targets, lag, decision, t0, retune_days, defer):  # pragma: no cover
    """The FWPT selection walk (see :func:`fwpt`) over the day-major paths of every tc: the growth of 1 of
    every tc is carried day by day (the same sequential products as the scores), the best tc is looked for
    only on the days a retune is due.

    Returns ``active`` (tc column in force after each day's close), the retune events as arrays (day, best
    column, kind: 0 initial, 1 kept, 2 adopted, 3 deferred) and the growth of 1 of every tc through the last
    day.
    """
    n_days, n_tcs = net.shape
    growth = np.ones(n_tcs)
    active = np.zeros(n_days, np.int64)
    ev_day = np.zeros(n_days, np.int64)
    ev_best = np.zeros(n_days, np.int64)
    ev_kind = np.zeros(n_days, np.int64)
    n_ev = 0
    current = 0
    last = t0
    due = False
    for t in range(n_days):
        if t > 0:
            row = net[t]
            for m in range(n_tcs):
                growth[m] = growth[m] * (1.0 + row[m])
        if t < t0:
            continue
        check = t == t0
        if t > t0:
            if not due and t - last >= retune_days:
                due = True
            check = due and decision[t]
        if check:
            best = 0  # the first tc with the top score log(growth) (ties to the smallest tc)
            top = np.log(growth[0])
            for m in range(1, n_tcs):
                value = np.log(growth[m])
                if value > top:
                    top = value
                    best = m
            if t == t0:
                current = best
                active[:t0] = current
                kind = 0
            else:  # (_retune_kind and _pick, inline)
                kind = 1
                if best != current:
                    known = t + lag < n_days
                    pick_best = holdings[t + lag, best] if known else last_targets[best, n_days - 1 - t]
                    pick_current = holdings[t + lag, current] if known else last_targets[current, n_days - 1 - t]
                    kind = 2 if not defer or pick_best == pick_current else 3
                if kind == 2:
                    current = best
                due = False if kind <= 2 else due
                last = t if kind <= 2 else last
            ev_day[n_ev] = t
            ev_best[n_ev] = best
            ev_kind[n_ev] = kind
            n_ev += 1
        active[t] = current
    return active, ev_day[:n_ev], ev_best[:n_ev], ev_kind[:n_ev], growth


def _fwpt_walk_py(net, holdings, last_targets, lag, decision, t0, retune_days, defer):
    """:func:`_fwpt_walk_loop` with the products vectorised over tcs (numba-free twin)."""
    n_days, n_tcs = net.shape
    growth = np.ones(n_tcs)
    active = np.zeros(n_days, np.int64)
    events: list[tuple[int, int, int]] = []
    current = 0
    last = t0
    due = False
    for t in range(n_days):
        if t > 0:
            growth = growth * (1.0 + net[t])
        if t < t0:
            continue
        if t == t0:
            current = int(np.argmax(np.log(growth)))
            active[: t0 + 1] = current
            events.append((t, current, 0))
            continue
        if not due and t - last >= retune_days:
            due = True
        if due and decision[t]:
            best = int(np.argmax(np.log(growth)))
            kind = _retune_kind(best, current, _pick(holdings, last_targets, best, t, lag),
                                _pick(holdings, last_targets, current, t, lag), defer)
            if kind == 2:
                current = best
            if kind <= 2:
                due = False
                last = t
            events.append((t, best, kind))
        active[t] = current
    ev = np.array(events, np.int64).reshape(-1, 3)
    return active, ev[:, 0], ev[:, 1], ev[:, 2], growth


def _walk_sample():
    """Arguments of the types :func:`fwpt` passes to the compiled walk (to compile it ahead of use)."""
    return (np.zeros((4, 3)), np.zeros((4, 3), np.int16), np.zeros((3, 2), np.int16), 1, np.ones(4, np.bool_),
            1, 2, True)


if HAVE_NUMBA:  # pragma: no cover - depends on the runtime
    _growth_stats_compiled = _kernels.jit(_growth_stats_loop, "growth of 1 and drawdown",
                                          lambda: (np.zeros((4, 3)),), error_model="numpy")
    _fwpt_walk_compiled = _kernels.jit(_fwpt_walk_loop, "FWPT walk", _walk_sample)

    def _growth_stats(returns):
        _kernels.ready()
        return _growth_stats_compiled(returns)

    def _fwpt_walk(*args):
        _kernels.ready()
        return _fwpt_walk_compiled(*args)
else:  # pragma: no cover
    _growth_stats = _growth_stats_py
    _fwpt_walk = _fwpt_walk_py

EVENT_KINDS = {0: "initial", 1: "kept", 2: "adopted", 3: "deferred"}


# ----------------------------------------------------------------------------------------------- scores


def score_label(half_life: float | None = None) -> str:
    """Human label of a score: 'cumulative log return' or 'recency-weighted log return (half-life N days)'."""
    if half_life is None:
        return "cumulative log return (sum of log(1 + r))"
    return f"recency-weighted log return (weight 2^(-age/{half_life:g}), half-life {half_life:g} market days)"


def _check_half_life(half_life: Any) -> float | None:
    if half_life is None or half_life == "cumulative":
        return None
    if (
        isinstance(half_life, bool)
        or not isinstance(half_life, (int, float, np.integer, np.floating))
        or not math.isfinite(half_life)
        or half_life <= 0
    ):
        raise ParameterError(
            f"score must be 'cumulative' or a half-life in market days > 0, got {half_life!r}"
        )
    return float(half_life)


def scores(returns: np.ndarray, *, half_life: float | None = None) -> np.ndarray:
    """Score of each row of ``returns`` (n_tcs × n_days of daily simple returns; column 0 = start point).

    ``half_life=None``: cumulative log return ``log(Π(1 + r))`` over columns 1..; else the recency-weighted
    sum ``Σ 2^(−age/half_life)·log(1 + r)`` with age 0 on the last column. Returns an array of n_tcs.
    """
    r = np.atleast_2d(np.asarray(returns, dtype=np.float64))
    half_life = _check_half_life(half_life)
    if r.shape[1] < 2:
        return np.zeros(r.shape[0])
    if half_life is None:
        growth, _ = _growth_stats(np.ascontiguousarray(r.T))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.maximum(growth, 0.0))
    ages = np.arange(r.shape[1] - 2, -1, -1, dtype=np.float64)
    weights = np.exp2(-ages / half_life)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log1p(np.maximum(r[:, 1:], -1.0)) @ weights


def _tcs(tcs: Iterable[float]) -> np.ndarray:
    try:
        grid = np.asarray(list(tcs), dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"tcs must be a list of trend constants (numbers >= 1), got {tcs!r}") from None
    if grid.ndim != 1 or grid.size == 0:
        raise ParameterError("tcs must be a non-empty list of trend constants (the grid is empty)")
    if not np.all(np.isfinite(grid)) or grid.min() < 1:
        raise ParameterError(f"tcs must all be numbers >= 1 (market days), got min {grid.min()!r}")
    return grid


def _grid(prices, tcs, **kwargs):
    from xlsector.backtesting import run_backtest_grid

    return run_backtest_grid(prices, tcs, **kwargs)


def _plateau(values: np.ndarray, peak: int, tolerance: float) -> tuple[int, int]:
    floor = values[peak] + math.log1p(-tolerance)
    lo = peak
    while lo > 0 and values[lo - 1] >= floor:
        lo -= 1
    hi = peak
    while hi < len(values) - 1 and values[hi + 1] >= floor:
        hi += 1
    return lo, hi


def _cagr(growth: np.ndarray, dates: pd.Index) -> np.ndarray:
    days = (dates[-1] - dates[0]) / pd.Timedelta(days=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(growth > 0, np.power(np.maximum(growth, 0.0), 365.25 / days) - 1.0, -1.0)
    return out if days > 0 else np.full(growth.shape, np.nan)


# ----------------------------------------------------------------------------------------------- trend chart


@dataclass(frozen=True)
class TrendChart:
    """Score against trend constant over one period (in sample: the whole window is used to score).

    ``table``: index ``tc``; columns ``score``, ``growth`` (growth of 1), ``CAGR``, ``switches``,
    ``max_drawdown`` (same definitions as :mod:`xlsector.measures`), ``in_plateau`` (bool).
    """

    table: pd.DataFrame
    peak_tc: float
    peak_score: float
    plateau: tuple[float, float]
    plateau_tolerance: float
    score_label: str
    period: tuple[pd.Timestamp, pd.Timestamp]
    definitions: dict[str, str] = field(default_factory=dict)

    @property
    def plateau_width(self) -> float:
        """Width of the plateau in tc units (hi − lo); 0 = a single-point peak."""
        return self.plateau[1] - self.plateau[0]

    @property
    def plateau_count(self) -> int:
        return int(self.table["in_plateau"].sum())

    @property
    def peak_on_edge(self) -> bool:
        """True when the peak is the grid's first or last tc: the score may keep rising beyond the grid."""
        return self.peak_tc in (float(self.table.index[0]), float(self.table.index[-1]))

    def facts(self) -> list[tuple[str, Any]]:
        """The peak and plateau as (label, value) rows."""
        return [
            ("Peak tc", self.peak_tc),
            ("Peak score", self.peak_score),
            ("CAGR at the peak", float(self.table["CAGR"].loc[self.peak_tc])),
            ("Peak on the grid's edge", "YES: widen the grid" if self.peak_on_edge else "no"),
            ("Plateau from tc", self.plateau[0]),
            ("Plateau to tc", self.plateau[1]),
            ("Plateau size (tcs)", self.plateau_count),
            ("Plateau tolerance", self.plateau_tolerance),
            ("Period start", self.period[0]),
            ("Period end", self.period[1]),
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "period": [f"{self.period[0]:%Y-%m-%d}", f"{self.period[1]:%Y-%m-%d}"],
            "sample": "in sample (every tc scored on the whole period)",
            "score": self.score_label,
            "peak_tc": self.peak_tc,
            "peak_score": self.peak_score,
            "plateau_tolerance": self.plateau_tolerance,
            "plateau": list(self.plateau),
            "plateau_width": self.plateau_width,
            "plateau_count": self.plateau_count,
        }


def _chart_from_grid(grid, i0: int, i1: int, half_life: float | None, plateau: float) -> TrendChart:
    whole = i0 == 0 and i1 == len(grid.dates) - 1
    if whole:  # the kernel carried growth and drawdown over the whole period
        growth, worst = grid.paths.growth, grid.paths.drawdown
    else:
        growth, worst = _growth_stats(grid.paths.net[i0 : i1 + 1])
    if half_life is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.log(np.maximum(growth, 0.0))
    else:
        score = scores(grid.returns[:, i0 : i1 + 1], half_life=half_life)
    dates = grid.dates[i0 : i1 + 1]
    peak = int(np.argmax(score))
    lo, hi = _plateau(score, peak, plateau)
    in_plateau = np.zeros(score.size, bool)
    in_plateau[lo : hi + 1] = True
    if i0 == 0 and i1 == len(grid.dates) - 1:  # the whole period: the kernel's count (the same definition)
        switches = np.asarray(grid.switches)
    else:
        from xlsector.measures import switch_counts

        switches = switch_counts(grid.holdings[:, i0 : i1 + 1], cash=len(grid.assets) - 1)
    table = pd.DataFrame(
        {
            "score": score,
            "growth": growth,
            "CAGR": _cagr(growth, dates),
            "switches": switches,
            "max_drawdown": worst,
            "in_plateau": in_plateau,
        },
        index=pd.Index(grid.tcs, name="tc"),
    )
    definitions = {
        "score": score_label(half_life),
        "growth": "growth of 1 over the period: product of (1 + r) of the return days",
        "CAGR": "growth^(365.25 / calendar days) - 1 (as xlsector.measures.cagr)",
        "switches": "switches: changes of holding after the initial buy (as BacktestResult.switches)",
        "max_drawdown": "min(V / running max V) - 1, running max from V_start = 1 (as xlsector.measures.max_drawdown)",
        "in_plateau": f"tc in the contiguous run around the peak with score >= peak + log(1 - {plateau:g})",
        "sample": "in sample: each tc is scored on the same days it is shown for",
    }
    return TrendChart(
        table=table,
        peak_tc=float(grid.tcs[peak]),
        peak_score=float(score[peak]),
        plateau=(float(grid.tcs[lo]), float(grid.tcs[hi])),
        plateau_tolerance=plateau,
        score_label=score_label(half_life),
        period=(dates[0], dates[-1]),
        definitions=definitions,
    )


def _check_plateau(plateau: Any) -> float:
    if isinstance(plateau, bool) or not isinstance(plateau, (int, float)) or not 0 < plateau < 1:
        raise ParameterError(
            f"plateau must be a fraction between 0 and 1 (0.05 = within 5 % of the peak), got {plateau!r}"
        )
    return float(plateau)


def trend_chart(
    prices: pd.DataFrame,
    *,
    tcs: Iterable[float] = DEFAULT_TCS,
    score: str | float = "cumulative",
    plateau: float = 0.05,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    grid: Any = None,
    **strategy: Any,
) -> TrendChart:
    """Trend chart: score, CAGR, switches and max drawdown of the rotation for every trend constant.

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes (dates × funds), as for :func:`xlsector.backtest`.
    tcs : iterable of float
        Grid of trend constants (default 2..200).
    score : "cumulative" or float
        Cumulative log return, or a half-life in market days for the recency-weighted score.
    plateau : float
        Tolerance of the plateau around the peak (fraction of the peak's growth of 1).
    start, end : date, optional
        Scoring window inside the backtest period (default: the whole period). The rotation itself always
        runs from the data start, so trends and hysteresis are warmed up; data after ``end`` is not used.
    grid : GridResult, optional
        A precomputed ``run_backtest_grid(prices, tcs, **strategy)`` to reuse (several tuning functions on
        the same data share one grid run); ``tcs`` and ``strategy`` are then not used.
    **strategy
        Parameters of :func:`xlsector.backtesting.run_backtest_grid` (hysteresis, schedule, delay, cost_bp,
        stormguard, index, bear, cash_rate, benchmark, ...).

    Returns
    -------
    TrendChart
    """
    grid_tcs = _tcs(tcs)
    half_life = _check_half_life(score)
    plateau = _check_plateau(plateau)
    if grid is None:
        grid = _grid(prices if end is None else prices.loc[: pd.Timestamp(end)], grid_tcs, **strategy)
    # a grid run on more data serves as well: no day after `end` enters the window, and no past day of the
    # rotation depends on a later one
    i1 = len(grid.dates) - 1 if end is None else int(grid.dates.searchsorted(pd.Timestamp(end), side="right")) - 1
    i0 = 0 if start is None else max(int(grid.dates.searchsorted(pd.Timestamp(start))) - 1, 0)
    if i1 < 1:
        if end is None:
            raise ParameterError(f"prices: the backtest period has one day ({grid.dates[0]:%Y-%m-%d}); a trend chart "
                                 "needs at least two (too few rows)")
        raise ParameterError(f"end must be after the backtest start {grid.dates[0]:%Y-%m-%d}, got {end}")
    if i0 >= i1:
        raise ParameterError(f"start must be before the last date {grid.dates[i1]:%Y-%m-%d}, got {start}")
    return _chart_from_grid(grid, i0, i1, half_life, plateau)


# ----------------------------------------------------------------------------------------------- FWPT


@dataclass(frozen=True)
class FwptResult:
    """Forward Walk Progressive Tuning over the out-of-sample days (born-on date → last date).

    Attributes
    ----------
    born_on : the first market day on or after the requested born-on date (the first tuning uses data
        through its close; it is the start point of every out-of-sample series: return 0, equity 1).
    earliest_born_on : the earliest allowed born-on date (five years after the oldest fund's first price).
    retunes : DataFrame (date, best_tc, action, tc, tries) of every tuning: "initial", "kept" (best =
        current), "adopted", "deferred" (the new tc would force an immediate trade; consecutive re-tries
        with the same best tc are one row, ``tries`` counts them); ``tc`` is the tc in force after that
        close.
    tc : Series (out-of-sample dates) of the tc whose path gives the holding earning each day's return.
    holdings, returns, equity : walk-forward path over the out-of-sample days.
    trades : DataFrame (date, from, to) of the walk-forward's switches.
    in_sample_tc : tc with the best score over the whole period (hindsight).
    in_sample_returns, in_sample_holdings, benchmark_returns : over the same days.
    metrics() : xlsector.measures figures side by side: columns ``walk_forward``, ``in_sample_best``,
        ``benchmark``, ``definition``.
    """

    born_on: pd.Timestamp
    earliest_born_on: pd.Timestamp
    retune_days: int
    defer: bool
    tcs: np.ndarray
    retunes: pd.DataFrame
    tc: pd.Series
    holdings: pd.Series
    returns: pd.Series
    equity: pd.Series
    trades: pd.DataFrame
    in_sample_tc: float
    in_sample_returns: pd.Series
    benchmark_returns: pd.Series
    benchmark_label: str
    in_sample_holdings: pd.Series
    data_start: pd.Timestamp
    score_label: str = score_label(None)

    def metrics(self, *, benchmarks: Any = None) -> pd.DataFrame:
        """xlsector.measures figures over the out-of-sample days: walk_forward, in_sample_best, benchmark,
        then one column per entry of ``benchmarks`` (label -> daily returns, e.g. the fair set of
        :func:`xlsector.benchmarks.fair_benchmarks` over these days).

        ``attrs``: ``period`` (start point, last date) and ``sample`` (what is in or out of sample).
        """
        from xlsector.measures import count_switches, metrics_after_start

        m_wf = metrics_after_start(
            self.returns,
            holdings=self.holdings,
            switches=count_switches(self.holdings),
            benchmark=self.benchmark_returns,
            benchmarks=benchmarks,
        )
        m_in = metrics_after_start(
            self.in_sample_returns,
            holdings=self.in_sample_holdings,
            switches=count_switches(self.in_sample_holdings),
        )
        table = pd.DataFrame(
            {
                "walk_forward": m_wf["strategy"],
                "in_sample_best": m_in["strategy"].reindex(m_wf.index),
                "benchmark": m_wf["benchmark"],
                **{key: m_wf[key] for key in (benchmarks or {})},
                "definition": m_wf["definition"],
            }
        )
        table.attrs["period"] = (self.returns.index[0], self.returns.index[-1])
        table.attrs["sample"] = (
            "walk_forward: out of sample (each tc chosen on data before the days it trades); "
            f"in_sample_best: tc {self.in_sample_tc:g} chosen on the whole period (hindsight); "
            f"benchmark: {self.benchmark_label}"
        )
        return table

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.returns.index[0], self.returns.index[-1]

    @property
    def current_tc(self) -> float:
        """The tc in force after the last close (the one to use for the next decision)."""
        return float(self.retunes["tc"].iloc[-1])

    def next_retune(self, schedule: Schedule) -> tuple[pd.Timestamp, str]:
        """(date of the next retune, how it was found) after the last data date: ``retune_days`` market days
        after the last completed tuning (initial, kept or adopted), on the next decision day of
        ``schedule`` (market days after the data as in :mod:`xlsector.calendar`). A deferred retune is
        re-tried on the next decision day."""
        from xlsector.calendar import market_days, market_days_after
        from xlsector.rotation import next_decision_day

        dates = self.returns.index
        calendar = market_days(pd.DatetimeIndex(dates))
        last = pd.Timestamp(dates[-1])
        done = self.retunes[self.retunes["action"].isin(["initial", "kept", "adopted"])]
        last_done = pd.Timestamp(done["date"].iloc[-1])
        since = int((dates > last_done).sum())
        waiting = self.retunes["action"].iloc[-1] == "deferred"
        remaining = 0 if waiting else max(self.retune_days - since, 0)
        due = last if remaining <= 1 else pd.Timestamp(market_days_after(last, remaining - 1, calendar)[-1])
        when = next_decision_day(due, schedule, calendar)
        how = (f"last completed tuning {last_done:%Y-%m-%d}, {since} market days before the last data date "
               f"{last:%Y-%m-%d}; due after {self.retune_days} market days, on a {schedule} decision day")
        if waiting:
            how = (f"the last retune was {self.retunes['action'].iloc[-1]}: re-tried on the next {schedule} "
                   "decision day")
        return when, how

    def series(self) -> pd.DataFrame:
        """Daily series over the out-of-sample days: the tc in force, the growth of 1 of the walk-forward, the
        in-sample best tc and the benchmark, and one 0/1 column per asset held ("Holds XLK")."""
        names = list(dict.fromkeys(self.holdings.to_numpy()))
        order = [n for n in names if n != "CASH"] + (["CASH"] if "CASH" in names else [])
        held = self.holdings.to_numpy()
        return pd.DataFrame({
            "tc in force": self.tc.to_numpy(),
            "Walk-forward": self.equity.to_numpy(),
            f"In-sample best (tc {self.in_sample_tc:g})": (1.0 + self.in_sample_returns).cumprod().to_numpy(),
            f"Benchmark ({self.benchmark_label})": (1.0 + self.benchmark_returns).cumprod().to_numpy(),
            **{f"Holds {n}": (held == n).astype(float) for n in order},
        }, index=self.returns.index)

    def facts(self, schedule: Schedule = "daily") -> list[tuple[str, Any]]:
        """The walk-forward's key figures as (label, value) rows."""
        start, end = self.period
        when, _ = self.next_retune(schedule)
        return [
            ("Born on (first tuning)", self.born_on),
            ("Earliest allowed born-on", self.earliest_born_on),
            ("Out of sample from", start),
            ("Out of sample to", end),
            ("Retune every (market days)", self.retune_days),
            ("Tuned tc now", self.current_tc),
            ("Next retune (estimate)", when),
            ("In-sample best tc (hindsight)", self.in_sample_tc),
            ("Retunes (adopted)", int((self.retunes["action"] == "adopted").sum())),
            ("Walk-forward trades", len(self.trades)),
        ]


def _born_on(prices: pd.DataFrame, dates: pd.Index, born_on) -> tuple[int, pd.Timestamp, pd.Timestamp]:
    """The born-on day as a row of the period's ``dates``, the earliest allowed born-on date and the data
    start (rules in :func:`fwpt`)."""
    frame = prices.to_frame() if isinstance(prices, pd.Series) else prices
    present = ~np.isnan(frame.to_numpy(dtype=np.float64, na_value=np.nan))
    has = present.any(axis=0)
    if not has.any():
        raise ParameterError("prices has no fund with any price")
    first_rows = np.where(has, present.argmax(axis=0), len(present))
    j_oldest = int(np.argmin(first_rows))  # the first column with the earliest first price
    oldest = frame.columns[j_oldest]
    first_price = pd.Timestamp(frame.index[first_rows[j_oldest]])
    earliest = first_price + pd.DateOffset(years=5)
    enough = np.flatnonzero(present.sum(axis=1) >= min(2, frame.shape[1]))
    data_start = pd.Timestamp(frame.index[enough[0]]) if enough.size else pd.Timestamp(dates[0])
    last = pd.Timestamp(dates[-1])
    if born_on is None:
        wanted = max(data_start + pd.DateOffset(years=5), earliest)
        if wanted >= last:
            raise ParameterError(
                f"born_on: no fund has five years of prices before the last date {last:%Y-%m-%d} "
                f"(the oldest, {oldest}, starts {first_price:%Y-%m-%d}); FWPT needs a first tuning on at "
                "least five years of data"
            )
    else:
        try:
            wanted = pd.Timestamp(born_on)
        except (TypeError, ValueError):
            raise ParameterError(f"born_on must be a date, got {born_on!r}") from None
        if wanted < earliest:
            raise ParameterError(
                f"born_on must be on or after {earliest:%Y-%m-%d} (five years after the first price of the "
                f"oldest fund, {oldest}, on {first_price:%Y-%m-%d}), got {wanted:%Y-%m-%d}"
            )
        if wanted < dates[0]:
            raise ParameterError(
                f"born_on must be on or after the backtest start {dates[0]:%Y-%m-%d}, got {wanted:%Y-%m-%d}"
            )
        if wanted >= last:
            raise ParameterError(
                f"born_on must be before the last date {last:%Y-%m-%d} (no out-of-sample days), got {wanted:%Y-%m-%d}"
            )
    t0 = int(dates.searchsorted(wanted))
    return t0, earliest, data_start


def _stitch(holdings: np.ndarray, governing: np.ndarray, asset_returns: np.ndarray, cost: float, t0: int):
    """The walk-forward holdings (day t: that of tc column governing[t]) and their net returns from t0 on
    (0 on t0; a change of holding pays ``cost`` on its first day, as the kernel's trades): the same
    arithmetic as the kernel's stitching of the walk (:class:`xlsector._kernels.Walk`)."""
    n_days = len(governing)
    days = np.arange(n_days)
    stitched = holdings[days, governing].astype(np.int64)
    gross = asset_returns[days, stitched]
    net = np.zeros(n_days)
    after = slice(t0 + 1, n_days)
    changed = stitched[after] != stitched[t0 : n_days - 1]
    net[after] = np.where(changed, (1.0 + gross[after]) * (1.0 - cost) - 1.0, gross[after])
    return stitched, net


def _from_first(values: np.ndarray) -> np.ndarray:
    """A copy of ``values`` with 0 as its first element."""
    out = np.array(values, dtype=np.float64)
    out[0] = 0.0
    return out


def fwpt(
    prices: pd.DataFrame,
    *,
    born_on: str | pd.Timestamp | None = None,
    retune_days: int = 125,
    tcs: Iterable[float] = DEFAULT_TCS,
    defer: bool = True,
    grid: Any = None,
    **strategy: Any,
) -> FwptResult:
    """Forward Walk Progressive Tuning of the trend constant (SPEC §4).

    Rules (t indexes the market days of the backtest period, scores are cumulative log returns from the
    period's start through the close of t, the tuned tc is the grid's best, ties to the smallest tc):

    1. **Born on**: ``born_on`` (default: five years after the data start, the first date on which at
       least two funds have prices) is moved to the first market day on or after it, ``t0``. It must be at
       least five years after the first price of the oldest fund, else ParameterError. The first tuning
       uses data through the close of ``t0``; that tc is in force from then on (the walk-forward holds what
       that tc's path holds, as if it had always run with it).
    2. **Retune**: once ``retune_days`` market days have passed since the last completed tuning, a retune
       is due; it happens on the next decision day of the rotation's schedule (daily/week/month end),
       using data through that close.
    3. **Deferral** (``defer=True``): if the newly tuned tc's pick at that close (the target its path
       decides) differs from the current tc's pick, adopting it would force an immediate trade: the old tc
       stays and the retune is re-tried (re-tuned) on each following decision day until the best tc is
       the current one or picks the same fund. With ``defer=False`` the new tc is adopted at once.
    4. **Stitching**: a tc adopted at the close of d governs the holdings from day d + delay + 1 on (the
       first holding its decision at d can set); the walk-forward holding of each day is that tc's
       holding on that day. Its net returns are recomputed from the stitched holdings with the same cost
       (as :func:`xlsector.backtesting.returns_from_holdings` does), so a tc change that changes the
       holding pays it.

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes (dates × funds).
    born_on : date, optional
    retune_days : int
        Market days between retunes (>= 1). Default 125.
    tcs : iterable of float
        Grid of trend constants (default 2..200).
    defer : bool
        Defer a retune that would force an immediate trade (default True).
    grid : GridResult, optional
        A precomputed ``run_backtest_grid(prices, tcs, **strategy)`` to reuse (several tuning functions on
        the same data share one grid run); ``tcs`` and ``strategy`` are then not used.
    **strategy
        Parameters of :func:`xlsector.backtesting.run_backtest_grid` (hysteresis, schedule, delay, cost_bp,
        stormguard, index, bear, cash_rate, benchmark, ...).

    Returns
    -------
    FwptResult
        Metrics after the born-on date only (out of sample), with the in-sample best tc and the benchmark
        over the same days.
    """
    grid_tcs = _tcs(tcs)
    if isinstance(retune_days, bool) or not isinstance(retune_days, (int, np.integer)) or retune_days < 1:
        raise ParameterError(f"retune_days must be a whole number >= 1 (market days), got {retune_days!r}")
    if not isinstance(defer, (bool, np.bool_)):
        raise ParameterError(f"defer must be True or False, got {defer!r}")
    if grid is None:  # one pass of the kernel: it walks FWPT on the fly where it can (one thread)
        from xlsector.backtesting import GridSetup

        setup = GridSetup.prepare(prices, grid_tcs, **strategy)
        t0, earliest, data_start = _born_on(prices, setup.dates, born_on)
        walk = Walk.new(t0, int(retune_days), bool(defer), len(setup.dates))
        grid = setup.run(walk)
    else:
        t0, earliest, data_start = _born_on(prices, grid.dates, born_on)
        walk = NO_WALK
    n_days = len(grid.dates)
    lag = grid.strategy.delay + 1
    paths = grid.paths
    if walk.n_events[0] >= 0:
        ev_day, ev_best, ev_kind = walk.events[:, : walk.n_events[0]]
        active, final_growth = walk.active, paths.growth
    else:
        active, ev_day, ev_best, ev_kind, final_growth = _fwpt_walk(
            paths.net,
            paths.holdings,
            paths.last_targets,
            lag,
            np.ascontiguousarray(grid.decision, dtype=np.bool_),
            t0,
            int(retune_days),
            bool(defer),
        )
    governing = np.empty(n_days, np.int64)  # tc row whose path gives the holding of day t
    governing[:lag] = active[0]
    governing[lag:] = active[:-lag]
    governing[: t0 + 1] = active[t0]
    if walk.n_events[0] >= 0:  # the kernel stitched the path too
        stitched, net = walk.hold, walk.net
    else:
        stitched, net = _stitch(paths.holdings, governing, grid.asset_returns, grid.cost, t0)

    oos = grid.dates[t0:]
    # each out-of-sample series starts at the born-on day with return 0 (set on the arrays: cheaper than
    # on the Series)
    wf = pd.Series(_from_first(net[t0:]), index=oos, name="walk_forward", copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        best_full = int(np.argmax(np.log(np.maximum(final_growth, 0.0))))
    ins = pd.Series(_from_first(paths.net[t0:, best_full]), index=oos, name="in_sample_best", copy=False)
    bench = pd.Series(_from_first(np.asarray(grid.benchmark_returns)[t0:]), index=oos, name="benchmark", copy=False)
    names = np.asarray(grid.assets, dtype=object)
    holdings = pd.Series(names[stitched[t0:]], index=oos, name="holding")
    ins_holdings = pd.Series(names[paths.holdings[t0:, best_full]], index=oos, name="holding")

    ev_tc = []
    current = None
    for kind, best in zip(ev_kind, ev_best):
        if kind in (0, 2):
            current = best
        ev_tc.append(grid.tcs[current])
    # a deferred retune is re-tried on every following decision day: keep the first try of each run of
    # deferrals (same best tc) and count the tries
    kinds = np.asarray(ev_kind)
    bests = np.asarray(ev_best)
    repeat = np.zeros(kinds.size, bool)
    repeat[1:] = (kinds[1:] == 3) & (kinds[:-1] == 3) & (bests[1:] == bests[:-1])
    group = np.cumsum(~repeat) - 1
    keep = ~repeat
    retunes = pd.DataFrame(
        {
            "date": grid.dates[np.asarray(ev_day)[keep]],
            "best_tc": grid.tcs[bests[keep]],
            "action": [EVENT_KINDS[int(k)] for k in kinds[keep]],
            "tc": np.asarray(ev_tc)[keep],
            "tries": np.bincount(group),
        }
    )
    change = np.flatnonzero(stitched[t0 + 1 :] != stitched[t0:-1]) + t0 + 1
    trades = pd.DataFrame(
        {"date": grid.dates[change], "from": names[stitched[change - 1]], "to": names[stitched[change]]}
    )
    return FwptResult(
        born_on=pd.Timestamp(oos[0]),
        earliest_born_on=earliest,
        retune_days=int(retune_days),
        defer=bool(defer),
        tcs=grid.tcs,
        retunes=retunes,
        tc=pd.Series(grid.tcs[governing[t0:]], index=oos, name="tc"),
        holdings=holdings,
        returns=wf,
        equity=pd.Series(np.cumprod(1.0 + wf.to_numpy()), index=oos, name="equity", copy=False),
        trades=trades,
        in_sample_tc=float(grid.tcs[best_full]),
        in_sample_returns=ins,
        benchmark_returns=bench,
        benchmark_label=grid.benchmark_label,
        in_sample_holdings=ins_holdings,
        data_start=data_start,
    )


# ----------------------------------------------------------------------------------------------- stationarity


def split_sample(
    prices: pd.DataFrame,
    *,
    tcs: Iterable[float] = DEFAULT_TCS,
    score: str | float = "cumulative",
    plateau: float = 0.05,
    grid: Any = None,
    **strategy: Any,
) -> pd.DataFrame:
    """Split-sample stationarity: trend charts of the first half, the second half and the whole period.

    One rotation run over the whole period (so the second half starts with warmed-up trends and the
    holdings the strategy really had); the halves split the backtest period's return days in two.
    ``grid``: a precomputed ``run_backtest_grid`` result to reuse (``tcs`` and ``strategy`` are then not used).

    Returns
    -------
    DataFrame
        Index ``tc``; columns ``first_half``, ``second_half``, ``whole`` (scores). ``attrs`` holds
        ``periods`` (name -> (start point, last date)), ``peaks`` (name -> peak tc), ``plateaus``,
        ``score`` (label) and ``sample`` ("in sample").
    """
    grid_tcs = _tcs(tcs)
    half_life = _check_half_life(score)
    plateau = _check_plateau(plateau)
    grid = grid if grid is not None else _grid(prices, grid_tcs, **strategy)
    n = len(grid.dates)
    if n < 3:
        raise ParameterError(f"prices: the backtest period has {n} days; a split sample needs at least 3")
    mid = (n - 1) // 2
    windows = {"first_half": (0, mid), "second_half": (mid, n - 1), "whole": (0, n - 1)}
    frame = pd.DataFrame(index=pd.Index(grid.tcs, name="tc"))
    periods, peaks, plateaus = {}, {}, {}
    for name, (i0, i1) in windows.items():
        chart = _chart_from_grid(grid, i0, i1, half_life, plateau)
        frame[name] = chart.table["score"].to_numpy()
        periods[name] = (chart.period[0], chart.period[1])
        peaks[name] = chart.peak_tc
        plateaus[name] = chart.plateau
    frame.attrs.update(
        periods=periods,
        peaks=peaks,
        plateaus=plateaus,
        score=score_label(half_life),
        sample="in sample: each column scores every tc on its own window",
    )
    return frame


def progressive_tune(
    prices: pd.DataFrame,
    *,
    window: int = 250,
    step: int = 125,
    tcs: Iterable[float] = DEFAULT_TCS,
    grid: Any = None,
    **strategy: Any,
) -> pd.DataFrame:
    """Progressive-tune stationarity: every ``step`` market days, the best tc on the prior ``window`` days.

    Tuning dates are days ``window, window + step, ...`` of the backtest period; the score is the
    cumulative log return over the ``window`` return days ending on the tuning date (its close).
    ``grid``: a precomputed ``run_backtest_grid`` result to reuse (``tcs`` and ``strategy`` are then not used).

    Returns
    -------
    DataFrame
        Columns ``date`` (tuning date), ``window_start`` (start point of the window), ``tc`` (best),
        ``score``. ``attrs``: ``score`` label, ``window``, ``step``.
    """
    for value, name in ((window, "window"), (step, "step")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"{name} must be a whole number >= 1 (market days), got {value!r}")
    grid_tcs = _tcs(tcs)
    grid = grid if grid is not None else _grid(prices, grid_tcs, **strategy)
    n = len(grid.dates)
    if n <= window:
        raise ParameterError(f"window must be shorter than the backtest period ({n} days), got {window}")
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log1p(np.maximum(grid.returns, -1.0))
    logs[:, 0] = 0.0
    cum = np.cumsum(logs, axis=1)
    ends = np.arange(window, n, step)
    window_scores = cum[:, ends] - cum[:, ends - window]
    best = np.argmax(window_scores, axis=0)
    frame = pd.DataFrame(
        {
            "date": grid.dates[ends],
            "window_start": grid.dates[ends - window],
            "tc": grid.tcs[best],
            "score": window_scores[best, np.arange(ends.size)],
        }
    )
    frame.attrs.update(
        score=score_label(None) + f" over the prior {window} market days",
        window=window,
        step=step,
        sample="in sample per window",
    )
    return frame
