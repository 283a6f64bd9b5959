"""Robustness of a tuned result (SPEC §4): is the chosen point a plateau or a spike, an edge of the grid,
an accident of the calendar?

* :func:`edge_report` — the trend chart's peak against its grid: an edge flag, the plateau measure and a
  warning text when the peak is on the grid's edge or the plateau is one trend constant wide.
* :func:`robustness_map` — a metric (CAGR, score or Sharpe) over tc x hysteresis, the chosen point marked.
* :func:`timing_luck` — the same strategy with its week/month decision day shifted 0..4 market days (the
  ``decision_offset`` of :func:`xlsector.rotation.decision_days`): the spread of CAGR is luck of the calendar.
* :func:`retune_sensitivity` — FWPT's out-of-sample figures for several retune intervals.

All run the rotation through :func:`xlsector.backtesting.run_backtest_grid` / ``run_backtest`` (a caller may
pass the grids it already has); nothing here prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import ParameterError
from xlsector.measures import DAYS_PER_YEAR

__all__ = [
    "DEFAULT_HYSTERESIS_VALUES",
    "DEFAULT_OFFSETS",
    "DEFAULT_RETUNE_DAYS",
    "MAP_METRICS",
    "EdgeReport",
    "RobustnessMap",
    "TimingLuck",
    "edge_report",
    "retune_sensitivity",
    "robustness_map",
    "timing_luck",
]

#: Hysteresis values of the map (the chosen one is added).
DEFAULT_HYSTERESIS_VALUES = (0.0, 0.005, 0.01, 0.02, 0.04)
#: Decision-day offsets of the timing-luck check (a week has five market days).
DEFAULT_OFFSETS = (0, 1, 2, 3, 4)
#: Retune intervals of FWPT's sensitivity check (a quarter, half a year, a year of market days).
DEFAULT_RETUNE_DAYS = (63, 125, 250)
#: At most this many trend constants on the map's tc axis (the grid is thinned evenly, edges and the
#: chosen tc kept): a map is read by eye, and each hysteresis value costs one run of the rotation.
MAP_ROWS = 40

MAP_METRICS = {
    "CAGR": "growth^(365.25 / calendar days) - 1 over the whole backtest period",
    "score": "sum of daily log returns log(1 + r) over the whole period (the trend chart's score)",
    "Sharpe": "mean / std(ddof=1) of the daily returns x sqrt(252) (no risk-free rate)",
}


# ----------------------------------------------------------------------------------------------------
# the grid's edge and the plateau
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeReport:
    """Where the trend chart's peak sits in its grid.

    ``on_edge``: the peak is the grid's first or last tc; ``edge``: "low", "high" or "";
    ``plateau_open``: the plateau reaches an edge of the grid (so its width is a lower bound);
    ``rise``: how much the score rises over the last ``span`` tcs toward the edge (log growth; > 0 = still
    rising at the edge); ``warning``: a sentence, or "" when nothing is wrong.
    """

    on_edge: bool
    edge: str
    plateau_count: int
    plateau: tuple[float, float]
    plateau_open: bool
    rise: float
    span: int
    warning: str

    def facts(self) -> list[tuple[str, Any]]:
        return [
            ("Plateau touches the grid's edge", "YES: its width is a lower bound" if self.plateau_open else "no"),
            (f"Score rise over the last {self.span} tcs to the edge", self.rise if self.on_edge else None),
            ("Warning", self.warning or "none"),
        ]


def edge_report(chart: Any, span: int = 10) -> EdgeReport:
    """The grid-edge flag and the plateau measure of a :class:`~xlsector.tuning.TrendChart`.

    The warning says, in one sentence, what is wrong: the peak on the grid's edge (the score may keep
    rising beyond the grid: widen TcMin/TcMax before trusting the tuned tc), a plateau that ends at the
    edge (its width is only a lower bound) or a one-tc plateau (a spike: a neighbouring tc does worse by
    more than the plateau tolerance).
    """
    table = chart.table
    tcs = table.index.to_numpy(dtype=float)
    score = table["score"].to_numpy(dtype=float)
    peak = int(np.flatnonzero(tcs == chart.peak_tc)[0])
    edge = "low" if peak == 0 else "high" if peak == len(tcs) - 1 else ""
    lo, hi = chart.plateau
    count = int(table["in_plateau"].sum())
    plateau_open = len(tcs) > 1 and (lo == tcs[0] or hi == tcs[-1])
    steps = min(span, len(tcs) - 1)
    rise = math.nan
    if edge and steps > 0:
        inner = peak + steps if edge == "low" else peak - steps
        rise = float(score[peak] - score[inner])
    parts = []
    tolerance = chart.plateau_tolerance
    if edge:
        which = "first" if edge == "low" else "last"
        setting = "TcMin" if edge == "low" else "TcMax"
        parts.append(
            f"the peak tc {chart.peak_tc:g} is the grid's {which} trend constant: the score may keep rising "
            f"beyond it ({'+' if rise >= 0 else ''}{rise:.3f} log growth over the last {steps} tcs); widen the "
            f"grid ({setting}) before trusting the tuned tc"
        )
    if plateau_open and not edge:
        parts.append(f"the plateau ({lo:g}..{hi:g}) ends at the grid's edge: its width is only a lower bound")
    if count <= 1 and len(tcs) > 1:
        parts.append(
            f"the plateau is {count} tc wide: every neighbouring tc grows at least {100 * tolerance:g} % less, "
            "a spike rather than a plateau (a small change of tc changes the result)"
        )
    text = "; ".join(parts)
    warning = text[:1].upper() + text[1:] + "." if parts else ""
    return EdgeReport(on_edge=bool(edge), edge=edge, plateau_count=count, plateau=(float(lo), float(hi)),
                      plateau_open=bool(plateau_open), rise=rise, span=steps, warning=warning)


# ----------------------------------------------------------------------------------------------------
# tc x hysteresis
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RobustnessMap:
    """``table``: the metric by tc (rows) and hysteresis (columns); ``chosen``: (tc, hysteresis) marked;
    ``best``: the map's best cell; ``metric`` and ``definition``; ``period`` of the backtests."""

    table: pd.DataFrame
    chosen: tuple[float, float]
    best: tuple[float, float]
    metric: str
    definition: str
    period: tuple[pd.Timestamp, pd.Timestamp]
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def chosen_value(self) -> float:
        return self._at(*self.chosen)

    def _at(self, tc: float, hysteresis: float) -> float:
        row = self.table.index.get_indexer(pd.Index([tc]))[0]
        col = self.table.columns.get_indexer(pd.Index([hysteresis]))[0]
        return float(self.table.to_numpy(dtype=float)[row, col])

    def neighbourhood(self) -> np.ndarray:
        """The metric of the chosen cell and its neighbours (one row and one column each way)."""
        rows = self.table.index.get_loc(self.chosen[0])
        cols = self.table.columns.get_loc(self.chosen[1])
        assert isinstance(rows, int) and isinstance(cols, int)
        block = self.table.iloc[max(rows - 1, 0) : rows + 2, max(cols - 1, 0) : cols + 2]
        return block.to_numpy(dtype=float)

    def facts(self) -> list[tuple[str, Any, str]]:
        """(label, value, definition) rows: the chosen and the best cell, and how the chosen one's
        neighbours compare (a robust choice sits on a plateau: its neighbours are nearly as good)."""
        around = self.neighbourhood()
        values = self.table.to_numpy(dtype=float)
        value = self.chosen_value
        rank = int(np.sum(values > value)) + 1
        return [
            ("Metric", self.metric, self.definition),
            ("Chosen tc", self.chosen[0], "the trend chart's peak at the chosen hysteresis (marked on the map)"),
            ("Chosen hysteresis", self.chosen[1], "the Hysteresis setting"),
            (f"{self.metric} at the chosen point", value, "in sample, whole period"),
            ("Rank of the chosen point on the map", rank, f"among {values.size} cells (1 = best)"),
            ("Map best tc", self.best[0], "the cell with the best metric (in sample: hindsight)"),
            ("Map best hysteresis", self.best[1], ""),
            (f"Map best {self.metric}", self._at(*self.best), ""),
            ("Worst neighbour of the chosen point", _nan_or(np.nanmin, around),
             "the lowest metric among the chosen cell and its 8 neighbours (one tc row, one hysteresis column "
             "each way): far below the chosen value = a spike, not a plateau"),
            ("Median of the map", _nan_or(np.nanmedian, values), "what a tc x hysteresis drawn at random gives"),
        ]


