"""Path-dependent kernels: the EMA recurrence and the rotation with hysteresis and StormGuard.

The rotation, in three twins that must give the same paths (the tests check them against each other and
against the slow loop of tests/reference.py):

* the lane kernel (:func:`_rotate_lanes`): trend constants as SIMD lanes, one day at a time, for a grid;
  compiled with numba, it runs a block of lanes per core (Python threads: the kernel releases the GIL)
  and, on one thread, the FWPT walk on the fly (:class:`Walk`);
* the one-tc kernel (:func:`_rotate_single`): the same rules with scalar state, for a single backtest
  and grids of up to :data:`SINGLE_MAX_TCS` trend constants (a lane loop that short costs more in
  overhead than its work);
* the numpy fallback (:func:`rotate_numpy`) for runtimes without numba (xlwings Lite runs Pyodide),
  vectorised over trend constants; :func:`rotate_python` runs the two compiled loops as plain Python.

Both compiled kernels specialise the common case at run time rather than dropping features: on days
when every fund is inside its eligibility window and StormGuard is off, a lane's decision is one
comparison; eligibility windows, StormGuard (standard and quick), the bear universe, schedules, min
hold, delay, costs and the cash rate take the general path on the days they matter.

Set ``XLSECTOR_NO_NUMBA=1`` to force the fallback. Compiled code is kept on disk (numba's cache): see
"compiled kernels" below for what a fresh process pays and what the first run after install says.

The rotation semantics are documented in :mod:`xlsector.backtesting`; in short, for every trend constant:
trends update on day t's return; the holding earns day t's return (a newly entered holding pays the cost
on its first day); then, at day t's close, the decision: StormGuard state, rotation with hysteresis,
and the new target is scheduled to be held from day ``t + delay + 1``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

PARALLEL_MIN_TCS = 16  # fewer trend constants run on one thread
SINGLE_MAX_TCS = 10  # up to this many trend constants run one at a time (crossover ~12: bench_kernels.py)


def _import_numba():
    """Import numba without the scipy import it does only to check scipy's version (0.01-0.05 s where
    scipy is installed); scipy stays importable afterwards."""
    block = "scipy" not in sys.modules
    if block:
        sys.modules["scipy"] = None  # makes `import scipy` raise ImportError
    try:
        import numba
    finally:
        if block and sys.modules.get("scipy", 0) is None:
            del sys.modules["scipy"]
    return numba


try:  # pragma: no cover - exercised by whichever runtime runs the tests
    if os.environ.get("XLSECTOR_NO_NUMBA", "") not in ("", "0"):
        raise ImportError("numba disabled by XLSECTOR_NO_NUMBA")
    numba = _import_numba()
    HAVE_NUMBA = True
except ImportError:
    numba = None
    HAVE_NUMBA = False


# --------------------------------------------------------------------------------------------- EMA

def _ema_loop(scaled: np.ndarray, a: float, e1: np.ndarray, e2: np.ndarray) -> None:  # pragma: no cover
    """EMA and EMA2 along axis 0 of ``scaled`` (= a·k·returns, NaN-free), written into e1 and e2."""
    keep = 1.0 - a
    for j in range(scaled.shape[1]):
        s1 = 0.0
        s2 = 0.0
        for n in range(scaled.shape[0]):
            s1 = scaled[n, j] + keep * s1
            s2 = a * s1 + keep * s2
            e1[n, j] = s1
            e2[n, j] = s2


def _ema_numpy(scaled: np.ndarray, a: float, e1: np.ndarray, e2: np.ndarray) -> None:
    keep = 1.0 - a
    s1 = np.zeros(scaled.shape[1])
    s2 = np.zeros(scaled.shape[1])
    for n in range(scaled.shape[0]):
        s1 = scaled[n] + keep * s1
        s2 = a * s1 + keep * s2
        e1[n] = s1
        e2[n] = s2


# ---------------------------------------------------------------------------------------- rotation

class RotationSetup(NamedTuple):
    """Everything the rotation kernel reads besides the trend constants: built in one place
    (:func:`xlsector.backtesting.prepare`), passed as one record to every implementation."""

    returns: np.ndarray  # funds × days float64, NaN-free (fund-major: the layout pandas keeps a frame in)
    cash: np.ndarray  # days float64: the return of cash (the asset after the funds)
    opens: np.ndarray  # funds int64: fund j may be picked on days opens[j] <= t < closes[j] ...
    closes: np.ndarray  # ... (a window per fund instead of a days × funds table: see _rotate_lanes)
    n_bull: int  # funds 0..n_bull-1 are the bull universe, n_bull.. the bear universe
    k: float  # trend scale
    hysteresis: float  # bonus of the fund just switched into, trend units
    decision: np.ndarray  # days bool: rotation decision days
    month_end: np.ndarray  # days bool: month ends (standard StormGuard)
    sg_bull: np.ndarray  # days bool: StormGuard's raw bull state
    sg_mode: int  # 0 off, 1 standard, 2 quick
    aqr_days: int  # quick StormGuard: minimum age of the last trade
    min_hold: int  # market days before the rotation may leave a fund
    delay: int  # 0 or 1
    cost: float  # fraction of the traded value per trade
    start: int  # row of the first day of the backtest period


class RotationPaths(NamedTuple):
    """What the kernels return for n trend constants over the period's days (day-major: row i is day
    start + i, column m is tcs[m], so that the compiled kernel writes each day's row contiguously)."""

    holdings: np.ndarray  # days × n int16: the asset earning each day's return
    net: np.ndarray  # days × n float64: net daily returns (0 on the first day)
    switches: np.ndarray  # n int64: trades after the initial buy
    last_targets: np.ndarray  # n × 2 int16: target decided at the last close, and at the close before it
    growth: np.ndarray  # n float64: growth of 1 over the period (sequential product of 1 + net, days 1..)
    drawdown: np.ndarray  # n float64: maximum drawdown (<= 0) of that growth path, from a peak of 1

    def targets(self, delay: int) -> np.ndarray:
        """The target decided at each day's close (days × n): the holding ``delay + 1`` days later, and
        the kernel's record for the last ``delay + 1`` closes (whose holdings lie past the data)."""
        n_days = self.holdings.shape[0]
        out = np.empty_like(self.holdings)
        lag = delay + 1
        out[: max(n_days - lag, 0)] = self.holdings[lag:]
        for back in range(min(lag, n_days)):  # back 0 = the last close
            out[n_days - 1 - back] = self.last_targets[:, back]
        return out


def asset_returns(setup: RotationSetup, start: int = 0) -> np.ndarray:
    """Day-major returns of every asset (funds, then cash) from day ``start`` on: days × assets."""
    out = np.empty((setup.returns.shape[1] - start, setup.returns.shape[0] + 1))
    out[:, :-1] = setup.returns[:, start:].T
    out[:, -1] = setup.cash[start:]
    return out


