"""Everything the computed sheets show, from the core (no openpyxl here).

:func:`compute` takes the checked settings and the input series and returns a :class:`Computed` with one
field per sheet family. Each part is a small function, so the render's timing can name them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.workbook.inputs import Inputs
from xlsector.workbook.settings import Settings

__all__ = ["Computed", "compute", "momentum", "next_retune", "strategy_params", "tuning"]

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
    settings: Any = None
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
    from xlsector.backtesting import run_backtest
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
    result = run_backtest(prices, **kwargs)
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
    from xlsector.backtesting import run_backtest
    from xlsector.rotation import stormguard
    from xlsector.trend import ema2

    t0 = time.perf_counter()
    params = strategy_params(settings)
    main = run_backtest(
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
        settings=settings,
    )
    computed.timings["core"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    computed.tuning = tuning(inputs, params, settings)
    computed.timings["tuning"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    computed.momentum = momentum(inputs, settings)
    computed.timings["momentum"] = time.perf_counter() - t2
    return computed


# ---------------------------------------------------------------------------------------------- tuning

#: Progressive-tune stationarity (SPEC section 4): retune every STEP market days on the prior WINDOW days.
PROGRESSIVE_WINDOW = 250
PROGRESSIVE_STEP = 125
#: Largest tuning grid the render runs (TcMax - TcMin + 1): memory and time grow with it.
MAX_TCS = 1000


def tuning_strategy(inputs: Inputs, params: dict[str, Any]) -> dict[str, Any]:
    """Keywords of the tuning functions: the strategy without tc, plus the series it needs."""
    strategy = {key: value for key, value in params.items() if key != "tc"}
    strategy.update(index=inputs.index, bear=inputs.bear, cash_rate=inputs.cash_rate, benchmark=inputs.benchmark)
    return strategy


def next_retune(result: Any, dates: pd.DatetimeIndex, retune_days: int, schedule: str) -> tuple[Any, str]:
    """(estimated date of the next FWPT retune, how it was estimated) after the last data date.

    A retune is due ``retune_days`` market days after the last completed tuning (initial, kept or
    adopted), on the next decision day of the schedule; market days after the data's end are estimated
    with the business-day calendar (exchange holidays are not known).
    """
    retunes = result.retunes
    done = retunes[retunes["action"].isin(["initial", "kept", "adopted"])]
    last_done = pd.Timestamp(done["date"].iloc[-1])
    since = int((dates > last_done).sum())
    remaining = max(retune_days - since, 1)
    due = pd.Timestamp(dates[-1]) + pd.offsets.BDay(remaining)
    if schedule == "month":
        due = due + pd.offsets.BMonthEnd(0)
    elif schedule == "week":
        due = due + pd.offsets.Week(weekday=4) if due.weekday() != 4 else due
    pending = retunes["action"].iloc[-1] in ("deferred", "pending")
    how = (f"last completed tuning {last_done:%Y-%m-%d}, {since} market days before the last data date; due after "
           f"{retune_days} market days, on a {schedule} decision day (business-day calendar, holidays not known)")
    if pending:
        how += f"; the last retune was {retunes['action'].iloc[-1]} (re-tried on each decision day)"
    return due.to_pydatetime(), how


def tuning(inputs: Inputs, params: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Trend chart, split-sample, progressive-tune and FWPT over the TcMin..TcMax grid (one grid run)."""
    from xlsector.errors import ParameterError, XlsectorError
    from xlsector.tuning import fwpt, progressive_tune, split_sample, trend_chart

    tcs = np.arange(int(settings["TcMin"]), int(settings["TcMax"]) + 1, dtype=float)
    if tcs.size > MAX_TCS:
        raise XlsectorError(
            f"{settings.where('TcMax')} (TcMax): the tuning grid TcMin..TcMax has {tcs.size} trend constants; at most "
            f"{MAX_TCS} (each is a full backtest over every day), got TcMin {settings['TcMin']}, TcMax {settings['TcMax']}"
        )
    strategy = tuning_strategy(inputs, params)
    funds = inputs.funds
    born_on = settings["BornOn"]
    from xlsector.backtesting import run_backtest_grid

    grid = run_backtest_grid(funds, tcs, **strategy)  # one run of every tc, shared by the four tuning calls
    chart = trend_chart(funds, grid=grid)
    split = split_sample(funds, grid=grid)
    try:
        progressive = progressive_tune(funds, window=PROGRESSIVE_WINDOW, step=PROGRESSIVE_STEP, grid=grid)
    except ParameterError as exc:
        progressive = None
        progressive_note = str(exc)
    else:
        progressive_note = ""
    fwpt_note = ""
    try:
        walk = fwpt(funds, born_on=born_on, retune_days=int(settings["RetuneDays"]), grid=grid)
    except ParameterError as exc:
        if born_on is not None:  # the user's date: an error naming the cell
            raise XlsectorError(f"{settings.where('BornOn')} (BornOn): {exc}") from None
        walk, fwpt_note = None, str(exc)  # too little data for the default born-on: the sheet says why
    if walk is None:
        next_date, how = None, f"FWPT not possible: {fwpt_note}"
    else:
        next_date, how = next_retune(walk, chart_dates(walk, funds), int(settings["RetuneDays"]), params["schedule"])
    return {
        "tcs": tcs,
        "chart": chart,
        "split": split,
        "progressive": progressive,
        "progressive_note": progressive_note,
        "fwpt": walk,
        "fwpt_note": fwpt_note,
        "fwpt_metrics": None if walk is None else walk.metrics(),
        "next_retune": next_date,
        "next_retune_note": how,
        "born_on_setting": born_on,
    }


