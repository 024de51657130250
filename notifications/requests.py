"""What workflows ask of the notification layer: ids, enums and dates only, never personal data.

The activity behind :class:`NotifyRequest` looks the recipient up in the database at send time,
checks consent and opt-outs, renders the template and writes the outbox row.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from store.directory import Channel, PersonKind

# Marks the idempotency key of a request bound to one channel (see ``NotifyRequest.channel``).
SINGLE_CHANNEL = "only-"


class MessageKind(StrEnum):
    task_reminder = "task_reminder"
    overdue_notice = "overdue_notice"  # to the coordinator
    daily_digest = "daily_digest"
    checkin_request = "checkin_request"
    handover_request = "handover_request"
    consent_request = "consent_request"
    safety_net_alert = "safety_net_alert"
    oncall_page = "oncall_page"
    page_acknowledged = "page_acknowledged"


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: PersonKind
    id: str = Field(max_length=40)


class NotifyRequest(BaseModel):
    """One message to one person. ``reference`` names the business object (a task key, a
    consent kind, an escalation id); together with kind, due date and recipient it forms the
    outbox's idempotency key."""

    model_config = ConfigDict(frozen=True)

    kind: MessageKind
    recipient: Recipient
    reference: str = Field(max_length=80)
    trajectory_id: str | None = Field(default=None, max_length=40)
    due_date: date | None = None
    urgent: bool = False
    # Non-personal facts for the template: task rule ids, counts, dates, ack codes.
    facts: dict[str, str | int] = Field(default_factory=dict)
    # Send on this channel only, without failover (an on-call page goes out on SMS and on
    # email as two requests); None lets the notifier choose, with failover to the other one.
    channel: Channel | None = None

    @property
    def idempotency_key(self) -> str:
        due = self.due_date.isoformat() if self.due_date else "-"
        parts = [
            self.trajectory_id or "-",
            self.kind.value,
            self.reference,
            due,
            self.recipient.kind.value,
            self.recipient.id,
        ]
        if self.channel is not None:
            parts.append(f"{SINGLE_CHANNEL}{self.channel.value}")
        return ":".join(parts)


class NotifyOutcome(StrEnum):
    sent = "sent"
    already_sent = "already_sent"  # the idempotency key was seen before: nothing new went out
    scheduled = "scheduled"  # deferred to working hours or the daily digest
    suppressed = "suppressed"  # consent, opt-out or no contact method: nothing to send
    failed = "failed"  # permanent failure on every channel


class NotifyResult(BaseModel):
    outcome: NotifyOutcome
    outbox_ids: list[int] = Field(default_factory=list)
    reason: str | None = None  # an enum-like code, never free text with personal data


class DigestRequest(BaseModel):
    """Send the daily digests of one (local) day."""

    for_date: date


class DispatchRequest(BaseModel):
    """Send the scheduled messages whose time has come at ``now``."""

    now: datetime
