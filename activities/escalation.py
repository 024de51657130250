"""Activities of ``EscalationWorkflow``: the database side of an on-call page.

The workflow carries ids; these activities look people up (who is on call now, who is the
coordinator), keep the ``escalation`` row in step and write the audit trail. Sending goes
through the notification layer's ``send_notification`` activity, never from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from store import escalations
from store.outbox import OutboxMessage
from store.rotations import who_is_on_call
from workflows.escalation_models import (
    OpenedEscalation,
    OpenEscalation,
    RecordAck,
    RecordCall,
    RecordPage,
    RecordResolution,
    RecordStep,
    ResolveStep,
    StepTarget,
)


class EscalationActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="open_escalation")
    def open_escalation(self, request: OpenEscalation) -> OpenedEscalation:
        """Create the escalation row, its first call and the ``created`` audit entry; returns
        the short acknowledgement code (unique among escalations still open)."""
        call = request.call
        with Session(self.engine) as session:
            row = escalations.open_escalation(
                session,
                escalation_id=request.escalation_id,
                trajectory_id=request.trajectory_id,
                workflow_id=request.workflow_id,
                category=call.category.value,
                urgency=call.urgency.value,
                policy_snapshot=request.policy.model_dump(mode="json"),
                caller_kind=call.caller_kind.value,
                caller_ref=call.caller_ref,
                at=request.at,
            )
            code = row.ack_code
            session.commit()
        return OpenedEscalation(ack_code=code)

    @activity.defn(name="record_escalation_call")
    def record_call(self, request: RecordCall) -> None:
        """A second call joined the open escalation."""
        call = request.call
        with Session(self.engine) as session:
            escalations.add_call(
                session,
                request.escalation_id,
                call.caller_kind.value,
                call.caller_ref,
                call.category.value,
                call.urgency.value,
                request.at,
            )
            escalations.audit(
                session,
                request.escalation_id,
                "joined",
                request.at,
                actor_kind=call.caller_kind.value,
                actor_id=call.caller_ref,
                detail={"category": call.category.value, "urgency": call.urgency.value},
            )
            session.commit()

    @activity.defn(name="resolve_escalation_step")
    def resolve_step(self, request: ResolveStep) -> list[str]:
        """The professionals a step pages, at the workflow's ``at``: a rotation's on-call
        people then (so a hand-off during an open escalation reaches the new person), a named
        person if still active, or the coordinator."""
        step = request.step
        with Session(self.engine) as session:
            if step.target is StepTarget.rotation:
                if step.ref is None:
                    return []
                return who_is_on_call(session, rotation_id=step.ref, at=request.at)
            if step.target is StepTarget.person:
                active = escalations.is_active_professional(session, step.ref)
                return [step.ref] if active and step.ref else []
            found = escalations.coordinator_for(session, request.trajectory_id)
            return [found] if found else []

    @activity.defn(name="record_escalation_page")
    def record_page(self, request: RecordPage) -> None:
        """One audit entry per channel the page went out on, with the provider's status."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxMessage).where(col(OutboxMessage.id).in_(request.outbox_ids))
            ).all()
            base = {"round": request.round, "step": request.step, "outcome": request.outcome}
            if request.reason:
                base["reason"] = request.reason
            channels = [
                {
                    "channel": row.channel.value,
                    "status": row.status.value,
                    "provider": row.provider,
                    "outbox_id": row.id,
                }
                for row in sorted(rows, key=lambda r: r.id or 0)
            ]
            for detail in channels or [{}]:
                escalations.audit(
                    session,
                    request.escalation_id,
                    "paged",
                    request.at,
                    actor_kind="workflow",
                    actor_id=request.professional_id,
                    detail={**base, **detail, "professional_id": request.professional_id},
                )
            session.commit()

    @activity.defn(name="record_escalation_step")
    def record_step(self, request: RecordStep) -> None:
        with Session(self.engine) as session:
            escalations.audit(
                session,
                request.escalation_id,
                request.action,
                request.at,
                detail={"round": request.round, "step": request.step},
            )
            session.commit()

    @activity.defn(name="record_escalation_ack")
    def record_ack(self, request: RecordAck) -> None:
        with Session(self.engine) as session:
            escalations.mark_acknowledged(
                session,
                request.escalation_id,
                professional_id=request.ack.professional_id,
                via=request.ack.via.value,
                at=request.at,
            )
            session.commit()

    @activity.defn(name="record_escalation_resolution")
    def record_resolution(self, request: RecordResolution) -> None:
        with Session(self.engine) as session:
            escalations.mark_closed(
                session,
                request.escalation_id,
                status=request.status,
                outcome=request.outcome.value if request.outcome else None,
                professional_id=request.professional_id,
                at=request.at,
            )
            session.commit()

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.open_escalation,
            self.record_call,
            self.resolve_step,
            self.record_page,
            self.record_step,
            self.record_ack,
            self.record_resolution,
        ]