def _outputs(n_tcs: int, n_days: int) -> RotationPaths:
    return RotationPaths(np.empty((n_days, n_tcs), np.int16), np.empty((n_days, n_tcs)), np.zeros(n_tcs, np.int64),
                         np.full((n_tcs, 2), -1, np.int16), np.ones(n_tcs), np.zeros(n_tcs))


class Walk(NamedTuple):
    """The FWPT selection walk to run inside the lane kernel (see :func:`xlsector.tuning.fwpt`), and its
    outputs; it needs every trend constant in one pass, so only the one-thread lane path runs it."""

    t0: int  # the born-on day (row of the period), -1: no walk
    retune_days: int
    defer: bool
    active: np.ndarray  # days int64: tc column in force after each day's close
    events: np.ndarray  # 3 × days int64: day, best column, kind (0 initial, 1 kept, 2 adopted, 3 deferred)
    n_events: np.ndarray  # [number of events], -1 until the walk has run
    hold: np.ndarray  # days int64: the walk-forward holding of each day from t0 on (that of the tc in force
    # at the close delay + 1 days before, or at t0)
    net: np.ndarray  # days float64: its net return from t0 on (0 on t0; a change of holding pays the cost)

    @classmethod
    def new(cls, t0: int, retune_days: int, defer: bool, n_days: int) -> Walk:
        return cls(int(t0), int(retune_days), bool(defer), np.zeros(n_days, np.int64),
                   np.zeros((3, n_days), np.int64), np.full(1, -1, np.int64), np.zeros(n_days, np.int64),
                   np.zeros(n_days))


NO_WALK = Walk.new(-1, 1, False, 0)


def _rotate_lanes(setup, tcs, decays, m0, m1, out, walk):  # pragma: no cover - compiled
    """Trend constants tcs[m0:m1] as lanes, one day at a time (see the module docstring for the order of
    events); writes columns m0:m1 of the day-major outputs.

    Written for the compiler: every per-day loop over lanes is a plain loop over contiguous arrays (it
    vectorises), the rare events are kept out of them (a trade is applied from a short list on the day it
    is due; the first fund with the top trend is searched only when the top calls for a trade), and the
    eligibility windows are tested per fund and day (a scalar branch, the same for every lane) and only
    on days when some fund is outside its window. On days when every fund may be picked and StormGuard is
    off (most days of most runs) a lane's decision is one comparison.

    ``walk`` (when ``walk.t0 >= 0``, with every tc in this one call) runs the FWPT selection walk on the
    fly, at the end of each day, from the growth of 1 the kernel carries (as ``tuning._fwpt_walk_loop``
    does from the paths afterwards).
    """
    holdings, net, switches, last_targets, growth, drawdown = out
    returns, cash_returns, opens, closes, n_bull = setup.returns, setup.cash, setup.opens, setup.closes, setup.n_bull
    k, hysteresis, decision, month_end, sg_bull = setup.k, setup.hysteresis, setup.decision, setup.month_end, setup.sg_bull
    sg_mode, aqr_days, min_hold, delay = setup.sg_mode, setup.aqr_days, setup.min_hold, setup.delay
    cost, start = setup.cost, setup.start
    n_funds, n_days = returns.shape
    n_assets = n_funds + 1
    cash = n_funds
    n = m1 - m0
    row = np.empty(n_assets)  # day t's return of every asset
    a = np.empty(n)
    keep = np.empty(n)
    ak = np.empty(n)
    fade = np.empty(n)
    for lane in range(n):
        a[lane] = 1.0 / tcs[m0 + lane]
        keep[lane] = 1.0 - a[lane]
        ak[lane] = a[lane] * k
        fade[lane] = math.exp(-1.0 / decays[m0 + lane])
    s1 = np.zeros((n_funds, n))
    s2 = np.zeros((n_funds, n))
    top_bull = np.empty(n)  # best trend among the eligible bull funds
    top_bear = np.empty(n)  # ... bear funds
    held = np.full(n, cash, np.int64)
    target = np.full(n, cash, np.int64)
    bonus = np.zeros(n)
    last_trade = np.full(n, -(1 << 30), np.int64)
    trades = np.zeros(n, np.int64)
    bull = np.ones(n, np.bool_)
    flipped = np.zeros(n, np.bool_)
    # trades decided at a close and due on day t wait in slot t % 2 (delay <= 1: at most two days ahead)
    due_lane = np.empty((2, n), np.int64)
    due_asset = np.empty((2, n), np.int64)
    n_due = np.zeros(2, np.int64)
    peak = np.ones(n)
    worst = np.zeros(n)
    g = np.ones(n)
    # days on which every fund (bull and bear) is inside its window: no eligibility test needed
    all_from = 0
    all_until = n_days
    for j in range(n_funds):
        all_from = max(all_from, opens[j])
        all_until = min(all_until, closes[j])
    keep_cost = 1.0 - cost
    current = 0  # the walk's tc column in force
    retune_due = False
    last_retune = walk.t0
    n_events = 0
    for t in range(n_days + 1):
        d = t - 1 - start
        if walk.t0 >= 0 and d >= walk.t0:  # ---- FWPT walk at the close of day t - 1, all its decisions made
            check = d == walk.t0
            if d > walk.t0:
                if not retune_due and d - last_retune >= walk.retune_days:
                    retune_due = True
                check = retune_due and decision[t - 1]
            if check:
                best = 0  # the first tc with the top score log(growth) (ties to the smallest tc)
                score = np.log(g[0])
                for lane in range(1, n):
                    value = np.log(g[lane])
                    if value > score:
                        score = value
                        best = lane
                if d == walk.t0:
                    current = best
                    walk.active[:d] = best
                    kind = 0
                elif best == current:
                    kind = 1
                elif not walk.defer or target[best] == target[current]:
                    kind = 2
                else:
                    kind = 3
                if kind == 2:
                    current = best
                if kind == 1 or kind == 2:
                    retune_due = False
                    last_retune = d
                walk.events[0, n_events] = d
                walk.events[1, n_events] = best
                walk.events[2, n_events] = kind
                n_events += 1
            walk.active[d] = current
            # the walk-forward path: day d's holding of the tc in force at the close delay + 1 days before
            # (row[] still holds day d's returns)
            h = holdings[d, walk.active[max(d - delay - 1, walk.t0)]]
            walk.hold[d] = h
            if d == walk.t0:
                walk.net[d] = 0.0
            elif h != walk.hold[d - 1]:
                walk.net[d] = (1.0 + row[h]) * keep_cost - 1.0
            else:
                walk.net[d] = row[h]
        if t == n_days:
            break
        for j in range(n_funds):
            x = returns[j, t]
            row[j] = x
            for lane in range(n):
                e = ak[lane] * x + keep[lane] * s1[j, lane]
                s1[j, lane] = e
                s2[j, lane] = a[lane] * e + keep[lane] * s2[j, lane]
        if t < start:
            continue
        i = t - start
        if t == n_days - 1:  # the target decided at the close before the last
            for lane in range(n):
                last_targets[m0 + lane, 1] = target[lane]
        row[cash] = cash_returns[t]
        for lane in range(n):  # ---- holding: day t's return of what is held
            h = held[lane]
            net[i, m0 + lane] = row[h]
            holdings[i, m0 + lane] = h
            bonus[lane] *= fade[lane]
        slot = t & 1
        for q in range(n_due[slot]):  # a new holding pays the cost on its first day
            lane = due_lane[slot, q]
            h = due_asset[slot, q]
            held[lane] = h
            holdings[i, m0 + lane] = h
            net[i, m0 + lane] = (1.0 + row[h]) * keep_cost - 1.0
            trades[lane] += 1
        n_due[slot] = 0
        if i == 0:  # the first day of the period is the start point: return 0
            for lane in range(n):
                net[i, m0 + lane] = 0.0
        else:
            for lane in range(n):  # growth of 1 and its drawdown (as measures.max_drawdown)
                g[lane] = g[lane] * (1.0 + net[i, m0 + lane])
                peak[lane] = max(peak[lane], g[lane])
                worst[lane] = min(worst[lane], g[lane] / peak[lane] - 1.0)
        # ---- decision at day t's close: StormGuard's state, then the rotation
        any_flip = False
        if sg_mode != 0:
            if t == start:
                for lane in range(n):
                    bull[lane] = sg_bull[t]
            elif sg_mode == 1:
                if month_end[t]:
                    for lane in range(n):
                        flipped[lane] = bull[lane] != sg_bull[t]
                        bull[lane] = sg_bull[t]
                        any_flip = any_flip or flipped[lane]
            else:
                for lane in range(n):
                    flipped[lane] = bull[lane] != sg_bull[t] and t - last_trade[lane] >= aqr_days
                    if flipped[lane]:
                        bull[lane] = sg_bull[t]
                        any_flip = True
        if not (decision[t] or t == start or any_flip):
            continue  # (the walk step of this day runs at the top of the next iteration)
        every = all_from <= t < all_until
        has_bull = False
        for j in range(n_bull):
            if every or opens[j] <= t < closes[j]:
                if has_bull:
                    for lane in range(n):
                        top_bull[lane] = max(top_bull[lane], s2[j, lane])
                else:
                    has_bull = True
                    for lane in range(n):
                        top_bull[lane] = s2[j, lane]
        has_bear = False
        if sg_mode != 0:
            for j in range(n_bull, n_funds):
                if every or opens[j] <= t < closes[j]:
                    if has_bear:
                        for lane in range(n):
                            top_bear[lane] = max(top_bear[lane], s2[j, lane])
                    else:
                        has_bear = True
                        for lane in range(n):
                            top_bear[lane] = s2[j, lane]
        quick = every and sg_mode == 0 and t != start and has_bull
        for lane in range(n):
            tg = target[lane]
            if quick:  # the common case: only the bull universe, all eligible, no regime change
                top = top_bull[lane]
                if tg != cash and not (top > s2[tg, lane] + bonus[lane] and t - last_trade[lane] >= min_hold):
                    continue
                new = 0
                while s2[new, lane] != top:  # the first fund with the top trend
                    new += 1
            else:
                change = t == start or (any_flip and flipped[lane])
                if not (change or decision[t]):
                    continue
                in_bull = bull[lane]
                lo = 0 if in_bull else n_bull
                hi = n_bull if in_bull else n_funds
                top = top_bull[lane] if in_bull else top_bear[lane]
                new = tg
                if not (has_bull if in_bull else has_bear):
                    new = cash
                elif (change or tg == cash or tg < lo or tg >= hi or not (opens[tg] <= t < closes[tg])
                      or (top > s2[tg, lane] + bonus[lane] and t - last_trade[lane] >= min_hold)):
                    for j in range(lo, hi):  # the first eligible fund with the top trend
                        if (every or opens[j] <= t < closes[j]) and s2[j, lane] == top:
                            new = j
                            break
            if new != tg:
                target[lane] = new
                last_trade[lane] = t
                bonus[lane] = hysteresis if new != cash else 0.0
                due = (t + delay + 1) & 1
                due_lane[due, n_due[due]] = lane
                due_asset[due, n_due[due]] = new
                n_due[due] += 1
    for lane in range(n):
        switches[m0 + lane] = max(trades[lane] - 1, 0)  # the first trade is the initial buy, not a switch
        last_targets[m0 + lane, 0] = target[lane]
        growth[m0 + lane] = g[lane]
        drawdown[m0 + lane] = worst[lane]
    if walk.t0 >= 0:
        walk.n_events[0] = n_events


