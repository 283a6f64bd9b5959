"""``xlsector addin install-libreoffice``: put the extension into a LibreOffice profile.

The extension is built for this Python environment (its site-packages recorded in the extension, so that
LibreOffice's Python imports this xlsector), then added through LibreOffice's own extension manager in a
headless LibreOffice started on the profile — the same operation as ``unopkg add``, which refuses to
install into a user profile when run as root and loses the registration on a profile LibreOffice has not
initialised yet. Adding it again replaces the installed version.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from xlsector.addin.libreoffice.office import (
    default_profile,
    find_soffice,
    find_uno_python,
    headless_office,
    profile_in_use,
    run_helper,
)
from xlsector.addin.libreoffice.package import EXTENSION_NAME, environment_site_dirs, extension_bytes
from xlsector.errors import XlsectorError

__all__ = ["Installed", "install_extension"]


@dataclass(frozen=True)
class Installed:
    """What :func:`install_extension` did."""

    profile: Path
    identifier: str
    version: str
    site_dirs: tuple[str, ...]
    functions: int


def install_extension(
    profile: str | Path | None = None,
    *,
    soffice: str | None = None,
    python: str | None = None,
    timeout: float = 300,
) -> Installed:
    """Install ``xlsector.oxt`` for this Python environment into ``profile`` (a LibreOffice user
    installation folder, created if missing; default: the user's own profile). LibreOffice must not be
    running on that profile."""
    from xlsector.addin.libreoffice.spec import function_specs

    office = find_soffice(soffice)
    uno_python = find_uno_python(office, python)
    their = run_helper(uno_python, "python-version", timeout=timeout)["python"]
    ours = list(sys.version_info[:2])
    if their != ours:
        raise XlsectorError(
            f"LibreOffice's Python is {their[0]}.{their[1]} but this is Python {ours[0]}.{ours[1]}: its "
            f"compiled packages (numpy, pandas) cannot be shared; install xlsector into a Python "
            f"{their[0]}.{their[1]} environment and run this command from there"
        )
    folder = Path(profile).expanduser().resolve() if profile is not None else default_profile()
    if profile_in_use(folder):
        raise XlsectorError(f"LibreOffice is running on the profile {folder}: close it, then try again")
    if profile is not None:
        folder.mkdir(parents=True, exist_ok=True)
    specs = function_specs()
    site_dirs = environment_site_dirs()
    data = extension_bytes(specs, site_dirs=site_dirs, python=(ours[0], ours[1]))
    with tempfile.TemporaryDirectory(prefix="xlsector-oxt-") as tmp:
        oxt = Path(tmp) / EXTENSION_NAME
        oxt.write_bytes(data)
        with headless_office(office, folder if profile is not None else None) as (_proc, pipe):
            answer = run_helper(uno_python, "install", pipe, str(oxt), timeout=timeout)
    return Installed(folder, answer["identifier"], answer["version"], tuple(site_dirs), len(specs))
