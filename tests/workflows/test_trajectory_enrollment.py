"""Enrollment is idempotent and refuses bad input with clear problems, losing nothing."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, func, select
from temporalio.service import RPCError

from config.domain import Role, SchoolType
from store.directory import Organisation
from store.trajectories import TaskStatus, Trajectory
from store.youth import Youth
from tests.fakes.temporal_outage import StartsFailAfter
from tests.threads import another_writer, work_sent_to_threads
from tests.workflows.conftest import Harness
from waakvlam import enrollment
from waakvlam.enrollment import EnrollmentError, EnrollmentRequest, EnrollmentResult, enroll
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


def _args(h: Harness, today: date) -> dict[str, Any]:
    return {"database": h.database, "client": h.env.client, "timeline": h.timeline,
            "task_queue": h.task_queue, "today": today}  # fmt: skip


def _counts(h: Harness) -> tuple[int, int]:
    with Session(h.engine) as session:
        youth = session.exec(select(func.count()).select_from(Youth)).one()
        trajectories = session.exec(select(func.count()).select_from(Trajectory)).one()
    return youth, trajectories


async def test_many_enrollments_at_once_enroll_each_once_and_name_the_bad_ones(
    harness_on_either_database: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A school's file at once: every good row enrolled and its trajectory running, a bad row's
    problems in its place, a pupil number twice in the file one youth, and the same file again
    changes nothing. Two rows to a transaction, so the rows of one are written while the starts
    of the one before are under way."""
    h = harness_on_either_database
    today = await h.today()
    monkeypatch.setattr(enrollment, "ROWS_PER_TRANSACTION", 2)
    youth_before, trajectories_before = _counts(h)
    requests = [
        request(h, today, school_ref="F-1"),
        request(h, today, school_ref="F-2", school_id="org_unknown"),
        request(h, today, school_ref="F-3"),
        request(h, today, school_ref="F-1"),  # the same pupil again, later in the file
        request(h, today, school_ref="F-5", birth_date=today + timedelta(days=1)),
        request(h, today, school_ref="F-6"),
    ]
    outcomes = await enrollment.enroll_all(requests=requests, concurrency=2, **_args(h, today))
    assert [type(o).__name__ for o in outcomes] == [
        "EnrollmentResult", "EnrollmentError", "EnrollmentResult", "EnrollmentResult",
        "EnrollmentError", "EnrollmentResult",
    ]  # fmt: skip
    results = [o for o in outcomes if isinstance(o, EnrollmentResult)]
    h.started += [f"trajectory-{r.trajectory_id}" for r in results]
    assert outcomes[1].problems == ["school_id: unknown school 'org_unknown'"]  # type: ignore[union-attr]
    assert outcomes[4].problems == ["birth_date: must be in the past"]  # type: ignore[union-attr]
    assert [r.created for r in results] == [True, True, False, True]
    assert results[0].trajectory_id == results[2].trajectory_id
    assert _counts(h) == (youth_before + 3, trajectories_before + 3)
    for result in results:
        handle = h.env.client.get_workflow_handle(f"trajectory-{result.trajectory_id}")
        summary = await handle.query(TrajectoryWorkflow.summary)
        assert summary.trajectory_id == result.trajectory_id and summary.runs == 1

    again = await enrollment.enroll_all(requests=requests, **_args(h, today))
    assert [o.created for o in again if isinstance(o, EnrollmentResult)] == [False] * 4
    assert [o.trajectory_id for o in again if isinstance(o, EnrollmentResult)] == [
        r.trajectory_id for r in results
    ]
    assert _counts(h) == (youth_before + 3, trajectories_before + 3)


async def test_an_import_cut_short_by_an_outage_completes_when_run_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Temporal stops answering part-way: the error reaches the caller, no start is left
    running behind it, and the rows written stay; the same requests again start exactly the
    trajectories that did not start, and every youth has one trajectory."""
    h = harness
    today = await h.today()
    monkeypatch.setattr(enrollment, "ROWS_PER_TRANSACTION", 3)
    requests = [request(h, today, school_ref=f"O-{n}") for n in range(8)]
    args = _args(h, today)
    failing = StartsFailAfter(h.env.client, good=2)
    with pytest.raises(enrollment.EnrollmentInterrupted, match="after 2 of 8") as stopped:
        await enrollment.enroll_all(requests=requests, concurrency=1, **args | {"client": failing})
    assert isinstance(stopped.value.__cause__, RPCError)
    started = [o for o in stopped.value.outcomes if o is not None]
    assert len(started) == 2 and all(isinstance(o, EnrollmentResult) for o in started)
    assert stopped.value.outcomes[2:] == [None] * 6
    calls_at_failure = failing.calls
    await asyncio.sleep(0.2)
    assert failing.calls == calls_at_failure == 3, "nothing went on starting after the error"
    with Session(h.engine) as session:
        written = session.exec(select(Trajectory).join(Youth)).all()
        refs = set(session.exec(select(Youth.school_ref).where(col(Youth.school_ref).like("O-%"))))
    # The second transaction's rows were written while the first's starts ran; the third's not.
    assert refs == {f"O-{n}" for n in range(6)}, "the rows written stay, and no more"

    outcomes = await enrollment.enroll_all(requests=requests, **args)
    results = [o for o in outcomes if isinstance(o, EnrollmentResult)]
    assert len(results) == 8
    h.started += [f"trajectory-{r.trajectory_id}" for r in results]
    assert [r.created for r in results] == [False] * 6 + [True] * 2, "the rows written are found"
    for result in results:
        handle = h.env.client.get_workflow_handle(f"trajectory-{result.trajectory_id}")
        assert (await handle.query(TrajectoryWorkflow.summary)).runs == 1
    with Session(h.engine) as session:
        assert len(session.exec(select(Trajectory).join(Youth)).all()) == len(written) + (
            8 - len(refs)
        )
