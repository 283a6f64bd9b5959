"""Excel add-ins of xlsector: the "Refresh data" button (all runtimes) and the add-in builds.

* :func:`refresh_book` — refresh an open workbook given as an ``xlwings.Book`` (the button);
  :func:`refresh_workbook` — the same over any :class:`~xlsector.addin.refresh.BookAccess`.
* :func:`main` — entry point of the classic add-in's button (``import xlsector; xlsector.main()``).
* :func:`build_addin` — the classic ``.xlam`` and the Office.js manifest (``xlsector addin build``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "refresh_book": "xlsector.addin.refresh",
    "refresh_workbook": "xlsector.addin.refresh",
    "main": "xlsector.addin.refresh",
    "XlwingsBook": "xlsector.addin.refresh",
    "FileBook": "xlsector.addin.refresh",
    "build_addin": "xlsector.addin.build",
    "build_manifest": "xlsector.addin.build",
}

__all__ = ["FileBook", "XlwingsBook", "build_addin", "build_manifest", "main", "refresh_book", "refresh_workbook"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlsector.addin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