def _rotate_single(setup, tcs, decays, m, out):  # pragma: no cover - compiled
    """:func:`_rotate_lanes` for the one trend constant tcs[m] (column m), with scalar state: a lane loop
    of length one costs more in loop overhead than the work it does, and a single backtest is what
    every pick and backtest call runs."""
    holdings, net, switches, last_targets, growth, drawdown = out
    returns, cash_returns, opens, closes, n_bull = setup.returns, setup.cash, setup.opens, setup.closes, setup.n_bull
    k, hysteresis, decision, month_end, sg_bull = setup.k, setup.hysteresis, setup.decision, setup.month_end, setup.sg_bull
    sg_mode, aqr_days, min_hold, delay = setup.sg_mode, setup.aqr_days, setup.min_hold, setup.delay
    cost, start = setup.cost, setup.start
    n_funds, n_days = returns.shape
    cash = n_funds
    a = 1.0 / tcs[m]
    keep = 1.0 - a
    ak = a * k
    fade = math.exp(-1.0 / decays[m])
    s1 = np.zeros(n_funds)
    s2 = np.zeros(n_funds)
    held = cash
    target = cash
    bonus = 0.0
    last_trade = -(1 << 30)
    trades = 0
    bull = True
    due = np.full(2, -1, np.int64)  # the asset due on day t, in slot t % 2 (-1: none)
    g = 1.0
    peak = 1.0
    worst = 0.0
    all_from = 0
    all_until = n_days
    for j in range(n_funds):
        all_from = max(all_from, opens[j])
        all_until = min(all_until, closes[j])
    keep_cost = 1.0 - cost
    for t in range(n_days):
        for j in range(n_funds):
            e = ak * returns[j, t] + keep * s1[j]
            s1[j] = e
            s2[j] = a * e + keep * s2[j]
        if t < start:
            continue
        i = t - start
        if t == n_days - 1:
            last_targets[m, 1] = target
        r = returns[held, t] if held != cash else cash_returns[t]
        bonus *= fade
        slot = t & 1
        if due[slot] >= 0:
            held = due[slot]
            r = (1.0 + (returns[held, t] if held != cash else cash_returns[t])) * keep_cost - 1.0
            trades += 1
            due[slot] = -1
        if i == 0:
            r = 0.0
        holdings[i, m] = held
        net[i, m] = r
        if i > 0:  # (comparisons, not max()/min(): numba calls those out of line on scalars)
            g = g * (1.0 + r)
            if g > peak:  # noqa: PLR1730
                peak = g
            fall = g / peak - 1.0
            if fall < worst:  # noqa: PLR1730
                worst = fall
        change = t == start
        if sg_mode != 0:
            if t == start:
                bull = sg_bull[t]
            elif sg_bull[t] != bull and ((sg_mode == 1 and month_end[t]) or (sg_mode == 2 and t - last_trade >= aqr_days)):
                bull = sg_bull[t]
                change = True
        if not (decision[t] or change):
            continue
        every = all_from <= t < all_until
        lo = 0 if bull else n_bull
        hi = n_bull if bull else n_funds
        if every and not change and lo == 0 and target < hi:
            # the common case (a bull-universe fund held, every fund eligible): trade only if some fund's
            # trend beats the target's plus its bonus (well predicted branches; the top itself is needed
            # only on the rare day that calls for a trade)
            bar = s2[target] + bonus
            beaten = False
            for j in range(hi):
                if s2[j] > bar:
                    beaten = True
                    break
            if not beaten or t - last_trade < min_hold:
                continue
        best = -1  # the first eligible fund with the top trend
        top = 0.0
        for j in range(lo, hi):
            if (every or opens[j] <= t < closes[j]) and (best < 0 or s2[j] > top):
                top = s2[j]
                best = j
        new = target
        if best < 0:
            new = cash
        elif (change or target == cash or target < lo or target >= hi or not (opens[target] <= t < closes[target])
              or (top > s2[target] + bonus and t - last_trade >= min_hold)):
            new = best
        if new != target:
            target = new
            last_trade = t
            bonus = hysteresis if new != cash else 0.0
            due[(t + delay + 1) & 1] = new
    switches[m] = max(trades - 1, 0)  # the first trade is the initial buy, not a switch
    last_targets[m, 0] = target
    growth[m] = g
    drawdown[m] = worst


