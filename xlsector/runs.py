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
    "format_value",
    "get_run",
    "home_dir",
    "jsonable",
    "last_run",
    "list_runs",
    "record_run",
    "runs_dir",
    "short_id",
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
    """The run whose id is ``run_id``, or the one run whose id starts or ends with it (its time as a prefix, or the
    short suffix the run prints, e.g. ``e192`` or ``backtest-e192``)."""
    text = run_id.strip()
    records = list_runs()
    exact = [r for r in records if r.get("id") == text]
    if exact:
        return exact[0]
    matches = [r for r in records if text and (r.get("id", "").startswith(text) or r.get("id", "").endswith(text))]
    if not matches:
        raise XlsectorError(f"run id {run_id!r} not found in {runs_dir()} (see xlsector runs)")
    if len(matches) > 1:
        shown = ", ".join(r["id"] for r in matches[:3])
        raise XlsectorError(f"run id {run_id!r} is ambiguous: {len(matches)} runs match ({shown}"
                            f"{', ...' if len(matches) > 3 else ''}); give more of it")
    return matches[0]


def short_id(run_id: str) -> str:
    """The short form of a run id that ``runs show`` accepts: its command and 4 hex digits (``backtest-e192``)."""
    return run_id.split("-", 1)[1] if "-" in run_id else run_id


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


#: How the CLI shows each metric of :func:`xlsector.measures.metrics_table` (a row label): ``%`` a percentage,
#: ``d`` a count, else a format spec. Labels not listed: :func:`_label_format` guesses from the words.
METRIC_FORMATS: dict[str, str] = {
    "Days": "d", "Trades": "d", "Switches": "d", "switches": "d", "Retunes (adopted)": "d", "N": "d",
    "Years": ".2f", "Total return": "%", "CAGR": "%", "Volatility": "%", "Max drawdown": "%",
    "Win rate (days)": "%", "Win rate (spells)": "%", "Exposure": "%", "Best year": "%", "Worst year": "%",
    "Time invested": "%", "Sharpe ratio": ".3f", "Sortino ratio": ".3f", "Calmar ratio": ".3f", "BPS": ".3f",
    "Ulcer index (%)": ".2f", "Turnover (trades/yr)": ".2f", "Average leverage": ".2f",
}

#: Widest line of a table before it is wrapped into blocks of columns (``--json`` has every column in full).
TABLE_WIDTH = 120
_TEXT_CAP = 48


def _label_format(label: Any) -> str | None:
    """The format of a metric row or summary key, by its label (``oos_CAGR`` -> ``%``)."""
    if not isinstance(label, str):
        return None
    if label in METRIC_FORMATS:
        return METRIC_FORMATS[label]
    words = label.replace("_", " ")
    for known, fmt in METRIC_FORMATS.items():
        if words.endswith(f" {known}") or words.lower().endswith(f" {known.lower()}"):
            return fmt
    return None


def format_table(frame: Any, *, formats: dict[str, str] | None = None, index: bool = True,
                 width: int = TABLE_WIDTH) -> str:
    """Plain-text table (no dependency): numbers right-aligned, floats by ``formats[column]`` (``%``: a
    percentage, ``d``: a whole number), else by the row's metric label (:data:`METRIC_FORMATS`), else 4 decimals.

    A table wider than ``width`` first shortens long texts (ending in "…"), then wraps: blocks of columns, each
    repeating the first column (the row label), separated by a blank line.
    """
    import pandas as pd

    formats = formats or {}
    frame = frame.reset_index() if index and not isinstance(frame.index, pd.RangeIndex) else frame
    columns = [str(c) for c in frame.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    rows = []
    for _, row in frame.iterrows():
        values = row.tolist()
        by_label = _label_format(values[0]) if values else None
        rows.append([_cell(v, formats.get(column) or (by_label if j else None))
                     for j, (column, v) in enumerate(zip(columns, values))])
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    texts = [i for i, is_number in enumerate(numeric) if not is_number]
    if texts and sum(widths) + 2 * (len(widths) - 1) > width:  # shorten the widest text to fit, if it can
        widest = max(texts, key=lambda i: widths[i])
        room = width - (sum(widths) - widths[widest]) - 2 * (len(widths) - 1)
        cap = room if room >= 24 else _TEXT_CAP
        if widths[widest] > cap:
            for r in rows:
                if len(r[widest]) > cap:
                    r[widest] = r[widest][: cap - 1] + "…"
            widths[widest] = max([len(columns[widest])] + [len(r[widest]) for r in rows])
    keys = 1  # the leading text columns (the row's label) repeat in every block
    while keys < len(columns) and not numeric[keys] and sum(widths[: keys + 1]) + 2 * keys <= width // 2:
        keys += 1
    blocks: list[list[int]] = [list(range(min(keys, len(columns))))]
    for i in range(keys, len(columns)):
        if sum(widths[j] + 2 for j in blocks[-1]) + widths[i] <= width or len(blocks[-1]) <= keys:
            blocks[-1].append(i)
        else:
            blocks.append([*range(keys), i])

    def line(cells: list[str], chosen: list[int]) -> str:
        return "  ".join(
            cells[j].rjust(widths[j]) if numeric[j] else cells[j].ljust(widths[j]) for j in chosen
        ).rstrip()

    parts = []
    for chosen in blocks:
        lines = [line(columns, chosen), "  ".join("-" * widths[j] for j in chosen)]
        lines += [line(r, chosen) for r in rows]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def format_value(value: Any, label: Any = None) -> str:
    """One value as the tables show it (by its label's metric format): for summaries and comparisons."""
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v, label) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v, k)}" for k, v in value.items()) + "}"
    return _cell(value, _label_format(label))


def _cell(value: Any, fmt: str | None) -> str:
    import pandas as pd

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "*" if value else ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool) and fmt in (None, "d", "g"):
        return str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
        if fmt == "%":
            return f"{100 * value:.2f}%"
        if fmt == "d":
            return f"{value:.0f}" if math.isfinite(value) else "-"
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
            print(f"\n(run recorded as {saved['id']}; show again with: xlsector runs show "
                  f"{saved['id'].rsplit('-', 1)[-1]}, or xlsector show-last)")
    return saved
