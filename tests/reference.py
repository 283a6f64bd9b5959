"""Slow, obvious implementations of the core's path-dependent rules, written from SPEC §1–2 and the
docstring of :mod:`xlsector.backtesting` without sharing code with the fast kernels. Tests compare the fast
paths against these."""

from __future__ import annotations

import math

import pandas as pd


def trends(prices: pd.DataFrame, tc: float, k: float) -> pd.DataFrame:
    """EMA2 of k × daily return, each column from its own first price, one day and one fund at a time."""
    a = 1.0 / tc
    out = {}
    for name in prices.columns:
        column = prices[name].tolist()
        ema = ema2 = 0.0
        last_price = None
        values = []
        for price in column:
            if last_price is None and math.isnan(price):  # before the first price
                values.append(float("nan"))
                continue
            if math.isnan(price):  # after the last price (or in a gap): no move
                daily = 0.0
            else:
                daily = 0.0 if last_price is None else price / last_price - 1.0
                last_price = price
            ema = a * k * daily + (1 - a) * ema
            ema2 = a * ema + (1 - a) * ema2
            values.append(ema2)
        out[name] = values
    return pd.DataFrame(out, index=prices.index)


def is_period_end(dates: list[pd.Timestamp], i: int, period: str) -> bool:
    """Last market day of its week/month: the next row (or, for the last row, the next market day of the data's
    calendar, xlsector.calendar: NYSE sessions or weekdays) is in a later period."""
    from xlsector.calendar import market_days

    day = dates[i]
    if i + 1 < len(dates):
        following = dates[i + 1]
    else:
        following = pd.Timestamp(market_days(pd.DatetimeIndex(dates)).next_day(day.to_datetime64()))
    if period == "month":
        return (following.year, following.month) > (day.year, day.month)
    return following.to_period("W-SUN") != day.to_period("W-SUN")


def rotation(
    prices: pd.DataFrame,
    *,
    tc: float,
    k: float = 22.0,
    hysteresis: float = 0.01,
    decay: float | None = None,
    schedule: str = "daily",
    min_hold: int = 0,
    delay: int = 1,
    cost_bp: float = 10.0,
    min_history: int = 22,
    index: pd.Series | None = None,
    stormguard: str | None = None,
    shift: float = 0.005,
    bear: pd.DataFrame | None = None,
    cash: pd.Series | None = None,
):
    """Holdings (names), net returns and switch count (trades after the initial buy) over the backtest
    period, by the book."""
    decay = tc if decay is None else decay
    universe = list(prices.columns)
    bear_names = [] if bear is None else list(bear.columns)
    everything = prices if bear is None else pd.concat([prices, bear], axis=1)
    trend = trends(everything, tc, k)
    dates = list(prices.index)
    n = len(dates)
    first = {f: everything[f].first_valid_index() for f in everything.columns}
    last = {f: everything[f].last_valid_index() for f in everything.columns}
    position = {d: i for i, d in enumerate(dates)}

    def eligible(f: str, i: int) -> bool:
        if first[f] is None:
            return False
        return position[first[f]] + min_history <= i <= position[last[f]]

    def daily_return(asset: str, i: int) -> float:
        if asset == "CASH":
            return 0.0 if cash is None else cash.iloc[i]
        price, before = everything[asset].iloc[i], everything[asset].iloc[i - 1]
        if math.isnan(price) or math.isnan(before):
            # a gap: the move since the last known price lands on the next price
            if math.isnan(price):
                return 0.0
            j = i - 1
            while math.isnan(everything[asset].iloc[j]):
                j -= 1
                if j < 0:
                    return 0.0
            return price / everything[asset].iloc[j] - 1.0
        return price / before - 1.0

    need = min(2, len(universe))
    start = next(i for i in range(n) if sum(eligible(f, i) for f in universe) >= need)

    bull_state = [True] * n
    if stormguard:
        sg = trends(index.to_frame(), 50.0, k).iloc[:, 0].fillna(0.0).tolist()
        state = True
        for i in range(n):
            if state and sg[i] < -shift:
                state = False
            elif not state and sg[i] > shift:
                state = True
            bull_state[i] = state

    holdings, returns = [], []
    held = target = "CASH"
    scheduled: dict[int, str] = {}
    bonus_at = None  # day of the last trade decision (bonus = h·exp(−age/decay))
    last_trade = -10**9
    bull = True
    trades = 0
    for i in range(start, n):
        r = 0.0
        if i > start:
            if i in scheduled:
                held = scheduled.pop(i)
                r = (1 + daily_return(held, i)) * (1 - cost_bp / 1e4) - 1
                trades += 1
            else:
                r = daily_return(held, i)
        holdings.append(held)
        returns.append(r)
        change = i == start
        if not stormguard:
            bull = True
        elif i == start:
            bull = bull_state[i]
        elif bull_state[i] != bull:
            if stormguard == "standard" and is_period_end(dates, i, "month"):
                bull, change = bull_state[i], True
            if stormguard == "quick" and i - last_trade >= 15:
                bull, change = bull_state[i], True
        decide = schedule == "daily" or is_period_end(dates, i, schedule)
        if not (change or decide):
            continue
        pool = universe if bull else bear_names
        candidates = [f for f in pool if eligible(f, i)]
        if not candidates:
            new = "CASH"
        else:
            best = candidates[0]
            for f in candidates[1:]:
                if trend[f].iloc[i] > trend[best].iloc[i]:
                    best = f
            new = target
            if change or target not in candidates:
                new = best
            else:
                bonus = hysteresis * math.exp(-(i - bonus_at) / decay) if bonus_at is not None else 0.0
                if trend[best].iloc[i] > trend[target].iloc[i] + bonus and i - last_trade >= min_hold:
                    new = best
        if new != target:
            target = new
            last_trade = i
            bonus_at = i if new != "CASH" else None
            scheduled[i + delay + 1] = new
    index_ = pd.Index(dates[start:])
    return pd.Series(holdings, index=index_), pd.Series(returns, index=index_), max(trades - 1, 0)
