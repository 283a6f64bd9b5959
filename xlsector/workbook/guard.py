"""Check a workbook file before openpyxl opens it: a real .xlsx, not encrypted, not a zip bomb.

openpyxl would otherwise fail with a raw zipfile/KeyError traceback on a non-spreadsheet, and would
inflate a zip bomb into memory. These checks read only the file signature and the zip directory.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from xlsector.errors import XlsectorError

__all__ = ["MAX_RATIO", "MAX_UNCOMPRESSED", "check_workbook_bytes", "read_workbook_bytes"]

#: Largest total uncompressed size accepted (a 30-year daily workbook of 20 series is ~30 MB).
MAX_UNCOMPRESSED = 1 << 30
#: Largest compression ratio of a member bigger than 1 MB (worksheet XML compresses ~10-20x).
MAX_RATIO = 200
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_workbook_bytes(data: bytes, name: str) -> None:
    """Raise :class:`XlsectorError` unless ``data`` looks like a safe .xlsx workbook."""
    if data[:8] == _OLE_SIGNATURE:
        raise XlsectorError(
            f"{name} is an OLE compound file: an encrypted (password-protected) workbook or an old .xls; "
            "save it unprotected as .xlsx (Excel Workbook) and try again"
        )
    if data[:4] != b"PK\x03\x04":
        raise XlsectorError(f"{name} is not a spreadsheet (.xlsx): it is not a zip archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise XlsectorError(f"{name} is not a spreadsheet (.xlsx): damaged zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise XlsectorError(f"{name} is not a spreadsheet (.xlsx): it has no xl/workbook.xml")
        total = sum(info.file_size for info in infos)
        if total > MAX_UNCOMPRESSED:
            raise XlsectorError(
                f"{name} would unpack to {total / 2**20:.0f} MB (limit {MAX_UNCOMPRESSED / 2**20:.0f} MB); "
                "refusing to open it (zip bomb?)"
            )
        for info in infos:
            if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise XlsectorError(
                    f"{name}: member {info.filename} is compressed {info.file_size / max(info.compress_size, 1):.0f}"
                    f" times (limit {MAX_RATIO}); refusing to open it (zip bomb?)"
                )


def read_workbook_bytes(path: str | Path) -> bytes:
    """Read and check a workbook file; the bytes are then opened from memory."""
    path = Path(path)
    if not path.exists():
        raise XlsectorError(f"workbook {path} does not exist")
    if path.is_dir():
        raise XlsectorError(f"workbook {path} is a folder, not a file")
    try:
        data = path.read_bytes()
    except PermissionError as exc:
        raise XlsectorError(f"cannot read {path}: permission denied (is it open in Excel?)") from exc
    except OSError as exc:
        raise XlsectorError(f"cannot read {path}: {exc.strerror or exc}") from exc
    check_workbook_bytes(data, str(path))
    return data
