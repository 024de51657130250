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

from sqlmodel import Session, col, select

from store.directory import PersonKind
from store.trajectories import TaskRow, Trajectory
from store.youth import Consent, ConsentKind, ConsentStatus, Guardian, Youth

OWN_CONSENT_AGE = 16
ADULT_AGE = 18
NO_PARENT_CONSENT = "no_parent_consent"
NO_SHARING_CONSENT = "no_data_sharing_consent"
YOUTH_UNKNOWN = "youth_unknown"
DENIED = (ConsentStatus.refused, ConsentStatus.expired)


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _status(session: Session, youth_id: str, kind: ConsentKind) -> ConsentStatus | None:
    row = session.exec(
        select(Consent)
        .where(Consent.youth_id == youth_id, Consent.kind == kind)
        .order_by(col(Consent.id).desc())
    ).first()
    return row.status if row else None


def sharing_status(session: Session, youth: Youth, today: date) -> ConsentStatus | None:
    """The consent that governs sharing with partners today (see the module docstring)."""
    representative = _status(session, youth.id, ConsentKind.legal_representative)
    if age_on(youth.birth_date, today) < OWN_CONSENT_AGE:
        return representative
    own = _status(session, youth.id, ConsentKind.data_sharing)
    if own in (None, ConsentStatus.pending):
        return representative
    return own


def in_case_team(session: Session, trajectory: Trajectory, professional_id: str) -> bool:
    if professional_id in (trajectory.case_director_id, trajectory.next_contact_id):
        return True
    owns = session.exec(
        select(TaskRow.id).where(
            TaskRow.trajectory_id == trajectory.id, TaskRow.owner_id == professional_id
        )
    ).first()
    return owns is not None


def disclosure_block(
    session: Session,
    *,
    person_kind: PersonKind,
    person_id: str,
    youth_id: str,
    today: date,
) -> str | None:
    """Why ``person_id`` may not be told about ``youth_id`` today, or None when they may."""
    youth = session.get(Youth, youth_id)
    if youth is None or youth.purged_at is not None:
        return YOUTH_UNKNOWN
    if person_kind is PersonKind.guardian:
        guardian = session.get(Guardian, person_id)
        if guardian is None or guardian.youth_id != youth_id:
            return YOUTH_UNKNOWN
        if age_on(youth.birth_date, today) < ADULT_AGE:
            return None
        given = _status(session, youth_id, ConsentKind.parents_involved) is ConsentStatus.given
        return None if given else NO_PARENT_CONSENT
    if person_kind is not PersonKind.professional:
        return None
    trajectory = session.exec(select(Trajectory).where(Trajectory.youth_id == youth_id)).first()
    if trajectory is not None and in_case_team(session, trajectory, person_id):
        return None
    return NO_SHARING_CONSENT if sharing_status(session, youth, today) in DENIED else None


def youth_of_trajectory(session: Session, trajectory_id: str | None) -> str | None:
    if not trajectory_id:
        return None
    trajectory = session.get(Trajectory, trajectory_id)
    return trajectory.youth_id if trajectory else None


def may_see_youth(session: Session, professional_id: str, youth_id: str, today: date) -> bool:
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
