"""``xlsector tune trend-chart|fwpt|split-sample|progressive``: tune the trend constant (SPEC §4)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xlsector.commands.args import add_period, check_period, tickers_arg, trend_universe
from xlsector.commands.backtest import add_data_arguments, add_profile_dirs
from xlsector.commands.params_cli import add_param_flags, given_params
from xlsector.params import Strategy, TuningParams, param_of


def _common(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser, vix=False)
    add_period(parser, "use the prices from this date on (it becomes the data start)",
               "use the prices up to this date (later ones are not used)")
    add_profile_dirs(parser)
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="take funds, index, benchmark and parameters from a "
        "trend profile (e.g. sectorsurfer_trend, sample_trend); flags below override it",
    )
    parser.add_argument(
        "--funds",
        type=tickers_arg,
        metavar="A,B,...",
        help="fund columns (default: every column except the index, benchmark and bear columns)",
    )
    parser.add_argument(
        "--index", metavar="COLUMN", help="StormGuard index column (default ^GSPC when present)"
    )
    parser.add_argument(
        "--benchmark",
        metavar="COLUMN",
        help="buy-and-hold benchmark column (default: equal-weight buy-and-hold of the funds)",
    )
    parser.add_argument("--bear", type=tickers_arg, metavar="A,B", help="bear-market funds held in StormGuard's bear state")
    add_param_flags(parser, TuningParams, ("tc_min", "tc_max", "tc_step"))
    add_param_flags(parser, Strategy, [n for n in Strategy.names() if n != "tc"])


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tune",
        help="tune the trend constant: trend chart, FWPT, stationarity",
        description="Tune the trend constant of the SectorSurfer-style rotation over a grid (default 2..200).",
    )
    sub = parser.add_subparsers(dest="tune_command", metavar="WHAT", required=True)
    chart = sub.add_parser(
        "trend-chart",
        help="score, CAGR, switches and max drawdown per trend constant",
        description="Trend chart: score against trend constant, its peak and plateau (in sample).",
    )
    _common(chart)
    chart.add_argument(
        "--score",
        default="cumulative",
        help="'cumulative' (default) or a half-life in market days for the recency-weighted score",
    )
    add_param_flags(chart, TuningParams, ("plateau",))
    chart.add_argument(
        "--full", action="store_true", help="print every tc (default: every 5th, the plateau and peak)"
    )
    chart.set_defaults(run=run)
    walk = sub.add_parser(
        "fwpt",
        help="Forward Walk Progressive Tuning: out-of-sample walk-forward",
        description="FWPT: tune through the born-on date, retune every RETUNE_DAYS market days on "
        "the cumulative score from the data start; metrics after the born-on date only.",
    )
    _common(walk)
    add_param_flags(walk, TuningParams, ("born_on", "retune_days"))
    walk.add_argument(
        "--no-defer", action="store_true", help="adopt a new tc even if it forces an immediate trade"
    )
    walk.set_defaults(run=run)
    split = sub.add_parser(
        "split-sample", help="trend charts of the first half, second half and whole period"
    )
    _common(split)
    split.add_argument("--score", default="cumulative", help="'cumulative' or a half-life in market days")
    split.set_defaults(run=run)
    prog = sub.add_parser(
        "progressive", help="progressive-tune stationarity: best tc on the prior WINDOW days"
    )
    _common(prog)
    prog.add_argument("--window", type=int, default=250, help="scoring window, market days (default 250)")
    prog.add_argument("--step", type=int, default=125, help="retune every STEP market days (default 125)")
    prog.set_defaults(run=run)
    robust = sub.add_parser(
        "robustness",
        help="tc x hysteresis map, timing luck of the decision day, FWPT's retune interval",
        description="Robustness of the tuned rotation (in sample): CAGR over tc x hysteresis with the chosen point "
        "(the trend chart's peak) marked, the same strategy with its decision day shifted 0..4 market days (timing "
        "luck), and FWPT out of sample for retune intervals 63, 125, 250 market days.",
    )
    _common(robust)
    add_param_flags(robust, TuningParams, ("born_on", "retune_days"))
    robust.add_argument("--values", metavar="H,H,...", help="hysteresis values of the map (default 0,0.005,0.01,"
                        "0.02,0.04 and the chosen one)")
    robust.add_argument("--metric", choices=("CAGR", "score", "Sharpe"), default="CAGR", help="metric of the map")
    robust.add_argument("--tc", type=float, help="trend constant of the timing-luck check (default: the trend "
                        "chart's peak)")
    robust.set_defaults(run=run)
    return parser


def _setup(args: argparse.Namespace) -> tuple[Any, dict[str, Any], TuningParams, str]:
    funds, kwargs, tuning, describe, _ = _setup_with_source(args)
    return funds, kwargs, tuning, describe


def _setup_with_source(args: argparse.Namespace) -> tuple[Any, dict[str, Any], TuningParams, str, Any]:
    """Prices, keyword arguments for the tuning function, the tuning parameters and a description."""
    from xlsector.errors import ParameterError
    from xlsector.profiles.inputs import load_inputs

    profile = None
    if args.profile:
        from xlsector.profiles import load_profile

        profile = load_profile(args.profile, args.profiles_dir)
        if profile.strategy != "trend":
            raise ParameterError(
                f"--profile {profile.name}: tune needs a trend profile, got a {profile.strategy} profile"
            )
    inputs = load_inputs(args.prices)
    check_period(inputs.prices.index, args.start, args.end, inputs.source)
    prices = inputs.prices.loc[args.start:args.end] if args.start or args.end else inputs.prices
    benchmark = args.benchmark or (profile.benchmark if profile else None)
    funds, index, bear = trend_universe(args, profile, prices, inputs.source, benchmark=benchmark)
    strategy: dict[str, Any] = dict(profile.params) if profile else {}
    strategy.pop("tc", None)
    strategy.update(given_params(args, Strategy))
    if strategy.get("stormguard") not in (None, "off") and index is None:
        raise ParameterError("--stormguard needs --index COLUMN (the S&P 500 price index)")
    given = given_params(args, TuningParams)
    grid = {name: given.get(name, param_of(TuningParams, name).default) for name in ("tc_min", "tc_max", "tc_step")}
    if grid["tc_step"] <= 0 or grid["tc_max"] < grid["tc_min"]:
        raise ParameterError(
            f"--tc-min/--tc-max/--tc-step must give a non-empty grid, got {grid['tc_min']:g}.."
            f"{grid['tc_max']:g} step {grid['tc_step']:g} (the grid is empty)"
        )
    tuning = TuningParams(**given)
    tcs = tuning.tcs
    kwargs = dict(strategy)
    kwargs["index"] = prices[index] if index and strategy.get("stormguard") not in (None, "off") else None
    kwargs["benchmark"] = prices[benchmark] if benchmark else None
    kwargs["bear"] = prices[bear] if bear else None
    describe = (
        f"Data: {inputs.source}"
        + (f" (used from {args.start or 'its first date'} to {args.end or 'its last date'})"
           if args.start or args.end else "")
        + f"\nFunds: {', '.join(funds)}"
        + (f"; bear: {', '.join(bear)}" if bear else "")
        + f"; benchmark: {benchmark or 'equal-weight buy-and-hold of the funds'}"
        + f"\nStrategy: {', '.join(f'{k}={v}' for k, v in strategy.items()) or 'defaults'}"
        + (f"; StormGuard index {index}" if kwargs["index"] is not None else "")
        + f"\nGrid: tc {tcs[0]:g}..{tcs[-1]:g} ({len(tcs)} trend constants)"
    )
    extra = {"source": inputs.source, "index": prices[index] if index else None}
    return prices[funds], kwargs, tuning, describe, extra


def _score(text: str) -> str | float:
    from xlsector.errors import ParameterError

    if text == "cumulative":
        return text
    try:
        return float(text)
    except ValueError:
        raise ParameterError(
            f"--score must be 'cumulative' or a half-life in market days, got {text!r}"
        ) from None


def run(args: argparse.Namespace) -> int:
    handler = {
        "trend-chart": _trend_chart,
        "fwpt": _fwpt,
        "split-sample": _split,
        "progressive": _progressive,
        "robustness": _robustness,
    }
    return handler[args.tune_command](args)


def _emit(args, name: str, title: str, text: str, data: dict, summary: dict) -> int:
    from xlsector.runs import emit

    emit(
        f"tune {name}",
        argv=sys.argv[1:],
        title=title,
        text=text,
        data=data,
        as_json=args.json,
        summary=summary,
    )
    return 0


def _grid_for(funds: Any, tuning: TuningParams, kwargs: dict[str, Any]) -> Any:
    from xlsector.backtesting import run_backtest_grid

    return run_backtest_grid(funds, tuning.tcs, **{k: v for k, v in kwargs.items() if v is not None or k not in
                                                   ("index", "benchmark", "bear")})


def _trend_chart(args: argparse.Namespace) -> int:
    from xlsector.commands.honest import disclosure_lines, overfit_lines, warn
    from xlsector.evaluation import trend_chart_report
    from xlsector.robustness import edge_report
    from xlsector.runs import format_table
    from xlsector.tuning import trend_chart

    funds, kwargs, tuning, describe, extra = _setup_with_source(args)
    grid = _grid_for(funds, tuning, kwargs)
    chart = trend_chart(funds, tcs=tuning.tcs, score=_score(args.score), plateau=tuning.plateau, grid=grid)
    edge = edge_report(chart)
    report = trend_chart_report(chart, grid)
    warnings = warn([edge.warning], as_json=args.json)
    table = chart.table
    if not args.full and len(table) > 40:
        keep = (table.index.to_series().reset_index(drop=True).index % 5 == 0) | table[
            "in_plateau"
        ].to_numpy()
        table = table[keep]
    lo, hi = chart.plateau
    lines = [
        *warnings,
        *disclosure_lines(extra["source"]),
        "Trend chart (IN SAMPLE: every tc is scored on the whole period it is shown for)",
        describe,
        f"Period: {chart.period[0]:%Y-%m-%d} (start point) to {chart.period[1]:%Y-%m-%d}",
        f"Score: {chart.score_label}",
        f"Peak: tc {chart.peak_tc:g}, score {chart.peak_score:.4f}; plateau (score within log(1 - {chart.plateau_tolerance:g}) "
        f"of the peak): tc {lo:g}..{hi:g}, width {chart.plateau_width:g}, {chart.plateau_count} tcs",
        f"Grid edge: {'YES, the peak is the grid' + chr(39) + 's ' + ('first' if edge.edge == 'low' else 'last') + ' tc' if edge.on_edge else 'no'}; "
        f"plateau touches the edge: {'yes (its width is a lower bound)' if edge.plateau_open else 'no'}",
        "",
        format_table(
            table.drop(columns=["growth"]),
            formats={"tc": "g", "CAGR": "%", "max_drawdown": "%", "score": ".4f", "switches": ".0f"},
        ),
        "",
        *overfit_lines(report, "Overfitting statistics of the peak tc"),
        "",
        "Definitions:",
    ]
    lines += [f"  {k}: {v}" for k, v in chart.definitions.items()]
    data = {
        "command": "tune trend-chart",
        **chart.summary(),
        "warnings": [w.removeprefix("warning: ") for w in warnings],
        "edge": {"peak_on_edge": edge.on_edge, "edge": edge.edge, "plateau_touches_edge": edge.plateau_open,
                 "score_rise_to_edge": edge.rise, "rise_span_tcs": edge.span, "warning": edge.warning},
        "overfitting": report.to_dict(),
        "definitions": chart.definitions,
        "table": chart.table,
    }
    summary = {"peak_tc": chart.peak_tc, "plateau": list(chart.plateau), "period": list(chart.period),
               "peak_on_edge": edge.on_edge, "dsr": report.dsr, "pbo": report.pbo.pbo if report.pbo else None}
    return _emit(args, "trend-chart", "trend chart", "\n".join(lines), data, summary)


def _fwpt(args: argparse.Namespace) -> int:
    from xlsector.benchmarks import as_columns, fair_benchmarks
    from xlsector.commands.honest import benchmark_lines, disclosure_lines, overfit_lines, warn
    from xlsector.evaluation import fwpt_report
    from xlsector.runs import format_table
    from xlsector.tuning import fwpt

    funds, kwargs, tuning, describe, extra = _setup_with_source(args)
    grid = _grid_for(funds, tuning, kwargs)
    born_on = None if tuning.born_on is None else str(tuning.born_on)
    result = fwpt(funds, born_on=born_on, retune_days=tuning.retune_days, defer=not args.no_defer, grid=grid)
    first, last = result.period
    fair = fair_benchmarks(funds, result.returns.index, primary=result.benchmark_label, index=extra["index"])
    table = result.metrics(benchmarks=as_columns(fair))
    report = fwpt_report(result, grid)
    edges = (float(grid.tcs[0]), float(grid.tcs[-1]))
    on_edge = float(result.retunes["best_tc"].isin(edges).mean())
    which = "first" if result.current_tc == edges[0] else "last"
    warnings = warn([f"the tuned tc now ({result.current_tc:g}) is the grid's {which} trend constant ({100 * on_edge:.0f} % "
                     "of the tunings chose an edge): the best tc may lie beyond the grid; widen it (--tc-min/--tc-max)"
                     if result.current_tc in edges else ""], as_json=args.json)
    lines = [
        *warnings,
        *disclosure_lines(extra["source"]),
        "Forward Walk Progressive Tuning",
        describe,
        f"Data start (two funds priced): {result.data_start:%Y-%m-%d}; earliest born-on (five years of the oldest "
        f"fund): {result.earliest_born_on:%Y-%m-%d}; born on: {result.born_on:%Y-%m-%d}",
        f"Retune: every {result.retune_days} market days on a decision day, score = {result.score_label} from the "
        f"data start; deferral {'on' if result.defer else 'off'}",
        f"OUT OF SAMPLE period (metrics): {first:%Y-%m-%d} (start point) to {last:%Y-%m-%d}, "
        f"{len(result.returns) - 1} return days",
        f"In-sample best tc (hindsight, whole period): {result.in_sample_tc:g}; current tc: {result.current_tc:g}",
        "",
        "Tunings:",
        format_table(result.retunes, formats={"best_tc": "g", "tc": "g"}, index=False),
        "",
        f"Metrics ({table.attrs['sample']}):",
        format_table(table.drop(columns=["definition"])),
        *benchmark_lines(result.benchmark_label, fair),
        "",
        *overfit_lines(report, "Overfitting statistics of the walk-forward (out of sample)"),
        "",
        "Definitions:",
    ]
    lines += [f"  {label}: {definition}" for label, definition in table["definition"].items()]
    data = {
        "command": "tune fwpt",
        "warnings": [w.removeprefix("warning: ") for w in warnings],
        "share_of_tunings_on_the_grid_edge": on_edge,
        "overfitting": report.to_dict(),
        "benchmarks": {"benchmark": result.benchmark_label, **{k: b.label for k, b in fair.items()}},
        "data_start": result.data_start,
        "born_on": result.born_on,
        "earliest_born_on": result.earliest_born_on,
        "retune_days": result.retune_days,
        "defer": result.defer,
        "score": result.score_label,
        "out_of_sample_period": [first, last],
        "in_sample_tc": result.in_sample_tc,
        "current_tc": result.current_tc,
        "sample": table.attrs["sample"],
        "retunes": result.retunes,
        "trades": result.trades,
        "metrics": table,
    }
    summary = {
        "born_on": result.born_on,
        "current_tc": result.current_tc,
        "oos_CAGR": table.at["CAGR", "walk_forward"],
        "oos_Sharpe": table.at["Sharpe ratio", "walk_forward"],
        "psr": report.psr,
        "dsr": report.dsr,
        "n_trials": report.n_trials,
    }
    return _emit(args, "fwpt", "FWPT", "\n".join(lines), data, summary)


def _split(args: argparse.Namespace) -> int:
    from xlsector.evaluation import split_sample_report
    from xlsector.runs import format_table
    from xlsector.tuning import split_sample

    funds, kwargs, tuning, describe = _setup(args)
    grid = _grid_for(funds, tuning, kwargs)
    frame = split_sample(funds, tcs=tuning.tcs, score=_score(args.score), grid=grid)
    stats = split_sample_report(frame, grid)
    periods = frame.attrs["periods"]
    lines = ["Split-sample stationarity (IN SAMPLE per column)", describe, f"Score: {frame.attrs['score']}"]
    for name, (a, b) in periods.items():
        lo, hi = frame.attrs["plateaus"][name]
        lines.append(
            f"  {name}: {a:%Y-%m-%d} to {b:%Y-%m-%d}; peak tc {frame.attrs['peaks'][name]:g}, "
            f"plateau {lo:g}..{hi:g}"
        )
    shown = frame if len(frame) <= 40 else frame.iloc[::5]
    oos = stats.attrs["out_of_sample"]
    lines += ["", format_table(shown, formats={"tc": "g", **{c: ".4f" for c in frame.columns}}), "",
              f"Overfitting of each window's peak (N = {len(tuning.tcs)} tcs, every tc of the grid; PBO by CSCV, "
              "16 blocks, on the score):",
              format_table(stats.drop(columns=["start", "end"]), formats={"peak_tc": "g", "n_trials": ".0f"}),
              f"Out of sample: the first half's peak tc {oos['first_half_peak_tc']:g} ranks "
              f"{oos['its_rank_in_second_half']} of {oos['of']} on the second half (1 = best; its own peak: tc "
              f"{oos['second_half_peak_tc']:g})",
              f"Conventions: {stats.attrs['conventions']}"]
    data = {
        "command": "tune split-sample",
        "overfitting": stats,
        "out_of_sample": oos,
        "score": frame.attrs["score"],
        "periods": periods,
        "peaks": frame.attrs["peaks"],
        "plateaus": frame.attrs["plateaus"],
        "table": frame,
    }
    return _emit(
        args, "split-sample", "split sample", "\n".join(lines), data, {"peaks": frame.attrs["peaks"]}
    )


def _progressive(args: argparse.Namespace) -> int:
    from xlsector.commands.honest import warn
    from xlsector.evaluation import progressive_report
    from xlsector.runs import format_table
    from xlsector.tuning import progressive_tune

    funds, kwargs, tuning, describe = _setup(args)
    frame = progressive_tune(funds, window=args.window, step=args.step, tcs=tuning.tcs, **kwargs)
    stats = progressive_report(frame, tuning.tcs)
    edge_share = stats["share_on_edge"]
    warnings = warn([f"{100 * edge_share:.0f} % of the tunings chose the grid's first or last tc: the grid may be "
                     "too narrow" if edge_share >= 0.25 else ""], as_json=args.json)
    lines = [
        *warnings,
        f"Progressive-tune stationarity: best tc on the prior {args.window} market days, every {args.step} "
        "(IN SAMPLE per window)",
        describe,
        f"Score: {frame.attrs['score']}",
        "",
        format_table(frame, formats={"tc": "g", "score": ".4f"}, index=False),
        "",
        f"Trials N = {stats['n_trials']:,.0f} ({stats['n_note']}); tuned tc median {stats['tuned_tc_median']:g}, "
        f"interquartile range {stats['tuned_tc_iqr']:g}; {100 * edge_share:.0f} % of the tunings on the grid's edge",
    ]
    data = {
        "command": "tune progressive",
        "overfitting": stats,
        "warnings": [w.removeprefix("warning: ") for w in warnings],
        "score": frame.attrs["score"],
        "window": args.window,
        "step": args.step,
        "table": frame,
    }
    return _emit(
        args, "progressive", "progressive tune", "\n".join(lines), data, {"tcs": frame["tc"].tolist()[-5:]}
    )


def _robustness(args: argparse.Namespace) -> int:
    from xlsector.commands.honest import disclosure_lines, stat_text, warn
    from xlsector.errors import ParameterError
    from xlsector.robustness import (
        DEFAULT_HYSTERESIS_VALUES,
        DEFAULT_RETUNE_DAYS,
        edge_report,
        retune_sensitivity,
        robustness_map,
        timing_luck,
    )
    from xlsector.runs import format_table
    from xlsector.tuning import trend_chart

    funds, kwargs, tuning, describe, extra = _setup_with_source(args)
    try:
        values = [float(v) for v in args.values.split(",")] if args.values else list(DEFAULT_HYSTERESIS_VALUES)
    except ValueError:
        raise ParameterError(f"--values must be hysteresis values separated by commas, got {args.values!r}") from None
    grid = _grid_for(funds, tuning, kwargs)
    chart = trend_chart(funds, grid=grid)
    edge = edge_report(chart)
    base_h = float(kwargs.get("hysteresis", grid.strategy.hysteresis))
    side = {k: v for k, v in kwargs.items() if k != "hysteresis" and (v is not None or k not in
                                                                    ("index", "benchmark", "bear"))}
    import pandas as pd

    from xlsector.backtesting import run_backtest_grid

    def grid_for(h: float, tcs: list[float]) -> Any:
        return grid if h == base_h else run_backtest_grid(funds, tcs, hysteresis=h, **side)

    found = robustness_map(funds, tuning.tcs, values, metric=args.metric, chosen=(chart.peak_tc, base_h),
                           grid_for=grid_for, hysteresis=base_h, **side)
    tc = args.tc if args.tc is not None else chart.peak_tc
    luck = timing_luck(funds, tc=tc, hysteresis=base_h, **side)
    schedules = [luck]
    if luck.schedule == "daily":  # no luck to measure: show what week and month decisions would give
        schedules += [timing_luck(funds, tc=tc, hysteresis=base_h, **{**side, "schedule": s}) for s in ("week", "month")]
    intervals = tuple(sorted({*DEFAULT_RETUNE_DAYS, int(tuning.retune_days)}))
    sensitivity = retune_sensitivity(funds, intervals, grid=grid, born_on=tuning.born_on)
    warnings = warn([edge.warning], as_json=args.json)
    table = found.table
    cells = [[(f"{100 * v:.2f}%" if args.metric == "CAGR" else f"{v:.3f}")
              + ("*" if (tc_value, h) == found.chosen else "") for h, v in zip(table.columns, row)]
             for tc_value, row in zip(table.index, table.to_numpy(dtype=float).tolist())]
    shown = pd.DataFrame(cells, index=table.index, columns=[f"h={h:g}" for h in table.columns])
    lines = [
        *warnings,
        *disclosure_lines(extra["source"]),
        "Robustness (IN SAMPLE unless said otherwise)",
        describe,
        f"Map: {found.metric} ({found.definition}) over tc (rows; the grid thinned to at most 40 rows) x hysteresis "
        f"(columns), {found.period[0]:%Y-%m-%d} to {found.period[1]:%Y-%m-%d}; * = the chosen point (the trend "
        f"chart's peak tc {found.chosen[0]:g} at hysteresis {found.chosen[1]:g})",
        "",
        format_table(shown.rename_axis("tc").rename(index=lambda v: f"{v:g}")),
        "",
    ]
    lines += [f"  {label}: {stat_text(value)}" + (f"  ({text})" if text else "") for label, value, text in found.facts()]
    lines += ["", f"Timing luck (tc {tc:g}): the decision day shifted 0..4 market days after the week/month end"]
    for item in schedules:
        lines += [f"  schedule {item.schedule}: CAGR spread {100 * item.spread:.2f} pp (std {100 * item.std:.2f} pp); "
                  f"{item.note}", format_table(item.table.reset_index(), index=False,
                                               formats={"CAGR": "%", "Max drawdown": "%", "Sharpe": ".3f",
                                                        "Switches": ".0f", "offset": ".0f"})]
    lines += ["", "FWPT sensitivity to the retune interval (OUT OF SAMPLE, after the born-on date; same grid):",
              format_table(sensitivity, formats={"CAGR": "%", "Max drawdown": "%", "Sharpe": ".3f", "PSR": ".4f",
                                                 "Trials N": ".0f", "tc now": "g", "retune_days": ".0f",
                                                 "Tunings": ".0f", "Adopted": ".0f"}),
              f"  {sensitivity.attrs['definition']}"]
    data = {
        "command": "tune robustness",
        "warnings": [w.removeprefix("warning: ") for w in warnings],
        "map": {"metric": found.metric, "definition": found.definition, "chosen": list(found.chosen),
                "best": list(found.best), "table": found.table.rename(columns=lambda h: f"{h:g}"),
                "facts": {label: value for label, value, _ in found.facts()}},
        "timing_luck": [{"schedule": item.schedule, "spread": item.spread, "std": item.std, "note": item.note,
                         "table": item.table} for item in schedules],
        "retune_sensitivity": sensitivity,
    }
    summary = {"chosen": list(found.chosen), "timing_spread": [item.spread for item in schedules]}
    return _emit(args, "robustness", "robustness", "\n".join(lines), data, summary)
