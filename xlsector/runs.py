"""Run records: every ``backtest``, ``experiment`` and ``tune`` run is kept so it can be shown again.

Where: ``$XLSECTOR_HOME/runs/`` when the environment variable ``XLSECTOR_HOME`` is set, else the user's
data folder (``%LOCALAPPDATA%\\xlsector`` on Windows, ``~/Library/Application Support/xlsector`` on
macOS, ``$XDG_DATA_HOME/xlsector`` or ``~/.local/share/xlsector`` elsewhere).

One JSON file per run, named ``<UTC time>-<command>-<4 hex>.json`` and written atomically (a temporary
file renamed into place), holding::

    {"id": ..., "created": ISO UTC time, "command": "backtest", "argv": [...],
     "title": one line, "summary": {headline numbers}, "text": the human output, "data": the --json output}

``list_runs()`` reads them newest first; ``last_run()`` is the newest. A file that cannot be parsed is
skipped (it cannot be a half-written record: writes are atomic).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xlsector.errors import XlsectorError
from xlsector.fileio import atomic_write_bytes

__all__ = [
    "emit",
    "format_table",
    "get_run",
    "home_dir",
    "jsonable",
    "last_run",
    "list_runs",
    "record_run",
    "runs_dir",
]


def home_dir() -> Path:
    """The xlsector user data folder (``XLSECTOR_HOME`` overrides the platform default)."""
    env = os.environ.get("XLSECTOR_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "xlsector"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "xlsector"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "xlsector"


def runs_dir() -> Path:
    """Folder of the run records (``<home>/runs``); not created by this call."""
    return home_dir() / "runs"


def record_run(
    command: str,
    *,
    argv: list[str] | None,
    title: str,
    text: str,
    data: Any,
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write one run record atomically and return it (with its ``id`` and ``path``).

    ``data`` must be JSON-serialisable (NaN is written as ``null``). Raises :class:`XlsectorError` when
    the folder cannot be created or written.
    """
    folder = runs_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XlsectorError(f"cannot create the run folder {folder}: {exc.strerror or exc}") from exc
    now = datetime.now(UTC)
    slug = "-".join(command.split())
    run_id = f"{now:%Y%m%dT%H%M%S%f}-{slug}-{secrets.token_hex(2)}"
    record = {
        "id": run_id,
        "created": now.isoformat(timespec="seconds"),
        "command": command,
        "argv": list(argv or []),
        "title": title,
        "summary": summary or {},
        "text": text,
        "data": data,
    }
    payload = json.dumps(_clean(record), indent=1, allow_nan=False).encode("utf-8")
    path = atomic_write_bytes(folder / f"{run_id}.json", payload)
    record["path"] = str(path)
    return record


def _clean(value: Any) -> Any:
    """Make ``value`` strict JSON: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def list_runs(limit: int | None = None) -> list[dict[str, Any]]:
    """Run records, newest first (at most ``limit``)."""
    folder = runs_dir()
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.glob("*.json"), reverse=True):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        record["path"] = str(path)
        records.append(record)
        if limit is not None and len(records) >= limit:
            break
    return records


def last_run(command: str | None = None) -> dict[str, Any]:
    """The newest run record (of ``command`` if given); :class:`XlsectorError` when there is none."""
    for record in list_runs():
        if command is None or record.get("command") == command:
            return record
    what = f"no '{command}' run" if command else "no run"
    raise XlsectorError(f"{what} recorded yet in {runs_dir()} (run xlsector backtest/experiment/tune first)")


def get_run(run_id: str) -> dict[str, Any]:
    """The run whose id is ``run_id`` or starts with it (unique prefix)."""
    matches = [r for r in list_runs() if r.get("id", "").startswith(run_id)]
    if not matches:
        raise XlsectorError(f"run id {run_id!r} not found in {runs_dir()} (see xlsector runs)")
    if len(matches) > 1 and matches[0]["id"] != run_id:
        raise XlsectorError(f"run id prefix {run_id!r} is ambiguous: {len(matches)} runs match")
    return matches[0]


# ---------------------------------------------------------------------------------------- CLI output


def jsonable(value: Any) -> Any:
    """Convert results (DataFrames, Series, Timestamps, numpy values, dicts) to strict-JSON-ready objects."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        frame = value.reset_index() if not isinstance(value.index, pd.RangeIndex) else value
        return [{str(k): jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp,)):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _key(key: Any) -> str:
    import pandas as pd

    if isinstance(key, pd.Timestamp):
        return key.strftime("%Y-%m-%d")
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def format_table(frame: Any, *, formats: dict[str, str] | None = None, index: bool = True) -> str:
    """Plain-text table (no dependency): columns right-aligned, floats by ``formats[column]`` or 4 decimals."""
    import pandas as pd

    formats = formats or {}
    frame = frame.reset_index() if index and not isinstance(frame.index, pd.RangeIndex) else frame
    columns = [str(c) for c in frame.columns]
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for column, value in zip(columns, row.tolist()):
            cells.append(_cell(value, formats.get(column)))
        rows.append(cells)
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)
        ).rstrip()

    lines = [line(columns), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in rows]
    return "\n".join(lines)


def _cell(value: Any, fmt: str | None) -> str:
    import pandas as pd

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "*" if value else ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        if fmt == "%":
            return f"{100 * value:.2f}%"
        if fmt:
            return format(value, fmt)
        return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"
    return str(value)


def emit(
    command: str,
    *,
    argv: list[str] | None,
    title: str,
    text: str,
    data: Any,
    as_json: bool,
    summary: dict[str, Any] | None = None,
    record: bool = True,
) -> dict[str, Any] | None:
    """Print a result (human text, or JSON with ``as_json``) and record the run. Returns the record."""
    payload = jsonable(data)
    saved = None
    if record:
        saved = record_run(
            command, argv=argv, title=title, text=text, data=payload, summary=jsonable(summary or {})
        )
    if as_json:
        print(json.dumps(payload, indent=1, allow_nan=False))
    else:
        print(text)
        if saved is not None:
            print(f"\n(run recorded as {saved['id']}; show again with: xlsector show-last)")
    return saved
