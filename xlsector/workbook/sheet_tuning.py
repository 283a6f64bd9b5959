"""Tuning sheets: TrendChart, Stationarity, FWPT (filled once xlsector.tuning is available)."""

from __future__ import annotations

from typing import Any

__all__ = ["write_tuning"]


def write_tuning(sheet, computed: Any, writers: list) -> dict[str, Any] | None:
    return None
