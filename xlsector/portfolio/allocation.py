"""The allocation calculator: an amount of money -> how many shares of each fund to hold now.

Each strategy gets its weight of the amount; its money goes to the position it decided at the last close
(:attr:`~xlsector.portfolio.sleeves.Sleeve.position`: one fund for the trend rotation, the exposures of the
momentum rotation), the rest to cash. Amounts are summed by fund (two strategies may hold the same fund) and
turned into shares at each fund's last price: whole shares rounded down (the remainder stays in cash), or
fractional with ``whole_shares=False``. Prices are the last ones in the data, dated: trade at the next
close, when the prices will have moved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from xlsector.errors import ParameterError
from xlsector.measures import CASH
from xlsector.portfolio.combine import normalise_weights
from xlsector.portfolio.sleeves import Sleeve

__all__ = ["Allocation", "allocate"]


@dataclass(frozen=True)
class Allocation:
    """``table``: one row per fund (``fund``, ``strategies``, ``target`` amount, ``price``, ``price_date``,
    ``shares``, ``value``, ``weight`` of the amount) and a last ``CASH`` row (the rest of the amount)."""

    amount: float
    table: pd.DataFrame
    cash: float
    whole_shares: bool

    @property
    def invested(self) -> float:
        return self.amount - self.cash


def allocate(sleeves: Sequence[Sleeve], amount: float, weights: Sequence[float] | None = None, *,
             whole_shares: bool = True) -> Allocation:
    """Shares of each fund to hold now for ``amount`` split over ``sleeves`` by ``weights`` (see the module)."""
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) or amount <= 0:
        raise ParameterError(f"amount must be a number > 0 (money to allocate), got {amount!r}")
    shares_of = normalise_weights(weights, len(sleeves))
    targets: dict[str, float] = {}
    owners: dict[str, list[str]] = {}
    prices: dict[str, tuple[float, pd.Timestamp]] = {}
    for sleeve, weight in zip(sleeves, shares_of):
        money = amount * weight
        for fund, fraction in sleeve.position.items():
            if fund == CASH or fraction == 0:
                continue
            targets[fund] = targets.get(fund, 0.0) + money * fraction
            owners.setdefault(fund, []).append(sleeve.name)
            quote = sleeve.prices.get(fund)
            if quote is None:
                raise ParameterError(f"strategy {sleeve.name}: no price for {fund}")
            if fund not in prices or quote[1] > prices[fund][1]:
                prices[fund] = quote
    rows = []
    for fund, target in targets.items():
        price, when = prices[fund]
        count = math.floor(target / price) if whole_shares else target / price
        rows.append({"fund": fund, "strategies": ", ".join(owners[fund]), "target": target, "price": price,
                     "price_date": when, "shares": count, "value": count * price})
    table = pd.DataFrame(rows, columns=["fund", "strategies", "target", "price", "price_date", "shares", "value"])
    cash = amount - float(table["value"].sum()) if len(table) else amount
    cash_owners = [s.name for s in sleeves if sum(v for f, v in s.position.items() if f != CASH) < 1.0]
    cash_row = {"fund": CASH, "strategies": ", ".join(cash_owners), "target": amount - sum(targets.values()),
                "price": 1.0, "price_date": None, "shares": cash, "value": cash}
    table = pd.concat([table, pd.DataFrame([cash_row])], ignore_index=True) if len(table) else \
        pd.DataFrame([cash_row])
    table["weight"] = table["value"] / amount
    return Allocation(amount=float(amount), table=table, cash=cash, whole_shares=whole_shares)
