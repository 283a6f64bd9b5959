"""Template workbook and ``xlsector render``: the only part of xlsector that writes workbooks.

Modules, one job each: :mod:`layout` (sheet names, settings, named cells), :mod:`template` (fresh
workbook), :mod:`settings` (read/check named cells), :mod:`guard` (file checks), :mod:`inputs` (prices),
:mod:`compute` (core calls), ``sheet_*`` (one family of sheets each), :mod:`charts`, :mod:`writer`
(areas, cells), :mod:`formulas` (evaluate xlsector-function formulas), :mod:`xlsx_patch` (cached values
in the saved file), :mod:`render` (the pipeline).
"""

from __future__ import annotations

__all__ = ["RenderReport", "build_template", "render_workbook", "write_template"]


def __getattr__(name: str):
    if name in ("RenderReport", "render_workbook"):
        from xlsector.workbook import render

        return getattr(render, name)
    if name in ("build_template", "write_template"):
        from xlsector.workbook import template

        return getattr(template, name)
    raise AttributeError(f"module 'xlsector.workbook' has no attribute {name!r}")
