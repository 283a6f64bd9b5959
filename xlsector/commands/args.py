"""Argument helpers shared by the commands: dates (``--start``/``--end``), the reported period checked against the
data, ticker lists (``--funds``, ``--bear``, ``--tickers``) and a trend command's fund universe, and the ``--json``
output of the commands that write files."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

__all__ = ["add_json", "add_period", "check_period", "date_arg", "print_json", "tickers_arg", "trend_universe"]


def date_arg(text: str) -> str:
    """argparse ``type`` of a date flag: ``YYYY-MM-DD`` (a real date), returned as that text."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def tickers_arg(text: str) -> list[str]:
    """argparse ``type`` of a ticker list flag (``--funds A,B``): the tickers, at least one (an empty
    ``--funds ""`` would otherwise fall back to the default universe, silently)."""
    from xlsector.contract import split_tickers

    tickers = split_tickers(text)
    if not tickers:
        raise argparse.ArgumentTypeError(f"names no ticker, got {text!r}")
    return tickers


def add_period(parser: argparse.ArgumentParser, start: str, end: str) -> None:
    """``--start DATE`` and ``--end DATE`` with their help texts."""
    parser.add_argument("--start", metavar="DATE", type=date_arg, help=start)
    parser.add_argument("--end", metavar="DATE", type=date_arg, help=end)


def add_json(parser: argparse.ArgumentParser, what: str = "the result") -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON (for machines)")


def check_period(dates: Any, start: str | None, end: str | None, source: str) -> None:
    """``--start``/``--end`` against the prices' dates: each inside them, start before end (ParameterError)."""
    import pandas as pd

    from xlsector.errors import ParameterError

    if start and end and pd.Timestamp(start) >= pd.Timestamp(end):
        raise ParameterError(f"--start {start} must be before --end {end}")
    if not len(dates):
        raise ParameterError(f"the prices ({source}) hold no dates")
    first, last = pd.Timestamp(dates[0]), pd.Timestamp(dates[-1])
    if start and pd.Timestamp(start) >= last:
        raise ParameterError(f"--start {start} is on or after the last date of the prices, {last:%Y-%m-%d} "
                             f"({source}): no day to report")
    if end and pd.Timestamp(end) <= first:
        raise ParameterError(f"--end {end} is on or before the first date of the prices, {first:%Y-%m-%d} "
                             f"({source}): no day to report")


def print_json(payload: Any) -> None:
    """One JSON document on stdout (dates, paths, numpy values converted; NaN as null)."""
    from xlsector.runs import jsonable

    print(json.dumps(jsonable(payload), indent=1, allow_nan=False))


def trend_universe(args: argparse.Namespace, profile: Any, prices: Any, source: str, *,
                   benchmark: str | None = None) -> tuple[list[str], str | None, list[str]]:
    """(funds, StormGuard index column, bear funds) of a trend command: its flags (``--funds``, ``--index``,
    ``--bear``), else the ``profile``'s, else every column but the index, the ``benchmark`` and the bear funds
    (funds) and ``^GSPC`` when the prices have it (index). Each must be a column of ``prices`` (from ``source``)."""
    from xlsector.errors import ParameterError

    index = args.index or (profile.index if profile else None) or ("^GSPC" if "^GSPC" in prices.columns else None)
    bear = args.bear or (list(profile.bear) if profile and profile.bear else [])
    funds = args.funds or (list(profile.funds) if profile and profile.funds else None)
    if funds is None:
        funds = [c for c in prices.columns if c not in {index, benchmark, *bear}]
    for name in [*funds, *(c for c in (index, benchmark) if c), *bear]:
        if name not in prices.columns:
            raise ParameterError(f"column {name!r} is not in the prices ({source}); columns: "
                                 f"{', '.join(map(str, prices.columns))}")
    return funds, index, bear
