"""``waakvlam enroll``: enroll one leaver from the command line (idempotent)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from typing import Any

from pydantic import ValidationError

from config.domain import SchoolType, VsoProfile
from config.settings import Settings
from waakvlam.container import build_container
from waakvlam.enrollment import EnrollmentError, EnrollmentRequest, enroll
from waakvlam.runtime import connect_ready


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("enroll", help="enroll one school-leaver")
    parser.add_argument("--school", required=True, help="the school's organisation id")
    parser.add_argument("--ref", required=True, help="the pupil number at the school")
    parser.add_argument("--first-name", required=True)
    parser.add_argument("--last-name", required=True)
    parser.add_argument("--birth-date", required=True, type=date.fromisoformat)
    parser.add_argument("--leave-date", required=True, type=date.fromisoformat)
    parser.add_argument("--school-type", required=True, choices=[t.value for t in SchoolType])
    parser.add_argument("--vso-profile", choices=[p.value for p in VsoProfile])
    parser.add_argument("--case-director", help="professional id of the case director")
    parser.add_argument("--done", nargs="*", default=[], help="task ids already done (import)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    try:
        request = EnrollmentRequest(
            school_id=args.school,
            school_ref=args.ref,
            first_name=args.first_name,
            last_name=args.last_name,
            birth_date=args.birth_date,
            leave_date=args.leave_date,
            school_type=SchoolType(args.school_type),
            vso_profile=VsoProfile(args.vso_profile) if args.vso_profile else None,
            case_director_id=args.case_director,
            done_before_enrollment=args.done,
        )
    except ValidationError as error:
        for problem in error.errors():
            print(f"  {'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}")
        return 2
    return asyncio.run(_enroll(settings, request))


async def _enroll(settings: Settings, request: EnrollmentRequest) -> int:
    container = build_container(settings)
    try:
        client = await connect_ready(settings, attempts=4)
        result = await enroll(
            database=container.database,
            client=client,
            timeline=container.timeline,
            request=request,
            task_queue=settings.temporal_task_queue,
            today=date.today(),
        )
    except EnrollmentError as error:
        print("not enrolled:")
        for problem in error.problems:
            print(f"  {problem}")
        return 1
    finally:
        await container.aclose()
    state = "enrolled" if result.created else "already enrolled"
    print(f"{state}: trajectory {result.trajectory_id} (youth {result.youth_id})")
    return 0