def rotate_python(setup: RotationSetup, tcs: np.ndarray, decays: np.ndarray, *, chunks: int = 1,
                  single: bool = False, walk: Walk = NO_WALK) -> RotationPaths:
    """The compiled loops run as plain Python (slow): the lane kernel over ``chunks`` blocks of lanes as
    the threaded compiled path splits them (``walk`` needs one chunk), or (``single``) the one-tc kernel for
    each tc. The tests check the compiled and numpy paths against it."""
    out = _outputs(len(tcs), setup.returns.shape[1] - setup.start)
    if single:
        for m in range(len(tcs)):
            _rotate_single(setup, tcs, decays, m, out)
    else:
        for c in range(chunks):
            _rotate_lanes(setup, tcs, decays, c * len(tcs) // chunks, (c + 1) * len(tcs) // chunks, out,
                          walk if chunks == 1 else NO_WALK)
    return out


def rotate_numpy(setup: RotationSetup, tcs: np.ndarray, decays: np.ndarray, walk: Walk = NO_WALK) -> RotationPaths:
    """The same rotation, one day at a time, vectorised over trend constants (numba-free fallback). It
    does not run ``walk`` (``walk.n_events`` stays -1: the caller walks the paths afterwards)."""
    opens, closes, n_bull, k = setup.opens, setup.closes, setup.n_bull, setup.k
    hysteresis, decision, month_end, sg_bull = setup.hysteresis, setup.decision, setup.month_end, setup.sg_bull
    sg_mode, aqr_days, min_hold, delay = setup.sg_mode, setup.aqr_days, setup.min_hold, setup.delay
    cost, start = setup.cost, setup.start
    returns = asset_returns(setup)
    n_days, n_assets = returns.shape
    n_funds = n_assets - 1
    cash = n_assets - 1
    n_tcs = len(tcs)
    holdings, net, switches, last_targets, growth, _ = _outputs(n_tcs, n_days - start)
    a = (1.0 / tcs)[:, None]
    keep = 1.0 - a
    ak = a * k
    fade = np.exp(-1.0 / decays)
    s1 = np.zeros((n_tcs, n_funds))
    s2 = np.zeros((n_tcs, n_funds))
    no_target = -1
    scheduled = np.full((n_days + 2, n_tcs), no_target, np.int64)
    rows = np.arange(n_tcs)
    held = np.full(n_tcs, cash)
    target = np.full(n_tcs, cash)
    bonus = np.zeros(n_tcs)
    last_trade = np.full(n_tcs, -(1 << 30))
    bull = np.ones(n_tcs, bool)
    peak = np.ones(n_tcs)
    worst = np.zeros(n_tcs)
    fund_ids = np.arange(n_funds)
    for t in range(n_days):
        s1 = ak * returns[t, :n_funds] + keep * s1
        s2 = a * s1 + keep * s2
        if t < start:
            continue
        i = t - start
        if t == n_days - 1:
            last_targets[:, 1] = target
        r = np.zeros(n_tcs)
        if t > start:
            r = returns[t, held]
            due = scheduled[t] != no_target
            held = np.where(due, scheduled[t], held)
            r = np.where(due, (1.0 + returns[t, held]) * (1.0 - cost) - 1.0, r)
            switches += due
        holdings[i] = held
        net[i] = r
        if i > 0:
            growth = growth * (1.0 + r)
            peak = np.maximum(peak, growth)
            worst = np.minimum(worst, growth / peak - 1.0)
        bonus *= fade
        regime_change = np.full(n_tcs, t == start)
        if sg_mode == 0:
            bull[:] = True
        elif t == start:
            bull[:] = sg_bull[t]
        else:
            flip = bull != sg_bull[t]
            if sg_mode == 1:
                flip &= bool(month_end[t])
            else:
                flip &= t - last_trade >= aqr_days
            bull = np.where(flip, sg_bull[t], bull)
            regime_change |= flip
        if not (regime_change.any() or decision[t]):
            continue
        eligible = (opens <= t) & (t < closes)
        acting = regime_change | bool(decision[t])
        lo = np.where(bull, 0, n_bull)[:, None]
        hi = np.where(bull, n_bull, n_funds)[:, None]
        allowed = eligible[None, :] & (fund_ids >= lo) & (fund_ids < hi)
        score = np.where(allowed, s2, -np.inf)
        best = np.argmax(score, axis=1)  # first maximum, as the loop's search
        none = ~allowed.any(axis=1)
        safe_target = np.minimum(target, n_funds - 1)
        target_ok = (target != cash) & (target >= lo[:, 0]) & (target < hi[:, 0]) & eligible[safe_target]
        beats = (best != target) & (s2[rows, best] > s2[rows, safe_target] + bonus) & (t - last_trade >= min_hold)
        new = np.where(none, cash, np.where(regime_change | ~target_ok | beats, best, target))
        trade = acting & (new != target)
        target = np.where(trade, new, target)
        last_trade = np.where(trade, t, last_trade)
        bonus = np.where(trade, np.where(new != cash, hysteresis, 0.0), bonus)
        scheduled[t + delay + 1] = np.where(trade, new, no_target)
    np.maximum(switches - 1, 0, out=switches)  # the first trade is the initial buy, not a switch
    last_targets[:, 0] = target
    return RotationPaths(holdings, net, switches, last_targets, growth, worst)


