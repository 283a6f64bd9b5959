"""``xlsector experiment FILE``: run the phases of an experiment file and print the results table."""

from __future__ import annotations

import argparse
import sys

from xlsector.commands.args import add_period, check_period
from xlsector.commands.backtest import add_data_arguments, add_profile_dirs

SHOWN = [
    "CAGR",
    "Sharpe ratio",
    "Max drawdown",
    "Win rate (days)",
    "BPS",
    "Average leverage",
    "Exposure",
    "Trades",
]
OOS_SHOWN = ["OOS CAGR", "OOS Sharpe ratio", "OOS Max drawdown"]
FORMATS = {
    "CAGR": "%",
    "Max drawdown": "%",
    "Win rate (days)": "%",
    "Exposure": "%",
    "OOS CAGR": "%",
    "OOS Max drawdown": "%",
    "Sharpe ratio": ".3f",
    "BPS": ".3f",
    "Average leverage": ".2f",
    "OOS Sharpe ratio": ".3f",
    "Trades": ".0f",
}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "experiment",
        help="run an experiment file (phases of parameter grids) and print the results table",
        description="Run an experiment (TOML): phases of one-parameter grids, each starting from the best "
        "of the previous phase by the file's rank_by metric. FILE is a path or the name of a shipped "
        "experiment (four_phase_study, sample_four_phase).",
    )
    parser.add_argument("file", metavar="FILE", help="experiment .toml file (or a shipped experiment's name)")
    add_period(parser, "report from this date (replaces the file's start)",
               "stop at this date (replaces the file's end; later prices are not used)")
    add_profile_dirs(parser)
    add_data_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from xlsector.commands.honest import disclosure_lines, warn
    from xlsector.evaluation import experiment_report
    from xlsector.profiles import load_experiment, run_experiment
    from xlsector.profiles.experiment import RANK_METRICS
    from xlsector.profiles.inputs import load_inputs
    from xlsector.progress import Progress
    from xlsector.runs import emit, format_table

    experiment = load_experiment(args.file, args.profiles_dir)
    inputs = load_inputs(args.prices, args.vix)
    check_period(inputs.prices.index, args.start, args.end, inputs.source)
    if args.start or args.end:
        experiment = dataclasses.replace(experiment, start=args.start or experiment.start,
                                         end=args.end or experiment.end)
    total = sum(1 if p.combine else len(p.values) for p in experiment.phases)
    with Progress(total, label=f"experiment {experiment.name}") as bar:
        result = run_experiment(
            experiment, inputs.prices, vix=inputs.vix, on_run=lambda done, _: bar.advance()
        )
    table = result.table
    columns = ["phase", "parameter", "value"] + SHOWN
    if result.oos_period is not None:
        columns += OOS_SHOWN
    columns.append("best")
    shown = table[[c for c in columns if c in table.columns]].copy()
    shown["value"] = [f"{v:g}" if isinstance(v, float) else str(v) for v in shown["value"]]
    first, last = result.period
    sel0, sel1 = result.selection_period
    label, higher = RANK_METRICS[experiment.rank_by]
    lines = [
        f"Experiment {experiment.name}: {experiment.description}",
        f"File: {experiment.path}   Base profile: {experiment.base.name}   Rank by: {label} "
        f"({'higher' if higher else 'lower'} is better)",
        f"Data: {inputs.source}" + (f"; VIX: {inputs.vix_source}" if inputs.vix_source else ""),
        f"Period: {first:%Y-%m-%d} (start point) to {last:%Y-%m-%d}; every run reports over the same days.",
    ]
    if result.oos_period is not None:
        o0, o1 = result.oos_period
        lines.append(
            f"Selection (IN SAMPLE, the bests are chosen here): {sel0:%Y-%m-%d} to {sel1:%Y-%m-%d}. "
            f"OUT OF SAMPLE (columns OOS ...): {o0:%Y-%m-%d} to {o1:%Y-%m-%d}, never used for choosing."
        )
    else:
        lines.append("IN SAMPLE: the bests are chosen on the same days they are measured on (optimistic).")
    lines += ["", format_table(shown, formats=FORMATS, index=False), ""]
    overfit = experiment_report(result)
    lines += [
        f"Overfitting of each phase's best on the selection period (N = every grid point of every phase so far; "
        f"{overfit.attrs['n_total']} runs in all):",
        format_table(overfit[["best", "n_trials", "return_days", "sharpe_annual", "psr", "dsr", "pbo"]
                             + (["oos_psr"] if "oos_psr" in overfit.columns else [])],
                     formats={"n_trials": ".0f", "return_days": ".0f", "sharpe_annual": ".3f"}),
        *[f"  {phase}: {note}" for phase, note in overfit["pbo_note"].items() if note],
        f"  {overfit.attrs['definition']}; PBO metric: {overfit['pbo_metric'].iloc[0]}",
        f"  Conventions: {overfit.attrs['conventions']}",
        "",
        "Definitions:",
    ]
    lines += [f"  {k}: {v}" for k, v in result.definitions.items()]
    lines.append("  benchmark row: buy and hold of the base profile's benchmark over the same days")
    edges = [f"phase {phase}: the best {result.experiment.phases[i].parameter} ({line['best']}) is the edge of its "
             f"grid ({min(result.experiment.phases[i].values)}..{max(result.experiment.phases[i].values)}): the "
             "optimum may lie beyond it; widen the grid before trusting it"
             for i, (phase, line) in enumerate(overfit.iterrows()) if line["best_on_edge"]]
    warnings = warn(edges, as_json=args.json)
    lines = warnings + disclosure_lines(inputs.source) + lines
    text = "\n".join(lines)
    best_rows = table[table["best"]]
    data = {
        "command": "experiment",
        "experiment": {
            "name": experiment.name,
            "path": str(experiment.path),
            "description": experiment.description,
            "base": experiment.base.name,
            "rank_by": experiment.rank_by,
        },
        "data": inputs.source,
        "period": [first, last],
        "selection_period": [sel0, sel1],
        "out_of_sample_period": list(result.oos_period) if result.oos_period else None,
        "sample": "bests chosen on the selection period (in sample); OOS columns out of sample"
        if result.oos_period
        else "in sample",
        "definitions": result.definitions,
        "results": table.drop(columns=["changes"]),
        "best": result.best,
        "overfitting": overfit,
        "warnings": [w.removeprefix("warning: ") for w in warnings],
        "overfitting_definition": overfit.attrs["definition"],
        "conventions": overfit.attrs["conventions"],
    }
    summary = {
        "best": result.best.get("params", {}),
        "rows": len(table),
        "best_sharpe": best_rows["Sharpe ratio"].iloc[-1] if len(best_rows) else None,
        "n_trials": overfit.attrs["n_total"],
        "dsr": overfit["dsr"].iloc[-1],
    }
    emit(
        "experiment",
        argv=sys.argv[1:],
        title=f"experiment {experiment.name}",
        text=text,
        data=data,
        as_json=args.json,
        summary=summary,
    )
    return 0
