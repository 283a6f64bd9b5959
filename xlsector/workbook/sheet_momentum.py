"""Momentum sheet: the experiment grids of SPEC section 3."""

from __future__ import annotations

from typing import Any

__all__ = ["write_momentum"]


def write_momentum(sheet, computed: Any, writers: list) -> None:
    return None
