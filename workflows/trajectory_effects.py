"""The side effects ``TrajectoryWorkflow`` asks for, all through activities: resolving a role to
people, sending a message through the notification layer, projecting the read model."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.trajectory import TrajectoryActivities
    from config.domain import Role, TaskKind
    from notifications.requests import MessageKind, NotifyRequest, NotifyResult, Recipient
    from store.directory import PersonKind
    from workflows import agenda
    from workflows import search_attributes as sa
    from workflows.dates import midday_utc
    from workflows.trajectory_models import (
        PlannedTask,
        ProjectedTask,
        Projection,
        ResolveRecipient,
        TrajectoryState,
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
LOCAL_TIMEOUT = timedelta(seconds=30)


class Effects:
    def __init__(self, state: TrajectoryState) -> None:
        self.state = state
        self.projected_version = -1

    async def recipients(self, role: Role, task: PlannedTask | None = None) -> list[Recipient]:
        if task is not None and task.assigned_to:
            return [Recipient(kind=PersonKind.professional, id=task.assigned_to)]
        state = self.state
        return await workflow.execute_local_activity_method(
            TrajectoryActivities.resolve_recipients,
            ResolveRecipient(
                trajectory_id=state.enrollment.trajectory_id,
                role=role,
                youth_id=state.enrollment.youth_id,
                school_id=state.enrollment.school_id,
                case_director_id=state.case_director_id,
                next_contact_id=state.next_contact_id,
            ),
            start_to_close_timeout=LOCAL_TIMEOUT,
        )

    async def send(self, request: NotifyRequest) -> None:
        try:
            await workflow.execute_activity(
                "send_notification",
                request,
                result_type=NotifyResult,
                start_to_close_timeout=timedelta(minutes=2),
                schedule_to_close_timeout=timedelta(days=2),
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

    async def project_if_changed(self) -> None:
        state = self.state
        if state.version == self.projected_version:
            return
        await workflow.execute_local_activity_method(
            TrajectoryActivities.project_trajectory,
            self.projection(),
            start_to_close_timeout=LOCAL_TIMEOUT,
        )
        upcoming = agenda.next_due(state)
        workflow.upsert_search_attributes(
            [
                sa.PHASE.value_set(state.phase.value),
                sa.OVERDUE_COUNT.value_set(agenda.overdue_count(state)),
                sa.FLAGS.value_set(self.flags()),
                sa.TIMELINE.value_set(f"{state.timeline.id}@{state.timeline.version}"),
                sa.NEXT_DUE.value_unset()
                if upcoming is None
                else sa.NEXT_DUE.value_set(midday_utc(upcoming.due)),
            ]
        )
        self.projected_version = state.version

    def flags(self) -> list[str]:
        state = self.state
        flags = []
        if state.destination is None and not state.closed:
            flags.append("no_destination")
        if any(t.kind is TaskKind.consent and t.status in agenda.PENDING for t in state.tasks):
            flags.append("consent_pending")
        if state.waakvlam:
            flags.append("waakvlam")
        if state.in_safety_net:
            flags.append("safety_net")
        return flags

    def projection(self) -> Projection:
        state = self.state
        upcoming = agenda.next_due(state)
        flags = self.flags()
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
            overdue_count=agenda.overdue_count(state),
            last_contact_at=state.last_contact_at,
            no_destination="no_destination" in flags,
            consent_pending="consent_pending" in flags,
            waakvlam=state.waakvlam,
            safety_net=state.in_safety_net,
            consents=state.consents,
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
