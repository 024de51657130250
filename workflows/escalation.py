"""``EscalationWorkflow``: a call for help (oproep) pages the on-call jobcoach until one answers.

One open escalation per trajectory: the workflow id is derived from the trajectory's opaque id
(:func:`workflow_id_for`) and callers use signal-with-start, so a second call joins the running
escalation instead of starting another. The policy is frozen in the input. Each step resolves
its people when it pages (a rotation hand-off meanwhile reaches the new on-call person), pages
them by SMS and email through ``send_notification`` and waits for an acknowledgement; then the
next step, the repeats, and the coordinator always last before the policy gives up.

Signals: call_for_help (CallForHelp: the first one opens the escalation, later ones join it)
Updates: acknowledge (Acknowledge → AckResult; a second ack answers ``already_acknowledged``
    with no further effect), resolve (Resolve → EscalationView); both validators reject a
    closed escalation or another escalation's id
Queries: view (EscalationView)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.escalation import EscalationActivities
    from store.oncall import EscalationStatus
    from workflows.escalation_effects import Pager, run_db
    from workflows.escalation_models import (
        Acknowledge,
        AckResult,
        AckStatus,
        CallForHelp,
        EscalationInput,
        EscalationResult,
        EscalationView,
        OpenedEscalation,
        OpenEscalation,
        Outcome,
        PolicyStep,
        RecordResolution,
        Resolve,
        StepTarget,
    )

CLOSED = (EscalationStatus.resolved, EscalationStatus.exhausted)


def workflow_id_for(trajectory_id: str | None, escalation_id: str) -> str:
    """``escalation-<trajectory id>`` (one open escalation per trajectory), else per escalation."""
    return f"escalation-{trajectory_id or escalation_id}"


@workflow.defn
class EscalationWorkflow:
    @workflow.init
    def __init__(self, start: EscalationInput) -> None:
        self.start = start
        self.esc = start.escalation_id
        self.pager = Pager(start.escalation_id, start.trajectory_id)
        self.pending: list[CallForHelp] = []
        self.ack: Acknowledge | None = None
        self.ack_at: datetime | None = None
        self.resolution: Resolve | None = None
        self.status = EscalationStatus.open
        self.round = self.step = 0
        self.announced = False  # the responder and callers were told

    @workflow.run
    async def run(self, start: EscalationInput) -> EscalationResult:
        await workflow.wait_condition(lambda: bool(self.pending))
        first = self.pending.pop(0)
        self.pager.callers.append(first)
        opened: OpenedEscalation = await run_db(
            EscalationActivities.open_escalation,
            OpenEscalation(
                escalation_id=self.esc,
                trajectory_id=start.trajectory_id,
                workflow_id=workflow.info().workflow_id,
                policy=start.policy,
                call=first,
                at=workflow.now(),
            ),
        )
        self.pager.ack_code = opened.ack_code
        workflow.logger.info("escalation %s opened", self.esc)
        await self._escalate()
        if self.ack is not None and self.ack_at is not None:
            await self.pager.announce_ack(self.ack, self.ack_at)
            self.announced = True
            if self.resolution is None:
                await self._wait_for_resolution()
        await self._drain_calls()
        resolution = self.resolution
        self.status = EscalationStatus.resolved if resolution else EscalationStatus.exhausted
        await run_db(
            EscalationActivities.record_resolution,
            RecordResolution(
                escalation_id=self.esc,
                status=self.status,
                outcome=resolution.outcome if resolution else None,
                professional_id=resolution.professional_id if resolution else None,
                at=workflow.now(),
            ),
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.logger.info("escalation %s closed: %s", self.esc, self.status.value)
        return EscalationResult(
            escalation_id=self.esc,
            status=self.status,
            outcome=resolution.outcome if resolution else None,
            pages=self.pager.pages,
        )

    # ---- escalating ----------------------------------------------------------------------

    def _stopped(self) -> bool:
        return self.ack is not None or self.resolution is not None

    def _plan(self) -> list[tuple[int, int, PolicyStep]]:
        steps, repeat = self.start.policy.steps, self.start.policy.repeat
        plan = [(r, i, s) for r in range(repeat + 1) for i, s in enumerate(steps)]
        if steps[-1].target is not StepTarget.coordinator:  # never give up unseen
            last = PolicyStep(target=StepTarget.coordinator, wait_minutes=steps[-1].wait_minutes)
            plan.append((repeat, len(steps), last))
        return plan

    async def _escalate(self) -> None:
        for number, (round_, index, step) in enumerate(self._plan()):
            if self._stopped():
                return
            self.round, self.step = round_, index
            if number > 0:
                await self.pager.record_step("escalated", round_, index)
            people = await self.pager.people_for(step)
            if not people:
                await self.pager.record_step("no_one_on_call", round_, index)
                continue
            for professional_id in people:
                if self._stopped():
                    return
                await self.pager.page(professional_id, round_, index)
            await self._wait(timedelta(minutes=step.wait_minutes))
        if not self._stopped():
            self.status = EscalationStatus.exhausted  # no await since the last wait: no race

    async def _wait(self, duration: timedelta) -> None:
        """Wait for an acknowledgement (or a resolution) up to ``duration``; joins meanwhile."""
        deadline = workflow.now() + duration
        while not self._stopped():
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                return
            try:
                await workflow.wait_condition(
                    lambda: self._stopped() or bool(self.pending), timeout=remaining
                )
            except TimeoutError:  # asyncio.TimeoutError: the step's wait is over
                return
            await self._drain_calls()

    async def _wait_for_resolution(self) -> None:
        deadline = workflow.now() + timedelta(days=self.start.max_open_days)
        while self.resolution is None:
            remaining = deadline - workflow.now()
            try:
                if remaining <= timedelta(0):
                    raise TimeoutError
                await workflow.wait_condition(
                    lambda: self.resolution is not None or bool(self.pending), timeout=remaining
                )
            except TimeoutError:
                self.resolution = Resolve(escalation_id=self.esc, outcome=Outcome.expired)
                return
            await self._drain_calls()

    async def _drain_calls(self) -> None:
        while self.pending:
            call = self.pending.pop(0)
            await self.pager.record_call(call)
            if self.ack is not None and self.announced:  # tell a late caller who is coming
                await self.pager.tell_caller(call, self.ack.professional_id)

    # ---- handlers --------------------------------------------------------------------------

    @workflow.signal
    def call_for_help(self, call: CallForHelp) -> None:
        self.pending.append(call)

    @workflow.update
    def acknowledge(self, ack: Acknowledge) -> AckResult:
        if self.ack is not None:
            return AckResult(
                status=AckStatus.already_acknowledged,
                escalation_id=self.esc,
                acknowledged_by=self.ack.professional_id,
            )
        self.ack, self.ack_at = ack, workflow.now()
        self.status = EscalationStatus.acknowledged
        workflow.logger.info("escalation %s acknowledged via %s", self.esc, ack.via.value)
        return AckResult(
            status=AckStatus.acknowledged,
            escalation_id=self.esc,
            acknowledged_by=ack.professional_id,
        )

    @acknowledge.validator
    def _validate_acknowledge(self, ack: Acknowledge) -> None:
        self._require_open(ack.escalation_id)

    @workflow.update
    def resolve(self, resolution: Resolve) -> EscalationView:
        self.resolution = resolution
        return self.view()

    @resolve.validator
    def _validate_resolve(self, resolution: Resolve) -> None:
        self._require_open(resolution.escalation_id)
        if resolution.outcome is Outcome.expired:
            raise ApplicationError("'expired' is set by the workflow", type="InvalidOutcome")

    def _require_open(self, escalation_id: str) -> None:
        if escalation_id != self.esc:
            raise ApplicationError("another escalation", type="EscalationClosed")
        if self.status in CLOSED or self.resolution is not None:
            raise ApplicationError("the escalation is closed", type="EscalationClosed")

    @workflow.query
    def view(self) -> EscalationView:
        return EscalationView(
            escalation_id=self.esc,
            status=EscalationStatus.resolved if self.resolution else self.status,
            ack_code=self.pager.ack_code or None,
            round=self.round,
            step=self.step,
            calls=len(self.pager.callers) + len(self.pending),
            pages=self.pager.pages,
            acknowledged_by=self.ack.professional_id if self.ack else None,
        )
