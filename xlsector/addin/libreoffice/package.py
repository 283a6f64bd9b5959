"""Assemble ``xlsector.oxt``, the LibreOffice extension, from the functions of :mod:`udfs.xlsector_udfs`.

Parts of the zip (all generated here, none stored):

``META-INF/manifest.xml``
    Registers the type library and the component.
``description.xml``
    Identifier ``org.xlsector.calc``, version = xlsector's, display name.
``XXlsectorFunctions.idl``
    The type library: the add-in's interface in UNO IDL, one method per function (see
    :func:`~xlsector.addin.libreoffice.spec.idl_text`). LibreOffice's type manager reads ``.idl`` files
    itself (the same parser as the SDK's ``unoidl-write``), so no SDK is needed to build the extension and
    no compiled ``.rdb`` has to be kept in step with the module: the IDL is regenerated on every build.
``xlsector.components``
    Passive registration of the Python component as the ``com.sun.star.sheet.AddIn`` service
    ``org.xlsector.calc.Functions`` (nothing is imported at install time).
``xlsector_calc.py``
    The component (:mod:`xlsector.addin.libreoffice.component`).
``xlsector-calc.json``
    What the component reads: the functions with their arguments and help, and — written by
    ``xlsector addin install-libreoffice`` — the site-packages of the installing Python environment and its
    version, so that LibreOffice's Python imports the same xlsector.

The zip has fixed timestamps: the same module and options give the same bytes.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import site
import sys
import sysconfig
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from xlsector.addin.libreoffice.spec import (
    EXTENSION_ID,
    IDL_NAME,
    SERVICE,
    UDF_MODULE,
    FunctionSpec,
    function_specs,
    idl_text,
    specs_to_json,
)
from xlsector.errors import ParameterError

__all__ = [
    "COMPONENT_NAME",
    "EXTENSION_NAME",
    "METADATA_NAME",
    "build_extension",
    "environment_site_dirs",
    "extension_bytes",
]

EXTENSION_NAME = "xlsector.oxt"
COMPONENT_NAME = "xlsector_calc.py"
METADATA_NAME = "xlsector-calc.json"
COMPONENTS_NAME = "xlsector.components"
_DATE = (1980, 1, 1, 0, 0, 0)


def _version() -> str:
    from xlsector import __version__

    numbers = re.findall(r"\d+", __version__)[:4]
    return ".".join(numbers) or "0"


def _manifest() -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="http://openoffice.org/2001/manifest">
  <manifest:file-entry manifest:media-type="application/vnd.sun.star.uno-typelibrary;type=RDB"
    manifest:full-path="{IDL_NAME}"/>
  <manifest:file-entry manifest:media-type="application/vnd.sun.star.uno-components"
    manifest:full-path="{COMPONENTS_NAME}"/>
</manifest:manifest>
"""


def _description() -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<description xmlns="http://openoffice.org/extensions/description/2006"
  xmlns:xlink="http://www.w3.org/1999/xlink">
  <identifier value={quoteattr(EXTENSION_ID)}/>
  <version value={quoteattr(_version())}/>
  <display-name>
    <name lang="en">xlsector: trend-following sector rotation functions</name>
  </display-name>
  <platform value="all"/>
</description>
"""


def _components() -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<components xmlns="http://openoffice.org/2010/uno-components">
  <component loader="com.sun.star.loader.Python" uri="./{COMPONENT_NAME}">
    <implementation name={quoteattr(SERVICE)}>
      <service name={quoteattr(SERVICE)}/>
      <service name="com.sun.star.sheet.AddIn"/>
    </implementation>
  </component>
</components>
"""


def environment_site_dirs() -> list[str]:
    """Folders LibreOffice's Python needs on ``sys.path`` to import xlsector as this Python does: this
    environment's site-packages (its ``.pth`` files included, so editable installs work), the user site if
    this Python uses it, and the folders xlsector and udfs were imported from."""
    paths = sysconfig.get_paths()
    found = [paths["purelib"], paths["platlib"]]
    user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user and user in sys.path:
        found.append(user)
    for module in ("xlsector", UDF_MODULE.split(".")[0]):
        file = getattr(importlib.import_module(module), "__file__", None)
        if file:
            found.append(str(Path(file).resolve().parent.parent))
    out: list[str] = []
    for folder in found:
        folder = str(Path(folder).resolve())
        if folder not in out:
            out.append(folder)
    return out


def extension_bytes(
    specs: list[FunctionSpec] | None = None,
    *,
    site_dirs: list[str] | None = None,
    python: tuple[int, int] | None = None,
) -> bytes:
    """The bytes of ``xlsector.oxt``.

    ``specs`` default to :func:`~xlsector.addin.libreoffice.spec.function_specs` of the installed
    :mod:`udfs.xlsector_udfs`. ``site_dirs`` and ``python`` are recorded for the component (see the module
    docstring); without them LibreOffice's Python must find xlsector on its own ``sys.path``.
    """
    if specs is None:
        specs = function_specs(UDF_MODULE)
    if not specs:
        raise ParameterError("no spreadsheet functions to put in the LibreOffice extension")
    from xlsector import __version__

    metadata: dict[str, Any] = {
        "xlsector_version": __version__,
        "module": UDF_MODULE,
        "service": SERVICE,
        "python": list(python) if python else None,
        "site_dirs": list(site_dirs or []),
        "functions": specs_to_json(specs),
    }
    comment = (
        f"Generated by xlsector {__version__} from {UDF_MODULE}: its functions as a LibreOffice Calc "
        "add-in.\nEvery argument is an any; every result a 2-D array."
    )
    component = resources.files("xlsector.addin.libreoffice").joinpath("component.py").read_text("utf-8")
    parts = [
        ("META-INF/manifest.xml", _manifest()),
        ("description.xml", _description()),
        (IDL_NAME, idl_text(specs, comment=comment)),
        (COMPONENTS_NAME, _components()),
        (COMPONENT_NAME, component),
        (METADATA_NAME, json.dumps(metadata, indent=1, sort_keys=True) + "\n"),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return out.getvalue()


def build_extension(path: str | Path, **options: Any) -> Path:
    """Write ``xlsector.oxt`` to ``path`` (a folder, or a file name ending in ``.oxt``)."""
    from xlsector.fileio import atomic_write_bytes

    target = Path(path)
    if target.is_dir():
        target = target / EXTENSION_NAME
    if target.suffix.lower() != ".oxt":
        raise ParameterError(f"a LibreOffice extension file must end in .oxt, got {target.name!r}")
    return atomic_write_bytes(target, extension_bytes(**options))
