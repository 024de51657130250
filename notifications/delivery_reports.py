"""Delivery reports from the SMS gateways, parsed from each provider's shape and applied to the
outbox. A report finds its row by our reference (``wv<id>``) or by the provider's message id.

A report may arrive for a row still in ``sending`` (our process crashed or timed out before it
recorded the provider's answer): it then settles the row, which is exactly what the notifier
waits for instead of resending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, select

from notifications import outbox
from notifications.failover import fail_over
from store.outbox import OutboxMessage, OutboxStatus


class DeliveryState(StrEnum):
    accepted = "accepted"  # on its way (sent to the operator)
    delivered = "delivered"
    failed = "failed"


@dataclass(frozen=True)
class DeliveryReport:
    provider: str
    reference: str | None
    provider_message_id: str | None
    state: DeliveryState
    error_code: str | None = None


_CM_STATES = {
    "0": DeliveryState.accepted,
    "1": DeliveryState.failed,
    "2": DeliveryState.delivered,
    "3": DeliveryState.failed,
}
_TWILIO_STATES = {
    "queued": DeliveryState.accepted,
    "accepted": DeliveryState.accepted,
    "sending": DeliveryState.accepted,
    "sent": DeliveryState.accepted,
    "delivered": DeliveryState.delivered,
    "undelivered": DeliveryState.failed,
    "failed": DeliveryState.failed,
}


def parse_cm(data: Any) -> list[DeliveryReport]:
    """CM's JSON status report ``{"messages": {"msg": {...} | [...]}}`` or the flat GET/POST
    parameters ``REFERENCE``, ``STATUS``, ``STANDARDERRORTEXT``."""
    if isinstance(data, Mapping) and "messages" in data:
        msgs = data["messages"].get("msg", [])
        items = msgs if isinstance(msgs, list) else [msgs]
        reports = []
        for item in items:
            status = item.get("status") or {}
            state = _CM_STATES.get(str(status.get("code")))
            if state is not None:
                error = status.get("errorCode") or None
                reports.append(
                    DeliveryReport("cm", item.get("reference"), item.get("reference"), state,
                                   None if error is None else f"cm_{error}")
                )  # fmt: skip
        return reports
    if isinstance(data, Mapping) and "STATUS" in data:
        state = _CM_STATES.get(str(data["STATUS"]))
        if state is not None:
            ref = data.get("REFERENCE")
            return [DeliveryReport("cm", ref, ref, state, None)]
    return []


def parse_twilio(form: Mapping[str, str], ref: str | None) -> DeliveryReport | None:
    state = _TWILIO_STATES.get(form.get("MessageStatus") or form.get("SmsStatus") or "")
    if state is None:
        return None
    error = form.get("ErrorCode")
    return DeliveryReport(
        "twilio", ref, form.get("MessageSid"), state, f"twilio_{error}" if error else None
    )


@dataclass(frozen=True)
class Applied:
    """What a report changed: the row it is about, and the failover row to deliver now when
    the provider reported a permanent failure after accepting the message."""

    row_id: int
    failover_row_id: int | None = None


def apply_report(session: Session, report: DeliveryReport, now: datetime) -> Applied | None:
    """Update the row the report is about (None when no row matches)."""
    row = _find(session, report)
    if row is None or row.id is None:
        return None
    if report.provider_message_id and not row.provider_message_id:
        row.provider_message_id = report.provider_message_id
    row.provider = row.provider or report.provider
    unknown = row.status is OutboxStatus.failed and row.last_error == "outcome_unknown"
    if row.status is OutboxStatus.sending or (unknown and report.state is not DeliveryState.failed):
        # The report settles a row whose outcome we could not record (a crash or a timeout).
        row.status, row.sent_at, row.last_error = OutboxStatus.sent, now, None
    if report.state is DeliveryState.delivered and row.status is not OutboxStatus.failed:
        row.status, row.delivered_at = OutboxStatus.delivered, now
    session.add(row)
    session.commit()
    if report.state is DeliveryState.failed and row.status is not OutboxStatus.failed:
        code = report.error_code or f"{report.provider}_undelivered"
        # Undeliverable after all: the same failover as a refusal at send time.
        next_row = fail_over(session, row, code, now)
        return Applied(row.id, next_row if isinstance(next_row, int) else None)
    return Applied(row.id)


def _find(session: Session, report: DeliveryReport) -> OutboxMessage | None:
    row_id = outbox.row_id_of(report.reference)
    if row_id is not None:
        row = session.get(OutboxMessage, row_id)
        if row is not None:
            return row
    if report.provider_message_id:
        return session.exec(
            select(OutboxMessage).where(
                OutboxMessage.provider_message_id == report.provider_message_id
            )
        ).first()
    return None