# --------------------------------------------------------------------------------- sweep: shared trends
#
# A sweep (xlsector.sweep) runs the same strategy over many combinations of funds out of one universe of
# candidates. A fund's trend for a tc does not depend on the other funds, so the sweep kernel runs a batch of
# combinations in lockstep, day by day: each universe fund's EMA/EMA2 for every tc is computed once a day
# (in registers and L1, as the lane kernel does) and read by every combination that holds the fund; a
# combination then costs its selection loop. Precomputing the trends into memory instead (12 funds x 199 tcs
# x 8000 days = 150 MB, 50 MB read per 4-fund combination) was measured at twice the time of recomputing them:
# the kernel is bound by memory traffic, not by the EMA's arithmetic.
#
# The sweep kernel keeps no days x tcs paths (a combination's row needs none of them): per combination it
# carries each tc's growth of 1, drawdown and switches (the trend chart), and walks FWPT on the fly (as the
# lane kernel's :class:`Walk`), keeping the walk-forward's holding and net return of each day.
#
# Twins: the compiled kernel, the same loop as plain Python (:func:`sweep_python`), and the numpy fallback
# (:func:`sweep_numpy`: per combination, the numpy rotation and the FWPT walk and stitching of
# :mod:`xlsector.tuning`). The tests check the three against each other and against xlsector.tuning.fwpt.


class SweepBatch(NamedTuple):
    """Combinations of one universe run together (the universe is a :class:`RotationSetup` whose funds are
    every candidate, then the bear funds). Combination b's assets are its ``n_bull[b]`` funds (universe rows
    ``rows[b, :n_bull[b]]``), then the bear funds (``rows[b, n_bull[b]:n_funds[b]]``), then cash: the order
    a rotation of those funds alone numbers them."""

    rows: np.ndarray  # B × F int64: universe rows of each combination's funds and bear funds (padded with 0)
    n_bull: np.ndarray  # B int64
    n_funds: np.ndarray  # B int64: bull + bear
    start: np.ndarray  # B int64: the first day of each combination's period (universe day row)
    t0: np.ndarray  # B int64: FWPT's born-on day, a row of the combination's period (>= 0)


class SweepPaths(NamedTuple):
    """What the sweep kernels return per combination b (days are rows of b's period: day 0 = start[b])."""

    growth: np.ndarray  # B × n float64: growth of 1 of each tc over the period
    drawdown: np.ndarray  # B × n float64: maximum drawdown of each tc (<= 0)
    switches: np.ndarray  # B × n int64: trades after the initial buy
    active: np.ndarray  # B × days int64: the tc column in force after each day's close (from the walk)
    events: np.ndarray  # B × 3 × days int64: FWPT's tunings: day, best column, kind (0 initial, 1 kept,
    # 2 adopted, 3 deferred)
    n_events: np.ndarray  # B int64
    hold: np.ndarray  # B × days int64: the walk-forward's holding of each day from t0 on (asset of b)
    net: np.ndarray  # B × days float64: its net return (0 on t0; a change of holding pays the cost)


def sweep_outputs(n_combos: int, n_tcs: int, n_days: int) -> SweepPaths:
    return SweepPaths(np.ones((n_combos, n_tcs)), np.zeros((n_combos, n_tcs)), np.zeros((n_combos, n_tcs), np.int64),
                      np.zeros((n_combos, n_days), np.int64), np.zeros((n_combos, 3, n_days), np.int64),
                      np.zeros(n_combos, np.int64), np.zeros((n_combos, n_days), np.int64),
                      np.zeros((n_combos, n_days)))


def combination_setup(setup: RotationSetup, batch: SweepBatch, b: int) -> RotationSetup:
    """The rotation record of combination b alone (what :func:`xlsector.backtesting.prepare` builds from its
    funds and bear funds), sliced from the universe's."""
    rows = batch.rows[b, : batch.n_funds[b]]
    return setup._replace(returns=np.ascontiguousarray(setup.returns[rows]), opens=setup.opens[rows],
                          closes=setup.closes[rows], n_bull=int(batch.n_bull[b]), start=int(batch.start[b]))


