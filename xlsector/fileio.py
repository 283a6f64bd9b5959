"""Safe file access shared by every door: what may be read, where a write lands, atomic writes, and the lock
that keeps two xlsector processes from overwriting each other's work on one workbook.

Reading (:func:`regular_file`, :func:`read_limited`): only a regular file is read, checked before any byte is
(a folder, a FIFO, ``/dev/zero`` or another device is refused with an ``Error:`` instead of a hang or a
MemoryError), and never more than :data:`xlsector.limits.MAX_FILE_BYTES`.

Writing (:func:`write_target`, :func:`atomic_output`): a write goes to a temporary file in the target's folder,
is flushed and fsync'ed, then replaces the target with :func:`os.replace` (atomic on POSIX and on Windows for
files on the same volume) and the folder is fsync'ed where the platform allows it. On any exception the
temporary file is removed and the target keeps its previous bytes. As editors do:

- a **symbolic link** is followed: the file it points to is replaced atomically and the link stays a link;
- a file with **several hard links** cannot be replaced without cutting the other names off the new bytes, so
  it is overwritten in place once the new bytes are complete on disk, its old bytes kept in
  ``.NAME.xlsector-backup`` beside it until the new ones are synced (an error names that copy if the write
  fails half-way);
- anything that exists and is not a regular file (a device, a FIFO, a folder) is refused, never replaced.

Locking (:func:`workbook_lock`): a writer of a workbook (render, refresh, template) holds an exclusive lock
(the ``filelock`` package: ``.NAME.xlsector.lock`` beside the workbook, an OS lock, released when the process
ends, also on Windows; the file is removed when the lock is released) over its whole read-compute-write, so a second writer waits for it
(:data:`LOCK_WAIT_SECONDS`, env ``XLSECTOR_LOCK_WAIT``) and then reads the new bytes, or gives up with
``... is being written by another xlsector process``. Under the lock, temporary files that a killed writer
left beside the workbook (``.NAME.XXXXXXXX.tmp``) are removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from xlsector.errors import DataError, XlsectorError

__all__ = [
    "LOCK_WAIT_SECONDS",
    "atomic_output",
    "atomic_write_bytes",
    "check_writable",
    "lock_path",
    "read_limited",
    "regular_file",
    "stderr_notice",
    "workbook_lock",
    "write_target",
]

#: How long a writer waits for another xlsector process to finish with the same workbook (env XLSECTOR_LOCK_WAIT).
LOCK_WAIT_SECONDS = 120.0

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def regular_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path`` if it names a regular file (symbolic links followed); else a :class:`~xlsector.errors.DataError` saying what it
    is. Checked before any byte is read, so a FIFO, ``/dev/zero`` or a folder never hangs or floods a reader."""
    file = Path(path)
    try:
        info = os.stat(file)
    except FileNotFoundError:
        raise DataError(f"{what} {file} does not exist") from None
    except OSError as exc:
        raise DataError(f"cannot read {what} {file}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{what} {file} is {_kind(info.st_mode)}, not a file; xlsector reads regular files only")
    return file


