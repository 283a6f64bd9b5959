"""Template workbook and ``xlsector render``: the only part of xlsector that writes workbooks.

Modules, one job each: :mod:`layout` (sheet names, settings, named cells), :mod:`template` (fresh
workbook), :mod:`settings` (read/check named cells), :mod:`guard` (file checks), :mod:`inputs` (prices),
:mod:`compute` (core calls), ``sheet_*`` (one family of sheets each), :mod:`charts`, :mod:`writer`
(areas, cells), :mod:`formulas` (evaluate xlsector-function formulas), :mod:`xlsx_patch` (cached values
in the saved file), :mod:`render` (the pipeline).
"""

from __future__ import annotations

from xlsector._lazy import export_lazily

_EXPORTS: dict[str, str] = {
    "RenderReport": "xlsector.workbook.render",
    "render_workbook": "xlsector.workbook.render",
    "build_template": "xlsector.workbook.template",
    "write_template": "xlsector.workbook.template",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - generated from _EXPORTS, the one list

export_lazily(__name__, _EXPORTS)
