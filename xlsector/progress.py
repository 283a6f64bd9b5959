"""A tiny terminal progress bar on stderr, with no dependency.

It draws only when the stream is a terminal (``isatty()``), so pipes, CI logs and tests stay clean, and
it never writes to stdout (where ``--json`` output goes). Use it as a context manager::

    with Progress(total=len(jobs), label="experiment") as bar:
        for job in jobs:
            run(job)
            bar.advance()

Redraws are throttled (at most every 0.1 s) so a fast loop pays almost nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Self, TextIO

__all__ = ["Progress"]


class Progress:
    """Progress bar ``label [#####-----] 12/40 30%`` drawn on ``stream`` (stderr) when it is a TTY.

    Parameters
    ----------
    total : int
        Number of steps (>= 0). ``0`` draws nothing.
    label : str
        Text shown before the bar.
    stream : file, optional
        Where to draw; default ``sys.stderr``.
    enabled : bool, optional
        Force drawing on or off; default: on when ``stream.isatty()``.
    width : int
        Bar width in characters.
    """

    def __init__(
        self,
        total: int,
        label: str = "",
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 30,
    ) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled and self.total > 0
        self.width = width
        self.done = 0
        self._last_draw = 0.0

    def __enter__(self) -> Self:
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, steps: int = 1, label: str | None = None) -> None:
        """Mark ``steps`` more steps done (and optionally change the label)."""
        self.done = min(self.done + steps, self.total)
        if label is not None:
            self.label = label
        self._draw(force=self.done >= self.total)

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        pct = 100 * self.done / self.total
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {pct:3.0f}%")
        self.stream.flush()

    def close(self) -> None:
        """Finish the line (erase the bar) so later output starts on a clean line."""
        if self.enabled:
            self.stream.write("\r" + " " * (len(self.label) + self.width + 24) + "\r")
            self.stream.flush()
            self.enabled = False
