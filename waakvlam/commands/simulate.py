"""``waakvlam simulate``: a yearly cohort through the whole timeline, for planning."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from config.settings import Settings
from config.timeline import TimelineError, load_timeline
from waakvlam.simulation import Behaviour, report, run_standalone


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate", help="run a cohort through the timeline on simulated time and show the workload"
    )
    parser.add_argument("--cohort", type=int, default=650, help="number of youth (default 650)")
    parser.add_argument("--timeline", type=Path, help="timeline file (default: the configured one)")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same partner behaviour")
    parser.add_argument("--start", type=date.fromisoformat, help="enrollment day (next 1 August)")
    parser.add_argument("--step-days", type=int, default=7, help="days between partner rounds")
    parser.add_argument("--late", type=float, default=Behaviour.late, help="share of late tasks")
    parser.add_argument("--never", type=float, default=Behaviour.never, help="share never done")
    parser.add_argument("--dropout", type=float, default=Behaviour.dropout, help="dropout share")
    parser.add_argument("--refusal", type=float, default=Behaviour.refusal, help="refusal share")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    if args.cohort < 1 or args.step_days < 1:
        print("waakvlam simulate: --cohort and --step-days must be at least 1")
        return 2
    try:
        timeline = load_timeline(args.timeline or settings.timeline_file)
    except TimelineError as error:
        print(f"waakvlam simulate: the timeline is not valid: {error}")
        return 2
    behaviour = Behaviour(
        late=args.late, never=args.never, dropout=args.dropout, refusal=args.refusal
    )
    workload = run_standalone(
        settings.payload_key_map, timeline, args.cohort, args.seed, start=args.start,
        behaviour=behaviour, step_days=args.step_days,
    )  # fmt: skip
    for line in report(workload):
        print(line)
    return 0
