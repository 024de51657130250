"""The worker's notification clock comes from the composition root: the wall clock in production,
a pinned one where a benchmark needs the same working moment at any hour. Quiet hours follow it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from config.domain import Role
from config.settings import Settings
from notifications.requests import MessageKind, NotifyOutcome, NotifyRequest, Recipient
from store.directory import PersonKind
from store.outbox import OutboxMessage, OutboxStatus
from tests.factories import build_region
from waakvlam.container import build_container
from waakvlam.worker import activities

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_MORNING = datetime(2027, 3, 9, 10, 0, tzinfo=AMSTERDAM).astimezone(UTC)
SUNDAY_NIGHT = datetime(2027, 3, 7, 22, 0, tzinfo=AMSTERDAM).astimezone(UTC)


def send_notification(found: list[Callable[..., Any]]) -> Callable[..., Any]:
    (send,) = [a for a in found if getattr(a, "__name__", "") == "send_notification"]
    return send


async def test_quiet_hours_follow_the_clock_the_worker_is_built_with(settings: Settings) -> None:
    container = build_container(settings)
    try:
        region = build_region(container.engine)
        case_director = region.holder(Role.case_director)

        def reminder(reference: str) -> NotifyRequest:
            return NotifyRequest(
                kind=MessageKind.task_reminder,
                recipient=Recipient(kind=PersonKind.professional, id=case_director),
                reference=reference,
                trajectory_id="trj_0123456789abcdef",
                due_date=date(2027, 3, 23),
            )

        by_day = send_notification(activities(container, clock=lambda: TUESDAY_MORNING))
        by_night = send_notification(activities(container, clock=lambda: SUNDAY_NIGHT))
        day = await ActivityEnvironment().run(by_day, reminder("intake@day"))
        night = await ActivityEnvironment().run(by_night, reminder("intake@night"))

        assert day.outcome is NotifyOutcome.sent
        assert (night.outcome, night.reason) == (NotifyOutcome.scheduled, "quiet_hours")
        with Session(container.engine) as session:
            rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
        assert [(r.status, r.not_before) for r in rows] == [
            (OutboxStatus.sent, None),
            (OutboxStatus.scheduled, datetime(2027, 3, 8, 8, 0, tzinfo=UTC)),  # Monday, 09:00 local
        ]
    finally:
        await container.aclose()
