"""The daily digest (dagelijks overzicht): one email per person per day with all the non-urgent
messages they chose to receive bundled.

Rows waiting for the digest are ``scheduled`` with provider ``digest`` and ``not_before`` at the
start of the working day they belong to. ``send_daily_digests(for_date)`` bundles, per person, all
such rows due by the end of that day into one digest row keyed ``digest:<kind>:<id>:<date>``
(so a rerun finds it instead of sending again), marks the bundled rows ``suppressed`` with
``bundled:<digest id>``, and delivers the digest through the notifier's at-most-once path.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from notifications import outbox
from notifications.calendar import WorkingHours
from notifications.compose import first_link
from notifications.notifier import Notifier
from notifications.recipients import find_addressee
from notifications.requests import MessageKind, NotifyOutcome, Recipient
from notifications.templates import MessageTemplates, format_date
from store.directory import Channel, PersonKind
from store.outbox import OutboxMessage, OutboxStatus


class DigestReport(BaseModel):
    for_date: date
    sent: int = 0
    already_sent: int = 0
    bundled_rows: int = 0
    outbox_ids: list[int] = Field(default_factory=list)


def digest_key(kind: PersonKind, person_id: str, day: date) -> str:
    return outbox.row_key(f"digest:{kind.value}:{person_id}:{day.isoformat()}", Channel.email)


class DigestSender:
    def __init__(self, notifier: Notifier, templates: MessageTemplates) -> None:
        self.notifier = notifier
        self.templates = templates
        self.hours: WorkingHours = notifier.hours

    async def send_daily_digests(self, for_date: date, now: datetime) -> DigestReport:
        report = DigestReport(for_date=for_date)
        digest_ids = await asyncio.to_thread(self._bundle, for_date, report)
        for digest_id in digest_ids:
            result = await self.notifier.deliver(digest_id, now)
            report.outbox_ids.append(digest_id)
            if result.outcome is NotifyOutcome.sent:
                report.sent += 1
            elif result.outcome is NotifyOutcome.already_sent:
                report.already_sent += 1
        return report

    def _bundle(self, for_date: date, report: DigestReport) -> list[int]:
        end = datetime.combine(for_date + timedelta(days=1), time(0), tzinfo=self.hours.zone)
        with Session(self.notifier.engine) as session:
            waiting = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.scheduled)
                .where(OutboxMessage.provider == outbox.DIGEST_PROVIDER)
                .where(col(OutboxMessage.not_before) < end)
                .order_by(col(OutboxMessage.not_before), col(OutboxMessage.id))
            ).all()
            per_person: dict[tuple[PersonKind, str], list[OutboxMessage]] = defaultdict(list)
            for row in waiting:
                per_person[(row.recipient_kind, row.recipient_id)].append(row)
            ids: list[int] = []
            for (kind, person_id), rows in per_person.items():
                key = digest_key(kind, person_id, for_date)
                existing = session.exec(
                    select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
                ).first()
                if existing is not None:
                    continue  # today's digest exists: later items wait for the next one
                digest = self._digest_row(session, key, rows, for_date)
                if digest is None:
                    continue
                session.add(digest)
                session.flush()
                for row in rows:
                    row.status = OutboxStatus.suppressed
                    row.last_error = f"{outbox.BUNDLED}{digest.id}"
                    session.add(row)
                report.bundled_rows += len(rows)
                session.commit()
            # Digests of this date that were bundled but not yet sent (a crash, a retry).
            for key_row in session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.purpose == MessageKind.daily_digest.value)
                .where(
                    col(OutboxMessage.idempotency_key).endswith(f":{for_date.isoformat()}|email")
                )
            ).all():
                if key_row.id is not None:
                    ids.append(key_row.id)
            return ids

    def _digest_row(
        self, session: Session, key: str, rows: list[OutboxMessage], for_date: date
    ) -> OutboxMessage | None:
        first = rows[0]
        addressee = find_addressee(
            session, Recipient(kind=first.recipient_kind, id=first.recipient_id)
        )
        address = addressee.on(Channel.email) if addressee is not None else None
        if addressee is None or address is None:
            return None
        language = addressee.language
        items = [{"subject": r.subject or "", "link": first_link(r.body_text) or ""} for r in rows]
        rendered = self.templates.render(
            MessageKind.daily_digest.value,
            language,
            {
                "first_name": addressee.first_name,
                "region": self.notifier.settings.region_name,
                "day": format_date(for_date, language),
                "items": items,
            },
        )
        return OutboxMessage(
            idempotency_key=key,
            purpose=MessageKind.daily_digest.value,
            recipient_kind=addressee.kind,
            recipient_id=addressee.id,
            channel=Channel.email,
            address=address.address,
            language=language.value,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            status=OutboxStatus.pending,
        )
