"""Honest evaluation of tuned results (SPEC §4, "Overfitting and robustness"): the statistics of
:mod:`xlsector.overfitting` over the trials each result was chosen from, every figure with its trial count N
and its conventions.

* :func:`grid_report` — any T x N matrix of trials and the one selected: PSR, DSR (N counted by the
  caller), MinTRL and the Probability of Backtest Overfitting by CSCV.
* :func:`trend_chart_report` — the trend chart's peak among its grid: N = the grid size.
* :func:`fwpt_report` — the walk-forward's out-of-sample returns: PSR; DSR with N = grid size x tunings.
* :func:`split_sample_report`, :func:`progressive_report` — the stationarity checks.
* :func:`experiment_report` — every phase's best of a phased experiment (N = every grid point of every
  phase so far) and the combined run.
* :func:`track_record_report` — one strategy with fixed parameters (N = 1: PSR and MinTRL; no deflation).

How N is counted on each surface is in docs/overfitting.md ("Counting N"). Conventions (:data:`CONVENTIONS`):
Sharpe ratios per day (``mean / std(ddof=1)`` of daily returns; the annualised figures are ``x sqrt(252)``
and labelled so), skewness and **raw** kurtosis (3 = normal) by the moment estimators, PBO by CSCV with S
contiguous blocks (:data:`xlsector.overfitting.PBO_CONVENTION`).

Bad input: NaN returns, fewer than 2 observations (``DataError``), a bad ``blocks`` or ``n_trials``
(``ParameterError``) raise, naming the argument. What cannot be computed for a documented reason is NaN
with that reason in the report (``Stat.note``): DSR with N = 1 (no selection), PBO with too few rows for
the blocks, a trial constant over a CSCV half, Sharpe ratios of zero-variance returns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import DataError, ParameterError
from xlsector.measures import DAYS_PER_YEAR
from xlsector.overfitting import (
    PBO_CONVENTION,
    PboResult,
    expected_max_sharpe,
    min_track_record,
    pbo,
    probabilistic_sharpe,
    sharpe_ratios,
    sharpe_stats,
)

__all__ = [
    "CONVENTIONS",
    "OverfitReport",
    "Stat",
    "experiment_report",
    "fwpt_report",
    "grid_pbo",
    "grid_report",
    "progressive_report",
    "score_pbo",
    "split_sample_report",
    "track_record_report",
    "trend_chart_report",
]

SQRT_DAYS = math.sqrt(DAYS_PER_YEAR)

#: Stated with every report.
CONVENTIONS = (
    "Sharpe ratios per day: mean / std(ddof=1) of daily returns (annualised = x sqrt(252), labelled so); "
    "skewness and raw kurtosis (3 = normal, not excess) by the moment estimators m3/m2^1.5, m4/m2^2; "
    "PSR/DSR after Bailey & Lopez de Prado (2012, 2014); PBO by CSCV (Bailey, Borwein, Lopez de Prado & "
    "Zhu 2017): " + PBO_CONVENTION
)


@dataclass(frozen=True)
class Stat:
    """One labelled figure: ``value`` is a number, a text (a date, a name) or NaN with ``note`` saying why."""

    key: str
    label: str
    value: Any
    definition: str
    note: str = ""

    @property
    def shown(self) -> Any:
        """What a cell or a table shows: the value, or the reason it is missing."""
        if isinstance(self.value, float) and math.isnan(self.value) and self.note:
            return f"n/a: {self.note}"
        return self.value


@dataclass(frozen=True)
class OverfitReport:
    """The overfitting statistics of one selected result, with N and the conventions (see the module)."""

    subject: str
    selected: str
    n_trials: float
    n_note: str
    n_obs: int
    period: tuple[Any, Any] | None
    sr: float
    skew: float
    kurtosis: float
    psr: float
    trials_sr_var: float
    sr0: float
    dsr: float
    min_trl: float
    pbo: PboResult | None
    pbo_note: str
    pbo_metric: str
    notes: dict[str, str] = field(default_factory=dict)

    def stats(self) -> list[Stat]:
        """The figures in display order, each with its definition (and a reason where it is NaN)."""
        n = self.n_trials
        n_text = f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"
        when = ""
        if self.period is not None:
            when = f" from the close of {_day(self.period[0])} to {_day(self.period[1])}"
        pbo_value = self.pbo.pbo if self.pbo is not None else math.nan
        pbo_def = (f"probability that the in-sample best of the {self.pbo.n_trials} trials is no better than "
                   f"the median out of sample: CSCV, S = {self.pbo.blocks} blocks ({self.pbo.n_combinations:,} "
                   f"combinations) of {self.pbo.n_obs} returns, metric {self.pbo_metric}"
                   if self.pbo is not None else f"CSCV probability of backtest overfitting ({self.pbo_metric})")
        rows = [
            Stat("selected", "Selected", self.selected, f"{self.subject}: the result reported"),
            Stat("n_trials", "Trials N", float(n), self.n_note),
            Stat("n_obs", "Return days T", float(self.n_obs),
                 f"daily returns the Sharpe ratio is measured on{when}"),
            Stat("sharpe_annual", "Sharpe ratio (annualised)", self.sr * SQRT_DAYS,
                 "per-day Sharpe x sqrt(252); per-day SR = mean / std(ddof=1) of the daily returns",
                 self.notes.get("sr", "")),
            Stat("sharpe_daily", "Sharpe ratio (per day)", self.sr, "the per-period SR that PSR, DSR and MinTRL take",
                 self.notes.get("sr", "")),
            Stat("skew", "Skewness", self.skew, "moment estimator m3 / m2^1.5 of the daily returns",
                 self.notes.get("sr", "")),
            Stat("kurtosis", "Kurtosis (raw)", self.kurtosis, "raw kurtosis m4 / m2^2 (3 = normal; not excess)",
                 self.notes.get("sr", "")),
            Stat("psr", "PSR (P[true SR > 0])", self.psr,
                 "Probabilistic Sharpe Ratio against SR* = 0, one trial: Phi((SR - 0) sqrt(T - 1) / "
                 "sqrt(1 - skew SR + (kurt - 1)/4 SR^2))", self.notes.get("sr", "")),
            Stat("sr0_annual", f"Expected max Sharpe of N = {n_text} trials (annualised)", self.sr0 * SQRT_DAYS,
                 "SR0 = sqrt(V) ((1 - g) Z(1 - 1/N) + g Z(1 - 1/(N e))), g = Euler's constant, V = variance of the "
                 f"trials' per-day Sharpe ratios ({self.trials_sr_var:.3g})", self.notes.get("dsr", "")),
            Stat("dsr", f"DSR (N = {n_text})", self.dsr,
                 "Deflated Sharpe Ratio: PSR against SR0, the probability that the true SR is > 0 once the "
                 "selection among N trials is counted", self.notes.get("dsr", "")),
            Stat("min_trl_years", "MinTRL at 95 % (years)", self.min_trl / DAYS_PER_YEAR,
                 "Minimum Track Record Length for PSR(0) = 0.95: 1 + (1 - skew SR + (kurt - 1)/4 SR^2) (Z(0.95) / "
                 "SR)^2 returns, / 252 (inf: SR <= 0)", self.notes.get("sr", "")),
            Stat("pbo", "PBO", pbo_value, pbo_def, self.pbo_note),
        ]
        if self.pbo is not None:
            rows += [
                Stat("pbo_prob_loss", "PBO: probability of loss", self.pbo.prob_loss,
                     "share of combinations where the in-sample best loses out of sample (its metric < 0)"),
                Stat("pbo_slope", "PBO: degradation slope", self.pbo.slope,
                     "least-squares slope of the out-of-sample on the in-sample metric of the selected trial "
                     "(0: no persistence; < 0: reversal)"),
            ]
        rows.append(Stat("conventions", "Conventions", CONVENTIONS, "how every figure above is computed"))
        return rows

    def rows(self) -> list[tuple[str, Any, str]]:
        """(label, shown value, definition) rows, for the workbook and the CLI."""
        return [(s.label, s.shown, s.definition) for s in self.stats()]

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable figures (NaN as None), each reason under ``notes``, N's counting and conventions."""
        out: dict[str, Any] = {"subject": self.subject}
        notes: dict[str, str] = {}
        for s in self.stats():
            value = s.value
            if isinstance(value, float) and not math.isfinite(value):
                value = None if math.isnan(value) else ("inf" if value > 0 else "-inf")
            out[s.key] = value
            if s.note:
                notes[s.key] = s.note
        out["n_note"] = self.n_note
        out["notes"] = notes
        if self.pbo is not None:
            out["pbo_detail"] = {k: v for k, v in self.pbo.summary().items() if k != "convention"}
        return out


