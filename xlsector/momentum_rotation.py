"""Momentum rotation (SPEC §3): top-k funds by N-day total return, with leverage rules and a trend filter.

The model, day by day (all vectorised over days and funds):

1. **Signal** on day d, using prices through d's close only: ``momentum = P(d) / P(d - lookback) - 1``
   (``lookback`` market days, total return from adjusted closes). A fund without a price on d or on
   d - lookback has no signal and cannot be picked.
2. **Pick** on decision days (``rebalance``: "daily", "week" = last market day of the week, "month" = last
   market day of the month; the definitions of :func:`xlsector.rotation.decision_days`): the ``top_k``
   funds with the largest momentum, equal weight ``1 / m`` each, ``m = min(top_k, funds with a signal)``
   (ties: the fund listed first wins). Between decision days the target weights stay fixed (the small
   drift of top-k > 1 portfolios between rebalances is ignored: weights are constant-mix).
3. **Trend filter** (optional, ``ma_filter = N``): invested only if the benchmark's close on d is above
   its N-day simple moving average on d (mean of the closes d-N+1..d); otherwise all cash. Checked on
   decision days.
4. **Leverage** set on decision days from the VIX close on d: ``"fixed"``: ``leverage``; ``"vix_bands"``:
   ``leverage × multiplier`` of the first band whose threshold exceeds the VIX (a table given as data,
   ``[(15, 1.2), (20, 1.0), (30, 0.8), (inf, 0.6)]`` by default: VIX < 15 → ×1.2 ...); ``"vix_formula"``:
   ``leverage × 30 / max(VIX, 15)``. The result is clipped to ``[leverage_min, leverage_max]``.
5. **Execution**: a decision on day d's close is traded at day d + delay's close and earns returns from
   day d + delay + 1 (``delay`` 0 or 1, as in the trend backtest).
6. **Returns** of day t: ``Σ_j w_j(t)·r_j(t)`` with exposures ``w`` (weights × leverage × filter), plus
   ``(1 - Σw)·cash_rate/252`` on the uninvested part when Σw < 1, minus ``(Σw - 1)·borrow_rate/252``
   when Σw > 1 (borrowing above 1× leverage). Costs: ``(slippage_bp + commission_bp)/10⁴`` times the
   traded value — the larger of total buys and total sells of the exposure change (so a full switch
   A → B, or an entry from cash, costs one unit, as in the trend backtest) — charged on the first day
   of the new exposure: ``r_net = (1 + r)(1 - c·traded) - 1``.

The backtest period starts on the close at which the first position could be entered (first decision
day with a signal, plus ``delay``); that first date is the start point of :mod:`xlsector.measures`
(return 0, equity 1). ``start``/``end`` restrict the reported period; data before ``start`` still warms
up the signals, data after ``end`` is not used at all.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from xlsector.errors import DataError, DataQualityWarning, ParameterError
from xlsector.rotation import decision_days

__all__ = ["DEFAULT_VIX_BANDS", "LEVERAGE_RULES", "REBALANCE", "MomentumResult", "run_momentum_backtest"]

CASH = "CASH"
DAYS_PER_YEAR = 252
#: The VIX band table of SPEC §3: (VIX below this threshold, leverage multiplier), in order.
DEFAULT_VIX_BANDS: tuple[tuple[float, float], ...] = ((15.0, 1.2), (20.0, 1.0), (30.0, 0.8), (math.inf, 0.6))
LEVERAGE_RULES = ("fixed", "vix_bands", "vix_formula")
REBALANCE = {"daily": "daily", "week": "week", "weekly": "week", "month": "month", "monthly": "month"}

LeverageRule = Literal["fixed", "vix_bands", "vix_formula"]


@dataclass(frozen=True)
class MomentumResult:
    """Result of :func:`run_momentum_backtest` over its period (first date = start point, return 0).

    Attributes
    ----------
    returns : Series of net daily returns. equity : Series, 1.0 on the first date.
    weights : DataFrame (dates × funds) of the exposures earning each day's return (leverage included).
    holdings : Series of the held funds per day ("XLK", "XLK+XLE" for top-k, "CASH").
    leverage : Series of the total exposure Σw per day (0 in cash).
    invested : bool Series, Σw > 0.
    trades : DataFrame (date, from, to, traded) of the days the held set of funds changes (the initial
        buy included).
    switches : changes of the held set of funds after the initial buy (as the trend backtest counts them).
    exposure : share of return days invested. average_leverage : mean Σw over the invested return days.
    benchmark_returns : daily returns of the benchmark (buy and hold) over the same dates, or None.
    params : the parameters used.
    """

    returns: pd.Series
    equity: pd.Series
    weights: pd.DataFrame
    holdings: pd.Series
    leverage: pd.Series
    invested: pd.Series
    trades: pd.DataFrame
    switches: int
    exposure: float
    average_leverage: float
    benchmark_returns: pd.Series | None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First date (start point) and last date of the backtest."""
        return self.returns.index[0], self.returns.index[-1]

    def metrics(self, *, rf: float | pd.Series | None = None) -> pd.DataFrame:
        """SPEC §5 metrics table (labelled, with definitions), with the benchmark over the same days.

        "Average leverage" here is the mean over *all* return days (0 in cash), as :mod:`xlsector.measures`
        defines it; :attr:`average_leverage` is the mean over the invested days.
        """
        from xlsector.measures import metrics_table

        return metrics_table(
            self.returns,
            rf=rf,
            holdings=self.holdings,
            switches=self.switches,
            leverage=self.leverage,
            benchmark=self.benchmark_returns,
        )


