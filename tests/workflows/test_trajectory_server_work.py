"""What a trajectory costs the Temporal server (issue 8): messages go out as local activities in
the workflow task that decided them, a new trajectory starts with the search attributes its first
run would write, and later runs write only the attributes that changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from config.domain import Phase
from notifications.requests import MessageKind
from tests.workflows.conftest import Harness
from workflows import search_attributes as sa
from workflows.dates import midday_utc
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_attributes import Shown
from workflows.trajectory_models import CompleteTask

UPSERT = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES


async def events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return [e async for e in handle.fetch_history_events()]


async def first_run_done(h: Harness, handle: WorkflowHandle[Any, Any]) -> None:
    """Let the first run send its messages and go to sleep."""
    await h.env.sleep(timedelta(hours=1))
    assert (await handle.query(TrajectoryWorkflow.summary)).phase is not None


def upserted_names(event: Any) -> set[str]:
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    return set(fields.indexed_fields)


async def our_upserts(handle: WorkflowHandle[Any, Any]) -> list[set[str]]:
    """The attributes of each upsert of ours (the SDK's own upsert of ``TemporalChangeVersion``,
    once per patch id and run, is not ours to save)."""
    names = [upserted_names(e) for e in await events(handle) if e.event_type == UPSERT]
    return [n for n in names if n != {"TemporalChangeVersion"}]


async def test_messages_go_out_as_local_activities_in_the_task_that_decided_them(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=12)
    await first_run_done(h, handle)
    assert h.outbox.of(MessageKind.task_reminder), "the due reminders went out"
    history = await events(handle)
    kinds = [e.event_type for e in history]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds, "no activity task per message"
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1, "one workflow task"
    markers = kinds.count(EventType.EVENT_TYPE_MARKER_RECORDED)
    assert markers >= len(h.outbox.sent), "each send is recorded as a local activity marker"


async def test_a_new_trajectory_starts_with_its_attributes_and_its_first_run_writes_none(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=12)
    await first_run_done(h, handle)
    assert await our_upserts(handle) == [], "nothing changed, nothing written"

    described = (await handle.describe()).typed_search_attributes
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert described.get(sa.PHASE) == summary.phase.value == Phase.orientation.value
    assert described.get(sa.OVERDUE_COUNT) == 0
    assert "no_destination" in (described.get(sa.FLAGS) or [])
    assert described.get(sa.NEXT_DUE) is not None
    assert described.get(sa.TIMELINE) == f"{h.timeline.id}@{h.timeline.version}"


async def test_a_late_enrollment_starts_with_its_overdue_count(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=2)  # months of tasks already past due
    await first_run_done(h, handle)
    assert h.outbox.of(MessageKind.overdue_notice)
    described = (await handle.describe()).typed_search_attributes
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.overdue_count > 0
    assert described.get(sa.OVERDUE_COUNT) == summary.overdue_count


async def test_a_completed_task_writes_only_what_it_changed(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=12)
    await first_run_done(h, handle)
    before = await handle.query(TrajectoryWorkflow.summary)
    assert before.next_due_task is not None
    await handle.execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key=before.next_due_task, actor_id="pro_case_director"),
    )
    await h.env.sleep(timedelta(minutes=5))
    after = await handle.query(TrajectoryWorkflow.summary)
    assert after.next_due_task != before.next_due_task
    upserts = await our_upserts(handle)
    if after.next_due_date == before.next_due_date:
        assert upserts == [], "the next due date stayed: nothing to write"
    else:
        assert upserts == [{sa.NEXT_DUE.name}], "only the next due date changed"
    described = (await handle.describe()).typed_search_attributes
    assert after.next_due_date is not None
    assert described.get(sa.NEXT_DUE) == midday_utc(after.next_due_date)
    assert described.get(sa.PHASE) == after.phase.value


def test_shown_differs_only_where_a_value_changed() -> None:
    noon = datetime(2027, 3, 1, 12, tzinfo=UTC)
    shown = Shown(
        phase="decision", overdue_count=2, flags=["no_destination"], timeline="t@1", next_due=noon
    )
    current = TypedSearchAttributes(
        [
            SearchAttributePair(sa.PHASE, "decision"),
            SearchAttributePair(sa.OVERDUE_COUNT, 2),
            SearchAttributePair(sa.FLAGS, ["no_destination"]),
            SearchAttributePair(sa.TIMELINE, "t@1"),
            SearchAttributePair(sa.NEXT_DUE, noon),
        ]
    )
    assert shown.differs_from(current) == []
    moved = Shown(
        phase="decision", overdue_count=3, flags=[], timeline="t@1", next_due=None
    ).differs_from(current)
    assert [u.key.name for u in moved] == [sa.OVERDUE_COUNT.name, sa.FLAGS.name, sa.NEXT_DUE.name]
    assert moved[-1].value is None, "no next due date: the attribute is unset"
    # An attribute the workflow does not have yet is written; no flags equals an empty list.
    fresh = Shown(phase="decision", overdue_count=0, flags=[], timeline="t@1", next_due=None)
    assert [u.key.name for u in fresh.differs_from(TypedSearchAttributes([]))] == [
        sa.PHASE.name,
        sa.OVERDUE_COUNT.name,
        sa.TIMELINE.name,
    ]
