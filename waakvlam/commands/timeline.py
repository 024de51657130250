"""``waakvlam timeline check FILE``: validate a regional timeline and list every problem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from config.settings import Settings
from config.timeline import TimelineError, load_timeline


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("timeline", help="work with regional timeline files")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate a timeline file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=run_check, needs_settings=False)


def run_check(args: argparse.Namespace, settings: Settings | None) -> int:
    try:
        timeline = load_timeline(args.file)
    except TimelineError as error:
        print(f"{args.file}: {len(error.problems)} problem(s)", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"{args.file}: ok: timeline {timeline.id!r} version {timeline.version}, "
        f"{len(timeline.task)} tasks, {len(timeline.aftercare.checkin_months)} aftercare check-ins"
    )
    return 0
