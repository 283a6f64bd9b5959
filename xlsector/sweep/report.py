"""Across the sweep: the ranking (out of sample), the honest trial count, the Deflated Sharpe Ratio of the best
out-of-sample result, and the Probability of Backtest Overfitting across combinations.

* **Ranking**: by out-of-sample Sharpe ratio (the walk-forward after the born-on date), highest first;
  ties by out-of-sample CAGR, then by plan order. Never by an in-sample figure.
* **Trial count** ``N = Σ_c n_tcs × tunings_c``: every combination c's walk-forward chose the best of the
  ``n_tcs`` trend constants at each of its ``tunings_c`` tunings (the first, every retune, every re-try of a
  deferred retune), and the sweep then looked at every combination. When every walk tunes equally often this
  is *combinations × tcs × tunings*. (docs/overfitting.md, "Counting N": over-counting costs little, the
  expected maximum grows like the square root of log N.)
* **DSR** of the best row: its per-day Sharpe ratio, skewness and raw kurtosis over its out-of-sample days
  (:func:`xlsector.overfitting.sharpe_stats` of its returns, rebuilt from its stored holdings),
  ``n_trials = N``, and ``trials_sr_var`` = the variance (ddof 1) of the per-day out-of-sample Sharpe ratios
  of all the combinations (the trials the ranking compared).
* **PBO** by CSCV (:func:`xlsector.overfitting.pbo`, Sharpe metric, S blocks) on the matrix of out-of-sample
  daily returns, one column per combination, over the days every combination has out of sample (from the
  latest born-on date: with the default born-on, five years after the latest data start). Above
  ``pbo_max`` columns, a seeded random subset of that many (the matrix is days × columns × 8 bytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import DataError, ParameterError
from xlsector.measures import CASH, DAYS_PER_YEAR
from xlsector.sweep.evaluate import returns_from_runs

__all__ = ["DeflatedBest", "PboFigures", "SweepReport", "TrialCount", "build_report", "oos_returns", "rank_rows"]

TRIAL_FORMULA = "N = sum over combinations of (trend constants in the grid x tunings of its walk-forward)"


@dataclass(frozen=True)
class TrialCount:
    """The sweep's trial count N (see the module docstring)."""

    combinations: int
    tcs: int
    tunings: int  # summed over the combinations
    trials: int
    formula: str = TRIAL_FORMULA

    @property
    def mean_tunings(self) -> float:
        return self.tunings / self.combinations if self.combinations else math.nan

    def describe(self) -> str:
        return (f"N = {self.trials:,} = {self.tcs} tcs x {self.tunings:,} tunings summed over {self.combinations:,} "
                f"combinations (mean {self.mean_tunings:.1f} tunings each: first tuning, retunes and re-tries of "
                "deferred retunes)")


@dataclass(frozen=True)
class DeflatedBest:
    """The best out-of-sample row and its Probabilistic and Deflated Sharpe Ratios (per-day conventions)."""

    funds: str
    oos_sharpe: float  # annualised
    sr: float  # per day
    n_obs: int
    skew: float
    kurtosis: float  # raw
    n_trials: int
    trials_sr_var: float  # per day, variance of the combinations' per-day Sharpe ratios
    expected_max_sr: float  # per day
    psr: float  # one trial: P(true SR > 0)
    dsr: float  # N trials: P(true SR > 0) after selection

    @property
    def expected_max_sr_annual(self) -> float:
        """The expected maximum Sharpe ratio of N unskilled trials, annualised."""
        return self.expected_max_sr * math.sqrt(DAYS_PER_YEAR)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"expected_max_sharpe_annualised": self.expected_max_sr_annual}


@dataclass(frozen=True)
class PboFigures:
    """PBO across combinations and the matrix it was computed on."""

    pbo: float
    logits_median: float
    slope: float
    r2: float
    prob_loss: float
    blocks: int
    n_combinations_cscv: int
    columns: int  # combinations in the matrix
    of: int  # combinations in the sweep
    start: pd.Timestamp  # start point of the common out-of-sample period (its return is not used)
    end: pd.Timestamp
    n_obs: int
    convention: str

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["start"], out["end"] = f"{self.start:%Y-%m-%d}", f"{self.end:%Y-%m-%d}"
        return out


