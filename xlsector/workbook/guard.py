"""Check a workbook file before anything parses it: a regular file, a real .xlsx, not encrypted, within the limits
of :mod:`xlsector.limits`, and every XML part well-formed and free of DTDs and entity declarations.

Every door that opens a workbook (render, refresh, ``signal WORKBOOK``, ``--data``/``--prices`` with an .xlsx, the
add-in's file paths) reads it through :func:`read_workbook_bytes` and then opens those checked bytes from memory,
so a hostile file is refused with one ``Error:`` naming the file and the rule, in bounded time and memory:

- only a regular file of at most ``MAX_FILE_BYTES`` is read (a FIFO, ``/dev/zero`` or a folder is refused first);
- the zip's parts are **inflated and counted** (the sizes in the zip's directory are not trusted): at most
  ``MAX_PARTS`` parts and ``MAX_UNCOMPRESSED`` bytes in all, no part over 1 MiB compressed more than
  ``MAX_RATIO`` times; each part's CRC is checked;
- every ``.xml``/``.rels`` part is parsed by expat as it inflates, with document type declarations, entity
  declarations and external entities refused (the defusedxml rules: no "billion laughs", no external entity
  reading a local file), and must be well-formed (a part cut off half-way is refused) and UTF-8 (as Excel writes
  it, and as every reader here decodes it);
- ``xl/workbook.xml`` may list at most ``MAX_SHEETS`` sheets, and the part of each sheet it lists must be there
  (through ``xl/_rels/workbook.xml.rels``).

openpyxl, which parses the workbook afterwards, uses defusedxml too (it does whenever defusedxml is installed, a
dependency of xlsector).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

from xlsector.errors import DataError
from xlsector.limits import MAX_PARTS, MAX_RATIO, MAX_SHEETS, MAX_UNCOMPRESSED, describe

__all__ = ["MAX_RATIO", "MAX_UNCOMPRESSED", "WorkbookError", "check_workbook_bytes", "read_workbook_bytes",
           "safe_xml_parser"]

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 1 << 20
_XML_SUFFIXES = (".xml", ".rels")
_SHEET_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\b")


class WorkbookError(DataError):
    """A workbook file breaks a rule of this module (not a workbook, damaged, over a limit, unsafe XML)."""


class _Refused(Exception):
    """Raised inside expat handlers: the XML declares a DTD or entities."""


def safe_xml_parser():
    """An expat parser (no namespace processing) that refuses DTDs, entity declarations and external entities,
    as defusedxml does; feed it with ``Parse(chunk, False)`` and finish with ``Parse(b"", True)``."""
    import pyexpat

    parser = pyexpat.ParserCreate()

    def dtd(*_args: object) -> None:
        raise _Refused("a document type declaration (<!DOCTYPE ...>)")

    def entity(*_args: object) -> None:
        raise _Refused("an entity declaration (<!ENTITY ...>)")

    def external(*_args: object) -> int:
        raise _Refused("an external entity reference")

    parser.StartDoctypeDeclHandler = dtd
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    return parser


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, total: int) -> tuple[int, bytes]:
    """Inflate one part counting its bytes (limits), parsing it as XML when it is XML; returns (new total, the
    first bytes of the part)."""
    import codecs
    import pyexpat

    is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
    parser = safe_xml_parser() if is_xml else None
    utf8 = codecs.getincrementaldecoder("utf-8")()  # used with the parser, on XML parts only
    size = 0
    head = b""
    try:
        with archive.open(info) as part:
            while True:
                chunk = part.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                total += len(chunk)
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                if total > MAX_UNCOMPRESSED:
                    raise WorkbookError(f"{name} unpacks to more than {describe('MAX_UNCOMPRESSED')} (part "
                                        f"{info.filename}); refusing to open it (a zip bomb?)")
                if size > _CHUNK and size > MAX_RATIO * max(info.compress_size, 1):
                    raise WorkbookError(f"{name}: part {info.filename} is compressed more than "
                                        f"{describe('MAX_RATIO')}; refusing to open it (a zip bomb?)")
                if parser is not None:
                    utf8.decode(chunk)
                    parser.Parse(chunk, False)
            if parser is not None:
                utf8.decode(b"", True)
                parser.Parse(b"", True)
    except UnicodeDecodeError:
        raise WorkbookError(f"{name}: part {info.filename} is not UTF-8 text; workbooks' XML is UTF-8 (save the file "
                            "again with Excel or LibreOffice)") from None
    except _Refused as exc:
        raise WorkbookError(f"{name}: part {info.filename} holds {exc}; workbooks never do, and xlsector refuses "
                            "XML entity tricks (entity expansion, external files)") from None
    except pyexpat.ExpatError as exc:
        raise WorkbookError(f"{name}: part {info.filename} is not well-formed XML ({exc}); the file is damaged "
                            "or was cut off") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise WorkbookError(f"{name} is damaged: part {info.filename}: {exc}") from None
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required for extraction"
        raise WorkbookError(f"{name}: part {info.filename} cannot be read ({exc})") from None
    except NotImplementedError as exc:  # an unsupported compression method
        raise WorkbookError(f"{name}: part {info.filename} cannot be read ({exc})") from None
    return total, head


def check_workbook_bytes(data: bytes, name: str) -> None:
    """Raise :class:`WorkbookError` unless ``data`` is a workbook within the limits (module docstring)."""
    if data[:8] == _OLE_SIGNATURE:
        raise WorkbookError(
            f"{name} is an OLE compound file: an encrypted (password-protected) workbook or an old .xls; "
            "save it unprotected as .xlsx (Excel Workbook) and try again"
        )
    if data[:4] != b"PK\x03\x04":
        raise WorkbookError(f"{name} is not a spreadsheet (not an Excel workbook .xlsx/.xlsm): it is not a zip archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise WorkbookError(f"{name} is not a spreadsheet (not an Excel workbook): damaged zip archive ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_PARTS:
            raise WorkbookError(f"{name} has {len(infos):,} parts, over {describe('MAX_PARTS')}; refusing to open it")
        names = {info.filename for info in infos}
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise WorkbookError(f"{name} is not a spreadsheet (not an Excel workbook): it has no xl/workbook.xml")
        declared = sum(info.file_size for info in infos)
        if declared > MAX_UNCOMPRESSED:
            raise WorkbookError(f"{name} would unpack to {declared / 2**20:,.0f} MiB, over "
                                f"{describe('MAX_UNCOMPRESSED')}; refusing to open it (a zip bomb?)")
        for info in infos:
            if info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise WorkbookError(f"{name}: part {info.filename} is compressed more than "
                                    f"{describe('MAX_RATIO')}; refusing to open it (a zip bomb?)")
        total = 0
        for info in infos:
            total, _ = _inflate(archive, info, name, total)
        sheets = len(_SHEET_TAG.findall(archive.read("xl/workbook.xml")))
        if sheets > MAX_SHEETS:
            raise WorkbookError(f"{name} has {sheets:,} sheets, over {describe('MAX_SHEETS')}; refusing to open it")
        _check_sheet_parts(archive, names, name)


def _check_sheet_parts(archive: zipfile.ZipFile, names: set[str], name: str) -> None:
    """The part of every sheet ``xl/workbook.xml`` lists is in the archive (a missing one is a damaged file)."""
    from xlsector.xlsx import sheet_paths

    if "xl/_rels/workbook.xml.rels" not in names:
        raise WorkbookError(f"{name} is damaged: it has no xl/_rels/workbook.xml.rels (where its sheets are)")
    for sheet, member in sheet_paths(archive).items():
        if member not in names:
            raise WorkbookError(f"{name} is damaged: sheet {sheet!r} should be in part {member}, which is missing")


def read_workbook_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read and check a workbook file (module docstring); the bytes are then opened from memory."""
    from xlsector.fileio import read_limited

    file = Path(path)
    data = read_limited(file, "workbook")
    check_workbook_bytes(data, str(file))
    return data
