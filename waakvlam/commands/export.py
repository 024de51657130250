"""``waakvlam export YOUTH_ID [--by PROFESSIONAL_ID] [--audit]``: everything held about one
youth as JSON on standard output (the right of access); with ``--audit`` the audit log instead,
as CSV or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from sqlmodel import Session

from config.settings import Settings
from store.db import make_engine, migrate
from store.privacy import UnknownYouth
from waakvlam.privacy import audit_csv, audit_log, export_for


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("export", help="export one youth's data, or the audit log")
    parser.add_argument("youth_id", nargs="?", help="the youth's opaque id (yth_…)")
    parser.add_argument("--by", help="professional id of who asked (for the audit log)")
    parser.add_argument("--audit", action="store_true", help="export the audit log instead")
    parser.add_argument("--since", type=datetime.fromisoformat, help="audit entries from")
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        if args.audit:
            with Session(engine) as session:
                entries = audit_log(session, since=args.since, subject_id=args.youth_id)
            if args.format == "csv":
                sys.stdout.write(audit_csv(entries))
            else:
                rows = [e.model_dump(mode="json") for e in entries]
                print(json.dumps(rows, indent=2, ensure_ascii=False))
            return 0
        if not args.youth_id:
            print("waakvlam export: give a YOUTH_ID, or --audit", file=sys.stderr)
            return 2
        try:
            data = export_for(engine, args.youth_id, actor_kind="cli", actor_id=args.by)
        except UnknownYouth as error:
            print(f"waakvlam export: {error}", file=sys.stderr)
            return 1
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    finally:
        engine.dispose()
