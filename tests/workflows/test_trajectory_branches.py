"""Each branch the network meets in practice, one test each, on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from config.domain import CheckinStatus, Destination, Phase, Role
from notifications.requests import MessageKind
from store.directory import RoleAssignment
from store.trajectories import TaskRow, TaskStatus, Trajectory, TrajectoryStatus
from store.youth import TrustedPerson, Youth
from tests.workflows.conftest import Harness
from workflows.dates import add_months, birthday
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import (
    Actor,
    ChooseDestination,
    CompleteTask,
    ReassignCaseDirector,
    ReassignTask,
    RecordCheckin,
    ReportDropout,
    TrajectoryOutcome,
)


def statuses(h: Harness) -> dict[str, TaskStatus]:
    with Session(h.engine) as session:
        return {t.key: t.status for t in session.exec(select(TaskRow))}


def trajectory_row(h: Harness) -> Trajectory:
    with Session(h.engine) as session:
        return session.exec(select(Trajectory)).one()


async def choose_work(h: Harness, handle: object, *, replace: bool = False) -> None:
    await handle.execute_update(  # type: ignore[attr-defined]
        TrajectoryWorkflow.choose_destination,
        ChooseDestination(
            actor_id=h.region.holder(Role.case_director),
            destination=Destination.work,
            next_contact_id=h.region.holder(Role.jobcoach),
            replace=replace,
        ),
    )


async def test_late_enrollment_marks_imported_tasks_done_and_the_rest_overdue_at_once(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=4, done_before_enrollment=["future_conversation"])
    # The first run, whatever the hour (advancing to 11:00 today waits for nothing after 11).
    await h.env.sleep(timedelta(hours=1))
    state = statuses(h)
    assert state["future_conversation"] is TaskStatus.done
    for key in ("pupil_profile", "internship_choice", "case_meeting"):
        assert state[key] is TaskStatus.overdue, key
        assert h.outbox.of(MessageKind.task_reminder, key), f"owner of {key} told at once"
        assert h.outbox.recipients(MessageKind.overdue_notice, key) == {
            h.region.holder(Role.network_coordinator)
        }, "far past its grace period: the coordinator hears of it at once"
    assert state["exit_conversation"] is TaskStatus.upcoming
    assert trajectory_row(h).overdue_count == 3
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.overdue_count == 3


async def test_an_overdue_task_escalates_to_the_coordinator_after_the_grace_period(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=12)
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    due = entries["pupil_profile"].due
    await h.advance_to(due + timedelta(days=2))
    assert statuses(h)["pupil_profile"] is TaskStatus.overdue
    assert not h.outbox.of(MessageKind.overdue_notice, "pupil_profile")
    await h.advance_to(due + timedelta(days=8))
    notices = h.outbox.of(MessageKind.overdue_notice, "pupil_profile")
    assert [n.recipient.id for n in notices] == [h.region.holder(Role.network_coordinator)]
    reminders = h.outbox.of(MessageKind.task_reminder, "pupil_profile")
    assert [r.reference for r in reminders] == [
        f"pupil_profile@{(due - timedelta(days=14)).isoformat()}",
        f"pupil_profile@{(due - timedelta(days=3)).isoformat()}",
        "pupil_profile@overdue",
    ]


async def test_a_reassignment_is_honoured_by_the_next_reminder(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=12)
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    due = entries["pupil_profile"].due
    await h.advance_to(due - timedelta(days=10))
    assert h.outbox.recipients(MessageKind.task_reminder, "pupil_profile") == {
        h.region.holder(Role.mentor)
    }
    with Session(h.engine) as session:  # the school appoints a new mentor in the directory
        assignment = session.exec(
            select(RoleAssignment).where(RoleAssignment.role == Role.mentor)
        ).one()
        assignment.professional_id = h.region.spare_id
        session.add(assignment)
        session.commit()
    await h.advance_to(due - timedelta(days=2))
    last = h.outbox.of(MessageKind.task_reminder, "pupil_profile")[-1]
    assert last.recipient.id == h.region.spare_id

    # An explicit re-assignment of one task and of the case director work the same way.
    director = h.region.holder(Role.network_coordinator)
    await handle.execute_update(
        TrajectoryWorkflow.reassign_task,
        ReassignTask(
            task_key="internship_choice",
            actor_id=director,
            professional_id=h.region.holder(Role.jobcoach),
        ),
    )
    await handle.execute_update(
        TrajectoryWorkflow.reassign_case_director,
        ReassignCaseDirector(actor_id=director, professional_id=h.region.spare_id),
    )
    await h.advance_to(entries["case_meeting"].due - timedelta(days=1))
    assert h.outbox.recipients(MessageKind.task_reminder, "internship_choice") == {
        h.region.holder(Role.jobcoach)
    }
    assert h.outbox.recipients(MessageKind.task_reminder, "case_meeting") == {h.region.spare_id}
    assert trajectory_row(h).case_director_id == h.region.spare_id


async def test_no_destination_a_month_before_leaving_starts_the_safety_net(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=2)
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    await h.advance_to(entries["destination_confirmed"].due)
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.phase is Phase.safety_net
    alerts = h.outbox.of(MessageKind.safety_net_alert)
    assert {a.recipient.id for a in alerts} == {
        h.region.holder(Role.municipality_coordinator),
        h.region.holder(Role.case_director),
    }
    row = trajectory_row(h)
    assert row.safety_net and row.no_destination and row.phase is Phase.safety_net
    safety_task = next(
        e for e in await handle.query(TrajectoryWorkflow.timeline) if e.key == "safety_net_1"
    )
    assert 5 <= (safety_task.due - entries["destination_confirmed"].due).days <= 9  # 5 working days

    await choose_work(h, handle)
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.phase is Phase.decision and summary.destination is Destination.work
    await h.advance_to(await h.today() + timedelta(days=1))
    assert statuses(h)["safety_net_1"] is TaskStatus.done
    assert not trajectory_row(h).safety_net


async def test_a_dropout_in_aftercare_goes_to_the_safety_net_and_recovers(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=2)
    await choose_work(h, handle)
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    await h.advance_to(entries["checkin_1m"].due - timedelta(days=1))
    coach = h.region.holder(Role.jobcoach)
    assert h.outbox.recipients(MessageKind.checkin_request, "checkin_1m") == {coach}
    await handle.execute_update(
        TrajectoryWorkflow.record_checkin,
        RecordCheckin(task_key="checkin_1m", actor_id=coach, status=CheckinStatus.dropped_out),
    )
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.phase is Phase.safety_net and summary.destination is None
    await h.advance_to(await h.today() + timedelta(days=1))
    assert h.outbox.recipients(MessageKind.safety_net_alert) == {
        h.region.holder(Role.municipality_coordinator),
        h.region.holder(Role.case_director),
    }
    await choose_work(h, handle)
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.phase is Phase.aftercare and summary.destination is Destination.work

    # A partner may report a dropout at any time; a second report changes nothing.
    first = await handle.execute_update(
        TrajectoryWorkflow.report_dropout,
        ReportDropout(actor_id=coach, reason="contract_ended"),
    )
    again = await handle.execute_update(
        TrajectoryWorkflow.report_dropout,
        ReportDropout(actor_id=coach, reason="contract_ended"),
    )
    assert (first.status, again.status) == ("done", "already_done")
    assert (await handle.query(TrajectoryWorkflow.summary)).phase is Phase.safety_net


async def test_an_at_risk_checkin_creates_a_support_task(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=2)
    await choose_work(h, handle)
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    await h.advance_to(entries["checkin_1m"].due)
    await handle.execute_update(
        TrajectoryWorkflow.record_checkin,
        RecordCheckin(task_key="checkin_1m", actor_id="pro_jobcoach", status=CheckinStatus.at_risk),
    )
    await h.advance_to(await h.today() + timedelta(days=1))
    assert h.outbox.recipients(MessageKind.task_reminder, "support_1") == {
        h.region.holder(Role.case_director)
    }


async def test_waakvlam_keeps_light_contact_and_help_asked_again_restores_the_plan(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(age_years=15, leave_in_months=10)  # consent at 16 comes later
    youth_id = trajectory_row(h).youth_id
    with Session(h.engine) as session:
        session.add(TrustedPerson(id="tp_1", youth_id=youth_id, first_name="Oom", last_name="Jan"))
        session.commit()
    await handle.execute_update(
        TrajectoryWorkflow.refuse_guidance, Actor(actor_id="pro_case_director")
    )
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.phase is Phase.waakvlam and summary.waakvlam
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert entries["case_meeting"].status is TaskStatus.cancelled
    assert entries["waakvlam_1"].due == add_months(await h.today(), 3)

    sent_before = len(h.outbox.sent)
    await h.advance_to(entries["waakvlam_1"].due)
    during = h.outbox.sent[sent_before:]
    assert {(m.kind, m.recipient.id) for m in during} == {(MessageKind.checkin_request, "tp_1")}
    await handle.execute_update(
        TrajectoryWorkflow.complete_task, CompleteTask(task_key="waakvlam_1", actor_id="tp_1")
    )

    await handle.execute_update(
        TrajectoryWorkflow.ask_help_again, Actor(actor_id="pro_case_director")
    )
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert entries["exit_conversation"].status is TaskStatus.upcoming, "future tasks come back"
    assert entries["case_meeting"].status is TaskStatus.upcoming
    assert entries["internship_choice"].status is TaskStatus.cancelled, "past ones stay cancelled"
    assert entries["restart_1"].status is not TaskStatus.cancelled
    assert (await handle.query(TrajectoryWorkflow.summary)).phase is Phase.orientation


async def test_moving_out_closes_the_trajectory_with_a_handover_task(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(leave_in_months=6)
    result = await handle.execute_update(TrajectoryWorkflow.move_out, Actor(actor_id="pro_school"))
    assert result.task_key == "move_handover"
    await h.advance_to(await h.today() + timedelta(days=1))
    row = trajectory_row(h)
    assert row.status is TrajectoryStatus.closed and row.closed_reason == "moved_out"
    assert h.outbox.recipients(MessageKind.task_reminder, "move_handover") == {
        h.region.holder(Role.case_director)
    }
    state = statuses(h)
    assert state["case_meeting"] is TaskStatus.cancelled
    await handle.execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key="move_handover", actor_id="pro_case_director"),
    )
    outcome = TrajectoryOutcome.model_validate(await h.result(handle))
    assert outcome.closed_reason == "moved_out"


async def test_the_trajectory_closes_when_the_youth_turns_27(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(age_years=26, age_extra_days=200, leave_in_months=1)
    today = await h.today()
    birth = trajectory_row(h)
    with Session(h.engine) as session:
        youth = session.get(Youth, birth.youth_id)
        assert youth is not None
        turns_27 = birthday(youth.birth_date, 27)
    assert (turns_27 - today).days < 200
    outcome = TrajectoryOutcome.model_validate(await h.result(handle))
    assert outcome.closed_reason == "age_limit"
    row = trajectory_row(h)
    assert row.status is TrajectoryStatus.closed
    assert row.closed_at is not None and row.closed_at.date() >= turns_27
    assert all(s is not TaskStatus.upcoming for s in statuses(h).values())
