"""``xlsector render WORKBOOK [-o OUT] [--data SOURCE]``: recompute every computed sheet and chart."""

from __future__ import annotations

import argparse
import sys

from xlsector.commands.args import add_json, print_json


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "render",
        help="recompute every computed sheet, table and chart of a workbook (no Excel needed)",
        description="Read Settings and Data from WORKBOOK (the bundled sample when Data is empty), recompute "
        "every computed sheet with the core, store each formula's value as its cached value, and write the "
        "result atomically (in place unless -o is given).",
    )
    parser.add_argument("workbook", help="the .xlsx to render (e.g. workbooks/fwpt.xlsx)")
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of replacing WORKBOOK")
    parser.add_argument(
        "--data", metavar="SOURCE",
        help="prices from SOURCE instead of the Data sheet: a CSV/xlsx file, 'sample', or 'yahoo:T1,T2'",
    )
    parser.add_argument(
        "--values", action="store_true",
        help="write values only, no formulas: a copy that opens with numbers in any spreadsheet program "
        "(needs -o: the workbook itself keeps its formulas)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--timings", action="store_true", help="print the time of each stage")
    add_json(parser, "what was written (path, data source, formula cells with values, notes, timings)")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from xlsector.render import render_workbook

    report = render_workbook(args.workbook, args.output, data=args.data, values_only=args.values,
                             progress=None if args.quiet or args.json else sys.stderr)
    if args.json:
        print_json({"command": "render", "path": str(report.path), "data_source": report.data_source,
                    "cached_cells": report.cached_cells, "values_only": args.values, "notes": report.notes,
                    "timings": report.timings})
        return 0
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.timings:
        for stage, seconds in report.timings.items():
            print(f"{stage:>14}: {seconds:6.3f} s")
    print(report.path)
    return 0
