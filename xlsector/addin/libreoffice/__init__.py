"""xlsector's Excel functions as a LibreOffice Calc extension (``xlsector.oxt``): a Python UNO add-in.

The extension calls the same functions of :mod:`udfs.xlsector_udfs` as Excel does (no maths of its own),
under the same names: each function is mapped from its Excel name through ``XCompatibilityNames``, so an
.xlsx containing ``=SECTOR_PICK(...)`` computes live in LibreOffice (25.2 maps Excel names this way).

* :mod:`~xlsector.addin.libreoffice.spec` — the functions, read from the module when the extension is built;
* :mod:`~xlsector.addin.libreoffice.package` — the .oxt (``xlsector addin build``);
* :mod:`~xlsector.addin.libreoffice.install` — into a LibreOffice profile (``xlsector addin
  install-libreoffice``);
* :mod:`~xlsector.addin.libreoffice.component` — the UNO component inside the .oxt (runs in LibreOffice);
* :mod:`~xlsector.addin.libreoffice.calls` — what it runs for each call: cells in, the function, cells out.

See docs/libreoffice.md.
"""

from __future__ import annotations

from xlsector._lazy import export_lazily

_EXPORTS: dict[str, str] = {
    "EXTENSION_NAME": "xlsector.addin.libreoffice.package",
    "build_extension": "xlsector.addin.libreoffice.package",
    "extension_bytes": "xlsector.addin.libreoffice.package",
    "function_specs": "xlsector.addin.libreoffice.spec",
    "idl_text": "xlsector.addin.libreoffice.spec",
    "install_extension": "xlsector.addin.libreoffice.install",
}

__all__ = [
    "EXTENSION_NAME",
    "build_extension",
    "extension_bytes",
    "function_specs",
    "idl_text",
    "install_extension",
]

assert sorted(_EXPORTS) == __all__

export_lazily(__name__, _EXPORTS)
