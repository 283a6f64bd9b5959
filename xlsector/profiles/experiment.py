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

import xlsector.limits as _LIMITS
from xlsector.errors import ParameterError
from xlsector.measures import CASH
from xlsector.params import MomentumStrategy, param_of
from xlsector.profiles.loader import (
    Profile,
    check_names,
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

#: The most runs one phase's grid (``values`` or ``range``) may hold (:data:`xlsector.limits.MAX_GRID_POINTS`).
MAX_GRID_POINTS = _LIMITS.MAX_GRID_POINTS

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
#: metrics shown in the results table (labels of xlsector.measures)
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

    ``selection_returns`` (and ``oos_returns`` after ``select_until``): the daily returns of every run
    (one column per row of ``table``, benchmark rows excluded), every row a return, over the days the
    runs are ranked on (and the later days): what :func:`xlsector.evaluation.experiment_report` needs.
    """

    experiment: Experiment
    table: pd.DataFrame
    period: tuple[pd.Timestamp, pd.Timestamp]
    selection_period: tuple[pd.Timestamp, pd.Timestamp]
    oos_period: tuple[pd.Timestamp, pd.Timestamp] | None
    definitions: dict[str, str]
    best: dict[str, Any]
    selection_returns: pd.DataFrame | None = None
    oos_returns: pd.DataFrame | None = None


def _where(file: Path, index: int | None) -> str:
    return f"{file}: phase {index + 1}" if index is not None else str(file)


def _phase(raw: Any, index: int, file: Path, strategy: str, names: list[str]) -> Phase:
    """One [[phase]] table, checked: keys, name, ``set``, ``start_from``, then a combine or a grid."""
    where = _where(file, index)
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
    settings = _phase_set(raw, where, strategy)
    start_from = raw.get("start_from", "previous")
    if start_from not in ("previous", "base") and start_from not in names:
        raise ParameterError(
            f"{where}: start_from must be 'previous', 'base' or an earlier phase name "
            f"({', '.join(names) or 'none yet'}), got {start_from!r}"
        )
    if "combine" in raw:
        return Phase(name, None, (), settings, start_from, _combine(raw, where, names))
    parameter, values = _grid(raw, where, strategy)
    return Phase(name, parameter, values, settings, start_from)


def _phase_set(raw: dict[str, Any], where: str, strategy: str) -> dict[str, Any]:
    """The phase's ``set`` table: known parameters, each value checked by its rule."""
    settings = raw.get("set", {})
    if not isinstance(settings, dict):
        raise ParameterError(f"{where}: set must be a table of parameters, got {settings!r}")
    check_names(strategy, settings, where, " in set")
    check_values(strategy, settings, f"{where}: set")
    return dict(settings)


def _combine(raw: dict[str, Any], where: str, names: list[str]) -> tuple[str, ...]:
    combine = raw["combine"]
    if not isinstance(combine, list) or not combine or not all(c in names for c in combine):
        raise ParameterError(
            f"{where}: combine must be a non-empty list of earlier phase names ({', '.join(names) or 'none'}), "
            f"got {combine!r}"
        )
    if "parameter" in raw or "values" in raw or "range" in raw:
        raise ParameterError(f"{where}: a combine phase takes no parameter, values or range")
    return tuple(combine)


def _grid(raw: dict[str, Any], where: str, strategy: str) -> tuple[str, tuple[Any, ...]]:
    """The phase's ``parameter`` and its grid of values, each checked by the parameter's rule."""
    known = parameter_names(strategy)
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
    return parameter, tuple(values)


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
            f"{where}: the grid has {size} points, more than {_LIMITS.describe('MAX_GRID_POINTS')}"
        )


def _experiment_file(path: str | os.PathLike[str]) -> Path:
    """The file itself, or a shipped experiment of that name."""
    file = Path(path).expanduser()
    if file.is_file():
        return file
    from xlsector.profiles.loader import experiments_dir

    shipped = experiments_dir() / (file.name if file.suffix == ".toml" else f"{file.name}.toml")
    if shipped.is_file() and not file.parent.parts[:-1]:
        return shipped
    from xlsector.profiles.loader import did_you_mean

    names = sorted(p.stem for p in experiments_dir().glob("*.toml"))
    raise ParameterError(f"experiment file {file} not found{did_you_mean(file.stem, names)}; shipped experiments: "
                         f"{', '.join(names)}")


def _date_keys(data: dict[str, Any], file: Path) -> dict[str, str]:
    dates = {}
    for key in ("start", "end", "select_until"):
        value = data.get(key)
        if value is not None:
            try:
                dates[key] = pd.Timestamp(str(value)).strftime("%Y-%m-%d")
            except (ValueError, TypeError):
                raise ParameterError(f"{file}: {key} must be a date YYYY-MM-DD, got {value!r}") from None
    return dates


