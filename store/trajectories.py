"""The read model of trajectories and their tasks, projected from the workflows.

Temporal holds the process; these rows are what dashboards and exports query. They are written
only by the projection activity (and the enrollment registry row at start).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, Index, SQLModel

from config.domain import Destination, Phase, Role, SchoolType, TaskKind
from store.base import created_at, enum_field, timestamp


class TrajectoryStatus(StrEnum):
    open = "open"
    closed = "closed"


class Trajectory(SQLModel, table=True):
    __table_args__ = (
        Index("ix_trajectory_stalled", "status", "last_contact_at", "overdue_count"),
        Index("ix_trajectory_phase", "status", "phase"),
    )

    id: str = Field(primary_key=True, max_length=40)
    youth_id: str = Field(foreign_key="youth.id", unique=True, max_length=40)
    workflow_id: str = Field(unique=True, max_length=80)
    school_id: str = Field(foreign_key="organisation.id", index=True, max_length=40)
    school_type: SchoolType = enum_field(SchoolType, ...)
    case_director_id: str | None = Field(
        default=None, foreign_key="professional.id", index=True, max_length=40
    )
    next_contact_id: str | None = Field(
        default=None, foreign_key="professional.id", index=True, max_length=40
    )
    timeline_id: str = Field(max_length=48)
    timeline_version: int
    leave_date: date = Field(index=True)
    status: TrajectoryStatus = enum_field(TrajectoryStatus, TrajectoryStatus.open, index=True)
    phase: Phase = enum_field(Phase, Phase.orientation)
    destination: Destination | None = enum_field(Destination, None, index=True)
    destination_organisation_id: str | None = Field(
        default=None, foreign_key="organisation.id", max_length=40
    )
    next_due_task: str | None = Field(default=None, max_length=48)
    next_due_date: date | None = None
    overdue_count: int = 0
    last_contact_at: datetime | None = timestamp()
    no_destination: bool = False
    consent_pending: bool = False
    waakvlam: bool = False
    safety_net: bool = False
    closed_reason: str | None = Field(default=None, max_length=40)
    projected_version: int = 0  # the workflow's change counter; stale projections are ignored
    opened_at: datetime = created_at()
    closed_at: datetime | None = timestamp()
    updated_at: datetime | None = timestamp()
    purged_at: datetime | None = timestamp()


class TaskStatus(StrEnum):
    upcoming = "upcoming"
    open = "open"  # due soon: reminders are going out
    overdue = "overdue"
    done = "done"
    not_applicable = "not_applicable"
    cancelled = "cancelled"  # the trajectory closed or moved on


class TaskRow(SQLModel, table=True):
    """One task of one trajectory (the read model). ``id`` is ``<trajectory>:<task key>``."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_trajectory", "trajectory_id", "due_date"),
        Index("ix_task_owner_status", "owner_id", "status"),
        Index("ix_task_status_due", "status", "due_date"),
    )

    id: str = Field(primary_key=True, max_length=100)
    trajectory_id: str = Field(foreign_key="trajectory.id", max_length=40)
    key: str = Field(max_length=60)
    rule_id: str = Field(max_length=48)
    kind: TaskKind = enum_field(TaskKind, ...)
    role: Role = enum_field(Role, ...)
    owner_id: str | None = Field(default=None, max_length=40)
    owner_organisation_id: str | None = Field(default=None, index=True, max_length=40)
    due_date: date
    status: TaskStatus = enum_field(TaskStatus, ...)
    escalated: bool = False
    completed_at: datetime | None = timestamp()
    completed_by: str | None = Field(default=None, max_length=40)
    reason: str | None = Field(default=None, max_length=40)  # an enum value, never free text
    updated_at: datetime | None = timestamp()
