"""``xlsector addin``: build the add-ins (xlsector.xlam, the Office.js manifest, the LibreOffice extension
xlsector.oxt) and install the LibreOffice extension into a profile."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xlsector.commands.args import add_json, print_json


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "addin",
        help="build the add-ins (xlsector.xlam, Office.js manifest, LibreOffice xlsector.oxt); install the "
        "LibreOffice extension",
        description="Add-ins: `xlsector addin build` writes xlsector.xlam (from xlwings' own ribbon "
        "add-in: an xlsector tab with a Refresh data button; its configuration names the UDF module), "
        "manifest.xml (Office.js, for xlwings Server) and xlsector.oxt (LibreOffice Calc extension: the same "
        "functions under the same names). `xlsector addin install-libreoffice` installs the extension for "
        "this Python environment. See docs/excel.md and docs/libreoffice.md.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="write xlsector.xlam, manifest.xml and xlsector.oxt",
        description="Build xlsector.xlam reproducibly from xlwings' ribbon add-in template (xlwings' VBA "
        "kept byte for byte), the Office.js manifest, and the LibreOffice extension xlsector.oxt (its "
        "functions read from udfs.xlsector_udfs as installed now).",
    )
    build.add_argument("-o", "--output", default=".",
                       help="folder for the add-in, or the path of xlsector.xlam (default: current folder)")
    build.add_argument("--udf-modules", default=None,
                       help="the add-in's 'UDF Modules' setting (default: udfs.xlsector_udfs)")
    build.add_argument("--pythonpath", help="the add-in's PYTHONPATH setting, e.g. the repository's udfs folder")
    build.add_argument("--interpreter-win", help="full path of python.exe on Windows (default: python on PATH)")
    build.add_argument("--interpreter-mac", help="full path of the Python interpreter on macOS")
    build.add_argument("--server-url", default="https://127.0.0.1:8000",
                       help="xlwings Server URL written into manifest.xml (default: https://127.0.0.1:8000)")
    build.add_argument("--manifest-id", help="GUID of the Office.js add-in (default: derived from the URL)")
    build.add_argument("--no-manifest", action="store_true", help="do not write manifest.xml")
    build.add_argument("--no-libreoffice", action="store_true", help="do not write xlsector.oxt")
    build.add_argument("--lite", action="store_true",
                       help="also write the xlwings Lite package (main.py, requirements.txt, the wheel) into "
                       "OUTPUT/lite (docs/lite.md)")
    build.add_argument("--wheel-url", metavar="URL",
                       help="https URL where the wheel will be served, written into Lite's requirements.txt")
    add_json(build, "the files written")
    build.set_defaults(run=run)

    install = actions.add_parser(
        "install-libreoffice",
        help="install the LibreOffice extension (xlsector.oxt) for this Python environment",
        description="Build xlsector.oxt for this Python environment (LibreOffice's Python will import "
        "xlsector from this environment's site-packages, so both must be the same Python version) and add it "
        "to a LibreOffice user profile through LibreOffice's extension manager, replacing an older version. "
        "LibreOffice must not be running on that profile. Restart LibreOffice afterwards.",
    )
    install.add_argument("--profile", metavar="DIR",
                         help="LibreOffice user installation folder (what -env:UserInstallation names; "
                         "created if missing); default: your LibreOffice profile")
    install.add_argument("--soffice", metavar="PATH",
                         help="the LibreOffice program (default: soffice on PATH)")
    install.add_argument("--python", metavar="PATH",
                         help="a Python that can import LibreOffice's uno module (default: found)")
    add_json(install, "what was installed")
    install.set_defaults(run=run_install)
    parser.set_defaults(run=lambda args: parser.error("choose an action: build or install-libreoffice"))
    return parser


def run(args: argparse.Namespace) -> int:
    from xlsector.addin.build import DEFAULT_UDF_MODULES, build_addin, build_manifest

    written = []
    addin = build_addin(
        args.output,
        udf_modules=args.udf_modules or DEFAULT_UDF_MODULES,
        pythonpath=args.pythonpath,
        interpreter_win=args.interpreter_win,
        interpreter_mac=args.interpreter_mac,
    )
    written.append(addin)
    if not args.no_manifest:
        written.append(build_manifest(Path(addin).parent / "manifest.xml", args.server_url, addin_id=args.manifest_id))
    if not args.no_libreoffice:
        from xlsector.addin.libreoffice.package import EXTENSION_NAME, build_extension

        written.append(build_extension(Path(addin).parent / EXTENSION_NAME))
    if args.lite:
        from xlsector.addin.lite import build_lite

        written.extend(build_lite(Path(addin).parent / "lite", wheel_url=args.wheel_url))
    _warm_up()
    if args.json:
        print_json({"command": "addin build", "written": [str(path) for path in written]})
    else:
        for path in written:
            print(f"Wrote {path}", file=sys.stdout)
    return 0


def run_install(args: argparse.Namespace) -> int:
    from xlsector.addin.libreoffice.install import install_extension

    done = install_extension(args.profile, soffice=args.soffice, python=args.python)
    _warm_up()
    if args.json:
        print_json({"command": "addin install-libreoffice", "identifier": done.identifier, "version": done.version,
                    "functions": done.functions, "profile": str(done.profile), "site_dirs": list(done.site_dirs)})
        return 0
    print(f"Installed {done.identifier} {done.version} ({done.functions} functions) into the LibreOffice "
          f"profile {done.profile}; LibreOffice's Python imports xlsector from {', '.join(done.site_dirs)}. "
          "Restart LibreOffice to use it.", file=sys.stdout)
    return 0


def _warm_up() -> None:
    # The first call in a spreadsheet should not be the one that compiles the kernels (seconds, once per
    # install): compile them now, into numba's on-disk cache, which the add-in's Python then loads.
    from xlsector._kernels import warm_up

    warm_up()

