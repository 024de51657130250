"""The trajectory's agenda: which tasks exist, when they are due, and what is due today.

Pure functions over :class:`TrajectoryState` (no Temporal, no I/O), so the timeline logic is
tested directly and the workflow stays a thin loop around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, TypeVar

from config.domain import Anchor, Phase, Role, TaskKind
from config.timeline import TaskRule, Timeline
from store.trajectories import TaskStatus
from workflows.dates import add_days, add_months, age_on, birthday
from workflows.trajectory_models import Enrollment, PlannedTask, TrajectoryState

PENDING = (TaskStatus.upcoming, TaskStatus.open, TaskStatus.overdue)


def new_task(
    *,
    key: str,
    rule_id: str,
    kind: TaskKind,
    role: Role,
    due: date,
    reminder_days: list[int],
    escalate_after_days: int,
    first_notice: date | None = None,
) -> PlannedTask:
    reminders = {add_days(due, -d) for d in reminder_days}
    if first_notice is not None:
        reminders.add(first_notice)
    return PlannedTask(
        key=key,
        rule_id=rule_id,
        kind=kind,
        role=role,
        due=due,
        reminders=sorted(r for r in reminders if r <= due),
        escalate_on=add_days(due, escalate_after_days),
    )


def rule_due(rule: TaskRule, enrollment: Enrollment) -> date:
    anchor = enrollment.leave_date if rule.anchor is Anchor.leave else enrollment.enrolled_on
    return add_days(add_months(anchor, rule.offset_months), rule.offset_days)


def aftercare_end(enrollment: Enrollment, timeline: Timeline) -> date:
    return add_months(enrollment.leave_date, timeline.aftercare.duration_months)


def closing_date(enrollment: Enrollment, timeline: Timeline) -> date:
    """End of aftercare plus time to answer the last check-in, or the 27th birthday if sooner."""
    end = add_days(aftercare_end(enrollment, timeline), timeline.aftercare.escalate_after_days)
    return min(end, birthday(enrollment.birth_date, timeline.closing.close_at_age))


@dataclass(slots=True)
class Draft:
    """A task of a new plan before it is built: its due date and status without its reminders.
    What a new trajectory shows (its next due date, its overdue tasks, a pending consent) is
    read from these, without the cost of building the tasks (enrollment does that for every
    youth it starts)."""

    key: str
    rule_id: str
    kind: TaskKind
    role: Role
    due: date
    reminder_days: list[int]
    escalate_after_days: int
    first_notice: date | None = None
    status: TaskStatus = TaskStatus.upcoming
    reason: str | None = None

    def task(self, today: date | None = None) -> PlannedTask:
        """The task; an overdue one has had the reminders before ``today``."""
        task = new_task(
            key=self.key,
            rule_id=self.rule_id,
            kind=self.kind,
            role=self.role,
            due=self.due,
            reminder_days=self.reminder_days,
            escalate_after_days=self.escalate_after_days,
            first_notice=self.first_notice,
        )
        task.status, task.reason = self.status, self.reason
        if self.status is TaskStatus.overdue and today is not None:
            task.reminders_sent = [r for r in task.reminders if r < today]
        return task


def timeline_drafts(enrollment: Enrollment, timeline: Timeline) -> list[Draft]:
    """The tasks of the timeline proper and the aftercare check-ins."""
    drafts: list[Draft] = []
    age_at_start = age_on(enrollment.birth_date, enrollment.enrolled_on)
    for rule in timeline.task:
        draft = Draft(
            key=rule.id,
            rule_id=rule.id,
            kind=rule.kind,
            role=rule.owner,
            due=rule_due(rule, enrollment),
            reminder_days=timeline.reminders_for(rule),
            escalate_after_days=timeline.escalation_days_for(rule),
        )
        if rule.applies_below_age is not None and age_at_start >= rule.applies_below_age:
            draft.status, draft.reason = TaskStatus.not_applicable, "age"
        drafts.append(draft)
    care = timeline.aftercare
    for months in care.checkin_months:
        drafts.append(
            Draft(
                key=f"checkin_{months}m",
                rule_id="aftercare_checkin",
                kind=TaskKind.checkin,
                role=care.owner,
                due=add_months(enrollment.leave_date, months),
                reminder_days=care.reminders_days_before,
                escalate_after_days=care.escalate_after_days,
            )
        )
    return drafts


def timeline_tasks(enrollment: Enrollment, timeline: Timeline) -> list[PlannedTask]:
    return [draft.task() for draft in timeline_drafts(enrollment, timeline)]


def consent_drafts(enrollment: Enrollment, timeline: Timeline) -> list[Draft]:
    """The youth's own consent at 16 and the consent about parents at 18, asked on the birthday
    (or at enrollment when already older), with reminders until the answer deadline."""
    rules = timeline.consent
    ends = closing_date(enrollment, timeline)
    age_at_start = age_on(enrollment.birth_date, enrollment.enrolled_on)
    drafts: list[Draft] = []
    for age in (rules.own_consent_age, rules.adult_age):
        if age == rules.own_consent_age and age_at_start >= rules.adult_age:
            continue  # the question at 18 covers data sharing as well
        ask_on = max(birthday(enrollment.birth_date, age), enrollment.enrolled_on)
        if ask_on >= ends:
            continue
        drafts.append(
            Draft(
                key=f"consent_{age}",
                rule_id=f"consent_{age}",
                kind=TaskKind.consent,
                role=Role.youth,
                due=add_days(ask_on, rules.answer_within_days),
                reminder_days=rules.reminders_days_before,
                escalate_after_days=timeline.defaults.escalate_after_days,
                first_notice=ask_on,
            )
        )
    return drafts


def initial_drafts(enrollment: Enrollment, timeline: Timeline) -> list[Draft]:
    """The whole plan at enrollment, in order of due date. Late enrollment: past tasks the
    import marks as done are done; every other past task is overdue at once (never silently
    skipped)."""
    today = enrollment.enrolled_on
    drafts = timeline_drafts(enrollment, timeline) + consent_drafts(enrollment, timeline)
    for draft in drafts:
        if draft.status is not TaskStatus.upcoming or draft.due >= today:
            continue
        if draft.rule_id in enrollment.done_before_enrollment:
            draft.status, draft.reason = TaskStatus.done, "done_before_enrollment"
        else:
            draft.status = TaskStatus.overdue
    return sorted(drafts, key=lambda d: (d.due, d.key))


def initial_tasks(enrollment: Enrollment, timeline: Timeline) -> list[PlannedTask]:
    today = enrollment.enrolled_on
    return [draft.task(today) for draft in initial_drafts(enrollment, timeline)]


def phase_on(state: TrajectoryState, today: date) -> Phase:
    if state.closed or state.moved_out:
        return Phase.closed
    if state.waakvlam:
        return Phase.waakvlam
    if state.in_safety_net:
        return Phase.safety_net
    return phase_by_date(state.enrollment, state.timeline, today)


def phase_by_date(enrollment: Enrollment, timeline: Timeline, today: date) -> Phase:
    """The phase of an open trajectory outside waakvlam and the safety net: by the leave date."""
    phases = timeline.phases
    if today < add_months(enrollment.leave_date, phases.decision_from_months):
        return Phase.orientation
    if today < enrollment.leave_date:
        return Phase.decision
    if today < add_days(enrollment.leave_date, phases.aftercare_from_days):
        return Phase.handover
    return Phase.aftercare


@dataclass
class DueWork:
    """What the workflow must do today."""

    reminders: list[PlannedTask] = field(default_factory=list)
    overdue: list[PlannedTask] = field(default_factory=list)
    escalations: list[PlannedTask] = field(default_factory=list)
    destination_missed: bool = False
    consents_expired: list[PlannedTask] = field(default_factory=list)
    close_reason: str | None = None


def due_work(state: TrajectoryState, today: date) -> DueWork:
    """Everything due on or before ``today``. Missed reminders are bundled into one."""
    work = DueWork()
    for task in state.tasks:
        if task.status not in PENDING:
            continue
        if task.kind is TaskKind.consent and task.due < today:
            work.consents_expired.append(task)
            continue
        unsent = [r for r in task.reminders if r <= today and r not in task.reminders_sent]
        if unsent and task.due >= today:
            work.reminders.append(task)
        if task.due < today and not task.overdue_notified:
            work.overdue.append(task)
        if task.escalate_on <= today and not task.escalated:
            work.escalations.append(task)
        if task.kind is TaskKind.destination and task.due <= today and state.destination is None:
            work.destination_missed = not state.in_safety_net
    if not state.closed and not state.moved_out:
        if today >= birthday(state.enrollment.birth_date, state.timeline.closing.close_at_age):
            work.close_reason = "age_limit"
        elif today >= closing_date(state.enrollment, state.timeline):
            work.close_reason = "aftercare_complete"
    return work


def next_wake(state: TrajectoryState) -> date | None:
    """The next date on which something can become due (None: nothing left to wait for)."""
    candidates: list[date] = []
    for task in state.tasks:
        if task.status not in PENDING:
            continue
        candidates.extend(r for r in task.reminders if r not in task.reminders_sent)
        if not task.overdue_notified:
            candidates.append(add_days(task.due, 1))
        if not task.escalated:
            candidates.append(task.escalate_on)
        if task.kind is TaskKind.destination and state.destination is None:
            candidates.append(task.due)
    if not state.closed and not state.moved_out:
        candidates.append(closing_date(state.enrollment, state.timeline))
    return min(candidates) if candidates else None


class Scheduled(Protocol):
    """What the plan's summaries read of a task: a built one (``PlannedTask``) or a draft."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> TaskKind: ...
    @property
    def due(self) -> date: ...
    @property
    def status(self) -> TaskStatus: ...


S = TypeVar("S", bound=Scheduled)


def first_pending(tasks: Iterable[S]) -> S | None:
    """The pending task due first (by key among those due the same day)."""
    pending = [t for t in tasks if t.status in PENDING]
    return min(pending, key=lambda t: (t.due, t.key)) if pending else None


def overdue_in(tasks: Iterable[Scheduled]) -> int:
    return sum(1 for t in tasks if t.status is TaskStatus.overdue)


def consent_pending(tasks: Iterable[Scheduled]) -> bool:
    return any(t.kind is TaskKind.consent and t.status in PENDING for t in tasks)


def next_due(state: TrajectoryState) -> PlannedTask | None:
    return first_pending(state.tasks)


def overdue_count(state: TrajectoryState) -> int:
    return overdue_in(state.tasks)
