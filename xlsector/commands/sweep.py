"""``xlsector sweep``: the strategy finder over combinations of K funds, on Dask (SPEC §4, "Sweep")."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from xlsector.commands.args import tickers_arg
from xlsector.commands.backtest import add_data_arguments, add_profile_dirs
from xlsector.commands.params_cli import add_param_flags, given_params
from xlsector.params import Strategy, TuningParams

#: The columns of the printed table: (row field, heading, format).
_SHOWN = [
    ("rank", "rank", None), ("funds", "funds", None),
    ("oos_cagr", "OOS CAGR", "%"), ("oos_sharpe", "OOS Sharpe", ".3f"), ("oos_max_drawdown", "OOS MaxDD", "%"),
    ("oos_trades", "OOS trades", ".0f"), ("current_tc", "tc now", "g"),
    ("is_tc", "IS tc", "g"), ("is_cagr", "IS CAGR", "%"), ("is_sharpe", "IS Sharpe", ".3f"),
    ("peak_tc", "peak tc", "g"), ("plateau", "plateau", None), ("bench_cagr", "bench CAGR", "%"),
]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "sweep",
        help="strategy finder: every combination of K funds, tuned and walked forward, ranked out of sample",
        description="Evaluate every combination of K funds out of --funds (or a random --sample of them): the "
        "trend chart (in sample) and FWPT (out of sample, after the born-on date) of each, ranked by the "
        "out-of-sample Sharpe ratio, with the trial count N of the whole sweep, the Deflated Sharpe Ratio of "
        "the best result and the PBO across combinations. Runs on Dask (a local cluster of one worker per "
        "core by default, or --scheduler ADDRESS); results are stored as they arrive (--store), so an "
        "interrupted sweep continues with --resume.",
    )
    add_data_arguments(parser, vix=False)
    add_profile_dirs(parser)
    parser.add_argument("--profile", metavar="NAME", help="take funds, index, bear, benchmark and strategy "
                        "parameters from a trend profile; flags override it")
    parser.add_argument("--funds", type=tickers_arg, metavar="A,B,...", help="candidate funds (default: the profile's)")
    parser.add_argument("--choose", metavar="K", help="funds per combination: K, a range K1-K2, or K1,K2")
    parser.add_argument("--sample", metavar="N", help="evaluate N combinations drawn at "
                        "random (without replacement) instead of all")
    parser.add_argument("--seed", metavar="S", help="seed of --sample (default 0)")
    parser.add_argument("--index", metavar="COLUMN", help="StormGuard index column (default: the profile's)")
    parser.add_argument("--bear", type=tickers_arg, metavar="A,B", help="bear-market funds held in StormGuard's bear state")
    parser.add_argument("--benchmark", metavar="COLUMN", help="benchmark column (default: each combination's "
                        "equal-weight buy-and-hold)")
    add_param_flags(parser, Strategy, [n for n in Strategy.names() if n != "tc"])
    add_param_flags(parser, TuningParams, ("tc_min", "tc_max", "tc_step", "born_on", "retune_days", "plateau"))
    parser.add_argument("--no-defer", action="store_true", help="FWPT adopts a new tc even if it forces a trade")
    run_group = parser.add_argument_group("where and how it runs")
    run_group.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler (tcp://host:8786) "
                           "instead of a local cluster")
    run_group.add_argument("--workers", metavar="N", help="local cluster worker "
                           "processes (default: one per core)")
    run_group.add_argument("--threads", metavar="N", default=1,
                           help="threads per local worker (default 1)")
    run_group.add_argument("--batch", metavar="N", default=20,
                           help="combinations per Dask task (default 20)")
    run_group.add_argument("--store", metavar="FILE", help="SQLite file of the results (default: "
                           "<xlsector home>/sweeps/sweep-<hash of the inputs>.sqlite)")
    run_group.add_argument("--resume", action="store_true", help="continue the sweep in --store (only the "
                           "combinations not stored yet run)")
    run_group.add_argument("--overwrite", action="store_true", help="start over even if --store exists")
    out = parser.add_argument_group("output")
    out.add_argument("--top", metavar="N", default=20, help="rows printed (default 20)")
    out.add_argument("--output", metavar="FILE", help="every row, ranked, to a .csv or .parquet file")
    out.add_argument("--workbook", metavar="FILE", help="write a Sweep sheet into this workbook (atomically)")
    out.add_argument("--pbo-blocks", metavar="S", default=16,
                     help="CSCV blocks of the PBO (even, default 16)")
    out.add_argument("--pbo-max", metavar="N", default=5000,
                     help="most combinations in the PBO matrix (a seeded subset above; default 5000)")
    parser.set_defaults(run=run)
    return parser


def _whole(args: argparse.Namespace, name: str, low: int) -> int | None:
    """A whole-number flag (kept as text by argparse so that a bad value is one ``Error:`` line)."""
    from xlsector.errors import ParameterError

    text = getattr(args, name)
    if text is None:
        return None
    try:
        value = int(str(text))
    except ValueError:
        value = low - 1
    if value < low:
        flag = "--" + name.replace("_", "-")
        raise ParameterError(f"{flag} must be a whole number >= {low}, got {text!r}")
    return value


_WHOLE = {"sample": 1, "seed": 0, "workers": 1, "threads": 1, "batch": 1, "top": 1, "pbo_blocks": 2, "pbo_max": 2}


def _spec(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """(prices, SweepSpec, data description) from the arguments; every check that needs no prices first."""
    from xlsector.errors import ParameterError
    from xlsector.profiles.inputs import load_inputs
    from xlsector.sweep import SweepSpec, choose_values

    for name, low in _WHOLE.items():
        setattr(args, name, _whole(args, name, low))
    profile = None
    if args.profile:
        from xlsector.profiles import load_profile

        profile = load_profile(args.profile, args.profiles_dir)
        if profile.strategy != "trend":
            raise ParameterError(f"--profile {profile.name}: sweep needs a trend profile, got a {profile.strategy} "
                                 "profile")
    if not args.choose:
        raise ParameterError("--choose K is required (funds per combination: K, a range K1-K2, or K1,K2)")
    try:
        choose = choose_values(args.choose)
    except ParameterError:
        raise ParameterError(f"--choose must be a whole number >= 1 or a range like 3-5, got {args.choose!r}") from None
    funds = args.funds or (list(profile.funds) if profile and profile.funds else [])
    if not funds:
        raise ParameterError("--funds A,B,... is required (the candidate funds), or a --profile with funds")
    if max(choose) > len(funds):
        raise ParameterError(f"--choose {args.choose}: K must be at most the number of candidate funds "
                             f"({len(funds)} in --funds), got {max(choose)}")
    strategy: dict[str, Any] = dict(profile.params) if profile else {}
    strategy.pop("tc", None)
    strategy.update(given_params(args, Strategy))
    tuning_values = given_params(args, TuningParams)
    if args.no_defer:
        tuning_values["defer"] = False
    tuning = TuningParams(**tuning_values)
    for flag in ("output", "workbook"):
        _check_output(getattr(args, flag), flag)
    inputs = load_inputs(args.prices)
    index = args.index or (profile.index if profile else None)
    if strategy.get("stormguard") in (None, "off"):
        if args.index:  # said by the user, and it would change nothing: say so rather than ignore it
            raise ParameterError(f"--index {args.index} is StormGuard's index, and StormGuard is off; add "
                                 "--stormguard standard (or quick), or leave --index out")
        index = None
    elif index is None:
        raise ParameterError("--stormguard needs --index COLUMN (the S&P 500 price index)")
    bear = args.bear or (list(profile.bear) if profile and profile.bear else [])
    benchmark = args.benchmark or (profile.benchmark if profile else None)
    spec = SweepSpec(funds=tuple(funds), choose=choose, sample=args.sample,
                     seed=args.seed if args.seed is not None else (0 if args.sample is not None else None),
                     strategy=strategy, tuning=tuning, index=index, bear=tuple(bear), benchmark=benchmark)
    return inputs.prices, spec, inputs.source


def _check_output(path: str | None, flag: str) -> None:
    from xlsector.errors import ParameterError
    from xlsector.fileio import check_writable

    if path is None:
        return
    target = Path(path)
    if flag == "output" and target.suffix.lower() not in (".csv", ".parquet"):
        raise ParameterError(f"--output must name a .csv or .parquet file, got {path!r}")
    if flag == "output" and target.suffix.lower() == ".parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise ParameterError("--output FILE.parquet needs pyarrow: pip install 'xlsector[parquet]' (or write "
                                 ".csv)")
    if flag == "workbook" and not target.is_file():
        raise ParameterError(f"--workbook {path}: no such workbook")
    check_writable(target)


def run(args: argparse.Namespace) -> int:
    from xlsector.runs import emit
    from xlsector.sweep import ClusterOptions, SweepInterrupted, run_sweep
    from xlsector.sweep.plan import check_spec

    prices, spec, source = _spec(args)
    spec = check_spec(prices, spec)  # every error before the cluster starts
    cluster = ClusterOptions(workers=args.workers, threads=args.threads, scheduler=args.scheduler, batch=args.batch)
    try:
        report = run_sweep(prices, spec, store=args.store, resume=args.resume, overwrite=args.overwrite,
                           cluster=cluster, pbo_blocks=args.pbo_blocks, pbo_max=args.pbo_max)
    except SweepInterrupted as stop:
        print(f"Interrupted: {stop.done:,} of {stop.planned:,} combinations are stored in {stop.store}; run the "
              "same command with --resume to continue.", file=sys.stderr)
        return 130
    if args.output:
        _write_table(report.table, Path(args.output))
    if args.workbook:
        from xlsector.workbook.sheet_sweep import write_sweep_sheet

        write_sweep_sheet(args.workbook, report, data=source)
    from xlsector.commands.honest import disclosure_lines

    text = "\n".join([*disclosure_lines(source), _text(report, spec, source, args.top)])
    data = {"command": "sweep", "data": source, **report.summary(), "top": report.top(args.top)}
    summary = {"best": report.best.funds if report.best else None,
               "dsr": report.best.dsr if report.best else None,
               "pbo": report.pbo.pbo if report.pbo else None, "trials": report.trials.trials}
    emit("sweep", argv=sys.argv[1:], title=f"sweep {len(spec.funds)} funds choose {args.choose}", text=text,
         data=data, as_json=args.json, summary=summary)
    return 0


def _write_table(table: Any, path: Path) -> None:
    from xlsector.fileio import atomic_output

    with atomic_output(path) as tmp:
        if path.suffix.lower() == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)


def _text(report: Any, spec: Any, source: str, top: int) -> str:
    from xlsector.runs import format_table

    shown = report.top(top).copy()
    shown["plateau"] = [f"{lo:g}-{hi:g}" for lo, hi in zip(shown["plateau_lo"], shown["plateau_hi"])]
    shown = shown[[name for name, _, _ in _SHOWN]].rename(columns={n: h for n, h, _ in _SHOWN})
    formats = {h: f for _, h, f in _SHOWN if f}
    tuning = spec.tuning
    lines = [
        f"Sweep: {len(spec.funds)} candidate funds ({', '.join(spec.funds)}), choose {','.join(map(str, spec.choose))}"
        + (f"; a random sample of {spec.sample:,} (seed {spec.seed})" if spec.sample else ""),
        f"Data: {source}",
        f"Strategy: {', '.join(f'{k}={v}' for k, v in spec.strategy.items()) or 'defaults'}"
        + (f"; StormGuard index {spec.index}" if spec.index else "") + (f"; bear {', '.join(spec.bear)}" if spec.bear
                                                                        else ""),
        f"Tuning: tc {tuning.tcs[0]:g}..{tuning.tcs[-1]:g} ({len(tuning.tcs)} tcs); FWPT born on "
        f"{tuning.born_on or 'five years after each combination data start'}, retune every {tuning.retune_days} "
        f"market days, deferral {'on' if tuning.defer else 'off'}",
        f"Store: {report.store} ({report.done:,} of {report.planned:,} combinations)",
        "",
        f"Top {min(top, len(shown))} of {len(report.table):,}, RANKED OUT OF SAMPLE (walk-forward Sharpe after the "
        "born-on date); IS = the in-sample best tc (hindsight) over the same days:",
        format_table(shown, formats=formats, index=False),
        "",
        f"Trials: {report.trials.describe()}",
        f"  ({report.trials.formula})",
    ]
    if report.best is not None:
        b = report.best
        lines.append(
            f"Best out of sample: {b.funds}: Sharpe {b.oos_sharpe:.3f} (annualised); PSR {b.psr:.3f} (one trial); "
            f"DSR {b.dsr:.3f} with N = {b.n_trials:,} (expected maximum Sharpe of N unskilled trials "
            f"{b.expected_max_sr_annual:.3f} annualised; variance of the combinations' daily Sharpe "
            f"{b.trials_sr_var:.3g})"
        )
    if report.pbo is not None:
        p = report.pbo
        lines.append(
            f"PBO across combinations: {p.pbo:.3f} (CSCV, {p.blocks} blocks, {p.n_combinations_cscv:,} splits; "
            f"{p.columns:,} combinations x {p.n_obs:,} out-of-sample days {p.start:%Y-%m-%d}..{p.end:%Y-%m-%d}; "
            f"median logit {p.logits_median:.2f}; degradation slope {p.slope:.2f}, R2 {p.r2:.2f}; probability of "
            f"loss {p.prob_loss:.3f})"
        )
    lines.append(f"In-sample vs out-of-sample Sharpe, rank correlation: {report.in_out_correlation:.2f}")
    lines += [f"Note: {n}" for n in report.notes]
    lines += ["", "Definitions: OOS = FWPT walk-forward after the born-on date (each tc chosen on data before the "
              "days it trades); IS = the tc with the best score on the whole period, shown over the same days; "
              "Sharpe = mean/std of daily returns x sqrt(252), rf 0; MaxDD = min(V/running max V) - 1; trades = "
              "changes of holding; peak tc and plateau from the trend chart over the whole period (in sample)."]
    return "\n".join(lines)