def read_limited(path: str | os.PathLike[str], what: str = "file") -> bytes:
    """The bytes of a regular file of at most :data:`~xlsector.limits.MAX_FILE_BYTES`; else a DataError."""
    from xlsector.limits import MAX_FILE_BYTES, describe

    file = regular_file(path, what)
    try:
        with open(file, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise DataError(f"cannot read {what} {file}: permission denied (is it open in Excel?)") from None
    except OSError as exc:
        raise DataError(f"cannot read {what} {file}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"{what} {file} is larger than {describe('MAX_FILE_BYTES')}; refusing to read it")
    return data


def _fsync_dir(folder: Path) -> None:
    """fsync a folder so the rename survives a power cut (a no-op where folders cannot be opened)."""
    if os.name == "nt":  # Windows cannot open a directory for fsync; NTFS journals the rename
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _lock_file(path: Path) -> Path:
    """The lock file Excel (and LibreOffice) keep beside an open workbook."""
    return path.with_name("~$" + path.name)


def write_target(path: str | os.PathLike[str]) -> Path:
    """Where a write of ``path`` lands: the file a symbolic link points to (the link itself is kept), else
    ``path``. Raises XlsectorError when it exists and is not a regular file (a folder, a device, a FIFO)."""
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise XlsectorError(f"cannot write {target}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise XlsectorError(f"cannot write {path}: it is {_kind(info.st_mode)}; write to a regular file or a new path")
    return target


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can be replaced; raise a clear :class:`XlsectorError` if not.

    Detects a workbook open in Excel (its lock file ``~$name.xlsx`` beside it, or LibreOffice's
    ``.~lock.name.xlsx#``), a missing folder, something that is not a regular file (a device, a FIFO, a
    folder: refused, never replaced), and a folder or file the OS will not let us write. Returns where the
    write lands (:func:`write_target`: the file a symbolic link points to).
    """
    given = Path(path)
    target = write_target(given)
    folder = target.parent if str(target.parent) else Path(".")
    for beside in dict.fromkeys([given, target]):
        for lock in (_lock_file(beside), beside.with_name(f".~lock.{beside.name}#")):
            if lock.exists():
                raise XlsectorError(
                    f"cannot write {target}: it is open in Excel or LibreOffice (lock file {lock.name} "
                    "found beside it); close it and try again"
                )
    if not folder.is_dir():
        raise XlsectorError(f"cannot write {target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise XlsectorError(f"cannot write {target}: permission denied on folder {folder}")
    if target.exists() and not os.access(target, os.W_OK):
        raise XlsectorError(f"cannot write {target}: the file is read-only")
    return target


def _replace(tmp: Path, target: Path, folder: Path) -> None:
    """Move the finished ``tmp`` onto ``target``: a rename, or (several hard links) an in-place copy."""
    try:
        links = os.stat(target).st_nlink
    except OSError:
        links = 1
    if links > 1:
        _overwrite_in_place(tmp, target)
        tmp.unlink()
        return
    try:
        os.replace(tmp, target)
    except PermissionError as exc:
        raise XlsectorError(
            f"cannot write {target}: permission denied (is it open in Excel?): {exc.strerror or exc}"
        ) from exc
    except OSError as exc:
        raise XlsectorError(f"cannot write {target}: {exc.strerror or exc}") from exc
    _fsync_dir(folder)


def _overwrite_in_place(tmp: Path, target: Path) -> None:
    """Copy ``tmp`` over ``target``'s own bytes (every hard link sees them), the old bytes kept in a backup
    until the new ones are synced."""
    import shutil

    backup = target.with_name(f".{target.name}.xlsector-backup")
    try:
        shutil.copyfile(target, backup)
        with open(backup, "rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            backup.unlink()
        raise XlsectorError(f"cannot write {target}: cannot keep its old bytes first ({exc.strerror or exc})") from exc
    try:
        with open(tmp, "rb") as source, open(target, "rb+") as dest:
            shutil.copyfileobj(source, dest, 1 << 20)
            dest.truncate()
            dest.flush()
            os.fsync(dest.fileno())
    except OSError as exc:
        raise XlsectorError(
            f"cannot write {target} (it has several hard links, so it is written in place): {exc.strerror or exc}; "
            f"its old bytes are in {backup}"
        ) from exc
    backup.unlink()


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Context manager giving a temporary path to write; on success it replaces ``path`` atomically.

    The temporary file lives in the same folder (so :func:`os.replace` is a rename, not a copy). The
    caller writes it (by any means, e.g. ``workbook.save(tmp)``); on leaving the block without an
    exception it is fsync'ed and renamed over ``path``, keeping the old file's permission bits. On any
    exception the temporary file is removed, ``path`` is untouched and the exception propagates. An
    :class:`OSError` from creating, syncing or renaming becomes an :class:`XlsectorError` naming the path.
    A symbolic link is followed, a file with several hard links written in place, anything else that is
    not a regular file refused (module docstring).
    """
    target = write_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise XlsectorError(f"cannot write {target}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists():
            raise XlsectorError(f"cannot write {target}: nothing was written to the temporary file")
        with open(tmp, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o666 & ~umask)
        _replace(tmp, target, folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (all new bytes or the old file unchanged). Returns the path."""
    target = Path(path)
    with atomic_output(target) as tmp:
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise XlsectorError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


# ------------------------------------------------------------------------------------------------ locking

_HELD: dict[str, list] = {}  # resolved workbook path -> [lock, depth]: the lock is re-entrant in one process


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of a workbook: ``.NAME.xlsector.lock`` beside the file a write lands in."""
    target = write_target(path)
    return target.with_name(f".{target.name}.xlsector.lock")


def _wait_seconds() -> float:
    text = os.environ.get("XLSECTOR_LOCK_WAIT", "")
    try:
        return max(float(text), 0.0) if text.strip() else LOCK_WAIT_SECONDS
    except ValueError:
        return LOCK_WAIT_SECONDS


def _remove_stale_temporaries(target: Path) -> None:
    """Temporary files a killed writer of ``target`` left (``.NAME.XXXXXXXX.tmp``); only called under its lock."""
    pattern = re.compile(r"\." + re.escape(target.name) + r"\.[A-Za-z0-9_]{8}\.tmp")
    folder = target.parent if str(target.parent) else Path(".")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


@contextlib.contextmanager
def workbook_lock(path: str | os.PathLike[str], *, notify: Callable[[str], None] | None = None,
                  wait: float | None = None) -> Iterator[Path]:
    """Hold the exclusive lock of the workbook ``path`` (module docstring) for the block; yields where writes land.

    Re-entrant within one process (``refresh`` holds it across the refresh and the render that follows). When
    another process holds it, ``notify`` (e.g. a line on stderr) is told once and the call waits up to ``wait``
    seconds (default :data:`LOCK_WAIT_SECONDS`, env ``XLSECTOR_LOCK_WAIT``), then raises XlsectorError.
    """
    from filelock import FileLock, Timeout

    target = write_target(path)
    key = os.path.normcase(os.path.abspath(target))
    held = _HELD.get(key)
    if held is not None:
        held[1] += 1
        try:
            yield target
        finally:
            held[1] -= 1
        return
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise XlsectorError(f"cannot write {target}: folder {folder} does not exist")
    lock_file = lock_path(target)
    lock = FileLock(str(lock_file))
    limit = _wait_seconds() if wait is None else wait
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if limit <= 0:
                raise
            if notify is not None:
                notify(f"waiting: {target} is being written by another xlsector process (up to {limit:g} s)")
            lock.acquire(timeout=limit)
    except Timeout:
        raise XlsectorError(
            f"{target} is being written by another xlsector process (lock file {lock_file.name}"
            + (f", waited {limit:g} s" if limit > 0 else "")
            + "); try again when it has finished"
        ) from None
    except OSError as exc:
        raise XlsectorError(f"cannot lock {target} for writing ({lock_file}): {exc.strerror or exc}") from None
    _HELD[key] = [lock, 1]
    try:
        _remove_stale_temporaries(target)
        yield target
    finally:
        del _HELD[key]
        if os.name != "nt":  # no litter: removed while still held (a waiter then sees an unlinked file and
            with contextlib.suppress(OSError):  # retries: filelock >= 4.3 checks); Windows removes it itself
                lock_file.unlink()
        lock.release()


def stderr_notice(text: str) -> None:
    """A ``notify`` for :func:`workbook_lock` that prints the line on stderr."""
    print(text, file=sys.stderr, flush=True)

