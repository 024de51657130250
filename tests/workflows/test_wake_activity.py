"""``carry_out_wake`` on its own (the workflow's side is in test_trajectory_server_work.py): each
message is sent, a failure is reported by index instead of failing the others, a projection that
cannot be written fails the activity so that the whole wake runs again, and one of changes that
the read model cannot take asks for the whole one."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.trajectory import Projected
from activities.wake import WakeActivities
from config.domain import Phase
from notifications.requests import (
    MessageKind,
    NotifyOutcome,
    NotifyRequest,
    NotifyResult,
    Recipient,
)
from store.directory import PersonKind
from workflows.trajectory_models import Projection, WakeDone, WakeWork


def message(n: int) -> NotifyRequest:
    return NotifyRequest(
        kind=MessageKind.task_reminder,
        recipient=Recipient(kind=PersonKind.professional, id=f"pro_{n}"),
        reference=f"task_{n}@2026-11-29",
        trajectory_id="trj_0123456789abcdef",
        due_date=date(2026, 12, 1),
    )


def projection() -> Projection:
    return Projection(
        trajectory_id="trj_0123456789abcdef", version=3, phase=Phase.orientation, closed=False,
        closed_reason=None, destination=None, destination_organisation_id=None,
        case_director_id=None, next_contact_id=None, timeline_id="default", timeline_version=1,
        next_due_task=None, next_due_date=None, overdue_count=0, last_contact_at=None,
        no_destination=True, consent_pending=False, waakvlam=False, safety_net=False,
        consents={}, tasks=[], at=datetime(2026, 11, 29, 9, tzinfo=UTC),
    )  # fmt: skip


class World:
    """A sender whose answer per recipient can be set, and a read model that can be away."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.answers: dict[str, Exception] = {}
        self.projected: list[int] = []
        self.database_away = False
        self.answer = Projected.written

    async def send(self, request: NotifyRequest) -> NotifyResult:
        await asyncio.sleep(0)
        failure = self.answers.get(request.recipient.id)
        if failure is not None:
            raise failure
        self.sent.append(request.recipient.id)
        return NotifyResult(outcome=NotifyOutcome.sent)

    async def project(self, p: Projection) -> Projected:
        if self.database_away:
            raise ConnectionError("database unreachable")
        self.projected.append(p.version)
        return self.answer

    async def wake(self, work: WakeWork) -> WakeDone:
        activities = WakeActivities(self.send, self.project)
        result: WakeDone = await ActivityEnvironment().run(activities.carry_out_wake, work)
        return result


async def test_every_message_is_sent_and_the_projection_written() -> None:
    world = World()
    done = await world.wake(WakeWork(messages=[message(1), message(2)], projection=projection()))
    assert done == WakeDone()
    assert sorted(world.sent) == ["pro_1", "pro_2"]
    assert world.projected == [3]


async def test_failures_come_back_by_index_and_hold_up_nothing_else() -> None:
    world = World()
    world.answers["pro_1"] = ApplicationError("provider_unavailable", type="RetryLater")
    world.answers["pro_3"] = ApplicationError(
        "template", type="TemplateProblem", non_retryable=True
    )
    world.answers["pro_4"] = RuntimeError("a sender that is not send_notification")
    work = WakeWork(messages=[message(n) for n in range(5)], projection=projection())
    done = await world.wake(work)
    assert done == WakeDone(retry=[1, 4], failed=[3])
    assert sorted(world.sent) == ["pro_0", "pro_2"]
    assert world.projected == [3], "the read model does not wait for a failed message"


async def test_a_wake_without_a_projection_only_sends() -> None:
    world = World()
    done = await world.wake(WakeWork(messages=[message(1)]))
    assert done == WakeDone() and world.sent == ["pro_1"] and world.projected == []


async def test_an_unwritable_projection_fails_the_wake_after_its_messages() -> None:
    """The activity fails so the wake runs again; its messages went out first, and the outbox
    answers their second attempt with ``already_sent`` (tests/faults cover that end to end)."""
    world = World()
    world.database_away = True
    with pytest.raises(ConnectionError):
        await world.wake(WakeWork(messages=[message(1)], projection=projection()))
    assert world.sent == ["pro_1"]
    world.database_away = False
    assert await world.wake(WakeWork(messages=[], projection=projection())) == WakeDone()
    assert world.projected == [3]


async def test_changes_the_read_model_cannot_take_ask_for_the_whole_projection() -> None:
    world = World()
    world.answer = Projected.behind
    done = await world.wake(WakeWork(messages=[message(1)], projection=projection()))
    assert done == WakeDone(reproject=True) and world.sent == ["pro_1"]
    world.answer = Projected.ignored  # a later version is there already: nothing to do
    assert await world.wake(WakeWork(projection=projection())) == WakeDone()
