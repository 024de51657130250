"""Outages of the outside world, on the time-skipping server with the product's activities:

- the SMS gateway answers 503 for ten minutes of workflow time, then recovers;
- the SMTP server is down for ten minutes of workflow time, then comes back;
- the database is unreachable for the worker for a few seconds;
each time every notice arrives exactly once. A permanent refusal (an invalid number, an unknown
mailbox) fails over to the person's other channel, and the coordinator sees the failed message
in the outbox and the audit log."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from notifications.outbox import failed_messages
from notifications.requests import MessageKind, NotifyRequest, NotifyResult, Recipient
from store.audit import AuditEntry
from store.db import Database, make_engine, migrate
from store.directory import Channel, PersonKind
from store.outbox import OutboxStatus
from tests.factories import Region
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import FakeSmtp
from tests.faults.stack import (
    add_sms,
    arrivals,
    enroll_late,
    fault_worker,
    in_flight,
    notification_services,
    outbox,
    restart_smtp,
    seed_network,
)
from workflows.dates import local_date

with workflow.unsafe.imports_passed_through():
    from workflows.trajectory_effects import SEND_RETRY

TRAJECTORIES, PER_TRAJECTORY = 3, 10


@workflow.defn(sandboxed=False)
class SendOne:
    """Sends one notification the way ``TrajectoryWorkflow`` does (same activity, same retry)."""

    @workflow.run
    async def run(self, request: NotifyRequest) -> NotifyResult:
        return await workflow.execute_activity(
            "send_notification", request, result_type=NotifyResult,
            start_to_close_timeout=timedelta(minutes=2), retry_policy=SEND_RETRY,
        )  # fmt: skip


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@dataclass
class World:
    env: WorkflowEnvironment
    engine: Engine
    region: Region
    smtp: FakeSmtp
    gateway: SmsGateway
    worker_database: Database  # the worker's own connections (the database outage hits these)
    queue: str = "outages"

    async def enroll(self) -> list[str]:
        today = local_date(await self.env.get_current_time())
        return await enroll_late(
            engine=self.engine, client=self.env.client, region=self.region,
            task_queue=self.queue, today=today, count=TRAJECTORIES,
        )  # fmt: skip

    @property
    def worker_engines(self) -> list[Engine]:
        """Both of the worker's engines: the one its threads use and, on SQLite, the one its
        event loop uses (``Database``)."""
        database = self.worker_database
        return [database.engine, *([database.at_once] if database.at_once else [])]

    async def minutes(self, count: int) -> None:
        for _ in range(count):
            await self.env.sleep(timedelta(minutes=1))

    async def settle(self, rows: int, limit_minutes: int = 240) -> None:
        """Let workflow time pass until ``rows`` outbox rows exist and none is in flight."""
        for _ in range(limit_minutes):
            if len(outbox(self.engine)) >= rows and in_flight(self.engine) == 0:
                return
            await self.env.sleep(timedelta(minutes=1))
        raise AssertionError(f"{len(outbox(self.engine))} rows, {in_flight(self.engine)} in flight")

    def assert_each_sent_once(self, rows: int) -> None:
        sent = outbox(self.engine)
        assert len(sent) == rows and {r.status for r in sent} == {OutboxStatus.sent}
        assert dict(arrivals(self.smtp, self.gateway)) == {f"wv{r.id}": 1 for r in sent}


@pytest.fixture
def world_of(
    isolated_workflow_env: WorkflowEnvironment, migrated: Path, tmp_path: Path,
    settings: Settings, smtp_server: FakeSmtp, sms_gateway: SmsGateway,
) -> Iterator[Callable[..., Any]]:  # fmt: skip
    engines: list[Engine] = []

    @asynccontext
    async def make(*, sms: bool = False) -> AsyncIterator[World]:
        shutil.copyfile(migrated, tmp_path / "faults.db")
        engine = make_engine(f"sqlite:///{tmp_path / 'faults.db'}")
        worker_engine = make_engine(f"sqlite:///{tmp_path / 'faults.db'}")
        engines.extend((engine, worker_engine))
        region = seed_network(engine, sms=sms)
        overrides = smtp_server.settings_overrides() | sms_gateway.settings_overrides("cm")
        configured = Settings(_env_file=None, **(settings.model_dump() | overrides))  # type: ignore[call-arg]
        async with httpx.AsyncClient(timeout=5) as http:
            services = notification_services(configured, worker_engine, http)
            worker_database = services.notifier.database
            assert worker_database.at_once is not None
            engines.append(worker_database.at_once)
            with ThreadPoolExecutor(max_workers=16) as executor:
                world = World(isolated_workflow_env, engine, region, smtp_server, sms_gateway,
                              worker_database)  # fmt: skip
                async with fault_worker(
                    world.env.client, world.queue, worker_engine, services, executor,
                    extra_workflows=[SendOne],
                ):  # fmt: skip
                    yield world

    yield make
    for engine in engines:
        engine.dispose()


def asynccontext(fn: Any) -> Any:
    from contextlib import asynccontextmanager

    return asynccontextmanager(fn)


async def test_the_sms_gateway_answers_503_for_ten_minutes_and_every_sms_arrives_once(
    world_of: Callable[..., Any],
) -> None:
    async with world_of(sms=True) as world:
        world.gateway.fail_next(100_000, status=503)
        await world.enroll()
        await world.minutes(10)
        assert world.gateway.messages == [] and world.gateway.requests > TRAJECTORIES
        world.gateway.reset()  # the gateway recovers
        await world.settle(TRAJECTORIES * PER_TRAJECTORY)
        world.assert_each_sent_once(TRAJECTORIES * PER_TRAJECTORY)


async def test_the_smtp_server_is_down_for_ten_minutes_and_every_email_arrives_once(
    world_of: Callable[..., Any],
) -> None:
    async with world_of() as world:
        world.smtp.stop()
        await world.enroll()
        await world.minutes(10)
        assert world.smtp.messages == [] and len(outbox(world.engine)) > 0
        restart_smtp(world.smtp)
        await world.settle(TRAJECTORIES * PER_TRAJECTORY)
        world.assert_each_sent_once(TRAJECTORIES * PER_TRAJECTORY)


async def test_the_database_is_unreachable_for_a_while_and_nothing_is_lost_or_doubled(
    world_of: Callable[..., Any],
) -> None:
    async with world_of() as world:
        down = {"on": True, "refused": 0}

        def unreachable(*_: Any) -> None:
            if down["on"]:
                down["refused"] += 1
                raise OperationalError("SELECT", {}, Exception("database unreachable"))

        for engine in world.worker_engines:
            event.listen(engine, "before_cursor_execute", unreachable)
        await world.enroll()  # the enrollment rows were written before the outage
        await asyncio.sleep(4)  # local activities and the first sends fail and retry
        down["on"] = False
        await world.settle(TRAJECTORIES * PER_TRAJECTORY)
        assert down["refused"] >= TRAJECTORIES  # every trajectory hit the outage
        world.assert_each_sent_once(TRAJECTORIES * PER_TRAJECTORY)


async def send_one(world: World, request: NotifyRequest) -> NotifyResult:
    handle = await world.env.client.start_workflow(
        SendOne.run, request, id=f"send-{request.reference}", task_queue=world.queue
    )
    return await asyncio.wait_for(handle.result(), timeout=30)


def page(to: str, reference: str) -> NotifyRequest:
    return NotifyRequest(kind=MessageKind.oncall_page, urgent=True, reference=reference,
                         recipient=Recipient(kind=PersonKind.professional, id=to),
                         trajectory_id="trj_00000000000000aa",
                         facts={"ack_code": "4821"})  # fmt: skip


def assert_coordinator_sees_the_failure(engine: Engine, channel: Channel) -> None:
    with Session(engine) as session:
        [failed] = failed_messages(session)
        assert failed.channel is channel
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "message_failed")).all()
        assert [entry.subject_id for entry in audit] == [str(failed.id)]


async def test_an_invalid_number_fails_over_to_email_and_the_coordinator_sees_it(
    world_of: Callable[..., Any],
) -> None:
    async with world_of() as world:
        add_sms(world.engine, "pro_jobcoach", "+31699999999")
        world.gateway.mark_invalid("+31699999999")
        result = await send_one(world, page("pro_jobcoach", "page-1"))
        assert result.outcome.value == "sent" and len(result.outbox_ids) == 2
        assert world.gateway.messages == []
        assert [m.rcpt_tos for m in world.smtp.messages] == [["pro_jobcoach@example.org"]]
        assert_coordinator_sees_the_failure(world.engine, Channel.sms)


async def test_an_unknown_mailbox_fails_over_to_sms_and_the_coordinator_sees_it(
    world_of: Callable[..., Any],
) -> None:
    async with world_of() as world:
        add_sms(world.engine, "pro_mentor", "+31688888888")
        world.smtp.reject("pro_mentor@example.org", 550)
        request = page("pro_mentor", "reminder-1").model_copy(
            update={
                "kind": MessageKind.task_reminder,
                "urgent": False,
                "facts": {"task": "pupil_profile"},
            }  # fmt: skip
        )
        result = await send_one(world, request)
        assert result.outcome.value == "sent" and len(result.outbox_ids) == 2
        assert world.smtp.messages == []
        assert [m.to for m in world.gateway.messages] == ["+31688888888"]
        assert_coordinator_sees_the_failure(world.engine, Channel.email)
