"""kill -9 of the worker process, and a stop and restart of the file-persisted dev server: every
notice that comes due is sent exactly once (counted by reference at the SMTP server), and every
trajectory carries on with its timer."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime

import pytest
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from notifications.outbox import failed_messages
from store.outbox import OutboxStatus
from tests.fakes.smtp import FakeSmtp
from tests.faults.conftest import Stack
from tests.faults.stack import arrivals, enroll_late, outbox
from tests.faults.waiting import settle
from workflows.dates import local_date
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import CompleteTask

WAVE = 4
# Enrolled two months before leaving: five tasks are past, so each trajectory sends five overdue
# notices to the owners and, the grace period being over too, five escalations to the coordinator.
PER_TRAJECTORY = 10
CRASH_TRAJECTORIES = 30  # 300 notices: enough to have sends in flight at the kill


def per_trajectory(stack: Stack) -> Counter[str | None]:
    return Counter(row.trajectory_id for row in outbox(stack.engine))


def assert_each_sent_once(stack: Stack, smtp: FakeSmtp) -> None:
    rows = outbox(stack.engine)
    assert rows and {row.status for row in rows} == {OutboxStatus.sent}
    seen = arrivals(smtp, None)
    assert {f"wv{row.id}": 1 for row in rows} == dict(seen)  # each exactly once, nothing else


async def wait_for_arrivals(smtp: FakeSmtp, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(smtp.messages) < count:
        assert time.monotonic() < deadline, f"only {len(smtp.messages)} of {count} arrived"
        await asyncio.sleep(0.05)


async def enroll(stack: Stack, count: int, first: int) -> list[str]:
    return await enroll_late(
        engine=stack.engine, client=stack.client, region=stack.region, task_queue="faults",
        today=local_date(datetime.now(UTC)), count=count, first=first,
    )  # fmt: skip


async def test_notices_due_while_the_worker_is_killed_go_out_once_after_a_restart(
    stack: Stack, smtp_server: FakeSmtp
) -> None:
    await stack.start_worker()
    await enroll(stack, WAVE, 0)
    await settle(stack.engine, at_least=WAVE * PER_TRAJECTORY)
    stack.kill_worker()  # SIGKILL: the workflows' sticky caches and open polls die with it
    await enroll(stack, WAVE, WAVE)  # their overdue notices are due now, with no worker alive
    await stack.start_worker()
    total = await settle(stack.engine, at_least=2 * WAVE * PER_TRAJECTORY)
    assert total == 2 * WAVE * PER_TRAJECTORY
    assert set(per_trajectory(stack).values()) == {PER_TRAJECTORY}
    assert_each_sent_once(stack, smtp_server)


@pytest.mark.parametrize("crash", [False, True], ids=["stop", "kill-9"])
async def test_the_dev_server_stops_and_restarts_and_every_trajectory_goes_on(
    stack: Stack, smtp_server: FakeSmtp, crash: bool
) -> None:
    """Also with SIGKILL: the dev server's SQLite file is in WAL mode, synced at checkpoints,
    and what it committed survives the crash of its process."""
    with closing(sqlite3.connect(stack.server.db_path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    await stack.start_worker()
    ids = await enroll(stack, WAVE, 0)
    await settle(stack.engine, at_least=WAVE * PER_TRAJECTORY)
    # Same file, same port; the worker reconnects by itself.
    await stack.restart_server(crash=crash)
    for workflow_id in ids:
        handle = stack.client.get_workflow_handle(workflow_id)
        assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
        events = [e.event_type async for e in handle.fetch_history_events()]
        started = events.count(EventType.EVENT_TYPE_TIMER_STARTED)
        ended = events.count(EventType.EVENT_TYPE_TIMER_FIRED) + events.count(
            EventType.EVENT_TYPE_TIMER_CANCELED
        )
        assert started == ended + 1  # its next wake-up survived the restart
    done = await stack.client.get_workflow_handle(ids[0]).execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key="future_conversation", actor_id="pro_case_director"),
    )
    assert done.status.value == "done"
    await enroll(stack, WAVE, WAVE)
    total = await settle(stack.engine, at_least=2 * WAVE * PER_TRAJECTORY)
    assert total == 2 * WAVE * PER_TRAJECTORY
    assert set(per_trajectory(stack).values()) == {PER_TRAJECTORY}
    assert_each_sent_once(stack, smtp_server)


async def test_a_kill_during_sends_doubles_nothing_and_loses_only_what_was_cut_off_in_data(
    stack: Stack, smtp_server: FakeSmtp
) -> None:
    """kill -9 while notices are going out. An email row is claimed only once the SMTP server has
    accepted its recipient, just before DATA: a send cut off before that is still ``pending``,
    and it runs again when its cut-off workflow task runs again on the new worker. Only a send
    cut off during DATA (or after it, before its outcome was written) stays ``sending``; it is
    never resent and ends ``failed`` / ``outcome_unknown``, in the coordinator's list. At most
    one per pooled SMTP session can be in DATA."""
    await stack.start_worker()
    enrolling = asyncio.create_task(enroll(stack, CRASH_TRAJECTORIES, 0))
    expected = CRASH_TRAJECTORIES * PER_TRAJECTORY
    await wait_for_arrivals(smtp_server, expected * 2 // 5)
    stack.kill_worker()
    assert len(smtp_server.messages) < expected  # killed in the middle of the sends
    await stack.start_worker()
    await enrolling
    total = await settle(stack.engine, at_least=expected, timeout=420)
    assert total == expected

    rows = outbox(stack.engine)
    seen = arrivals(smtp_server, None)
    assert set(seen.values()) == {1}  # nothing arrived twice
    assert set(seen) <= {f"wv{row.id}" for row in rows}
    failed = [row for row in rows if row.status is OutboxStatus.failed]
    assert {row.status for row in rows} <= {OutboxStatus.sent, OutboxStatus.failed}
    assert all(f"wv{row.id}" in seen for row in rows if row.status is OutboxStatus.sent)
    assert {row.last_error for row in failed} <= {"outcome_unknown"}
    # Cut off in DATA and never arrived: at most one per pooled session. A send that finished
    # DATA just before the kill, with its outcome not yet written, arrived and is failed too (the
    # session is back in the pool by then, so their number is not bounded by it): shown to the
    # coordinator all the same, and never resent.
    lost = [row for row in failed if f"wv{row.id}" not in seen]
    assert len(lost) <= stack.settings.smtp_pool_size
    with Session(stack.engine) as session:
        visible = {row.id for row in failed_messages(session)}
    assert {row.id for row in failed} <= visible
