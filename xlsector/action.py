"""Today's action (SPEC §4): what a follower of the strategy holds, what was decided at the last close, when
to trade, and how close the next change is.

Timing, as in :mod:`xlsector.backtesting`: a decision at the close of day d is traded at the close of day
d + delay and earns returns from the next day. So after the last close (the data's last row, ``as_of``):

- ``held``: the position a follower owns now, after the trades due at that close: the target decided
  ``delay`` closes ago;
- ``target``: the fund decided at the last close; if it differs from ``held`` the trade is placed at the
  close of ``effective`` (the last close itself for delay 0, the next market day for delay 1);
- ``runner_up`` and ``margin``: the best other fund of the universe in force and how far its trend is below
  the hurdle (target's trend + remaining hysteresis bonus) at the last close, in trend units — the amount
  it must gain, relative to the target, to replace it; in cash with no bear funds, the fund StormGuard's
  return to bull would buy (no margin);
- ``stormguard``: the market filter's indicator and raw state after the last close and its distance to the
  band edge that would flip it (``indicator + shift`` in bull, ``shift − indicator`` in bear).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xlsector.backtesting import BacktestResult, run_backtest
from xlsector.calendar import market_days, market_days_after
from xlsector.rotation import next_decision_day

__all__ = ["Signal", "Staleness", "signal", "signal_from_result", "staleness"]


@dataclass(frozen=True)
class StormGuardReading:
    mode: str
    bull: bool  # raw state after the last close (band rule applied to the indicator)
    indicator: float
    shift: float
    distance: float  # how far the indicator may move before the raw state flips (trend units, >= 0 inside)
    applies: str  # when a change of state is acted on

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "state": "bull" if self.bull else "bear", "indicator": self.indicator,
                "shift": self.shift, "distance_to_flip": self.distance, "applies": self.applies}


@dataclass(frozen=True)
class Signal:
    """Today's action; see the module docstring for each field's exact meaning."""

    as_of: pd.Timestamp
    held: str
    target: str
    effective: pd.Timestamp
    next_decision: pd.Timestamp
    runner_up: str | None
    margin: float | None
    target_trend: float | None
    hurdle: float | None
    stormguard: StormGuardReading | None
    data_age_days: int
    delay: int
    schedule: str

    @property
    def trade(self) -> bool:
        return self.target != self.held

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as yyyy-mm-dd, fund names as in the prices, "CASH" for cash."""
        return {
            "as_of": f"{self.as_of:%Y-%m-%d}",
            "held": self.held,
            "target": self.target,
            "trade": self.trade,
            "effective": f"{self.effective:%Y-%m-%d}",
            "next_decision": f"{self.next_decision:%Y-%m-%d}",
            "stormguard": None if self.stormguard is None else self.stormguard.to_dict(),
            "runner_up": self.runner_up,
            "margin": self.margin,
            "target_trend": self.target_trend,
            "hurdle": self.hurdle,
            "data_age_days": self.data_age_days,
            "delay": self.delay,
            "schedule": self.schedule,
        }

    def rows(self) -> list[tuple[str, Any, str]]:
        """(label, value, explanation) rows, as the workbook and the CLI show them."""
        action = (f"trade {self.held} -> {self.target} at the close of {self.effective:%Y-%m-%d}" if self.trade
                  else f"hold {self.held}")
        rows: list[tuple[str, Any, str]] = [
            ("Action", action, "what a follower of the strategy does next"),
            ("As of", _cell_time(self.as_of), "the data's last close"),
            ("Held now", self.held, f"position after the last close (decided {self.delay} close(s) earlier)"),
            ("Target", self.target, "fund decided at the last close"),
            ("Trade at the close of", _cell_time(self.effective), f"delay {self.delay}: decision at a close, "
             f"trade {self.delay} market day(s) later"),
            ("Next decision day", _cell_time(self.next_decision), f"schedule: {self.schedule} "
             "(market days after the data: NYSE sessions, or weekdays for data on another calendar)"),
            ("Runner-up", self.runner_up or "n/a", "best other fund of the universe in force"),
            ("Margin (trend units)", self.margin, "hurdle minus the runner-up's trend: what it must gain to "
             "replace the target"),
            ("Target's trend", self.target_trend, "EMA2 trend at the last close"),
            ("Hurdle", self.hurdle, "target's trend + remaining hysteresis bonus"),
        ]
        if self.stormguard is not None:
            sg = self.stormguard
            rows += [
                ("StormGuard", f"{'bull' if sg.bull else 'bear'} ({sg.mode})", f"changes of state apply {sg.applies}"),
                ("StormGuard indicator", sg.indicator, f"EMA2 of the index; band +/-{sg.shift:g}"),
                ("Distance to flip", sg.distance, "how far the indicator may move before the state flips"),
            ]
        rows.append(("Data age (days)", self.data_age_days, "calendar days from the last close to today"))
        return rows


def signal(prices: pd.DataFrame, *, index: pd.Series | None = None, bear: pd.DataFrame | None = None,
           today: dt.date | None = None, **strategy: Any) -> Signal:
    """Today's action of the rotation on ``prices`` (as :func:`xlsector.run_backtest`, same parameters)."""
    return signal_from_result(run_backtest(prices, index=index, bear=bear, **strategy), today=today)


