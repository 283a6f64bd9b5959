"""Experiments: phases of one-parameter grids, each starting from the best of the previous phase.

File format (TOML, see ``docs/experiments.md``)::

    description = "..."
    base = "sector_rotation_mom_126"     # profile the first phase starts from
    rank_by = "sharpe"                   # metric used to pick each phase's best (see RANK_METRICS)
    start = "2000-01-01"                 # optional: common reported period (default: after the longest warm-up)
    end = "2024-12-31"                   # optional
    select_until = "2014-12-31"          # optional: rank on [start, select_until] only and report the
                                         # later days as out of sample

    [[phase]]
    name = "momentum"
    parameter = "lookback"
    values = [118, 120, 122]             # or range = [118, 134, 2] (inclusive)
    set = { leverage = 1.25 }            # optional: other parameters fixed during this phase
    start_from = "previous"              # "previous" (default), "base" or the name of an earlier phase

    [[phase]]
    name = "combined"
    combine = ["momentum", "vix", "ma"]  # one run: base + the best value (and set) of each named phase

Every run of an experiment reports over the same period, so rows are comparable. The results are in
sample (the parameters are chosen on the days they are measured on) unless ``select_until`` is given.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import ParameterError
from xlsector.measures import CASH
from xlsector.params import MomentumStrategy, param_of
from xlsector.profiles.loader import (
    Profile,
    check_parameter,
    check_values,
    load_profile,
    parameter_names,
    read_toml,
)

__all__ = [
    "MAX_GRID_POINTS",
    "RANK_METRICS",
    "Experiment",
    "ExperimentResult",
    "Phase",
    "load_experiment",
    "run_experiment",
]

#: The most runs one phase's grid (``values`` or ``range``) may hold.
MAX_GRID_POINTS = 10_000

#: rank_by name -> (label in the metrics table, True when higher is better)
RANK_METRICS: dict[str, tuple[str, bool]] = {
    "cagr": ("CAGR", True),
    "total_return": ("Total return", True),
    "sharpe": ("Sharpe ratio", True),
    "sortino": ("Sortino ratio", True),
    "calmar": ("Calmar ratio", True),
    "bps": ("BPS", True),
    "max_drawdown": ("Max drawdown", True),  # less negative is better
    "volatility": ("Volatility", False),
    "ulcer": ("Ulcer index (%)", False),
    "win_rate": ("Win rate (days)", True),
}
#: metrics shown in the results table (labels of xlsector.metrics)
TABLE_METRICS = [
    "CAGR",
    "Sharpe ratio",
    "Sortino ratio",
    "Max drawdown",
    "Calmar ratio",
    "Win rate (days)",
    "Win rate (spells)",
    "BPS",
    "Trades",
    "Exposure",
]
PHASE_KEYS = {"name", "parameter", "values", "range", "set", "start_from", "combine"}
TOP_KEYS = {"description", "base", "rank_by", "start", "end", "select_until", "phase"}


@dataclass(frozen=True)
class Phase:
    """One phase: a grid over ``parameter`` (or ``combine``: one run joining earlier phases' bests)."""

    name: str
    parameter: str | None
    values: tuple[Any, ...]
    set: dict[str, Any] = field(default_factory=dict)
    start_from: str = "previous"
    combine: tuple[str, ...] = ()


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    description: str
    base: Profile
    rank_by: str
    phases: tuple[Phase, ...]
    start: str | None = None
    end: str | None = None
    select_until: str | None = None


@dataclass(frozen=True)
class ExperimentResult:
    """The results table (one row per run, plus the benchmark) and what it means.

    ``table`` columns: phase, parameter, value, params (dict of the run's parameters), best (bool), the
    metrics of :data:`TABLE_METRICS` ("Average leverage" over invested days, "Exposure" = share of days
    invested) for the selection period, and the same with the prefix ``OOS `` after ``select_until``.
    """

    experiment: Experiment
    table: pd.DataFrame
    period: tuple[pd.Timestamp, pd.Timestamp]
    selection_period: tuple[pd.Timestamp, pd.Timestamp]
    oos_period: tuple[pd.Timestamp, pd.Timestamp] | None
    definitions: dict[str, str]
    best: dict[str, Any]


def _where(file: Path, index: int | None) -> str:
    return f"{file}: phase {index + 1}" if index is not None else str(file)


def _phase(raw: Any, index: int, file: Path, strategy: str, names: list[str]) -> Phase:
    where = _where(file, index)
    known = parameter_names(strategy)
    if not isinstance(raw, dict):
        raise ParameterError(f"{where}: each [[phase]] must be a table, got {raw!r}")
    unknown = sorted(set(raw) - PHASE_KEYS)
    if unknown:
        raise ParameterError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(PHASE_KEYS))}"
        )
    name = raw.get("name", f"phase {index + 1}")
    if not isinstance(name, str) or not name:
        raise ParameterError(f"{where}: name must be a non-empty string, got {name!r}")
    if name in names:
        raise ParameterError(f"{where}: phase name {name!r} is used twice")
    settings = raw.get("set", {})
    if not isinstance(settings, dict):
        raise ParameterError(f"{where}: set must be a table of parameters, got {settings!r}")
    bad = sorted(set(settings) - set(known))
    if bad:
        raise ParameterError(
            f"{where}: unknown parameter {bad[0]!r} in set; known: {', '.join(sorted(known))}"
        )
    check_values(strategy, settings, f"{where}: set")
    start_from = raw.get("start_from", "previous")
    if start_from not in ("previous", "base") and start_from not in names:
        raise ParameterError(
            f"{where}: start_from must be 'previous', 'base' or an earlier phase name "
            f"({', '.join(names) or 'none yet'}), got {start_from!r}"
        )
    if "combine" in raw:
        combine = raw["combine"]
        if not isinstance(combine, list) or not combine or not all(c in names for c in combine):
            raise ParameterError(
                f"{where}: combine must be a non-empty list of earlier phase names ({', '.join(names) or 'none'}), "
                f"got {combine!r}"
            )
        if "parameter" in raw or "values" in raw or "range" in raw:
            raise ParameterError(f"{where}: a combine phase takes no parameter, values or range")
        return Phase(name, None, (), dict(settings), start_from, tuple(combine))
    parameter = raw.get("parameter")
    if parameter not in known:
        raise ParameterError(
            f"{where}: parameter must be one of {', '.join(sorted(known))}, got {parameter!r}"
        )
    if ("values" in raw) == ("range" in raw):
        raise ParameterError(f"{where}: give exactly one of values = [...] or range = [first, last, step]")
    values = _grid_values(raw, where)
    if not values:
        raise ParameterError(f"{where}: the grid of {parameter!r} is empty (values = [])")
    for value in values:
        try:
            check_parameter(strategy, parameter, value)
        except ParameterError as exc:
            raise ParameterError(f"{where}: {'values' if 'values' in raw else 'range'}: {exc}") from None
    return Phase(name, parameter, tuple(values), dict(settings), start_from)


