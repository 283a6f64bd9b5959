"""Price and VIX inputs of the ``backtest``, ``experiment`` and ``tune`` commands.

``--prices FILE`` (CSV, xlsx or workbook, read by :func:`xlsector.data.load_prices`) or, by default, the
bundled real sample (:func:`xlsector.data.load_sample`). ``--vix FILE``: a CSV of VIX closes (a ``Close``
column, as Cboe's ``VIX_History.csv``, or the only data column), aligned to the price dates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from xlsector.errors import DataError

__all__ = ["Inputs", "load_inputs", "read_vix"]


@dataclass(frozen=True)
class Inputs:
    prices: pd.DataFrame
    source: str  # one line: where the prices came from
    vix: pd.Series | None = None
    vix_source: str | None = None


def read_vix(path: str | os.PathLike[str]) -> pd.Series:
    """VIX closes from a CSV (first column = dates; column ``Close``/``CLOSE``/``VIX`` or the only column)."""
    import io
    from pathlib import Path

    from xlsector.data.sources import _csv_text, parse_dates
    from xlsector.errors import XlsectorError

    try:
        text = _csv_text(Path(path))
    except XlsectorError as exc:
        raise DataError(str(exc).replace("price file", "VIX file")) from None
    try:
        frame = pd.read_csv(io.StringIO(text), index_col=0, dtype={0: str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read the VIX file {path}: {exc}") from None
    frame.index = parse_dates(pd.Series(frame.index.astype(str)), f"VIX file {path}")
    for name in ("Close", "CLOSE", "close", "VIX", "^VIX"):
        if name in frame.columns:
            column = frame[name]
            break
    else:
        if frame.shape[1] != 1:
            raise DataError(
                f"VIX file {path}: no Close column and {frame.shape[1]} data columns; expected Close or one column"
            )
        column = frame.iloc[:, 0]
    values = pd.to_numeric(column, errors="coerce").astype(float)
    if values.notna().sum() == 0:
        raise DataError(f"VIX file {path}: no numeric VIX values")
    return values.sort_index().rename("^VIX")


def load_inputs(prices: str | None = None, vix: str | None = None) -> Inputs:
    """Load ``--prices`` (default: the bundled sample) and the optional ``--vix`` file."""
    if prices is None:
        from xlsector.data.sample import load_sample

        data = load_sample()
    else:
        from xlsector.data.sources import load_prices

        data = load_prices(prices)
    frame = data.prices
    describe = getattr(data.provenance, "describe", None)
    source = describe() if callable(describe) else str(prices or "bundled sample")
    vix_series = read_vix(vix) if vix else None
    return Inputs(frame, source, vix_series, str(vix) if vix else None)
