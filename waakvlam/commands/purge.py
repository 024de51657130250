"""``waakvlam purge [--dry-run]``: the retention purge now (the schedule runs it every night)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from activities.retention import purge_expired
from config.settings import Settings
from store.db import make_engine, migrate


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "purge", help="remove personal data of trajectories closed longer than the retention"
    )
    parser.add_argument("--dry-run", action="store_true", help="only count what is due")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        report = purge_expired(
            engine,
            now=datetime.now(UTC),
            retention_months=settings.retention_months,
            dry_run=args.dry_run,
        )
    finally:
        engine.dispose()
    before = report.closed_before.date().isoformat()
    if report.dry_run:
        print(f"dry run: {report.youth} youth closed before {before} are due for the purge")
        return 0
    print(
        f"purged {report.youth} youth closed before {before}: {report.guardians} guardians, "
        f"{report.trusted_persons} trusted persons, {report.contact_methods} contact methods "
        f"removed; {report.outbox_messages} messages blanked"
    )
    return 0
