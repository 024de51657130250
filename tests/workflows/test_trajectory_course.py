"""A whole trajectory on the time-skipping server: tasks completed on time, years in seconds."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select
from temporalio.client import WorkflowHandle

from config.domain import Destination, Phase, Role, TaskKind
from notifications.requests import MessageKind
from store.trajectories import TaskRow, TaskStatus, Trajectory, TrajectoryStatus
from store.youth import ConsentKind
from tests.workflows.conftest import Harness
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import (
    ChooseDestination,
    CompleteTask,
    RecordCheckin,
    RecordConsent,
    TrajectoryOutcome,
)

PENDING = {TaskStatus.upcoming, TaskStatus.open, TaskStatus.overdue}
HISTORY_LIMIT = 150  # a three-year trajectory takes about 370 events: two runs or more


async def act_on_time(h: Harness, handle: WorkflowHandle, key: str, kind: TaskKind) -> None:
    from config.domain import CheckinStatus

    actor = h.region.holder(Role.case_director)
    if kind is TaskKind.destination:
        await handle.execute_update(
            TrajectoryWorkflow.choose_destination,
            ChooseDestination(
                actor_id=actor,
                destination=Destination.work,
                next_contact_id=h.region.holder(Role.jobcoach),
            ),
        )
    elif kind is TaskKind.consent:
        consent = ConsentKind.data_sharing if key == "consent_16" else ConsentKind.parents_involved
        await handle.execute_update(
            TrajectoryWorkflow.record_consent,
            RecordConsent(actor_id="yth_self", kind=consent, given=True),
        )
    elif kind is TaskKind.checkin:
        await handle.execute_update(
            TrajectoryWorkflow.record_checkin,
            RecordCheckin(task_key=key, actor_id=actor, status=CheckinStatus.at_destination),
        )
    else:
        await handle.execute_update(
            TrajectoryWorkflow.complete_task, CompleteTask(task_key=key, actor_id=actor)
        )


async def run_lengths(h: Harness, workflow_id: str) -> list[int]:
    """History length of every run of the workflow, walking back through continue-as-new."""
    lengths: list[int] = []
    run_id: str | None = None
    while True:
        handle = h.env.client.get_workflow_handle(workflow_id, run_id=run_id)
        history = await handle.fetch_history()
        lengths.append(len(history.events))
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return lengths
        run_id = started.continued_execution_run_id


async def test_a_three_year_trajectory_completed_on_time_closes_in_order(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(age_years=17, leave_in_months=12, max_history_events=HISTORY_LIMIT)
    completed: list[str] = []
    for _ in range(60):
        entries = await handle.query(TrajectoryWorkflow.timeline)
        pending = sorted((e for e in entries if e.status in PENDING), key=lambda e: e.due)
        if not pending:
            break
        task = pending[0]
        await h.advance_to(task.due - timedelta(days=1))
        await act_on_time(h, handle, task.key, task.kind)
        completed.append(task.key)
    outcome = await h.result(handle)
    assert TrajectoryOutcome.model_validate(outcome).closed_reason == "aftercare_complete"

    assert completed[:3] == ["future_conversation", "consent_16", "pupil_profile"]
    assert completed[-1] == "checkin_24m"
    assert {"destination_confirmed", "warm_handover", "consent_18", "checkin_1m"} <= set(completed)
    assert not h.outbox.of(MessageKind.overdue_notice), "nothing was late"
    assert h.outbox.recipients(MessageKind.task_reminder, "pupil_profile") == {
        h.region.holder(Role.mentor)
    }
    assert h.outbox.recipients(MessageKind.handover_request, "warm_handover") == {
        h.region.holder(Role.mentor),
        h.region.holder(Role.jobcoach),
    }
    assert h.outbox.recipients(MessageKind.checkin_request, "checkin_6m") == {
        h.region.holder(Role.jobcoach)
    }
    assert h.outbox.of(MessageKind.consent_request, "consent_18")

    lengths = await run_lengths(h, handle.id)
    assert len(lengths) > 1, "the trajectory continued as new at least once"
    assert max(lengths) <= HISTORY_LIMIT + 60, lengths

    with Session(h.engine) as session:
        row = session.exec(select(Trajectory)).one()
        assert row.status is TrajectoryStatus.closed and row.phase is Phase.closed
        assert row.destination is Destination.work
        statuses = {t.key: t.status for t in session.exec(select(TaskRow))}
    assert statuses["checkin_24m"] is TaskStatus.done
    assert all(s in (TaskStatus.done, TaskStatus.not_applicable) for s in statuses.values())
