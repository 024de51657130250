"""What the web app and the SMS replies do to escalations, through the Temporal client.

A call for help is a signal-with-start on the trajectory's escalation workflow id: the first
call starts the escalation, a call while one is open joins it. Acknowledging and resolving are
updates; a closed escalation answers :attr:`AckStatus` ``closed`` instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from store.base import new_id
from store.oncall import Escalation, EscalationPolicy
from workflows.escalation import EscalationWorkflow, workflow_id_for
from workflows.escalation_models import (
    Acknowledge,
    AckResult,
    AckStatus,
    AckVia,
    CallForHelp,
    EscalationInput,
    EscalationView,
    PolicySnapshot,
    Resolve,
)


class NoPolicy(Exception):
    """No escalation policy is configured (or the one asked for does not exist)."""


@dataclass(frozen=True)
class CallReceipt:
    workflow_id: str
    run_id: str | None


class AckOutcome(StrEnum):
    acknowledged = "acknowledged"
    already_acknowledged = "already_acknowledged"
    closed = "closed"  # resolved, given up, or unknown


@dataclass(frozen=True)
class AckAnswer:
    outcome: AckOutcome
    escalation_id: str | None = None
    acknowledged_by: str | None = None


def policy_snapshot(session: Session, policy_id: str | None = None) -> PolicySnapshot:
    """Freeze a policy (the named one, else the region's oldest) for a new escalation."""
    if policy_id:
        policy = session.get(EscalationPolicy, policy_id)
    else:
        policy = session.exec(
            select(EscalationPolicy).order_by(col(EscalationPolicy.created_at))
        ).first()
    if policy is None or not policy.steps:
        raise NoPolicy(policy_id or "default")
    return PolicySnapshot.of(policy.id, policy.repeat, policy.steps)


async def call_for_help(
    *,
    client: Client,
    engine: Engine,
    task_queue: str,
    trajectory_id: str | None,
    call: CallForHelp,
    policy_id: str | None = None,
) -> CallReceipt:
    """Start an escalation, or join the one open for this trajectory (atomic on the server)."""
    with Session(engine) as session:
        snapshot = policy_snapshot(session, policy_id)
    escalation_id = new_id("esc")
    workflow_id = workflow_id_for(trajectory_id, escalation_id)
    handle = await client.start_workflow(
        EscalationWorkflow.run,
        EscalationInput(escalation_id=escalation_id, trajectory_id=trajectory_id, policy=snapshot),
        id=workflow_id,
        task_queue=task_queue,
        start_signal="call_for_help",
        start_signal_args=[call],
    )
    return CallReceipt(workflow_id=workflow_id, run_id=handle.result_run_id)


def _workflow_of(engine: Engine, escalation_id: str) -> str | None:
    with Session(engine) as session:
        row = session.get(Escalation, escalation_id)
        return row.workflow_id if row else None


async def acknowledge(
    *, client: Client, engine: Engine, escalation_id: str, professional_id: str, via: AckVia
) -> AckAnswer:
    workflow_id = _workflow_of(engine, escalation_id)
    if workflow_id is None:
        return AckAnswer(AckOutcome.closed)
    handle = client.get_workflow_handle(workflow_id)
    try:
        result: AckResult = await handle.execute_update(
            EscalationWorkflow.acknowledge,
            Acknowledge(escalation_id=escalation_id, professional_id=professional_id, via=via),
        )
    except (WorkflowUpdateFailedError, RPCError, ApplicationError):
        return AckAnswer(AckOutcome.closed, escalation_id)
    outcome = (
        AckOutcome.acknowledged
        if result.status is AckStatus.acknowledged
        else AckOutcome.already_acknowledged
    )
    return AckAnswer(outcome, escalation_id, result.acknowledged_by)


async def resolve(
    *, client: Client, engine: Engine, escalation_id: str, resolution: Resolve
) -> EscalationView | None:
    """Close the escalation with an outcome; None when it is already closed."""
    workflow_id = _workflow_of(engine, escalation_id)
    if workflow_id is None:
        return None
    handle = client.get_workflow_handle(workflow_id)
    try:
        view: EscalationView = await handle.execute_update(EscalationWorkflow.resolve, resolution)
    except (WorkflowUpdateFailedError, RPCError):
        return None
    return view