@dataclass(frozen=True)
class SweepReport:
    """A sweep's results: the ranked table and the figures across it (see the module docstring)."""

    table: pd.DataFrame  # one row per stored combination, ranked out of sample (column "rank")
    spec: dict[str, Any]
    store: Path
    done: int
    planned: int
    trials: TrialCount
    best: DeflatedBest | None
    pbo: PboFigures | None
    notes: list[str] = field(default_factory=list)  # why a figure is missing, and how figures were made
    in_out_correlation: float = math.nan  # Spearman rank correlation of in-sample and out-of-sample Sharpe

    @property
    def complete(self) -> bool:
        return self.done == self.planned

    def top(self, n: int = 20) -> pd.DataFrame:
        return self.table.head(n)

    def summary(self) -> dict[str, Any]:
        return {
            "store": str(self.store),
            "done": self.done,
            "planned": self.planned,
            "complete": self.complete,
            "ranking": "out of sample: walk-forward Sharpe ratio after the born-on date (ties: CAGR, plan order)",
            "trials": {**self.trials.__dict__, "text": self.trials.describe()},
            "best": None if self.best is None else self.best.to_dict(),
            "pbo": None if self.pbo is None else self.pbo.to_dict(),
            "in_sample_vs_out_of_sample_spearman": self.in_out_correlation,
            "notes": list(self.notes),
        }


def rank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted out of sample (Sharpe, then CAGR, highest first, NaN last; then plan order) with ``rank``."""
    ranked = frame.sort_values(["oos_sharpe", "oos_cagr", "id"], ascending=[False, False, True],
                               na_position="last", kind="stable").reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked


def trial_count(frame: pd.DataFrame, n_tcs: int) -> TrialCount:
    tunings = int(frame["tunings"].sum()) if len(frame) else 0
    return TrialCount(combinations=len(frame), tcs=n_tcs, tunings=tunings, trials=n_tcs * tunings)


def _deflated(best: pd.Series, frame: pd.DataFrame, trials: TrialCount, prices: pd.DataFrame,
              spec: dict[str, Any]) -> DeflatedBest:
    from xlsector.overfitting import deflated_sharpe, expected_max_sharpe, probabilistic_sharpe, sharpe_stats

    var = float(np.var(frame["sr"].to_numpy(dtype=float), ddof=1))
    born = pd.Timestamp(best["born_on"])
    returns = oos_returns(best.to_frame().T, prices, spec, start=born)  # its own out-of-sample days
    sr, n, skew, kurt = sharpe_stats(returns.iloc[:, 0].to_numpy())
    return DeflatedBest(
        funds=str(best["funds"]), oos_sharpe=float(best["oos_sharpe"]), sr=sr, n_obs=n, skew=skew, kurtosis=kurt,
        n_trials=trials.trials, trials_sr_var=var, expected_max_sr=expected_max_sharpe(trials.trials, var),
        psr=probabilistic_sharpe(sr, n, skew, kurt),
        dsr=deflated_sharpe(sr, n, trials.trials, var, skew=skew, kurtosis=kurt),
    )


def asset_returns(prices: pd.DataFrame, assets: list[str]) -> pd.DataFrame:
    """Daily returns of ``assets`` (columns of ``prices``) and CASH (0: the sweep has no cash rate), 0 before
    and on a fund's first price and after its last, as the rotation earns them."""
    from xlsector.trend import to_returns

    out = to_returns(prices[assets]).fillna(0.0)
    out[CASH] = 0.0
    return out


