"""The side effects ``EscalationWorkflow`` asks for, all through activities: pages and
acknowledgement messages through the notification layer's ``send_notification``, and the
escalation row and audit trail through :class:`activities.escalation.EscalationActivities`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.escalation import EscalationActivities
    from notifications.requests import (
        MessageKind,
        NotifyOutcome,
        NotifyRequest,
        NotifyResult,
        Recipient,
    )
    from store.directory import Channel, PersonKind
    from workflows.escalation_models import (
        Acknowledge,
        CallForHelp,
        PolicyStep,
        RecordAck,
        RecordCall,
        RecordPage,
        RecordStep,
        ResolveStep,
    )

ACK_LINK_PURPOSE = "page_ack"  # notifications.compose signs the page's link with it
DB_TIMEOUT = timedelta(seconds=30)
SEND_TIMEOUT = timedelta(seconds=30)
# A page must not hold the escalation up: a few quick retries, then on to the wait and next step.
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=4,
)


async def run_db(activity: Callable[..., Any], request: Any) -> Any:
    return await workflow.execute_activity(activity, request, start_to_close_timeout=DB_TIMEOUT)


class Pager:
    """Pages people and tells callers who is coming; remembers whom it told."""

    def __init__(self, escalation_id: str, trajectory_id: str | None) -> None:
        self.esc = escalation_id
        self.trajectory_id = trajectory_id
        self.ack_code = ""
        self.callers: list[CallForHelp] = []
        self.pages = 0
        self.paged: list[str] = []  # everyone paged so far, in order
        self.told: set[tuple[str, str]] = set()

    def facts(self, **extra: str | int) -> dict[str, str | int]:
        first = self.callers[0]
        return {
            "escalation_id": self.esc,
            "ack_code": self.ack_code,
            "ack_link_purpose": ACK_LINK_PURPOSE,
            "category": first.category.value,
            "urgency": first.urgency.value,
            **extra,
        }

    async def people_for(self, step: PolicyStep) -> list[str]:
        people: list[str] = await run_db(
            EscalationActivities.resolve_step,
            ResolveStep(
                escalation_id=self.esc,
                trajectory_id=self.trajectory_id,
                step=step,
                at=workflow.now(),
            ),
        )
        return people

    async def page(self, professional_id: str, round_: int, step: int) -> None:
        paged_at = workflow.now()  # before the send: an ack may arrive while it returns
        to = Recipient(kind=PersonKind.professional, id=professional_id)
        reference, facts = f"{self.esc}:{round_}.{step}", self.facts(round=round_, step=step)
        if workflow.patched(PAGE_ON_BOTH_CHANNELS):
            # SMS and email at once: a gateway outage must not silence the page.
            result = combined(
                [
                    await self.send(MessageKind.oncall_page, to, reference, facts, channel=channel)
                    for channel in (Channel.sms, Channel.email)
                ]
            )
        else:
            result = await self.send(MessageKind.oncall_page, to, reference, facts)
        self.pages += 1
        if professional_id not in self.paged:
            self.paged.append(professional_id)
        await run_db(
            EscalationActivities.record_page,
            RecordPage(
                escalation_id=self.esc,
                professional_id=professional_id,
                round=round_,
                step=step,
                outcome=result.outcome.value,
                outbox_ids=result.outbox_ids,
                reason=result.reason,
                at=paged_at,
            ),
        )

    async def record_step(self, action: str, round_: int, step: int) -> None:
        await run_db(
            EscalationActivities.record_step,
            RecordStep(
                escalation_id=self.esc, action=action, round=round_, step=step, at=workflow.now()
            ),
        )

    async def record_call(self, call: CallForHelp) -> None:
        self.callers.append(call)
        await run_db(
            EscalationActivities.record_call,
            RecordCall(escalation_id=self.esc, call=call, at=workflow.now()),
        )

    async def announce_ack(self, ack: Acknowledge, at: datetime) -> None:
        """Record the acknowledgement; tell the others who were paged that it is taken, and
        every caller who is coming. (The responder got the confirmation on the channel they
        acknowledged with: the SMS reply, the link's page or the dashboard.)"""
        await run_db(
            EscalationActivities.record_ack, RecordAck(escalation_id=self.esc, ack=ack, at=at)
        )
        for other in self.paged:
            if other == ack.professional_id:
                continue
            await self.send(
                MessageKind.page_acknowledged,
                Recipient(kind=PersonKind.professional, id=other),
                f"{self.esc}:ack:paged",
                self.facts(audience="paged", responder_id=ack.professional_id),
            )
        for call in self.callers:
            await self.tell_caller(call, ack.professional_id)

    async def tell_caller(self, call: CallForHelp, responder: str) -> None:
        key = (call.caller_kind.person_kind.value, call.caller_ref or "")
        if call.caller_ref is None or key in self.told:
            return
        self.told.add(key)
        await self.send(
            MessageKind.page_acknowledged,
            Recipient(kind=call.caller_kind.person_kind, id=call.caller_ref),
            f"{self.esc}:ack:caller",
            self.facts(audience="caller", responder_id=responder),
        )

    async def send(
        self,
        kind: MessageKind,
        to: Recipient,
        reference: str,
        facts: dict[str, str | int],
        channel: Channel | None = None,
    ) -> NotifyResult:
        request = NotifyRequest(
            kind=kind,
            recipient=to,
            reference=reference,
            trajectory_id=self.trajectory_id,
            urgent=True,
            facts=facts,
            channel=channel,
        )
        try:
            result: NotifyResult = await workflow.execute_activity(
                "send_notification",
                request,
                result_type=NotifyResult,
                start_to_close_timeout=SEND_TIMEOUT,
                retry_policy=SEND_RETRY,
            )
            return result
        except ActivityError:
            workflow.logger.warning("escalation %s: %s not sent", self.esc, kind.value)
            return NotifyResult(outcome=NotifyOutcome.failed, reason="activity_failed")


PAGE_ON_BOTH_CHANNELS = "page-on-sms-and-email"
_BEST_FIRST = (
    NotifyOutcome.sent,
    NotifyOutcome.already_sent,
    NotifyOutcome.scheduled,
    NotifyOutcome.suppressed,
    NotifyOutcome.failed,
)


def combined(results: list[NotifyResult]) -> NotifyResult:
    """One page on two channels: it reached the person if either channel did."""
    best = min(results, key=lambda r: _BEST_FIRST.index(r.outcome))
    ids = [i for r in results for i in r.outbox_ids]
    reasons = ",".join(r.reason for r in results if r.reason)
    return NotifyResult(outcome=best.outcome, outbox_ids=ids, reason=reasons or None)
