"""Sending what waited: scheduled rows (quiet hours, rate limit, temporary failures of earlier
dispatches) whose ``not_before`` has come. Run every few minutes by a Temporal Schedule.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from notifications import outbox
from notifications.calendar import local_date
from notifications.notifier import Notifier, RetryLater
from notifications.recipients import consent_block, find_addressee
from notifications.requests import MessageKind, NotifyOutcome, NotifyRequest, Recipient
from store.outbox import OutboxMessage


class DispatchReport(BaseModel):
    due: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    outcomes: dict[int, str] = Field(default_factory=dict)


async def dispatch_scheduled(notifier: Notifier, now: datetime, limit: int = 500) -> DispatchReport:
    """Send every scheduled row due at ``now``; a row another dispatcher took is skipped."""
    report = DispatchReport()
    due = await asyncio.to_thread(_due, notifier, now, limit)
    report.due = len(due)
    for row_id in due:
        taken = await asyncio.to_thread(_take, notifier, row_id, now)
        if not taken:
            continue
        try:
            result = await notifier.deliver(row_id, now, reschedule_on_temporary=True)
        except RetryLater as later:  # the outcome is unknown: the delivery report settles it
            report.outcomes[row_id] = later.code
            report.deferred += 1
            continue
        report.outcomes[row_id] = result.outcome.value
        if result.outcome is NotifyOutcome.sent:
            report.sent += 1
        elif result.outcome is NotifyOutcome.failed:
            report.failed += 1
        else:
            report.deferred += 1
    return report


def _due(notifier: Notifier, now: datetime, limit: int) -> list[int]:
    with Session(notifier.engine) as session:
        return outbox.due_scheduled(session, now, limit)


def _take(notifier: Notifier, row_id: int, now: datetime) -> bool:
    """Claim a due row, unless consent changed while it waited: then it is suppressed."""
    with Session(notifier.engine) as session:
        blocked = _consent_now(session, notifier, row_id, now)
        if blocked is not None:
            outbox.mark_suppressed(session, row_id, blocked)
            return False
        return outbox.unschedule(session, row_id)


def _consent_now(session: Session, notifier: Notifier, row_id: int, now: datetime) -> str | None:
    row = session.get(OutboxMessage, row_id)
    if row is None or row.purpose not in MessageKind.__members__:
        return None
    recipient = Recipient(kind=row.recipient_kind, id=row.recipient_id)
    addressee = find_addressee(session, recipient)
    if addressee is None:
        return "recipient_unknown"
    request = NotifyRequest(
        kind=MessageKind(row.purpose), recipient=recipient, reference="dispatch",
        trajectory_id=row.trajectory_id,
    )  # fmt: skip
    return consent_block(session, addressee, local_date(now, notifier.hours), request)
