"""What a sweep will run: its specification, the combinations of funds, and the checks made before any work.

A *combination* is a set of K funds out of the candidate list, always written in the candidate list's order
(``("XLB", "XLE", "XLK")``). The plan lists every combination of every K asked for, K ascending and each K's
combinations in lexicographic order of their positions in the candidate list; ``sample=N`` keeps N of them
drawn without replacement by a seeded generator (numpy's PCG64), in the same order. A plan is made once and
stored with the results (:mod:`xlsector.sweep.store`), so a resumed sweep never re-draws it.

Everything a user can get wrong is checked here, before a worker starts: a K larger than the list, a fund
absent from the prices, a sample larger than the combinations, strategy and tuning parameters by the
parameter model's rules, and the five years of prices FWPT needs for its first tuning in every combination.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import DataError, ParameterError
from xlsector.params import Strategy, TuningParams, param_of

_MIN_HISTORY = param_of(Strategy, "min_history").default

__all__ = [
    "MAX_PLAN",
    "Combination",
    "SweepSpec",
    "check_spec",
    "choose_values",
    "count_combinations",
    "make_plan",
    "unrank",
]

#: Largest plan a sweep enumerates without ``sample`` (C(30, 6) = 593,775 fits; C(40, 8) = 77 million does not).
MAX_PLAN = 5_000_000

Combination = tuple[str, ...]


@dataclass(frozen=True)
class SweepSpec:
    """Everything that defines a sweep's results (and nothing about where or how fast it runs).

    Attributes
    ----------
    funds : candidate funds, columns of the prices (order kept: it orders the combinations).
    choose : the sizes K of the combinations (e.g. ``(4,)`` or ``(3, 4, 5)``).
    sample, seed : keep ``sample`` combinations drawn at random with ``seed`` (None: every combination).
    strategy : :class:`~xlsector.params.Strategy` parameters other than ``tc`` (the grid tunes it).
    tuning : :class:`~xlsector.params.TuningParams`: the tc grid, born-on date, retune interval, deferral,
        plateau tolerance.
    index : StormGuard's index column (needed when ``strategy["stormguard"]`` is on).
    bear : bear-market funds held in StormGuard's bear state (columns of the prices).
    benchmark : a benchmark column (None: each combination's equal-weight buy-and-hold, as FWPT's default).
    """

    funds: tuple[str, ...]
    choose: tuple[int, ...]
    sample: int | None = None
    seed: int | None = None
    strategy: dict[str, Any] = field(default_factory=dict)
    tuning: TuningParams = field(default_factory=TuningParams)
    index: str | None = None
    bear: tuple[str, ...] = ()
    benchmark: str | None = None

    @property
    def tcs(self) -> tuple[float, ...]:
        return tuple(self.tuning.tcs)

    def columns(self) -> list[str]:
        """Every price column the sweep reads: the candidates, bear funds, index and benchmark, once each."""
        names = [*self.funds, *self.bear, self.index, self.benchmark]
        return list(dict.fromkeys(n for n in names if n))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (stored with the results; a resumed sweep must match it)."""
        tuning = self.tuning.to_dict()
        tuning["born_on"] = None if tuning["born_on"] is None else str(tuning["born_on"])
        return {
            "funds": list(self.funds),
            "choose": list(self.choose),
            "sample": self.sample,
            "seed": self.seed,
            "strategy": {k: self.strategy[k] for k in sorted(self.strategy)},
            "tuning": tuning,
            "index": self.index,
            "bear": list(self.bear),
            "benchmark": self.benchmark,
        }


def choose_values(text: str | int | Iterable[int]) -> tuple[int, ...]:
    """K values from ``4``, ``"4"``, ``"3-5"`` (a range, both ends included) or ``"3,5"``."""
    if isinstance(text, bool):
        raise ParameterError(f"choose must be a whole number >= 1 or a range like 3-5, got {text!r}")
    if isinstance(text, int):
        values = [text]
    elif isinstance(text, str):
        values = []
        try:
            for part in text.replace(" ", "").split(","):
                lo, sep, hi = part.partition("-")
                if sep:
                    if int(hi) < int(lo):
                        raise ValueError
                    values += list(range(int(lo), int(hi) + 1))
                else:
                    values.append(int(part))
        except ValueError:
            raise ParameterError(f"choose must be a whole number >= 1 or a range like 3-5, got {text!r}") from None
    else:
        try:
            values = [int(v) for v in text]
        except (TypeError, ValueError):
            raise ParameterError(f"choose must be a whole number >= 1 or a range like 3-5, got {text!r}") from None
    if not values or min(values) < 1:
        raise ParameterError(f"choose must be a whole number >= 1 or a range like 3-5, got {text!r}")
    return tuple(sorted(set(values)))


