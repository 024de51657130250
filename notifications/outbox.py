"""Outbox rows: keys, the claim that makes sending at-most-once, and recording outcomes.

A message's row key is its business identity (``NotifyRequest.idempotency_key``) plus the
channel, so one request has at most one email row and one SMS row (the second only as failover or
for pages that go out on both). ``claim`` moves a row from ``pending`` to ``sending`` with a
conditional UPDATE, committed before the message can reach anyone (for SMS before the gateway is
called; for email after the SMTP server accepted the recipient, just before DATA); only the
claimer sends.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, bindparam, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from notifications.channels import Receipt
from store.audit import record
from store.directory import Channel, ContactMethod
from store.outbox import OutboxMessage, OutboxStatus

KEY_LIMIT = 200
DIGEST_PROVIDER = "digest"  # marks rows waiting to be bundled into a daily digest
BUNDLED = "bundled:"  # last_error prefix of rows that went out inside a digest
DONE = (OutboxStatus.sent, OutboxStatus.delivered)


def row_key(base: str, channel: Channel) -> str:
    if len(base) + len(channel.value) + 1 > KEY_LIMIT:
        base = "h:" + hashlib.sha256(base.encode()).hexdigest()
    return f"{base}|{channel.value}"


def base_of(key: str) -> str:
    return key.rpartition("|")[0]


OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
# Built once (building a statement costs more than running it on SQLite): whether a request has
# any row yet. Most plannings find none and load no row. One parameter per channel, not an
# expanding list, so the compiled statement is reused as it is.
ANY_ROW = (
    sa_select(OUTBOX.c.id)
    .where(OUTBOX.c.idempotency_key.in_([bindparam(f"key_{c.value}") for c in Channel]))
    .limit(1)
)
ADD_ROW = insert(OUTBOX).returning(OUTBOX.c.id)


def add(session: Session | Connection, row: dict[str, Any]) -> int:
    """Insert a new row (``store.base.new_row(OutboxMessage, ...)``, not yet committed) with one
    prebuilt statement and return its id: building the model and the ORM's unit of work for it
    cost more than the insert itself."""
    return int(session.execute(ADD_ROW, row).scalar_one())


def keys_of(base: str) -> list[str]:
    """The row keys a request can have: one per channel."""
    return [row_key(base, channel) for channel in Channel]


def has_rows(session: Session | Connection, base: str) -> bool:
    keys = {f"key_{c.value}": row_key(base, c) for c in Channel}
    return session.execute(ANY_ROW, keys).first() is not None


def rows_for(session: Session, base: str) -> list[OutboxMessage]:
    keys = keys_of(base)
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.idempotency_key).in_(keys))
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def reference(row_id: int) -> str:
    return f"wv{row_id}"


def row_id_of(ref: str | None) -> int | None:
    if ref and ref.startswith("wv") and ref[2:].isdigit():
        return int(ref[2:])
    return None


def _update(session: Session, row_id: int, where: list[Any], **values: Any) -> bool:
    statement = update(OutboxMessage).where(col(OutboxMessage.id) == row_id)
    for condition in where:
        statement = statement.where(condition)
    result: CursorResult[Any] = session.execute(statement.values(**values))  # type: ignore[assignment]
    session.commit()
    return result.rowcount == 1


# The two steps of every message sent, built once like ANY_ROW (a plain UPDATE of one row, not
# the ORM's, which builds the statement and evaluates it against the session for each row).
CLAIM = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row_id"), OUTBOX.c.status == OutboxStatus.pending)
    .values(status=OutboxStatus.sending, attempts=OUTBOX.c.attempts + 1)
)
MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("row_id"), OUTBOX.c.status == OutboxStatus.sending)
    .values(status=OutboxStatus.sent, last_error=None)
)


def claim(db: Session | Connection, row_id: int) -> bool:
    """Take the row for sending, committed; False when someone else has it or it is no longer
    pending. ``db``: an ORM session or a plain connection."""
    result: CursorResult[Any] = db.execute(CLAIM, {"row_id": row_id})  # type: ignore[assignment]
    db.commit()
    return result.rowcount == 1


def mark_sent(db: Session | Connection, row_id: int, receipt: Receipt, now: datetime) -> None:
    """Record the provider's acceptance of a claimed row, committed."""
    db.execute(
        MARK_SENT,
        {"row_id": row_id, "provider": receipt.provider,
         "provider_message_id": receipt.provider_message_id, "sent_at": now},
    )  # fmt: skip
    db.commit()


