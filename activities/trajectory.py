"""Activities of ``TrajectoryWorkflow``: who owns a role today, and the read-model projection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from config.domain import Role
from notifications.requests import Recipient
from store.directory import PersonKind, Professional, RoleAssignment
from store.trajectories import TaskRow, Trajectory, TrajectoryStatus
from store.youth import Consent, ConsentKind, Guardian, TrustedPerson
from workflows.trajectory_models import ProjectedTask, Projection, ResolveRecipient

DIRECT_ROLES = {Role.case_director: "case_director_id", Role.next_contact: "next_contact_id"}


class TrajectoryActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="resolve_recipients")
    def resolve_recipients(self, request: ResolveRecipient) -> list[Recipient]:
        """The people who hold ``role`` for this trajectory now (the directory decides, so a
        reassignment is honoured by the next message)."""
        with Session(self.engine) as session:
            return resolve(session, request)

    @activity.defn(name="project_trajectory")
    def project_trajectory(self, projection: Projection) -> bool:
        """Write the read model; an older projection than the stored one is ignored."""
        with Session(self.engine) as session:
            applied = project(session, projection)
            session.commit()
            return applied


def _professional(pid: str | None) -> list[Recipient]:
    return [Recipient(kind=PersonKind.professional, id=pid)] if pid else []


def resolve(session: Session, request: ResolveRecipient) -> list[Recipient]:
    role = request.role
    if role in DIRECT_ROLES:
        direct = getattr(request, DIRECT_ROLES[role])
        if direct:
            return _professional(direct)
        if role is Role.next_contact:  # no destination contact yet: the case director keeps it
            return resolve(session, request.model_copy(update={"role": Role.case_director}))
    if role is Role.youth:
        return [Recipient(kind=PersonKind.youth, id=request.youth_id)]
    if role is Role.legal_representative:
        guardians = session.exec(
            select(Guardian.id)
            .where(Guardian.youth_id == request.youth_id, col(Guardian.legal_representative))
            .order_by(col(Guardian.id))
        ).all()
        return [Recipient(kind=PersonKind.guardian, id=g) for g in guardians]
    if role is Role.trusted_person:
        trusted = session.exec(
            select(TrustedPerson.id).where(TrustedPerson.youth_id == request.youth_id)
        ).first()
        if trusted:
            return [Recipient(kind=PersonKind.trusted_person, id=trusted)]
        return resolve(session, request.model_copy(update={"role": Role.case_director}))
    return _professional(role_holder(session, role, request.school_id))


def role_holder(session: Session, role: Role, school_id: str) -> str | None:
    """The active professional with ``role`` for this school, else region-wide; lowest priority
    number wins, then the oldest assignment."""
    for scope in (school_id, None):
        query = (
            select(RoleAssignment.professional_id)
            .join(Professional, col(Professional.id) == RoleAssignment.professional_id)
            .where(RoleAssignment.role == role, col(Professional.active))
            .order_by(col(RoleAssignment.priority), col(RoleAssignment.id))
        )
        query = query.where(
            RoleAssignment.scope_organisation_id == scope
            if scope
            else col(RoleAssignment.scope_organisation_id).is_(None)
        )
        found = session.exec(query).first()
        if found:
            return found
    return None


def project(session: Session, p: Projection) -> bool:
    """Apply a projection. Everything is read first and the writes go out together at the
    caller's commit, so SQLite's write lock (one writer at a time) is held only for that burst,
    not while Python builds the rows."""
    row = session.get(Trajectory, p.trajectory_id)
    if row is None or row.projected_version > p.version:
        return False
    with session.no_autoflush:
        existing = {
            t.id: t for t in session.exec(select(TaskRow).where(TaskRow.trajectory_id == row.id))
        }
        stored_consents = {
            c.kind: c for c in session.exec(select(Consent).where(Consent.trajectory_id == row.id))
        }
    row.projected_version = p.version
    row.phase, row.destination = p.phase, p.destination
    row.destination_organisation_id = p.destination_organisation_id
    row.case_director_id, row.next_contact_id = p.case_director_id, p.next_contact_id
    row.timeline_id, row.timeline_version = p.timeline_id, p.timeline_version
    row.next_due_task, row.next_due_date = p.next_due_task, p.next_due_date
    row.overdue_count, row.last_contact_at = p.overdue_count, p.last_contact_at
    row.no_destination, row.consent_pending = p.no_destination, p.consent_pending
    row.waakvlam, row.safety_net = p.waakvlam, p.safety_net
    row.updated_at = p.at
    if p.closed and row.status is not TrajectoryStatus.closed:
        row.status, row.closed_reason, row.closed_at = (
            TrajectoryStatus.closed,
            p.closed_reason,
            p.at,
        )
    session.add(row)
    for task in p.tasks:
        task_id = f"{row.id}:{task.key}"
        values = _task_values(task)
        task_row = existing.get(task_id)
        if task_row is None:
            session.add(
                TaskRow(id=task_id, trajectory_id=row.id, key=task.key, updated_at=p.at, **values)
            )
        elif any(getattr(task_row, name) != value for name, value in values.items()):
            # Only a task that changed is written: most projections (a partner's update, a day
            # passing) change one or two of a trajectory's dozen tasks.
            for name, value in values.items():
                setattr(task_row, name, value)
            task_row.updated_at = p.at
            session.add(task_row)
    _project_consents(session, row, p, stored_consents)
    return True


def _task_values(task: ProjectedTask) -> dict[str, Any]:
    return {
        "rule_id": task.rule_id,
        "kind": task.kind,
        "role": task.role,
        "owner_id": task.owner_id,
        "due_date": task.due,
        "status": task.status,
        "escalated": task.escalated,
        "reason": task.reason,
        "completed_at": task.completed_at,
        "completed_by": task.completed_by,
    }


def _project_consents(
    session: Session, row: Trajectory, p: Projection, stored: dict[ConsentKind, Consent]
) -> None:
    for kind in ConsentKind:
        status = p.consents.get(kind)
        if status is None:
            continue
        consent = stored.get(kind) or Consent(
            youth_id=row.youth_id, trajectory_id=row.id, kind=kind, status=status
        )
        if consent.status is not status or consent.id is None:
            consent.status = status
            consent.answered_at = datetime.now(UTC) if consent.id is not None else p.at
            session.add(consent)
