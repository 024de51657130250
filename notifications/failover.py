"""Failover: when a channel fails permanently, the same message goes out on the person's other
channel, as a new outbox row pointing at the failed one (``failover_of``).

The failover copy is derived from what was already rendered, so it needs no request: an SMS gets
the email's subject and its action link; an email gets the SMS text.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlmodel import Session

from notifications import outbox
from notifications.compose import first_link
from notifications.gsm import to_gsm7
from notifications.inbound import set_sms_opt_out
from notifications.recipients import Address, find_addressee
from notifications.requests import SINGLE_CHANNEL, NotifyOutcome, NotifyResult, Recipient
from store.directory import Channel
from store.outbox import OutboxMessage, OutboxStatus

# Provider codes meaning "this number unsubscribed" (Twilio's Advanced Opt-Out): START undoes it.
CARRIER_OPT_OUT = frozenset({"twilio_21610"})


def result_of(rows: list[OutboxMessage]) -> NotifyResult:
    """What a request's rows (oldest first) add up to, for a caller asking again."""
    ids = [r.id for r in rows if r.id is not None]
    last = rows[-1]
    if last.status in outbox.DONE or (last.last_error or "").startswith(outbox.BUNDLED):
        return NotifyResult(outcome=NotifyOutcome.already_sent, outbox_ids=ids)
    if last.status is OutboxStatus.scheduled:
        return NotifyResult(outcome=NotifyOutcome.scheduled, outbox_ids=ids)
    if last.status is OutboxStatus.suppressed:
        return NotifyResult(outcome=NotifyOutcome.suppressed, outbox_ids=ids)
    return NotifyResult(outcome=NotifyOutcome.failed, outbox_ids=ids, reason=last.last_error)


def fail_over(
    session: Session, row: OutboxMessage, code: str, now: datetime, *, opted_out: bool = False
) -> NotifyResult | int:
    """Mark ``row`` failed (audited) and stop using its address, or, when the number has opted
    out of SMS since the row was written, mark it suppressed; then return the id of the pending
    failover row to deliver, or the final result when there is no other channel."""
    assert row.id is not None
    if code in CARRIER_OPT_OUT:  # the number sent STOP to the carrier: like our own STOP
        set_sms_opt_out(session, row.address, opted_out=True, now=now)
        opted_out = True
    if opted_out:
        outbox.mark_suppressed(session, row.id, code)
    else:
        outbox.mark_failed(session, row, code, now)
        outbox.disable_address(session, row, code)
    other = Channel.email if row.channel is Channel.sms else Channel.sms
    base = outbox.base_of(row.idempotency_key)
    if base.rsplit(":", 1)[-1].startswith(SINGLE_CHANNEL):  # its twin goes on the other channel
        return NotifyResult(outcome=NotifyOutcome.failed, outbox_ids=[row.id], reason=code)
    key = outbox.row_key(base, other)
    already = [r for r in outbox.rows_for(session, base) if r.idempotency_key == key]
    if already:
        return result_of(already)
    addressee = find_addressee(session, Recipient(kind=row.recipient_kind, id=row.recipient_id))
    address = addressee.on(other) if addressee is not None else None
    if address is None:
        outcome = NotifyOutcome.suppressed if opted_out else NotifyOutcome.failed
        return NotifyResult(outcome=outcome, outbox_ids=[row.id], reason=code)
    copy = failover_copy(row, key, address)
    session.add(copy)
    session.commit()
    assert copy.id is not None
    return copy.id


def failover_copy(row: OutboxMessage, key: str, address: Address) -> OutboxMessage:
    link = first_link(row.body_text)
    subject: str | None
    html: str | None
    if address.channel is Channel.sms:
        subject, html = None, None
        text = to_gsm7(" ".join(part for part in ("Waakvlam:", row.subject, link) if part))
    else:
        subject, text = "Waakvlam", row.body_text
        html = f"<p>{escape(row.body_text)}</p>"
    return OutboxMessage(
        idempotency_key=key,
        trajectory_id=row.trajectory_id,
        purpose=row.purpose,
        recipient_kind=row.recipient_kind,
        recipient_id=row.recipient_id,
        channel=address.channel,
        address=address.address,
        language=row.language,
        subject=subject,
        body_text=text,
        body_html=html,
        urgent=row.urgent,
        status=OutboxStatus.pending,
        failover_of=row.id,
    )