def _day(value: Any) -> str:
    try:
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    except (TypeError, ValueError):
        return str(value)


def _count(n_trials: object, default: float) -> float:
    if n_trials is None:
        return float(default)
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | float | np.integer | np.floating):
        raise ParameterError(f"n_trials must be a number >= 1 (the trials the result was chosen from), got {n_trials!r}")
    value = float(n_trials)
    if not math.isfinite(value) or value < 1:
        raise ParameterError(f"n_trials must be a number >= 1 (the trials the result was chosen from), got {n_trials!r}")
    return value


def score_pbo(returns_matrix: np.ndarray, blocks: int = 16, labels: Sequence[Any] | None = None) -> PboResult:
    """PBO of selecting by the trend chart's score: CSCV on the daily log returns ``log(1 + r)`` with the
    "mean" metric, so each half's best is the trial with the highest cumulative log return on that half,
    as the trend chart and FWPT select. ``returns_matrix``: T x N simple returns, every row a return."""
    x = np.asarray(returns_matrix, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log1p(x)  # a return <= -1 (ruin) gives -inf or NaN: pbo reports it as a DataError
    frame = pd.DataFrame(logs, columns=list(labels)) if labels is not None else logs
    return pbo(frame, blocks=blocks, metric="mean")


SCORE_METRIC = "mean daily log return log(1 + r) (the trend chart's score per day)"
SHARPE_METRIC = "per-day Sharpe ratio"


def grid_report(
    returns_matrix: object,
    selected: int,
    *,
    subject: str,
    selected_label: str,
    n_trials: float | None = None,
    n_note: str = "",
    blocks: int = 16,
    labels: Sequence[Any] | None = None,
    period: tuple[Any, Any] | None = None,
    pbo_result: PboResult | None = None,
    pbo_note: str = "",
    pbo_by: str = "score",
    selected_returns: object = None,
) -> OverfitReport:
    """The overfitting statistics of trial ``selected`` among the columns of ``returns_matrix``.

    Parameters
    ----------
    returns_matrix : array-like, shape (T, N)
        Daily simple returns of every trial over the same days, every row a return (for a
        ``GridResult``: ``grid.returns[:, 1:].T``).
    selected : int
        Column of the reported trial.
    subject, selected_label : str
        What is evaluated ("trend chart", "tc 200") for the labels.
    n_trials : float, optional
        N for the DSR: the trials the result was chosen from (default: the columns; pass more when other
        settings were tried, see docs/overfitting.md). N = 1: no deflation (DSR not applicable).
    n_note : str
        How N was counted (shown with it).
    blocks : int
        CSCV blocks S (even, 2..22).
    labels : sequence, optional
        Column labels (trend constants) for the PBO's selected trials.
    period : (start point, last date), optional
    pbo_result : PboResult, optional
        A PBO already computed on the same matrix (shared by several reports).
    pbo_note : str
        With ``pbo_result`` None: why the PBO could not be computed (it is then not tried again).
    pbo_by : "score", "sharpe" or "none"
        The CSCV metric: the score (mean daily log return: the trend chart's and FWPT's selection) or the
        per-day Sharpe ratio; "none" skips the PBO (the caller computes it on another matrix).
    selected_returns : array-like, optional
        The returns whose Sharpe ratio is deflated, when they are not column ``selected`` (FWPT's walk);
        the matrix then only gives the trials' Sharpe variance and the PBO.

    Returns
    -------
    OverfitReport
    """
    x = np.asarray(returns_matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ParameterError(f"returns_matrix must be a T x N matrix (one column per trial), got shape {x.shape}")
    n_cols = x.shape[1]
    if not 0 <= selected < n_cols:
        raise ParameterError(f"selected must be a column of returns_matrix (0..{n_cols - 1}), got {selected!r}")
    if pbo_by not in ("score", "sharpe", "none"):
        raise ParameterError(f"pbo_by must be 'score', 'sharpe' or 'none', got {pbo_by!r}")
    n = _count(n_trials, n_cols)
    own = x[:, selected] if selected_returns is None else np.asarray(selected_returns, dtype=np.float64)
    sr, n_obs, skew, kurt = sharpe_stats(own)
    notes: dict[str, str] = {}
    if math.isnan(sr):
        notes["sr"] = "the returns do not vary (zero variance): the Sharpe ratio is undefined"
    trials = sharpe_ratios(x) if n_cols >= 1 and x.shape[0] >= 2 else np.array([np.nan])
    finite = trials[np.isfinite(trials)]
    var = float(np.var(finite, ddof=1)) if finite.size >= 2 else math.nan
    psr = probabilistic_sharpe(sr, n_obs, 0.0 if math.isnan(skew) else skew, 3.0 if math.isnan(kurt) else kurt)
    if math.isnan(sr):
        psr = math.nan
    sr0 = dsr = math.nan
    if n < 2:
        notes["dsr"] = "N = 1: no selection, nothing to deflate (DSR = PSR)"
    elif math.isnan(var):
        notes["dsr"] = "fewer than 2 trials with a defined Sharpe ratio: their variance is unknown"
    else:
        sr0 = expected_max_sharpe(n, var)
        if not math.isnan(sr):
            dsr = probabilistic_sharpe(sr, n_obs, skew, kurt, sr_benchmark=sr0)
        else:
            notes["dsr"] = notes["sr"]
    min_trl = math.nan if math.isnan(sr) else min_track_record(sr, skew, kurt)
    if pbo_result is None and pbo_note:
        result, note, metric = None, pbo_note, (SCORE_METRIC if pbo_by == "score" else SHARPE_METRIC)
    else:
        result, note, metric = _pbo(x, blocks, labels, pbo_result, pbo_by)
    return OverfitReport(
        subject=subject, selected=selected_label, n_trials=n, n_note=n_note or f"{n_cols} trials (the columns)",
        n_obs=int(n_obs), period=period, sr=sr, skew=skew, kurtosis=kurt, psr=psr, trials_sr_var=var, sr0=sr0,
        dsr=dsr, min_trl=min_trl, pbo=result, pbo_note=note, pbo_metric=metric, notes=notes,
    )


def _pbo(x: np.ndarray, blocks: int, labels: Sequence[Any] | None, given: PboResult | None,
         by: str) -> tuple[PboResult | None, str, str]:
    metric = SCORE_METRIC if by == "score" else SHARPE_METRIC
    if given is not None:
        return given, "", metric
    if by == "none":
        return None, "not computed here", metric
    if x.shape[1] < 2:
        return None, "one trial: nothing was selected", metric
    try:
        if by == "score":
            return score_pbo(x, blocks, labels), "", metric
        frame = pd.DataFrame(x, columns=list(labels)) if labels is not None else x
        return pbo(frame, blocks=blocks, metric="sharpe"), "", metric
    except DataError as exc:  # too few rows for the blocks, a trial constant over a half, ruin
        return None, str(exc), metric


# ----------------------------------------------------------------------------------------------------
# the surfaces
# ----------------------------------------------------------------------------------------------------


def _window(grid: Any, first: Any, last: Any) -> tuple[int, int]:
    dates = grid.dates
    try:
        return int(dates.get_loc(pd.Timestamp(first))), int(dates.get_loc(pd.Timestamp(last)))
    except KeyError:
        raise ParameterError("the grid does not cover the result's period: pass the grid the result was made from") \
            from None


def trend_chart_report(chart: Any, grid: Any, *, blocks: int = 16, n_trials: float | None = None,
                       pbo_result: PboResult | None = None, pbo_note: str = "") -> OverfitReport:
    """The trend chart's peak among its grid: DSR with N = the grid size (unless ``n_trials``), PBO of
    selecting the best score over the grid (CSCV on the chart's window).

    ``chart`` is a :class:`~xlsector.tuning.TrendChart`, ``grid`` the ``GridResult`` it was made from.
    """
    i0, i1 = _window(grid, *chart.period)
    matrix = np.ascontiguousarray(grid.returns[:, i0 + 1 : i1 + 1].T)
    tcs = np.asarray(grid.tcs, dtype=float)
    peak = int(np.flatnonzero(tcs == chart.peak_tc)[0])
    size = len(tcs)
    note = (f"every tc of the grid {tcs[0]:g}..{tcs[-1]:g} ({size} trend constants) is a trial, even those only "
            "glanced at" if n_trials is None else
            f"{_count(n_trials, size):,.0f} trials as given (the grid has {size}; other settings tried count too)")
    return grid_report(matrix, peak, subject="trend chart (in sample)", selected_label=f"peak tc {chart.peak_tc:g}",
                       n_trials=n_trials, n_note=note, blocks=blocks, labels=[f"{t:g}" for t in tcs],
                       period=chart.period, pbo_result=pbo_result, pbo_note=pbo_note)


def grid_pbo(grid: Any, blocks: int = 16) -> tuple[PboResult | None, str]:
    """PBO of selecting by score over the whole period of ``grid``, or (None, why it cannot be computed)."""
    matrix = np.ascontiguousarray(grid.returns[:, 1:].T)
    result, note, _ = _pbo(matrix, blocks, [f"{t:g}" for t in grid.tcs], None, "score")
    return result, note


def fwpt_report(result: Any, grid: Any, *, blocks: int = 16, n_trials: float | None = None,
                pbo_result: PboResult | None = None, pbo_note: str = "") -> OverfitReport:
    """The walk-forward's out-of-sample returns (after the born-on date): PSR; DSR with N = grid size x
    tunings (the first tuning and every retune, each deferred re-try included: each scores the whole grid
    on new data), the trials' Sharpe variance over the same out-of-sample days; PBO of selecting by score
    over the grid's whole period (what the tunings choose from).

    ``result`` is a :class:`~xlsector.tuning.FwptResult`, ``grid`` the ``GridResult`` it was made from.
    """
    t0, t1 = _window(grid, result.born_on, result.returns.index[-1])
    matrix = np.ascontiguousarray(grid.returns[:, t0 + 1 : t1 + 1].T)
    size = len(grid.tcs)
    tunings = int(result.retunes["tries"].sum())
    count = size * tunings if n_trials is None else _count(n_trials, size * tunings)
    note = (f"{size} trend constants x {tunings} tunings (the first tuning and every retune, deferred re-tries "
            f"included) = {size * tunings:,}: every tuning picks the best of the grid on new data")
    if pbo_result is None and not pbo_note:
        pbo_result, pbo_note = grid_pbo(grid, blocks)
    walk = result.returns.to_numpy()[1:]
    return grid_report(matrix, 0, subject="FWPT walk-forward (out of sample)",
                       selected_label=f"walk-forward, retune every {result.retune_days} market days",
                       n_trials=count, n_note=note, blocks=blocks, period=result.period, pbo_result=pbo_result,
                       pbo_note=pbo_note or "", selected_returns=walk)


def track_record_report(returns: object, *, subject: str, selected_label: str, period: tuple[Any, Any] | None = None,
                        n_trials: float | None = None, n_note: str = "") -> OverfitReport:
    """One strategy's returns (every row a return): PSR and MinTRL; N = 1 unless given (then DSR needs the
    trials' Sharpe variance, which a single series does not have: NaN with that reason)."""
    x = np.asarray(returns, dtype=np.float64).reshape(-1, 1)
    report = grid_report(x, 0, subject=subject, selected_label=selected_label, n_trials=n_trials or 1,
                         n_note=n_note or "fixed parameters, nothing selected here (if they were chosen on "
                         "these data, N is larger and the figures are in sample)", period=period)
    return report


def split_sample_report(split: pd.DataFrame, grid: Any, *, blocks: int = 16, with_pbo: bool = True) -> pd.DataFrame:
    """Stationarity (split sample): per window, the peak tc, its annualised Sharpe, PSR and DSR (N = grid
    size); and the out-of-sample check of the first half's peak on the second half (its score's rank among
    the grid there, 1 = best). ``split`` is :func:`xlsector.tuning.split_sample`'s frame."""
    tcs = np.asarray(grid.tcs, dtype=float)
    rows = []
    for name, (first, last) in split.attrs["periods"].items():
        i0, i1 = _window(grid, first, last)
        matrix = np.ascontiguousarray(grid.returns[:, i0 + 1 : i1 + 1].T)
        peak = int(np.flatnonzero(tcs == split.attrs["peaks"][name])[0])
        report = grid_report(matrix, peak, subject=f"split sample, {name}", selected_label=f"tc {tcs[peak]:g}",
                             n_note=f"every tc of the grid ({len(tcs)})", blocks=blocks, period=(first, last),
                             pbo_by="score" if with_pbo else "none")
        rows.append({"window": name, "start": first, "end": last, "peak_tc": tcs[peak],
                     "sharpe_annual": report.sr * SQRT_DAYS, "psr": report.psr, "dsr": report.dsr,
                     "n_trials": report.n_trials, "pbo": report.pbo.pbo if report.pbo else math.nan})
    frame = pd.DataFrame(rows).set_index("window")
    second = split["second_half"].to_numpy()
    first_peak = split.attrs["peaks"]["first_half"]
    at = int(np.flatnonzero(tcs == first_peak)[0])
    rank = int(np.sum(second > second[at])) + 1
    frame.attrs["out_of_sample"] = {
        "first_half_peak_tc": float(first_peak),
        "its_rank_in_second_half": rank,
        "of": len(tcs),
        "percentile": float(np.mean(second <= second[at])),
        "second_half_peak_tc": float(split.attrs["peaks"]["second_half"]),
        "definition": "the first half's peak tc scored on the second half: its rank among the grid there "
                      "(1 = best; a stable optimum ranks near the top)",
    }
    frame.attrs["conventions"] = CONVENTIONS
    return frame


def progressive_report(frame: pd.DataFrame, tcs: Iterable[float]) -> dict[str, Any]:
    """Stationarity (progressive tune): N = grid size x tunings, the spread of the tuned tc and the share
    of tunings whose best tc is on the grid's edge."""
    grid = np.asarray(list(tcs), dtype=float)
    tuned = frame["tc"].to_numpy(dtype=float)
    on_edge = (tuned == grid[0]) | (tuned == grid[-1])
    return {
        "n_trials": float(len(grid) * len(tuned)),
        "n_note": f"{len(grid)} trend constants x {len(tuned)} tunings: each window picks the best of the grid",
        "tunings": len(tuned),
        "tuned_tc_median": float(np.median(tuned)) if tuned.size else math.nan,
        "tuned_tc_iqr": float(np.subtract(*np.percentile(tuned, [75, 25]))) if tuned.size else math.nan,
        "share_on_edge": float(on_edge.mean()) if tuned.size else math.nan,
        "definition": "tuned tc per window (in sample per window); share_on_edge = tunings whose best tc is the "
                      "grid's first or last: the grid may be too narrow",
    }


def experiment_report(result: Any, *, blocks: int = 16) -> pd.DataFrame:
    """Every phase's best and the combined run of a phased experiment (:func:`xlsector.profiles.run_experiment`).

    Per phase: N = every grid point of every phase so far, this one included (a phase starts from the
    previous phase's best, so its choice rests on all of them), V = the variance of the Sharpe ratios of
    all those runs on the selection period; PSR and DSR of the phase's best over the selection period; PBO
    over the phase's own grid (CSCV, metric: the ranking metric's nearest block formula: per-day Sharpe for
    rank_by sharpe, the mean daily log return for cagr/total_return, else the per-day Sharpe, said so);
    out of sample (``select_until``): the PSR of the best over the later days (no selection there).
    """
    runs = getattr(result, "selection_returns", None)
    if runs is None:
        raise ParameterError("result has no run returns: run the experiment with this version of xlsector")
    table = result.table
    oos = getattr(result, "oos_returns", None)
    by = "score" if result.experiment.rank_by in ("cagr", "total_return") else "sharpe"
    rows: list[dict[str, Any]] = []
    seen: list[int] = []
    for phase in result.experiment.phases:
        members = [i for i in table.index[table["phase"] == phase.name]]
        seen += members
        best = next(i for i in members if table.at[i, "best"])
        matrix = runs[seen].to_numpy()
        own = runs[members].to_numpy()
        kind = "combined run" if phase.combine else f"grid of {phase.parameter} ({len(members)} values)"
        report = grid_report(matrix, seen.index(best), subject=f"phase {phase.name}", selected_label=str(
            table.at[best, "value"]), n_note=f"{len(seen)} runs: every grid point of every phase so far "
            f"(phase {phase.name}: {kind})", blocks=blocks, pbo_by="none")
        phase_pbo: PboResult | None = None
        pbo_note = "one run: nothing selected in this phase"
        if own.shape[1] >= 2:
            phase_pbo, pbo_note, _ = _pbo(own, blocks, [str(v) for v in table.loc[members, "value"]], None, by)
        # a value that switches the rule off (ma_filter 0) is no end of a range
        values = [v for v in phase.values if not (phase.parameter == "ma_filter" and not v)]
        edge = bool(phase.parameter and len(values) > 2 and all(isinstance(v, int | float) for v in values)
                    and table.at[best, "value"] in (min(values), max(values)))
        row = {"phase": phase.name, "best": table.at[best, "value"], "best_on_edge": edge,
               "n_trials": report.n_trials,
               "n_note": report.n_note, "return_days": report.n_obs, "sharpe_annual": report.sr * SQRT_DAYS,
               "psr": report.psr, "dsr": report.dsr, "dsr_note": report.notes.get("dsr", ""),
               "pbo": phase_pbo.pbo if phase_pbo else math.nan, "pbo_note": pbo_note,
               "pbo_metric": SCORE_METRIC if by == "score" else SHARPE_METRIC}
        if oos is not None and best in oos.columns:
            later = oos[best].to_numpy()
            row["oos_psr"] = probabilistic_sharpe(*sharpe_stats(later)) if later.size >= 2 else math.nan
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("phase")
    frame.attrs["n_total"] = len(seen)
    frame.attrs["conventions"] = CONVENTIONS
    frame.attrs["definition"] = (
        "per phase: N = grid points of every phase so far; PSR/DSR of the phase's best on the selection period; "
        "PBO over the phase's own grid; oos_psr = PSR of the best after select_until (one trial); best_on_edge: the "
        "best value is the grid's smallest or largest (the optimum may lie beyond the grid)")
    return frame
