"""Activities of ``TrajectoryWorkflow``: who owns a role today, and the read-model projection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Insert, Row, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select
from temporalio import activity

from config.domain import Role
from notifications.requests import Recipient
from store.db import Database
from store.directory import PersonKind, Professional, RoleAssignment
from store.trajectories import TaskRow, Trajectory, TrajectoryStatus
from store.youth import Consent, ConsentKind, Guardian, TrustedPerson
from workflows.recipients import known_recipients, professional
from workflows.trajectory_models import ProjectedTask, Projection, ResolveRecipient


class TrajectoryActivities:
    def __init__(self, database: Database) -> None:
        # On SQLite, the lookups and projections run on the worker's event loop (Database.run).
        self.database = database

    @activity.defn(name="resolve_recipients")
    async def resolve_recipients(self, request: ResolveRecipient) -> list[Recipient]:
        """The people who hold ``role`` for this trajectory now (the directory decides, so a
        reassignment is honoured by the next message)."""
        return await self.database.run(_resolve, request)

    @activity.defn(name="project_trajectory")
    async def project_trajectory(self, projection: Projection) -> bool:
        """Write the read model; an older projection than the stored one is ignored."""
        return await self.write_projection(projection) is Projected.written

    async def write_projection(self, projection: Projection) -> Projected:
        return await self.database.run(_write, projection)


def _resolve(engine: Engine, request: ResolveRecipient) -> list[Recipient]:
    with Session(engine) as session:
        return resolve(session, request)


def _write(engine: Engine, projection: Projection) -> Projected:
    with engine.begin() as connection:  # plain statements: an ORM session would only add cost
        return project(connection, projection)


def resolve(session: Session, request: ResolveRecipient) -> list[Recipient]:
    known = known_recipients(request)
    if known is not None:
        return known
    role = request.role
    if role is Role.next_contact:  # neither a next contact nor a case director: the school's
        return resolve(session, request.model_copy(update={"role": Role.case_director}))
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
    holder = role_holder(session, role, request.school_id)
    return [professional(holder)] if holder else []


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


TRAJECTORY = Trajectory.__table__  # type: ignore[attr-defined]
TASK = TaskRow.__table__  # type: ignore[attr-defined]
CONSENT = Consent.__table__  # type: ignore[attr-defined]
TASK_VALUES = ("rule_id", "kind", "role", "owner_id", "due_date", "status", "escalated",
               "reason", "completed_at", "completed_by")  # fmt: skip
# The projection's statements, built once: building a statement and its cache key costs more
# than running it on SQLite. An UPDATE sets the columns named in its parameters.
READ_TRAJECTORY = sa_select(
    TRAJECTORY.c.projected_version, TRAJECTORY.c.status, TRAJECTORY.c.youth_id
).where(TRAJECTORY.c.id == bindparam("row_id"))
READ_TASKS = sa_select(TASK.c.id, *(TASK.c[name] for name in TASK_VALUES)).where(
    TASK.c.trajectory_id == bindparam("row_id")
)
READ_CONSENTS = sa_select(CONSENT.c.id, CONSENT.c.kind, CONSENT.c.status).where(
    CONSENT.c.trajectory_id == bindparam("row_id")
)
WRITE_TRAJECTORY = update(TRAJECTORY).where(TRAJECTORY.c.id == bindparam("row_id"))
ADD_TASKS = insert(TASK)
WRITE_TASKS = update(TASK).where(TASK.c.id == bindparam("row_id"))
ADD_CONSENT = insert(CONSENT)
WRITE_CONSENT = update(CONSENT).where(CONSENT.c.id == bindparam("row_id"))


def _upsert_tasks(insert_of: Callable[[Any], Any]) -> Insert:
    """A task row inserted, or its projected columns replaced if it is there already."""
    statement = insert_of(TASK)
    replaced = {name: statement.excluded[name] for name in (*TASK_VALUES, "updated_at")}
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[TASK.c.id], set_=replaced
    )


UPSERT_TASKS = {
    "sqlite": _upsert_tasks(sqlite.insert),
    "postgresql": _upsert_tasks(postgresql.insert),
}


def dialect_of(db: Session | Connection) -> str:
    return db.dialect.name if isinstance(db, Connection) else db.get_bind().dialect.name


class Projected(StrEnum):
    """What became of a projection."""

    written = "written"
    ignored = "ignored"  # the read model holds a later version, or no such trajectory
    behind = "behind"  # changes only, but the read model is not at the version they follow


def project(db: Session | Connection, p: Projection) -> Projected:
    """Apply a projection. Everything is read first and the writes go out together at the end, so
    SQLite's write lock (one writer at a time) is held only for that burst and the commit, not
    while Python builds the rows. Plain SQL statements, on a connection (the worker) or a
    session (tests): the read model is written here only, and the ORM's loading and change
    tracking of every row of a trajectory cost more than the statements themselves (a
    projection runs after every change of every trajectory). The caller commits.

    A projection of changes only (``complete`` false, release CHANGES_ONLY) holds the tasks and
    consents that changed since version ``since``. It is written only onto that version; on any
    other, nothing is written and the caller sends the whole projection (``behind``)."""
    key = {"row_id": p.trajectory_id}
    current = db.execute(READ_TRAJECTORY, key).first()
    if current is None or current.projected_version > p.version:
        return Projected.ignored
    if not p.complete and current.projected_version != p.since:
        return Projected.behind
    wants_consents = any(p.consents.get(kind) is not None for kind in ConsentKind)
    stored_consents = (
        {row.kind: row for row in db.execute(READ_CONSENTS, key)} if wants_consents else {}
    )
    values: dict[str, Any] = {
        "row_id": p.trajectory_id,
        "projected_version": p.version,
        "phase": p.phase,
        "destination": p.destination,
        "destination_organisation_id": p.destination_organisation_id,
        "case_director_id": p.case_director_id,
        "next_contact_id": p.next_contact_id,
        "timeline_id": p.timeline_id,
        "timeline_version": p.timeline_version,
        "next_due_task": p.next_due_task,
        "next_due_date": p.next_due_date,
        "overdue_count": p.overdue_count,
        "last_contact_at": p.last_contact_at,
        "no_destination": p.no_destination,
        "consent_pending": p.consent_pending,
        "waakvlam": p.waakvlam,
        "safety_net": p.safety_net,
        "updated_at": p.at,
    }
    if p.closed and current.status is not TrajectoryStatus.closed:
        values.update(status=TrajectoryStatus.closed, closed_reason=p.closed_reason, closed_at=p.at)
    if p.complete:
        task_writes = _task_writes(db, p)
    else:  # the tasks that changed, some perhaps new: each inserted or replaced
        upsert = UPSERT_TASKS[dialect_of(db)]
        task_writes = [(upsert, [_task_row(p, task) for task in p.tasks])] if p.tasks else []
    db.execute(WRITE_TRAJECTORY, values)
    for statement, rows in task_writes:
        db.execute(statement, rows)
    _project_consents(db, p, current.youth_id, stored_consents)
    return Projected.written


def _task_row(p: Projection, task: ProjectedTask) -> dict[str, Any]:
    return {"id": f"{p.trajectory_id}:{task.key}", "trajectory_id": p.trajectory_id,
            "key": task.key, "updated_at": p.at, **_task_values(task)}  # fmt: skip


def _task_writes(
    db: Session | Connection, p: Projection
) -> list[tuple[Executable, list[dict[str, Any]]]]:
    """Every task of the trajectory is in ``p``: the stored rows are read and compared, and the
    new and the changed ones are to be written."""
    key = {"row_id": p.trajectory_id}
    stored_tasks = {row[0]: tuple(row[1:]) for row in db.execute(READ_TASKS, key)}
    new_tasks, changed_tasks = [], []
    for task in p.tasks:
        task_id = f"{p.trajectory_id}:{task.key}"
        task_values = _task_values(task)
        stored = stored_tasks.get(task_id)
        if stored is None:
            new_tasks.append(_task_row(p, task))
        elif stored != tuple(task_values.values()):
            # Only a task that changed is written: most projections (a partner's update, a day
            # passing) change one or two of a trajectory's dozen tasks.
            changed_tasks.append({"row_id": task_id, "updated_at": p.at, **task_values})
    writes: list[tuple[Executable, list[dict[str, Any]]]] = []
    if new_tasks:
        writes.append((ADD_TASKS, new_tasks))
    if changed_tasks:
        writes.append((WRITE_TASKS, changed_tasks))
    return writes


def _task_values(task: ProjectedTask) -> dict[str, Any]:
    """The task's columns that a projection sets, in the order of :data:`TASK_VALUES`."""
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
    db: Session | Connection, p: Projection, youth_id: str, stored: dict[ConsentKind, Row[Any]]
) -> None:
    for kind in ConsentKind:
        status = p.consents.get(kind)
        if status is None:
            continue
        consent = stored.get(kind)
        if consent is None:
            db.execute(
                ADD_CONSENT,
                {"youth_id": youth_id, "trajectory_id": p.trajectory_id, "kind": kind,
                 "status": status, "answered_at": p.at, "created_at": datetime.now(UTC)},
            )  # fmt: skip
        elif consent.status is not status:
            db.execute(
                WRITE_CONSENT,
                {"row_id": consent.id, "status": status, "answered_at": datetime.now(UTC)},
            )
