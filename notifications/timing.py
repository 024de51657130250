"""When a message may go out: at once, at the next working moment, in tomorrow's digest, or
after the recipient's SMS rate limit frees up. Urgent messages (pages) always go at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlmodel import Session

from notifications import outbox
from notifications.calendar import (
    WorkingHours,
    is_working_moment,
    next_working_day_start,
    next_working_moment,
)
from notifications.recipients import Address, Addressee
from notifications.requests import MessageKind
from store.directory import Channel
from store.outbox import OutboxStatus

URGENT_KINDS = frozenset({MessageKind.oncall_page, MessageKind.page_acknowledged})
# What a person who chose the daily digest gets bundled instead of one message each.
DIGESTIBLE = frozenset(
    {
        MessageKind.task_reminder,
        MessageKind.overdue_notice,
        MessageKind.checkin_request,
        MessageKind.handover_request,
    }
)


@dataclass(frozen=True)
class SendPolicy:
    """Limits of the notification layer.

    ``sms_per_recipient_per_hour`` caps non-urgent SMS to one number; a message over the cap
    waits until the oldest SMS of the last hour is an hour old. Urgent messages are exempt: an
    on-call page must never wait, and the escalation policy itself paces pages.
    """

    sms_per_recipient_per_hour: int = 4
    unknown_outcome_checks: int = 5  # how often to wait for a delivery report before giving up
    unknown_outcome_wait: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class Timing:
    status: OutboxStatus
    not_before: datetime | None = None
    provider: str | None = None  # DIGEST_PROVIDER for rows waiting for the digest
    reason: str | None = None


def is_urgent(kind: MessageKind, urgent: bool) -> bool:
    return urgent or kind in URGENT_KINDS


def choose_address(addressee: Addressee, urgent: bool) -> Address | None:
    """Urgent messages prefer SMS, everything else prefers email; either falls back."""
    order = (Channel.sms, Channel.email) if urgent else (Channel.email, Channel.sms)
    for channel in order:
        address = addressee.on(channel)
        if address is not None:
            return address
    return None


def wants_digest(addressee: Addressee, kind: MessageKind, urgent: bool) -> bool:
    return (
        not urgent
        and addressee.wants_daily_digest
        and kind in DIGESTIBLE
        and addressee.on(Channel.email) is not None
    )


def decide(
    session: Session | Connection,
    *,
    address: Address,
    digest: bool,
    urgent: bool,
    hours: WorkingHours,
    policy: SendPolicy,
    now: datetime,
) -> Timing:
    if urgent:
        return Timing(OutboxStatus.pending)
    if digest:
        return Timing(
            OutboxStatus.scheduled,
            next_working_day_start(now, hours),
            outbox.DIGEST_PROVIDER,
            "daily_digest",
        )
    if not is_working_moment(now, hours):
        return Timing(OutboxStatus.scheduled, next_working_moment(now, hours), None, "quiet_hours")
    if address.channel is Channel.sms:
        recent = outbox.sms_sent_since(session, address.address, now - timedelta(hours=1))
        if len(recent) >= policy.sms_per_recipient_per_hour:
            free_at = recent[-policy.sms_per_recipient_per_hour] + timedelta(hours=1)
            return Timing(
                OutboxStatus.scheduled, next_working_moment(free_at, hours), None, "rate_limited"
            )
    return Timing(OutboxStatus.pending)