def chart_dates(walk: Any, funds: pd.DataFrame) -> pd.DatetimeIndex:
    """The backtest period's dates as far as FWPT saw them (its out-of-sample days end on the last date)."""
    return walk.returns.index


# -------------------------------------------------------------------------------------------- momentum

#: The shipped experiments the Momentum sheet adapts: without VIX / with VIX (SPEC section 3).
MOMENTUM_EXPERIMENT = "sample_four_phase"
MOMENTUM_EXPERIMENT_VIX = "four_phase_study"
#: Market days before the first momentum run can report (longest SMA filter of the grids, 250).
MOMENTUM_WARMUP = 250


def momentum(inputs: Inputs, settings: Settings) -> dict[str, Any]:
    """The four-phase momentum experiment on the workbook's funds and benchmark.

    With a VIX column (setting VixTicker) the shipped ``four_phase_study`` is run (phase 2: VIX-scaled
    leverage, ``base x 30 / max(VIX, 15)``); without one the shipped ``sample_four_phase`` (phase 2:
    fixed leverage 1.0-2.0, which is the same formula with the VIX held at 30). In both, the base
    profile's funds and benchmark are replaced by the workbook's Funds and Benchmark (or MarketIndex).
    ``select_until`` is kept when it lies inside the data period, else moved to the period's middle.
    """
    import dataclasses

    from xlsector.errors import ParameterError
    from xlsector.profiles import load_experiment, run_experiment

    has_vix = inputs.vix is not None and inputs.vix.notna().any()
    name = MOMENTUM_EXPERIMENT_VIX if has_vix else MOMENTUM_EXPERIMENT
    experiment = load_experiment(name)
    bench_name = settings["Benchmark"] or settings["MarketIndex"]
    funds = tuple(str(c) for c in inputs.funds.columns)
    base = dataclasses.replace(experiment.base, funds=funds, benchmark=bench_name, vix=None, index=None,
                               bear=None, start=None, end=None)
    dates = inputs.table.index
    select = experiment.select_until
    moved = ""
    lo, hi = dates[0] + pd.DateOffset(years=5), dates[-1] - pd.DateOffset(years=2)
    if select is None or not (lo <= pd.Timestamp(select) <= hi):
        warm = min(len(dates) - 1, MOMENTUM_WARMUP)  # the longest lookback / moving average of the grids
        middle = dates[warm + (len(dates) - warm) // 2]
        moved = (f" (the file's {select} is not inside the data with 5 years before and 2 after it; moved to the "
                 "middle of the days after the warm-up)") if select else ""
        select = f"{middle:%Y-%m-%d}"
    experiment = dataclasses.replace(experiment, base=base, select_until=select, start=None, end=None)
    table = inputs.table[[*funds, bench_name]] if bench_name not in funds else inputs.table[list(funds)]
    try:
        result = run_experiment(experiment, table, vix=inputs.vix if has_vix else None)
    except ParameterError as exc:  # too few days for the lookbacks, moving averages or the selection period
        return {"error": f"experiment '{name}' cannot run on this data ({len(dates)} days): "
                         f"{type(exc).__name__}: {exc}"}
    return {"result": result, "has_vix": has_vix, "experiment": name, "select_until": select,
            "select_note": moved, "benchmark": bench_name}
