"""The side effects ``TrajectoryWorkflow`` asks for, all through activities: resolving a role to
people, sending a message through the notification layer, projecting the read model.

Since release WAKE_AT_ONCE a wake's messages wait in ``outgoing`` until the wake ends, and go out
with its projection in one local activity (``carry_out_wake``, see activities/wake.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.trajectory import TrajectoryActivities
    from activities.wake import WakeActivities
    from config.domain import Role, TaskKind
    from notifications.requests import MessageKind, NotifyRequest, NotifyResult, Recipient
    from store.directory import PersonKind
    from workflows import agenda
    from workflows import trajectory_attributes as attributes
    from workflows.recipients import known_recipients
    from workflows.trajectory_models import (
        Consents,
        PlannedTask,
        ProjectedTask,
        Projection,
        ResolveRecipient,
        TrajectoryState,
        WakeDone,
        WakeWork,
    )
    from workflows.trajectory_releases import (
        CHANGES_ONLY,
        KNOWN_RECIPIENTS,
        LOCAL_SENDS,
        WAKE_AT_ONCE,
        Release,
    )

MESSAGE_FOR_TASK = {
    TaskKind.task: MessageKind.task_reminder,
    TaskKind.destination: MessageKind.task_reminder,
    TaskKind.handover: MessageKind.handover_request,
    TaskKind.checkin: MessageKind.checkin_request,
    TaskKind.waakvlam_checkin: MessageKind.checkin_request,
    TaskKind.consent: MessageKind.consent_request,
    TaskKind.safety_net: MessageKind.safety_net_alert,
    TaskKind.support: MessageKind.task_reminder,
    TaskKind.move_handover: MessageKind.task_reminder,
}
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
)
SEND_ATTEMPT = timedelta(minutes=2)
SEND_WITHIN = timedelta(days=2)
LOCAL_RETRY_THRESHOLD = timedelta(seconds=1)  # below SEND_RETRY's and WAKE_RETRY's first interval
# A wake's activity fails only when its projection does (the database is away): retried soon.
WAKE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
)
LOCAL_TIMEOUT = timedelta(seconds=30)

# The patch (``workflow.patched``) of issue 8, release LOCAL_SENDS, for the runs started before
# releases were recorded (workflows/trajectory_releases.py); trajectories started before it replay
# as before. One id for both changes: the SDK writes each patch id it meets into the
# TemporalChangeVersion search attribute, one visibility write per id per run.
# - A message goes out as a local activity, in the workflow task that decided it, instead of as
#   an activity with its own task and workflow task round trip on the server (three history
#   events and a workflow task per message). The outbox keeps it once per idempotency key either
#   way: a crash before the task completes runs the send again and the outbox answers
#   ``already_sent``.
# - Only the search attributes whose value changed are written (a visibility write each time);
#   enrollment starts a trajectory with the values its first run computes.
LESS_SERVER_WORK = "trajectory-local-sends-changed-attributes-only"


class Effects:
    def __init__(self, state: TrajectoryState, release: Release) -> None:
        self.state = state
        self.release = release
        self.projected_version = -1
        self.outgoing: list[NotifyRequest] = []
        # Release CHANGES_ONLY: what this run's last projection wrote, to send only what changed.
        self.written: Written | None = None

    async def recipients(self, role: Role, task: PlannedTask | None = None) -> list[Recipient]:
        if task is not None and task.assigned_to:
            return [Recipient(kind=PersonKind.professional, id=task.assigned_to)]
        state = self.state
        request = ResolveRecipient(
            trajectory_id=state.enrollment.trajectory_id,
            role=role,
            youth_id=state.enrollment.youth_id,
            school_id=state.enrollment.school_id,
            case_director_id=state.case_director_id,
            next_contact_id=state.next_contact_id,
        )
        if self.release.takes(KNOWN_RECIPIENTS):
            known = known_recipients(request)
            if known is not None:
                return known
        return await workflow.execute_local_activity_method(
            TrajectoryActivities.resolve_recipients,
            request,
            start_to_close_timeout=LOCAL_TIMEOUT,
        )

    async def send(self, request: NotifyRequest) -> None:
        if self.release.takes(WAKE_AT_ONCE):
            self.outgoing.append(request)  # goes out at the wake's end (settle_wake)
        else:
            await self.send_now(request)

    async def send_now(self, request: NotifyRequest) -> None:
        """One message in a local activity of its own, with its retries."""
        try:
            if self.release.takes(LOCAL_SENDS, LESS_SERVER_WORK):
                await workflow.execute_local_activity(
                    "send_notification",
                    request,
                    result_type=NotifyResult,
                    start_to_close_timeout=SEND_ATTEMPT,
                    schedule_to_close_timeout=SEND_WITHIN,
                    retry_policy=SEND_RETRY,
                    # Every retry waits on a workflow timer, on the server, not in the worker:
                    # an outage of hours holds no workflow task and no local-activity slot.
                    local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                )
            else:
                await workflow.execute_activity(
                    "send_notification",
                    request,
                    result_type=NotifyResult,
                    start_to_close_timeout=SEND_ATTEMPT,
                    schedule_to_close_timeout=SEND_WITHIN,
                    retry_policy=SEND_RETRY,
                )
        except ActivityError:
            # A permanent failure is recorded in the outbox for the coordinator; the trajectory
            # itself goes on.
            workflow.logger.warning("notification failed", extra={"kind": request.kind.value})

    def _request(
        self, kind: MessageKind, who: Recipient, task: PlannedTask, stage: str
    ) -> NotifyRequest:
        return NotifyRequest(
            kind=kind,
            recipient=who,
            reference=f"{task.key}@{stage}",
            trajectory_id=self.state.enrollment.trajectory_id,
            due_date=task.due,
            facts={"task": task.rule_id, "task_key": task.key, "stage": stage},
        )

    async def remind(self, task: PlannedTask, stage: str) -> None:
        """A reminder (or the overdue notice) to whoever owns the task today."""
        owners = await self.recipients(task.role, task)
        task.owner_id = owners[0].id if owners else None
        if task.kind is TaskKind.handover:
            owners += await self.recipients(Role.next_contact)
        kind = MESSAGE_FOR_TASK[task.kind]
        for who in dict.fromkeys(owners):
            await self.send(self._request(kind, who, task, stage))

    async def escalate(self, task: PlannedTask) -> None:
        """Overdue past the grace period: the coordinator is told."""
        for who in await self.recipients(self.state.timeline.defaults.escalate_to):
            await self.send(self._request(MessageKind.overdue_notice, who, task, "escalation"))

    async def settle_wake(self) -> None:
        """The end of a wake: its messages and, if the state changed, its projection."""
        if not self.release.takes(WAKE_AT_ONCE):
            await self.project_if_changed()
            return
        state = self.state
        version = state.version
        shown = attributes.Shown.of(state) if version != self.projected_version else None
        messages, self.outgoing = self.outgoing, []
        if not messages and shown is None:
            return
        whole = self.projection(shown) if shown else None
        projection = whole
        if whole is not None and self.release.takes(CHANGES_ONLY) and self.written is not None:
            projection = self.written.changes(whole)
        done = await self._carry_out(WakeWork(messages=messages, projection=projection))
        if done.reproject and whole is not None:
            # The read model is not where this run left it: the projection goes whole.
            await self._carry_out(WakeWork(projection=whole))
        if whole is not None and self.release.takes(CHANGES_ONLY):
            self.written = Written.of(whole)
        if shown is not None:
            changed = shown.differs_from(workflow.info().typed_search_attributes)
            if changed:
                workflow.upsert_search_attributes(changed)
            # The version projected: an update that ran while the activity did is projected by
            # the wake it starts.
            self.projected_version = version
        for index in done.failed:
            workflow.logger.warning(
                "notification failed", extra={"kind": messages[index].kind.value}
            )
        for index in done.retry:
            await self.send_now(messages[index])

    async def _carry_out(self, work: WakeWork) -> WakeDone:
        return await workflow.execute_local_activity_method(
            WakeActivities.carry_out_wake,
            work,
            start_to_close_timeout=SEND_ATTEMPT,
            retry_policy=WAKE_RETRY,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
        )

    async def project_if_changed(self) -> None:
        """Releases before WAKE_AT_ONCE: the projection in a local activity of its own."""
        state = self.state
        if state.version == self.projected_version:
            return
        shown = attributes.Shown.of(state)
        await workflow.execute_local_activity_method(
            TrajectoryActivities.project_trajectory,
            self.projection(shown),
            start_to_close_timeout=LOCAL_TIMEOUT,
        )
        if self.release.takes(LOCAL_SENDS, LESS_SERVER_WORK):
            changed = shown.differs_from(workflow.info().typed_search_attributes)
            if changed:
                workflow.upsert_search_attributes(changed)
        else:
            workflow.upsert_search_attributes(shown.updates())
        self.projected_version = state.version

    def projection(self, shown: attributes.Shown) -> Projection:
        """The read model of the state; ``shown`` carries the flags and the overdue count the
        search attributes were computed with, so they are counted once."""
        state = self.state
        upcoming = agenda.next_due(state)
        return Projection(
            trajectory_id=state.enrollment.trajectory_id,
            version=state.version,
            phase=state.phase,
            closed=state.closed or state.moved_out,
            closed_reason=state.closed_reason or ("moved_out" if state.moved_out else None),
            destination=state.destination,
            destination_organisation_id=state.destination_organisation_id,
            case_director_id=state.case_director_id,
            next_contact_id=state.next_contact_id,
            timeline_id=state.timeline.id,
            timeline_version=state.timeline.version,
            next_due_task=upcoming.key if upcoming else None,
            next_due_date=upcoming.due if upcoming else None,
            overdue_count=shown.overdue_count,
            last_contact_at=state.last_contact_at,
            no_destination="no_destination" in shown.flags,
            consent_pending="consent_pending" in shown.flags,
            waakvlam=state.waakvlam,
            safety_net=state.in_safety_net,
            # A copy: an update may change the state's consents before this is encoded, or while
            # the wake's activity runs, and Written compares the next projection with this one.
            consents=state.consents.model_copy(),
            tasks=[
                ProjectedTask(
                    key=t.key,
                    rule_id=t.rule_id,
                    kind=t.kind,
                    role=t.role,
                    owner_id=t.assigned_to or t.owner_id,
                    due=t.due,
                    status=t.status,
                    escalated=t.escalated,
                    completed_at=t.completed_at,
                    completed_by=t.completed_by,
                    reason=t.reason,
                )
                for t in state.tasks
            ],
            at=workflow.now(),
        )


class Written:
    """The tasks and consents of the last projection a run wrote (release CHANGES_ONLY)."""

    def __init__(self, version: int, tasks: dict[str, ProjectedTask], consents: Consents) -> None:
        self.version = version
        self.tasks = tasks
        self.consents = consents

    @classmethod
    def of(cls, projection: Projection) -> Written:
        tasks = {task.key: task for task in projection.tasks}
        return cls(projection.version, tasks, projection.consents)

    def changes(self, whole: Projection) -> Projection:
        """``whole`` with only the tasks and consents that differ from these."""
        consents = {
            name: status
            for name, status in whole.consents
            if status is not None and getattr(self.consents, name) != status
        }
        return whole.model_copy(
            update={
                "tasks": [t for t in whole.tasks if self.tasks.get(t.key) != t],
                "consents": Consents(**consents),
                "complete": False,
                "since": self.version,
            }
        )
