"""``xlsector backtest --profile NAME``: run a named profile (TOML) and print its metrics table."""

from __future__ import annotations

import argparse
import sys

from xlsector.commands.args import add_period, check_period


def add_data_arguments(parser: argparse.ArgumentParser, *, vix: bool = True) -> None:
    """--prices / --vix / --json, shared by backtest, experiment and tune."""
    parser.add_argument(
        "--prices",
        metavar="FILE",
        help="prices: CSV (Date + one column per ticker), .xlsx or workbook; default: the bundled sample",
    )
    if vix:
        parser.add_argument(
            "--vix",
            metavar="FILE",
            help="VIX closes (CSV: Date + Close), for VIX leverage when the prices lack a VIX column",
        )
    parser.add_argument("--json", action="store_true", help="print JSON (for machines) instead of tables")


def add_profile_dirs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profiles-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="extra folder of profile .toml files, searched first (repeatable; also env XLSECTOR_PROFILES)",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "backtest",
        help="backtest a named profile (momentum rotation or trend rotation)",
        description="Backtest a named profile (TOML: xlsector/profiles, --profiles-dir or XLSECTOR_PROFILES) "
        "and print its metrics next to the benchmark over the same days. --list shows the known profiles.",
    )
    parser.add_argument("--profile", metavar="NAME", help="profile name (or path to a .toml file)")
    parser.add_argument("--list", action="store_true", help="list the known profiles and exit")
    add_period(parser, "report from this date (signals still warm up before it)",
               "stop at this date (later prices are not used)")
    add_profile_dirs(parser)
    add_data_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def _list(args: argparse.Namespace) -> int:
    import pandas as pd

    from xlsector.profiles import list_profiles, load_profile
    from xlsector.runs import format_table

    rows = []
    for name, path in list_profiles(args.profiles_dir).items():
        profile = load_profile(path)
        rows.append(
            {
                "profile": name,
                "strategy": profile.strategy,
                "description": profile.description,
                "path": str(path),
            }
        )
    if args.json:
        import json

        print(json.dumps(rows, indent=1))
    else:
        print(format_table(pd.DataFrame(rows).drop(columns="path"), index=False))
    return 0


def run(args: argparse.Namespace) -> int:
    from xlsector.errors import ParameterError

    if args.list:
        return _list(args)
    if not args.profile:
        from xlsector.profiles import list_profiles

        raise ParameterError(
            f"--profile NAME is required; known profiles: {', '.join(list_profiles(args.profiles_dir))}"
        )
    from xlsector.benchmarks import as_columns, fair_benchmarks, primary_label
    from xlsector.commands.honest import benchmark_lines, disclosure_lines, overfit_lines
    from xlsector.evaluation import track_record_report
    from xlsector.profiles import load_profile, run_profile
    from xlsector.profiles.inputs import load_inputs
    from xlsector.profiles.run import columns_needed
    from xlsector.runs import emit, format_table

    profile = load_profile(args.profile, args.profiles_dir)
    inputs = load_inputs(args.prices, args.vix)
    check_period(inputs.prices.index, args.start, args.end, inputs.source)
    result = run_profile(profile, inputs.prices, vix=inputs.vix, start=args.start, end=args.end)
    first, last = result.period
    primary = primary_label(f"buy-and-hold {profile.benchmark}" if profile.benchmark else
                            getattr(result.result, "benchmark_label", "equal-weight buy-and-hold"))
    index = inputs.prices[profile.index] if profile.index and profile.index in inputs.prices.columns else None
    fair = fair_benchmarks(inputs.prices[columns_needed(profile, inputs.prices)], result.returns.index,
                           primary=primary, index=index if profile.benchmark != profile.index else None)
    table = result.metrics(benchmarks=as_columns(fair))
    record = track_record_report(result.returns.to_numpy()[1:], subject=f"profile {profile.name}",
                                 selected_label=profile.name, period=result.period)
    params = ", ".join(f"{k}={v}" for k, v in profile.params.items())
    extra = ""
    if profile.strategy == "momentum":
        extra = (
            f"Average leverage (invested days): {result.result.average_leverage:.3f}   "
            f"Time invested: {100 * result.result.exposure:.1f}%\n"
        )
    shown = table.drop(columns=["definition"])
    lines = [
        *disclosure_lines(inputs.source),
        f"Profile {profile.name} ({profile.strategy}): {profile.description}",
        f"File: {profile.path}",
        f"Parameters: {params}",
        f"Data: {inputs.source}" + (f"; VIX: {inputs.vix_source}" if inputs.vix_source else ""),
        f"Period: {first:%Y-%m-%d} (start point) to {last:%Y-%m-%d}, {len(result.returns) - 1} return days. "
        "Sample: the whole period with the profile's fixed parameters (no tuning here; if they were chosen "
        "on these data, the figures are in sample).",
        f"Benchmark: {primary}, buy and hold over the same days; and the fair benchmarks below.",
        "",
        format_table(shown, formats={}),
        *benchmark_lines(primary, fair),
        "",
        *overfit_lines(record, "Track record (fixed parameters)"),
        "",
        extra + "Definitions:",
    ]
    lines += [f"  {label}: {definition}" for label, definition in table["definition"].items()]
    text = "\n".join(lines)
    data = {
        "command": "backtest",
        "profile": profile.to_dict(),
        "data": inputs.source,
        "period": [first, last],
        "sample": "whole period, fixed parameters (in sample if they were chosen on these data)",
        "metrics": table,
        "benchmarks": {"benchmark": primary, **{k: b.label for k, b in fair.items()}},
        "track_record": record.to_dict(),
        "average_leverage_invested": getattr(result.result, "average_leverage", None),
        "time_invested": getattr(result.result, "exposure", None),
    }
    summary = {
        "CAGR": table.at["CAGR", "strategy"],
        "Sharpe ratio": table.at["Sharpe ratio", "strategy"],
        "Max drawdown": table.at["Max drawdown", "strategy"],
        "period": [first, last],
    }
    emit(
        "backtest",
        argv=sys.argv[1:],
        title=f"backtest {profile.name}",
        text=text,
        data=data,
        as_json=args.json,
        summary=summary,
    )
    return 0
