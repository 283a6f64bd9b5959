"""Formula texts of the Excel functions as the template writes them: each argument bound by name.

The functions' argument lists are read from the functions themselves (the table passed in), and each
argument that the Settings sheet has takes that setting's defined name
(:data:`xlsector.contract.SETTING_OF_ARGUMENT`), the prices take :data:`xlsector.contract.DATA_TABLE`. So
a formula follows the Settings and the Data without a positional list written out anywhere.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from xlsector.contract import DATA_TABLE, SETTING_OF_ARGUMENT

__all__ = ["Calls"]


class Calls:
    """``calls("SECTOR_PICK")`` -> ``=SECTOR_PICK(DataTable,TrendConstant,Hysteresis,...)``."""

    def __init__(self, functions: Mapping[str, Any]):
        self.arguments = {name: list(inspect.signature(f).parameters) for name, f in functions.items()}

    def __call__(self, name: str, /, **values: Any) -> str:
        """The formula calling ``name``: every argument from ``values`` (text as written, True/False,
        numbers, None = omitted), else its Settings name, else omitted; trailing omitted ones dropped."""
        texts = []
        for arg in self.arguments[name]:
            if arg in values:
                texts.append(_text(values[arg]))
            elif arg == "prices":
                texts.append(DATA_TABLE)
            else:
                texts.append(SETTING_OF_ARGUMENT.get(arg, ""))
        while texts and texts[-1] == "":
            texts.pop()
        return f"={name}({','.join(texts)})"


def _text(value: Any) -> str:
    """An argument as formula text: None omitted, booleans TRUE/FALSE, text quoted unless it is a reference."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, Quoted):
        return '"' + str(value).replace('"', '""') + '"'
    return str(value)


class Quoted(str):
    """Text to pass as a string literal (plain ``str`` values are references or names)."""
