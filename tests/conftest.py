"""Shared test fixtures.

Real market data lives outside the repository in ``../shared/data`` (its redistribution terms are
unknown, so it is never copied in). Tests that need it take the ``shared_data`` fixture: it skips with a
clear reason when the folder is absent, and fails instead when ``XLSECTOR_REQUIRE_SHARED_DATA=1`` (CI),
so a missing folder can never turn CI green by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("XLSECTOR_SHARED_DATA", REPO.parent / "shared" / "data"))


def _require(flag: str) -> bool:
    return os.environ.get(flag, "") not in ("", "0")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real daily market data (../shared/data); see its README for sources and caveats."""
    if not (SHARED_DATA / "README.md").is_file():
        reason = f"real market data not found at {SHARED_DATA} (set XLSECTOR_SHARED_DATA)"
        if _require("XLSECTOR_REQUIRE_SHARED_DATA"):
            pytest.fail(reason)
        pytest.skip(reason)
    return SHARED_DATA


@pytest.fixture(scope="session")
def etf_prices(shared_data: Path):
    """Adjusted closes of the sector ETFs, SPY, TLT and AGG (etf_adjclose_daily.csv), dates as index."""
    import pandas as pd

    return pd.read_csv(shared_data / "etf_adjclose_daily.csv", index_col="Date", parse_dates=True)


@pytest.fixture(scope="session")
def sp500_index(shared_data: Path):
    """S&P 500 price index (no dividends), the StormGuard input."""
    import pandas as pd

    frame = pd.read_csv(shared_data / "sp500_price_index_daily.csv", index_col="Date", parse_dates=True)
    return frame.iloc[:, 0]


@pytest.fixture(scope="session")
def funds_prices(shared_data: Path):
    """Mutual fund adjusted NAVs (VFINX, VBMFX, VUSTX, ...)."""
    import pandas as pd

    return pd.read_csv(shared_data / "funds_adjclose_daily.csv", index_col="Date", parse_dates=True)
