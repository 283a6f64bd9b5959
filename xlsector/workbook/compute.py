"""Everything the computed sheets show, from the core (no openpyxl here).

:func:`compute` takes the checked settings and the input series and returns a :class:`Computed` with one
field per sheet family. Each part is a small function, so the render's timing can name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.workbook.inputs import Inputs
from xlsector.workbook.settings import Settings

__all__ = ["Computed", "compute", "strategy_params"]

#: Rows of the Theory table: about one year of market days, starting at 0 as in the paper.
THEORY_ROWS = 260
#: The two trend constants of Chart 1 (weights against age).
WEIGHT_TCS = (20.0, 50.0)
WEIGHT_AGES = 201


@dataclass
class Computed:
    params: dict[str, Any]
    theory: dict[str, Any]
    trends: pd.DataFrame
    main: Any  # BacktestResult
    metrics: pd.DataFrame
    stormguard: pd.DataFrame
    hysteresis: dict[str, Any]
    tuning: dict[str, Any] = field(default_factory=dict)
    momentum: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def strategy_params(settings: Settings) -> dict[str, Any]:
    """The core's strategy keywords from the workbook settings."""
    mode = settings["StormGuard"]
    return {
        "tc": float(settings["TrendConstant"]),
        "k": float(settings["Scale"]),
        "hysteresis": float(settings["Hysteresis"]),
        "decay": None if settings["HysteresisDecay"] is None else float(settings["HysteresisDecay"]),
        "schedule": settings["Schedule"],
        "min_hold": int(settings["MinHold"]),
        "delay": int(settings["Delay"]),
        "cost_bp": float(settings["CostBp"]),
        "min_history": int(settings["MinHistory"]),
        "stormguard": None if mode == "off" else mode,
        "shift": float(settings["StormGuardShift"]),
    }


def theory(funds: pd.DataFrame, tc: float, k: float) -> dict[str, Any]:
    """The paper's table for the first fund over its last THEORY_ROWS prices, and Chart 1's weights."""
    from xlsector.trend import ema, ema2, ema2_weights, ema_weights

    name = str(funds.columns[0])
    prices = funds[name].dropna().iloc[-THEORY_ROWS:]
    ages = np.arange(WEIGHT_AGES, dtype=float)
    weights = pd.DataFrame({"Age (market days)": ages})
    for tc_w in WEIGHT_TCS:
        weights[f"EMA weight, tc={tc_w:g}"] = ema_weights(tc_w, ages, k=k)
        weights[f"EMA2 weight, tc={tc_w:g}"] = ema2_weights(tc_w, ages, k=k)
    return {
        "fund": name,
        "prices": prices,
        "ema": ema(prices, tc, k=k),
        "ema2": ema2(prices, tc, k=k),
        "weights": weights,
        "weight_tcs": WEIGHT_TCS,
    }


def hysteresis_example(inputs: Inputs, main: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Two funds' trends around the index's worst drawdown, the pair's rotation, its hurdle and trades."""
    from xlsector.backtest import backtest
    from xlsector.trend import ema2

    index = inputs.index.dropna()
    peak = index.cummax()
    trough_at = int(np.argmin((index / peak).to_numpy()))
    peak_at = int(np.argmax(index.to_numpy()[: trough_at + 1]))
    start = index.index[max(peak_at - 125, 0)]
    end = index.index[min(trough_at + 250, len(index) - 1)]
    window_main = main.holdings.loc[start:end]
    counts = window_main[window_main != "CASH"].value_counts()
    pair = [str(n) for n in counts.index[:2]]
    for name in inputs.funds.columns:
        if len(pair) >= 2:
            break
        if str(name) not in pair:
            pair.append(str(name))
    prices = inputs.funds[pair]
    kwargs = {key: value for key, value in params.items() if key not in ("stormguard", "shift")}
    result = backtest(prices, **kwargs)
    trends = ema2(prices, params["tc"], k=params["k"])
    h = params["hysteresis"]
    decay = params["decay"] or params["tc"]
    dates = result.dates
    held = result.holdings.to_numpy()
    # The bonus starts at the decision that bought the holding: delay + 1 days before it earns returns.
    lag = params["delay"] + 1
    changes = np.flatnonzero(np.r_[True, held[1:] != held[:-1]])
    since = np.zeros(len(dates))
    for i, at in enumerate(changes):
        stop = changes[i + 1] if i + 1 < len(changes) else len(dates)
        since[at:stop] = np.arange(stop - at) + lag
    trend_on = trends.reindex(dates)
    values = trend_on.to_numpy()
    column = np.array([pair.index(n) if n in pair else -1 for n in held])
    held_trend = np.where(column >= 0, values[np.arange(len(held)), np.maximum(column, 0)], np.nan)
    hurdle = held_trend + h * np.exp(-since / decay)
    frame = pd.DataFrame(
        {
            f"Trend {pair[0]}": trend_on[pair[0]].to_numpy(),
            f"Trend {pair[1]}": trend_on[pair[1]].to_numpy(),
            "Hurdle (held trend + bonus)": hurdle,
            "Holding": held,
        },
        index=dates,
    ).loc[start:end]
    trades = result.trades
    trades = trades[(trades["date"] >= start) & (trades["date"] <= end)]
    return {"pair": pair, "frame": frame, "trades": trades, "start": start, "end": end}


def compute(inputs: Inputs, settings: Settings) -> Computed:
    """Run the core for every computed sheet."""
    from xlsector.backtest import backtest
    from xlsector.rotation import stormguard
    from xlsector.trend import ema2

    params = strategy_params(settings)
    main = backtest(
        inputs.funds,
        index=inputs.index,
        bear=inputs.bear,
        cash_rate=inputs.cash_rate,
        benchmark=inputs.benchmark,
        **params,
    )
    sg = stormguard(inputs.index.dropna(), k=params["k"], shift=params["shift"])
    computed = Computed(
        params=params,
        theory=theory(inputs.funds, params["tc"], params["k"]),
        trends=ema2(inputs.funds, params["tc"], k=params["k"]),
        main=main,
        metrics=main.metrics(),
        stormguard=sg,
        hysteresis=hysteresis_example(inputs, main, params),
    )
    return computed
