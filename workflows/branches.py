"""The branches of a trajectory as pure state transitions: safety net (vangnet), waakvlam,
consent, moving out, timeline migration. The workflow calls these from its handlers and loop."""

from __future__ import annotations

from datetime import date, datetime

from config.domain import CheckinStatus, Role, TaskKind
from config.timeline import Timeline
from store.trajectories import TaskStatus
from store.youth import ConsentKind, ConsentStatus
from workflows.agenda import PENDING, new_task, timeline_tasks
from workflows.dates import add_days, add_months, add_working_days
from workflows.trajectory_models import PlannedTask, TrajectoryState

IN_PERSON_DAYS = 14


def cancel_pending(state: TrajectoryState, reason: str, *, keep: tuple[TaskKind, ...] = ()) -> None:
    for task in state.tasks:
        if task.status in PENDING and task.kind not in keep:
            task.status, task.reason = TaskStatus.cancelled, reason


def finish(
    task: PlannedTask,
    status: TaskStatus,
    actor: str | None,
    at: datetime,
    reason: str | None = None,
) -> None:
    task.status = status
    task.completed_by = actor
    task.completed_at = at
    task.reason = reason


def start_safety_net(state: TrajectoryState, today: date, cause: str) -> list[PlannedTask]:
    """Vangnet: destination cleared; the municipality coordinator and the case director are tasked
    with a new perspective within the configured working days."""
    rules = state.timeline.safety_net
    state.in_safety_net = True
    state.destination = None
    state.destination_organisation_id = None
    state.safety_net_rounds += 1
    due = add_working_days(today, rules.new_perspective_working_days)
    created = []
    for index, role in enumerate([rules.owner, *rules.also]):
        suffix = "" if index == 0 else f"_{role.value}"
        task = new_task(
            key=f"safety_net_{state.safety_net_rounds}{suffix}",
            rule_id="safety_net",
            kind=TaskKind.safety_net,
            role=role,
            due=due,
            reminder_days=[1],
            escalate_after_days=1,
            first_notice=today,
        )
        task.reason = cause
        created.append(task)
    state.tasks.extend(created)
    return created


def leave_safety_net(state: TrajectoryState, actor: str, at: datetime) -> None:
    state.in_safety_net = False
    for task in state.tasks:
        if task.kind is TaskKind.safety_net and task.status in PENDING:
            finish(task, TaskStatus.done, actor, at, "new_perspective")


def support_task(state: TrajectoryState, today: date) -> PlannedTask:
    care = state.timeline.aftercare
    state.support_rounds += 1
    task = new_task(
        key=f"support_{state.support_rounds}",
        rule_id="support",
        kind=TaskKind.support,
        role=care.support_owner,
        due=add_days(today, care.support_within_days),
        reminder_days=[3],
        escalate_after_days=state.timeline.defaults.escalate_after_days,
        first_notice=today,
    )
    state.tasks.append(task)
    return task


def checkin_outcome(state: TrajectoryState, status: CheckinStatus, today: date) -> None:
    if status is CheckinStatus.at_risk:
        support_task(state, today)
    elif status is CheckinStatus.dropped_out:
        start_safety_net(state, today, "dropped_out")


def next_waakvlam_checkin(state: TrajectoryState, today: date) -> PlannedTask:
    state.waakvlam_rounds += 1
    task = new_task(
        key=f"waakvlam_{state.waakvlam_rounds}",
        rule_id="waakvlam_checkin",
        kind=TaskKind.waakvlam_checkin,
        role=state.timeline.waakvlam.owner,
        due=add_months(today, state.timeline.waakvlam.checkin_interval_months),
        reminder_days=[7],
        escalate_after_days=state.timeline.defaults.escalate_after_days,
    )
    state.tasks.append(task)
    return task


def enter_waakvlam(state: TrajectoryState, today: date) -> None:
    """The youth refuses guidance: only the trusted person's light check-ins remain."""
    state.waakvlam = True
    cancel_pending(state, "waakvlam", keep=(TaskKind.consent,))
    next_waakvlam_checkin(state, today)