def _nan_or(reduce: Any, values: np.ndarray) -> float:
    """``reduce`` (nanmin, nanmedian) of the values that are numbers; NaN when none is (too few returns for
    the metric), without numpy's all-NaN warning."""
    numbers = values[~np.isnan(values)]
    return float(reduce(numbers)) if numbers.size else float("nan")


def _metric(grid: Any, metric: str) -> np.ndarray:
    returns = np.asarray(grid.returns)[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = np.log1p(np.maximum(returns, -1.0)).sum(axis=1)
        if metric == "score":
            return logs
        if metric == "CAGR":
            days = (grid.dates[-1] - grid.dates[0]) / pd.Timedelta(days=1)
            return np.expm1(logs * 365.25 / days) if days > 0 else np.full(len(logs), np.nan)
        if returns.shape[1] < 2:  # a sample standard deviation needs two returns
            return np.full(len(logs), np.nan)
        mean = returns.mean(axis=1)
        std = returns.std(axis=1, ddof=1)
        return np.where(std > 1e-10 * np.abs(mean), mean / std * math.sqrt(DAYS_PER_YEAR), np.nan)


def map_tcs(tcs: Sequence[float], chosen: float | None = None, rows: int = MAP_ROWS) -> list[float]:
    """The map's tc axis: the grid thinned evenly to at most ``rows`` (its first and last kept) plus ``chosen``."""
    grid = [float(t) for t in tcs]
    if len(grid) > rows:
        picks = np.unique(np.round(np.linspace(0, len(grid) - 1, rows)).astype(int))
        grid = [grid[i] for i in picks]
    if chosen is not None and float(chosen) not in grid:
        grid = sorted([*grid, float(chosen)])
    return grid


def robustness_map(
    prices: pd.DataFrame,
    tcs: Iterable[float] = range(2, 201),
    hysteresis_values: Iterable[float] = DEFAULT_HYSTERESIS_VALUES,
    *,
    metric: str = "CAGR",
    chosen: tuple[float, float] | None = None,
    grid_for: Callable[[float, list[float]], Any] | None = None,
    rows: int = MAP_ROWS,
    **strategy: Any,
) -> RobustnessMap:
    """A metric of the rotation over trend constants x hysteresis values (in sample, whole period).

    Parameters
    ----------
    prices : DataFrame
        The funds (as for :func:`xlsector.run_backtest`).
    tcs : iterable of float
        The tuning grid; the map shows it thinned to at most ``rows`` trend constants (first and last
        kept) plus the chosen tc.
    hysteresis_values : iterable of float
        Columns of the map (the chosen hysteresis is added when missing).
    metric : "CAGR", "score" or "Sharpe"
    chosen : (tc, hysteresis), optional
        The point to mark; default: the best tc of the grid (by score) at ``strategy["hysteresis"]`` (or
        its default), as the trend chart tunes it.
    grid_for : callable(hysteresis, tcs) -> GridResult, optional
        Supplies the grid for one hysteresis value (a cache); default ``run_backtest_grid``.
    **strategy
        The other parameters of :func:`xlsector.run_backtest_grid` (index, stormguard, schedule, ...).
    """
    from xlsector.backtesting import run_backtest_grid
    from xlsector.params import Strategy, param_of

    if metric not in MAP_METRICS:
        raise ParameterError(f"metric must be one of {', '.join(MAP_METRICS)}, got {metric!r}")
    base_h = float(strategy.pop("hysteresis", param_of(Strategy, "hysteresis").default))
    try:
        values = sorted({float(h) for h in hysteresis_values} | {base_h if chosen is None else float(chosen[1])})
        full = [float(t) for t in tcs]
    except (TypeError, ValueError):
        raise ParameterError("hysteresis_values and tcs must be numbers") from None
    if not full or not values:
        raise ParameterError("the map needs at least one tc and one hysteresis value")
    for h in values:
        param_of(Strategy, "hysteresis").check(h)

    def run(h: float, grid_tcs: list[float]) -> Any:
        if grid_for is not None:
            return grid_for(h, grid_tcs)
        return run_backtest_grid(prices, grid_tcs, hysteresis=h, **strategy)

    notes = {}
    base = None
    if chosen is None:
        base = run(base_h, full)
        scores = _metric(base, "score")
        chosen = (float(np.asarray(base.tcs, dtype=float)[int(np.nanargmax(scores))]), base_h)
        notes["chosen"] = "the trend chart's peak (best score) at the chosen hysteresis"
    axis = map_tcs(full, chosen[0], rows)
    columns = {}
    period = None
    for h in values:
        if base is not None and h == base_h:
            grid = base  # the whole grid is already there: the map reads its rows
        else:
            grid = run(h, full if h == base_h and grid_for is not None else axis)
        got = _metric(grid, metric)
        series = pd.Series(got, index=np.asarray(grid.tcs, dtype=float))
        columns[h] = series.reindex(axis).to_numpy()
        period = (pd.Timestamp(grid.dates[0]), pd.Timestamp(grid.dates[-1]))
    table = pd.DataFrame(columns, index=pd.Index(axis, name="tc"))
    table.columns.name = "hysteresis"
    flat = table.to_numpy(dtype=float)
    if np.isnan(flat).all():
        best = chosen
    else:
        i, j = np.unravel_index(int(np.nanargmax(flat)), flat.shape)
        best = (float(axis[int(i)]), float(values[int(j)]))
    assert period is not None
    return RobustnessMap(table=table, chosen=(float(chosen[0]), float(chosen[1])), best=best, metric=metric,
                         definition=MAP_METRICS[metric], period=period, notes=notes)


# ----------------------------------------------------------------------------------------------------
# timing luck
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimingLuck:
    """``table``: per decision-day offset, CAGR, Sharpe, max drawdown and switches; ``spread``: max - min CAGR."""

    table: pd.DataFrame
    schedule: str
    spread: float
    std: float
    note: str

    def facts(self) -> list[tuple[str, Any, str]]:
        return [
            ("Schedule", self.schedule, "decision days of the strategy"),
            ("CAGR spread (max - min)", self.spread,
             "over the decision-day offsets: how much of the CAGR is luck of the calendar"),
            ("CAGR std", self.std, "sample std of the CAGR over the offsets"),
            ("Note", self.note, ""),
        ]


def timing_luck(prices: pd.DataFrame, offsets: Iterable[int] = DEFAULT_OFFSETS, **strategy: Any) -> TimingLuck:
    """The same strategy with its decision day shifted by each offset (0 = the week's or month's last market
    day, 1 = the next market day, ...; :func:`xlsector.rotation.decision_days`), over the same period.

    With daily decisions every market day is a decision day, so every offset gives the same backtest:
    the spread is 0 (said in ``note``). Parameters: those of :func:`xlsector.run_backtest` (``tc``,
    ``schedule``, ...); ``decision_offset`` must not be among them.
    """
    from xlsector.backtesting import run_backtest
    from xlsector.measures import cagr, max_drawdown, sharpe_ratio

    if "decision_offset" in strategy:
        raise ParameterError("timing_luck takes offsets=, not decision_offset=")
    try:
        shifts = [int(o) for o in offsets]
    except (TypeError, ValueError):
        raise ParameterError(f"offsets must be whole numbers >= 0, got {offsets!r}") from None
    if not shifts or any(o < 0 for o in shifts):
        raise ParameterError(f"offsets must be whole numbers >= 0, got {offsets!r}")
    rows = []
    schedule = "daily"
    first = None
    for offset in shifts:
        result = run_backtest(prices, decision_offset=offset, **strategy)
        schedule = result.strategy.schedule
        returns = result.returns
        first = first or returns.index[0]
        if returns.index[0] != first:
            raise ParameterError("the offsets changed the backtest period")  # pragma: no cover - same inputs
        days = returns.iloc[1:]
        rows.append({"offset": offset, "CAGR": cagr(days, start=returns.index[0]), "Sharpe": sharpe_ratio(days),
                     "Max drawdown": max_drawdown(days), "Switches": float(result.switches)})
    table = pd.DataFrame(rows).set_index("offset")
    values = table["CAGR"].to_numpy(dtype=float)
    spread = float(np.nanmax(values) - np.nanmin(values)) if np.isfinite(values).any() else math.nan
    std = float(np.nanstd(values, ddof=1)) if np.isfinite(values).sum() >= 2 else math.nan
    if schedule == "daily":
        note = "daily decisions: every market day is a decision day, so the offset changes nothing (spread 0)"
    else:
        note = (f"{schedule} decisions taken {', '.join(map(str, shifts))} market days after the {schedule}'s last "
                "market day; the same strategy otherwise")
    return TimingLuck(table=table, schedule=schedule, spread=spread, std=std, note=note)


# ----------------------------------------------------------------------------------------------------
# FWPT's retune interval
# ----------------------------------------------------------------------------------------------------


def retune_sensitivity(
    prices: pd.DataFrame,
    retune_days: Iterable[int] = DEFAULT_RETUNE_DAYS,
    *,
    grid: Any = None,
    born_on: Any = None,
    tcs: Iterable[float] = range(2, 201),
    defer: bool = True,
    **strategy: Any,
) -> pd.DataFrame:
    """FWPT's out-of-sample figures (after the born-on date) for each retune interval, on one grid.

    Returns a DataFrame indexed by ``retune_days``: CAGR, Sharpe, max drawdown and PSR of the walk-forward,
    the number of tunings (trials N = grid size x tunings), the adopted retunes and the tc in force now.
    """
    from xlsector.backtesting import run_backtest_grid
    from xlsector.measures import cagr, max_drawdown, sharpe_ratio
    from xlsector.overfitting import probabilistic_sharpe, sharpe_stats
    from xlsector.tuning import fwpt

    grid_tcs = [float(t) for t in tcs]
    grid = grid if grid is not None else run_backtest_grid(prices, grid_tcs, **strategy)
    rows = []
    for days in retune_days:
        walk = fwpt(prices, born_on=born_on, retune_days=days, defer=defer, grid=grid)
        r = walk.returns
        x = r.iloc[1:]
        sr, n, skew, kurt = sharpe_stats(x.to_numpy()) if len(x) >= 2 else (math.nan, 0, math.nan, math.nan)
        tunings = int(walk.retunes["tries"].sum())
        rows.append({
            "retune_days": int(days),
            "CAGR": cagr(x, start=r.index[0]),
            "Sharpe": sharpe_ratio(x),
            "Max drawdown": max_drawdown(x),
            "PSR": probabilistic_sharpe(sr, n, skew, kurt) if n >= 2 else math.nan,
            "Tunings": tunings,
            "Trials N": float(len(grid.tcs) * tunings),
            "Adopted": int((walk.retunes["action"] == "adopted").sum()),
            "tc now": walk.current_tc,
        })
    frame = pd.DataFrame(rows).set_index("retune_days")
    frame.attrs["definition"] = ("out of sample, after the born-on date; PSR = P[true SR > 0] of the walk-forward, "
                                 "one trial; Trials N = grid size x tunings (for its DSR)")
    return frame
