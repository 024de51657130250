"""Enrollment is idempotent and refuses bad input with clear problems, losing nothing."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from config.domain import Role, SchoolType
from store.directory import Organisation
from store.trajectories import TaskStatus, Trajectory
from store.youth import Youth
from tests.threads import another_writer, work_sent_to_threads
from tests.workflows.conftest import Harness
from waakvlam.enrollment import EnrollmentError, EnrollmentRequest, enroll
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import CompleteTask, DeclareNotApplicable, NotApplicableReason


def request(h: Harness, today: date, **changes: object) -> EnrollmentRequest:
    values: dict[str, object] = {
        "school_id": h.region.school_id,
        "school_ref": "P-0042",
        "first_name": "Sanne",
        "last_name": "de Vries",
        "birth_date": today - timedelta(days=17 * 365),
        "leave_date": today + timedelta(days=300),
        "school_type": SchoolType.pro,
        "case_director_id": h.region.holder(Role.case_director),
    }
    values.update(changes)
    return EnrollmentRequest.model_validate(values)


async def test_enrolling_twice_returns_the_existing_trajectory(harness: Harness) -> None:
    h = harness
    today = await h.today()
    args = {
        "database": h.database,
        "client": h.env.client,
        "timeline": h.timeline,
        "task_queue": h.task_queue,
        "today": today,
    }
    first = await enroll(request=request(h, today), **args)  # type: ignore[arg-type]
    second = await enroll(request=request(h, today), **args)  # type: ignore[arg-type]
    assert first.created and not second.created
    assert (first.trajectory_id, first.youth_id) == (second.trajectory_id, second.youth_id)
    with Session(h.engine) as session:
        assert session.exec(select(func.count()).select_from(Trajectory)).one() == 1
    handle = h.env.client.get_workflow_handle(f"trajectory-{first.trajectory_id}")
    h.started.append(handle.id)
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.trajectory_id == first.trajectory_id and summary.runs == 1


async def test_on_a_sqlite_file_enrollment_writes_on_the_event_loop_unless_busy(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks and the two rows are written on the event loop (no thread whose statements
    each wait for the interpreter lock); when another writer holds the file, in a thread that
    waits for it, and nothing is lost."""
    h = harness
    today = await h.today()
    threaded = work_sent_to_threads(monkeypatch)
    args: dict[str, Any] = {
        "database": h.database,
        "client": h.env.client,
        "timeline": h.timeline,
        "task_queue": h.task_queue,
        "today": today,
    }
    first = await enroll(request=request(h, today, school_ref="P-1"), **args)
    h.started.append(f"trajectory-{first.trajectory_id}")
    assert "_prepare" not in threaded
    with another_writer(h.engine):
        pending = asyncio.create_task(enroll(request=request(h, today, school_ref="P-2"), **args))
        await asyncio.sleep(0.3)
        assert not pending.done() and "_prepare" in threaded, "waits in a thread"
    second = await pending
    h.started.append(f"trajectory-{second.trajectory_id}")
    assert first.created and second.created
    with Session(h.engine) as session:
        assert session.exec(select(func.count()).select_from(Trajectory)).one() == 2


async def test_bad_enrollments_list_every_problem_and_write_nothing(harness: Harness) -> None:
    h = harness
    today = await h.today()
    bad = request(
        h,
        today,
        school_id="org_unknown",
        birth_date=today + timedelta(days=2),
        school_type=SchoolType.vso,
        case_director_id="pro_nobody",
        done_before_enrollment=["no_such_task"],
    )
    with pytest.raises(EnrollmentError) as caught:
        await enroll(
            database=h.database,
            client=h.env.client,
            timeline=h.timeline,
            request=bad,
            task_queue=h.task_queue,
            today=today,
        )
    assert caught.value.problems == [
        "school_id: unknown school 'org_unknown'",
        "birth_date: must be in the past",
        "vso_profile: required for a VSO pupil",
        "case_director_id: unknown professional 'pro_nobody'",
        "done_before_enrollment: unknown task 'no_such_task'",
    ]
    too_old = request(h, today, birth_date=today - timedelta(days=28 * 366))
    with pytest.raises(EnrollmentError, match="between 12 and 26"):
        await enroll(
            database=h.database,
            client=h.env.client,
            timeline=h.timeline,
            request=too_old,
            task_queue=h.task_queue,
            today=today,
        )
    not_a_school = request(h, today, school_id=h.region.municipality_id)
    with pytest.raises(EnrollmentError, match="unknown school 'org_gemeente'"):
        await enroll(
            database=h.database, client=h.env.client, timeline=h.timeline,
            request=not_a_school, task_queue=h.task_queue, today=today,
        )  # fmt: skip
    with Session(h.engine) as session:
        school = session.get(Organisation, h.region.school_id)
        assert school is not None
        school.active = False
        session.add(school)
        session.commit()
    with pytest.raises(EnrollmentError, match="school 'org_school' is inactive"):
        await enroll(
            database=h.database, client=h.env.client, timeline=h.timeline,
            request=request(h, today), task_queue=h.task_queue, today=today,
        )  # fmt: skip
    with Session(h.engine) as session:
        assert session.exec(select(func.count()).select_from(Youth)).one() == 0


async def test_a_task_can_be_declared_not_applicable_with_a_reason(harness: Harness) -> None:
    handle = await harness.enroll()
    action = DeclareNotApplicable(
        task_key="internship_choice",
        actor_id="pro_case_director",
        reason=NotApplicableReason.done_elsewhere,
    )
    assert (
        await handle.execute_update(TrajectoryWorkflow.declare_not_applicable, action)
    ).status == "done"
    again = await handle.execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key="internship_choice", actor_id="pro_case_director"),
    )
    assert again.status == "already_done"
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert entries["internship_choice"].status is TaskStatus.not_applicable
