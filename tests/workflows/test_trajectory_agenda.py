"""The timeline as a plan: due dates, late enrollment, consent questions, phases (pure)."""

from __future__ import annotations

from datetime import date

from config.domain import Phase, SchoolType, TaskKind
from config.settings import DEFAULT_TIMELINE
from config.timeline import load_timeline
from store.trajectories import TaskStatus
from workflows import agenda
from workflows.dates import add_days, birthday
from workflows.trajectory_attributes import Shown, at_start, initial_state
from workflows.trajectory_models import Enrollment, PlannedTask, TrajectoryState

TIMELINE = load_timeline(DEFAULT_TIMELINE)


def enrollment(**kw: object) -> Enrollment:
    values: dict[str, object] = {
        "trajectory_id": "trj_0123456789abcdef",
        "youth_id": "yth_1",
        "school_id": "org_1",
        "school_type": SchoolType.pro,
        "birth_date": date(2009, 3, 15),
        "leave_date": date(2027, 7, 1),
        "enrolled_on": date(2026, 7, 1),
        "timeline": TIMELINE,
    }
    values.update(kw)
    return Enrollment.model_validate(values)


def by_key(e: Enrollment) -> dict[str, PlannedTask]:
    return {t.key: t for t in agenda.initial_tasks(e, TIMELINE)}


def test_tasks_fall_on_their_offsets_from_the_leave_date() -> None:
    tasks = by_key(enrollment())
    assert tasks["future_conversation"].due == date(2026, 7, 1)
    assert tasks["case_meeting"].due == date(2027, 1, 1)
    assert tasks["destination_confirmed"].due == date(2027, 6, 1)
    assert tasks["warm_handover"].due == date(2027, 7, 15)
    assert tasks["checkin_24m"].due == date(2029, 7, 1)
    assert tasks["case_meeting"].reminders == [date(2026, 12, 18), date(2026, 12, 29)]


def test_consent_at_16_is_asked_on_enrollment_and_at_18_on_the_birthday() -> None:
    tasks = by_key(enrollment())  # 17 at enrollment
    consent_16, consent_18 = tasks["consent_16"], tasks["consent_18"]
    assert consent_16.reminders[0] == date(2026, 7, 1)
    assert consent_18.reminders[0] == date(2027, 3, 15)
    assert consent_18.due == date(2027, 4, 12)
    assert tasks["enrollment_consent"].status is TaskStatus.not_applicable


def test_under_16_needs_the_legal_representative_and_asks_at_16_later() -> None:
    tasks = by_key(enrollment(birth_date=date(2011, 1, 10)))
    assert tasks["enrollment_consent"].status is TaskStatus.upcoming
    assert tasks["consent_16"].reminders[0] == date(2027, 1, 10)


def test_late_enrollment_marks_imported_tasks_done_and_the_rest_overdue() -> None:
    late = enrollment(enrolled_on=date(2027, 3, 1), done_before_enrollment=["future_conversation"])
    tasks = by_key(late)
    assert tasks["future_conversation"].status is TaskStatus.done
    for key in ("pupil_profile", "internship_choice", "case_meeting"):
        assert tasks[key].status is TaskStatus.overdue, key
    assert tasks["exit_conversation"].status is TaskStatus.upcoming
    work = agenda.due_work(
        TrajectoryState(enrollment=late, timeline=TIMELINE, tasks=list(tasks.values())),
        date(2027, 3, 1),
    )
    assert {t.key for t in work.overdue} >= {"pupil_profile", "internship_choice", "case_meeting"}


def test_phases_follow_the_calendar() -> None:
    state = TrajectoryState(enrollment=enrollment(), timeline=TIMELINE)
    assert agenda.phase_on(state, date(2026, 9, 1)) is Phase.orientation
    assert agenda.phase_on(state, date(2027, 4, 2)) is Phase.decision
    assert agenda.phase_on(state, date(2027, 7, 5)) is Phase.handover
    assert agenda.phase_on(state, date(2027, 8, 1)) is Phase.aftercare


def test_closing_is_the_end_of_aftercare_or_the_27th_birthday() -> None:
    assert agenda.closing_date(enrollment(), TIMELINE) == date(2029, 7, 15)
    older = enrollment(birth_date=date(2001, 1, 1), enrolled_on=date(2026, 7, 1))
    assert agenda.closing_date(older, TIMELINE) == date(2028, 1, 1)


def test_checkins_come_from_the_aftercare_section() -> None:
    kinds = [t.kind for t in agenda.initial_tasks(enrollment(), TIMELINE)]
    assert kinds.count(TaskKind.checkin) == len(TIMELINE.aftercare.checkin_months)


def test_the_attributes_a_trajectory_starts_with_are_those_of_its_first_state() -> None:
    """Enrollment reads a new trajectory's attributes from the plan's drafts instead of building
    its state: for youth of every age the timeline takes, enrolled early, on time and late
    (with tasks done before enrollment or not, a consent given or not), on days in every phase,
    they are exactly what the first run computes from the state."""
    seen: set[tuple[str, int, tuple[str, ...], bool]] = set()
    for age_days in range(12 * 365 + 40, 27 * 365 - 40, 173):
        for leave_in_days in (-200, -10, 0, 45, 200, 400):
            for done in ([], ["future_conversation", "case_meeting"]):
                enrolled_on = date(2026, 7, 1)
                e = enrollment(
                    birth_date=add_days(enrolled_on, -age_days),
                    leave_date=add_days(enrolled_on, leave_in_days),
                    enrolled_on=enrolled_on,
                    done_before_enrollment=done,
                    legal_representative_consent="given" if age_days % 2 else None,
                )
                if e.leave_date >= birthday(e.birth_date, 27):
                    continue
                state = initial_state(e)
                for today in (enrolled_on, add_days(e.leave_date, -120), e.leave_date,
                              add_days(e.leave_date, 60)):  # fmt: skip
                    if today < enrolled_on:
                        continue
                    phase = agenda.phase_on(state, today)
                    shown = Shown.of(state.model_copy(update={"phase": phase}))
                    pairs = {pair.key.name: pair.value for pair in at_start(e, today)}
                    expected = {
                        "WaakvlamPhase": shown.phase,
                        "WaakvlamOverdueCount": shown.overdue_count,
                        "WaakvlamFlags": shown.flags,
                    }
                    if shown.next_due is not None:
                        expected["WaakvlamNextDue"] = shown.next_due
                    assert pairs == expected, (e, today)
                    seen.add((shown.phase, shown.overdue_count, tuple(shown.flags), bool(done)))
    phases = {phase for phase, *_ in seen}
    assert phases == {"orientation", "decision", "handover", "aftercare"}, phases
    assert any(count > 0 for _, count, _, _ in seen), "late enrollments with overdue tasks"
    assert {flags for _, _, flags, _ in seen} >= {
        ("no_destination",),
        ("no_destination", "consent_pending"),
    }
