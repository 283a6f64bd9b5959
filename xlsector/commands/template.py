"""``xlsector template PATH``: write a fresh template workbook (empty Data: the first render uses the sample)."""

from __future__ import annotations

import argparse

from xlsector.commands.args import add_json, print_json


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "template",
        help="write a fresh template workbook (then: xlsector render PATH)",
        description="Write a fresh xlsector template workbook to PATH: Start, Summary, Settings (named cells), "
        "Data (empty) and the computed sheets, which `xlsector render PATH` fills.",
    )
    parser.add_argument("path", help="where to write the .xlsx")
    parser.add_argument("-f", "--force", action="store_true", help="replace PATH if it exists")
    add_json(parser, "the path written")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from xlsector.workbook.template import write_template

    path = write_template(args.path, overwrite=args.force)
    if args.json:
        print_json({"command": "template", "path": str(path)})
    else:
        print(path)
    return 0