def _sweep_lanes(setup, batch, tcs, decays, retune_days, defer, out):  # pragma: no cover - compiled
    """Every combination of ``batch`` over every tc, day by day (see the section comment): the rules of
    :func:`_rotate_lanes` with ``walk`` for each combination, the trends shared."""
    growth, drawdown, switches, active, events, n_events, hold, wnet = out
    returns, cash_returns, opens, closes = setup.returns, setup.cash, setup.opens, setup.closes
    k, hysteresis, decision, month_end, sg_bull = setup.k, setup.hysteresis, setup.decision, setup.month_end, setup.sg_bull
    sg_mode, aqr_days, min_hold, delay, cost = setup.sg_mode, setup.aqr_days, setup.min_hold, setup.delay, setup.cost
    rows, n_bulls, n_funds_of, starts, t0s = batch.rows, batch.n_bull, batch.n_funds, batch.start, batch.t0
    n_universe, n_days = returns.shape
    n_combos, width = rows.shape
    n = len(tcs)
    a = np.empty(n)
    keep = np.empty(n)
    ak = np.empty(n)
    fade = np.empty(n)
    for lane in range(n):
        a[lane] = 1.0 / tcs[lane]
        keep[lane] = 1.0 - a[lane]
        ak[lane] = a[lane] * k
        fade[lane] = math.exp(-1.0 / decays[lane])
    s1 = np.zeros((n_universe, n))
    s2 = np.zeros((n_universe, n))
    row = np.empty((n_combos, width + 1))  # each combination's day returns of its assets (cash last)
    today = np.empty(n)
    top_bull = np.empty(n)
    top_bear = np.empty(n)
    flipped = np.zeros(n, np.bool_)
    held = np.empty((n_combos, n), np.int64)
    target = np.empty((n_combos, n), np.int64)
    bonus = np.zeros((n_combos, n))
    last_trade = np.full((n_combos, n), -(1 << 30), np.int64)
    trades = np.zeros((n_combos, n), np.int64)
    bull = np.ones((n_combos, n), np.bool_)
    due_lane = np.empty((n_combos, 2, n), np.int64)
    due_asset = np.empty((n_combos, 2, n), np.int64)
    n_due = np.zeros((n_combos, 2), np.int64)
    g = np.ones((n_combos, n))
    peak = np.ones((n_combos, n))
    worst = np.zeros((n_combos, n))
    all_from = np.zeros(n_combos, np.int64)
    all_until = np.full(n_combos, n_days, np.int64)
    current = np.zeros(n_combos, np.int64)
    retune_due = np.zeros(n_combos, np.bool_)
    last_retune = np.zeros(n_combos, np.int64)
    n_ev = np.zeros(n_combos, np.int64)
    for b in range(n_combos):
        for lane in range(n):
            held[b, lane] = n_funds_of[b]
            target[b, lane] = n_funds_of[b]
        for j in range(n_funds_of[b]):
            all_from[b] = max(all_from[b], opens[rows[b, j]])
            all_until[b] = min(all_until[b], closes[rows[b, j]])
        last_retune[b] = t0s[b]
    used = np.zeros(n_universe, np.bool_)  # the universe funds some combination of the batch holds
    for b in range(n_combos):
        for j in range(n_funds_of[b]):
            used[rows[b, j]] = True
    members = np.flatnonzero(used)
    keep_cost = 1.0 - cost
    for t in range(n_days + 1):
        if t < n_days:
            for u in members:  # each fund's trends, once for all the combinations that hold it
                x = returns[u, t]
                for lane in range(n):
                    e = ak[lane] * x + keep[lane] * s1[u, lane]
                    s1[u, lane] = e
                    s2[u, lane] = a[lane] * e + keep[lane] * s2[u, lane]
        for b in range(n_combos):
            start = starts[b]
            t0 = t0s[b]
            n_funds = n_funds_of[b]
            n_bull = n_bulls[b]
            cash = n_funds
            d = t - 1 - start
            if d >= t0:  # ---- FWPT walk at the close of day t - 1 (see _rotate_lanes)
                check = d == t0
                if d > t0:
                    if not retune_due[b] and d - last_retune[b] >= retune_days:
                        retune_due[b] = True
                    check = retune_due[b] and decision[t - 1]
                if check:
                    best = 0
                    score = np.log(g[b, 0])
                    for lane in range(1, n):
                        value = np.log(g[b, lane])
                        if value > score:
                            score = value
                            best = lane
                    if d == t0:
                        current[b] = best
                        for q in range(d):
                            active[b, q] = best
                        kind = 0
                    elif best == current[b]:
                        kind = 1
                    elif not defer or target[b, best] == target[b, current[b]]:
                        kind = 2
                    else:
                        kind = 3
                    if kind == 2:
                        current[b] = best
                    if kind == 1 or kind == 2:
                        retune_due[b] = False
                        last_retune[b] = d
                    events[b, 0, n_ev[b]] = d
                    events[b, 1, n_ev[b]] = best
                    events[b, 2, n_ev[b]] = kind
                    n_ev[b] += 1
                active[b, d] = current[b]
                # day d's holding of the tc in force at the close delay + 1 days before (row[b] still
                # holds day d's returns, held[b] day d's holdings)
                h = held[b, active[b, max(d - delay - 1, t0)]]
                hold[b, d] = h
                if d == t0:
                    wnet[b, d] = 0.0
                elif h != hold[b, d - 1]:
                    wnet[b, d] = (1.0 + row[b, h]) * keep_cost - 1.0
                else:
                    wnet[b, d] = row[b, h]
            if t == n_days or t < start:
                continue
            i = t - start
            for j in range(n_funds):
                row[b, j] = returns[rows[b, j], t]
            row[b, cash] = cash_returns[t]
            for lane in range(n):  # ---- holding: day t's return of what is held
                today[lane] = row[b, held[b, lane]]
                bonus[b, lane] *= fade[lane]
            slot = t & 1
            for q in range(n_due[b, slot]):  # a new holding pays the cost on its first day
                lane = due_lane[b, slot, q]
                h = due_asset[b, slot, q]
                held[b, lane] = h
                today[lane] = (1.0 + row[b, h]) * keep_cost - 1.0
                trades[b, lane] += 1
            n_due[b, slot] = 0
            if i > 0:  # (day 0 of the period is the start point: return 0)
                for lane in range(n):
                    g[b, lane] = g[b, lane] * (1.0 + today[lane])
                    peak[b, lane] = max(peak[b, lane], g[b, lane])
                    worst[b, lane] = min(worst[b, lane], g[b, lane] / peak[b, lane] - 1.0)
            # ---- decision at day t's close: StormGuard's state, then the rotation
            any_flip = False
            if sg_mode != 0:
                if t == start:
                    for lane in range(n):
                        bull[b, lane] = sg_bull[t]
                elif sg_mode == 1:
                    if month_end[t]:
                        for lane in range(n):
                            flipped[lane] = bull[b, lane] != sg_bull[t]
                            bull[b, lane] = sg_bull[t]
                            any_flip = any_flip or flipped[lane]
                else:
                    for lane in range(n):
                        flipped[lane] = bull[b, lane] != sg_bull[t] and t - last_trade[b, lane] >= aqr_days
                        if flipped[lane]:
                            bull[b, lane] = sg_bull[t]
                            any_flip = True
            if not (decision[t] or t == start or any_flip):
                continue
            every = all_from[b] <= t < all_until[b]
            has_bull = False
            for j in range(n_bull):
                u = rows[b, j]
                if every or opens[u] <= t < closes[u]:
                    if has_bull:
                        for lane in range(n):
                            top_bull[lane] = max(top_bull[lane], s2[u, lane])
                    else:
                        has_bull = True
                        for lane in range(n):
                            top_bull[lane] = s2[u, lane]
            has_bear = False
            if sg_mode != 0:
                for j in range(n_bull, n_funds):
                    u = rows[b, j]
                    if every or opens[u] <= t < closes[u]:
                        if has_bear:
                            for lane in range(n):
                                top_bear[lane] = max(top_bear[lane], s2[u, lane])
                        else:
                            has_bear = True
                            for lane in range(n):
                                top_bear[lane] = s2[u, lane]
            quick = every and sg_mode == 0 and t != start and has_bull
            for lane in range(n):
                tg = target[b, lane]
                if quick:  # the common case: only the bull universe, all eligible, no regime change
                    top = top_bull[lane]
                    if tg != cash and not (top > s2[rows[b, tg], lane] + bonus[b, lane]
                                           and t - last_trade[b, lane] >= min_hold):
                        continue
                    new = 0
                    while s2[rows[b, new], lane] != top:  # the first fund with the top trend
                        new += 1
                else:
                    change = t == start or (any_flip and flipped[lane])
                    if not (change or decision[t]):
                        continue
                    in_bull = bull[b, lane]
                    lo = 0 if in_bull else n_bull
                    hi = n_bull if in_bull else n_funds
                    top = top_bull[lane] if in_bull else top_bear[lane]
                    new = tg
                    if not (has_bull if in_bull else has_bear):
                        new = cash
                    elif (change or tg == cash or tg < lo or tg >= hi
                          or not (opens[rows[b, tg]] <= t < closes[rows[b, tg]])
                          or (top > s2[rows[b, tg], lane] + bonus[b, lane] and t - last_trade[b, lane] >= min_hold)):
                        for j in range(lo, hi):  # the first eligible fund with the top trend
                            u = rows[b, j]
                            if (every or opens[u] <= t < closes[u]) and s2[u, lane] == top:
                                new = j
                                break
                if new != tg:
                    target[b, lane] = new
                    last_trade[b, lane] = t
                    bonus[b, lane] = hysteresis if new != cash else 0.0
                    due = (t + delay + 1) & 1
                    due_lane[b, due, n_due[b, due]] = lane
                    due_asset[b, due, n_due[b, due]] = new
                    n_due[b, due] += 1
    for b in range(n_combos):
        for lane in range(n):
            switches[b, lane] = max(trades[b, lane] - 1, 0)  # the first trade is the initial buy, not a switch
            growth[b, lane] = g[b, lane]
            drawdown[b, lane] = worst[b, lane]
        n_events[b] = n_ev[b]


