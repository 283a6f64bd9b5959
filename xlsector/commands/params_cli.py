"""Command-line flags from the parameter model: one ``--name`` per parameter, its help and default from the
declaration in :mod:`xlsector.params`, its value checked by the same rule as everywhere else."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from xlsector.contract import param_from_cell
from xlsector.params import Param, params_of

__all__ = ["add_param_flags", "given_params"]


def _flag(p: Param) -> str:
    return "--" + p.name.replace("_", "-")


def _flags(p: Param) -> list[str]:
    """``--name``; a one-letter name also as ``-k``."""
    return ([f"-{p.name}"] if len(p.name) == 1 else []) + [_flag(p)]


def add_param_flags(parser: argparse.ArgumentParser, cls: type, names: Iterable[str] | None = None,
                    *, defaults: dict[str, Any] | None = None) -> None:
    """Add a flag for each parameter of ``cls`` (or those in ``names``). Values stay text until
    :func:`given_params` checks them, so a bad value is one ``Error:`` line naming the flag, not an argparse
    usage message. ``defaults`` overrides a default shown in the help (e.g. a profile's)."""
    chosen = set(names) if names is not None else None
    for p in params_of(cls):
        if chosen is not None and p.name not in chosen:
            continue
        default = (defaults or {}).get(p.name, p.describe_default())
        rule = f"one of {', '.join(p.choices)}" if p.kind == "choice" else p.rule()
        parser.add_argument(*_flags(p), dest=p.name, metavar=p.name.upper() if p.kind != "choice" else None,
                            choices=None, default=None, help=f"{p.help} {rule[:1].upper() + rule[1:]}; "
                            f"default {default}.".replace("%", "%%"))


def given_params(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The parameters of ``cls`` whose flags were given, checked by their rules (ParameterError otherwise)."""
    out = {}
    for p in params_of(cls):
        text = getattr(args, p.name, None)
        if text is None:
            continue
        out[p.name] = param_from_cell(p, text)  # its message names the parameter, as the flag does
    return out
