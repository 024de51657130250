"""Who may be told about a youth: the one consent rule, for every message and every page view.

DESIGN.md section 7, by age on the day of the message or page view:

- under 16 a legal representative consents for the youth; from 16 the youth decides about their
  data (``data_sharing``); until the youth answers, the representative's earlier answer stands,
  and an unanswered request that expired counts as a refusal;
- partners outside the youth's own case team (anyone who is not the case director, the next
  contact person or the owner of one of the youth's tasks) are told nothing about the youth when
  that consent is refused or expired; the case team always is, so the guidance goes on;
- from 18 parents and guardians are third parties: they are told nothing unless the youth gave
  the ``parents_involved`` consent;
- the youth and their trusted person (chosen by the youth) are not blocked by consent;
- nobody is told anything about a youth whose data was purged or erased.

:func:`disclosure_block` returns a reason code (an opaque string, safe to log) or None.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from store.directory import PersonKind
from store.trajectories import TaskRow, Trajectory
from store.youth import Consent, ConsentKind, ConsentStatus, Guardian, Youth

OWN_CONSENT_AGE = 16
ADULT_AGE = 18
NO_PARENT_CONSENT = "no_parent_consent"
NO_SHARING_CONSENT = "no_data_sharing_consent"
YOUTH_UNKNOWN = "youth_unknown"
DENIED = (ConsentStatus.refused, ConsentStatus.expired)

YOUTH = Youth.__table__  # type: ignore[attr-defined]
GUARDIAN = Guardian.__table__  # type: ignore[attr-defined]
TRAJECTORY = Trajectory.__table__  # type: ignore[attr-defined]
TASK = TaskRow.__table__  # type: ignore[attr-defined]
CONSENT = Consent.__table__  # type: ignore[attr-defined]
# Built once, plain rows of the few columns the rule reads: every message to a professional asks
# it, and whole ORM objects (or a statement built per call) cost more than the queries on SQLite.
YOUTH_FACTS = sa_select(YOUTH.c.id, YOUTH.c.birth_date, YOUTH.c.purged_at).where(
    YOUTH.c.id == bindparam("youth_id")
)
GUARDIANS_YOUTH = sa_select(GUARDIAN.c.youth_id).where(GUARDIAN.c.id == bindparam("person_id"))
CASE_TEAM = sa_select(
    TRAJECTORY.c.id, TRAJECTORY.c.case_director_id, TRAJECTORY.c.next_contact_id
).where(TRAJECTORY.c.youth_id == bindparam("youth_id"))
OWNS_A_TASK = (
    sa_select(TASK.c.id)
    .where(TASK.c.trajectory_id == bindparam("trajectory_id"))
    .where(TASK.c.owner_id == bindparam("professional_id"))
    .limit(1)
)
LATEST_CONSENT = (
    sa_select(CONSENT.c.status)
    .where(CONSENT.c.youth_id == bindparam("youth_id"), CONSENT.c.kind == bindparam("kind"))
    .order_by(CONSENT.c.id.desc())
    .limit(1)
)
YOUTH_OF_TRAJECTORY = sa_select(TRAJECTORY.c.youth_id).where(
    TRAJECTORY.c.id == bindparam("trajectory_id")
)


class _YouthFacts(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def birth_date(self) -> date: ...


class _CaseTeam(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def case_director_id(self) -> str | None: ...
    @property
    def next_contact_id(self) -> str | None: ...


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _status(
    session: Session | Connection, youth_id: str, kind: ConsentKind
) -> ConsentStatus | None:
    status: Any = session.execute(LATEST_CONSENT, {"youth_id": youth_id, "kind": kind}).scalar()
    return ConsentStatus(status) if status is not None else None


def sharing_status(
    session: Session | Connection, youth: _YouthFacts, today: date
) -> ConsentStatus | None:
    """The consent that governs sharing with partners today (see the module docstring)."""
    representative = _status(session, youth.id, ConsentKind.legal_representative)
    if age_on(youth.birth_date, today) < OWN_CONSENT_AGE:
        return representative
    own = _status(session, youth.id, ConsentKind.data_sharing)
    if own in (None, ConsentStatus.pending):
        return representative
    return own


def in_case_team(
    session: Session | Connection, trajectory: _CaseTeam, professional_id: str
) -> bool:
    if professional_id in (trajectory.case_director_id, trajectory.next_contact_id):
        return True
    owns = session.execute(
        OWNS_A_TASK, {"trajectory_id": trajectory.id, "professional_id": professional_id}
    ).first()
    return owns is not None


def disclosure_block(
    session: Session | Connection,
    *,
    person_kind: PersonKind,
    person_id: str,
    youth_id: str,
    today: date,
) -> str | None:
    """Why ``person_id`` may not be told about ``youth_id`` today, or None when they may."""
    youth = session.execute(YOUTH_FACTS, {"youth_id": youth_id}).first()
    if youth is None or youth.purged_at is not None:
        return YOUTH_UNKNOWN
    if person_kind is PersonKind.guardian:
        guardians_youth = session.execute(GUARDIANS_YOUTH, {"person_id": person_id}).scalar()
        if guardians_youth != youth_id:
            return YOUTH_UNKNOWN
        if age_on(youth.birth_date, today) < ADULT_AGE:
            return None
        given = _status(session, youth_id, ConsentKind.parents_involved) is ConsentStatus.given
        return None if given else NO_PARENT_CONSENT
    if person_kind is not PersonKind.professional:
        return None
    trajectory = session.execute(CASE_TEAM, {"youth_id": youth_id}).first()
    if trajectory is not None and in_case_team(session, trajectory, person_id):
        return None
    return NO_SHARING_CONSENT if sharing_status(session, youth, today) in DENIED else None


def youth_of_trajectory(session: Session | Connection, trajectory_id: str | None) -> str | None:
    if not trajectory_id:
        return None
    youth_id: str | None = session.execute(
        YOUTH_OF_TRAJECTORY, {"trajectory_id": trajectory_id}
    ).scalar()
    return youth_id


def may_see_youth(
    session: Session | Connection, professional_id: str, youth_id: str, today: date
) -> bool:
    """For page views: may this professional see this youth's page today? (The web app's role
    and caseload scoping comes first; this adds the consent.)"""
    return (
        disclosure_block(
            session,
            person_kind=PersonKind.professional,
            person_id=professional_id,
            youth_id=youth_id,
            today=today,
        )
        is None
    )