def sweep_python(setup: RotationSetup, batch: SweepBatch, tcs: np.ndarray, decays: np.ndarray, retune_days: int,
                 defer: bool) -> SweepPaths:
    """The compiled sweep loop run as plain Python (slow): the tests check the other twins against it."""
    out = sweep_outputs(len(batch.start), len(tcs), setup.returns.shape[1])
    _sweep_lanes(setup, batch, tcs, decays, int(retune_days), bool(defer), out)
    return out


def sweep_numpy(setup: RotationSetup, batch: SweepBatch, tcs: np.ndarray, decays: np.ndarray, retune_days: int,
                defer: bool) -> SweepPaths:
    """The sweep without sharing (numba-free twin): each combination's rotation by :func:`rotate_numpy`, then the
    FWPT walk and the stitched walk-forward path of :mod:`xlsector.tuning` over its paths."""
    from xlsector.tuning import _fwpt_walk_py, _stitch

    out = sweep_outputs(len(batch.start), len(tcs), setup.returns.shape[1])
    for b in range(len(batch.start)):
        alone = combination_setup(setup, batch, b)
        paths = rotate_numpy(alone, tcs, decays)
        n_days = paths.holdings.shape[0]
        t0 = int(batch.t0[b])
        lag = alone.delay + 1
        active, ev_day, ev_best, ev_kind, _ = _fwpt_walk_py(paths.net, paths.holdings, paths.last_targets, lag,
                                                             alone.decision[alone.start:], t0, retune_days, defer)
        governing = np.empty(n_days, np.int64)
        governing[:lag] = active[0]
        governing[lag:] = active[:-lag]
        governing[: t0 + 1] = active[t0]
        returns = asset_returns(alone, alone.start)
        returns[0] = 0.0
        stitched, net = _stitch(paths.holdings, governing, returns, alone.cost, t0)
        out.growth[b], out.drawdown[b], out.switches[b] = paths.growth, paths.drawdown, paths.switches
        out.active[b, :n_days] = active
        count = len(ev_day)
        out.events[b, :, :count] = np.stack([ev_day, ev_best, ev_kind])
        out.n_events[b] = count
        out.hold[b, t0:n_days] = stitched[t0:]
        out.net[b, t0:n_days] = net[t0:]
    return out


def _sample_sweep() -> tuple:
    setup = _sample_setup()
    tcs = np.array([2.0, 5.0, 9.0])
    batch = SweepBatch(rows=np.array([[0, 1]], np.int64), n_bull=np.array([2], np.int64),
                       n_funds=np.array([2], np.int64), start=np.array([1], np.int64), t0=np.array([1], np.int64))
    return (setup, batch, tcs, tcs, 2, True, sweep_outputs(1, len(tcs), setup.returns.shape[1]))


# ---------------------------------------------------------------------------------- compiled kernels
#
# numba keeps compiled code on disk (cache=True: next to this file in __pycache__, or in numba's user-wide
# cache directory when that is read-only, or in NUMBA_CACHE_DIR). A fresh process loads it on a kernel's
# first call, and numba then first "refreshes" its whole compilation context: it imports and registers
# its implementations of Python and numpy (0.1-0.3 s; where scipy is installed that includes importing
# scipy.linalg, another 0.1-0.4 s) although loading machine code needs none of it. Our kernels' cache
# loads skip that refresh and do only what compiled code needs: numba's runtime (NRT). Compiling, the
# first run after install, still goes through numba's full pipeline, refresh included.
#
# A cold cache is detected from numba's cache index (a small file per kernel); then every kernel is
# compiled at once, with a notice and per-kernel progress (about 10-30 s in all), so that no later call
# stalls. The notice goes to ``compile_notice`` (stderr by default; Excel, where stderr is invisible, can
# set its own) and ``warm_up()`` does the same on demand (an install step can call it).


def _notice_on_stderr(text: str) -> None:
    print(f"xlsector: {text}", file=sys.stderr, flush=True)


#: Called with each line of the compile notice (the first run after install only).
compile_notice: Callable[[str], None] = _notice_on_stderr

_KERNELS: list[tuple[str, Any, Callable[[], tuple]]] = []  # label, dispatcher, sample arguments
_READY = False


def _loads_without_refresh(dispatcher):
    """Make numba's cache loads of ``dispatcher`` skip the context refresh (see above); left as numba
    made it where its internals differ from what this expects."""
    try:
        from numba.core.runtime import rtsys

        cache = dispatcher._cache
        load, guard = cache._load_overload, cache._guard_against_spurious_io_errors
    except (AttributeError, ImportError):  # pragma: no cover - another numba
        return dispatcher

    def load_overload(sig, target_context):
        rtsys.initialize(target_context)  # the runtime compiled code calls (what the refresh does first)
        with guard():
            return load(sig, target_context)

    cache.load_overload = load_overload
    return dispatcher


def jit(fn, label: str, sample: Callable[[], tuple], **options):
    """numba.njit(cache=True) for a kernel of this package: cache loads without the context refresh, and
    registered (with arguments of the types production passes) for the compile notice and warm_up()."""
    dispatcher = _loads_without_refresh(numba.njit(cache=True, **options)(fn))
    _KERNELS.append((label, dispatcher, sample))
    return dispatcher