def leave_waakvlam(state: TrajectoryState, today: date, actor: str, at: datetime) -> None:
    """Help is asked again: future tasks come back and the case director restarts contact."""
    state.waakvlam = False
    for task in state.tasks:
        if task.kind is TaskKind.waakvlam_checkin and task.status in PENDING:
            finish(task, TaskStatus.cancelled, actor, at, "help_asked")
        elif task.status is TaskStatus.cancelled and task.reason == "waakvlam" and task.due > today:
            task.status, task.reason = TaskStatus.upcoming, None
    state.support_rounds += 1
    state.tasks.append(
        new_task(
            key=f"restart_{state.support_rounds}",
            rule_id="restart_contact",
            kind=TaskKind.support,
            role=Role.case_director,
            due=add_working_days(today, state.timeline.safety_net.new_perspective_working_days),
            reminder_days=[1],
            escalate_after_days=state.timeline.defaults.escalate_after_days,
            first_notice=today,
        )
    )


def move_out(state: TrajectoryState, today: date) -> PlannedTask:
    """Moved out of the region: every task stops; a handover to the other region remains."""
    closing = state.timeline.closing
    state.moved_out = True
    cancel_pending(state, "moved_out")
    task = new_task(
        key="move_handover",
        rule_id="move_handover",
        kind=TaskKind.move_handover,
        role=closing.move_handover_owner,
        due=add_days(today, closing.move_handover_within_days),
        reminder_days=[3],
        escalate_after_days=state.timeline.defaults.escalate_after_days,
        first_notice=today,
    )
    state.tasks.append(task)
    return task


CONSENT_TASKS = {
    ConsentKind.legal_representative: ("enrollment_consent",),
    ConsentKind.data_sharing: ("consent_16", "consent_16_in_person"),
    ConsentKind.parents_involved: ("consent_18", "consent_18_in_person"),
}


def record_consent(
    state: TrajectoryState, kind: ConsentKind, given: bool, actor: str, at: datetime
) -> None:
    status = ConsentStatus.given if given else ConsentStatus.refused
    setattr(state.consents, kind.value, status)
    for key in CONSENT_TASKS[kind]:
        task = state.task(key)
        if task is not None and task.status in PENDING:
            finish(task, TaskStatus.done, actor, at, status.value)


def expire_consent(state: TrajectoryState, task: PlannedTask, today: date) -> PlannedTask:
    """No answer by the deadline: at 18 parents are no longer informed; the case director asks in
    person."""
    task.status, task.reason = TaskStatus.cancelled, "no_answer"
    if task.key == f"consent_{state.timeline.consent.adult_age}":
        if state.consents.parents_involved is None:
            state.consents.parents_involved = ConsentStatus.expired
    if state.consents.data_sharing is None:
        state.consents.data_sharing = ConsentStatus.expired
    follow_up = new_task(
        key=f"{task.key}_in_person",
        rule_id=f"{task.rule_id}_in_person",
        kind=TaskKind.task,
        role=state.timeline.consent.in_person_owner,
        due=add_days(today, IN_PERSON_DAYS),
        reminder_days=[3],
        escalate_after_days=state.timeline.defaults.escalate_after_days,
        first_notice=today,
    )
    state.tasks.append(follow_up)
    return follow_up


def migrate(state: TrajectoryState, timeline: Timeline, today: date) -> None:
    """Move to a new version of the same timeline: pending tasks follow their new rule, removed
    rules are cancelled, new rules are added (not applicable when already past)."""
    planned = {t.key: t for t in timeline_tasks(state.enrollment, timeline)}
    derived = {rule.id for rule in state.timeline.task} | {"aftercare_checkin"}
    for task in state.tasks:
        if task.status not in PENDING or task.rule_id not in derived:
            continue
        fresh = planned.get(task.key)
        if fresh is None:
            task.status, task.reason = TaskStatus.cancelled, "timeline_migration"
            continue
        task.due, task.role, task.escalate_on = fresh.due, fresh.role, fresh.escalate_on
        task.reminders = fresh.reminders
        task.reminders_sent = [r for r in task.reminders_sent if r in fresh.reminders]
    known = {t.key for t in state.tasks}
    for key, fresh in planned.items():
        if key in known:
            continue
        if fresh.due < today:
            fresh.status, fresh.reason = TaskStatus.not_applicable, "introduced_after_due"
        state.tasks.append(fresh)
    state.tasks.sort(key=lambda t: (t.due, t.key))
    state.timeline = timeline