def signal_from_result(result: BacktestResult, *, today: dt.date | None = None) -> Signal:
    """Today's action from a backtest's last close."""
    inputs = result.inputs
    strategy = result.strategy
    as_of = pd.Timestamp(result.dates[-1])
    targets = result.target_ids
    delay = strategy.delay
    held = int(targets[-1 - delay]) if len(targets) > delay else len(result.assets) - 1
    target = int(targets[-1])
    cash = len(result.assets) - 1
    setup = inputs.setup
    last_day = setup.returns.shape[1] - 1
    eligible = (setup.opens <= last_day) & (last_day < setup.closes)  # each fund's window holds the last day
    bull_side = target < setup.n_bull or (target == cash and strategy.stormguard is None)
    universe = np.arange(setup.n_bull) if bull_side else np.arange(setup.n_bull, cash)
    trends = result.trends.to_numpy()[-1]
    runner_up = margin = target_trend = hurdle = None
    if target != cash:
        target_trend = float(trends[target])
        hurdle = float(result.hurdle.iloc[-1])
    others = [int(j) for j in universe if eligible[j] and j != target]
    if not others and target == cash:  # out of the market with no bear funds: the fund bought on the way back
        others = [j for j in range(setup.n_bull) if eligible[j]]
    if others:
        best = max(others, key=lambda j: trends[j])
        runner_up = result.assets[best]
        if hurdle is not None:
            margin = hurdle - float(trends[best])
    calendar = market_days(pd.DatetimeIndex(result.dates))
    effective = as_of if delay == 0 else pd.Timestamp(market_days_after(as_of, delay, calendar)[-1])
    today = today or dt.date.today()
    return Signal(
        as_of=as_of, held=result.assets[held], target=result.assets[target], effective=effective,
        next_decision=next_decision_day(as_of, strategy.schedule, calendar, offset=strategy.decision_offset,
                                        recent=result.dates),
        runner_up=runner_up, margin=margin,
        target_trend=target_trend, hurdle=hurdle, stormguard=_stormguard(result),
        data_age_days=(today - as_of.date()).days, delay=delay, schedule=strategy.schedule,
    )


def _stormguard(result: BacktestResult) -> StormGuardReading | None:
    strategy = result.strategy
    if strategy.stormguard is None:
        return None
    indicator = result.inputs.sg_indicator
    assert indicator is not None  # a StormGuard backtest always has its indicator
    level, state = float(indicator[-1]), bool(result.inputs.setup.sg_bull[-1])
    distance = level + strategy.shift if state else strategy.shift - level
    applies = "at month ends" if strategy.stormguard == "standard" else \
        f"on any day once the last trade is {strategy.aqr_days} market days old"
    return StormGuardReading(mode=strategy.stormguard, bull=state, indicator=level, shift=strategy.shift,
                             distance=distance, applies=applies)


def _cell_time(stamp: pd.Timestamp) -> dt.datetime:
    """A timestamp as a cell holds it: whole microseconds (a worksheet has no nanoseconds)."""
    return stamp.floor("us").to_pydatetime()


@dataclass(frozen=True)
class Staleness:
    """How old the data is on ``today``: ``stale`` when older than ``max_age`` calendar days or when the next
    retune date is past; ``text`` says it in a sentence ("" cannot happen: a fresh state says so too)."""

    stale: bool
    age_days: int
    retune_past: bool
    text: str


def staleness(last_date: Any, next_retune: Any = None, *, today: dt.date | None = None,
              max_age: int = 5) -> Staleness:
    """Is the data behind today's action stale?

    Parameters
    ----------
    last_date : date
        The data's last date.
    next_retune : date, optional
        FWPT's next retune date (estimate); past = the tuned tc is overdue for a retune.
    today : date, optional
        Default ``datetime.date.today()`` (a fixed one for tests and reproducible renders).
    max_age : int
        Calendar days of age still counted fresh (default 5: a long weekend and a holiday).
    """
    if isinstance(max_age, bool) or not isinstance(max_age, int | np.integer) or max_age < 0:
        from xlsector.errors import ParameterError

        raise ParameterError(f"max_age must be a whole number of days >= 0, got {max_age!r}")
    last = pd.Timestamp(last_date).date()
    now = today or dt.date.today()
    age = (now - last).days
    retune = None if next_retune is None or pd.isna(next_retune) else pd.Timestamp(next_retune).date()
    past = retune is not None and retune < now
    parts = []
    if age > max_age:
        parts.append(f"the data end {age:,} days before today ({last:%Y-%m-%d})")
    if past:
        parts.append(f"the next retune date ({retune:%Y-%m-%d}) is past")
    if parts:
        text = "STALE: " + "; ".join(parts) + ". Refresh the data (the Refresh data button or xlsector refresh) " \
               "before acting on today's action."
    else:
        text = f"Data current: the last date {last:%Y-%m-%d} is {age} day{'s' if age != 1 else ''} before today."
    return Staleness(stale=bool(parts), age_days=age, retune_past=past, text=text)
