"""The on-call world, end to end on loopback: a small region with three jobcoaches in a weekly
rotation (Anna, Bram, Cees), a backup (Bob) and the coordinator, each with a verified mobile
number and an email address; ``EscalationWorkflow`` on the time-skipping server with the REAL
activities: the escalation activities and the notification layer's ``send_notification``,
which sends to the SMS gateway emulator (CM.com shape) and to an aiosmtpd server.

Inbound SMS go the way a phone's reply goes: the gateway emulator posts it to the product's
webhook (``/webhooks/cm/inbound``), the inbound router hands it to the on-call SMS handler.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.escalation import EscalationActivities
from activities.notify import NotificationActivities
from config.domain import Role
from config.settings import Settings
from notifications.wiring import NotificationServices, build_notifications
from store.db import Database
from store.directory import Channel, ContactMethod, PersonKind
from store.escalations import audit_trail
from store.oncall import Escalation
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import CapturedMail, FakeSmtp
from tests.oncall.phones import FakePhone, Phones
from tests.oncall.world import JOBCOACHES, build_oncall, monday_nine_before
from web import oncall_actions, webhooks
from web.oncall import oncall_router
from web.oncall_sms import ChannelSmsSender, OncallSmsReplies
from workflows.dates import AMSTERDAM
from workflows.escalation import EscalationWorkflow
from workflows.escalation_models import (
    CallerKind,
    CallForHelp,
    EscalationResult,
    HelpCategory,
    Outcome,
    Resolve,
    Urgency,
)

BASE_URL = "http://waakvlam.test"
RECORD_TO = (
    Path(os.environ["WAAKVLAM_RECORD_HISTORIES"])
    if os.environ.get("WAAKVLAM_RECORD_HISTORIES")
    else None
)
NUMBERS = {pid: f"+316000000{i:02d}" for i, pid in enumerate((*JOBCOACHES, "pro_backup"))}


@dataclass
class AppContainer:
    """What the web routes read from ``app.state.container`` in these tests."""

    settings: Settings
    engine: Engine
    notifications: NotificationServices


@dataclass
class World:
    env: WorkflowEnvironment
    engine: Engine
    settings: Settings
    task_queue: str
    gateway: SmsGateway
    smtp: FakeSmtp
    phones: Phones
    web: httpx.AsyncClient
    replies: OncallSmsReplies
    coordinator: str
    trajectory_id: str
    started: list[str] = field(default_factory=list)
    test_name: str = "escalation"

    async def call(
        self,
        trajectory_id: str | None = None,
        caller: str | None = "pro_case_director",
        kind: CallerKind = CallerKind.partner,
    ) -> WorkflowHandle[Any, EscalationResult]:
        receipt = await oncall_actions.call_for_help(
            client=self.env.client,
            engine=self.engine,
            task_queue=self.task_queue,
            trajectory_id=trajectory_id or self.trajectory_id,
            call=CallForHelp(
                caller_kind=kind,
                caller_ref=caller,
                category=HelpCategory.workplace_problem,
                urgency=Urgency.immediate,
            ),
        )
        self.started.append(receipt.workflow_id)
        return self.env.client.get_workflow_handle_for(EscalationWorkflow.run, receipt.workflow_id)

    async def close_all(self) -> None:
        """Leave nothing running on the shared test server: resolve what is still open and
        await each result, one at a time (terminating instead, or leaving workflows waiting,
        stalls the time-skipping server's next sleep)."""
        for workflow_id in dict.fromkeys(self.started):
            handle = self.env.client.get_workflow_handle_for(EscalationWorkflow.run, workflow_id)
            described = await handle.describe()
            if described.status is WorkflowExecutionStatus.RUNNING:
                with contextlib.suppress(RPCError, WorkflowUpdateFailedError):
                    await self.resolve(handle)
                await handle.result()
            if RECORD_TO:  # WAAKVLAM_RECORD_HISTORIES=dir: keep histories for the replay test
                history = await handle.fetch_history()
                name = f"{self.test_name}-{len(list(RECORD_TO.glob(self.test_name + '*')))}"
                (RECORD_TO / f"{name}.json").write_text(history.to_json())

    async def sleep(self, minutes: float) -> None:
        await self.env.sleep(timedelta(minutes=minutes))

    async def escalation_id(self, handle: WorkflowHandle[Any, EscalationResult]) -> str:
        return (await handle.query(EscalationWorkflow.view)).escalation_id

    async def resolve(self, handle: WorkflowHandle[Any, EscalationResult]) -> EscalationResult:
        escalation_id = await self.escalation_id(handle)
        await oncall_actions.resolve(
            client=self.env.client,
            engine=self.engine,
            escalation_id=escalation_id,
            resolution=Resolve(escalation_id=escalation_id, outcome=Outcome.handled_by_phone),
        )
        return await handle.result()

    def mails_to(self, professional_id: str) -> list[CapturedMail]:
        return self.smtp.messages_to(f"{professional_id}@example.org")

    def actions(self, escalation_id: str) -> list[str]:
        with Session(self.engine) as session:
            return [e.action for e in audit_trail(session, escalation_id)]

    def audit(self, escalation_id: str) -> list[Any]:
        with Session(self.engine) as session:
            return audit_trail(session, escalation_id)

    def row(self, escalation_id: str) -> Escalation:
        with Session(self.engine) as session:
            row = session.get(Escalation, escalation_id)
            assert row is not None
            return row

    def contact(self, number: str) -> ContactMethod:
        with Session(self.engine) as session:
            found = session.exec(select(ContactMethod).where(ContactMethod.address == number))
            return found.one()


def add_mobile(engine: Engine, pid: str, number: str, *, verified: bool = True) -> int:
    with Session(engine) as session:
        method = ContactMethod(
            person_kind=PersonKind.professional,
            person_id=pid,
            channel=Channel.sms,
            address=number,
            verified_at=datetime.now(UTC) if verified else None,
        )
        session.add(method)
        session.commit()
        assert method.id is not None
        return method.id


SIGNED_IN = "x-test-professional"  # stands in for the web app's session cookie


def signed_in_by_header(request: Request) -> str:
    who = request.headers.get(SIGNED_IN)
    if not who:
        raise HTTPException(401, "sign in first")
    return who


def coordinator_by_header(request: Request) -> str:
    who = signed_in_by_header(request)
    if who != "pro_network_coordinator":
        raise HTTPException(403, "coordinators only")
    return who


def as_(professional_id: str) -> dict[str, str]:
    return {SIGNED_IN: professional_id}


@pytest.fixture
async def world(
    isolated_workflow_env: WorkflowEnvironment,
    sqlite_engine: Engine,
    task_queue: str,
    settings: Settings,
    sms_gateway: SmsGateway,
    smtp_server: FakeSmtp,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[World]:
    # A server of the test's own: what another test left on a shared one (a workflow, a clock
    # weeks ahead) would change this test's time skipping.
    workflow_env = isolated_workflow_env
    marker = request.node.get_closest_marker("policy")
    policy: dict[str, Any] = marker.kwargs if marker else {}
    overrides = {
        **sms_gateway.settings_overrides("cm"),
        **smtp_server.settings_overrides(),
        "public_base_url": BASE_URL,
        "temporal_task_queue": task_queue,
    }
    settings = Settings(_env_file=None, **(settings.model_dump() | overrides))  # type: ignore[call-arg]
    now = await workflow_env.get_current_time()
    begins = request.node.get_closest_marker("begins_on_monday_at")
    if begins is not None:  # the test's clock moved on to the next Monday at that local time
        await workflow_env.sleep(next_monday_at(now, *begins.args) - now)
        now = await workflow_env.get_current_time()
    rotation_start = monday_nine_before(now)
    if now > rotation_start + timedelta(days=6):
        # Anna's week ends within a day, and a test's hours could cross the hand-off (a test
        # paging the rotation twice failed on Mondays shortly before nine): begin in her next.
        await workflow_env.sleep(rotation_start + timedelta(days=7, minutes=1) - now)
        rotation_start = monday_nine_before(await workflow_env.get_current_time())
    region = build_oncall(sqlite_engine, rotation_start, **policy)
    for pid, number in NUMBERS.items():
        add_mobile(sqlite_engine, pid, number)
    coordinator = region.holder(Role.network_coordinator)
    add_mobile(sqlite_engine, coordinator, "+31600000099")
    async with httpx.AsyncClient(timeout=10) as http:
        services = build_notifications(settings, Database.of(sqlite_engine), http, None)
        replies = OncallSmsReplies(
            engine=sqlite_engine,
            client=workflow_env.client,
            sms=ChannelSmsSender(services.sms),
            secret=settings.signing_secret.get_secret_value(),
        )
        services.inbound.register(replies)
        app = FastAPI()
        app.state.container = AppContainer(settings, sqlite_engine, services)
        app.include_router(webhooks.router)
        app.include_router(
            oncall_router(
                app.state.container,  # type: ignore[arg-type]
                workflow_env.client,
                replies.sms,
                signed_in=signed_in_by_header,
                coordinator=coordinator_by_header,
            )
        )
        web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)

        async def deliver(number: str, text: str) -> None:
            answer = await sms_gateway.inbound(
                "cm", number, "Waakvlam", text, f"{BASE_URL}/webhooks/cm/inbound", client=web
            )
            assert answer.status_code == 200, answer.text

        phones = Phones(sms_gateway, deliver)
        for pid, name in zip(NUMBERS, ("anna", "bram", "cees", "bob"), strict=True):
            phones.add(name, NUMBERS[pid])
        phones.add("coordinator", "+31600000099")
        notify = NotificationActivities(services.notifier, services.digests)
        escalation = EscalationActivities(sqlite_engine)
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with Worker(
                workflow_env.client,
                task_queue=task_queue,
                workflows=[EscalationWorkflow],
                activities=[*escalation.all(), notify.send_notification],
                activity_executor=executor,
            ):
                world = World(
                    env=workflow_env,
                    engine=sqlite_engine,
                    settings=settings,
                    task_queue=task_queue,
                    gateway=sms_gateway,
                    smtp=smtp_server,
                    phones=phones,
                    web=web,
                    replies=replies,
                    coordinator=coordinator,
                    trajectory_id=f"trj_{secrets.token_hex(8)}",
                    test_name=request.node.name.removeprefix("test_"),
                )
                yield world
                await world.close_all()
        await web.aclose()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "policy(repeat, steps): the escalation policy of a test")
    config.addinivalue_line(
        "markers", "begins_on_monday_at(hour, minute): the world's clock starts then (Amsterdam)"
    )


def next_monday_at(moment: datetime, hour: int, minute: int) -> datetime:
    """The first Monday at ``hour:minute`` in Amsterdam after ``moment``."""
    local = moment.astimezone(AMSTERDAM)
    day = local.date() + timedelta(days=(7 - local.weekday()) % 7)
    target = datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)
    if target <= local:
        target += timedelta(days=7)
    return target.astimezone(UTC)


__all__ = ["FakePhone", "World", "add_mobile", "as_"]
