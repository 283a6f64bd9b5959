"""The bundled real sample: daily adjusted closes of 10 large US stocks and the S&P 500 price index.

Source: the data files of skfolio 1.12.2 (BSD-3-Clause, see ``LICENSES/skfolio-BSD-3-Clause.txt`` and
``README.md`` in this folder). It makes every command and the template work offline.
"""

from __future__ import annotations

import functools
from importlib import resources

import pandas as pd

__all__ = ["SAMPLE_FUNDS", "SAMPLE_INDEX", "SAMPLE_NOTE", "SAMPLE_SOURCE", "load_sample"]

#: Stocks standing in for sector funds (ticker: GICS sector).
SAMPLE_FUNDS = {
    "XOM": "Energy",
    "JPM": "Financials",
    "JNJ": "Health Care",
    "MRK": "Health Care",
    "PG": "Consumer Staples",
    "KO": "Consumer Staples",
    "WMT": "Consumer Staples",
    "HD": "Consumer Discretionary",
    "GE": "Industrials",
    "MSFT": "Information Technology",
}
#: The S&P 500 price index (no dividends), the StormGuard input, named like Yahoo's ticker.
SAMPLE_INDEX = "^GSPC"
SAMPLE_SOURCE = "Bundled sample (skfolio 1.12.2 datasets, BSD-3-Clause)"
SAMPLE_NOTE = (
    "Real daily adjusted closes (splits and dividends) of 10 large US stocks standing in for sector funds, "
    "and the S&P 500 price index, 1990-01-02 to 2022-12-28, rounded to 3 decimals; from the skfolio "
    "project's datasets (BSD-3-Clause, (c) The skfolio developers). No bond fund and no VIX: the bear "
    "asset is cash at a 0% rate. Stale test data, not for investment decisions."
)


@functools.lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    with resources.files(__name__).joinpath("prices.csv.gz").open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", index_col="Date", parse_dates=["Date"])
    frame.index = pd.DatetimeIndex(frame.index).as_unit("us")
    return frame.astype(float)


def load_sample():
    """Load the bundled sample as :class:`~xlsector.data.PriceData` (a fresh copy each call).

    Columns: XOM JPM JNJ MRK PG KO WMT HD GE MSFT (adjusted closes) and ``^GSPC`` (S&P 500 price
    index); 8313 trading days from 1990-01-02 to 2022-12-28, no missing values.
    """
    from xlsector.data.sources import PriceData, make_provenance

    prices = _read().copy()
    return PriceData(prices, make_provenance(prices, SAMPLE_SOURCE, note=SAMPLE_NOTE))