# ---------------------------------------------------------------------------------------- helpers


def _positive_int(value: Any, name: str, *, low: int = 1) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer, float))
        or value != int(value)
        or value < low
    ):
        raise ParameterError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def _number(value: Any, name: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or math.isnan(value)
        or not low <= value <= high
    ):
        rule = f">= {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
        raise ParameterError(f"{name} must be a number {rule}, got {value!r}")
    return float(value)


def _bands(bands: Sequence[Sequence[float]] | None) -> tuple[np.ndarray, np.ndarray]:
    table = DEFAULT_VIX_BANDS if bands is None else bands
    try:
        pairs = [(float(t), float(m)) for t, m in table]
    except (TypeError, ValueError):
        raise ParameterError(
            f"vix_bands must be a list of (threshold, multiplier) pairs, got {bands!r}"
        ) from None
    if not pairs:
        raise ParameterError("vix_bands must hold at least one (threshold, multiplier) pair, got []")
    thresholds = np.array([p[0] for p in pairs])
    multipliers = np.array([p[1] for p in pairs])
    if np.any(np.diff(thresholds) <= 0) or np.isnan(thresholds).any():
        raise ParameterError(f"vix_bands thresholds must increase strictly, got {thresholds.tolist()}")
    if np.any(multipliers < 0) or not np.isfinite(multipliers).all():
        raise ParameterError(f"vix_bands multipliers must be finite numbers >= 0, got {multipliers.tolist()}")
    if thresholds[-1] != math.inf:  # the last band catches every higher VIX
        thresholds[-1] = math.inf
    return thresholds, multipliers


