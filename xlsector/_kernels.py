"""Path-dependent kernels: the EMA recurrence and the rotation with hysteresis and StormGuard.

Two implementations of each, selected once at import:

* compiled with numba (``cache=True``: compiled code is kept on disk, so only the first run of a fresh
  install pays the compile), looping over days and funds, parallel over trend constants;
* a numpy fallback for runtimes without numba (xlwings Lite runs Pyodide), looping over days and
  vectorised over trend constants and funds.

Set ``XLSECTOR_NO_NUMBA=1`` to force the fallback. The tests check both against a slow, obvious loop.

The rotation semantics are documented in :mod:`xlsector.backtesting`; in short, for every trend constant:
trends update on day t's return; the holding earns day t's return (a newly entered holding pays the cost
on its first day); then, at day t's close, the decision: StormGuard state, rotation with hysteresis,
and the new target is scheduled to be held from day ``t + delay + 1``.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np

NO_TARGET = -1
INELIGIBLE = -1e300  # added to the trend of a fund that may not be picked

try:  # pragma: no cover - exercised by whichever runtime runs the tests
    if os.environ.get("XLSECTOR_NO_NUMBA", "") not in ("", "0"):
        raise ImportError("numba disabled by XLSECTOR_NO_NUMBA")
    import numba

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

    returns: np.ndarray  # days × assets float64, NaN-free; the last column is cash
    penalty: np.ndarray  # days × funds float64: 0 where a fund may be picked, INELIGIBLE where not
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


def _rotate_one(m, setup, tcs, decays, holdings, net, switches, targets):  # pragma: no cover - compiled
    """One trend constant (row m of the outputs). See the module docstring for the order of events.

    ``penalty[t, j]`` is 0 where fund j is eligible on day t and INELIGIBLE otherwise, so that the best
    trend is a plain (vectorisable) maximum of ``trend + penalty``; the arg-max is searched only on the
    rare days that maximum calls for a trade.
    """
    returns, penalty, n_bull, k, hysteresis = setup.returns, setup.penalty, setup.n_bull, setup.k, setup.hysteresis
    decision, month_end, sg_bull, sg_mode = setup.decision, setup.month_end, setup.sg_bull, setup.sg_mode
    aqr_days, min_hold, delay, cost, start = setup.aqr_days, setup.min_hold, setup.delay, setup.cost, setup.start
    n_days, n_assets = returns.shape
    n_funds = n_assets - 1
    cash = n_assets - 1
    a = 1.0 / tcs[m]
    keep = 1.0 - a
    ak = a * k
    fade = math.exp(-1.0 / decays[m])
    s1 = np.zeros(n_funds)
    s2 = np.zeros(n_funds)
    scheduled = np.full(n_days + 2, NO_TARGET, np.int64)
    held = cash
    target = cash
    bonus = 0.0
    last_trade = -(1 << 30)
    bull = True
    trades = 0
    for t in range(n_days):
        for j in range(n_funds):
            s1[j] = ak * returns[t, j] + keep * s1[j]
            s2[j] = a * s1[j] + keep * s2[j]
        if t < start:
            continue
        i = t - start
        r = 0.0
        if t > start:
            r = returns[t, held]
            if scheduled[t] != NO_TARGET:
                held = scheduled[t]
                r = (1.0 + returns[t, held]) * (1.0 - cost) - 1.0
                trades += 1
        holdings[m, i] = held
        net[m, i] = r
        # ---- decision at day t's close
        bonus *= fade
        regime_change = t == start
        if sg_mode == 0:
            bull = True
        elif t == start:
            bull = sg_bull[t]
        elif sg_bull[t] != bull:
            if (sg_mode == 1 and month_end[t]) or (sg_mode == 2 and t - last_trade >= aqr_days):
                bull = sg_bull[t]
                regime_change = True
        targets[m, i] = target
        if not (regime_change or decision[t]):
            continue
        lo = 0 if bull else n_bull
        hi = n_bull if bull else n_funds
        top = INELIGIBLE
        for j in range(lo, hi):
            top = max(top, s2[j] + penalty[t, j])
        new = target
        if top <= INELIGIBLE:
            new = cash
        elif (regime_change or target == cash or target < lo or target >= hi or penalty[t, target] < 0.0
              or (top > s2[target] + bonus and t - last_trade >= min_hold)):
            for j in range(lo, hi):  # first fund with the top trend
                if s2[j] + penalty[t, j] == top:
                    new = j
                    break
        if new != target:
            target = new
            targets[m, i] = new
            last_trade = t
            bonus = hysteresis if new != cash else 0.0
            scheduled[t + delay + 1] = new
    switches[m] = max(trades - 1, 0)  # the first trade is the initial buy, not a switch


def rotate_python(setup: RotationSetup, tcs: np.ndarray, decays: np.ndarray):
    """The compiled loop run as plain Python (slow): the tests check the compiled and numpy paths against it."""
    holdings, net, switches, targets = _outputs(len(tcs), setup.returns.shape[0] - setup.start)
    for m in range(len(tcs)):
        _rotate_one(m, setup, tcs, decays, holdings, net, switches, targets)
    return holdings, net, switches, targets


def _outputs(n_tcs: int, n_days: int):
    """holdings (asset earning each day's return), net returns, switches, targets (asset decided at each close)."""
    return (np.zeros((n_tcs, n_days), np.int16), np.zeros((n_tcs, n_days)), np.zeros(n_tcs, np.int64),
            np.zeros((n_tcs, n_days), np.int16))


def rotate_numpy(setup: RotationSetup, tcs: np.ndarray, decays: np.ndarray):
    """The same rotation, one day at a time, vectorised over trend constants (numba-free fallback)."""
    returns, n_bull, k, hysteresis = setup.returns, setup.n_bull, setup.k, setup.hysteresis
    decision, month_end, sg_bull, sg_mode = setup.decision, setup.month_end, setup.sg_bull, setup.sg_mode
    aqr_days, min_hold, delay, cost, start = setup.aqr_days, setup.min_hold, setup.delay, setup.cost, setup.start
    eligible = setup.penalty == 0.0
    n_days, n_assets = returns.shape
    n_funds = n_assets - 1
    cash = n_assets - 1
    n_tcs = len(tcs)
    holdings, net, switches, targets = _outputs(n_tcs, n_days - start)
    a = (1.0 / tcs)[:, None]
    keep = 1.0 - a
    ak = a * k
    fade = np.exp(-1.0 / decays)
    s1 = np.zeros((n_tcs, n_funds))
    s2 = np.zeros((n_tcs, n_funds))
    scheduled = np.full((n_days + 2, n_tcs), NO_TARGET, np.int64)
    rows = np.arange(n_tcs)
    held = np.full(n_tcs, cash)
    target = np.full(n_tcs, cash)
    bonus = np.zeros(n_tcs)
    last_trade = np.full(n_tcs, -(1 << 30))
    bull = np.ones(n_tcs, bool)
    fund_ids = np.arange(n_funds)
    for t in range(n_days):
        s1 = ak * returns[t, :n_funds] + keep * s1
        s2 = a * s1 + keep * s2
        if t < start:
            continue
        i = t - start
        r = np.zeros(n_tcs)
        if t > start:
            r = returns[t, held]
            due = scheduled[t] != NO_TARGET
            held = np.where(due, scheduled[t], held)
            r = np.where(due, (1.0 + returns[t, held]) * (1.0 - cost) - 1.0, r)
            switches += due
        holdings[:, i] = held
        net[:, i] = r
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
        targets[:, i] = target
        if not (regime_change.any() or decision[t]):
            continue
        acting = regime_change | bool(decision[t])
        lo = np.where(bull, 0, n_bull)[:, None]
        hi = np.where(bull, n_bull, n_funds)[:, None]
        allowed = eligible[t][None, :] & (fund_ids >= lo) & (fund_ids < hi)
        score = np.where(allowed, s2, -np.inf)
        best = np.argmax(score, axis=1)  # first maximum, as the loop's strict ">"
        none = ~allowed.any(axis=1)
        safe_target = np.minimum(target, n_funds - 1)
        target_ok = (target != cash) & (target >= lo[:, 0]) & (target < hi[:, 0]) & eligible[t, safe_target]
        beats = (best != target) & (s2[rows, best] > s2[rows, safe_target] + bonus) & (t - last_trade >= min_hold)
        new = np.where(none, cash, np.where(regime_change | ~target_ok | beats, best, target))
        trade = acting & (new != target)
        target = np.where(trade, new, target)
        last_trade = np.where(trade, t, last_trade)
        bonus = np.where(trade, np.where(new != cash, hysteresis, 0.0), bonus)
        scheduled[t + delay + 1] = np.where(trade, new, NO_TARGET)
        targets[:, i] = target
    np.maximum(switches - 1, 0, out=switches)  # the first trade is the initial buy, not a switch
    return holdings, net, switches, targets


if HAVE_NUMBA:  # pragma: no cover - depends on the runtime
    _ema_compiled = numba.njit(cache=True)(_ema_loop)
    _rotate_one_compiled = numba.njit(cache=True)(_rotate_one)

    @numba.njit(cache=True, parallel=True)
    def _rotate_parallel(setup, tcs, decays, holdings, net, switches, targets, lanes):
        # interleaved lanes: short trend constants trade far more often, so contiguous halves would
        # leave one core waiting for the other
        for lane in numba.prange(lanes):
            for m in range(lane, len(tcs), lanes):
                _rotate_one_compiled(m, setup, tcs, decays, holdings, net, switches, targets)

    @numba.njit(cache=True)
    def _rotate_serial(setup, tcs, decays, holdings, net, switches, targets):
        for m in range(len(tcs)):
            _rotate_one_compiled(m, setup, tcs, decays, holdings, net, switches, targets)

    def ema_pair(scaled: np.ndarray, a: float, e1: np.ndarray, e2: np.ndarray) -> None:
        _ema_compiled(scaled, a, e1, e2)

    def rotate(setup: RotationSetup, tcs: np.ndarray, decays: np.ndarray):
        outputs = _outputs(len(tcs), setup.returns.shape[0] - setup.start)
        if len(tcs) > 4:  # threads pay off only for a grid of trend constants; one backtest stays on one core
            _rotate_parallel(setup, tcs, decays, *outputs, numba.get_num_threads())
        else:
            _rotate_serial(setup, tcs, decays, *outputs)
        return outputs
else:
    ema_pair = _ema_numpy
    rotate = rotate_numpy
