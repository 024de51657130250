"""Queries on escalations (oproepen): open, join, acknowledge, resolve, and the audit trail.

Every change writes an audit entry (``subject_kind="escalation"``), so the coordinator can read
exactly what happened when: created, paged, escalated, acknowledged, joined, resolved.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.domain import Role
from store.audit import AuditEntry, record
from store.directory import Professional, RoleAssignment
from store.oncall import Escalation, EscalationCall, EscalationStatus
from store.trajectories import Trajectory

SUBJECT = "escalation"
LIVE = (EscalationStatus.open, EscalationStatus.acknowledged)


def audit(
    session: Session,
    escalation_id: str,
    action: str,
    at: datetime,
    *,
    actor_kind: str = "workflow",
    actor_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = record(
        session,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        subject_kind=SUBJECT,
        subject_id=escalation_id,
        detail=detail,
    )
    entry.at = at
    return entry


def new_ack_code(session: Session) -> str:
    """A four-digit code not used by any escalation that can still be acknowledged."""
    taken = set(
        session.exec(select(Escalation.ack_code).where(col(Escalation.status).in_(LIVE))).all()
    )
    for _ in range(50):
        code = f"{secrets.randbelow(9000) + 1000}"
        if code not in taken:
            return code
    raise RuntimeError("no free acknowledgement code")  # 9,000 live escalations: never


def _insert_with_free_code(session: Session, escalation: Escalation) -> Escalation:
    """Insert with a code no live escalation has. Two escalations opened at the same instant can
    draw the same code; the unique index refuses the second, which then draws again."""
    for _ in range(5):
        escalation.ack_code = new_ack_code(session)
        try:
            with session.begin_nested():
                session.add(escalation)
        except IntegrityError:
            clash = session.get(Escalation, escalation.id)
            if clash is not None:  # the same escalation, opened by a concurrent retry
                return clash
            continue
        return escalation
    raise RuntimeError("no free acknowledgement code after five draws")


def open_escalation(
    session: Session,
    *,
    escalation_id: str,
    trajectory_id: str | None,
    workflow_id: str,
    category: str,
    urgency: str,
    policy_snapshot: dict[str, Any],
    caller_kind: str,
    caller_ref: str | None,
    at: datetime,
) -> Escalation:
    """Create the escalation and its first call; idempotent (a retried activity gets the row)."""
    existing = session.get(Escalation, escalation_id)
    if existing is not None:
        return existing
    escalation = _insert_with_free_code(
        session,
        Escalation(
            id=escalation_id,
            trajectory_id=trajectory_id,
            workflow_id=workflow_id,
            category=category,
            urgency=urgency,
            ack_code="",
            policy_snapshot=policy_snapshot,
            opened_at=at,
        ),
    )
    add_call(session, escalation_id, caller_kind, caller_ref, category, urgency, at)
    audit(
        session,
        escalation_id,
        "created",
        at,
        actor_kind=caller_kind,
        actor_id=caller_ref,
        detail={"category": category, "urgency": urgency, "policy": policy_snapshot},
    )
    return escalation


def add_call(
    session: Session,
    escalation_id: str,
    caller_kind: str,
    caller_ref: str | None,
    category: str,
    urgency: str,
    at: datetime,
) -> EscalationCall:
    call = EscalationCall(
        escalation_id=escalation_id,
        caller_kind=caller_kind,
        caller_ref=caller_ref,
        category=category,
        urgency=urgency,
        at=at,
    )
    session.add(call)
    return call


def live_by_code(session: Session, code: str) -> Escalation | None:
    """The escalation that can still be acknowledged with ``code`` (unique among those: the
    database's ``ux_escalation_live_ack_code`` index)."""
    return session.exec(
        select(Escalation).where(Escalation.ack_code == code, col(Escalation.status).in_(LIVE))
    ).first()


def live_for_trajectory(session: Session, trajectory_id: str) -> Escalation | None:
    return session.exec(
        select(Escalation).where(
            Escalation.trajectory_id == trajectory_id, col(Escalation.status).in_(LIVE)
        )
    ).first()


def mark_acknowledged(
    session: Session, escalation_id: str, *, professional_id: str, via: str, at: datetime
) -> None:
    row = session.get(Escalation, escalation_id)
    if row is None or row.acknowledged_at is not None:
        return
    row.status = EscalationStatus.acknowledged
    row.acknowledged_by, row.acknowledged_via, row.acknowledged_at = professional_id, via, at
    session.add(row)
    audit(
        session,
        escalation_id,
        "acknowledged",
        at,
        actor_kind="professional",
        actor_id=professional_id,
        detail={"via": via},
    )


def mark_closed(
    session: Session,
    escalation_id: str,
    *,
    status: EscalationStatus,
    outcome: str | None,
    professional_id: str | None,
    at: datetime,
) -> None:
    row = session.get(Escalation, escalation_id)
    if row is None or row.status in (EscalationStatus.resolved, EscalationStatus.exhausted):
        return
    row.status, row.outcome, row.resolved_at = status, outcome, at
    session.add(row)
    action = "resolved" if status is EscalationStatus.resolved else "exhausted"
    audit(
        session,
        escalation_id,
        action,
        at,
        actor_kind="professional" if professional_id else "workflow",
        actor_id=professional_id,
        detail={"outcome": outcome} if outcome else {},
    )


def audit_trail(session: Session, escalation_id: str) -> list[AuditEntry]:
    """Everything that happened to an escalation, oldest first."""
    return list(
        session.exec(
            select(AuditEntry)
            .where(AuditEntry.subject_kind == SUBJECT, AuditEntry.subject_id == escalation_id)
            .order_by(col(AuditEntry.at), col(AuditEntry.id))
        ).all()
    )


def coordinator_for(session: Session, trajectory_id: str | None) -> str | None:
    """The network coordinator for the trajectory's school, else the region-wide one."""
    school = None
    if trajectory_id:
        trajectory = session.get(Trajectory, trajectory_id)
        school = trajectory.school_id if trajectory else None
    for scope in (school, None) if school else (None,):
        query = (
            select(RoleAssignment.professional_id)
            .join(Professional, col(Professional.id) == RoleAssignment.professional_id)
            .where(RoleAssignment.role == Role.network_coordinator, col(Professional.active))
            .order_by(col(RoleAssignment.priority), col(RoleAssignment.id))
        )
        if scope is None:
            query = query.where(col(RoleAssignment.scope_organisation_id).is_(None))
        else:
            query = query.where(RoleAssignment.scope_organisation_id == scope)
        found = session.exec(query).first()
        if found:
            return found
    return None


def is_active_professional(session: Session, professional_id: str | None) -> bool:
    if not professional_id:
        return False
    person = session.get(Professional, professional_id)
    return person is not None and person.active
