"""Humans act through updates with validators: double clicks and out-of-order actions get clear
answers and change nothing they should not; a timeline migration moves a running trajectory."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from config.domain import Destination, Role
from config.timeline import Timeline
from notifications.requests import MessageKind
from store.trajectories import TaskStatus
from store.youth import ConsentKind
from tests.workflows.conftest import Harness
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import (
    Actor,
    ChooseDestination,
    CompleteTask,
    DeclareNotApplicable,
    MigrateTimeline,
    NotApplicableReason,
    RecordConsent,
)


async def rejected(coro: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await coro  # type: ignore[misc]
    cause = caught.value.cause
    return f"{getattr(cause, 'type', '')}: {cause}"


async def test_completing_twice_answers_already_done(harness: Harness) -> None:
    handle = await harness.enroll()
    action = CompleteTask(task_key="case_meeting", actor_id="pro_case_director")
    first = await handle.execute_update(TrajectoryWorkflow.complete_task, action)
    second = await handle.execute_update(TrajectoryWorkflow.complete_task, action)
    assert (first.status, second.status) == ("done", "already_done")
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert entries["case_meeting"].status is TaskStatus.done


async def test_unknown_and_wrong_tasks_are_rejected_with_a_reason(harness: Harness) -> None:
    handle = await harness.enroll()
    assert (
        await rejected(
            handle.execute_update(
                TrajectoryWorkflow.complete_task, CompleteTask(task_key="nope", actor_id="pro_x")
            )
        )
    ).startswith("UnknownTask")
    assert (
        await rejected(
            handle.execute_update(
                TrajectoryWorkflow.complete_task,
                CompleteTask(task_key="destination_confirmed", actor_id="pro_x"),
            )
        )
    ).startswith("UseChooseDestination")
    assert (
        await rejected(
            handle.execute_update(
                TrajectoryWorkflow.declare_not_applicable,
                DeclareNotApplicable(
                    task_key="consent_18", actor_id="pro_x", reason=NotApplicableReason.other
                ),
            )
        )
    ).startswith("NotAllowed")
    # Parents' involvement is the youth's to decide only from 18.
    assert (
        await rejected(
            handle.execute_update(
                TrajectoryWorkflow.record_consent,
                RecordConsent(actor_id="yth", kind=ConsentKind.parents_involved, given=False),
            )
        )
    ).startswith("TooYoung")


async def test_choosing_a_destination_twice(harness: Harness) -> None:
    h = harness
    handle = await h.enroll()
    coach = h.region.holder(Role.jobcoach)
    choice = ChooseDestination(
        actor_id="pro_case_director", destination=Destination.work, next_contact_id=coach
    )
    assert (
        await handle.execute_update(TrajectoryWorkflow.choose_destination, choice)
    ).status == "done"
    again = await handle.execute_update(TrajectoryWorkflow.choose_destination, choice)
    assert again.status == "already_done"
    other = choice.model_copy(update={"destination": Destination.further_education})
    assert (
        await rejected(handle.execute_update(TrajectoryWorkflow.choose_destination, other))
    ).startswith("DestinationAlreadyChosen")
    assert (await handle.query(TrajectoryWorkflow.summary)).destination is Destination.work
    replaced = other.model_copy(update={"replace": True})
    assert (
        await handle.execute_update(TrajectoryWorkflow.choose_destination, replaced)
    ).status == "done"
    assert (
        await handle.query(TrajectoryWorkflow.summary)
    ).destination is Destination.further_education


async def test_a_closed_trajectory_refuses_further_actions(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=6)
    await handle.execute_update(TrajectoryWorkflow.move_out, Actor(actor_id="pro_school"))
    again = await handle.execute_update(TrajectoryWorkflow.move_out, Actor(actor_id="pro_school"))
    assert again.status == "already_done"
    # A cancelled task of a closed trajectory answers "already done" and stays cancelled.
    late_click = await handle.execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key="case_meeting", actor_id="pro_case_director"),
    )
    assert late_click.status == "already_done"
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert entries["case_meeting"].status is TaskStatus.cancelled
    assert (
        await rejected(
            handle.execute_update(TrajectoryWorkflow.refuse_guidance, Actor(actor_id="pro_x"))
        )
    ).startswith("TrajectoryClosed")
    assert (
        await rejected(
            handle.execute_update(
                TrajectoryWorkflow.choose_destination,
                ChooseDestination(
                    actor_id="pro_x", destination=Destination.work, next_contact_id="p"
                ),
            )
        )
    ).startswith("TrajectoryClosed")


async def test_a_timeline_migration_moves_a_running_trajectory(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=12)
    before = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    data = h.timeline.model_dump(mode="json")
    data["version"] = 2
    for rule in data["task"]:
        if rule["id"] == "case_meeting":
            rule["offset_months"] = -5
    data["task"] = [r for r in data["task"] if r["id"] != "internship_choice"]
    data["task"].append(
        {
            "id": "job_visit",
            "title_nl": "Werkbezoek",
            "title_en": "Job visit",
            "owner": "jobcoach",
            "offset_months": -4,
        }
    )
    new = Timeline.model_validate(data)
    stale = new.model_copy(update={"version": 1})
    await handle.signal(TrajectoryWorkflow.migrate_timeline, MigrateTimeline(timeline=stale))
    await handle.signal(TrajectoryWorkflow.migrate_timeline, MigrateTimeline(timeline=new))
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.timeline_version == 2
    after = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert after["case_meeting"].due - before["case_meeting"].due >= timedelta(days=28)
    assert after["internship_choice"].status is TaskStatus.cancelled
    assert after["job_visit"].status is TaskStatus.upcoming
    assert after["job_visit"].role is Role.jobcoach
    await h.advance_to(after["job_visit"].due - timedelta(days=2))
    assert h.outbox.recipients(MessageKind.task_reminder, "job_visit") == {
        h.region.holder(Role.jobcoach)
    }
