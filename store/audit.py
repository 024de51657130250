"""The audit log: append-only, who saw or changed what and when.

Append-only is enforced in the ORM: a flush that would update or delete an :class:`AuditEntry`
and an ORM ``update()``/``delete()`` on the table raise :class:`AuditLogIsAppendOnly`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, event
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, Index, Session, SQLModel

from store.base import created_at


class AuditEntry(SQLModel, table=True):
    __table_args__ = (Index("ix_audit_subject", "subject_kind", "subject_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at()
    actor_kind: str = Field(max_length=20)  # professional, system, workflow, employer, youth
    actor_id: str | None = Field(default=None, max_length=40)
    action: str = Field(max_length=60)
    subject_kind: str = Field(max_length=20)
    subject_id: str = Field(max_length=80)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


def record(
    session: Session,
    *,
    actor_kind: str,
    actor_id: str | None,
    action: str,
    subject_kind: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry (the caller commits). Entries are never updated or deleted."""
    entry = AuditEntry(
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        subject_kind=subject_kind,
        subject_id=subject_id,
        detail=detail or {},
    )
    session.add(entry)
    return entry


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or remove an audit entry."""


@event.listens_for(OrmSession, "before_flush")
def _refuse_changes(session: OrmSession, _context: Any, _instances: Any) -> None:
    for entry in (*session.dirty, *session.deleted):
        if isinstance(entry, AuditEntry) and (
            entry in session.deleted or session.is_modified(entry)
        ):
            raise AuditLogIsAppendOnly("audit entries are never updated or deleted")


@event.listens_for(OrmSession, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEntry.__tablename__:
        raise AuditLogIsAppendOnly("audit entries are never updated or deleted")
