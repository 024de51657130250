"""The outbox: every message, keyed by its business identity so it is sent at most once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text
from sqlmodel import Field, Index, SQLModel

from store.base import UtcDateTime, created_at, enum_field, timestamp
from store.directory import Channel, PersonKind


class OutboxStatus(StrEnum):
    pending = "pending"  # written, not yet handed to a provider
    scheduled = "scheduled"  # waiting for working hours or the daily digest
    sending = "sending"  # claimed: handed to a provider, outcome not yet recorded
    sent = "sent"  # accepted by the provider
    delivered = "delivered"  # the provider's delivery report says it arrived
    failed = "failed"  # permanently failed (failover may have taken over)
    suppressed = "suppressed"  # not sent on purpose: opt-out, consent, bundled into a digest


class OutboxMessage(SQLModel, table=True):
    __table_args__ = (Index("ix_outbox_status_not_before", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    trajectory_id: str | None = Field(default=None, index=True, max_length=40)
    purpose: str = Field(max_length=60, index=True)
    recipient_kind: PersonKind = enum_field(PersonKind, ...)
    recipient_id: str = Field(max_length=40, index=True)
    channel: Channel = enum_field(Channel, ...)
    address: str = Field(max_length=200)
    language: str = Field(max_length=5)
    subject: str | None = Field(default=None, max_length=300)
    body_text: str = Field(sa_type=Text)
    body_html: str | None = Field(default=None, sa_type=Text)
    urgent: bool = False
    status: OutboxStatus = enum_field(OutboxStatus, OutboxStatus.pending)
    provider: str | None = Field(default=None, max_length=20)
    provider_message_id: str | None = Field(default=None, max_length=100, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    failover_of: int | None = Field(default=None, foreign_key="outboxmessage.id")
    not_before: datetime | None = timestamp()
    created_at: datetime = created_at()
    sent_at: datetime | None = timestamp()
    delivered_at: datetime | None = timestamp()


class ActionToken(SQLModel, table=True):
    """The single-use record of a signed action link (the link itself carries an HMAC)."""

    jti: str = Field(primary_key=True, max_length=40)
    purpose: str = Field(max_length=40)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = timestamp()
