"""Strategies as sleeves of a portfolio: one typed record per strategy, whatever it came from.

A :class:`Sleeve` holds what the portfolio needs of a strategy: its daily returns (first row = start point),
the asset it holds each day, its position now (fraction of the sleeve's money per fund, decided at the last
close: what to hold from the next trade) and the last prices of its funds. Sources:

* :func:`sleeve_from_profile` — a named TOML profile (trend: the rotation with the profile's fixed tc;
  momentum: the momentum rotation, its exposures at the last close, leverage included);
* :func:`sleeve_from_sweep` — a row of a sweep (by rank out of sample, or by its funds): the FWPT walk-forward
  of that combination with the sweep's strategy and tuning, out of sample from its born-on date, the tc in
  force now deciding the position;
* :func:`sleeve_from_workbook` — a workbook's strategy (its Settings and Data), with its TrendConstant;
* :func:`sleeve_from_rotation` — any funds and strategy parameters (a fixed tc, or ``tc=None`` for FWPT).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from xlsector.errors import ParameterError
from xlsector.measures import CASH

__all__ = [
    "Sleeve",
    "sleeve_from_profile",
    "sleeve_from_rotation",
    "sleeve_from_sweep",
    "sleeve_from_workbook",
]



@dataclass(frozen=True)
class Sleeve:
    """One strategy of a portfolio (see the module docstring).

    ``returns``: net daily returns, dates ascending, the first row the start point (return 0).
    ``holdings``: the asset earning each day's return (same dates). ``position``: fund -> fraction of the
    sleeve's money to hold from the next trade (decided at the last close; CASH is the rest).
    ``prices``: the last price of each fund of ``position`` and its date.
    """

    name: str
    returns: pd.Series
    holdings: pd.Series
    position: dict[str, float]
    prices: dict[str, tuple[float, pd.Timestamp]]
    source: str
    sample: str = "in sample"  # what the returns are: "out of sample (FWPT ...)" or a fixed-parameter backtest
    funds: tuple[str, ...] = field(default_factory=tuple)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.returns.index[0])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.returns.index[-1])


def _last_prices(prices: pd.DataFrame, funds: list[str]) -> dict[str, tuple[float, pd.Timestamp]]:
    out = {}
    for fund in funds:
        if fund == CASH:
            continue
        column = prices[fund].dropna()
        out[fund] = (float(column.iloc[-1]), pd.Timestamp(column.index[-1]))
    return out


def _position(target: str) -> dict[str, float]:
    return {} if target == CASH else {target: 1.0}


def sleeve_from_rotation(name: str, prices: pd.DataFrame, funds: list[str], *, tc: float | None,
                         index: pd.Series | None = None, bear: pd.DataFrame | None = None,
                         born_on: Any = None, retune_days: int = 125, tcs: Any = None, defer: bool = True,
                         source: str = "", **strategy: Any) -> Sleeve:
    """The trend rotation of ``funds`` (columns of ``prices``): with a fixed ``tc``, the backtest over the whole
    period (in sample if the tc was chosen on these data); with ``tc=None``, FWPT over the grid ``tcs``
    (default 2..200), out of sample after the born-on date, its position decided by the tc in force now."""
    from xlsector.backtesting import run_backtest

    missing = [f for f in funds if f not in prices.columns]
    if missing:
        raise ParameterError(f"strategy {name}: fund {missing[0]!r} is not a column of the prices")
    data = prices[funds]
    sides: dict[str, Any] = {"index": index, "bear": bear}
    everything = pd.concat([data, bear], axis=1) if bear is not None else data
    if tc is not None:
        result = run_backtest(data, tc=tc, **sides, **strategy)
        return Sleeve(name=name, returns=result.returns, holdings=result.holdings,
                      position=_position(str(result.targets.iloc[-1])),
                      prices=_last_prices(everything, list(everything.columns)), source=source or name,
                      sample=f"fixed tc {tc:g} over the whole period (in sample if chosen on these data)",
                      funds=tuple(funds))
    from xlsector.tuning import DEFAULT_TCS, fwpt

    walk = fwpt(data, born_on=born_on, retune_days=retune_days, tcs=DEFAULT_TCS if tcs is None else tcs,
                defer=defer, **sides, **strategy)
    now = run_backtest(data, tc=walk.current_tc, **sides, **strategy)  # the path of the tc in force now
    return Sleeve(name=name, returns=walk.returns.rename("strategy"), holdings=walk.holdings,
                  position=_position(str(now.targets.iloc[-1])),
                  prices=_last_prices(everything, list(everything.columns)), source=source or name,
                  sample=f"out of sample: FWPT walk-forward from {walk.born_on:%Y-%m-%d} (tc now {walk.current_tc:g})",
                  funds=tuple(funds))


def sleeve_from_profile(name: str, prices: pd.DataFrame, *, profiles_dir: Any = None,
                        vix: pd.Series | None = None) -> Sleeve:
    """The profile ``name`` (a name or a .toml path) backtested on ``prices`` (:func:`xlsector.profiles.run_profile`)."""
    from xlsector.profiles import load_profile, run_profile

    profile = load_profile(name, profiles_dir or [])
    run = run_profile(profile, prices, vix=vix)
    result = run.result
    if profile.strategy == "trend":
        position = _position(str(result.targets.iloc[-1]))
    else:
        last = result.weights.iloc[-1]
        position = {str(f): float(w) for f, w in last.items() if w != 0}
    funds = list(profile.funds or [c for c in prices.columns if c not in {profile.benchmark, profile.index,
                                                                          profile.vix}])
    held = funds + list(profile.bear or ())
    return Sleeve(name=profile.name, returns=run.returns, holdings=run.holdings, position=position,
                  prices=_last_prices(prices, held), source=f"profile {profile.name} ({profile.path})",
                  sample="fixed parameters over the whole period (in sample if chosen on these data)",
                  funds=tuple(funds))


def sleeve_from_sweep(store: str | os.PathLike[str], prices: pd.DataFrame, *, rank: int | None = None,
                      funds: list[str] | None = None) -> Sleeve:
    """A sweep's row (``rank`` out of sample, default 1; or the combination ``funds``) as a sleeve: the FWPT
    walk-forward of its funds with the sweep's strategy, tuning and side columns, on ``prices``."""
    from xlsector.sweep.report import rank_rows
    from xlsector.sweep.store import SweepStore

    with SweepStore.open(store) as opened:  # the stored rows and spec (no report: no PBO to compute here)
        spec = opened.spec()
        table = rank_rows(opened.frame())
    if table.empty:
        raise ParameterError(f"the sweep {store} has no finished combination yet")
    if funds is not None:
        order = spec["funds"]
        key = ",".join(sorted(funds, key=lambda f: order.index(f) if f in order else len(order)))
        chosen = table[table["funds"] == key]
        if chosen.empty:
            raise ParameterError(f"the sweep {store} has no combination {','.join(funds)}")
    else:
        rank = 1 if rank is None else rank
        if not 1 <= rank <= len(table):
            raise ParameterError(f"rank must be from 1 to {len(table)} (the sweep's combinations), got {rank}")
        chosen = table[table["rank"] == rank]
    row = chosen.iloc[0]
    tuning = spec["tuning"]
    stormguard = spec["strategy"].get("stormguard") not in (None, "off")
    from xlsector.params import TuningParams

    grid = TuningParams(tc_min=tuning["tc_min"], tc_max=tuning["tc_max"], tc_step=tuning["tc_step"]).tcs
    return sleeve_from_rotation(
        f"sweep #{int(row['rank'])} {row['funds']}", prices, str(row["funds"]).split(","), tc=None,
        index=prices[spec["index"]] if spec["index"] and stormguard else None,
        bear=prices[spec["bear"]] if spec["bear"] else None, born_on=tuning["born_on"],
        retune_days=tuning["retune_days"], tcs=grid, defer=tuning["defer"],
        source=f"sweep {store}, rank {int(row['rank'])} out of sample", **spec["strategy"],
    )


def sleeve_from_workbook(path: str | os.PathLike[str]) -> Sleeve:
    """The strategy of a workbook (its Settings and Data): the rotation with its TrendConstant and settings."""
    from pathlib import Path

    from xlsector.workbook.inputs import workbook_rotation

    funds, kwargs = workbook_rotation(path)
    return sleeve_from_rotation(Path(path).stem, funds, list(funds.columns), source=f"workbook {path}", **kwargs)
