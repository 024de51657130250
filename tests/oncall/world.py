"""Test data for on-call: jobcoaches, a weekly rotation and an escalation policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from config.domain import Role
from store.directory import Channel, ContactMethod, PersonKind, Professional, RoleAssignment
from store.oncall import EscalationPolicy, Rotation, RotationKind, RotationMember
from tests.factories import Region, build_region
from workflows.dates import AMSTERDAM

JOBCOACHES = ("pro_anna", "pro_bram", "pro_cees")
BACKUP = "pro_backup"
FIRST_NAMES = {"pro_anna": "Anna", "pro_bram": "Bram", "pro_cees": "Cees", BACKUP: "Bob"}
DEFAULT_STEPS = [
    {"target": "rotation", "ref": "rot_jobcoach", "wait_minutes": 10},
    {"target": "person", "ref": BACKUP, "wait_minutes": 10},
    {"target": "coordinator", "wait_minutes": 15},
]


def add_professional(session: Session, pid: str, first_name: str, org: str) -> None:
    session.add(Professional(id=pid, organisation_id=org, first_name=first_name, last_name="X"))
    session.add(
        ContactMethod(
            person_kind=PersonKind.professional,
            person_id=pid,
            channel=Channel.email,
            address=f"{pid}@example.org",
        )
    )


def build_oncall(
    engine: Engine,
    rotation_start: datetime,
    *,
    repeat: int = 1,
    steps: list[dict[str, Any]] | None = None,
    kind: RotationKind | str = RotationKind.weekly,
    shift_hours: int = 168,
) -> Region:
    region = build_region(engine)
    with Session(engine) as session:
        for pid, name in FIRST_NAMES.items():
            add_professional(session, pid, name, region.school_id)
            session.flush()
            session.add(RoleAssignment(professional_id=pid, role=Role.jobcoach))
        session.add(
            Rotation(
                id="rot_jobcoach",
                name="Jobcoaches",
                kind=RotationKind(kind),
                shift_hours=shift_hours,
                start_at=rotation_start,
            )
        )
        session.flush()
        for position, pid in enumerate(JOBCOACHES):
            session.add(
                RotationMember(rotation_id="rot_jobcoach", professional_id=pid, position=position)
            )
        session.add(
            EscalationPolicy(
                id="pol_default",
                name="Jobcoach van dienst",
                repeat=repeat,
                steps=steps or DEFAULT_STEPS,
            )
        )
        session.commit()
    return region


def monday_nine_before(moment: datetime) -> datetime:
    """The Monday 09:00 (Amsterdam) on or before ``moment``: so Anna is on call now."""
    local = moment.astimezone(AMSTERDAM)
    day = local.date() - timedelta(days=local.weekday())
    start = datetime(day.year, day.month, day.day, 9, tzinfo=AMSTERDAM)
    if start > local:
        start -= timedelta(days=7)
    return start.astimezone(UTC)
