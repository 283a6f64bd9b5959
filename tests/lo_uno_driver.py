"""UNO driver for the tests: one JSON request per line on stdin, one JSON answer per line on stdout.

Run by a Python that has LibreOffice's ``uno`` module (Debian: /usr/bin/python3), not by the test venv::

    python3 tests/lo_uno_driver.py HELPER_DIR PIPE

HELPER_DIR holds xlsector's standalone ``uno_helper.py`` (its ``connect``/``terminate`` are reused). Each
request is ``{"op": NAME, ...arguments}``; the answer ``{"ok": result}`` or ``{"error": traceback}``.
See :class:`tests.libreoffice.UnoSession` for the operations.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

sys.path.insert(0, sys.argv[1])

import uno
from com.sun.star.beans import PropertyValue
from uno_helper import connect, terminate

FORMULA_RESULT_ERROR = 4  # com.sun.star.sheet.FormulaResult.ERROR


def _prop(name: str, value: Any) -> Any:
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


class Driver:
    def __init__(self, pipe: str) -> None:
        self.ctx = connect(pipe)
        self.smgr = self.ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        self.docs: dict[int, Any] = {}

    # -- settings and extensions -------------------------------------------------------------------
    def op_recalc_mode(self, mode: str) -> None:
        """How Calc recalculates .xlsx/.ods formulas on load: always (0), never (1), ask (2)."""
        value = {"always": 0, "never": 1, "ask": 2}[mode]
        provider = self.smgr.createInstanceWithContext(
            "com.sun.star.configuration.ConfigurationProvider", self.ctx
        )
        access = provider.createInstanceWithArguments(
            "com.sun.star.configuration.ConfigurationUpdateAccess",
            (_prop("nodepath", "/org.openoffice.Office.Calc/Formula/Load"),),
        )
        access.setPropertyValue("OOXMLRecalcMode", value)
        access.setPropertyValue("ODFRecalcMode", value)
        access.commitChanges()

    def op_extensions(self) -> dict[str, str]:
        manager = self.ctx.getValueByName("/singletons/com.sun.star.deployment.ExtensionManager")
        return {
            p.getIdentifier().Value: p.getVersion() for p in manager.getDeployedExtensions("user", None, None)
        }

    def op_function(self, name: str) -> dict[str, Any] | None:
        """Calc's description of the function called ``name`` (as the Function Wizard shows it)."""
        descriptions = self.smgr.createInstanceWithContext(
            "com.sun.star.sheet.FunctionDescriptions", self.ctx
        )
        for i in range(descriptions.getCount()):
            entry = {p.Name: p.Value for p in descriptions.getByIndex(i)}
            if entry.get("Name") == name:
                return {
                    "name": entry["Name"],
                    "description": entry.get("Description", ""),
                    "arguments": [[a.Name, a.Description, a.IsOptional] for a in entry.get("Arguments", ())],
                }
        return None

    # -- documents ---------------------------------------------------------------------------------
    def op_open(self, path: str) -> int:
        doc = self.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(path), "_blank", 0, (_prop("Hidden", True),)
        )
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {path}")
        key = len(self.docs) + 1
        self.docs[key] = doc
        return key

    def op_close(self, doc: int) -> None:
        self.docs.pop(doc).close(True)

    def op_sheets(self, doc: int) -> list[str]:
        return list(self.docs[doc].Sheets.ElementNames)

    def op_values(self, doc: int, sheet: str, ref: str) -> list[list[Any]]:
        """Cell values of ``ref``: numbers as floats, text as str, empty as "" — including an empty element
        of an array formula's result, which the data array reports as 0 (its shown text is empty)."""
        cells = self.docs[doc].Sheets.getByName(sheet).getCellRangeByName(ref)
        rows = [list(row) for row in cells.getDataArray()]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if (
                    value == 0.0
                    and not isinstance(value, str)
                    and cells.getCellByPosition(c, r).getString() == ""
                ):
                    row[c] = ""
        return rows

    def op_formula(self, doc: int, sheet: str, ref: str) -> str:
        return str(self.docs[doc].Sheets.getByName(sheet).getCellRangeByName(ref).getFormula())

    def op_error_cells(self, doc: int) -> dict[str, str]:
        """Per sheet, the formula cells whose result is an error (as "Sheet.A1:B2;..." text)."""
        out = {}
        for sheet in self.docs[doc].Sheets:
            found = sheet.queryFormulaCells(FORMULA_RESULT_ERROR)
            if found.getCount():
                out[sheet.Name] = found.getRangeAddressesAsString()
        return out

    def op_set_named(self, doc: int, name: str, value: Any) -> None:
        """Put ``value`` (number or text) into the first cell of the workbook-level name ``name``."""
        cell = self.docs[doc].NamedRanges.getByName(name).getReferredCells().getCellByPosition(0, 0)
        if isinstance(value, str):
            cell.setString(value)
        else:
            cell.setValue(float(value))

    def op_set_formula(self, doc: int, sheet: str, ref: str, formula: str) -> None:
        """Enter ``formula`` (English function names, ";" between arguments) as if typed into the cell."""
        self.docs[doc].Sheets.getByName(sheet).getCellRangeByName(ref).setFormula(formula)

    def op_save_xlsx(self, doc: int, path: str) -> None:
        """Save a copy as Excel 2007-365 .xlsx."""
        self.docs[doc].storeToURL(
            uno.systemPathToFileUrl(path), (_prop("FilterName", "Calc MS Excel 2007 XML"),)
        )

    def op_calculate_all(self, doc: int) -> None:
        self.docs[doc].calculateAll()

    def op_terminate(self) -> None:
        for doc in list(self.docs.values()):
            doc.close(True)
        self.docs.clear()
        terminate(self.ctx)


def main() -> None:
    driver = Driver(sys.argv[2])
    print(json.dumps({"ok": "ready"}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        try:
            answer = {"ok": getattr(driver, "op_" + op)(**request)}
        except Exception:  # noqa: BLE001 - reported to the test, which raises it
            answer = {"error": traceback.format_exc()}
        print(json.dumps(answer), flush=True)
        if op == "terminate":
            break


if __name__ == "__main__":
    main()