def _grid_values(raw: dict[str, Any], where: str) -> list[Any]:
    """The phase's ``values``, or the points of its ``range``: at most :data:`MAX_GRID_POINTS` either way."""
    if "values" in raw:
        values = raw["values"]
        if not isinstance(values, list):
            raise ParameterError(f"{where}: values must be a list, got {values!r}")
        _check_grid_size(len(values), where)
        return list(values)
    return _range_points(raw["range"], where)


def _range_points(spec: Any, where: str) -> list[Any]:
    """``range = [first, last, step]``: first, first + step, ... up to last (inclusive)."""
    if (
        not (isinstance(spec, list) and len(spec) == 3)
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in spec)
        or spec[2] <= 0
        or spec[1] < spec[0]
    ):
        raise ParameterError(
            f"{where}: range must be [first, last, step] with step > 0 and last >= first, got {spec!r}"
        )
    first, last, step = spec
    span = (last - first) / step
    count = math.floor(span + 1e-9) + 1 if span < 1e15 else math.inf
    _check_grid_size(count, where)
    points = [first + i * step for i in range(int(count))]
    return [int(v) for v in points] if all(isinstance(v, int) for v in spec) else [round(v, 10) for v in points]


def _check_grid_size(count: float, where: str) -> None:
    if count > MAX_GRID_POINTS:
        size = f"{count:,.0f}" if count < 1e15 else f"about {count:.3g}"
        raise ParameterError(
            f"{where}: the grid has {size} points, more than the limit of {MAX_GRID_POINTS:,} points a phase"
        )


