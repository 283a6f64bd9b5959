"""``xlsector addin build``: build the classic Excel add-in (xlsector.xlam) and the Office.js manifest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "addin",
        help="build the Excel add-ins (classic xlsector.xlam and the Office.js manifest)",
        description="Excel add-ins: `xlsector addin build` writes xlsector.xlam (from xlwings' own ribbon "
        "add-in: an xlsector tab with a Refresh data button; its configuration names the UDF module) and "
        "manifest.xml (Office.js, for xlwings Server). See docs/excel.md.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="write xlsector.xlam and manifest.xml",
        description="Build xlsector.xlam reproducibly from xlwings' ribbon add-in template (xlwings' VBA "
        "kept byte for byte) and the Office.js manifest.",
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
    build.set_defaults(run=run)
    parser.set_defaults(run=lambda args: parser.print_help() or 2)
    return parser


def run(args: argparse.Namespace) -> int:
    from xlsector.addin.build import DEFAULT_UDF_MODULES, build_addin, build_manifest

    addin = build_addin(
        args.output,
        udf_modules=args.udf_modules or DEFAULT_UDF_MODULES,
        pythonpath=args.pythonpath,
        interpreter_win=args.interpreter_win,
        interpreter_mac=args.interpreter_mac,
    )
    print(f"Wrote {addin}", file=sys.stdout)
    if not args.no_manifest:
        manifest = build_manifest(Path(addin).parent / "manifest.xml", args.server_url, addin_id=args.manifest_id)
        print(f"Wrote {manifest}", file=sys.stdout)
    return 0
