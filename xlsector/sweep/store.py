"""The sweep's results on disk: one SQLite file holding the specification, the plan and every finished row.

Why SQLite (Python's standard library) rather than Parquet chunks: each batch that comes back is written in
one transaction, so an interrupted or killed sweep leaves exactly the batches committed before it (never half
a chunk); the combination id is the results table's primary key, so a combination can be stored once and
only once even when Dask runs a task twice (a worker lost mid-task); resuming is one query (the plan's ids
without a row); and the plan and the specification live in the same file, so ``--resume`` needs nothing
else and refuses a store made from other inputs. Parquet would need a file per chunk, a manifest and a
compaction step for the same guarantees, and pyarrow (kept optional: ``--output x.parquet``).

Tables::

    meta(key TEXT PRIMARY KEY, value TEXT)          spec (JSON), data fingerprint, xlsector version, created
    plan(id INTEGER PRIMARY KEY, funds TEXT)        every combination of the sweep, in plan order
    results(id INTEGER PRIMARY KEY, <SweepRow fields>)
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import pandas as pd

from xlsector.errors import XlsectorError
from xlsector.sweep.evaluate import SweepRow, row_fields
from xlsector.sweep.plan import Combination

__all__ = ["SweepStore"]

_SQL_TYPES = {int: "INTEGER", float: "REAL", str: "TEXT", bool: "INTEGER"}


def _connect(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")  # readers (a progress query) never block the writer
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed batch survives a crash of the process
    except sqlite3.Error as exc:
        raise XlsectorError(f"cannot open the sweep store {path}: {exc}") from None
    return db


class SweepStore:
    """An open sweep store (see the module docstring). Only the process driving the sweep writes to it."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db

    # ------------------------------------------------------------------------------------------ opening

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, spec: dict[str, Any], fingerprint: str,
               plan: Sequence[Combination], overwrite: bool = False) -> SweepStore:
        """A new store holding ``plan``. An existing file is an error unless ``overwrite`` (then replaced)."""
        target = Path(path)
        if target.exists():
            if not overwrite:
                raise XlsectorError(f"the sweep store {target} exists: resume it (--resume) or choose another "
                                    "--store (or --overwrite)")
            for suffix in ("", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
        if not target.parent.is_dir():
            raise XlsectorError(f"cannot create the sweep store {target}: folder {target.parent} does not exist")
        db = _connect(target)
        from xlsector import __version__

        columns = ", ".join(f"{name} {_SQL_TYPES[kind]}" + (" PRIMARY KEY" if name == "id" else "")
                            for name, kind in row_fields())
        with _transaction(db):
            db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE plan(id INTEGER PRIMARY KEY, funds TEXT NOT NULL)")
            db.execute(f"CREATE TABLE results({columns})")
            db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("spec", json.dumps(spec, sort_keys=True)),
                ("fingerprint", fingerprint),
                ("xlsector", __version__),
                ("created", datetime.now(UTC).isoformat(timespec="seconds")),
            ])
            db.executemany("INSERT INTO plan VALUES (?, ?)", ((i, ",".join(c)) for i, c in enumerate(plan)))
        return cls(target, db)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, spec: dict[str, Any] | None = None,
             fingerprint: str | None = None) -> SweepStore:
        """An existing store; with ``spec``/``fingerprint``, checked to be the same sweep on the same prices."""
        target = Path(path)
        if not target.is_file():
            raise XlsectorError(f"no sweep store at {target} to resume (run the sweep without --resume first)")
        db = _connect(target)
        store = cls(target, db)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error:
            db.close()
            raise XlsectorError(f"{target} is not a sweep store (no meta table)") from None
        if spec is not None:
            stored = json.loads(meta.get("spec", "{}"))
            wanted = json.loads(json.dumps(spec, sort_keys=True))
            diff = sorted(k for k in set(stored) | set(wanted) if stored.get(k) != wanted.get(k))
            if diff:
                db.close()
                raise XlsectorError(
                    f"the sweep store {target} holds another sweep: {diff[0]} was {stored.get(diff[0])!r}, now "
                    f"{wanted.get(diff[0])!r}; resume with the same arguments or choose another --store"
                )
        if fingerprint is not None and meta.get("fingerprint") != fingerprint:
            db.close()
            raise XlsectorError(f"the sweep store {target} was made from other prices (their values or dates "
                                "differ); resume with the same --prices or choose another --store")
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ reading

    def spec(self) -> dict[str, Any]:
        return json.loads(self._meta("spec"))

    def fingerprint(self) -> str:
        """SHA-256 of the prices the sweep was made from (:func:`xlsector.sweep.plan.data_fingerprint`)."""
        return self._meta("fingerprint")

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return "" if row is None else str(row[0])

    def plan(self) -> list[tuple[int, Combination]]:
        """Every (id, combination) of the sweep, in plan order."""
        return [(int(i), tuple(f.split(","))) for i, f in self._db.execute("SELECT id, funds FROM plan ORDER BY id")]

    def todo(self) -> list[tuple[int, Combination]]:
        """The planned combinations without a stored row, in plan order."""
        query = "SELECT id, funds FROM plan WHERE id NOT IN (SELECT id FROM results) ORDER BY id"
        return [(int(i), tuple(f.split(","))) for i, f in self._db.execute(query)]

    def count(self) -> tuple[int, int]:
        """(rows stored, combinations planned)."""
        done = self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        planned = self._db.execute("SELECT COUNT(*) FROM plan").fetchone()[0]
        return int(done), int(planned)

    def frame(self) -> pd.DataFrame:
        """Every stored row as a DataFrame (columns: the :class:`SweepRow` fields), by id."""
        names = [name for name, _ in row_fields()]
        rows = self._db.execute(f"SELECT {', '.join(names)} FROM results ORDER BY id").fetchall()
        frame = pd.DataFrame.from_records(rows, columns=names)
        kinds = dict(row_fields())
        for name, kind in kinds.items():
            if kind is bool:
                frame[name] = frame[name].astype(bool)
            elif kind is float:
                frame[name] = frame[name].astype(float)  # SQLite gives NULL for NaN
        return frame

    # ------------------------------------------------------------------------------------------ writing

    def add(self, rows: Iterable[SweepRow]) -> int:
        """Store rows in one transaction; a row whose id is stored already is skipped. Returns rows added."""
        names = [name for name, _ in row_fields()]
        values = (tuple(_sql(getattr(row, n)) for n in names) for row in rows)  # read inside the transaction
        marks = ", ".join("?" for _ in names)
        with _transaction(self._db):
            before = self._db.total_changes
            self._db.executemany(f"INSERT OR IGNORE INTO results ({', '.join(names)}) VALUES ({marks})", values)
            return self._db.total_changes - before


def _sql(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


class _transaction:
    """BEGIN ... COMMIT (ROLLBACK on any exception, KeyboardInterrupt included)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def default_store(fingerprint: str, spec: dict[str, Any]) -> Path:
    """``<xlsector home>/sweeps/sweep-<hash of the spec and the prices>.sqlite``: the same sweep on the same
    prices finds its store again (``--resume`` without ``--store``)."""
    import hashlib

    from xlsector.runs import home_dir

    key = hashlib.sha256((fingerprint + json.dumps(spec, sort_keys=True)).encode()).hexdigest()[:16]
    folder = home_dir() / "sweeps"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XlsectorError(f"cannot create the sweep folder {folder}: {exc.strerror or exc}") from None
    return folder / f"sweep-{key}.sqlite"
