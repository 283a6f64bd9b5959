"""Lazy re-exports for packages (PEP 562), so that importing a package loads none of its heavy parts."""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


def export_lazily(package: str, exports: dict[str, str]) -> None:
    """Make ``package.NAME`` import ``exports[NAME]`` (a module) on first access and return its ``NAME``.

    Where a public name is also a submodule's name (``xlsector.backtest``, ``xlsector.data.refresh``),
    the import system would bind the submodule as the package attribute once it is imported and shadow
    the function: the package's class keeps the function instead. Import such submodules with
    ``from package.name import ...``.
    """
    module = sys.modules[package]

    def __getattr__(name: str) -> Any:
        source = exports.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(exports) | set(vars(module)))

    class LazyPackage(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if isinstance(value, types.ModuleType) and name in exports and value.__name__ == f"{package}.{name}":
                value = getattr(importlib.import_module(exports[name]), name)
            super().__setattr__(name, value)

    module.__getattr__ = __getattr__
    module.__dir__ = __dir__
    module.__class__ = LazyPackage
