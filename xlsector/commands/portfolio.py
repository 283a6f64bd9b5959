"""``xlsector portfolio``: several strategies combined with weights and a rebalance schedule; metrics against a
benchmark, the strategies' correlation, and the shares of each fund to hold now for an amount."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from xlsector.commands.backtest import add_data_arguments, add_profile_dirs

_KINDS = "profile:NAME, sweep:STORE[#RANK or #A,B,C], workbook:FILE, funds:A,B,C[@TC]"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from xlsector.portfolio import REBALANCE

    parser = subparsers.add_parser(
        "portfolio",
        help="a portfolio of strategies: weights, rebalancing, metrics, correlation, shares to hold now",
        description="Combine strategies with weights and a rebalance schedule over the days they all cover; "
        "print the metrics of the portfolio, of each strategy and of the benchmark over the same days, the "
        "strategies' correlation and, with --amount, the shares of each fund to hold now at the last prices. "
        f"Strategies (--strategy, repeated): {_KINDS} (funds without @TC: FWPT-tuned, out of sample).",
    )
    add_data_arguments(parser, vix=False)
    add_profile_dirs(parser)
    parser.add_argument("--strategy", metavar="KIND:REF", action="append", default=[],
                        help=f"a strategy: {_KINDS} (repeat for each)")
    parser.add_argument("--weights", metavar="W1,W2,...", help="one weight per strategy, normalised to sum to 1 "
                        "(default: equal)")
    parser.add_argument("--rebalance", metavar="WHEN", default="monthly",
                        help=f"one of {', '.join(REBALANCE)} (default monthly: at the last close of each month)")
    parser.add_argument("--benchmark", metavar="COLUMN", help="benchmark price column of --prices, bought and held "
                        "(e.g. SPY)")
    parser.add_argument("--amount", metavar="MONEY", help="allocate this amount: shares of each fund to hold now")
    parser.add_argument("--fractional", action="store_true", help="fractional shares (default: whole shares, "
                        "the rest in cash)")
    parser.add_argument("--workbook", metavar="FILE", help="write a Portfolio sheet into this workbook (atomically)")
    parser.set_defaults(run=run)
    return parser


def parse_strategy(text: str) -> tuple[str, str, str | None]:
    """``KIND:REF[#PART]`` -> (kind, ref, part); ``funds:A,B@50`` -> ("funds", "A,B", "50")."""
    from xlsector.errors import ParameterError

    kind, sep, rest = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ("profile", "sweep", "workbook", "funds") or not rest.strip():
        raise ParameterError(f"--strategy must be one of {_KINDS}, got {text!r}")
    if kind == "sweep" and "#" in rest:
        ref, _, part = rest.rpartition("#")
        return kind, ref, part
    if kind == "funds" and "@" in rest:
        ref, _, part = rest.rpartition("@")
        return kind, ref, part
    return kind, rest, None


def _sleeves(args: argparse.Namespace, prices: Any) -> list[Any]:
    from xlsector.contract import split_tickers
    from xlsector.errors import ParameterError
    from xlsector.portfolio import (
        sleeve_from_profile,
        sleeve_from_rotation,
        sleeve_from_sweep,
        sleeve_from_workbook,
    )

    out = []
    for text in args.strategy:
        kind, ref, part = parse_strategy(text)
        if kind == "profile":
            out.append(sleeve_from_profile(ref, prices, profiles_dir=args.profiles_dir))
        elif kind == "workbook":
            if not Path(ref).is_file():
                raise ParameterError(f"--strategy {text}: no such workbook")
            out.append(sleeve_from_workbook(ref))
        elif kind == "sweep":
            rank, funds = None, None
            if part is not None and part.strip().isdigit():
                rank = int(part)
            elif part:
                funds = split_tickers(part)
            out.append(sleeve_from_sweep(ref, prices, rank=rank, funds=funds))
        else:
            tc = None
            if part is not None:
                try:
                    tc = float(part)
                except ValueError:
                    raise ParameterError(f"--strategy {text}: the trend constant after @ must be a number") from None
            funds = split_tickers(ref)
            name = ",".join(funds) + (f" tc {tc:g}" if tc is not None else " FWPT")
            out.append(sleeve_from_rotation(name, prices, funds, tc=tc))
    return out


def _numbers(text: str | None, flag: str) -> list[float] | None:
    from xlsector.errors import ParameterError

    if text is None:
        return None
    try:
        return [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ParameterError(f"{flag} must be numbers separated by commas, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from xlsector.errors import ParameterError
    from xlsector.portfolio import REBALANCE, allocate, combine, normalise_weights
    from xlsector.profiles.inputs import load_inputs
    from xlsector.runs import emit

    if not args.strategy:
        raise ParameterError(f"--strategy is required (at least one): {_KINDS}")
    for text in args.strategy:
        parse_strategy(text)
    weights = normalise_weights(_numbers(args.weights, "--weights"), len(args.strategy))
    if args.rebalance not in REBALANCE:
        raise ParameterError(f"--rebalance must be one of {', '.join(REBALANCE)}, got {args.rebalance!r}")
    amount = None
    if args.amount is not None:
        values = _numbers(args.amount, "--amount") or []
        if len(values) != 1 or not values[0] > 0:
            raise ParameterError(f"--amount must be a number > 0, got {args.amount!r}")
        amount = values[0]
    if args.workbook:
        from xlsector.fileio import check_writable

        if not Path(args.workbook).is_file():
            raise ParameterError(f"--workbook {args.workbook}: no such workbook")
        check_writable(args.workbook)
    inputs = load_inputs(args.prices)
    prices = inputs.prices
    if args.benchmark and args.benchmark not in prices.columns:
        raise ParameterError(f"--benchmark {args.benchmark!r} is not a column of the prices ({inputs.source})")
    sleeves = _sleeves(args, prices)
    result = combine(sleeves, weights, rebalance=args.rebalance,
                     benchmark=prices[args.benchmark] if args.benchmark else None, benchmark_label=args.benchmark)
    allocation = allocate(sleeves, amount, weights, whole_shares=not args.fractional) if amount else None
    if args.workbook:
        from xlsector.workbook.sheet_portfolio import write_portfolio_sheet

        write_portfolio_sheet(args.workbook, result, allocation)
    from xlsector.commands.honest import disclosure_lines

    text = "\n".join([*disclosure_lines(inputs.source), _text(result, allocation, inputs.source)])
    data: dict[str, Any] = {"command": "portfolio", "data": inputs.source, **result.summary(),
                            "metrics": result.metrics(), "correlation": result.correlation()}
    if allocation is not None:
        data["allocation"] = {"amount": allocation.amount, "cash": allocation.cash, "table": allocation.table}
    summary = {"CAGR": result.metrics().at["CAGR", "portfolio"], "Sharpe": result.metrics().at["Sharpe ratio",
                                                                                              "portfolio"]}
    emit("portfolio", argv=sys.argv[1:], title=f"portfolio of {len(sleeves)} strategies", text=text, data=data,
         as_json=args.json, summary=summary)
    return 0


def _text(result: Any, allocation: Any, source: str) -> str:
    from xlsector.runs import format_table

    start, end = result.period
    metrics = result.metrics()
    lines = [f"Portfolio of {len(result.sleeves)} strategies, rebalanced {result.rebalance}", f"Data: {source}",
             f"Period (every strategy covers it): {start:%Y-%m-%d} (start point) to {end:%Y-%m-%d}", ""]
    for sleeve, weight in zip(result.sleeves, result.weights):
        lines.append(f"  {weight:6.1%}  {sleeve.name}: {sleeve.source}; {sleeve.sample}")
    lines += ["", "Metrics over the same days:", format_table(metrics.drop(columns=["definition"])), "",
              "Correlation of the strategies' daily returns:", format_table(result.correlation(),
                                                                            formats={c: ".2f" for c in
                                                                                     result.correlation()}), ""]
    if allocation is not None:
        shown = allocation.table.copy()
        lines += [f"Allocation of {allocation.amount:,.2f} ({'whole' if allocation.whole_shares else 'fractional'} "
                  "shares at the last prices; each strategy's money goes to the fund it decided at the last close):",
                  format_table(shown, formats={"target": ",.2f", "price": ",.2f", "value": ",.2f", "weight": "%",
                                               "shares": ",.8g"}, index=False), ""]
    lines.append("Definitions: " + "; ".join(f"{k}: {v}" for k, v in metrics["definition"].items()
                                            if k in ("CAGR", "Sharpe ratio", "Max drawdown")))
    return "\n".join(lines)
