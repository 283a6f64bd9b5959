"""The ``xlsector`` command line: parse, call one API function, print.

Each sub-command lives in ``xlsector/commands/<name>.py`` and exposes ``add_parser(subparsers)`` and
``run(args) -> int``. The promises every command keeps:

- an :class:`~xlsector.errors.XlsectorError`, and every argument argparse refuses (an unknown flag, a missing
  value, a bad choice), becomes one line ``Error: <message>`` on stderr and exit code 1; anything else is a bug
  and keeps its traceback;
- ``--json`` prints one JSON document on stdout (progress and notes go to stderr);
- data-quality warnings print as one line each, ``warning: <message>``, on stderr;
- a reader that closes stdout early (``xlsector backtest --list | head -1``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from typing import NoReturn

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
    "sweep",
    "portfolio",
]


class UsageError(XlsectorError):
    """An argument the parser refuses; printed like every other error."""


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors raised as :class:`UsageError` (one ``Error:`` line, exit 1)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="xlsector",
        description="Trend-following sector rotation: EMA2 trends, StormGuard, FWPT, workbook render.",
    )
    parser.add_argument("--version", action="version", version=f"xlsector {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"xlsector.commands.{name}").add_parser(subparsers)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one clean line (``warning: ...``), not Python's two lines with a source line."""
    stream = file if file is not None else sys.stderr
    try:
        stream.write(f"warning: {message}\n")
    except (OSError, ValueError):
        pass


def _quiet_stdout() -> None:
    """stdout was closed by its reader: point it at devnull so that Python's final flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help(sys.stderr)
            print("Error: no command given (see the list above)", file=sys.stderr)
            return 1
        return int(args.run(args) or 0)
    except XlsectorError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except OSError as exc:
        # The machine failed under the command (stdout on a full disk, an I/O error): every file xlsector reads
        # or writes on its own reports its failures as XlsectorError, so this is the output stream or the system.
        _quiet_stdout()
        where = f": {exc.filename}" if exc.filename else " (writing the output)"
        print(f"Error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":
    raise SystemExit(main())
