"""On-call rotations, overrides, escalation policies and escalations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from store.base import UtcDateTime, created_at, enum_field, timestamp


class RotationKind(StrEnum):
    weekly = "weekly"
    daily = "daily"
    custom = "custom"  # shift_hours long shifts


class Rotation(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    organisation_id: str | None = Field(default=None, foreign_key="organisation.id", max_length=40)
    kind: RotationKind = enum_field(RotationKind, RotationKind.weekly)
    shift_hours: int = 168
    start_at: datetime = Field(sa_type=UtcDateTime)
    time_zone: str = Field(default="Europe/Amsterdam", max_length=60)
    created_at: datetime = created_at()


class RotationMember(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: str = Field(foreign_key="rotation.id", index=True, max_length=40)
    professional_id: str = Field(foreign_key="professional.id", max_length=40)
    position: int


class OverrideKind(StrEnum):
    replace = "replace"  # type: ignore[assignment]  # shadows str.replace; value is stable
    add = "add"
    remove = "remove"


class RotationOverride(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: str = Field(foreign_key="rotation.id", index=True, max_length=40)
    kind: OverrideKind = enum_field(OverrideKind, ...)
    professional_id: str | None = Field(default=None, foreign_key="professional.id", max_length=40)
    replaces_professional_id: str | None = Field(
        default=None, foreign_key="professional.id", max_length=40
    )
    start_at: datetime = Field(sa_type=UtcDateTime)
    end_at: datetime = Field(sa_type=UtcDateTime)


class EscalationPolicy(SQLModel, table=True):
    """Ordered steps; each ``{"target": "rotation"|"person"|"coordinator", "ref": id,
    "wait_minutes": n}``. Frozen into an escalation when it starts."""

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    repeat: int = 1
    steps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = created_at()


class EscalationStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    exhausted = "exhausted"  # nobody answered, the policy gave up


# The SMS reply "OK 1234" names an escalation by its code: no two escalations that can still be
# acknowledged share one (a partial unique index, on SQLite and PostgreSQL alike).
LIVE_STATUS_SQL = "status IN ('open', 'acknowledged')"


class Escalation(SQLModel, table=True):
    __table_args__ = (
        Index(
            "ux_escalation_live_ack_code",
            "ack_code",
            unique=True,
            sqlite_where=text(LIVE_STATUS_SQL),
            postgresql_where=text(LIVE_STATUS_SQL),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    trajectory_id: str | None = Field(default=None, index=True, max_length=40)
    # escalation-<trajectory id>: one open escalation per trajectory, so later ones reuse it
    workflow_id: str = Field(index=True, max_length=80)
    category: str = Field(max_length=40)
    urgency: str = Field(max_length=20)
    status: EscalationStatus = enum_field(EscalationStatus, EscalationStatus.open, index=True)
    ack_code: str = Field(max_length=12, index=True)
    policy_snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    acknowledged_by: str | None = Field(default=None, max_length=40)
    acknowledged_via: str | None = Field(default=None, max_length=20)
    outcome: str | None = Field(default=None, max_length=40)
    opened_at: datetime = created_at()
    acknowledged_at: datetime | None = timestamp()
    resolved_at: datetime | None = timestamp()


class EscalationCall(SQLModel, table=True):
    """A call for help; the second call on an open escalation joins it."""

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: str = Field(foreign_key="escalation.id", index=True, max_length=40)
    caller_kind: str = Field(max_length=20)  # employer, youth, partner, coordinator
    caller_ref: str | None = Field(default=None, max_length=40)
    category: str | None = Field(default=None, max_length=40)
    urgency: str | None = Field(default=None, max_length=20)
    at: datetime = created_at()


class SmsReplyThrottle(SQLModel, table=True):
    """Unrecognised SMS replies per number: at most one help text per number per hour."""

    address: str = Field(primary_key=True, max_length=200)
    garbage_count: int = 0
    last_garbage_at: datetime | None = timestamp()
    help_sent_at: datetime | None = timestamp()
    help_count: int = 0
