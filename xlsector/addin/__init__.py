"""Excel add-ins of xlsector: the "Refresh data" button (all runtimes) and the add-in builds.

* :func:`refresh_book` — refresh an open workbook given as an ``xlwings.Book`` (the button);
  :func:`refresh_workbook` — the same over any :class:`~xlsector.addin.refresh.BookAccess`.
* :func:`main` — entry point of the classic add-in's button (``import xlsector; xlsector.main()``).
* :func:`build_addin` — the classic ``.xlam`` and the Office.js manifest (``xlsector addin build``).
"""

from __future__ import annotations

from xlsector._lazy import export_lazily

_EXPORTS: dict[str, str] = {
    "refresh_book": "xlsector.addin.refresh",
    "refresh_workbook": "xlsector.addin.refresh",
    "main": "xlsector.addin.refresh",
    "XlwingsBook": "xlsector.addin.refresh",
    "FileBook": "xlsector.addin.refresh",
    "build_addin": "xlsector.addin.build",
    "build_manifest": "xlsector.addin.build",
    "build_extension": "xlsector.addin.libreoffice.package",
    "install_extension": "xlsector.addin.libreoffice.install",
    "build_lite": "xlsector.addin.lite",
    "recalculate_book": "xlsector.addin.refresh",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - generated from _EXPORTS, the one list

export_lazily(__name__, _EXPORTS)
