"""Lazy re-exports for packages (PEP 562), so that importing a package loads none of its heavy parts."""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any


def export_lazily(
    package: str,
    exports: dict[str, str],
    deprecated: dict[str, str] | None = None,
    kept: dict[str, tuple[str, str]] | None = None,
) -> None:
    """Make ``package.NAME`` import ``exports[NAME]`` (a module) on first access and return its ``NAME``.

    ``deprecated`` maps old public names to their new names (themselves in ``exports``): the old name
    still works for one release and warns with a :class:`DeprecationWarning` naming the new one.
    ``kept`` maps an old name whose behaviour differs from its new name's to ``(module, attribute)``: the
    old name then keeps that behaviour (and the warning says what changed).
    No public name may be a submodule's name (the import system would bind the submodule over it).
    """
    module = sys.modules[package]
    renamed = deprecated or {}
    own = kept or {}

    def __getattr__(name: str) -> Any:
        if name in renamed:
            new = renamed[name]
            note = (f", which behaves differently ({package}.{name} keeps its old behaviour, that of "
                    f"{own[name][0]}.{own[name][1]})") if name in own else ""
            warnings.warn(f"{package}.{name} is deprecated; use {package}.{new}{note}", DeprecationWarning,
                          stacklevel=2)
            if name in own:
                home, attribute = own[name]
                return getattr(importlib.import_module(home), attribute)
            return __getattr__(new)
        source = exports.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | set(vars(module)))

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__dir__ = __dir__  # type: ignore[method-assign]
