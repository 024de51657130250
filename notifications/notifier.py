"""The notifier: from a request with ids to at most one message per idempotency key.

``notify`` plans in one transaction (look the person up, check consent, choose the channel,
decide the timing, render, insert the outbox row or find the existing one) and then ``deliver``s:
claim the row (committed), call the provider with our reference, record the outcome. An SMS row is
claimed before the gateway is called; an email row only once the SMTP server has accepted the
recipient, just before DATA (the staged channel calls the claim back), so a crash while
connecting leaves it ``pending`` and a retry sends it safely. A crash between claim and record
leaves the row in ``sending``; it is never resent blindly but resolved by the provider's delivery
report (which carries the reference) or, after a few checks, marked failed with
``outcome_unknown`` for the coordinator. Permanent failures fail over to the other channel.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from config.settings import Settings
from notifications import outbox
from notifications.calendar import WorkingHours, local_date
from notifications.channels import (
    BeforeData,
    EmailChannel,
    OutgoingEmail,
    OutgoingSms,
    PermanentFailure,
    Receipt,
    SmsChannel,
    StagedEmailChannel,
    TemporaryFailure,
    UnknownOutcome,
)
from notifications.compose import Composer
from notifications.failover import fail_over, result_of
from notifications.recipients import consent_block, find_addressee
from notifications.requests import NotifyOutcome, NotifyRequest, NotifyResult
from notifications.timing import SendPolicy, choose_address, decide, is_urgent, wants_digest
from store.base import new_row
from store.db import Database
from store.directory import Channel
from store.outbox import OutboxMessage, OutboxStatus


class RetryLater(Exception):
    """Nothing more can be done now; try again (after ``delay`` seconds if given)."""

    def __init__(self, code: str, delay: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.delay = delay


class Notifier:
    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        composer: Composer,
        email: EmailChannel,
        sms: SmsChannel,
        policy: SendPolicy | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.composer = composer
        self.email = email
        self.sms = sms
        self.policy = policy or SendPolicy()
        self.hours = WorkingHours.of(settings)

    @property
    def engine(self) -> Engine:
        """The main engine (the digest and the dispatcher read with it, in their threads)."""
        return self.database.engine

    # -- planning ---------------------------------------------------------------------------
    async def notify(self, request: NotifyRequest, now: datetime) -> NotifyResult:
        planned = await self.database.run(self._plan, request, now)
        if isinstance(planned, NotifyResult):
            return planned
        if isinstance(planned, OutboxMessage):  # the row just written: no need to read it back
            assert planned.id is not None
            return await self.deliver(planned.id, now, written=planned)
        return await self.deliver(planned, now)

    def _plan(
        self, engine: Engine, request: NotifyRequest, now: datetime
    ) -> NotifyResult | OutboxMessage | int:
        """The result when nothing is to be sent now; else the new row, or the id of an earlier
        attempt's row still to be sent. One transaction on a plain connection: every step is a
        prebuilt statement, and an ORM session around them only added its own cost (a message
        is planned for every reminder of every trajectory). An earlier attempt's rows, rarely
        there, are read as models."""
        base = request.idempotency_key
        with engine.connect() as connection:
            if not outbox.has_rows(connection, base):
                try:
                    return self._new(connection, request, now)
                except IntegrityError:  # a concurrent attempt inserted it first
                    connection.rollback()
        with Session(engine) as session:
            return self._resume(outbox.rows_for(session, base))

    def _resume(self, rows: list[OutboxMessage]) -> NotifyResult | int:
        last = rows[-1]
        if last.status in (OutboxStatus.pending, OutboxStatus.sending) and last.id is not None:
            return last.id
        return result_of(rows)

    def _new(
        self, db: Connection, request: NotifyRequest, now: datetime
    ) -> NotifyResult | OutboxMessage:
        addressee = find_addressee(db, request.recipient)
        if addressee is None:
            return NotifyResult(outcome=NotifyOutcome.suppressed, reason="recipient_unknown")
        blocked = consent_block(db, addressee, local_date(now, self.hours), request)
        if blocked is not None:
            return NotifyResult(outcome=NotifyOutcome.suppressed, reason=blocked)
        urgent = is_urgent(request.kind, request.urgent)
        digest = wants_digest(addressee, request.kind, urgent)
        if request.channel is not None:
            digest = False
            address = addressee.on(request.channel)
        elif digest:
            address = addressee.on(Channel.email)
        else:
            address = choose_address(addressee, urgent)
        if address is None:
            return NotifyResult(outcome=NotifyOutcome.suppressed, reason="no_contact_method")
        timing = decide(
            db, address=address, digest=digest, urgent=urgent, hours=self.hours,
            policy=self.policy, now=now,
        )  # fmt: skip
        rendered = self.composer.compose(db, request, addressee, now)
        is_sms = address.channel is Channel.sms
        row = new_row(
            OutboxMessage,
            idempotency_key=outbox.row_key(request.idempotency_key, address.channel),
            trajectory_id=request.trajectory_id,
            purpose=request.kind.value,
            recipient_kind=addressee.kind,
            recipient_id=addressee.id,
            channel=address.channel,
            address=address.address,
            language=addressee.language.value,
            subject=None if is_sms else rendered.subject,
            body_text=rendered.sms if is_sms else rendered.text,
            body_html=None if is_sms else rendered.html,
            urgent=urgent,
            status=timing.status,
            provider=timing.provider,
            not_before=timing.not_before,
        )
        row_id = outbox.add(db, row)
        db.commit()
        if timing.status is OutboxStatus.scheduled:
            return NotifyResult(
                outcome=NotifyOutcome.scheduled, outbox_ids=[row_id], reason=timing.reason
            )
        # As the row reads back: every column is in ``row`` (new_row fills the defaults).
        return OutboxMessage(**row, id=row_id)

    # -- delivery ---------------------------------------------------------------------------
    async def deliver(
        self,
        row_id: int,
        now: datetime,
        *,
        reschedule_on_temporary: bool = False,
        written: OutboxMessage | None = None,
    ) -> NotifyResult:
        """``written``: the row as this attempt has just written it (so it is not read back)."""
        row = written if written is not None else await self.database.run(self._load, row_id)
        if row.status is not OutboxStatus.pending:
            return await self._taken(row, now)
        claim = _Claim(self, row_id)
        if not self._claims_late(row):  # claimed now, before the provider is called
            try:
                await claim()
            except ClaimTaken:
                return await self._taken(await self.database.run(self._load, row_id), now)
            if row.channel is Channel.sms and await self.database.run(self._opted_out, row.address):
                return await self._failed(row, "sms_opted_out", now, opted_out=True)
        try:
            receipt = await self._send(row, claim)
        except ClaimTaken:  # another attempt claimed it while we were connecting
            return await self._taken(await self.database.run(self._load, row_id), now)
        except TemporaryFailure as failure:
            later: datetime | None = None
            if reschedule_on_temporary:
                later = datetime.fromtimestamp(
                    now.timestamp() + (failure.retry_after or 300), now.tzinfo
                )
            status = OutboxStatus.scheduled if later else OutboxStatus.pending
            await self.database.run(self._release, row_id, failure.code, status, later, claim.held)
            if later:
                return NotifyResult(outcome=NotifyOutcome.scheduled, outbox_ids=[row_id])
            raise RetryLater(failure.code, failure.retry_after) from None
        except UnknownOutcome as unknown:
            if not await claim.hold():
                return await self._taken(await self.database.run(self._load, row_id), now)
            await self.database.run(self._note, row_id, unknown.code)
            raise RetryLater(
                unknown.code, self.policy.unknown_outcome_wait.total_seconds()
            ) from None
        except PermanentFailure as failure:
            if not await claim.hold():  # fail over only a row this attempt owns
                return await self._taken(await self.database.run(self._load, row_id), now)
            return await self._failed(row, failure.code, now)
        await self.database.run(self._mark_sent, row_id, receipt, now)
        return NotifyResult(outcome=NotifyOutcome.sent, outbox_ids=[row_id])

    def _claims_late(self, row: OutboxMessage) -> bool:
        """Email over a staged channel is claimed just before DATA; everything else up front."""
        return row.channel is Channel.email and isinstance(self.email, StagedEmailChannel)

    async def _taken(self, row: OutboxMessage, now: datetime) -> NotifyResult:
        """The row is no longer ours to send: another attempt has it, or it was settled."""
        if row.status is OutboxStatus.sending:
            return await self.database.run(self._unresolved, row, now)
        return result_of([row])

    async def _send(self, row: OutboxMessage, claim: BeforeData) -> Receipt:
        assert row.id is not None
        ref = outbox.reference(row.id)
        if row.channel is Channel.sms:
            callback = f"{self.settings.public_base_url}/webhooks/twilio/status?ref={ref}"
            return await self.sms.send(OutgoingSms(row.address, row.body_text, ref, callback))
        email = OutgoingEmail(
            row.address, row.subject or "Waakvlam", row.body_text,
            row.body_html or f"<p>{escape(row.body_text)}</p>", ref,
        )  # fmt: skip
        if isinstance(self.email, StagedEmailChannel):
            return await self.email.send_staged(email, claim)
        return await self.email.send(email)

    async def _failed(
        self, row: OutboxMessage, code: str, now: datetime, *, opted_out: bool = False
    ) -> NotifyResult:
        follow_up = await self.database.in_thread(
            self._fail_and_fail_over, row, code, now, opted_out
        )
        if isinstance(follow_up, NotifyResult):
            return follow_up
        result = await self.deliver(follow_up, now)
        assert row.id is not None
        return result.model_copy(update={"outbox_ids": [row.id, *result.outbox_ids]})

    # -- database steps (through Database: on the event loop or in a thread) --------------
    def _claim(self, engine: Engine, row_id: int) -> bool:
        with engine.connect() as connection:  # one plain statement: no ORM session needed
            return outbox.claim(connection, row_id)

    def _load(self, engine: Engine, row_id: int) -> OutboxMessage:
        with Session(engine, expire_on_commit=False) as session:
            row = session.get(OutboxMessage, row_id, populate_existing=True)
            assert row is not None
            return row

    def _release(
        self,
        engine: Engine,
        row_id: int,
        code: str,
        status: OutboxStatus,
        not_before: datetime | None,
        claimed: bool,
    ) -> None:
        with Session(engine) as session:
            outbox.release(
                session, row_id, code, status=status, not_before=not_before, claimed=claimed
            )

    def _note(self, engine: Engine, row_id: int, code: str) -> None:
        with Session(engine) as session:
            outbox.note_unresolved(session, row_id, code)

    def _mark_sent(self, engine: Engine, row_id: int, receipt: Receipt, now: datetime) -> None:
        with engine.connect() as connection:
            outbox.mark_sent(connection, row_id, receipt, now)

    def _unresolved(self, engine: Engine, row: OutboxMessage, now: datetime) -> NotifyResult:
        """A row left in ``sending`` (a crash or a timeout after the request went out)."""
        assert row.id is not None
        if row.attempts >= self.policy.unknown_outcome_checks:
            with Session(engine) as session:
                outbox.mark_failed(session, row, "outcome_unknown", now)
            return NotifyResult(
                outcome=NotifyOutcome.failed, outbox_ids=[row.id], reason="outcome_unknown"
            )
        self._note(engine, row.id, "outcome_unknown")
        raise RetryLater("outcome_unknown", self.policy.unknown_outcome_wait.total_seconds())

    def _fail_and_fail_over(
        self, engine: Engine, row: OutboxMessage, code: str, now: datetime, opted_out: bool
    ) -> NotifyResult | int:
        with Session(engine) as session:
            return fail_over(session, row, code, now, opted_out=opted_out)

    def _opted_out(self, engine: Engine, address: str) -> bool:
        with Session(engine) as session:
            return outbox.sms_opted_out(session, address)


class ClaimTaken(Exception):
    """Another attempt claimed the row first: this one must not send."""


class _Claim:
    """Claims one outbox row (``pending`` to ``sending``, committed) when called: by the notifier
    before the provider is called, or by a staged email channel just before DATA. Raises
    ``ClaimTaken`` when another attempt has it; ``held`` tells whether this attempt owns it."""

    def __init__(self, notifier: Notifier, row_id: int) -> None:
        self.notifier = notifier
        self.row_id = row_id
        self.held = False

    async def __call__(self) -> None:
        if not await self.hold():
            raise ClaimTaken(f"outbox_{self.row_id}_taken")

    async def hold(self) -> bool:
        """Claim the row unless this attempt already holds it; False when another has it."""
        if not self.held:
            self.held = await self.notifier.database.run(self.notifier._claim, self.row_id)
        return self.held
