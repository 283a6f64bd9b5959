"""The xlsector LibreOffice Calc add-in: the UNO component inside ``xlsector.oxt`` (runs in LibreOffice).

This file is copied into the extension as ``xlsector_calc.py`` and loaded by LibreOffice's Python loader,
never imported by xlsector itself. It reads ``xlsector-calc.json`` next to it (written by the build: the
functions of :mod:`udfs.xlsector_udfs` with their arguments and help, the site-packages folders of the
Python environment that installed the extension) and

* tells Calc about the functions (``XAddIn``: names, one-line help, argument names and help), and maps
  each Excel name (``SECTOR_PICK``) to the add-in function (``XCompatibilityNames``, one en-US name per
  function), so an .xlsx written by Excel resolves;
* hands every call to :func:`xlsector.addin.libreoffice.calls.call` (imported on the first call, after
  putting the recorded site-packages first on ``sys.path``), which calls the same function as Excel does.

It only needs LibreOffice's own modules to load, so a missing or broken xlsector shows as a message in the
cells instead of an add-in that silently disappears.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import unohelper  # type: ignore[import-not-found]
from com.sun.star.lang import (  # type: ignore[import-not-found]
    Locale,
    XLocalizable,
    XServiceInfo,
    XServiceName,
)
from com.sun.star.sheet import LocalizedName, XAddIn, XCompatibilityNames  # type: ignore[import-not-found]
from org.xlsector.calc import XXlsectorFunctions  # type: ignore[import-not-found]

_HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_HERE, "xlsector-calc.json"), encoding="utf-8") as _handle:
    META: dict[str, Any] = json.load(_handle)

SERVICE: str = META["service"]
CATEGORY = "Add-In"  # one of Calc's category names ("Add-In" is the add-ins' own group)
# keyed by the IDL method name, which is what Calc passes to the XAddIn methods (the "programmatic name")
_FUNCTIONS: dict[str, dict[str, Any]] = {f["idl_name"]: f for f in META["functions"]}
_BY_EXCEL_NAME: dict[str, str] = {f["name"].upper(): f["idl_name"] for f in META["functions"]}
_calls: Any = None


def _error(message: str) -> tuple[tuple[Any, ...], ...]:
    return (("#VALUE! " + message,),)


def _use_recorded_site_dirs() -> None:
    """Put the installing environment's site-packages first on sys.path (.pth files processed)."""
    import site

    before = list(sys.path)
    for folder in META.get("site_dirs", []):
        if os.path.isdir(folder) and folder not in before:
            site.addsitedir(folder)
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + before


def _calls_module() -> Any:
    """xlsector.addin.libreoffice.calls, imported once; raises with a user-facing message if it cannot be."""
    global _calls
    if _calls is None:
        wanted = META.get("python")
        here = f"{sys.version_info[0]}.{sys.version_info[1]}"
        if wanted and list(sys.version_info[:2]) != list(wanted):
            raise RuntimeError(
                f"xlsector was installed from Python {wanted[0]}.{wanted[1]} but LibreOffice runs Python "
                f"{here}: run `xlsector addin install-libreoffice` from a Python {here} environment that has "
                "xlsector"
            )
        _use_recorded_site_dirs()
        try:
            from xlsector.addin.libreoffice import calls
        except Exception as exc:  # any import failure becomes the cells' message
            raise RuntimeError(
                f"xlsector cannot be imported by LibreOffice's Python {here} ({type(exc).__name__}: {exc}): "
                "run `xlsector addin install-libreoffice` from the Python environment where xlsector is "
                "installed, then restart LibreOffice"
            ) from exc
        _calls = calls
    return _calls


def _run(method: str, args: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
    name = _FUNCTIONS[method]["name"]
    try:
        calls = _calls_module()
    except Exception as exc:  # noqa: BLE001 - _calls_module's messages, shown in the cell
        return _error(str(exc))
    params = [p["name"] for p in _FUNCTIONS[method]["params"]]
    try:
        return calls.call(name, args, params, META.get("module", "udfs.xlsector_udfs"))
    except Exception as exc:  # noqa: BLE001 - calls.call catches everything; last guard before LibreOffice
        return _error(f"internal error in {name}: {type(exc).__name__}: {exc}")


class XlsectorFunctions(
    unohelper.Base, XXlsectorFunctions, XAddIn, XCompatibilityNames, XServiceName, XServiceInfo, XLocalizable
):
    """The add-in object: the spreadsheet functions are attached below, one method per function."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.locale = Locale("en", "US", "")

    # XAddIn (LibreOffice's misspelling of getProgrammaticFunctionName is the API's)
    def getProgrammaticFuntionName(self, display_name: str) -> str:
        return _BY_EXCEL_NAME.get(display_name.upper(), "")

    def getDisplayFunctionName(self, name: str) -> str:
        return str(_FUNCTIONS.get(name, {}).get("name", ""))

    def getFunctionDescription(self, name: str) -> str:
        return str(_FUNCTIONS.get(name, {}).get("description", ""))

    def _param(self, name: str, index: int) -> dict[str, Any]:
        params = _FUNCTIONS.get(name, {}).get("params", [])
        return params[index] if 0 <= index < len(params) else {}

    def getDisplayArgumentName(self, name: str, index: int) -> str:
        return str(self._param(name, index).get("name", ""))

    def getArgumentDescription(self, name: str, index: int) -> str:
        return str(self._param(name, index).get("help", ""))

    def getProgrammaticCategoryName(self, name: str) -> str:
        return CATEGORY

    def getDisplayCategoryName(self, name: str) -> str:
        return CATEGORY

    # XCompatibilityNames: the Excel name, so that =SECTOR_PICK(...) in an .xlsx resolves
    def getCompatibilityNames(self, name: str) -> tuple[Any, ...]:
        if name not in _FUNCTIONS:
            return ()
        return (LocalizedName(Locale("en", "US", ""), _FUNCTIONS[name]["name"]),)

    # XLocalizable
    def setLocale(self, locale: Any) -> None:
        self.locale = locale

    def getLocale(self) -> Any:
        return self.locale

    # XServiceName, XServiceInfo
    def getServiceName(self) -> str:
        return SERVICE

    def getImplementationName(self) -> str:
        return SERVICE

    def supportsService(self, name: str) -> bool:
        return name in (SERVICE, "com.sun.star.sheet.AddIn")

    def getSupportedServiceNames(self) -> tuple[str, ...]:
        return (SERVICE, "com.sun.star.sheet.AddIn")


def _method(idl_name: str) -> Any:
    def method(self: XlsectorFunctions, *args: Any) -> tuple[tuple[Any, ...], ...]:
        return _run(idl_name, args)

    method.__name__ = method.__qualname__ = idl_name
    return method


for _idl_name in _FUNCTIONS:
    setattr(XlsectorFunctions, _idl_name, _method(_idl_name))

g_ImplementationHelper = unohelper.ImplementationHelper()
g_ImplementationHelper.addImplementation(XlsectorFunctions, SERVICE, (SERVICE, "com.sun.star.sheet.AddIn"))
