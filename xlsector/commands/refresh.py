"""``xlsector refresh WORKBOOK``: download fresh prices (yfinance) into the workbook's Data sheet, then (for a
rendered template) render it, so every formula's stored value follows the new data (``--no-render``: the
data only)."""

from __future__ import annotations

import argparse
import sys

from xlsector.commands.args import add_json, date_arg, print_json, tickers_arg


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "refresh",
        help="download fresh prices from Yahoo Finance into the workbook's Data sheet",
        description="Download adjusted closes with yfinance, validate them (dates, prices > 0, jump guard), "
        "merge them with the Data sheet (new rows appended, revised history reported) and replace the "
        "workbook atomically. If any ticker fails, nothing is written and each failure is listed. Then the "
        "workbook is rendered (as xlsector render), so its formulas' stored values follow the new data.",
    )
    parser.add_argument("workbook", help="the .xlsx workbook to refresh")
    parser.add_argument(
        "--tickers", type=tickers_arg, metavar="A,B,...",
        help="comma-separated Yahoo tickers (default: the Data sheet's columns and the Settings' tickers)",
    )
    parser.add_argument(
        "--start", metavar="DATE", type=date_arg,
        help="first date, YYYY-MM-DD (default: RefreshStart setting, else the Data sheet's first date)",
    )
    parser.add_argument(
        "--accept-jumps", action="store_true", help="write even if the jump guard flags a new one-day jump"
    )
    parser.add_argument(
        "--cache-dir", help="download cache folder (default: $XLSECTOR_CACHE_DIR or the user cache)"
    )
    parser.add_argument(
        "--no-render", action="store_true",
        help="only write the data (the formulas' stored values stay until Excel recalculates or a render)",
    )
    add_json(parser, "the refresh's report (new rows, revisions, jumps, warnings) and the render's")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from xlsector.data.refresh import refresh_file
    from xlsector.fileio import stderr_notice, workbook_lock

    rendered = None
    # one lock over the refresh and the render after it: no other writer can slip in between (docs/data.md)
    with workbook_lock(args.workbook, notify=stderr_notice):
        report = refresh_file(
            args.workbook,
            tickers=args.tickers,
            start=args.start,
            cache_dir=args.cache_dir,
            accept_jumps=args.accept_jumps,
        )
        if not args.json:
            print(report.summary(), file=sys.stdout)
        if not args.no_render and _has_computed_sheets(args.workbook):
            from xlsector.render import render_workbook

            rendered = render_workbook(args.workbook, progress=None if args.json else sys.stderr)
    if args.json:
        print_json({
            "command": "refresh", "workbook": str(report.workbook), "written": report.written,
            "tickers": report.tickers, "start": report.start, "first_date": report.first_date,
            "last_date": report.last_date, "new_rows": report.new_rows, "revisions": report.revisions,
            "jumps": report.jumps, "warnings": report.warnings,
            "rendered": None if rendered is None else {"path": str(rendered.path), "notes": rendered.notes},
        })
    return 0


def _has_computed_sheets(path: str) -> bool:
    """A rendered xlsector workbook (it has computed sheets), not a workbook that only holds data."""
    from xlsector.contract import COMPUTED_SHEETS
    from xlsector.data.workbook import open_workbook

    book = open_workbook(path)
    try:
        return bool(set(book.sheetnames) & set(COMPUTED_SHEETS))
    finally:
        book.close()
