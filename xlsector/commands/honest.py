"""What every command that shows a tuned or backtested result adds to its output: the overfitting statistics
with their N, the grid-edge warning, the fair benchmarks' legend and the sample's survivorship disclosure.

Text helpers only (the figures come from :mod:`xlsector.evaluation`, :mod:`xlsector.robustness` and
:mod:`xlsector.benchmarks`); warnings are ``warning: ...`` lines, also written to stderr with ``--json`` so
that a pipe reading the JSON still sees them on the terminal.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["benchmark_lines", "disclosure_lines", "overfit_lines", "stat_text", "warn"]


def stat_text(value: Any) -> str:
    """A figure for a text table: 4 significant decimals for floats, thousands for big counts, text as is."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) >= 1:
            return f"{value:,.0f}"
        return f"{value:.4f}"
    return str(value)


def overfit_lines(report: Any, title: str) -> list[str]:
    """An :class:`xlsector.evaluation.OverfitReport` as a block: label, value (or why it is missing), definition."""
    lines = [f"{title} (N = {report.n_trials:,.0f}: {report.n_note})"]
    width = max(len(s.label) for s in report.stats())
    for stat in report.stats():
        if stat.key == "conventions" or (report.n_trials < 2 and stat.key in ("sr0_annual", "pbo")):
            continue  # one trial: no expected maximum, nothing for CSCV to select among
        lines.append(f"  {stat.label:<{width}}  {stat_text(stat.shown):>14}  {stat.definition}")
    lines.append(f"  Conventions: {report.stats()[-1].value}")
    return lines


def warn(lines: Iterable[str], *, as_json: bool) -> list[str]:
    """``warning: ...`` lines; with ``as_json`` they also go to stderr now (the JSON carries them too)."""
    out = [f"warning: {line}" for line in lines if line]
    if as_json:
        for line in out:
            print(line, file=sys.stderr)
    return out


def benchmark_lines(primary: str, fair: Mapping[str, Any]) -> list[str]:
    """The legend of the benchmark columns: what each one is, in full."""
    lines = ["Benchmarks (same days as the strategy):", f"  benchmark: {primary}"]
    lines += [f"  {key}: {b.label}" for key, b in fair.items()]
    return lines


def disclosure_lines(source: str) -> list[str]:
    """The sample's survivorship disclosure when the data is the bundled sample, else nothing."""
    from xlsector.workbook.layout import SAMPLE_DISCLOSURE

    if str(source).lower().startswith("bundled sample"):
        return ["warning: " + SAMPLE_DISCLOSURE]
    return []
