"""``waakvlam erase YOUTH_ID --by PROFESSIONAL_ID``: erasure on request. Terminates the youth's
workflows with the reason ``erasure``, removes the personal data, keeps who did it in the audit
log."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings
from store.db import make_engine, migrate
from store.privacy import UnknownYouth
from waakvlam.privacy import UnknownProfessional, erase
from waakvlam.runtime import connect_ready


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("erase", help="erase one youth's personal data on request")
    parser.add_argument("youth_id", help="the youth's opaque id (yth_…)")
    parser.add_argument("--by", required=True, help="professional id of who decided it")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    return asyncio.run(_erase(settings, args.youth_id, args.by))


async def _erase(settings: Settings, youth_id: str, by: str) -> int:
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        client = await connect_ready(settings, attempts=4)
        report = await erase(
            engine=engine, client=client, youth_id=youth_id, by=by, now=datetime.now(UTC)
        )
    except (UnknownYouth, UnknownProfessional) as error:
        print(f"waakvlam erase: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    stopped = ", ".join(report.workflows_terminated) or "none running"
    removed = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in report.removed.items())
    print(f"erased youth {youth_id}: workflows terminated: {stopped}; removed {removed}")
    return 0
