"""A harness for trajectory tests on the time-skipping server.

The real trajectory activities run against SQLite; ``send_notification`` is replaced by a
recorder registered under the real activity's name, so tests assert on exactly which messages
the workflow asked for (the notification layer has its own end-to-end tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.trajectory import TrajectoryActivities
from activities.wake import trajectory_activities
from config.domain import Role, SchoolType
from config.settings import DEFAULT_TIMELINE
from config.timeline import Timeline, load_timeline
from notifications.requests import MessageKind, NotifyOutcome, NotifyRequest, NotifyResult
from store.db import Database
from tests.factories import Region, build_region
from waakvlam.enrollment import EnrollmentRequest, enroll
from workflows.dates import add_months, local_date, wake_moment
from workflows.trajectory import TrajectoryWorkflow


@dataclass
class Outbox:
    sent: list[NotifyRequest] = field(default_factory=list)
    # Failures to answer, in turn, for messages of a kind (``fail``); every attempt is recorded.
    failures: dict[MessageKind, list[ApplicationError]] = field(default_factory=dict)
    attempts: list[NotifyRequest] = field(default_factory=list)
    # While set and not yet open, every send waits for it (a slow provider).
    gate: asyncio.Event | None = None

    def fail(self, kind: MessageKind, times: int = 1, *, for_good: bool = False) -> None:
        """The next ``times`` attempts of a ``kind`` message fail, for now or ``for_good``."""
        self.failures.setdefault(kind, []).extend(
            ApplicationError("provider_unavailable", type="RetryLater", non_retryable=for_good)
            for _ in range(times)
        )

    @activity.defn(name="send_notification")
    async def send_notification(self, request: NotifyRequest) -> NotifyResult:
        self.attempts.append(request)
        if self.gate is not None:
            await self.gate.wait()
        waiting = self.failures.get(request.kind)
        if waiting:
            raise waiting.pop(0)
        self.sent.append(request)
        return NotifyResult(outcome=NotifyOutcome.sent)

    def of(
        self, kind: MessageKind | None = None, task_key: str | None = None
    ) -> list[NotifyRequest]:
        return [
            r
            for r in self.sent
            if (kind is None or r.kind is kind)
            and (task_key is None or r.facts.get("task_key") == task_key)
        ]

    def recipients(self, kind: MessageKind, task_key: str | None = None) -> set[str]:
        return {r.recipient.id for r in self.of(kind, task_key)}


@dataclass
class Harness:
    env: WorkflowEnvironment
    engine: Engine
    database: Database
    region: Region
    outbox: Outbox
    task_queue: str
    timeline: Timeline
    counter: int = 0
    started: list[str] = field(default_factory=list)

    async def stop_all(self) -> None:
        """Terminate what a test left running: a workflow without a worker would stop the
        shared time-skipping server from skipping time for the next test."""
        for workflow_id in self.started:
            try:
                await self.env.client.get_workflow_handle(workflow_id).terminate("test over")
            except RPCError:
                pass  # already finished

    async def today(self) -> date:
        return local_date(await self.env.get_current_time())

    async def advance_to(self, day: date, hour: int = 11) -> None:
        """Let workflow time pass until ``hour`` o'clock on ``day`` (after the 09:00 wake-up)."""
        target = wake_moment(day, hour)
        now = await self.env.get_current_time()
        if target > now:
            await self.env.sleep(target - now)

    async def result(self, handle: WorkflowHandle[Any, Any], max_days: int = 4000) -> Any:
        """Let time pass until the workflow has finished, then return its result. (Waiting on
        ``handle.result()`` alone while the workflow sleeps for weeks is unreliable on the
        time-skipping server.)"""
        for _ in range(max_days // 7):
            summary = await handle.query(TrajectoryWorkflow.summary)
            if summary.closed:
                return await handle.result()
            await self.env.sleep(timedelta(days=7))
        raise AssertionError("the workflow did not finish")

    async def enroll(
        self,
        *,
        age_years: int = 17,
        age_extra_days: int = 0,
        leave_in_months: int = 12,
        max_history_events: int = 2000,
        **extra: Any,
    ) -> WorkflowHandle[Any, Any]:
        today = await self.today()
        self.counter += 1
        birth = add_months(today, -12 * age_years) - timedelta(days=age_extra_days)
        request = EnrollmentRequest(
            school_id=self.region.school_id,
            school_ref=f"L{self.counter:04d}",
            first_name="Sanne",
            last_name="de Vries",
            birth_date=birth,
            leave_date=add_months(today, leave_in_months),
            school_type=SchoolType.pro,
            case_director_id=self.region.holder(Role.case_director),
            **extra,
        )
        result = await enroll(
            database=self.database,
            client=self.env.client,
            timeline=self.timeline,
            request=request,
            task_queue=self.task_queue,
            today=today,
            max_history_events=max_history_events,
        )
        self.started.append(f"trajectory-{result.trajectory_id}")
        return self.env.client.get_workflow_handle(f"trajectory-{result.trajectory_id}")


@asynccontextmanager
async def running_harness(
    env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[Harness]:
    """A small region in ``engine`` and a worker with the real trajectory activities and the
    recording outbox; whatever is left running is terminated at the end."""
    region = build_region(engine)
    outbox = Outbox()
    database = Database.of(engine)
    activities = TrajectoryActivities(database)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[TrajectoryWorkflow],
            activities=trajectory_activities(activities, outbox.send_notification),
            activity_executor=executor,
        ):
            harness = Harness(
                env=env,
                engine=engine,
                database=database,
                region=region,
                outbox=outbox,
                task_queue=task_queue,
                timeline=load_timeline(DEFAULT_TIMELINE),
            )
            try:
                yield harness
            finally:
                await harness.stop_all()
                database.dispose()


@pytest.fixture
async def harness(
    isolated_workflow_env: WorkflowEnvironment, sqlite_engine: Engine, task_queue: str
) -> AsyncIterator[Harness]:
    async with running_harness(isolated_workflow_env, sqlite_engine, task_queue) as harness:
        yield harness


@pytest.fixture
async def harness_on_either_database(
    isolated_workflow_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[Harness]:
    """The harness on SQLite and on PostgreSQL (skipped without WAAKVLAM_TEST_POSTGRES_URL)."""
    async with running_harness(isolated_workflow_env, engine, task_queue) as harness:
        yield harness
