"""Render a workbook with the Excel functions of :mod:`udfs.xlsector_udfs`: the public entry point.

:func:`xlsector.workbook.render.render_workbook` takes the functions as an argument (the workbook package
sits below the add-in layer); this module, at the top, supplies them, so that a render stores exactly what
the add-in's functions compute in Excel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["excel_functions", "functions_table", "render_workbook"]


def excel_functions() -> dict[str, Any]:
    """The Excel functions by name, as Excel, LibreOffice and the render call them."""
    import udfs.xlsector_udfs as functions

    return {name: getattr(functions, name) for name in functions.__all__}


def functions_table() -> str:
    """The Markdown table of the Excel functions (docs/excel.md keeps a copy that a test compares): each
    function's arguments, optional ones in brackets, and its one-line help."""
    import inspect

    lines = ["| Function | Returns |", "|---|---|"]
    for name, function in excel_functions().items():
        params = inspect.signature(function).parameters.values()
        args = [p.name if p.default is inspect.Parameter.empty else f"[{p.name}]" for p in params]
        summary = (inspect.getdoc(function) or "").splitlines()[0]
        lines.append(f"| `{name}({', '.join(args)})` | {summary} |")
    return "\n".join(lines)


def render_workbook(workbook: str | Path, out: str | Path | None = None, **options: Any) -> Any:
    """Recompute every computed sheet of ``workbook`` (see :func:`xlsector.workbook.render.render_workbook`
    for ``data``, ``values_only`` and ``progress``); returns its :class:`~xlsector.workbook.render.RenderReport`."""
    from xlwings import XlwingsError

    from xlsector.workbook.render import render_workbook as render

    return render(workbook, out, functions=excel_functions(), cell_errors=(XlwingsError,), **options)
