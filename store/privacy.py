"""The data subject's rights and retention, as queries: export, anonymise (for erasure and the
retention purge) and finding what the purge is due to remove.

Anonymising keeps the rows that make the yearly figures (the ``youth`` row, the trajectory and
task read model, consent statuses, escalations, outbox statuses, the audit log) but removes
everything that says who the youth is: names become empty, the pupil number becomes the opaque
id, the birth date keeps its year only (1 January), guardians, trusted persons and every contact
method of the youth and those people are deleted, and outbox messages lose their address, subject
and body. ``purged_at`` marks the youth and the trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, col, select

from store.audit import AuditEntry
from store.directory import ContactMethod, PersonKind
from store.oncall import Escalation, EscalationCall, SmsReplyThrottle
from store.outbox import OutboxMessage
from store.trajectories import TaskRow, Trajectory, TrajectoryStatus
from store.youth import Consent, Guardian, TrustedPerson, Youth

EXPORT_FORMAT = "waakvlam-export/1"


class UnknownYouth(LookupError):
    def __init__(self, youth_id: str) -> None:
        super().__init__(f"no youth with id {youth_id!r}")
        self.youth_id = youth_id


def _dump(rows: Any) -> list[dict[str, Any]]:
    return [row.model_dump(mode="json") for row in rows]


def _people(session: Session, youth_id: str) -> list[tuple[PersonKind, str]]:
    """The youth and every person on record only because of them."""
    guardians = session.exec(select(Guardian.id).where(Guardian.youth_id == youth_id)).all()
    trusted = session.exec(select(TrustedPerson.id).where(TrustedPerson.youth_id == youth_id))
    return [
        (PersonKind.youth, youth_id),
        *((PersonKind.guardian, g) for g in guardians),
        *((PersonKind.trusted_person, t) for t in trusted.all()),
    ]


def _contacts(session: Session, people: list[tuple[PersonKind, str]]) -> list[ContactMethod]:
    if not people:
        return []
    clauses = [
        and_(col(ContactMethod.person_kind) == kind, col(ContactMethod.person_id) == pid)
        for kind, pid in people
    ]
    return list(session.exec(select(ContactMethod).where(or_(*clauses))).all())


def _outbox(
    session: Session, trajectory_id: str | None, people: list[tuple[PersonKind, str]]
) -> list[OutboxMessage]:
    clauses: list[Any] = [
        and_(col(OutboxMessage.recipient_kind) == kind, col(OutboxMessage.recipient_id) == pid)
        for kind, pid in people
    ]
    if trajectory_id:
        clauses.append(OutboxMessage.trajectory_id == trajectory_id)
    query = select(OutboxMessage).where(or_(*clauses)).order_by(col(OutboxMessage.id))
    return list(session.exec(query).all())


def export_youth(session: Session, youth_id: str) -> dict[str, Any]:
    """Everything held about one youth, as JSON-ready data (AVG art. 15 and 20)."""
    youth = session.get(Youth, youth_id)
    if youth is None:
        raise UnknownYouth(youth_id)
    trajectory = session.exec(select(Trajectory).where(Trajectory.youth_id == youth_id)).first()
    tid = trajectory.id if trajectory else None
    people = _people(session, youth_id)
    escalations = session.exec(select(Escalation).where(Escalation.trajectory_id == tid)).all()
    escalation_ids = [e.id for e in escalations]
    calls = session.exec(
        select(EscalationCall).where(col(EscalationCall.escalation_id).in_(escalation_ids))
    ).all()
    subjects = [("youth", youth_id), *(("escalation", e) for e in escalation_ids)]
    if tid:
        subjects.append(("trajectory", tid))
    audit = session.exec(
        select(AuditEntry)
        .where(
            or_(
                *(
                    and_(col(AuditEntry.subject_kind) == kind, col(AuditEntry.subject_id) == sid)
                    for kind, sid in subjects
                )
            )
        )
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "youth": youth.model_dump(mode="json"),
        "guardians": _dump(session.exec(select(Guardian).where(Guardian.youth_id == youth_id))),
        "trusted_persons": _dump(
            session.exec(select(TrustedPerson).where(TrustedPerson.youth_id == youth_id))
        ),
        "contact_methods": [
            c.model_dump(mode="json", exclude={"verification_code_hash"})
            for c in _contacts(session, people)
        ],
        "trajectory": trajectory.model_dump(mode="json") if trajectory else None,
        "tasks": _dump(
            session.exec(
                select(TaskRow).where(TaskRow.trajectory_id == tid).order_by(col(TaskRow.due_date))
            )
        ),
        "consents": _dump(session.exec(select(Consent).where(Consent.youth_id == youth_id))),
        "escalations": _dump(escalations),
        "escalation_calls": _dump(calls),
        "outbox_messages": _dump(_outbox(session, tid, people)),
        "audit_entries": _dump(audit),
    }


@dataclass(frozen=True)
class Anonymised:
    youth_id: str
    guardians: int
    trusted_persons: int
    contact_methods: int
    outbox_messages: int

    def counts(self) -> dict[str, int]:
        return {
            "guardians": self.guardians,
            "trusted_persons": self.trusted_persons,
            "contact_methods": self.contact_methods,
            "outbox_messages": self.outbox_messages,
        }


def anonymise_youth(session: Session, youth_id: str, *, at: datetime) -> Anonymised:
    """Remove the personal data of one youth and the people on record for them (the caller
    commits). Idempotent: a second run finds nothing left to remove."""
    youth = session.get(Youth, youth_id)
    if youth is None:
        raise UnknownYouth(youth_id)
    trajectory = session.exec(select(Trajectory).where(Trajectory.youth_id == youth_id)).first()
    people = _people(session, youth_id)
    contacts = _contacts(session, people)
    numbers = [c.address for c in contacts]
    messages = _outbox(session, trajectory.id if trajectory else None, people)
    blanked = 0
    for message in messages:
        if message.address or message.body_text or message.subject or message.body_html:
            blanked += 1
        message.address, message.body_text = "", ""
        message.subject = message.body_html = message.last_error = None
        session.add(message)
    for contact in contacts:
        session.delete(contact)
    if numbers:
        session.execute(delete(SmsReplyThrottle).where(col(SmsReplyThrottle.address).in_(numbers)))
    session.execute(update(Consent).where(col(Consent.youth_id) == youth_id).values(given_by=None))
    guardians = session.exec(select(Guardian).where(Guardian.youth_id == youth_id)).all()
    trusted = session.exec(select(TrustedPerson).where(TrustedPerson.youth_id == youth_id)).all()
    for person in (*guardians, *trusted):
        session.delete(person)
    youth.first_name = youth.last_name = ""
    youth.school_ref = youth.id
    youth.birth_date = date(youth.birth_date.year, 1, 1)
    youth.purged_at = youth.purged_at or at
    session.add(youth)
    if trajectory is not None:
        trajectory.purged_at = trajectory.purged_at or at
        session.add(trajectory)
    return Anonymised(youth_id, len(guardians), len(trusted), len(contacts), blanked)


def close_for_erasure(session: Session, youth_id: str, *, at: datetime) -> Trajectory | None:
    """Close the youth's trajectory in the read model with reason ``erasure``."""
    trajectory = session.exec(select(Trajectory).where(Trajectory.youth_id == youth_id)).first()
    if trajectory is None or trajectory.status is TrajectoryStatus.closed:
        return trajectory
    trajectory.status, trajectory.closed_reason, trajectory.closed_at = (
        TrajectoryStatus.closed,
        "erasure",
        at,
    )
    session.add(trajectory)
    return trajectory


def due_for_purge(session: Session, *, closed_before: datetime) -> list[str]:
    """Youth ids whose trajectory closed before ``closed_before`` and is not purged yet."""
    query = (
        select(Trajectory.youth_id)
        .where(Trajectory.status == TrajectoryStatus.closed)
        .where(col(Trajectory.closed_at) < closed_before)
        .where(col(Trajectory.purged_at).is_(None))
        .order_by(col(Trajectory.closed_at))
    )
    return list(session.exec(query).all())
