"""Overfitting statistics (SPEC section 4, "Overfitting and robustness"), each a small function.

* :func:`probabilistic_sharpe` — Probabilistic Sharpe Ratio, PSR (Bailey & López de Prado 2012).
* :func:`min_track_record` — Minimum Track Record Length, MinTRL (same paper).
* :func:`expected_max_sharpe` and :func:`deflated_sharpe` — the expected maximum Sharpe ratio of N trials
  and the Deflated Sharpe Ratio, DSR (Bailey & López de Prado 2014).
* :func:`pbo` — Probability of Backtest Overfitting by combinatorially symmetric cross-validation, CSCV
  (Bailey, Borwein, López de Prado & Zhu 2017), with the logits, the performance degradation and the
  probability of loss out of sample, in a frozen :class:`PboResult`.
* :func:`sharpe_ratios` and :func:`sharpe_stats` — the per-period Sharpe ratios and sample moments the
  above take.

Conventions shared by every function here
-----------------------------------------
* **Per-period Sharpe ratios.** Every Sharpe ratio going in or out is per period of the returns (per
  market day for daily returns), never annualised: ``SR = mean(r) / std(r)`` with the *sample* standard
  deviation (``ddof=1``), as in :mod:`xlsector.measures`. Convert with
  ``SR_period = SR_annual / sqrt(252)`` and ``SR_annual = SR_period * sqrt(252)`` (252 market days a
  year; a variance of Sharpe ratios converts with the factor 252 itself). Returns are taken as given
  (excess over cash if you subtract it first); every row is a return — drop the start row of a
  ``BacktestResult.returns`` / ``GridResult.returns`` (its 0 on the first date) before calling.
* **Raw kurtosis.** ``kurtosis`` is the raw fourth standardised moment, 3 for a normal distribution (not
  the excess kurtosis, 0 for a normal, that pandas ``.kurt()`` reports). A value below 1 is impossible for
  any distribution and raises :class:`~xlsector.errors.ParameterError` (it is usually an excess kurtosis).
* **Sample moments.** :func:`sharpe_stats` uses the moment (biased, divide-by-n) estimators for both
  skewness and kurtosis: ``skew = m3 / m2**1.5`` and ``kurtosis = m4 / m2**2`` with
  ``m_k = mean((r - mean(r))**k)``, as ``scipy.stats.skew(bias=True)`` and
  ``scipy.stats.kurtosis(fisher=False, bias=True)``; the Sharpe ratio keeps the ``ddof=1`` standard
  deviation of the rest of the project.
* **NaN policy.** Counts and settings out of range (``n_obs < 2``, ``n_trials < 2``, odd ``blocks``, ...)
  and infinite or out-of-domain statistics (``kurtosis < 1``, a negative variance) raise ParameterError; NaN or infinite returns, too few rows or trials raise
  :class:`~xlsector.errors.DataError`; messages name the argument, the rule and the value. A NaN
  statistic going in (for example the Sharpe ratio of a zero-variance series) gives NaN out. PSR, DSR and
  MinTRL are NaN where the variance term ``1 - skew*SR + (kurtosis - 1)/4 * SR**2`` under their square
  root is not positive (impossible for the moments of one distribution, which satisfy
  ``kurtosis >= 1 + skew**2``: it flags inconsistent inputs). Nothing here warns or prints.
* **PBO ranking.** The in-sample best trial is the one with the highest in-sample performance, ties going
  to the first column. Its out-of-sample rank is the *average* rank among the N trials (1 = worst,
  N = best; tied trials share the mean of their ranks), its relative rank ``omega = rank / (N + 1)`` and
  its logit ``lambda = ln(omega / (1 - omega))``. PBO is the share of combinations with ``lambda <= 0``,
  the integral of the logit distribution over ``(-inf, 0]``: a selected trial that is only at the median
  out of sample counts as overfit (so N identical trials give PBO = 1).

The normal CDF and its inverse come from :class:`statistics.NormalDist` (no scipy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from xlsector.errors import DataError, ParameterError

__all__ = [
    "EULER_GAMMA",
    "PBO_CONVENTION",
    "PboResult",
    "deflated_sharpe",
    "expected_max_sharpe",
    "min_track_record",
    "pbo",
    "probabilistic_sharpe",
    "sharpe_ratios",
    "sharpe_stats",
]

#: The Euler–Mascheroni constant used by :func:`expected_max_sharpe`.
EULER_GAMMA = 0.5772156649015329

#: How :func:`pbo` ranks, stated with every PBO figure (``PboResult.summary()["convention"]``).
PBO_CONVENTION = (
    "CSCV: S contiguous blocks, every combination of S/2 blocks in sample and the rest out of sample; "
    "in-sample best = highest performance, ties to the first trial; out-of-sample rank = average rank "
    "(1 = worst), omega = rank/(N+1), logit = ln(omega/(1-omega)); PBO = share of logits <= 0"
)

_NORMAL = NormalDist()
_NAN = float("nan")
# a sample std at or below this fraction of |mean| is rounding noise of a constant series (as in measures)
_ZERO_STD = 1e-10
# block-sum path: a half whose sum of squared deviations is at or below this fraction of its sum of
# squares about the column's full-sample mean is constant up to the rounding of the sums
_ZERO_SS = 1e-13
_MAX_COMBINATIONS = 1_000_000  # blocks <= 22
_CHUNK_CELLS = 1 << 21  # combinations x trials handled at once (bounds memory for large S)

Metric = Literal["sharpe", "mean"] | Callable[[np.ndarray], Any]


# ----------------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------------


def _real(value: object, name: str) -> float:
    """A statistic: a real number (NaN allowed, meaning 'undefined upstream'); not a bool or a string."""
    if isinstance(value, bool | str | bytes) or value is None:
        raise ParameterError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    if math.isinf(number):
        raise ParameterError(f"{name} must be finite (or NaN), got {number!r}")
    return number


def _count(value: object, name: str, minimum: float) -> float:
    """A count or setting: a finite real number >= minimum (NaN is an error here)."""
    number = _real(value, name)
    if math.isnan(number) or number < minimum:
        raise ParameterError(f"{name} must be a number >= {minimum:g}, got {value!r}")
    return number


def _check_kurtosis(kurtosis: float) -> None:
    if kurtosis < 1.0:
        raise ParameterError(
            f"kurtosis is the raw kurtosis (3 for a normal distribution) and is >= 1 for any distribution, "
            f"got {kurtosis!r}: pass excess kurtosis + 3"
        )


def _variance_term(sr: float, skew: float, kurtosis: float) -> float:
    """``1 - skew*SR + (kurtosis - 1)/4 * SR**2``: (n - 1) times the variance of the estimated Sharpe ratio."""
    return 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr


def _finite_matrix(returns: object, name: str) -> np.ndarray:
    try:
        array = np.asarray(returns, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must hold numbers only") from None
    with np.errstate(all="ignore"):  # a NaN or inf anywhere makes the sum non-finite (so may an overflow)
        if np.isfinite(array.sum()):
            return array
    bad = ~np.isfinite(array)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise DataError(
            f"{name} must not contain NaN or infinite values: {bad.sum()} found, the first at position "
            f"{tuple(int(i) for i in where)}"
        )
    return array


def _labels(returns: object, n: int) -> list[Any]:
    columns = getattr(returns, "columns", None)
    return list(columns) if columns is not None and len(columns) == n else list(range(n))


# ----------------------------------------------------------------------------------------------------
# Sharpe ratios and sample moments
# ----------------------------------------------------------------------------------------------------


def sharpe_ratios(returns_matrix: object) -> np.ndarray:
    """Per-period Sharpe ratio of each column: ``mean(r) / std(r, ddof=1)``.

    Parameters
    ----------
    returns_matrix : array-like or pandas.DataFrame, shape (T, N) or (T,)
        Returns, one column per trial, every row a return (per-period, not annualised). A 1-D input is
        one trial.

    Returns
    -------
    numpy.ndarray, shape (N,) (``(1,)`` for a 1-D input)
        Per-period Sharpe ratios; multiply by ``sqrt(252)`` to annualise daily ones. NaN for a column of
        zero variance (a sample std at or below ``1e-10 * |mean|``, the rounding noise of a constant
        column, counts as zero, as in :func:`xlsector.measures.sharpe_ratio`).

    Raises
    ------
    ParameterError
        Not numeric, or more than 2 dimensions.
    DataError
        Fewer than 2 rows, or any NaN or infinite value.
    """
    x = _finite_matrix(returns_matrix, "returns_matrix")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ParameterError(f"returns_matrix must be 1-D or 2-D (T x N), got {x.ndim} dimensions")
    if x.shape[0] < 2:
        raise DataError(f"returns_matrix needs at least 2 rows (observations), got {x.shape[0]}")
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1)
    zero = std <= _ZERO_STD * np.abs(mean)
    out = np.full(x.shape[1], np.nan)
    np.divide(mean, std, out=out, where=~zero)
    return out


def sharpe_stats(returns: object) -> tuple[float, int, float, float]:
    """Per-period Sharpe ratio, observation count, skewness and raw kurtosis of one return series.

    Parameters
    ----------
    returns : array-like or pandas.Series, shape (T,)
        Returns of one strategy, every element a return (drop a backtest's start row first).

    Returns
    -------
    sr : float
        ``mean / std(ddof=1)``, per period.
    n_obs : int
        T.
    skew : float
        Moment (biased) skewness ``m3 / m2**1.5``, ``m_k = mean((r - mean)**k)``.
    kurtosis : float
        Moment (biased) raw kurtosis ``m4 / m2**2`` (3 for a normal distribution).

    All three statistics are NaN for a zero-variance series (std at or below ``1e-10 * |mean|``), so
    :func:`probabilistic_sharpe` of them is NaN too.

    Raises
    ------
    ParameterError
        Not numeric or not 1-D.
    DataError
        Fewer than 2 observations, or any NaN or infinite value.
    """
    x = _finite_matrix(returns, "returns")
    if x.ndim != 1:
        raise ParameterError(f"returns must be 1-D (one series), got shape {x.shape}")
    n = x.size
    if n < 2:
        raise DataError(f"returns needs at least 2 observations, got {n}")
    mean = float(x.mean())
    std = float(x.std(ddof=1))
    if std <= _ZERO_STD * abs(mean):
        return _NAN, n, _NAN, _NAN
    dev = x - mean
    m2 = float(np.mean(dev * dev))
    m3 = float(np.mean(dev**3))
    m4 = float(np.mean(dev**4))
    # m4 / m2**2 >= 1 for any sample (Jensen); a two-valued sample is exactly 1, which rounding can put a few
    # ulps below: such a value is 1, not an excess kurtosis (that the PSR functions would reject)
    return mean / std, n, m3 / m2**1.5, max(m4 / (m2 * m2), 1.0)


# ----------------------------------------------------------------------------------------------------
# PSR, MinTRL, expected maximum Sharpe, DSR
# ----------------------------------------------------------------------------------------------------


def probabilistic_sharpe(
    sr: float, n_obs: float, skew: float = 0.0, kurtosis: float = 3.0, sr_benchmark: float = 0.0
) -> float:
    """Probabilistic Sharpe Ratio: the probability that the true Sharpe ratio exceeds ``sr_benchmark``.

    ``PSR = Phi( (SR - SR*) * sqrt(n - 1) / sqrt(1 - skew*SR + (kurtosis - 1)/4 * SR**2) )``, Phi the
    standard normal CDF, SR the observed Sharpe ratio (also in the variance term), SR* the benchmark.

    Reference: D. H. Bailey and M. López de Prado (2012), "The Sharpe Ratio Efficient Frontier",
    Journal of Risk 15(2), section 3 (PSR), after the asymptotic variance of the estimated Sharpe ratio
    under non-normal IID returns (Mertens 2002).

    Parameters
    ----------
    sr : float
        Observed **per-period** Sharpe ratio (``SR_annual / sqrt(252)`` for daily returns).
    n_obs : float
        Number of returns the Sharpe ratio was measured on; >= 2 (non-integers are accepted so that
        :func:`min_track_record` round-trips).
    skew : float, default 0
        Skewness of the returns.
    kurtosis : float, default 3
        **Raw** kurtosis of the returns (3 = normal), >= 1.
    sr_benchmark : float, default 0
        Benchmark per-period Sharpe ratio SR*.

    Returns
    -------
    float
        In [0, 1]. NaN when any statistic is NaN or the variance term is not positive.

    Raises
    ------
    ParameterError
        ``n_obs < 2``, ``kurtosis < 1``, an infinite or non-numeric argument.
    """
    n = _count(n_obs, "n_obs", 2)
    sr, skew, kurtosis, sr_benchmark = (
        _real(sr, "sr"), _real(skew, "skew"), _real(kurtosis, "kurtosis"), _real(sr_benchmark, "sr_benchmark")
    )
    _check_kurtosis(kurtosis)
    term = _variance_term(sr, skew, kurtosis)
    if math.isnan(term + sr_benchmark) or term <= 0.0:
        return _NAN
    return _NORMAL.cdf((sr - sr_benchmark) * math.sqrt(n - 1.0) / math.sqrt(term))


def min_track_record(
    sr: float, skew: float = 0.0, kurtosis: float = 3.0, sr_benchmark: float = 0.0, prob: float = 0.95
) -> float:
    """Minimum Track Record Length: the number of returns for ``PSR(sr_benchmark) >= prob``.

    ``MinTRL = 1 + (1 - skew*SR + (kurtosis - 1)/4 * SR**2) * (Z_prob / (SR - SR*))**2``, Z_prob the
    standard normal quantile of ``prob``: the ``n_obs`` at which :func:`probabilistic_sharpe` equals
    ``prob`` for the same statistics. The arguments are those of :func:`probabilistic_sharpe` without
    ``n_obs``, in the same order, then ``prob``.

    Reference: D. H. Bailey and M. López de Prado (2012), "The Sharpe Ratio Efficient Frontier",
    Journal of Risk 15(2), section 4 (minimum track record length).

    Parameters
    ----------
    sr : float
        Observed **per-period** Sharpe ratio.
    skew : float, default 0
        Skewness of the returns.
    kurtosis : float, default 3
        **Raw** kurtosis (3 = normal), >= 1.
    sr_benchmark : float, default 0
        Benchmark per-period Sharpe ratio SR*.
    prob : float, default 0.95
        Confidence level, 0.5 <= prob < 1.

    Returns
    -------
    float
        Number of observations, in the period of the returns (divide by 252 for years of daily data).
        ``inf`` when ``sr <= sr_benchmark`` (no track record can show it beats the benchmark); NaN when a
        statistic is NaN or the variance term is not positive.

    Raises
    ------
    ParameterError
        ``prob`` outside [0.5, 1), ``kurtosis < 1``, an infinite or non-numeric argument.
    """
    sr, skew, kurtosis, sr_benchmark = (
        _real(sr, "sr"), _real(skew, "skew"), _real(kurtosis, "kurtosis"), _real(sr_benchmark, "sr_benchmark")
    )
    level = _real(prob, "prob")
    if not 0.5 <= level < 1.0:
        raise ParameterError(f"prob must be a confidence level with 0.5 <= prob < 1, got {prob!r}")
    _check_kurtosis(kurtosis)
    term = _variance_term(sr, skew, kurtosis)
    if math.isnan(term + sr_benchmark) or term <= 0.0:
        return _NAN
    if sr <= sr_benchmark:
        return math.inf
    return 1.0 + term * (_NORMAL.inv_cdf(level) / (sr - sr_benchmark)) ** 2


def expected_max_sharpe(n_trials: float, trials_sr_var: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` unskilled trials (true Sharpe ratios all zero).

    ``SR0 = sqrt(V) * ((1 - gamma) * Z(1 - 1/N) + gamma * Z(1 - 1/(N e)))``, Z the standard normal
    quantile, gamma the Euler–Mascheroni constant, e Euler's number, N the number of independent trials
    and V the variance of the trials' Sharpe ratios.

    Reference: D. H. Bailey and M. López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for
    Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5); the
    approximation of the expected maximum of N normals is that of Bailey, Borwein, López de Prado & Zhu
    (2014), "Pseudo-Mathematics and Financial Charlatanism", Notices of the AMS 61(5).

    Parameters
    ----------
    n_trials : float
        N, the number of trials the best one was selected from (every grid point of every experiment;
        see docs/overfitting.md); >= 2. Non-integers are accepted for an estimated effective N.
    trials_sr_var : float
        Variance across the trials of their **per-period** Sharpe ratios (an annualised variance divided
        by 252), >= 0; for example ``np.var(sharpe_ratios(matrix), ddof=1)``.

    Returns
    -------
    float
        The per-period SR0 (>= 0); NaN when ``trials_sr_var`` is NaN.

    Raises
    ------
    ParameterError
        ``n_trials < 2``, ``trials_sr_var < 0``, an infinite or non-numeric argument.
    """
    n = _count(n_trials, "n_trials", 2)
    var = _real(trials_sr_var, "trials_sr_var")
    if var < 0.0:
        raise ParameterError(f"trials_sr_var must be >= 0 (a variance), got {trials_sr_var!r}")
    if math.isnan(var):
        return _NAN
    z = (1.0 - EULER_GAMMA) * _NORMAL.inv_cdf(1.0 - 1.0 / n) + EULER_GAMMA * _NORMAL.inv_cdf(
        1.0 - 1.0 / (n * math.e)
    )
    return math.sqrt(var) * z


def deflated_sharpe(
    sr: float,
    n_obs: float,
    n_trials: float,
    trials_sr_var: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Deflated Sharpe Ratio: the PSR of the selected trial against the expected maximum of N trials.

    ``DSR = PSR(SR0)`` with ``SR0 = expected_max_sharpe(n_trials, trials_sr_var)``: the probability that
    the true Sharpe ratio of the trial selected as best out of N is positive, once the selection, the
    track record length and the non-normality of its returns are accounted for. DSR <= PSR(0) whenever
    ``n_trials >= 2`` and ``trials_sr_var > 0``.

    Reference: D. H. Bailey and M. López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for
    Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5).

    Parameters
    ----------
    sr : float
        Observed **per-period** Sharpe ratio of the selected trial.
    n_obs : float
        Number of returns behind ``sr``; >= 2.
    n_trials : float
        N, the number of trials (>= 2); see docs/overfitting.md for how to count them.
    trials_sr_var : float
        Variance of the trials' **per-period** Sharpe ratios, >= 0.
    skew : float, default 0
        Skewness of the selected trial's returns.
    kurtosis : float, default 3
        **Raw** kurtosis of the selected trial's returns (3 = normal), >= 1.

    Returns
    -------
    float
        In [0, 1]; NaN when a statistic is NaN or the variance term is not positive.

    Raises
    ------
    ParameterError
        As :func:`probabilistic_sharpe` and :func:`expected_max_sharpe`.
    """
    sr0 = expected_max_sharpe(n_trials, trials_sr_var)
    return probabilistic_sharpe(sr, n_obs, skew, kurtosis, sr_benchmark=sr0)


# ----------------------------------------------------------------------------------------------------
# PBO by combinatorially symmetric cross-validation
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PboResult:
    """Probability of Backtest Overfitting and the figures behind it (see :func:`pbo`).

    Arrays have one element per combination, in the order of
    ``itertools.combinations(range(blocks), blocks // 2)`` (the blocks of each in-sample half); they are
    read-only.

    Attributes
    ----------
    pbo : float
        Share of combinations whose logit is <= 0, in [0, 1].
    logits : numpy.ndarray, shape (n_combinations,)
        ``ln(omega / (1 - omega))``, omega = average out-of-sample rank of the in-sample best / (N + 1).
    selected : numpy.ndarray of int, shape (n_combinations,)
        Column index of the in-sample best trial (ties to the first column).
    is_performance, oos_performance : numpy.ndarray, shape (n_combinations,)
        The metric of the selected trial in sample and out of sample.
    slope, intercept, r2 : float
        Performance degradation: least-squares line ``oos_performance = intercept + slope *
        is_performance`` and its R²; NaN when the in-sample performances (for r2: either side) do not
        vary.
    prob_loss : float
        Share of combinations where the selected trial's out-of-sample metric is below 0.
    n_combinations, blocks, n_trials, n_obs : int
        C(S, S/2), S, N and T.
    metric : str
        ``"sharpe"`` (per-period Sharpe ratio), ``"mean"`` (mean return per period) or the callable's name.
    trials : tuple
        Column labels (a DataFrame's columns, else 0..N-1).
    """

    pbo: float
    logits: np.ndarray
    selected: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    slope: float
    intercept: float
    r2: float
    prob_loss: float
    n_combinations: int
    blocks: int
    n_trials: int
    n_obs: int
    metric: str
    trials: tuple[Any, ...]

    def summary(self) -> dict[str, Any]:
        """The scalar figures as a dict (labels for the workbook/CLI), with the ranking convention."""
        counts = np.bincount(self.selected, minlength=self.n_trials)
        top = int(np.argmax(counts))
        return {
            "pbo": self.pbo,
            "prob_loss": self.prob_loss,
            "slope": self.slope,
            "intercept": self.intercept,
            "r2": self.r2,
            "logit_mean": float(np.mean(self.logits)),
            "logit_median": float(np.median(self.logits)),
            "most_selected": self.trials[top],
            "most_selected_share": float(counts[top] / self.n_combinations),
            "n_combinations": self.n_combinations,
            "blocks": self.blocks,
            "n_trials": self.n_trials,
            "n_obs": self.n_obs,
            "metric": self.metric,
            "convention": PBO_CONVENTION,
        }


def pbo(
    returns: object,
    blocks: int = 16,
    metric: Metric = "sharpe",
    *,
    threshold: float = 0.0,
) -> PboResult:
    """Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV).

    The T rows are cut into ``blocks`` (S) contiguous blocks (sizes as ``numpy.array_split``: the first
    ``T % S`` blocks have one row more; no row is dropped). For each of the C(S, S/2) combinations of S/2
    blocks, those blocks (kept in time order) are the in-sample half and the other S/2 the out-of-sample
    half; the trial with the best in-sample metric is selected (ties to the first column) and its
    out-of-sample average rank r among the N trials (1 = worst) gives ``omega = r / (N + 1)`` and the logit
    ``lambda = ln(omega / (1 - omega))``. PBO is the share of combinations with ``lambda <= 0`` (the
    selected trial does no better than the median out of sample). Also reported: the degradation line of
    the selected trial's out-of-sample against in-sample metric (slope, intercept, R²) and the probability
    of loss, the share of combinations where its out-of-sample metric is below ``threshold``.

    Reference: D. H. Bailey, J. M. Borwein, M. López de Prado and Q. J. Zhu (2017), "The Probability of
    Backtest Overfitting", Journal of Computational Finance 20(4), sections 2–3 (CSCV, logits, PBO,
    performance degradation, probability of loss).

    Parameters
    ----------
    returns : array-like or pandas.DataFrame, shape (T, N)
        Per-period returns, one column per trial (for a ``GridResult``: ``grid.returns[:, 1:].T``), every
        row a return. N >= 2, T >= 2 * blocks, no NaN.
    blocks : int, default 16
        S, even, 2 <= S <= 22 (C(16, 8) = 12,870 combinations; C(22, 11) = 705,432).
    metric : "sharpe", "mean" or callable, default "sharpe"
        ``"sharpe"``: per-period Sharpe ratio ``mean / std(ddof=1)`` of each half; ``"mean"``: the mean
        return of each half. Both are computed from per-block sums (fast). A callable takes the rows of
        one half, shape (T_half, N), and returns N finite numbers, higher = better; it is called twice per
        combination (slow: a loop over the combinations).
    threshold : float, default 0
        Out-of-sample metric below which the selected trial counts as a loss (``prob_loss``).

    Returns
    -------
    PboResult

    Raises
    ------
    ParameterError
        ``blocks`` odd, < 2 or > 22; an unknown metric; ``returns`` not 2-D or not numeric.
    DataError
        NaN or infinite returns; fewer than 2 trials; fewer than ``2 * blocks`` rows; with the Sharpe
        metric, a trial whose returns are constant over a half (its Sharpe ratio is undefined; a half
        whose std is below about 3e-7 times the distance of its mean from the column's mean is constant
        up to rounding); a callable metric returning the wrong shape or non-finite values.
    """
    x = _finite_matrix(returns, "returns")
    if x.ndim != 2:
        raise ParameterError(f"returns must be a 2-D T x N matrix (one column per trial), got shape {x.shape}")
    n_obs, n_trials = x.shape
    labels = _labels(returns, n_trials)
    if n_trials < 2:
        raise DataError(f"returns must have at least 2 columns (trials), got {n_trials}")
    if isinstance(blocks, bool) or not isinstance(blocks, int | np.integer):
        raise ParameterError(f"blocks must be an even integer, got {blocks!r}")
    s = int(blocks)
    if s < 2 or s % 2:
        raise ParameterError(f"blocks must be an even integer >= 2, got {blocks!r}")
    if math.comb(s, s // 2) > _MAX_COMBINATIONS:
        raise ParameterError(f"blocks must be <= 22 (C(S, S/2) <= {_MAX_COMBINATIONS:,} combinations), got {s}")
    if n_obs < 2 * s:
        raise DataError(f"returns has {n_obs} rows: blocks={s} needs at least {2 * s} (2 rows per block)")
    cut = _real(threshold, "threshold")
    if math.isnan(cut):
        raise ParameterError("threshold must be a number, got nan")

    combos = np.array(list(combinations(range(s), s // 2)), dtype=np.intp)
    sizes = np.full(s, n_obs // s, dtype=np.intp)
    sizes[: n_obs % s] += 1
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))

    name: str
    if isinstance(metric, str) and metric in ("sharpe", "mean"):
        parts = _pbo_block_sums(x, starts, sizes, combos, metric, labels)
        name = metric
    elif callable(metric):
        parts = _pbo_loop(x, starts, sizes, combos, metric, labels)
        attr = getattr(metric, "__name__", None)
        name = attr if isinstance(attr, str) else type(metric).__name__
    else:
        raise ParameterError(f"metric must be 'sharpe', 'mean' or a callable, got {metric!r}")
    selected, is_perf, oos_perf, rank = parts

    logits = np.log(rank) - np.log(n_trials + 1.0 - rank)
    slope, intercept, r2 = _degradation(is_perf, oos_perf)
    for array in (logits, selected, is_perf, oos_perf):
        array.setflags(write=False)
    return PboResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        selected=selected,
        is_performance=is_perf,
        oos_performance=oos_perf,
        slope=slope,
        intercept=intercept,
        r2=r2,
        prob_loss=float(np.mean(oos_perf < cut)),
        n_combinations=len(combos),
        blocks=s,
        n_trials=n_trials,
        n_obs=n_obs,
        metric=name,
        trials=tuple(labels),
    )


def _select(
    is_perf: np.ndarray, oos_perf: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """In-sample best of each row (first on ties) and its average out-of-sample rank among all trials.

    ``weights[u]`` is how many trials column u stands for (identical columns are passed once); None: one
    each.
    """
    rows = np.arange(is_perf.shape[0])
    best = np.argmax(is_perf, axis=1)
    oos_best = oos_perf[rows, best][:, None]
    if weights is None:
        below = np.count_nonzero(oos_perf < oos_best, axis=1).astype(np.float64)
        equal = np.count_nonzero(oos_perf == oos_best, axis=1).astype(np.float64)
    else:
        below = (oos_perf < oos_best) @ weights
        equal = (oos_perf == oos_best) @ weights
    return best, is_perf[rows, best], oos_best[:, 0], below + (equal + 1.0) / 2.0


def _unique_columns(x: np.ndarray) -> tuple[list[int], np.ndarray | None]:
    """First index of each distinct column (in order) and the multiplicity of each (None: no duplicates).

    Candidates are grouped by the values on a few sampled rows, then compared in full.
    """
    n_obs, n_trials = x.shape
    probe = x[np.linspace(0, n_obs - 1, min(n_obs, 32)).astype(np.intp)].T + 0.0  # -0.0 -> 0.0
    first: list[int] = []
    counts: list[int] = []
    groups: dict[bytes, list[int]] = {}
    for j in range(n_trials):
        candidates = groups.setdefault(probe[j].tobytes(), [])
        for u in candidates:
            if np.array_equal(x[:, first[u]], x[:, j]):
                counts[u] += 1
                break
        else:
            candidates.append(len(first))
            first.append(j)
            counts.append(1)
    return first, (None if len(first) == n_trials else np.asarray(counts, dtype=np.float64))


def _pbo_block_sums(
    x: np.ndarray, starts: np.ndarray, sizes: np.ndarray, combos: np.ndarray, metric: str, labels: list[Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised CSCV: per-block sums of (centred) returns and squares, combined by a 0/1 matrix product.

    In ``itertools.combinations`` order, the first half of the combinations are those holding block 0 and
    combination ``C - 1 - i`` is the complement of combination i: each pair shares its two halves, so the
    metric is computed once per half and used in sample for one and out of sample for the other.
    Identical columns are evaluated once, so they tie exactly whatever the rounding of the product.
    """
    first, weights = _unique_columns(x)
    unique = x[:, first] if weights is not None else x
    centre = unique.mean(axis=0)
    dev = unique - centre
    sum1 = np.add.reduceat(dev, starts, axis=0)  # (S, U)
    if metric == "sharpe":
        dev *= dev
        sum2 = np.add.reduceat(dev, starts, axis=0)
    del dev

    n_comb, n_blocks = len(combos), len(sizes)
    n_pairs = n_comb // 2
    mask = np.zeros((n_pairs, n_blocks))
    mask[np.arange(n_pairs)[:, None], combos[:n_pairs]] = 1.0
    first_index = np.asarray(first)
    chunk = max(1, _CHUNK_CELLS // len(first))
    out = [np.empty(n_comb, dtype=np.intp), np.empty(n_comb), np.empty(n_comb), np.empty(n_comb)]

    def half_metric(m: np.ndarray, lo: int) -> np.ndarray:
        """The metric of every trial on the halves given by the 0/1 rows of m (combinations lo, lo + 1, ...)."""
        n = (m @ sizes)[:, None]
        total = m @ sum1
        mean = total / n  # mean of the centred returns
        if metric == "mean":
            mean += centre
            return mean
        sq = m @ sum2
        ss = total
        ss *= mean
        np.subtract(sq, ss, out=ss)  # sum of squared deviations
        sq *= _ZERO_SS
        flat = ss <= sq
        if flat.any():
            k, u = np.argwhere(flat)[0]
            half = np.flatnonzero(m[k]).tolist()
            raise DataError(
                f"returns column {labels[first[u]]!r} is constant over blocks {half} (a half of combinations "
                f"{lo + k} and {n_comb - 1 - lo - k}): its Sharpe ratio is undefined; drop that trial or use "
                f"metric='mean'"
            )
        np.sqrt(ss, out=ss)
        mean += centre
        mean *= np.sqrt(n - 1.0)
        mean /= ss
        return mean

    for lo in range(0, n_pairs, chunk):
        m_a = mask[lo : lo + chunk]
        perf_a, perf_b = half_metric(m_a, lo), half_metric(1.0 - m_a, lo)
        pairs = np.arange(lo, lo + len(m_a))
        for index, is_perf, oos_perf in ((pairs, perf_a, perf_b), (n_comb - 1 - pairs, perf_b, perf_a)):
            best_u, is_best, oos_best, rank = _select(is_perf, oos_perf, weights)
            out[0][index] = first_index[best_u]
            out[1][index], out[2][index], out[3][index] = is_best, oos_best, rank
    return out[0], out[1], out[2], out[3]


def _pbo_loop(
    x: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    combos: np.ndarray,
    metric: Callable[[np.ndarray], Any],
    labels: list[Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSCV with any metric: for each combination, the metric of the concatenated rows of each half."""
    n_trials = x.shape[1]
    s = len(sizes)
    rows_of = [np.arange(start, start + size) for start, size in zip(starts, sizes, strict=True)]
    n_comb = len(combos)
    chunk = max(1, _CHUNK_CELLS // n_trials)
    out = [np.empty(n_comb, dtype=np.intp), np.empty(n_comb), np.empty(n_comb), np.empty(n_comb)]
    for lo in range(0, n_comb, chunk):
        part = combos[lo : lo + chunk]
        perf = np.empty((2, len(part), n_trials))
        for k, combo in enumerate(part):
            in_sample = np.zeros(s, dtype=bool)
            in_sample[combo] = True
            for side, chosen in enumerate((in_sample, ~in_sample)):
                rows = np.concatenate([rows_of[b] for b in range(s) if chosen[b]])
                values = np.asarray(metric(x[rows]), dtype=np.float64)
                if values.shape != (n_trials,):
                    raise DataError(
                        f"metric must return {n_trials} numbers (one per trial), got shape {values.shape}"
                    )
                if not np.isfinite(values).all():
                    j = int(np.flatnonzero(~np.isfinite(values))[0])
                    half = "in-sample" if side == 0 else "out-of-sample"
                    raise DataError(
                        f"metric returned {float(values[j])!r} for trial {labels[j]!r} on the {half} half of "
                        f"combination {lo + k}: it must return finite numbers"
                    )
                perf[side, k] = values
        best, is_best, oos_best, rank = _select(perf[0], perf[1], None)
        sl = slice(lo, lo + len(part))
        out[0][sl], out[1][sl], out[2][sl], out[3][sl] = best, is_best, oos_best, rank
    return out[0], out[1], out[2], out[3]


def _degradation(is_perf: np.ndarray, oos_perf: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R² of out-of-sample on in-sample performance (NaN if flat)."""
    dx = is_perf - is_perf.mean()
    dy = oos_perf - oos_perf.mean()
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    if sxx <= _ZERO_SS * float(is_perf @ is_perf) or sxx == 0.0:
        return _NAN, _NAN, _NAN
    slope = sxy / sxx
    intercept = float(oos_perf.mean()) - slope * float(is_perf.mean())
    if syy <= _ZERO_SS * float(oos_perf @ oos_perf) or syy == 0.0:
        return slope, intercept, _NAN
    return slope, intercept, sxy * sxy / (sxx * syy)
