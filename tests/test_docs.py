"""The documentation's examples run and the names it gives exist (docs/metrics.md)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


@pytest.mark.parametrize("page", ["metrics.md"])
def test_python_examples_run(page, capsys):
    blocks = _python_blocks((DOCS / page).read_text(encoding="utf-8"))
    assert blocks, f"{page} has no python example"
    for code in blocks:
        exec(compile(code, f"{page} example", "exec"), {})  # noqa: S102 - the project's own documentation


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_xlsector_name_on_the_metrics_page_exists():
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    names = set(re.findall(r"`(xlsector(?:\.\w+)+)", text))
    assert names, "no xlsector name found"
    assert [n for n in sorted(names) if not _resolves(n)] == []
    from xlsector import measures

    functions = re.findall(r"\| `(\w+)\(", text)
    assert functions and [f for f in functions if not hasattr(measures, f)] == []