def load_experiment(path: str | os.PathLike[str], dirs: list | None = None) -> Experiment:
    """Read and validate an experiment file (errors name the file, the phase and the key)."""
    file = Path(path).expanduser()
    if not file.is_file():
        from xlsector.profiles.loader import experiments_dir

        shipped = experiments_dir() / (file.name if file.suffix == ".toml" else f"{file.name}.toml")
        if shipped.is_file() and not file.parent.parts[:-1]:
            file = shipped
        else:
            raise ParameterError(f"experiment file {file} not found")
    data = read_toml(file)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ParameterError(f"{file}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(TOP_KEYS))}")
    base_name = data.get("base")
    if not isinstance(base_name, str) or not base_name:
        raise ParameterError(f"{file}: base must name a profile, got {base_name!r}")
    base = load_profile(base_name, list(dirs or []) + [file.parent])
    rank_by = data.get("rank_by", "sharpe")
    if rank_by not in RANK_METRICS:
        raise ParameterError(f"{file}: rank_by must be one of {', '.join(RANK_METRICS)}, got {rank_by!r}")
    phases_raw = data.get("phase")
    if not isinstance(phases_raw, list) or not phases_raw:
        raise ParameterError(f"{file}: an experiment needs at least one [[phase]] table")
    phases: list[Phase] = []
    for i, raw in enumerate(phases_raw):
        phases.append(_phase(raw, i, file, base.strategy, [p.name for p in phases]))
    dates = {}
    for key in ("start", "end", "select_until"):
        value = data.get(key)
        if value is not None:
            try:
                dates[key] = pd.Timestamp(str(value)).strftime("%Y-%m-%d")
            except (ValueError, TypeError):
                raise ParameterError(f"{file}: {key} must be a date YYYY-MM-DD, got {value!r}") from None
    description = data.get("description", "")
    return Experiment(
        name=file.stem,
        path=file,
        description=str(description),
        base=base,
        rank_by=rank_by,
        phases=tuple(phases),
        start=dates.get("start"),
        end=dates.get("end"),
        select_until=dates.get("select_until"),
    )


def _segment(series: pd.Series, first: pd.Timestamp | None, last: pd.Timestamp | None) -> pd.Series:
    """Days (first, last] with ``first``'s close as the start point (return 0)."""
    out = series
    if first is not None:
        pos = int(series.index.searchsorted(first, side="right")) - 1
        out = series.iloc[max(pos, 0) :]
    if last is not None:
        out = out.loc[:last]
    out = out.copy()
    if len(out):
        out.iloc[0] = 0.0
    return out


def _selection(returns: pd.Series, select_until: pd.Timestamp | None, experiment: Any) -> pd.Series:
    """The days the phases are ranked on; an error naming select_until when it leaves none."""
    sel = _segment(returns, None, select_until)
    if len(sel) < 2:
        first = f"{returns.index[0]:%Y-%m-%d}" if len(returns) else "?"
        raise ParameterError(
            f"select_until {experiment.select_until} leaves no days to rank the runs on: they start on {first}"
        )
    return sel


def _figures(returns: pd.Series, holdings: pd.Series, leverage: pd.Series | None) -> dict[str, float]:
    from xlsector.measures import metrics_table

    if len(returns) < 2:
        return {label: math.nan for label in TABLE_METRICS + ["Average leverage"]}
    table = metrics_table(returns, holdings=holdings)  # Trades: count_switches(holdings)
    out = {
        label: float(table.at[label, "strategy"]) if label in table.index else math.nan
        for label in TABLE_METRICS
    }
    if leverage is not None:
        lev = leverage.to_numpy()[1:]
        invested = holdings.to_numpy()[1:] != CASH
        out["Average leverage"] = float(lev[invested].mean()) if invested.any() else math.nan
    else:
        out["Average leverage"] = 1.0
    return out


def _warmup_probe(experiment: Experiment) -> dict[str, Any]:
    """Parameters with the longest warm-up among all runs (largest lookback and MA), for a common start."""
    params = dict(experiment.base.params)
    lookbacks = [params.get("lookback", param_of(MomentumStrategy, "lookback").default)]
    mas = [params.get("ma_filter") or 0]
    for phase in experiment.phases:
        lookbacks += [phase.set.get("lookback", 0)] + [
            v for v in phase.values if phase.parameter == "lookback"
        ]
        mas += [phase.set.get("ma_filter") or 0] + [
            v or 0 for v in phase.values if phase.parameter == "ma_filter"
        ]
    params["lookback"] = max(int(v) for v in lookbacks)
    params["ma_filter"] = max(int(v) for v in mas) or None
    return params