def count_combinations(n_funds: int, choose: Sequence[int]) -> int:
    """Number of combinations of every K in ``choose`` out of ``n_funds``."""
    return sum(math.comb(n_funds, k) for k in choose)


def unrank(rank: int, n: int, k: int) -> tuple[int, ...]:
    """The ``rank``-th combination (0-based, lexicographic order) of ``k`` positions out of ``range(n)``."""
    out = []
    start = 0
    for slot in range(k, 0, -1):
        for j in range(start, n):
            block = math.comb(n - j - 1, slot - 1)  # combinations whose next position is j
            if rank < block:
                out.append(j)
                start = j + 1
                break
            rank -= block
    return tuple(out)


def make_plan(spec: SweepSpec) -> list[Combination]:
    """The combinations the sweep runs, in plan order (see the module docstring)."""
    from itertools import combinations

    n = len(spec.funds)
    sizes = [math.comb(n, k) for k in spec.choose]
    total = sum(sizes)
    if spec.sample is None:
        if total > MAX_PLAN:
            raise ParameterError(
                f"choose {_choose_text(spec.choose)} of {n} funds makes {total:,} combinations, more than "
                f"{MAX_PLAN:,}: pass sample (--sample N) to draw a random subset"
            )
        return [tuple(spec.funds[i] for i in c) for k in spec.choose for c in combinations(range(n), k)]
    rng = np.random.default_rng(spec.seed)
    ranks = np.sort(rng.choice(total, size=spec.sample, replace=False))
    out = []
    edges = np.cumsum([0, *sizes])
    for rank in ranks.tolist():
        part = int(np.searchsorted(edges, rank, side="right")) - 1
        positions = unrank(rank - int(edges[part]), n, spec.choose[part])
        out.append(tuple(spec.funds[i] for i in positions))
    return out


def _choose_text(choose: Sequence[int]) -> str:
    return ",".join(map(str, choose))


# ------------------------------------------------------------------------------------------------- checks


def check_spec(prices: pd.DataFrame, spec: SweepSpec) -> SweepSpec:
    """Check ``spec`` against ``prices`` before any work; return it with its strategy in canonical types.

    Raises ParameterError (a bad argument: named) or DataError (prices too short for FWPT in some
    combination, naming the first such combination and how many there are).
    """
    if not isinstance(prices, pd.DataFrame) or not isinstance(prices.index, pd.DatetimeIndex):
        raise ParameterError("prices must be a DataFrame of adjusted closes with a date index")
    funds = tuple(spec.funds)
    if not funds:
        raise ParameterError("funds must name at least one candidate fund")
    dupes = sorted({f for f in funds if funds.count(f) > 1})
    if dupes:
        raise ParameterError(f"funds names {dupes[0]!r} twice; each candidate once")
    columns = [str(c) for c in prices.columns]
    for what, names in (("funds", funds), ("bear", spec.bear), ("index", [spec.index] if spec.index else []),
                        ("benchmark", [spec.benchmark] if spec.benchmark else [])):
        for name in names:
            if name not in columns:
                raise ParameterError(f"{what} names {name!r}, which is not a column of the prices "
                                     f"(columns: {', '.join(columns)})")
    overlap = sorted(set(funds) & set(spec.bear))
    if overlap:
        raise ParameterError(f"bear names {overlap[0]!r}, which is also a candidate fund; a fund is one or the other")
    choose = choose_values(spec.choose)
    if max(choose) > len(funds):
        raise ParameterError(f"choose (K) must be at most the number of candidate funds ({len(funds)}), got "
                             f"{max(choose)}")
    total = count_combinations(len(funds), choose)
    if spec.sample is not None:
        if isinstance(spec.sample, bool) or not isinstance(spec.sample, int | np.integer) or spec.sample < 1:
            raise ParameterError(f"sample must be a whole number >= 1, got {spec.sample!r}")
        if spec.sample > total:
            raise ParameterError(f"sample must be at most the number of combinations ({total:,}), got {spec.sample}")
    if spec.seed is not None and (isinstance(spec.seed, bool) or not isinstance(spec.seed, int | np.integer)
                                  or spec.seed < 0):
        raise ParameterError(f"seed must be a whole number >= 0, got {spec.seed!r}")
    if not isinstance(spec.tuning, TuningParams):
        raise ParameterError(f"tuning must be a TuningParams, got {type(spec.tuning).__name__}")
    if "tc" in spec.strategy:
        raise ParameterError("strategy must not set tc: the sweep tunes it over the grid (tc_min..tc_max)")
    strategy = Strategy.from_kwargs(tc=spec.tuning.tcs[0], **spec.strategy)
    canonical = {k: getattr(strategy, k) for k in spec.strategy}
    if strategy.stormguard is not None and spec.index is None:
        raise ParameterError("stormguard needs index (the S&P 500 price index column)")
    checked = SweepSpec(funds=funds, choose=choose, sample=None if spec.sample is None else int(spec.sample),
                        seed=None if spec.seed is None else int(spec.seed), strategy=canonical, tuning=spec.tuning,
                        index=spec.index, bear=tuple(spec.bear), benchmark=spec.benchmark)
    check_history(prices, checked)
    return checked


