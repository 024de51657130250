"""A youth with everything a youth can have on record, with recognisable personal data:
guardians, a trusted person, contact methods, a trajectory with tasks, consents, an escalation,
outbox messages and audit entries. ``PERSONAL`` lists the strings that must never leak."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from config.domain import Role, SchoolType, TaskKind
from store.audit import record
from store.directory import Channel, ContactMethod, PersonKind, Professional
from store.oncall import Escalation, EscalationCall
from store.outbox import OutboxMessage, OutboxStatus
from store.trajectories import TaskRow, TaskStatus, Trajectory, TrajectoryStatus
from store.youth import Consent, ConsentKind, ConsentStatus, Guardian, TrustedPerson, Youth
from tests.factories import Region, build_region

AMS = ZoneInfo("Europe/Amsterdam")
# Tuesday 9 March 2027, 10:00 in Amsterdam: a working moment.
NOW = datetime(2027, 3, 9, 10, 0, tzinfo=AMS).astimezone(UTC)
TODAY = date(2027, 3, 9)
YOUTH, TRAJECTORY, GUARDIAN, TRUSTED = "yth_lotte", "trj_00000000000000aa", "grd_karel", "tp_oma"
OUTSIDER = "pro_partner"  # a partner outside Lotte's case team
PERSONAL = (
    "Lotte", "Bakhuizen", "Karel", "Grootmoeder", "lotte.bakhuizen@example.org",
    "+31611122233", "karel@example.org", "+31644455566", "L-778899",
)  # fmt: skip


@pytest.fixture
def web_engine(sqlite_engine: Engine) -> Engine:
    """A migrated SQLite database of the test's own (the suite's shared fixture)."""
    return sqlite_engine


@dataclass
class Seeded:
    engine: Engine
    region: Region
    youth_id: str = YOUTH
    trajectory_id: str = TRAJECTORY


def contact(session: Session, kind: PersonKind, pid: str, channel: Channel, address: str) -> None:
    session.add(ContactMethod(person_kind=kind, person_id=pid, channel=channel, address=address))


def seed(
    engine: Engine,
    *,
    birth_date: date = date(2008, 6, 1),
    closed_at: datetime | None = None,
    region: Region | None = None,
) -> Seeded:
    region = region or build_region(engine)
    director, mentor = region.holder(Role.case_director), region.holder(Role.mentor)
    with Session(engine) as session:
        session.add(Professional(id=OUTSIDER, organisation_id=region.municipality_id,
                                 first_name="Paula", last_name="Partner"))  # fmt: skip
        contact(session, PersonKind.professional, OUTSIDER, Channel.email, "paula@example.org")
        session.add(
            Youth(id=YOUTH, first_name="Lotte", last_name="Bakhuizen", birth_date=birth_date,
                  school_id=region.school_id, school_ref="L-778899", school_type=SchoolType.pro)
        )  # fmt: skip
        session.flush()
        session.add(Guardian(id=GUARDIAN, youth_id=YOUTH, first_name="Karel",
                             last_name="Bakhuizen"))  # fmt: skip
        session.add(TrustedPerson(id=TRUSTED, youth_id=YOUTH, first_name="Grootmoeder",
                                  last_name="Bakhuizen", relation="grandmother"))  # fmt: skip
        contact(session, PersonKind.youth, YOUTH, Channel.email, "lotte.bakhuizen@example.org")
        contact(session, PersonKind.youth, YOUTH, Channel.sms, "+31611122233")
        contact(session, PersonKind.guardian, GUARDIAN, Channel.email, "karel@example.org")
        contact(session, PersonKind.trusted_person, TRUSTED, Channel.sms, "+31644455566")
        session.add(
            Trajectory(
                id=TRAJECTORY, youth_id=YOUTH, workflow_id=f"trajectory-{TRAJECTORY}",
                school_id=region.school_id, school_type=SchoolType.pro,
                case_director_id=director, timeline_id="default", timeline_version=1,
                leave_date=date(2026, 7, 1),
                status=TrajectoryStatus.closed if closed_at else TrajectoryStatus.open,
                closed_at=closed_at, closed_reason="aftercare_done" if closed_at else None,
            )
        )  # fmt: skip
        session.flush()
        session.add(
            TaskRow(id=f"{TRAJECTORY}:profile", trajectory_id=TRAJECTORY, key="profile",
                    rule_id="profile", kind=TaskKind.task, role=Role.mentor, owner_id=mentor,
                    due_date=date(2025, 9, 1), status=TaskStatus.done)
        )  # fmt: skip
        session.add(Consent(youth_id=YOUTH, trajectory_id=TRAJECTORY, given_by=GUARDIAN,
                            kind=ConsentKind.legal_representative,
                            status=ConsentStatus.given))  # fmt: skip
        for kind, pid, channel, address in (
            (PersonKind.youth, YOUTH, Channel.sms, "+31611122233"),
            (PersonKind.guardian, GUARDIAN, Channel.email, "karel@example.org"),
        ):
            session.add(
                OutboxMessage(idempotency_key=f"{TRAJECTORY}:x:{pid}", trajectory_id=TRAJECTORY,
                              purpose="task_reminder", recipient_kind=kind, recipient_id=pid,
                              channel=channel, address=address, language="nl",
                              subject="Hallo Karel" if kind is PersonKind.guardian else None,
                              body_text="Hallo Lotte, je gesprek is morgen.",
                              status=OutboxStatus.sent)
            )  # fmt: skip
        session.add(Escalation(id="esc_00000000000000aa", trajectory_id=TRAJECTORY,
                               workflow_id=f"escalation-{TRAJECTORY}", category="workplace_problem",
                               urgency="immediate", ack_code="4821"))  # fmt: skip
        session.flush()
        session.add(EscalationCall(escalation_id="esc_00000000000000aa", caller_kind="partner",
                                   caller_ref=director))  # fmt: skip
        record(session, actor_kind="professional", actor_id=director, action="viewed",
               subject_kind="youth", subject_id=YOUTH)  # fmt: skip
        session.commit()
    return Seeded(engine, region)


def closed_months_ago(months: int, days: int = 0) -> datetime:
    return NOW - timedelta(days=round(months * 30.44) + days)
