"""Atomic file writes shared by the data refresh, the download cache and the workbook render.

A write goes to a temporary file in the target's folder, is flushed and fsync'ed, then replaces the
target with :func:`os.replace` (atomic on POSIX and on Windows for files on the same volume) and the
folder is fsync'ed where the platform allows it. On any exception the temporary file is removed and the
target keeps its previous bytes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from xlsector.errors import XlsectorError

__all__ = ["atomic_output", "atomic_write_bytes", "check_writable"]


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


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can be replaced; raise a clear :class:`XlsectorError` if not.

    Detects a workbook open in Excel (its lock file ``~$name.xlsx`` beside it, or LibreOffice's
    ``.~lock.name.xlsx#``), a missing folder, and a folder or file the OS will not let us write.
    Returns the path as a :class:`~pathlib.Path`.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    for lock in (_lock_file(target), target.with_name(f".~lock.{target.name}#")):
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


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Context manager giving a temporary path to write; on success it replaces ``path`` atomically.

    The temporary file lives in the same folder (so :func:`os.replace` is a rename, not a copy). The
    caller writes it (by any means, e.g. ``workbook.save(tmp)``); on leaving the block without an
    exception it is fsync'ed and renamed over ``path``, keeping the old file's permission bits. On any
    exception the temporary file is removed, ``path`` is untouched and the exception propagates. An
    :class:`OSError` from creating, syncing or renaming becomes an :class:`XlsectorError` naming the path.
    """
    target = Path(path)
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
        try:
            os.replace(tmp, target)
        except PermissionError as exc:
            raise XlsectorError(
                f"cannot write {target}: permission denied (is it open in Excel?): {exc.strerror or exc}"
            ) from exc
        except OSError as exc:
            raise XlsectorError(f"cannot write {target}: {exc.strerror or exc}") from exc
        _fsync_dir(folder)
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
