"""``TrajectoryWorkflow``: one durable workflow per youth, enrollment to closing.

The timeline lives in :mod:`workflows.agenda` and the branches in :mod:`workflows.branches`; this
module is the loop that wakes when something is due or a person acts, sends the messages through
activities, and projects the state into the read model.

Updates (humans act; each has a validator, a second click answers ``already_done``):
    complete_task, declare_not_applicable, reassign_task, record_checkin, choose_destination,
    record_consent, report_dropout, refuse_guidance, ask_help_again, reassign_case_director,
    move_out
Signals: migrate_timeline (move a running trajectory to a newer version of its timeline)
Queries: summary, timeline, consents
"""

from datetime import date

from temporalio import workflow
from temporalio.exceptions import ApplicationError

# Passed through, as a sandboxed run needs (tests/workflows/test_determinism.py runs one); the
# worker runs this workflow outside the sandbox (see the class).
with workflow.unsafe.imports_passed_through():
    import workflows.agenda as agenda
    import workflows.branches as branches
    import workflows.trajectory_attributes as attributes
    import workflows.trajectory_releases as releases
    from config.domain import Phase, TaskKind
    from store.trajectories import TaskStatus
    from store.youth import ConsentKind, ConsentStatus
    from workflows.dates import add_days, age_on, local_date, wake_moment
    from workflows.trajectory_effects import Effects
    from workflows.trajectory_models import (
        ActionResult,
        ActionStatus,
        Actor,
        ChooseDestination,
        CompleteTask,
        Consents,
        DeclareNotApplicable,
        MigrateTimeline,
        PlannedTask,
        ReassignCaseDirector,
        ReassignTask,
        RecordCheckin,
        RecordConsent,
        ReportDropout,
        TimelineEntry,
        TrajectoryInput,
        TrajectoryOutcome,
        TrajectorySummary,
    )

WAKE_HOUR = 9  # local time at which a day's reminders go out


