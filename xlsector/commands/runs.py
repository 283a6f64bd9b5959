"""``xlsector runs`` (list, show, compare past runs) and ``xlsector show-last`` (print the last run again)."""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "runs",
        help="list past backtest/experiment/tune runs (show one, compare two)",
        description="Past runs are recorded in $XLSECTOR_HOME/runs (default: the user data folder). "
        "Without arguments: list them, newest first.",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["list", "show", "compare"],
        default="list",
        help="list (default), show ID, compare ID ID",
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="run id or unique prefix")
    parser.add_argument("-n", "--limit", type=int, default=20, help="how many runs to list (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)

    last = subparsers.add_parser(
        "show-last",
        help="show the last recorded run again",
        description="Print the output of the last recorded run (of COMMAND if given) again.",
    )
    last.add_argument(
        "--command",
        dest="of_command",
        metavar="COMMAND",
        help="the last run of this command (backtest, experiment, 'tune fwpt', ...)",
    )
    last.add_argument("--json", action="store_true", help="print the run's JSON data")
    last.set_defaults(run=run_show_last)
    return parser


def _show(record: dict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(record.get("data"), indent=1))
    else:
        print(f"Run {record['id']} ({record['created']}): xlsector {' '.join(record.get('argv', []))}")
        print()
        print(record.get("text", ""))
    return 0


def run_show_last(args: argparse.Namespace) -> int:
    from xlsector.runs import last_run

    return _show(last_run(args.of_command), args.json)


def run(args: argparse.Namespace) -> int:
    from xlsector.errors import ParameterError
    from xlsector.runs import format_table, format_value, get_run, jsonable, list_runs, runs_dir

    if args.action == "show":
        if len(args.ids) != 1:
            raise ParameterError(f"runs show takes one run id, got {len(args.ids)}")
        return _show(get_run(args.ids[0]), args.json)
    if args.action == "compare":
        if len(args.ids) != 2:
            raise ParameterError(f"runs compare takes two run ids, got {len(args.ids)}")
        import pandas as pd

        a, b = (get_run(i) for i in args.ids)
        keys = list(dict.fromkeys(list(a.get("summary", {})) + list(b.get("summary", {}))))
        frame = pd.DataFrame(
            {
                a["id"]: [format_value(a["summary"].get(k), k) for k in keys],
                b["id"]: [format_value(b["summary"].get(k), k) for k in keys],
            },
            index=pd.Index(keys, name="summary"),
        )
        if args.json:
            summary = {r["id"]: r.get("summary", {}) for r in (a, b)}
            print(json.dumps({"runs": [a["id"], b["id"]], "summary": jsonable(summary)}, indent=1))
        else:
            print(f"{a['id']}: xlsector {' '.join(a.get('argv', []))}")
            print(f"{b['id']}: xlsector {' '.join(b.get('argv', []))}")
            print()
            print(format_table(frame))
        return 0
    if args.limit < 1:
        raise ParameterError(f"--limit must be >= 1, got {args.limit}")
    records = list_runs(args.limit)
    if args.json:
        print(
            json.dumps(
                [
                    {k: r.get(k) for k in ("id", "created", "command", "argv", "title", "summary")}
                    for r in records
                ],
                indent=1,
            )
        )
        return 0
    if not records:
        print(f"No runs recorded yet in {runs_dir()}.")
        return 0
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "id": r["id"],
                "command": r["command"],
                "title": r["title"],
                "summary": ", ".join(f"{k}={format_value(v, k)}" for k, v in r.get("summary", {}).items()),
            }
            for r in records
        ]
    )
    print(f"Runs in {runs_dir()} (newest first; the id starts with the UTC time; `xlsector runs show ID` takes the "
          "whole id, its start or its end, e.g. its last 4 characters):")
    print(format_table(frame, index=False))
    return 0

