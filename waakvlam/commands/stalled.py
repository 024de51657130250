"""``waakvlam stalled``: the trajectories that most need attention (the attention paradox: the
longest without contact and the most overdue first), for a coordinator at a terminal.

Prints opaque ids, school, phase and figures; names stay in the web app, behind sign-in."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from config.settings import Settings
from store.dashboard import Filters, Scope, stalled
from store.db import make_engine


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stalled", help="list stalled trajectories, most neglected first"
    )
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--school", help="only this school's organisation id")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    engine = make_engine(settings.resolved_database_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        rows = stalled(
            session, Scope(region=True), now, Filters(school_id=args.school), limit=args.limit
        )
        print(f"{'trajectory':<22} {'school':<18} {'phase':<12} {'overdue':>7}  last contact")
        for row in rows:
            t = row.trajectory
            contact = t.last_contact_at.date().isoformat() if t.last_contact_at else "never"
            print(
                f"{t.id:<22} {t.school_id:<18} {t.phase.value:<12} {t.overdue_count:>7}  {contact}"
            )
    engine.dispose()
    return 0
