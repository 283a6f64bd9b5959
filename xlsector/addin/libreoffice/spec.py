"""What the LibreOffice extension exposes, read from :mod:`udfs.xlsector_udfs` when it is built.

Every function in the module's ``__all__`` becomes a method of one UNO interface (the add-in's type
library, written here as UNO IDL) named like the Excel function, its parameters in order (each an
``any``, so LibreOffice passes numbers, text, ranges as 2-D arrays, and leaves omitted arguments empty)
and a 2-D array result (``sequence<sequence<any>>``: LibreOffice shows a one-cell result in a single cell
and spills a larger one over an array formula's range). The one-line help comes from the docstring, the
argument help from the module's ``DOC`` table: nothing is listed by hand, so a function added to the module
or an argument changed is in the next build.

UNO IDL identifiers are stricter than Python's: one starting with a lower-case letter may not contain
``_`` (``as_of`` is illegal), one starting with an upper-case letter may (``SECTOR_PICK``), and a few words
are reserved. A name that breaks the rules gets a legal IDL name (``as_of`` → ``asOf``); the Excel name
and the argument names users see are always the Python names.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from xlsector.errors import ParameterError

__all__ = [
    "EXTENSION_ID",
    "IDL_NAME",
    "INTERFACE",
    "SERVICE",
    "UDF_MODULE",
    "FunctionSpec",
    "ParamSpec",
    "function_specs",
    "idl_text",
    "specs_from_json",
    "specs_to_json",
]

UDF_MODULE = "udfs.xlsector_udfs"
EXTENSION_ID = "org.xlsector.calc"
#: The add-in's service (and implementation) name; LibreOffice stores a function as SERVICE.NAME in ODF.
SERVICE = "org.xlsector.calc.Functions"
#: The UNO interface whose methods are the functions.
INTERFACE = "org.xlsector.calc.XXlsectorFunctions"
IDL_NAME = "XXlsectorFunctions.idl"

# What unoidl's parser accepts (checked with unoidl-write 25.2): lower-case start without "_", or upper-case
# start with "_" only between letters/digits.
_IDENTIFIER = re.compile(r"[a-z][A-Za-z0-9]*|[A-Z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
# Words the UNO IDL parser reserves (unoidl's scanner), compared case-insensitively to be safe.
# fmt: off
_IDL_KEYWORDS = frozenset((
    "any", "attribute", "boolean", "bound", "byte", "char", "const", "constants", "constrained", "double",
    "enum", "exception", "false", "float", "get", "hyper", "in", "inout", "interface", "long",
    "maybeambiguous", "maybedefault", "maybevoid", "module", "needs", "observes", "oneway", "optional",
    "out", "property", "published", "raises", "readonly", "removable", "sequence", "service", "set",
    "short", "singleton", "string", "struct", "transient", "true", "type", "typedef", "unsigned", "void",
))
# Methods of the interfaces the component implements besides the functions (XAddIn, XServiceInfo, ...).
_RESERVED_METHODS = frozenset((
    "acquire", "release", "queryInterface", "getTypes", "getImplementationId",
    "getProgrammaticFuntionName", "getDisplayFunctionName", "getFunctionDescription",
    "getDisplayArgumentName", "getArgumentDescription", "getProgrammaticCategoryName",
    "getDisplayCategoryName", "getCompatibilityNames", "getServiceName", "getImplementationName",
    "supportsService", "getSupportedServiceNames", "setLocale", "getLocale",
))
# fmt: on


@dataclass(frozen=True)
class ParamSpec:
    """One argument: its Python name, its name in the IDL (the same unless that is a reserved word), help."""

    name: str
    idl_name: str
    help: str


@dataclass(frozen=True)
class FunctionSpec:
    """One spreadsheet function: Excel name, IDL method name (the same unless illegal), help, arguments."""

    name: str
    idl_name: str
    description: str
    params: tuple[ParamSpec, ...]


def _one_line(doc: str | None) -> str:
    """The first paragraph of a docstring as one line."""
    if not doc:
        return ""
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def _idl_name(name: str) -> str:
    """``name`` if UNO IDL accepts it, else a legal camelCase form of it (``as_of`` → ``asOf``)."""
    if _IDENTIFIER.fullmatch(name) and name.lower() not in _IDL_KEYWORDS:
        return name
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
    camel = (
        "".join([parts[0][:1].lower() + parts[0][1:]] + [p[:1].upper() + p[1:] for p in parts[1:]])
        if parts
        else ""
    )
    if not camel or not camel[0].isalpha():
        camel = "arg" + camel[:1].upper() + camel[1:]
    if camel.lower() in _IDL_KEYWORDS:
        camel += "Arg"
    return camel


def function_specs(module: ModuleType | str = UDF_MODULE) -> list[FunctionSpec]:
    """The functions of ``module`` (its ``__all__``), with their signatures, docstrings and ``DOC`` help."""
    if isinstance(module, str):
        module = importlib.import_module(module)
    names = getattr(module, "__all__", None)
    if not names:
        raise ParameterError(f"{module.__name__} has no __all__ listing its spreadsheet functions")
    help_table: dict[str, str] = getattr(module, "DOC", {}) or {}
    specs = []
    for name in names:
        function = getattr(module, name, None)
        if not callable(function):
            raise ParameterError(f"{module.__name__}.__all__ lists {name!r}, which is not a function")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
            raise ParameterError(f"{module.__name__}.{name}: not a name a spreadsheet function can have")
        params = []
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                raise ParameterError(
                    f"{module.__name__}.{name}: parameter {parameter.name} is {parameter.kind.description}; "
                    "spreadsheet functions take positional parameters only"
                )
            params.append(
                ParamSpec(
                    parameter.name, _idl_name(parameter.name), _one_line(help_table.get(parameter.name, ""))
                )
            )
        idl_names = [p.idl_name for p in params]
        if len(set(idl_names)) != len(idl_names):
            raise ParameterError(
                f"{module.__name__}.{name}: two parameters have the same IDL name {idl_names}"
            )
        specs.append(FunctionSpec(name, _idl_name(name), _one_line(inspect.getdoc(function)), tuple(params)))
    methods = [s.idl_name for s in specs]
    clashes = sorted({m for m in methods if methods.count(m) > 1 or m in _RESERVED_METHODS})
    if clashes:
        raise ParameterError(f"{module.__name__}: functions clash as LibreOffice add-in methods: {clashes}")
    return specs


def idl_text(specs: list[FunctionSpec], *, comment: str = "") -> str:
    """The UNO IDL of the add-in's interface: one method per function, every argument an ``any``."""
    *modules, interface = INTERFACE.split(".")
    lines = [f"// {line}" for line in comment.splitlines()] if comment else []
    lines.append(" ".join(f"module {m} {{" for m in modules))
    lines.append(f"    interface {interface}: com::sun::star::uno::XInterface {{")
    for spec in specs:
        params = ", ".join(f"[in] any {p.idl_name}" for p in spec.params)
        lines.append(f"        sequence< sequence< any > > {spec.idl_name}({params});")
    lines.append("    };")
    lines.append(" ".join("};" for _ in modules))
    return "\n".join(lines) + "\n"


def specs_to_json(specs: list[FunctionSpec]) -> list[dict[str, Any]]:
    """The specs as JSON-ready dicts (what the extension's component reads)."""
    return [
        {
            "name": s.name,
            "idl_name": s.idl_name,
            "description": s.description,
            "params": [{"name": p.name, "idl_name": p.idl_name, "help": p.help} for p in s.params],
        }
        for s in specs
    ]


def specs_from_json(data: list[dict[str, Any]]) -> list[FunctionSpec]:
    """Inverse of :func:`specs_to_json`."""
    return [
        FunctionSpec(
            d["name"],
            d["idl_name"],
            d["description"],
            tuple(ParamSpec(p["name"], p["idl_name"], p["help"]) for p in d["params"]),
        )
        for d in data
    ]
