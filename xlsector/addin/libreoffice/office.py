"""Find LibreOffice and a Python with its ``uno`` module, and run LibreOffice headless on a profile."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from xlsector.errors import XlsectorError

__all__ = [
    "HELPER",
    "default_profile",
    "find_soffice",
    "find_uno_python",
    "headless_office",
    "profile_in_use",
    "run_helper",
]

#: The standalone script run by the uno Python (see its docstring).
HELPER = Path(__file__).with_name("uno_helper.py")

_SOFFICE_PLACES = (
    "/usr/bin/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
)


def find_soffice(explicit: str | None = None) -> str:
    """The LibreOffice program: ``explicit``, else ``soffice``/``libreoffice`` on PATH or a usual place."""
    if explicit:
        if not Path(explicit).is_file():
            raise XlsectorError(f"LibreOffice program not found at {explicit}")
        return explicit
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for place in _SOFFICE_PLACES:
        if Path(place).is_file():
            return place
    raise XlsectorError("LibreOffice (soffice) not found: install LibreOffice, or pass --soffice PATH")


def _has_uno(python: str) -> bool:
    try:
        proc = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_uno_python(soffice: str, explicit: str | None = None) -> str:
    """A Python that can ``import uno``: ``explicit``, else LibreOffice's own (next to soffice, Windows and
    macOS), this Python, or the system ``python3`` (Linux packages: python3-uno)."""
    if explicit:
        if not _has_uno(explicit):
            raise XlsectorError(f"{explicit} cannot import LibreOffice's uno module")
        return explicit
    program = Path(soffice).resolve().parent
    candidates = [
        program / "python",
        program / "python.exe",
        program.parent / "Resources" / "python",
        Path(sys.executable),
        Path("/usr/bin/python3"),
    ]
    on_path = shutil.which("python3")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and _has_uno(str(candidate)):
            return str(candidate)
    raise XlsectorError(
        "no Python with LibreOffice's uno module found (Debian/Ubuntu: apt-get install python3-uno "
        "libreoffice-script-provider-python); pass --python PATH"
    )


def default_profile() -> Path:
    """LibreOffice's default user profile folder (its UserInstallation) on this system."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "LibreOffice" / "4"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "LibreOffice" / "4"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "libreoffice" / "4"


def profile_in_use(profile: Path) -> bool:
    """Whether a LibreOffice is running on ``profile`` (it keeps a .lock file in it while it runs)."""
    return (profile / ".lock").exists()


def run_helper(python: str, *args: str, timeout: float = 300) -> dict[str, Any]:
    """Run :data:`HELPER` with ``args`` under ``python``; its JSON answer (an "error" key raises)."""
    try:
        proc = subprocess.run(
            [python, str(HELPER), *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise XlsectorError(
            f"LibreOffice did not answer within {timeout:.0f} s ({' '.join(args[:1])})"
        ) from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise XlsectorError(
            f"talking to LibreOffice failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    answer: dict[str, Any] = json.loads(lines[-1])
    if "error" in answer:
        raise XlsectorError(f"LibreOffice: {answer['error']}")
    return answer


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for our soffice to exit; kill its process group (started by us, see headless_office) if not."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)


@contextmanager
def headless_office(
    soffice: str, profile: Path | None, *, stop_timeout: float = 60
) -> Iterator[tuple[Any, str]]:
    """Start ``soffice`` headless on ``profile`` (None: the user's default) listening on a new pipe; yields
    (process, pipe name). On exit waits for it to close (a helper terminates it) or kills what we started."""
    pipe = f"xlsector-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    cmd = [soffice]
    if profile is not None:
        cmd.append(f"-env:UserInstallation={profile.resolve().as_uri()}")
    cmd += [
        "--headless",
        "--invisible",
        "--norestore",
        "--nologo",
        "--nodefault",
        f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
    ]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=sys.platform != "win32"
        )
        try:
            yield proc, pipe
        finally:
            _stop(proc, stop_timeout)
