"""Rebuild ``prices.csv.gz`` from the data files inside the skfolio wheel (BSD-3-Clause).

Run once by a maintainer, not at install time:

    pip download --no-deps skfolio==1.12.2 -d /tmp/skf && unzip -o /tmp/skf/*.whl -d /tmp/skf/x
    python -m xlsector.data.sample._build /tmp/skf/x/skfolio/datasets/data

It takes 10 of the 20 stocks (one to three per sector) and the S&P 500 price index, renames the index
column ``SP500`` to ``^GSPC`` (the Yahoo ticker the template's ``MarketIndex`` setting names) and writes a
gzip CSV with a fixed modification time so the bytes are reproducible.
"""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pandas as pd

STOCKS = ["XOM", "JPM", "JNJ", "MRK", "PG", "KO", "WMT", "HD", "GE", "MSFT"]


def build(source: Path, target: Path) -> pd.DataFrame:
    stocks = pd.read_csv(source / "sp500_dataset.csv.gz", index_col="Date", parse_dates=True)[STOCKS]
    index = pd.read_csv(source / "sp500_index.csv.gz", index_col="Date", parse_dates=True)["SP500"]
    frame = stocks.join(index.rename("^GSPC"), how="outer")
    text = frame.to_csv(date_format="%Y-%m-%d", float_format="%.3f", lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="prices.csv", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(text.encode())
    target.write_bytes(buffer.getvalue())
    return frame


if __name__ == "__main__":
    out = build(Path(sys.argv[1]), Path(__file__).with_name("prices.csv.gz"))
    print(out.shape, out.index[0].date(), out.index[-1].date())