def _first_dates(prices: pd.DataFrame, funds: Sequence[str]) -> pd.Series:
    present = prices[list(funds)].notna().to_numpy()
    empty = [f for f, column in zip(funds, present.T) if not column.any()]
    if empty:
        raise DataError(f"funds names {empty[0]!r}, which has no price in the data")
    return pd.Series(prices.index[present.argmax(axis=0)], index=list(funds))


def check_history(prices: pd.DataFrame, spec: SweepSpec) -> None:
    """FWPT's first tuning needs five years of prices in every combination (the rule of
    :func:`xlsector.tuning.fwpt`): the default born-on date, five years after the combination's data start
    (the second fund's first price; the only fund's for K = 1), must fall before the last date; an explicit
    ``born_on`` must be at least five years after the first price of every combination's oldest fund, and
    before the last date. The combinations that break it are counted, the first one named."""
    first = _first_dates(prices, spec.funds)
    last = pd.Timestamp(prices.index[-1])
    five = pd.DateOffset(years=5)
    order = first.sort_values(kind="stable")
    born_on = spec.tuning.born_on
    if born_on is not None:
        wanted = pd.Timestamp(born_on)
        if wanted >= last:
            raise ParameterError(f"born_on must be before the last date {last:%Y-%m-%d} (no out-of-sample days), got "
                                 f"{wanted:%Y-%m-%d}")
        # the combination whose oldest fund is youngest: the K youngest funds
        k = min(spec.choose)
        youngest = order.iloc[-k:]
        need = youngest.iloc[0] + five
        if wanted < need:
            raise DataError(
                f"born_on must be at least five years after the first price of every combination's oldest fund; "
                f"combination {','.join(sorted(youngest.index, key=spec.funds.index))} starts "
                f"{youngest.iloc[0]:%Y-%m-%d}, so born_on must be on or after {need:%Y-%m-%d}, got {wanted:%Y-%m-%d}"
            )
        # and on or after every combination's backtest start: min_history market days after its data start
        start = youngest.iloc[min(1, k - 1)]
        row = int(prices.index.searchsorted(start)) + int(spec.strategy.get("min_history", _MIN_HISTORY))
        if row >= len(prices.index) or wanted < prices.index[row]:
            begins = prices.index[min(row, len(prices.index) - 1)]
            raise DataError(
                f"born_on must be on or after the backtest start of every combination; combination "
                f"{','.join(sorted(youngest.index, key=spec.funds.index))} starts its backtest {begins:%Y-%m-%d}, "
                f"got {wanted:%Y-%m-%d}"
            )
        return
    # default born-on: the latest data start is that of the combination made of the youngest funds
    k = min(spec.choose)
    youngest = order.iloc[-k:]
    start = youngest.iloc[min(1, k - 1)]
    if start + five >= last:
        bad = _count_short(first, spec, last)
        raise DataError(
            f"fewer than five years of data for FWPT in {bad:,} combination(s): the first, "
            f"{','.join(sorted(youngest.index, key=spec.funds.index))}, has prices of {'two funds' if k > 1 else 'its fund'} "
            f"from {start:%Y-%m-%d} and the data end {last:%Y-%m-%d}; FWPT's first tuning needs five years "
            "(drop the young funds, or give born_on)"
        )


def _count_short(first: pd.Series, spec: SweepSpec, last: pd.Timestamp) -> int:
    """How many planned-space combinations start too late for FWPT (by their second-oldest fund)."""
    young = (first + pd.DateOffset(years=5) >= last).to_numpy()
    n_young = int(young.sum())
    n_old = len(first) - n_young
    count = 0
    for k in spec.choose:
        if k == 1:
            count += n_young
            continue
        # too short when at most one of the K funds is old enough
        count += math.comb(n_young, k) + n_old * math.comb(n_young, k - 1)
    return count


def data_fingerprint(prices: pd.DataFrame, columns: Sequence[str]) -> str:
    """SHA-256 of the dates and the values of ``columns`` (a resumed sweep must read the same prices)."""
    frame = prices[list(columns)]
    digest = hashlib.sha256()
    digest.update(np.asarray(pd.DatetimeIndex(frame.index).asi8, dtype="<i8").tobytes())
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(np.ascontiguousarray(frame.to_numpy(dtype="<f8", na_value=np.nan)).tobytes())
    return digest.hexdigest()