def release(
    session: Session,
    row_id: int,
    code: str,
    *,
    status: OutboxStatus = OutboxStatus.pending,
    not_before: datetime | None = None,
    claimed: bool = True,
) -> None:
    """Give a row back after a failure that proved nothing was sent: a claimed row (``sending``),
    or, with ``claimed=False``, a row that failed before its claim (still ``pending``)."""
    held = OutboxStatus.sending if claimed else OutboxStatus.pending
    _update(
        session,
        row_id,
        [col(OutboxMessage.status) == held],
        status=status,
        last_error=code[:500],
        not_before=not_before,
    )


def note_unresolved(session: Session, row_id: int, code: str) -> None:
    """The outcome is unknown: keep the row in ``sending`` and count the check."""
    _update(
        session,
        row_id,
        [col(OutboxMessage.status) == OutboxStatus.sending],
        last_error=code[:500],
        attempts=OutboxMessage.attempts + 1,
    )


def mark_failed(session: Session, row: OutboxMessage, code: str, now: datetime) -> None:
    """Permanently failed: status ``failed`` plus an audit entry the coordinator sees."""
    assert row.id is not None
    _update(session, row.id, [], status=OutboxStatus.failed, last_error=code[:500])
    record(
        session,
        actor_kind="system",
        actor_id=None,
        action="message_failed",
        subject_kind="outbox",
        subject_id=str(row.id),
        detail={
            "code": code,
            "purpose": row.purpose,
            "channel": row.channel.value,
            "trajectory_id": row.trajectory_id,
            "recipient_kind": row.recipient_kind.value,
            "recipient_id": row.recipient_id,
        },
    )
    session.commit()


def mark_suppressed(session: Session, row_id: int, code: str) -> None:
    _update(session, row_id, [], status=OutboxStatus.suppressed, last_error=code[:500])


def sms_opted_out(session: Session, address: str) -> bool:
    """Whether anyone with this number has sent STOP (and not START since)."""
    return (
        session.exec(
            select(ContactMethod.id)
            .where(ContactMethod.channel == Channel.sms)
            .where(ContactMethod.address == address)
            .where(col(ContactMethod.sms_opted_out_at).is_not(None))
        ).first()
        is not None
    )


def disable_address(session: Session, row: OutboxMessage, code: str) -> None:
    """A provider said this address will never work: stop using it until someone fixes it."""
    methods = session.exec(
        select(ContactMethod)
        .where(ContactMethod.person_kind == row.recipient_kind)
        .where(ContactMethod.person_id == row.recipient_id)
        .where(ContactMethod.channel == row.channel)
        .where(ContactMethod.address == row.address)
    ).all()
    for method in methods:
        method.disabled_reason = code[:200]
        session.add(method)
    session.commit()


SMS_SENT_SINCE = (
    sa_select(OUTBOX.c.sent_at)
    .where(
        OUTBOX.c.channel == Channel.sms,
        OUTBOX.c.address == bindparam("address"),
        OUTBOX.c.sent_at >= bindparam("since"),
    )
    .order_by(OUTBOX.c.sent_at)
)


def sms_sent_since(session: Session | Connection, address: str, since: datetime) -> list[datetime]:
    """When SMS to this number went out since ``since`` (for the per-recipient rate limit)."""
    moments: list[datetime | None] = list(
        session.execute(SMS_SENT_SINCE, {"address": address, "since": since}).scalars()
    )
    return [m for m in moments if m is not None]


def failed_messages(
    session: Session, *, since: datetime | None = None, limit: int = 200
) -> list[OutboxMessage]:
    """Messages that failed for good, newest first: what the coordinator's dashboard shows."""
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.failed)
    if since is not None:
        query = query.where(col(OutboxMessage.created_at) >= since)
    return list(session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(limit)).all())


def due_scheduled(session: Session, now: datetime, limit: int = 500) -> list[int]:
    ids = session.exec(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.scheduled)
        .where(func.coalesce(OutboxMessage.provider, "") != DIGEST_PROVIDER)
        .where(col(OutboxMessage.not_before) <= now)
        .order_by(col(OutboxMessage.not_before))
        .limit(limit)
    ).all()
    return [i for i in ids if i is not None]


def unschedule(session: Session, row_id: int) -> bool:
    """A scheduled row whose time has come becomes pending (only one dispatcher wins)."""
    return _update(
        session,
        row_id,
        [col(OutboxMessage.status) == OutboxStatus.scheduled],
        status=OutboxStatus.pending,
    )


def since_hours(now: datetime, hours: int) -> datetime:
    return now - timedelta(hours=hours)
