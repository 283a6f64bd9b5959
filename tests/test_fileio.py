"""Atomic writes: the target holds either all the new bytes or exactly the old bytes."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest

from xlsector.errors import XlsectorError
from xlsector.fileio import atomic_output, atomic_write_bytes, check_writable


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_bytes_replaces_content(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new bytes")
    assert target.read_bytes() == b"new bytes"
    assert _leftovers(tmp_path) == []


def test_atomic_write_creates_new_file(tmp_path):
    target = tmp_path / "new.bin"
    atomic_write_bytes(target, b"x" * 10)
    assert target.read_bytes() == b"x" * 10


def test_exception_half_way_leaves_old_bytes(tmp_path):
    target = tmp_path / "book.xlsx"
    old = os.urandom(4096)
    target.write_bytes(old)
    with pytest.raises(RuntimeError, match="boom"), atomic_output(target) as tmp, open(tmp, "wb") as handle:
        handle.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == old
    assert _leftovers(tmp_path) == []


def test_keyboard_interrupt_half_way_leaves_old_bytes(tmp_path):
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_refused_rename_gives_error_and_keeps_bytes(tmp_path, monkeypatch):
    # a disk that refuses the write: os.replace fails as on a read-only file system
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old bytes")

    def refuse(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(XlsectorError, match="cannot write .*book.xlsx: Read-only file system"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old bytes"
    assert _leftovers(tmp_path) == []


def test_read_only_folder_gives_error_and_keeps_bytes(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "book.xlsx"
    target.write_bytes(b"old bytes")
    os.chmod(folder, 0o555)
    try:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # root ignores folder permissions; make the temp-file creation fail as the OS would
            def refuse(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied")

            monkeypatch.setattr(tempfile, "mkstemp", refuse)
        with pytest.raises(XlsectorError, match="cannot write .*book.xlsx: Permission denied"):
            atomic_write_bytes(target, b"new")
    finally:
        monkeypatch.undo()
        os.chmod(folder, 0o755)
    assert target.read_bytes() == b"old bytes"
    assert [p.name for p in folder.iterdir()] == ["book.xlsx"]


def test_full_disk_during_write_keeps_bytes(tmp_path, monkeypatch):
    target = tmp_path / "cache.csv"
    target.write_bytes(b"cached")
    real_open = open

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:3])
            raise OSError(errno.ENOSPC, "No space left on device")

    def fake_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return Full(handle) if "w" in mode else handle

    monkeypatch.setattr("builtins.open", fake_open)
    with pytest.raises(XlsectorError, match="No space left on device"):
        atomic_write_bytes(target, b"new content")
    monkeypatch.undo()
    assert target.read_bytes() == b"cached"
    assert _leftovers(tmp_path) == []


def test_permissions_of_replaced_file_are_kept(tmp_path):
    target = tmp_path / "a.txt"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"new")
    assert target.stat().st_mode & 0o777 == 0o640


def test_check_writable_excel_lock(tmp_path):
    target = tmp_path / "fwpt.xlsx"
    target.write_bytes(b"x")
    assert check_writable(target) == target
    (tmp_path / "~$fwpt.xlsx").write_bytes(b"lock")
    with pytest.raises(XlsectorError, match=r"open in Excel .*~\$fwpt.xlsx"):
        check_writable(target)


def test_check_writable_libreoffice_lock(tmp_path):
    target = tmp_path / "fwpt.xlsx"
    (tmp_path / ".~lock.fwpt.xlsx#").write_text("lock")
    with pytest.raises(XlsectorError, match="open in Excel or LibreOffice"):
        check_writable(target)


def test_check_writable_missing_folder(tmp_path):
    with pytest.raises(XlsectorError, match="does not exist"):
        check_writable(tmp_path / "nope" / "a.xlsx")


def test_check_writable_permission(tmp_path, monkeypatch):
    target = tmp_path / "a.xlsx"
    target.write_bytes(b"x")
    monkeypatch.setattr(os, "access", lambda path, mode: str(path) != str(target))
    with pytest.raises(XlsectorError, match="read-only"):
        check_writable(target)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(XlsectorError, match="permission denied on folder"):
        check_writable(target)


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.xlsx"
    real.write_bytes(b"old")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    atomic_write_bytes(link, b"new bytes")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xlsx", "real.xlsx"]


def test_a_file_with_hard_links_is_written_in_place(tmp_path):
    first = tmp_path / "a.xlsx"
    first.write_bytes(b"old bytes")
    second = tmp_path / "b.xlsx"
    os.link(first, second)
    atomic_write_bytes(first, b"new bytes, longer than before")
    assert second.read_bytes() == b"new bytes, longer than before"  # every name sees the new bytes
    assert os.stat(first).st_ino == os.stat(second).st_ino and os.stat(first).st_nlink == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]  # no backup, no temporary left


def test_anything_but_a_regular_file_is_never_replaced(tmp_path):
    from xlsector.fileio import regular_file, write_target

    with pytest.raises(XlsectorError, match="character device"):
        atomic_write_bytes("/dev/null", b"x")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    with pytest.raises(XlsectorError, match="folder"):
        write_target(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(XlsectorError, match="FIFO"):
        check_writable(fifo)
    with pytest.raises(XlsectorError, match="FIFO"):
        regular_file(fifo, "workbook")
