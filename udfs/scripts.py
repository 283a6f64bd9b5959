"""Office.js scripts (xlwings Server / xlwings Lite): the "Refresh data" and "Recalculate" ribbon buttons.

The add-in manifest (``workbooks/manifest.xml``, built by ``xlsector addin build``) wires the button to
the script ``refresh_data``; xlwings hands it the workbook as an ``xw.Book`` built from Excel's JSON and
sends the recorded actions (new Data values, provenance cells, recalculation, the alert) back to Excel.
It runs exactly the code of the classic add-in's button: :func:`xlsector.addin.refresh.refresh_book`.
"""

from __future__ import annotations

import xlwings as xw

from xlsector.addin.refresh import recalculate_book, refresh_book


@xw.script(name="Refresh data", include=["Start", "Settings", "Data"])
def refresh_data(book: xw.Book):
    """Download fresh prices (yfinance) into the Data sheet, stamp the provenance cells, recalculate."""
    refresh_book(book)


@xw.script(name="Recalculate", include=["Settings", "Data", "Momentum"])
def recalculate(book: xw.Book):
    """Recompute the Momentum sheet (a phased experiment, not a formula) in place, then recalculate."""
    recalculate_book(book)