def run_experiment(
    experiment: Experiment,
    prices: pd.DataFrame,
    *,
    vix: pd.Series | None = None,
    on_run: Callable[[int, int], None] | None = None,
) -> ExperimentResult:
    """Run every phase in order; each grid starts from the best configuration of the previous phase.

    ``on_run(done, total)`` is called after each run (progress bar).
    """
    from xlsector.measures import DEFINITIONS
    from xlsector.profiles.run import run_profile

    label, higher = RANK_METRICS[experiment.rank_by]
    base = experiment.base
    if isinstance(vix, pd.Series) and len(prices.index):
        from xlsector.sides import on_price_dates

        vix = on_price_dates(vix, prices.index, "vix")  # align once (one warning), not in every run
    start = experiment.start or base.start
    if experiment.end:
        prices = prices.loc[: pd.Timestamp(experiment.end)]
    if base.strategy == "momentum" and experiment.start is None:
        probe = run_profile(base, prices, vix=vix, overrides=_warmup_probe(experiment), start=start)
        start = probe.period[0].strftime("%Y-%m-%d")
    select_until = pd.Timestamp(experiment.select_until) if experiment.select_until else None

    total = sum(1 if p.combine else len(p.values) for p in experiment.phases)
    done = 0
    rows: list[dict[str, Any]] = []
    best_of: dict[str, dict[str, Any]] = {}  # phase name -> {"params": ..., "value": ..., "changes": ...}
    previous: dict[str, Any] = {}
    period = selection = oos = None
    for phase in experiment.phases:
        if phase.start_from == "base":
            origin: dict[str, Any] = {}
        elif phase.start_from == "previous":
            origin = dict(previous)
        else:
            origin = dict(best_of[phase.start_from]["changes"])
        if phase.combine:
            changes = dict(origin)
            for name in phase.combine:
                changes.update(best_of[name]["own"])
            changes.update(phase.set)
            grid = [(None, changes)]
        else:
            grid = []
            for value in phase.values:
                changes = dict(origin)
                changes.update(phase.set)
                changes[phase.parameter] = value
                grid.append((value, changes))
        phase_rows = []
        for value, changes in grid:
            run = run_profile(base, prices, vix=vix, overrides=changes, start=start)
            lev = getattr(run.result, "leverage", None)
            sel = _selection(run.returns, select_until, experiment)
            row: dict[str, Any] = {
                "phase": phase.name,
                "parameter": phase.parameter or "+".join(phase.combine),
                "value": value
                if value is not None
                else ", ".join(
                    f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                    for name in phase.combine
                    for k, v in best_of[name]["own"].items()
                    if k == next((p.parameter for p in experiment.phases if p.name == name), None)
                ),
                "params": {**base.params, **changes},
                "changes": changes,
            }
            row.update(
                _figures(sel, run.holdings.loc[sel.index], None if lev is None else lev.loc[sel.index])
            )
            if select_until is not None:
                out = _segment(run.returns, select_until, None)
                figs = _figures(out, run.holdings.loc[out.index], None if lev is None else lev.loc[out.index])
                row.update({f"OOS {k}": v for k, v in figs.items()})
                oos = (out.index[0], out.index[-1]) if len(out) else None
            period = run.period
            selection = (sel.index[0], sel.index[-1])
            phase_rows.append(row)
            done += 1
            if on_run:
                on_run(done, total)
        scores = np.array([r[label] for r in phase_rows], dtype=float)
        if np.isnan(scores).all():
            pick = 0
        else:
            pick = int(np.nanargmax(scores) if higher else np.nanargmin(scores))
        for i, row in enumerate(phase_rows):
            row["best"] = i == pick
        chosen = phase_rows[pick]
        own = dict(phase.set)
        if phase.parameter:
            own[phase.parameter] = chosen["changes"][phase.parameter]
        best_of[phase.name] = {"changes": chosen["changes"], "own": own, "value": chosen["value"]}
        previous = chosen["changes"]
        rows.extend(phase_rows)

    # the benchmark over the same days: buy and hold (xlsector.sides.buy_and_hold_returns, NaN where it
    # has no price, so its figures are NaN rather than those of a silently filled series)
    if base.benchmark and base.benchmark in prices.columns and run.benchmark_returns is not None:
        returns = run.benchmark_returns
        holdings = pd.Series(base.benchmark, index=returns.index, dtype=object)
        sel = _selection(returns, select_until, experiment)
        row = {
            "phase": "benchmark",
            "parameter": "",
            "value": f"buy-and-hold {base.benchmark}",
            "params": {},
            "changes": {},
            "best": False,
        }
        row.update(_figures(sel, holdings.loc[sel.index], None))
        if select_until is not None:
            out = _segment(returns, select_until, None)
            row.update({f"OOS {k}": v for k, v in _figures(out, holdings.loc[out.index], None).items()})
        rows.append(row)

    table = pd.DataFrame(rows)
    definitions = {k: DEFINITIONS[k] for k in TABLE_METRICS if k in DEFINITIONS}
    definitions["Average leverage"] = (
        "mean of the exposure (sum of weights x leverage) over the invested days"
    )
    definitions["Exposure"] = "share of the return days invested (% of time invested)"
    definitions["best"] = f"the run of its phase with the {'highest' if higher else 'lowest'} {label} " + (
        f"over the selection period (to {experiment.select_until})"
        if select_until is not None
        else "(in sample)"
    )
    last = phase_rows[pick] if experiment.phases else {}
    return ExperimentResult(
        experiment=experiment,
        table=table,
        period=period,
        selection_period=selection,
        oos_period=oos,
        definitions=definitions,
        best={"phase": experiment.phases[-1].name, "params": last.get("params", {})},
    )