def _is_cached(dispatcher) -> bool:
    """Whether numba's cache holds code for ``dispatcher`` from its current source (cheap: reads one small
    index file). True where numba's internals differ from what this expects (then no notice)."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001  # pragma: no cover - another numba (any failure: assume cached)
        return True


def ready() -> None:
    """Before the first compiled call of a process: compile the kernels if the cache is cold (the first
    run after install), saying so. Cheap afterwards (a flag)."""
    global _READY
    if _READY or not HAVE_NUMBA:
        return
    _READY = True
    import xlsector.tuning  # noqa: F401  (registers its kernels)

    cold = [kernel for kernel in _KERNELS if not _is_cached(kernel[1])]
    if cold:
        _compile(cold)


def warm_up() -> float:
    """Compile (first run after install) or load every kernel now; returns the seconds spent. For an
    install step, or an application that wants the first real call to be quick."""
    start = time.perf_counter()
    ready()
    for _, dispatcher, sample in _KERNELS:
        dispatcher(*sample())
    return time.perf_counter() - start


def _compile(kernels: list[tuple[str, Any, Callable[[], tuple]]]) -> None:
    compile_notice(f"compiling the trend kernels (first run only, ~5-20 s; later runs load them in a moment): "
                   f"{len(kernels)} to compile")
    total = time.perf_counter()
    for done, (label, dispatcher, sample) in enumerate(kernels, 1):
        start = time.perf_counter()
        dispatcher(*sample())
        compile_notice(f"  {done}/{len(kernels)} {label}: {time.perf_counter() - start:.1f} s")
    compile_notice(f"compiled in {time.perf_counter() - total:.1f} s")


_POOL: Any = None


def _thread_pool(workers: int):
    """A pool of worker threads kept for the process (grown when more are asked for)."""
    global _POOL
    if _POOL is None or _POOL._max_workers < workers:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xlsector-kernel")
    return _POOL


def _sample_setup() -> RotationSetup:
    """A tiny rotation record with the field types :func:`xlsector.backtesting.prepare` gives."""
    days = 6
    flags = np.ones(days, np.bool_)
    return RotationSetup(returns=np.zeros((2, days)), cash=np.zeros(days), opens=np.zeros(2, np.int64),
                         closes=np.full(2, days, np.int64), n_bull=2, k=22.0, hysteresis=0.01, decision=flags,
                         month_end=flags.copy(), sg_bull=flags.copy(), sg_mode=0, aqr_days=15, min_hold=0,
                         delay=1, cost=0.001, start=1, )


def _sample_rotation(*extra) -> tuple:
    setup = _sample_setup()
    tcs = np.array([2.0, 5.0, 9.0])
    return (setup, tcs, tcs, *extra, _outputs(len(tcs), setup.returns.shape[1] - setup.start))


if HAVE_NUMBA:  # pragma: no cover - depends on the runtime
    # error_model="numpy": a float division by zero gives inf/nan instead of raising, which lets the
    # divisions of the drawdown vectorise (no divisor here can be 0)
    _ema_compiled = jit(_ema_loop, "EMA and EMA2",
                        lambda: (np.zeros((3, 2)), 0.5, np.zeros((3, 2)), np.zeros((3, 2))))
    #: Threads for a grid of trend constants: NUMBA_NUM_THREADS, by default the machine's cores.
    THREADS = max(1, int(numba.config.NUMBA_NUM_THREADS))
    _rotate_single_compiled = jit(_rotate_single, "rotation, one trend constant", lambda: _sample_rotation(0),
                                  error_model="numpy")
    _rotate_lanes_compiled = jit(_rotate_lanes, "rotation, trend constants as lanes",
                                 lambda: (*_sample_rotation(0, 3), Walk.new(1, 2, True, 5)), error_model="numpy",
                                 nogil=True)

    def _rotate_blocks(setup: RotationSetup, tcs: np.ndarray, decays: np.ndarray, out: RotationPaths,
                       blocks: int) -> None:
        """The lane kernel on ``blocks`` contiguous blocks of trend constants at once, one per thread: the
        kernel releases the GIL (nogil), so plain Python threads run it in parallel, and each block
        writes its own columns of every day's row. (Python threads rather than numba's parallel=True:
        that would be one more kernel to compile, ~3 s on the first run, and its threading layer to load
        on each process's first grid.)"""
        n = len(tcs)
        bounds = [(c * n // blocks, (c + 1) * n // blocks) for c in range(blocks)]
        pool = _thread_pool(blocks - 1)
        others = [pool.submit(_rotate_lanes_compiled, setup, tcs, decays, m0, m1, out, NO_WALK)
                  for m0, m1 in bounds[1:]]
        _rotate_lanes_compiled(setup, tcs, decays, *bounds[0], out, NO_WALK)
        for job in others:
            job.result()

    def ema_pair(scaled: np.ndarray, a: float, e1: np.ndarray, e2: np.ndarray) -> None:
        ready()
        _ema_compiled(scaled, a, e1, e2)

    def rotate(setup: RotationSetup, tcs: np.ndarray, decays: np.ndarray, walk: Walk = NO_WALK) -> RotationPaths:
        """Run the compiled kernels; ``walk`` runs inside when the grid runs on one thread (check
        ``walk.n_events[0] >= 0``; else the caller walks the paths afterwards)."""
        ready()
        out = _outputs(len(tcs), setup.returns.shape[1] - setup.start)
        # threads pay off only for a grid of trend constants: one backtest stays on one core
        threads = THREADS if len(tcs) >= PARALLEL_MIN_TCS else 1
        if len(tcs) <= SINGLE_MAX_TCS:
            for m in range(len(tcs)):
                _rotate_single_compiled(setup, tcs, decays, m, out)
        elif threads > 1:
            _rotate_blocks(setup, tcs, decays, out, threads)
        else:
            _rotate_lanes_compiled(setup, tcs, decays, 0, len(tcs), out, walk)
        return out
else:
    ema_pair = _ema_numpy

    rotate = rotate_numpy


if HAVE_NUMBA:  # pragma: no cover - depends on the runtime
    _sweep_lanes_compiled = jit(_sweep_lanes, "sweep: combinations sharing their trends", _sample_sweep,
                                error_model="numpy", nogil=True)

    def sweep(setup: RotationSetup, batch: SweepBatch, tcs: np.ndarray, decays: np.ndarray, retune_days: int,
              defer: bool) -> SweepPaths:
        """Run a batch of combinations on this thread (see the sweep section above)."""
        ready()
        out = sweep_outputs(len(batch.start), len(tcs), setup.returns.shape[1])
        _sweep_lanes_compiled(setup, batch, tcs, decays, int(retune_days), bool(defer), out)
        return out
else:
    sweep = sweep_numpy