def load_experiment(path: str | os.PathLike[str], dirs: list | None = None) -> Experiment:
    """Read and validate an experiment file (errors name the file, the phase and the key)."""
    file = _experiment_file(path)
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
    dates = _date_keys(data, file)
    return Experiment(
        name=file.stem,
        path=file,
        description=str(data.get("description", "")),
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
    from xlsector.measures import metrics_after_start

    if len(returns) < 2:
        return {label: math.nan for label in TABLE_METRICS + ["Average leverage"]}
    strategy = metrics_after_start(returns, holdings=holdings)["strategy"]  # Trades: count_switches(holdings)
    out = {label: float(strategy.get(label, math.nan)) for label in TABLE_METRICS}
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


@dataclass(frozen=True)
class _Setting:
    """What every run of one experiment shares: the data, the common start and the selection cut."""

    experiment: Experiment
    prices: pd.DataFrame
    vix: pd.Series | None
    start: str | None
    select_until: pd.Timestamp | None


def _setting(experiment: Experiment, prices: pd.DataFrame, vix: pd.Series | None) -> _Setting:
    """Align the VIX once (one warning, not one per run), cut at ``end`` and find the common start."""
    from xlsector.profiles.run import run_profile

    base = experiment.base
    if isinstance(vix, pd.Series) and len(prices.index):
        from xlsector.sides import on_price_dates

        vix = on_price_dates(vix, prices.index, "vix")
    start = experiment.start or base.start
    if experiment.end:
        prices = prices.loc[: pd.Timestamp(experiment.end)]
    if base.strategy == "momentum" and experiment.start is None:
        probe = run_profile(base, prices, vix=vix, overrides=_warmup_probe(experiment), start=start)
        start = probe.period[0].strftime("%Y-%m-%d")
    select_until = pd.Timestamp(experiment.select_until) if experiment.select_until else None
    return _Setting(experiment, prices, vix, start, select_until)


def _origin(phase: Phase, previous: dict[str, Any], best_of: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The parameter changes a phase starts from (``start_from``)."""
    if phase.start_from == "base":
        return {}
    if phase.start_from == "previous":
        return dict(previous)
    return dict(best_of[phase.start_from]["changes"])


def _runs(phase: Phase, origin: dict[str, Any], best_of: dict[str, dict[str, Any]]) -> list[tuple[Any, dict]]:
    """(value, parameter changes) of each run of a phase: its grid, or the one combined run."""
    if phase.combine:
        changes = dict(origin)
        for name in phase.combine:
            changes.update(best_of[name]["own"])
        return [(None, {**changes, **phase.set})]
    assert phase.parameter is not None
    return [(value, {**origin, **phase.set, phase.parameter: value}) for value in phase.values]


def _combined_value(phase: Phase, experiment: Experiment, best_of: dict[str, dict[str, Any]]) -> str:
    """"lookback=130, leverage=1.0": the value each combined phase chose for its own parameter."""
    parameter_of = {p.name: p.parameter for p in experiment.phases}
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
        for name in phase.combine
        for k, v in best_of[name]["own"].items()
        if k == parameter_of.get(name)
    )


def _measured(setting: _Setting, returns: pd.Series, holdings: pd.Series, leverage: pd.Series | None) -> dict:
    """The figures of a run on the selection period, and on the later days (``OOS ...``) if there are."""
    sel = _selection(returns, setting.select_until, setting.experiment)
    figures = _figures(sel, holdings.loc[sel.index], None if leverage is None else leverage.loc[sel.index])
    if setting.select_until is not None:
        out = _segment(returns, setting.select_until, None)
        later = _figures(out, holdings.loc[out.index], None if leverage is None else leverage.loc[out.index])
        figures.update({f"OOS {k}": v for k, v in later.items()})
    return figures


def _run_row(setting: _Setting, phase: Phase, value: Any, changes: dict[str, Any], shown: Any) -> tuple[dict, Any]:
    """One run of a phase: its table row and the ProfileRun."""
    from xlsector.profiles.run import run_profile

    base = setting.experiment.base
    run = run_profile(base, setting.prices, vix=setting.vix, overrides=changes, start=setting.start)
    row: dict[str, Any] = {
        "phase": phase.name,
        "parameter": phase.parameter or "+".join(phase.combine),
        "value": value if value is not None else shown,
        "params": {**base.params, **changes},
        "changes": changes,
    }
    row.update(_measured(setting, run.returns, run.holdings, getattr(run.result, "leverage", None)))
    return row, run


def _pick(rows: list[dict[str, Any]], label: str, higher: bool) -> int:
    """The best row of a phase by ``label`` (the first when every score is NaN); marks ``best``."""
    scores = np.array([r[label] for r in rows], dtype=float)
    if np.isnan(scores).all():
        pick = 0
    else:
        pick = int(np.nanargmax(scores) if higher else np.nanargmin(scores))
    for i, row in enumerate(rows):
        row["best"] = i == pick
    return pick


def _benchmark_row(setting: _Setting, run: Any) -> dict[str, Any] | None:
    """The benchmark over the same days: buy and hold (xlsector.sides.buy_and_hold_returns, NaN where it has
    no price, so its figures are NaN rather than those of a silently filled series)."""
    name = setting.experiment.base.benchmark
    if not name or name not in setting.prices.columns or run.benchmark_returns is None:
        return None
    from xlsector.benchmarks import primary_label

    returns = run.benchmark_returns
    row: dict[str, Any] = {
        "phase": "benchmark",
        "parameter": "",
        "value": primary_label(f"buy-and-hold {name}"),
        "params": {},
        "changes": {},
        "best": False,
    }
    row.update(_measured(setting, returns, pd.Series(name, index=returns.index, dtype=object), None))
    return row


def _definitions(setting: _Setting, label: str, higher: bool) -> dict[str, str]:
    from xlsector.measures import DEFINITIONS

    definitions = {k: DEFINITIONS[k] for k in TABLE_METRICS if k in DEFINITIONS}
    definitions["Average leverage"] = "mean of the exposure (sum of weights x leverage) over the invested days"
    definitions["Exposure"] = "share of the return days invested (% of time invested)"
    definitions["best"] = f"the run of its phase with the {'highest' if higher else 'lowest'} {label} " + (
        f"over the selection period (to {setting.experiment.select_until})"
        if setting.select_until is not None
        else "(in sample)"
    )
    return definitions


def _periods(setting: _Setting, run: Any) -> tuple[tuple, tuple, tuple | None]:
    """(whole period, selection period, out-of-sample period or None): the same for every run."""
    sel = _selection(run.returns, setting.select_until, setting.experiment)
    oos = None
    if setting.select_until is not None:
        out = _segment(run.returns, setting.select_until, None)
        oos = (out.index[0], out.index[-1]) if len(out) else None
    return run.period, (sel.index[0], sel.index[-1]), oos


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
    label, higher = RANK_METRICS[experiment.rank_by]
    setting = _setting(experiment, prices, vix)
    total = sum(1 if p.combine else len(p.values) for p in experiment.phases)
    rows: list[dict[str, Any]] = []
    best_of: dict[str, dict[str, Any]] = {}  # phase name -> {"changes": ..., "own": ..., "value": ...}
    previous: dict[str, Any] = {}
    chosen: dict[str, Any] = {}
    run = None
    selected: dict[int, pd.Series] = {}
    later: dict[int, pd.Series] = {}
    for phase in experiment.phases:
        phase_rows: list[dict[str, Any]] = []
        shown = _combined_value(phase, experiment, best_of) if phase.combine else None
        for value, changes in _runs(phase, _origin(phase, previous, best_of), best_of):
            row, run = _run_row(setting, phase, value, changes, shown)
            key = len(rows) + len(phase_rows)
            selected[key] = _selection(run.returns, setting.select_until, experiment).iloc[1:]
            if setting.select_until is not None:
                later[key] = _segment(run.returns, setting.select_until, None).iloc[1:]
            phase_rows.append(row)
            if on_run:
                on_run(len(rows) + len(phase_rows), total)
        chosen = phase_rows[_pick(phase_rows, label, higher)]
        own = dict(phase.set)
        if phase.parameter:
            own[phase.parameter] = chosen["changes"][phase.parameter]
        best_of[phase.name] = {"changes": chosen["changes"], "own": own, "value": chosen["value"]}
        previous = chosen["changes"]
        rows.extend(phase_rows)
    bench = _benchmark_row(setting, run)
    if bench is not None:
        rows.append(bench)
    period, selection, oos = _periods(setting, run)
    return ExperimentResult(
        experiment=experiment,
        table=pd.DataFrame(rows),
        period=period,
        selection_period=selection,
        oos_period=oos,
        definitions=_definitions(setting, label, higher),
        best={"phase": experiment.phases[-1].name, "params": chosen.get("params", {})},
        selection_returns=pd.DataFrame(selected),
        oos_returns=pd.DataFrame(later) if later else None,
    )