def _reject(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


# Not in the SDK's sandbox. The sandbox imports this module afresh for every run it creates and
# wraps every activation and payload in its import context: about a third of the worker's Python
# time for each new trajectory (issue 8). And it guards only this module's own lines: the
# planning, branches and effects run in passed-through helper modules, where it catches nothing
# (a ``datetime.now()`` there goes through unseen). Determinism is guarded instead for every
# workflow module at once by tests/workflows/test_determinism.py (no clock, randomness, I/O or
# threads; ``workflow.now()`` only), and by replaying the committed histories of every release.
@workflow.defn(sandboxed=False)
class TrajectoryWorkflow:
    @workflow.init
    def __init__(self, start: TrajectoryInput) -> None:
        if start.carried is not None:
            self.state = start.carried
        else:
            self.state = attributes.initial_state(start.enrollment)
        self.max_history = start.max_history_events
        self.release = releases.Release(start.release)
        self.dirty = True
        self.projected_version = -1

    # ---- the loop --------------------------------------------------------------------------

    @workflow.run
    async def run(self, start: TrajectoryInput) -> TrajectoryOutcome:
        effects = Effects(self.state, self.release)
        while True:
            self.dirty = False
            await self._process_due(effects)
            await effects.settle_wake()
            if self.state.closed:
                return TrajectoryOutcome(
                    trajectory_id=self.state.enrollment.trajectory_id,
                    closed_reason=self.state.closed_reason or "closed",
                    runs=self.state.runs,
                )
            if self._history_is_long() and workflow.all_handlers_finished():
                self.state.runs += 1
                workflow.continue_as_new(
                    TrajectoryInput(
                        enrollment=self.state.enrollment,
                        carried=self.state,
                        max_history_events=self.max_history,
                        release=releases.CURRENT,  # a new run: the current code's own branches
                    )
                )
            await self._sleep_until_next()

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self.max_history
        )

    async def _sleep_until_next(self) -> None:
        now = workflow.now()
        target_day = agenda.next_wake(self.state)
        if target_day is None:
            target_day = add_days(local_date(now), 1)
        target = wake_moment(target_day, WAKE_HOUR)
        if target <= now:
            target = wake_moment(add_days(local_date(now), 1), WAKE_HOUR)
        try:
            await workflow.wait_condition(lambda: self.dirty, timeout=target - now)
        except TimeoutError:
            pass

    def _today(self) -> date:
        return local_date(workflow.now())

    async def _process_due(self, effects: Effects) -> None:
        state, today = self.state, self._today()
        work = agenda.due_work(state, today)
        if work.close_reason is not None:
            branches.cancel_pending(state, work.close_reason)
            state.closed, state.closed_reason = True, work.close_reason
            self._touch()
        if state.moved_out and all(t.is_finished for t in state.tasks):
            state.closed, state.closed_reason = True, "moved_out"
            self._touch()
        if state.closed:
            state.phase = Phase.closed
            return
        if work.destination_missed:
            branches.start_safety_net(state, today, "no_destination")
            self._touch()
            work = agenda.due_work(state, today)
        for task in work.consents_expired:
            branches.expire_consent(state, task, today)
            self._touch()
        if work.consents_expired:
            work = agenda.due_work(state, today)
        # Updates may run while a message is being sent: skip what they finished meanwhile.
        for task in work.overdue:
            if task.is_finished:
                continue
            task.status, task.overdue_notified = TaskStatus.overdue, True
            task.reminders_sent = sorted(set(task.reminders_sent) | set(task.reminders))
            await effects.remind(task, stage="overdue")
            self._touch()
        for task in work.reminders:
            if task.is_finished:
                continue
            if task.status is TaskStatus.upcoming:
                task.status = TaskStatus.open
            passed = [r for r in task.reminders if r <= today]
            task.reminders_sent = sorted(set(task.reminders_sent) | set(passed))
            await effects.remind(task, stage=max(passed).isoformat())
            self._touch()
        for task in work.escalations:
            if task.is_finished:
                continue
            task.escalated = True
            await effects.escalate(task)
            self._touch()
        phase = agenda.phase_on(state, today)
        if phase is not state.phase:
            state.phase = phase
            self._touch()

    def _touch(self) -> None:
        self.state.version += 1
        self.dirty = True

    # ---- helpers for handlers --------------------------------------------------------------

    def _pending_task(self, key: str) -> PlannedTask | None:
        """The task if it is still to be done; None if already finished; rejects unknown keys."""
        task = self.state.task(key)
        if task is None:
            raise _reject(f"unknown task {key!r}", "UnknownTask")
        return None if task.is_finished else task

    def _require_open(self) -> None:
        if self.state.closed or self.state.moved_out:
            raise _reject("the trajectory is closed", "TrajectoryClosed")

    def _result(self, status: ActionStatus, key: str | None = None) -> ActionResult:
        return ActionResult(status=status, task_key=key, phase=self.state.phase)

    def _done(self, key: str | None = None) -> ActionResult:
        self.state.last_contact_at = workflow.now()
        self.state.phase = agenda.phase_on(self.state, self._today())
        self._touch()
        return self._result(ActionStatus.done, key)

    # ---- updates: tasks ----------------------------------------------------------------------

    @workflow.update
    def complete_task(self, action: CompleteTask) -> ActionResult:
        task = self._pending_task(action.task_key)
        if task is None:
            return self._result(ActionStatus.already_done, action.task_key)
        if task.kind in (TaskKind.checkin, TaskKind.waakvlam_checkin):
            branches.finish(
                task, TaskStatus.done, action.actor_id, workflow.now(), "at_destination"
            )
        else:
            branches.finish(task, TaskStatus.done, action.actor_id, workflow.now())
        return self._done(task.key)

    @complete_task.validator
    def _validate_complete(self, action: CompleteTask) -> None:
        task = self.state.task(action.task_key)
        if task is None:
            raise _reject(f"unknown task {action.task_key!r}", "UnknownTask")
        if task.is_finished:
            return
        self._require_open_unless_handover(task)
        if task.kind is TaskKind.destination:
            raise _reject("choose the destination to complete this task", "UseChooseDestination")
        if task.kind is TaskKind.consent:
            raise _reject("record the consent to complete this task", "UseRecordConsent")

    def _require_open_unless_handover(self, task: PlannedTask) -> None:
        if task.kind is not TaskKind.move_handover:
            self._require_open()

    @workflow.update
    def declare_not_applicable(self, action: DeclareNotApplicable) -> ActionResult:
        task = self._pending_task(action.task_key)
        if task is None:
            return self._result(ActionStatus.already_done, action.task_key)
        branches.finish(
            task, TaskStatus.not_applicable, action.actor_id, workflow.now(), action.reason.value
        )
        self._touch()
        return self._result(ActionStatus.done, task.key)

    @declare_not_applicable.validator
    def _validate_not_applicable(self, action: DeclareNotApplicable) -> None:
        self._require_open()
        task = self.state.task(action.task_key)
        if task is None:
            raise _reject(f"unknown task {action.task_key!r}", "UnknownTask")
        if task.kind in (TaskKind.consent, TaskKind.destination) and not task.is_finished:
            raise _reject(
                f"a {task.kind.value} task cannot be declared not applicable", "NotAllowed"
            )

    @workflow.update
    def reassign_task(self, action: ReassignTask) -> ActionResult:
        task = self._pending_task(action.task_key)
        if task is None:
            return self._result(ActionStatus.already_done, action.task_key)
        if task.assigned_to == action.professional_id:
            return self._result(ActionStatus.already_done, task.key)
        task.assigned_to = action.professional_id
        self._touch()
        return self._result(ActionStatus.done, task.key)

    @reassign_task.validator
    def _validate_reassign(self, action: ReassignTask) -> None:
        self._require_open()
        if self._pending_task(action.task_key) is None:
            raise _reject("the task is already finished", "TaskFinished")

    @workflow.update
    def record_checkin(self, action: RecordCheckin) -> ActionResult:
        task = self._pending_task(action.task_key)
        if task is None:
            return self._result(ActionStatus.already_done, action.task_key)
        branches.finish(task, TaskStatus.done, action.actor_id, workflow.now(), action.status.value)
        branches.checkin_outcome(self.state, action.status, self._today())
        return self._done(task.key)

    @record_checkin.validator
    def _validate_checkin(self, action: RecordCheckin) -> None:
        self._require_open()
        task = self.state.task(action.task_key)
        if task is None:
            raise _reject(f"unknown task {action.task_key!r}", "UnknownTask")
        if task.kind not in (TaskKind.checkin, TaskKind.waakvlam_checkin):
            raise _reject("this task is not a check-in", "NotACheckin")

    # ---- updates: the trajectory's course ------------------------------------------------

    @workflow.update
    def choose_destination(self, action: ChooseDestination) -> ActionResult:
        state = self.state
        if (state.destination, state.next_contact_id) == (
            action.destination,
            action.next_contact_id,
        ):
            return self._result(ActionStatus.already_done)
        state.destination = action.destination
        state.next_contact_id = action.next_contact_id
        state.destination_organisation_id = action.organisation_id
        for task in state.tasks:
            if task.kind is TaskKind.destination and task.status in agenda.PENDING:
                branches.finish(task, TaskStatus.done, action.actor_id, workflow.now())
        if state.in_safety_net:
            branches.leave_safety_net(state, action.actor_id, workflow.now())
        return self._done()

    @choose_destination.validator
    def _validate_destination(self, action: ChooseDestination) -> None:
        self._require_open()
        state = self.state
        if state.waakvlam:
            raise _reject(
                "the youth refuses guidance: record that help is asked first", "InWaakvlam"
            )
        same = (state.destination, state.next_contact_id) == (
            action.destination,
            action.next_contact_id,
        )
        if state.destination is not None and not same and not action.replace:
            raise _reject(
                "a destination was already chosen; pass replace=true to change it",
                "DestinationAlreadyChosen",
            )

    @workflow.update
    def record_consent(self, action: RecordConsent) -> ActionResult:
        wanted = ConsentStatus.given if action.given else ConsentStatus.refused
        if self.state.consents.get(action.kind) is wanted:
            return self._result(ActionStatus.already_done)
        branches.record_consent(
            self.state, action.kind, action.given, action.actor_id, workflow.now()
        )
        return self._done()

    @record_consent.validator
    def _validate_consent(self, action: RecordConsent) -> None:
        self._require_open()
        rules = self.state.timeline.consent
        age = age_on(self.state.enrollment.birth_date, self._today())
        if action.kind is ConsentKind.data_sharing and age < rules.own_consent_age:
            raise _reject(
                f"under {rules.own_consent_age} the legal representative consents", "TooYoung"
            )
        if action.kind is ConsentKind.parents_involved and age < rules.adult_age:
            raise _reject(f"parents are involved by law until {rules.adult_age}", "TooYoung")
        if action.kind is ConsentKind.legal_representative and age >= rules.own_consent_age:
            raise _reject(f"from {rules.own_consent_age} the youth consents", "TooOld")

    @workflow.update
    def report_dropout(self, action: ReportDropout) -> ActionResult:
        if self.state.in_safety_net:
            return self._result(ActionStatus.already_done)
        branches.start_safety_net(self.state, self._today(), action.reason.value)
        return self._done()

    @report_dropout.validator
    def _validate_dropout(self, action: ReportDropout) -> None:
        self._require_open()

    @workflow.update
    def refuse_guidance(self, action: Actor) -> ActionResult:
        if self.state.waakvlam:
            return self._result(ActionStatus.already_done)
        branches.enter_waakvlam(self.state, self._today())
        return self._done()

    @refuse_guidance.validator
    def _validate_refuse(self, action: Actor) -> None:
        self._require_open()

    @workflow.update
    def ask_help_again(self, action: Actor) -> ActionResult:
        if not self.state.waakvlam:
            return self._result(ActionStatus.already_done)
        branches.leave_waakvlam(self.state, self._today(), action.actor_id, workflow.now())
        return self._done()

    @ask_help_again.validator
    def _validate_help(self, action: Actor) -> None:
        self._require_open()

    @workflow.update
    def reassign_case_director(self, action: ReassignCaseDirector) -> ActionResult:
        if self.state.case_director_id == action.professional_id:
            return self._result(ActionStatus.already_done)
        self.state.case_director_id = action.professional_id
        self._touch()
        return self._result(ActionStatus.done)

    @reassign_case_director.validator
    def _validate_case_director(self, action: ReassignCaseDirector) -> None:
        self._require_open()

    @workflow.update
    def move_out(self, action: Actor) -> ActionResult:
        if self.state.moved_out:
            return self._result(ActionStatus.already_done)
        task = branches.move_out(self.state, self._today())
        self.state.phase = Phase.closed
        self._touch()
        return self._result(ActionStatus.done, task.key)

    @move_out.validator
    def _validate_move(self, action: Actor) -> None:
        if self.state.closed:
            raise _reject("the trajectory is closed", "TrajectoryClosed")

    @workflow.signal
    def migrate_timeline(self, message: MigrateTimeline) -> None:
        current, new = self.state.timeline, message.timeline
        if self.state.closed or new.id != current.id or new.version <= current.version:
            workflow.logger.warning(
                "timeline migration ignored",
                extra={"from_version": current.version, "to_version": new.version},
            )
            return
        branches.migrate(self.state, new, self._today())
        self._touch()

    # ---- queries ------------------------------------------------------------------------------

    @workflow.query
    def summary(self) -> TrajectorySummary:
        state = self.state
        upcoming = agenda.next_due(state)
        return TrajectorySummary(
            trajectory_id=state.enrollment.trajectory_id,
            phase=state.phase,
            destination=state.destination,
            closed=state.closed,
            closed_reason=state.closed_reason,
            timeline_id=state.timeline.id,
            timeline_version=state.timeline.version,
            overdue_count=agenda.overdue_count(state),
            next_due_task=upcoming.key if upcoming else None,
            next_due_date=upcoming.due if upcoming else None,
            consents=state.consents,
            waakvlam=state.waakvlam,
            runs=state.runs,
        )

    @workflow.query
    def timeline(self) -> list[TimelineEntry]:
        return [
            TimelineEntry(
                key=t.key,
                rule_id=t.rule_id,
                kind=t.kind,
                role=t.role,
                due=t.due,
                status=t.status,
                owner_id=t.assigned_to or t.owner_id,
            )
            for t in sorted(self.state.tasks, key=lambda t: (t.due, t.key))
        ]

    @workflow.query
    def consents(self) -> Consents:
        return self.state.consents
