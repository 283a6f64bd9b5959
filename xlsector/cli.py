"""The ``xlsector`` command line: parse, call one API function, print.

Each sub-command lives in ``xlsector/commands/<name>.py`` and exposes ``add_parser(subparsers)`` and
``run(args) -> int``. An :class:`~xlsector.errors.XlsectorError` becomes ``Error: <message>`` and exit
code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from xlsector import __version__
from xlsector.errors import XlsectorError

COMMANDS = [
    "render",
    "template",
    "refresh",
    "backtest",
    "experiment",
    "tune",
    "runs",
    "signal",
    "addin",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlsector",
        description="Trend-following sector rotation: EMA2 trends, StormGuard, FWPT, workbook render.",
    )
    parser.add_argument("--version", action="version", version=f"xlsector {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"xlsector.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except XlsectorError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
