"""Sending what waited: scheduled rows (quiet hours, rate limit, temporary failures of earlier
dispatches) whose ``not_before`` has come. Run every few minutes by a Temporal Schedule.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from notifications import outbox
from notifications.notifier import Notifier, RetryLater
from notifications.requests import NotifyOutcome


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
        taken = await asyncio.to_thread(_take, notifier, row_id)
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


def _take(notifier: Notifier, row_id: int) -> bool:
    with Session(notifier.engine) as session:
        return outbox.unschedule(session, row_id)
