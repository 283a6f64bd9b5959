"""Limits on untrusted input: every file xlsector reads (workbooks, CSV, TOML) is checked against them before it
is parsed, so a hostile or broken file is refused with an ``Error:`` naming the file and the limit, quickly and in
little memory, instead of hanging or exhausting the machine.

Each limit is far above what real data needs (the rendered template on the bundled sample, 33 years x 11 series:
a 2.4 MB file that unpacks to 11.5 MB in 65 parts, 14 sheets, 100k Data cells); a file within the limits is never
refused for its size. The table in ``docs/data.md`` ("Limits") lists them; a test keeps it equal to this module.
"""

from __future__ import annotations

__all__ = [
    "LIMITS",
    "MAX_CELLS",
    "MAX_EXTENDS_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_GRID_POINTS",
    "MAX_PARTS",
    "MAX_RATIO",
    "MAX_SERIES",
    "MAX_SHEETS",
    "MAX_TEXT_BYTES",
    "MAX_UNCOMPRESSED",
    "describe",
]

MiB = 1 << 20

#: Largest input file read whole: a workbook, a CSV (after gzip, as it inflates).
MAX_FILE_BYTES = 128 * MiB
#: Largest total size of a workbook's parts once unpacked (counted while inflating, not taken from the zip's
#: directory).
MAX_UNCOMPRESSED = 128 * MiB
#: Largest compression ratio of one workbook part, or of a gzip-compressed CSV, larger than 1 MiB once unpacked
#: (worksheet XML compresses 5-20 times, a price CSV 3-5 times).
MAX_RATIO = 200
#: Most parts (zip members) in a workbook.
MAX_PARTS = 2_000
#: Most sheets in a workbook.
MAX_SHEETS = 255
#: Most cells of a price sheet (a workbook's Data sheet, or the sheet of a price .xlsx) read, counting the blank
#: cells of the rectangle from A1 to the last cell holding a value.
MAX_CELLS = 4_000_000
#: Most price series (funds plus bear funds) in one rotation, and price columns in one file.
MAX_SERIES = 250
#: Largest TOML file (profile or experiment).
MAX_TEXT_BYTES = 1 * MiB
#: Most profiles in one ``extends`` chain.
MAX_EXTENDS_DEPTH = 32
#: Most runs in one phase of an experiment (a ``values`` list or a ``range``).
MAX_GRID_POINTS = 10_000

#: name -> (value, unit, what it bounds): the table of docs/data.md.
LIMITS: dict[str, tuple[int, str, str]] = {
    "MAX_FILE_BYTES": (MAX_FILE_BYTES, "bytes", "an input file read whole (workbook; CSV after gzip)"),
    "MAX_UNCOMPRESSED": (MAX_UNCOMPRESSED, "bytes", "a workbook's parts unpacked, counted while inflating"),
    "MAX_RATIO": (MAX_RATIO, "x", "compression ratio of a workbook part or a .csv.gz larger than 1 MiB unpacked"),
    "MAX_PARTS": (MAX_PARTS, "parts", "zip members of a workbook"),
    "MAX_SHEETS": (MAX_SHEETS, "sheets", "sheets of a workbook"),
    "MAX_CELLS": (MAX_CELLS, "cells", "cells of a price sheet, A1 to its last value (blanks included)"),
    "MAX_SERIES": (MAX_SERIES, "series", "price columns of a file; funds plus bear funds of one rotation"),
    "MAX_TEXT_BYTES": (MAX_TEXT_BYTES, "bytes", "a TOML profile or experiment file"),
    "MAX_EXTENDS_DEPTH": (MAX_EXTENDS_DEPTH, "profiles", "profiles in one `extends` chain"),
    "MAX_GRID_POINTS": (MAX_GRID_POINTS, "runs", "runs of one experiment phase (`values` or `range`)"),
}


def describe(name: str) -> str:
    """``"the limit MAX_CELLS = 4,000,000 cells"``: how an error names a limit."""
    value, unit, _ = LIMITS[name]
    if unit == "bytes":
        shown = f"{value / MiB:g} MiB"
    elif unit == "x":
        shown = f"{value:,}x"
    else:
        shown = f"{value:,} {unit}"
    return f"the limit {name} = {shown} (docs/data.md, Limits)"
