"""``xlsector signal [WORKBOOK] [--profile NAME|FILE] [--prices FILE] [--json]``: today's action.

The fund a follower of the strategy holds, the target decided at the last close, the close at which to
trade, the next decision day, StormGuard's state and distance to its band, the runner-up and its margin,
and the data's age (:mod:`xlsector.action`). From a workbook (its Settings and Data), a trend profile, or
a price file with the strategy flags. ``--json`` suits a cron job or an alert.
"""

from __future__ import annotations

import argparse
from typing import Any

from xlsector.commands.args import tickers_arg, trend_universe
from xlsector.commands.backtest import add_data_arguments, add_profile_dirs
from xlsector.commands.params_cli import add_param_flags, given_params
from xlsector.params import Strategy


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "signal",
        help="today's action: fund held, target decided at the last close, when to trade, margins",
        description="Today's action of the trend rotation: from WORKBOOK (its Settings and Data), a trend "
        "--profile, or --prices with the strategy flags (default: the bundled sample).",
    )
    parser.add_argument("workbook", nargs="?", help="a workbook with Settings and Data (e.g. workbooks/fwpt.xlsx)")
    parser.add_argument("--profile", metavar="NAME|FILE", help="a trend profile (funds, index, bear, parameters)")
    parser.add_argument("--funds", type=tickers_arg, metavar="A,B,...", help="fund columns (default: the profile's, else every "
                        "column but the index)")
    parser.add_argument("--index", metavar="COLUMN", help="StormGuard index column (default ^GSPC when present)")
    parser.add_argument("--bear", type=tickers_arg, metavar="A,B", help="bear-market funds held in StormGuard's bear state")
    add_profile_dirs(parser)
    add_data_arguments(parser, vix=False)
    add_param_flags(parser, Strategy)
    parser.set_defaults(run=run)
    return parser


def _from_workbook(path: str) -> tuple[Any, dict[str, Any], str]:
    from xlsector.workbook.inputs import workbook_rotation

    funds, kwargs = workbook_rotation(path)
    return funds, kwargs, f"workbook {path}"


def _from_prices(args: argparse.Namespace) -> tuple[Any, dict[str, Any], str]:
    from xlsector.errors import ParameterError
    from xlsector.profiles import load_profile
    from xlsector.profiles.inputs import load_inputs

    profile = load_profile(args.profile, args.profiles_dir) if args.profile else None
    if profile is not None and profile.strategy != "trend":
        raise ParameterError(f"--profile {profile.name}: signal needs a trend profile, got a {profile.strategy} "
                             "profile")
    inputs = load_inputs(args.prices)
    prices = inputs.prices
    funds, index, bear = trend_universe(args, profile, prices, inputs.source)
    kwargs: dict[str, Any] = dict(profile.params) if profile else {}
    kwargs.update(given_params(args, Strategy))
    if kwargs.get("stormguard") not in (None, "off") and index is None:
        raise ParameterError("--stormguard needs --index COLUMN (the S&P 500 price index)")
    kwargs["index"] = prices[index] if index and kwargs.get("stormguard") not in (None, "off") else None
    kwargs["bear"] = prices[bear] if bear else None
    source = inputs.source + (f", profile {profile.name}" if profile else "")
    return prices[funds], kwargs, source


def run(args: argparse.Namespace) -> int:
    import warnings

    from xlsector.action import signal, staleness
    from xlsector.commands.honest import disclosure_lines
    from xlsector.runs import emit

    if args.workbook:
        funds, kwargs, source = _from_workbook(args.workbook)
        kwargs.update(given_params(args, Strategy))
    else:
        funds, kwargs, source = _from_prices(args)
    found = signal(funds, **kwargs)
    stale = staleness(found.as_of)
    data = {"source": source, **found.to_dict(), "stale": stale.stale, "staleness": stale.text}
    if stale.stale:  # the action is that of the last close, not today's
        warnings.warn(stale.text.replace("STALE: the data", f"STALE: the data of {source}", 1), stacklevel=1)
    lines = [*disclosure_lines(source), f"Today's action ({source})", ""]
    width = max(len(label) for label, _, _ in found.rows())
    for label, value, note in found.rows():
        shown = f"{value:%Y-%m-%d}" if hasattr(value, "strftime") else (f"{value:.4f}" if isinstance(value, float)
                                                                        else str(value))
        lines.append(f"  {label:<{width}}  {shown:<40} {note}")
    emit("signal", argv=None, title="signal", text="\n".join(lines), data=data, as_json=args.json, record=False)
    return 0
