"""Portfolio of strategies: several strategies (profiles, sweep rows, workbooks, any rotation) combined with
weights and a rebalance schedule; equity and metrics against a benchmark, the strategies' correlation, and an
allocation calculator (an amount -> shares of each fund to hold now).

* :mod:`~xlsector.portfolio.sleeves` — each strategy as a :class:`Sleeve` (returns, holdings, position now);
* :mod:`~xlsector.portfolio.combine` — :func:`combine`: the rebalanced portfolio, :class:`PortfolioResult`;
* :mod:`~xlsector.portfolio.allocation` — :func:`allocate`: shares to hold now, :class:`Allocation`.
"""

from __future__ import annotations

from xlsector.portfolio.allocation import Allocation, allocate
from xlsector.portfolio.combine import REBALANCE, PortfolioResult, combine, normalise_weights
from xlsector.portfolio.sleeves import (
    Sleeve,
    sleeve_from_profile,
    sleeve_from_rotation,
    sleeve_from_sweep,
    sleeve_from_workbook,
)

__all__ = ["REBALANCE", "Allocation", "PortfolioResult", "Sleeve", "allocate", "combine", "normalise_weights", "sleeve_from_profile",
           "sleeve_from_rotation", "sleeve_from_sweep", "sleeve_from_workbook"]
