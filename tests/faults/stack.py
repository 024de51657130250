"""The pieces the fault tests and the fault benchmark share.

- ``pinned_clock()``: the notification layer's clock, pinned to a working moment (a Tuesday at
  10:00 in Amsterdam) and moving with the wall clock from there, so quiet hours and weekends never
  hold a message back while a test or a benchmark runs at night.
- ``seed_network(engine, sms=...)``: the small region of ``tests.factories`` with every
  professional reachable by email, or by SMS only.
- ``notification_activities(...)``/``fault_worker(...)``: the product's worker (the workflows and
  activities of ``waakvlam.worker``) with that clock and a short wait for unknown outcomes.
- ``enroll_late(...)``: enroll youth two months before they leave, so the tasks already past are
  overdue at once and their notices are due immediately.
- ``settled(engine)``/``delivered(...)``: the outbox rows still in flight, and the count of each
  message (by our reference ``wv<id>``) at the SMTP server and the SMS gateway.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.worker import Worker

from activities.escalation import EscalationActivities
from activities.notify import NotificationActivities
from activities.trajectory import TrajectoryActivities
from activities.wake import trajectory_activities
from config.domain import Role, SchoolType
from config.settings import DEFAULT_TIMELINE, Settings
from config.timeline import Timeline, load_timeline
from notifications.timing import SendPolicy
from notifications.wiring import NotificationServices, build_notifications
from store.db import Database
from store.directory import Channel, ContactMethod
from store.outbox import OutboxMessage, OutboxStatus
from tests.factories import Region, build_region
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import FakeSmtp
from waakvlam.enrollment import EnrollmentRequest, enroll
from waakvlam.worker import workflows
from workflows.dates import add_months

WORKING_MOMENT = datetime(2027, 3, 9, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam")).astimezone(UTC)
# Unknown outcomes settle in seconds, and the SMS rate limit per number (4 an hour) is lifted:
# the fault tests send many notices to one coordinator within a minute.
FAST_POLICY = SendPolicy(
    sms_per_recipient_per_hour=10_000,
    unknown_outcome_checks=2,
    unknown_outcome_wait=timedelta(seconds=1),
)
IN_FLIGHT = (OutboxStatus.pending, OutboxStatus.sending, OutboxStatus.scheduled)


def pinned_clock(start: datetime = WORKING_MOMENT) -> Callable[[], datetime]:
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def seed_network(engine: Engine, *, sms: bool = False) -> Region:
    region = build_region(engine)
    if sms:
        with Session(engine) as session:
            methods = session.exec(select(ContactMethod)).all()
            for index, method in enumerate(methods):
                method.channel, method.address = Channel.sms, f"+3161000{index:04d}"
                session.add(method)
            session.commit()
    return region


def add_sms(engine: Engine, person_id: str, number: str) -> None:
    from store.directory import PersonKind

    with Session(engine) as session:
        session.add(ContactMethod(person_kind=PersonKind.professional, person_id=person_id,
                                  channel=Channel.sms, address=number,
                                  verified_at=datetime.now(UTC)))  # fmt: skip
        session.commit()


def notification_services(
    settings: Settings, engine: Engine, http: httpx.AsyncClient
) -> NotificationServices:
    return build_notifications(
        settings, Database.of(engine), http, load_timeline(DEFAULT_TIMELINE), policy=FAST_POLICY
    )


def activities(
    engine: Engine, services: NotificationServices, clock: Callable[[], datetime]
) -> Sequence[Callable[..., Any]]:
    """``waakvlam.worker.activities`` with the pinned clock (the retention activity left out)."""
    notify = NotificationActivities(services.notifier, services.digests, clock=clock)
    trajectory = TrajectoryActivities(services.notifier.database)
    return [*trajectory_activities(trajectory, notify.send_notification),
            *EscalationActivities(engine).all(), notify.send_daily_digests,
            notify.dispatch_scheduled]  # fmt: skip


def fault_worker(
    client: Client, task_queue: str, engine: Engine, services: NotificationServices,
    executor: ThreadPoolExecutor, clock: Callable[[], datetime] | None = None,
    extra_workflows: Sequence[type] = (),
) -> Worker:  # fmt: skip
    return Worker(
        client, task_queue=task_queue, workflows=[*workflows(), *extra_workflows],
        activities=activities(engine, services, clock or pinned_clock()),
        activity_executor=executor, max_concurrent_activities=executor._max_workers,
    )  # fmt: skip


async def enroll_late(
    *, engine: Engine, client: Client, region: Region, task_queue: str, today: date,
    count: int, first: int = 0, timeline: Timeline | None = None,
) -> list[str]:  # fmt: skip
    timeline = timeline or load_timeline(DEFAULT_TIMELINE)
    ids = []
    database = Database.of(engine)
    for n in range(first, first + count):
        result = await enroll(
            database=database, client=client, timeline=timeline, task_queue=task_queue, today=today,
            request=EnrollmentRequest(
                school_id=region.school_id, school_ref=f"F{n:05d}", first_name="Sam",
                last_name="Fault", birth_date=add_months(today, -12 * 17 - 3),
                leave_date=add_months(today, 2), school_type=SchoolType.pro,
                case_director_id=region.holder(Role.case_director),
            ),
        )  # fmt: skip
        ids.append(f"trajectory-{result.trajectory_id}")
    database.dispose()
    return ids


def restart_smtp(smtp: FakeSmtp) -> None:
    """Bring a stopped fake SMTP server back on the same port, keeping what it received (an
    aiosmtpd controller cannot be started twice)."""
    from tests.fakes.smtp import _Controller

    smtp._controller = _Controller(smtp._handler, smtp.port, smtp)
    smtp.start()


def outbox(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def in_flight(engine: Engine) -> int:
    return sum(1 for row in outbox(engine) if row.status in IN_FLIGHT)


def arrivals(smtp: FakeSmtp | None, gateway: SmsGateway | None) -> Counter[str]:
    """How often each of our references arrived at the servers."""
    seen: Counter[str] = Counter()
    if smtp is not None:
        seen.update(m["Message-ID"].strip("<>").partition("@")[0] for m in smtp.messages)
    if gateway is not None:
        seen.update(m.reference or "" for m in gateway.messages)
    return seen
