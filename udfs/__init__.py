"""xlwings-facing modules of xlsector: thin wrappers from Excel cells to the core, no maths.

* :mod:`udfs.xlsector_udfs` — the Excel functions (``EMA2_TREND``, ``SECTOR_PICK``, ...). Point xlwings'
  "UDF Modules" setting at ``xlsector_udfs`` (with this folder on the PYTHONPATH) or at
  ``udfs.xlsector_udfs`` (after ``pip install xlsector``); see ``docs/excel.md``.
* :mod:`udfs.scripts` — the Office.js ``@script`` wrapper behind the "Refresh data" button.

Nothing here is imported on ``import udfs``: the modules load xlwings and pandas.
"""
