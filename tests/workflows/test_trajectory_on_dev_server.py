"""A late-enrolled trajectory on the Temporal dev server with the product's real worker: the
reminders reach the outbox once each, and operators find it through the typed search attributes."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from config.domain import SchoolType
from config.settings import Settings
from store.outbox import OutboxMessage, OutboxStatus
from tests.factories import build_region
from waakvlam.container import build_container
from waakvlam.enrollment import EnrollmentRequest, enroll
from waakvlam.worker import build_worker
from workflows.trajectory import TrajectoryWorkflow


async def eventually(check: object, seconds: float = 20) -> None:
    for _ in range(int(seconds * 4)):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.25)
    raise AssertionError("condition not reached in time")


async def test_reminders_reach_the_outbox_and_visibility_finds_the_trajectory(
    dev_env: WorkflowEnvironment, settings: Settings, task_queue: str
) -> None:
    container = build_container(settings)
    region = build_region(container.engine)
    today = date.today()
    async with build_worker(dev_env.client, container, task_queue=task_queue):
        result = await enroll(
            database=container.database,
            client=dev_env.client,
            timeline=container.timeline,
            request=EnrollmentRequest(
                school_id=region.school_id,
                school_ref="E2E-1",
                first_name="Fenna",
                last_name="Willems",
                birth_date=today - timedelta(days=17 * 365 + 40),
                leave_date=today + timedelta(days=120),
                school_type=SchoolType.pro,
                case_director_id="pro_case_director",
            ),
            task_queue=task_queue,
            today=today,
        )
        handle = dev_env.client.get_workflow_handle(f"trajectory-{result.trajectory_id}")

        async def overdue_known() -> bool:
            return (await handle.query(TrajectoryWorkflow.summary)).overdue_count >= 3

        await eventually(overdue_known)
        overdue = (await handle.query(TrajectoryWorkflow.summary)).overdue_count

        async def listed() -> bool:
            query = (
                f"WorkflowId = '{handle.id}' AND WaakvlamOverdueCount = {overdue} "
                "AND WaakvlamFlags = 'no_destination' AND WaakvlamPhase = 'orientation'"
            )
            return [w.id async for w in dev_env.client.list_workflows(query)] == [handle.id]

        await eventually(listed)

        def outbox() -> list[OutboxMessage]:
            with Session(container.engine) as session:
                return list(
                    session.exec(
                        select(OutboxMessage).where(
                            OutboxMessage.trajectory_id == result.trajectory_id
                        )
                    )
                )

        async def sent() -> bool:
            return len({m.idempotency_key for m in outbox()}) >= 6

        await eventually(sent)
        messages = outbox()
        keys = [m.idempotency_key for m in messages]
        assert len(keys) == len(set(keys)), "one outbox row per message"
        assert {m.purpose for m in messages} >= {"task_reminder", "overdue_notice"}
        assert all(m.status is not OutboxStatus.failed for m in messages)
        await handle.terminate("test over")
    await container.aclose()
