"""Evaluate the xlsector-function formulas the template uses, by calling the Excel functions themselves.

The render stores each such formula's result as the cell's cached value, so it must be exactly what Excel
with the add-in would compute: this module parses the formula, reads the cells it references from the
workbook being written and calls the same Python function (the table of functions is passed in: the
add-in's module, :mod:`udfs.xlsector_udfs`, sits above this package and is not imported here).

Supported shapes (all the template writes): a call ``NAME(arg, ...)`` of an xlsector function, ``INDEX``
(row[, column]; 0 = the whole column or row) of such a call or of a range, ``ROWS(range)``, ``TODAY()`` (the
render's date, as Excel would show it that day); arguments are
ranges (``B6:B9``, ``Data!$A$1:$K$99``, ``'My sheet'!A1``), workbook-level defined names (the growing
:data:`xlsector.contract.DATA_TABLE` is the Data sheet's table as written), numbers, ``"text"``,
``TRUE``/``FALSE``, or omitted.
"""

from __future__ import annotations

import re
from typing import Any

from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook

from xlsector.contract import DATA_SHEET, DATA_TABLE
from xlsector.errors import XlsectorError

__all__ = ["FormulaEvaluator", "uses_udf"]
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"]|"")*")
      | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)(?![\w(])
      | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<name>[A-Za-z_][\w.]*)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)


def uses_udf(formula: str, names: Any) -> bool:
    """True when ``formula`` calls one of the functions ``names``."""
    return any(re.search(rf"\b{name}\s*\(", formula) for name in names)


class _Ref:
    def __init__(self, sheet: str, ref: str):
        self.sheet = sheet
        self.ref = ref.replace("$", "")