def _column(prices: pd.DataFrame, value: str | pd.Series | None, name: str) -> pd.Series | None:
    """A series given by value or by column name in ``prices``, aligned to the price dates."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in prices.columns:
            raise ParameterError(
                f"{name} {value!r} is not a column of the prices; columns: {', '.join(map(str, prices.columns))}"
            )
        return prices[value].astype(float)
    if isinstance(value, pd.Series):
        aligned = value.astype(float).reindex(prices.index)
        inside = (
            value.index[(value.index >= prices.index[0]) & (value.index <= prices.index[-1])]
            if len(prices.index)
            else value.index[:0]
        )
        extra = int((~inside.isin(prices.index)).sum())
        filled = aligned.ffill()
        n_filled = int((aligned.isna() & filled.notna()).sum())
        if extra or n_filled:
            warnings.warn(
                f"{name}: aligned to the price calendar ({extra} dates within the price period but not in it ignored, "
                f"{n_filled} missing dates filled with the previous value)",
                DataQualityWarning,
                stacklevel=3,
            )
        return filled
    raise ParameterError(f"{name} must be a column name or a pandas Series, got {type(value).__name__}")


# ---------------------------------------------------------------------------------------- backtest


def run_momentum_backtest(
    prices: pd.DataFrame,
    *,
    funds: Sequence[str] | None = None,
    benchmark: str | pd.Series | None = None,
    vix: str | pd.Series | None = None,
    lookback: int = 126,
    top_k: int = 1,
    rebalance: str = "daily",
    delay: int = 1,
    leverage: float = 1.0,
    leverage_rule: LeverageRule = "fixed",
    vix_bands: Sequence[Sequence[float]] | None = None,
    leverage_min: float = 0.0,
    leverage_max: float = math.inf,
    borrow_rate: float = 0.0,
    cash_rate: float = 0.0,
    ma_filter: int | None = None,
    slippage_bp: float = 10.0,
    commission_bp: float = 0.0,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> MomentumResult:
    """Backtest a momentum rotation (see the module docstring for the exact rules).

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, dates (sorted, unique DatetimeIndex) × tickers; NaN before a ticker starts.
    funds : list of str, optional
        Columns to rotate among; default every column except ``benchmark`` and ``vix``.
    benchmark : str or Series, optional
        Buy-and-hold comparison and the trend filter's input (column name or price Series).
    vix : str or Series, optional
        VIX closes (column name or Series; a Series is aligned to the price dates, missing days filled
        forward with a :class:`~xlsector.errors.DataQualityWarning`). Needed by the VIX leverage rules.
    lookback : int
        Momentum period N in market days (>= 1). Default 126.
    top_k : int
        Number of funds held (equal weight). Default 1.
    rebalance : {"daily", "week", "month"}
        Decision days ("weekly"/"monthly" accepted).
    delay : {0, 1}
        Days between decision (close of d) and trade (close of d + delay).
    leverage : float
        Fixed leverage, or the base of the VIX rules (>= 0).
    leverage_rule : {"fixed", "vix_bands", "vix_formula"}
    vix_bands : list of (threshold, multiplier), optional
        Band table for ``"vix_bands"`` (thresholds increasing; the last band catches every higher VIX).
    leverage_min, leverage_max : float
        Clip range of the leverage (all rules).
    borrow_rate : float
        Annual borrowing rate (fraction) paid on exposure above 1×.
    cash_rate : float
        Annual rate (fraction) earned on the uninvested part.
    ma_filter : int, optional
        Simple-moving-average length of the benchmark trend filter (e.g. 150, 200, 250); None or 0 = off.
    slippage_bp, commission_bp : float
        Trading costs in basis points of the traded value.
    start, end : date, optional
        Reported period; signals warm up on data before ``start``; data after ``end`` is dropped.

    Returns
    -------
    MomentumResult
    """
    if not isinstance(prices, pd.DataFrame):
        raise ParameterError(f"prices must be a pandas DataFrame, got {type(prices).__name__}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ParameterError(f"prices must have a DatetimeIndex, got {type(prices.index).__name__}")
    if not prices.index.is_monotonic_increasing or not prices.index.is_unique:
        raise DataError("prices dates must be sorted ascending and unique")
    lookback = _positive_int(lookback, "lookback")
    top_k = _positive_int(top_k, "top_k")
    if rebalance not in REBALANCE:
        raise ParameterError(f"rebalance must be one of daily, week, month, got {rebalance!r}")
    schedule = REBALANCE[rebalance]
    if delay not in (0, 1) or isinstance(delay, bool):
        raise ParameterError(f"delay must be 0 or 1 (days between decision and trade), got {delay!r}")
    leverage = _number(leverage, "leverage")
    if leverage_rule not in LEVERAGE_RULES:
        raise ParameterError(
            f"leverage_rule must be one of {', '.join(LEVERAGE_RULES)}, got {leverage_rule!r}"
        )
    leverage_min = _number(leverage_min, "leverage_min")
    leverage_max = _number(leverage_max, "leverage_max")
    if leverage_max < leverage_min:
        raise ParameterError(f"leverage_max must be >= leverage_min ({leverage_min:g}), got {leverage_max:g}")
    borrow_rate = _number(borrow_rate, "borrow_rate", high=1.0)
    cash_rate = _number(cash_rate, "cash_rate", low=-1.0, high=1.0)
    if ma_filter is not None and ma_filter != 0:
        ma_filter = _positive_int(ma_filter, "ma_filter", low=2)
    else:
        ma_filter = None
    cost = (
        _number(slippage_bp, "slippage_bp", high=10_000)
        + _number(commission_bp, "commission_bp", high=10_000)
    ) / 1e4

    if end is not None:
        prices = prices.loc[: pd.Timestamp(end)]
    bench_series = _column(prices, benchmark, "benchmark")
    vix_series = _column(prices, vix, "vix")
    excluded = {c for c in (benchmark, vix) if isinstance(c, str)}
    if funds is None:
        funds = [c for c in prices.columns if c not in excluded]
    funds = list(funds)
    if not funds:
        raise ParameterError("funds must name at least one column of the prices, got none")
    missing = [f for f in funds if f not in prices.columns]
    if missing:
        raise ParameterError(
            f"fund {missing[0]!r} is not a column of the prices; columns: {', '.join(map(str, prices.columns))}"
        )
    if ma_filter is not None and bench_series is None:
        raise ParameterError("ma_filter needs a benchmark (column name or Series) to filter on")
    if leverage_rule != "fixed" and vix_series is None:
        raise ParameterError(
            f"leverage_rule {leverage_rule!r} needs VIX closes: give vix (column name or Series)"
        )

    dates = prices.index
    n = len(dates)
    if n < 2:
        raise DataError(f"prices must have at least 2 dates, got {n}")
    p = prices[funds].to_numpy(dtype=np.float64, na_value=np.nan)
    if (p <= 0).any():
        raise DataError("prices must be > 0 (found a price <= 0)")

    # 1. signal: momentum with prices through d only
    mom = np.full_like(p, np.nan)
    if n > lookback:
        mom[lookback:] = p[lookback:] / p[:-lookback] - 1.0
    has_signal = np.isfinite(mom)

    # 2. pick: top-k by momentum, equal weight among m = min(top_k, available)
    ranked = np.where(has_signal, mom, -np.inf)
    order = np.argsort(-ranked, axis=1, kind="stable")
    available = has_signal.sum(axis=1)
    m = np.minimum(available, top_k)
    target = np.zeros_like(p)
    rows = np.arange(n)
    for slot in range(min(top_k, len(funds))):
        chosen = order[:, slot]
        take = slot < m
        target[rows[take], chosen[take]] = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(m[:, None] > 0, target / np.maximum(m, 1)[:, None], 0.0)
    ready = available > 0

    # 3. trend filter on the benchmark
    if ma_filter is not None:
        b = bench_series.to_numpy(dtype=np.float64, na_value=np.nan)
        sma = pd.Series(b).rolling(ma_filter, min_periods=ma_filter).mean().to_numpy()
        filter_known = np.isfinite(sma) & np.isfinite(b)
        bull = filter_known & (b > np.where(filter_known, sma, 0.0))
        ready &= filter_known
        target *= bull[:, None]

    # 4. leverage from the VIX close of the decision day
    if leverage_rule == "fixed":
        lev = np.full(n, leverage)
    else:
        v = vix_series.to_numpy(dtype=np.float64, na_value=np.nan)
        if leverage_rule == "vix_bands":
            thresholds, multipliers = _bands(vix_bands)
            band = np.searchsorted(thresholds, np.where(np.isfinite(v), v, 0.0), side="right")
            lev = leverage * multipliers[np.minimum(band, len(multipliers) - 1)]
        else:
            lev = leverage * 30.0 / np.maximum(np.where(np.isfinite(v), v, 15.0), 15.0)
        ready &= np.isfinite(v)
    lev = np.clip(lev, leverage_min, leverage_max)
    target *= lev[:, None]

    # decisions happen on schedule days once a signal exists; carry the last decision forward
    decide = decision_days(dates, schedule) & ready
    if not decide.any():
        raise DataError(
            f"no decision day with a signal: the data ({n} dates) is shorter than the warm-up "
            f"(lookback {lookback}{f', ma_filter {ma_filter}' if ma_filter else ''})"
        )
    last = np.maximum.accumulate(np.where(decide, rows, -1))
    decided = np.where(last[:, None] >= 0, target[np.maximum(last, 0)], 0.0)
    # 5. execution: decision at close d earns from d + delay + 1
    lag = delay + 1
    held = np.zeros_like(decided)
    held[lag:] = decided[:-lag]

    first = int(np.argmax(decide)) + delay  # start point: the close at which the first trade executes
    if start is not None:
        first = max(first, int(dates.searchsorted(pd.Timestamp(start))))
    if first >= n - 1:
        raise DataError(
            f"the backtest period is empty: the first trade is on or after the last date {dates[-1]:%Y-%m-%d}"
        )

    # 6. returns
    with np.errstate(invalid="ignore", divide="ignore"):
        asset_r = np.zeros_like(p)
        asset_r[1:] = p[1:] / p[:-1] - 1.0
    unpriced = held.astype(bool) & ~np.isfinite(asset_r)
    if unpriced[first + 1 :].any():
        day = dates[first + 1 + int(np.argmax(unpriced[first + 1 :].any(axis=1)))]
        warnings.warn(
            f"a held fund has no price on {day:%Y-%m-%d} (and possibly later): its return counts as 0",
            DataQualityWarning,
            stacklevel=2,
        )
    asset_r = np.where(np.isfinite(asset_r), asset_r, 0.0)
    gross_exposure = held.sum(axis=1)
    gross = (held * asset_r).sum(axis=1)
    gross += np.maximum(1.0 - gross_exposure, 0.0) * cash_rate / DAYS_PER_YEAR
    gross -= np.maximum(gross_exposure - 1.0, 0.0) * borrow_rate / DAYS_PER_YEAR
    change = np.diff(held[first:], axis=0)  # exposure changes on the return days
    traded = np.maximum(
        np.where(change > 0, change, 0.0).sum(axis=1), -np.where(change < 0, change, 0.0).sum(axis=1)
    )
    net = gross[first:].copy()
    net[0] = 0.0
    net[1:] = (1.0 + net[1:]) * (1.0 - cost * traded) - 1.0

    idx = dates[first:]
    held_p = held[first:]
    names = np.array(funds, dtype=object)
    invested = gross_exposure[first:] > 0
    mask = held_p > 0
    if len(funds) <= 62:  # one integer per day: bit j set when fund j is held
        keys = mask.astype(np.int64) @ (np.int64(1) << np.arange(len(funds), dtype=np.int64))
        uniq, first_at, codes = np.unique(keys, return_index=True, return_inverse=True)
        patterns = mask[first_at]
    else:
        patterns, codes = np.unique(mask, axis=0, return_inverse=True)
    pattern_names = np.array(["+".join(names[row]) if row.any() else CASH for row in patterns], dtype=object)
    labels = pattern_names[codes.reshape(-1)]
    trade_days = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    trades = pd.DataFrame(
        {
            "date": idx[trade_days],
            "from": labels[trade_days - 1],
            "to": labels[trade_days],
            "traded": traded[trade_days - 1],
        }
    )
    # switches: changes of holding after the initial buy (the period starts in cash, as the trend backtest)
    changes = int(np.count_nonzero(labels[1:] != labels[:-1]))
    switches = max(changes - 1, 0) if labels[0] == CASH else changes
    lev_series = pd.Series(gross_exposure[first:], index=idx, name="leverage")
    inv_days = invested[1:]
    exposure = float(inv_days.mean()) if inv_days.size else math.nan
    avg_lev = float(lev_series.to_numpy()[1:][inv_days].mean()) if inv_days.any() else math.nan
    returns = pd.Series(net, index=idx, name="returns")
    bench_returns = None
    if bench_series is not None:
        b = bench_series.to_numpy(dtype=np.float64, na_value=np.nan)
        br = np.full(n, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            br[1:] = b[1:] / b[:-1] - 1.0
        bench_returns = pd.Series(br[first:], index=idx, name="benchmark")
        bench_returns.iloc[0] = 0.0
    params = {
        "funds": funds,
        "benchmark": benchmark if isinstance(benchmark, str) or benchmark is None else "series",
        "lookback": lookback,
        "top_k": top_k,
        "rebalance": schedule,
        "delay": delay,
        "leverage": leverage,
        "leverage_rule": leverage_rule,
        "vix_bands": [list(b) for b in (vix_bands or DEFAULT_VIX_BANDS)]
        if leverage_rule == "vix_bands"
        else None,
        "leverage_min": leverage_min,
        "leverage_max": leverage_max,
        "borrow_rate": borrow_rate,
        "cash_rate": cash_rate,
        "ma_filter": ma_filter,
        "slippage_bp": float(slippage_bp),
        "commission_bp": float(commission_bp),
    }
    return MomentumResult(
        returns=returns,
        equity=(1.0 + returns).cumprod().rename("equity"),
        weights=pd.DataFrame(held_p, index=idx, columns=funds),
        holdings=pd.Series(labels, index=idx, name="holdings"),
        leverage=lev_series,
        invested=pd.Series(invested, index=idx, name="invested"),
        trades=trades,
        switches=switches,
        exposure=exposure,
        average_leverage=avg_lev,
        benchmark_returns=bench_returns,
        params=params,
    )