def oos_returns(frame: pd.DataFrame, prices: pd.DataFrame, spec: dict[str, Any], *,
                start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Walk-forward daily returns of ``frame``'s rows, one column per combination (its funds), over the days
    after ``start`` (default: the latest born-on date of the rows) through the last date.

    Rebuilt from each row's run-length encoded holdings (:func:`~xlsector.sweep.evaluate.returns_from_runs`)
    with the strategy's cost: equal to FWPT's own returns (the tests check it).
    """
    from xlsector.params import Strategy

    cost_bp = Strategy.from_kwargs(**spec.get("strategy", {})).cost_bp
    assets = list(dict.fromkeys([*spec["funds"], *spec.get("bear", [])]))
    every = asset_returns(prices, assets)
    born = pd.to_datetime(frame["born_on"])
    start = pd.Timestamp(born.max()) if start is None else pd.Timestamp(start)
    columns = {}
    for funds, runs, own in zip(frame["funds"], frame["holdings"], born):
        path = returns_from_runs(runs, every.loc[own:], cost_bp)
        columns[funds] = path.loc[path.index > start].to_numpy()
    dates = every.index[every.index > start]
    return pd.DataFrame(columns, index=dates)


def _pbo(frame: pd.DataFrame, prices: pd.DataFrame, spec: dict[str, Any], blocks: int, pbo_max: int,
         notes: list[str]) -> PboFigures | None:
    from xlsector.overfitting import pbo

    if len(frame) < 2:
        notes.append("PBO needs at least two combinations")
        return None
    chosen = frame
    if len(frame) > pbo_max:
        rng = np.random.default_rng(spec.get("seed") or 0)
        keep = np.sort(rng.choice(len(frame), size=pbo_max, replace=False))
        chosen = frame.iloc[keep]
        notes.append(f"PBO on a random subset of {pbo_max:,} of the {len(frame):,} combinations (seed "
                     f"{spec.get('seed') or 0}), to bound the days x combinations matrix")
    matrix = oos_returns(chosen, prices, spec)
    born = pd.to_datetime(chosen["born_on"])
    start = pd.Timestamp(born.max())
    if len(matrix) < 0.5 * float(chosen["oos_days"].median()):
        late = int((born > born.min()).sum())
        notes.append(f"PBO covers only {len(matrix):,} days (from {start:%Y-%m-%d}): the days every combination has "
                     f"out of sample; {late:,} combination(s) start later than {born.min():%Y-%m-%d} (young funds)")
    try:
        result = pbo(matrix, blocks=blocks)
    except (DataError, ParameterError) as exc:
        notes.append(f"PBO not computed: {exc}")
        return None
    return PboFigures(
        pbo=float(result.pbo), logits_median=float(np.median(result.logits)), slope=float(result.slope),
        r2=float(result.r2), prob_loss=float(result.prob_loss), blocks=int(result.blocks),
        n_combinations_cscv=int(result.n_combinations), columns=matrix.shape[1], of=len(frame), start=start,
        end=pd.Timestamp(matrix.index[-1]), n_obs=matrix.shape[0], convention=str(result.summary()["convention"]),
    )


def build_report(frame: pd.DataFrame, prices: pd.DataFrame, spec: dict[str, Any], *, store: Path, planned: int,
                 n_tcs: int, pbo_blocks: int = 16, pbo_max: int = 5000) -> SweepReport:
    """The report of the stored rows ``frame`` (all of them, or those done so far)."""
    notes: list[str] = []
    table = rank_rows(frame)
    trials = trial_count(frame, n_tcs)
    best = None
    if len(table) >= 2 and math.isfinite(float(table["sr"].iloc[0])):
        best = _deflated(table.iloc[0], table, trials, prices, spec)
    else:
        notes.append("DSR needs at least two combinations with an out-of-sample Sharpe ratio")
    figures = _pbo(frame, prices, spec, pbo_blocks, pbo_max, notes)
    corr = math.nan
    if len(table) >= 3:
        corr = float(table["is_sharpe"].rank().corr(table["oos_sharpe"].rank()))
    if len(frame) < planned:
        notes.append(f"partial: {len(frame):,} of {planned:,} combinations done; figures cover those only")
    return SweepReport(table=table, spec=spec, store=store, done=len(frame), planned=planned, trials=trials,
                       best=best, pbo=figures, notes=notes, in_out_correlation=corr)