class FormulaEvaluator:
    """Evaluates formulas against an (in-memory) openpyxl workbook; memoises identical calls.

    ``functions``: the Excel functions by name (a module or a mapping); ``grids``: sheets whose cells live
    outside openpyxl (the Data sheet's rows); ``bulks``: sheet -> BulkCells written by the render so far;
    ``cell_errors``: the exception types with which a function refuses its arguments (its message is what the
    cell shows: xlwings' XlwingsError); anything else is a bug and propagates.
    """

    def __init__(self, wb: Workbook, functions: Any, grids: dict[str, list[list[Any]]] | None = None,
                 bulks: dict[str, Any] | None = None, cell_errors: tuple[type[Exception], ...] = ()):
        self.cell_errors = cell_errors
        if isinstance(functions, dict):
            self.names = tuple(functions)
        else:
            self.names = tuple(getattr(functions, "__all__", ()))
        self.wb = wb
        self.functions = functions
        self._memo: dict[str, Any] = {}
        self.grids = grids or {}  # sheets whose cells live outside openpyxl (the Data sheet's rows)
        self._grid_cells: dict[tuple[str, str], list[list[Any]]] = {}  # the same range of a grid: one list
        self.bulks = {} if bulks is None else bulks  # sheet -> BulkCells written so far (bulk.py), read first

    # -- parsing ------------------------------------------------------------------------------------
    def _tokens(self, text: str) -> list[tuple[str, str]]:
        out = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN_RE.match(text, pos)
            if not match or match.end() == pos:
                raise XlsectorError(f"cannot evaluate formula ={text}: unexpected text at {text[pos:pos + 20]!r}")
            kind = match.lastgroup or ""
            out.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        return out

    def evaluate(self, formula: str, sheet: str) -> Any:
        """Value of ``formula`` (with or without the leading ``=``) in one cell of ``sheet`` (the top-left
        value of an array, as Excel shows it in a single cell)."""
        return self._scalar(self.evaluate_array(formula, sheet))

    def evaluate_array(self, formula: str, sheet: str) -> Any:
        """The whole result of ``formula`` (a 2-D list for an array), as an array formula spills it."""
        text = formula.removeprefix("=")
        tokens = self._tokens(text)
        value, pos = self._expr(tokens, 0, sheet)
        if pos != len(tokens):
            raise XlsectorError(f"cannot evaluate formula ={text}: trailing {tokens[pos][1]!r}")
        return self._arg(value)

    def _expr(self, tokens: list[tuple[str, str]], pos: int, sheet: str) -> tuple[Any, int]:
        kind, text = tokens[pos]
        if kind == "string":
            return text[1:-1].replace('""', '"'), pos + 1
        if kind == "number":
            return float(text), pos + 1
        if kind == "ref":
            if "!" in text:
                sheet_part, ref = text.rsplit("!", 1)
                sheet_name = sheet_part[1:-1].replace("''", "'") if sheet_part.startswith("'") else sheet_part
                return _Ref(sheet_name, ref), pos + 1
            return _Ref(sheet, text), pos + 1
        if kind == "name":
            if pos + 1 < len(tokens) and tokens[pos + 1][1] == "(":
                return self._call(text.upper(), tokens, pos + 2, sheet)
            upper = text.upper()
            if upper in ("TRUE", "FALSE"):
                return upper == "TRUE", pos + 1
            return self._name(text), pos + 1
        raise XlsectorError(f"cannot evaluate formula: unexpected {text!r}")

    def _call(self, name: str, tokens: list[tuple[str, str]], pos: int, sheet: str) -> tuple[Any, int]:
        args: list[Any] = []
        start = pos
        if tokens[pos][1] == ")":
            pos += 1
        else:
            while True:
                if tokens[pos][1] in (",", ")"):
                    args.append(None)  # omitted argument
                else:
                    value, pos = self._expr(tokens, pos, sheet)
                    args.append(value)
                sep = tokens[pos][1]
                pos += 1
                if sep == ")":
                    break
                if sep != ",":
                    raise XlsectorError(f"cannot evaluate {name}(...): expected , or ) got {sep!r}")
        key = name + "|" + sheet + "|" + " ".join(t for _, t in tokens[start:pos])
        if key in self._memo:
            return self._memo[key], pos
        result = self._apply(name, args)
        self._memo[key] = result
        return result, pos

    # -- values -------------------------------------------------------------------------------------
    def _name(self, name: str) -> _Ref:
        if name == DATA_TABLE and DATA_SHEET in self.grids:  # the growing name: the table as written
            grid = self.grids[DATA_SHEET]
            width = max((len(r) for r in grid), default=1)
            return _Ref(DATA_SHEET, f"A1:{get_column_letter(width)}{len(grid)}")
        defined = self.wb.defined_names.get(name)
        if defined is None:
            raise XlsectorError(f"cannot evaluate formula: unknown name {name}")
        destinations = list(defined.destinations)
        if len(destinations) != 1:
            raise XlsectorError(f"cannot evaluate formula: name {name} is not one range")
        sheet, ref = destinations[0]
        return _Ref(sheet, ref)

    def _cells(self, ref: _Ref) -> list[list[Any]]:
        min_col, min_row, max_col, max_row = range_boundaries(ref.ref)
        grid = self.grids.get(ref.sheet)
        if grid is not None:  # fixed for the render: every formula over the same range gets the same rows
            found = self._grid_cells.get((ref.sheet, ref.ref))
            if found is None:
                rows = grid[min_row - 1:max_row]
                out = [list(row[min_col - 1:max_col]) for row in rows]
                found = [r + [None] * (max_col - min_col + 1 - len(r)) for r in out]
                self._grid_cells[(ref.sheet, ref.ref)] = found
            return found
        ws = self.wb[ref.sheet]
        bulk = self.bulks.get(ref.sheet)
        if bulk is not None:
            cells = ws._cells
            out = []
            for r in range(min_row, max_row + 1):
                line = []
                for c in range(min_col, max_col + 1):
                    if (r, c) in bulk:
                        line.append(bulk.get(r, c))
                    else:
                        cell = cells.get((r, c))
                        line.append(None if cell is None else cell.value)
                out.append(line)
            return out
        return [list(row) for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                                                   max_col=max_col, values_only=True)]

    def _arg(self, value: Any) -> Any:
        if isinstance(value, _Ref):
            cells = self._cells(value)
            return cells
        return value

    def _apply(self, name: str, args: list[Any]) -> Any:
        if name == "TODAY":
            import datetime as dt

            return dt.datetime.combine(dt.date.today(), dt.time())
        if name == "ROWS":
            (ref,) = args
            _, min_row, _, max_row = range_boundaries(ref.ref)
            return float(max_row - min_row + 1)
        if name == "INDEX":
            array = self._arg(args[0])
            row = int(self._scalar(args[1])) if args[1] is not None else 0
            col = int(self._scalar(args[2])) if len(args) > 2 and args[2] is not None else (
                1 if row else 0)
            if not isinstance(array, list):
                return array
            if array and not isinstance(array[0], list):
                array = [[v] for v in array]
            if row == 0 and col == 0:
                return array
            if row == 0:
                return [[r[col - 1]] for r in array]
            if col == 0:
                return [list(array[row - 1])]
            return array[row - 1][col - 1]
        if name in self.names:
            function = self.functions[name] if isinstance(self.functions, dict) else getattr(self.functions, name)
            return function(*[self._arg(a) for a in args])
        raise XlsectorError(f"cannot evaluate formula: function {name} is not supported by the render")

    def _scalar(self, value: Any) -> Any:
        if isinstance(value, _Ref):
            value = self._cells(value)
        while isinstance(value, list) and len(value) >= 1 and (len(value) == 1 or not isinstance(value[0], list)):
            value = value[0]
            if not isinstance(value, list):
                break
        if isinstance(value, list):  # a multi-cell result in one cell: Excel shows the top-left value
            value = value[0][0] if value and isinstance(value[0], list) else value[0]
        return value
