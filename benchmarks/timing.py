"""The one timing loop of the benchmark scripts: wall time of ``repeat`` calls, as (median, min, max)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timings(fn: Callable[[], Any], repeat: int, *, warm_up: bool = True, scale: float = 1.0) -> tuple[float, float, float]:
    """(median, min, max) of ``repeat`` timed calls of ``fn``, in seconds times ``scale`` (1e3: milliseconds).

    ``warm_up`` calls ``fn`` once first, untimed (numba's cache load, imports, caches filled): the figures are
    then what a long-running host such as Excel sees after its first call."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * scale)
    return statistics.median(times), min(times), max(times)
