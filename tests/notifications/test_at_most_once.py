"""At most once per idempotency key: retries, concurrent attempts, and a crash between handing
the message to the provider and recording it never send a second message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from activities.notify import NotificationActivities
from notifications import outbox
from notifications.channels import OutgoingSms, Receipt, SmsChannel
from notifications.notifier import RetryLater
from notifications.requests import MessageKind, NotifyOutcome
from notifications.timing import SendPolicy
from store.directory import Channel, PersonKind
from store.outbox import OutboxMessage, OutboxStatus
from tests.notifications.conftest import (
    ANNA_SMS,
    WORKDAY,
    World,
    outbox_rows,
    request,
    web_client,
)

PAGE = request(MessageKind.oncall_page, reference="esc_7:0.0", ack_code="4821")


class CrashAfterHandOver:
    """Hands the SMS to the real gateway, then the worker "dies" before recording it."""

    name = "cm"

    def __init__(self, inner: SmsChannel) -> None:
        self.inner = inner

    async def send(self, sms: OutgoingSms) -> Receipt:
        await self.inner.send(sms)
        raise asyncio.CancelledError


async def test_a_crash_after_hand_over_is_settled_by_the_delivery_report_not_a_resend(
    world: World,
) -> None:
    notifier = world.services.notifier
    real = notifier.sms
    notifier.sms = CrashAfterHandOver(real)
    with pytest.raises(asyncio.CancelledError):
        await notifier.notify(PAGE, WORKDAY)
    notifier.sms = real  # the worker restarts; Temporal retries the activity
    assert outbox_rows(world.engine)[0].status is OutboxStatus.sending

    with pytest.raises(RetryLater, match="outcome_unknown"):
        await notifier.notify(PAGE, WORKDAY)
    [handed_over] = world.gateway.messages
    async with web_client(world) as client:
        response = await world.gateway.report(
            handed_over, "delivered", url=f"{world.settings.public_base_url}/webhooks/cm/status",
            client=client,
        )  # fmt: skip
    assert response.json() == {"matched": 1}

    assert (await notifier.notify(PAGE, WORKDAY)).outcome is NotifyOutcome.already_sent
    assert world.gateway.inbox(ANNA_SMS) == [handed_over.body]
    assert outbox_rows(world.engine)[0].status is OutboxStatus.delivered


class SlowAfterHandOver:
    """Hands the SMS to the real gateway, then waits to be released before answering."""

    name = "cm"

    def __init__(self, inner: SmsChannel) -> None:
        self.inner = inner
        self.handed_over = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, sms: OutgoingSms) -> Receipt:
        receipt = await self.inner.send(sms)
        self.handed_over.set()
        await self.release.wait()
        return receipt


async def test_a_send_activity_cancelled_after_hand_over_still_records_it_sent(
    world: World,
) -> None:
    """A local activity is cancelled when its workflow task times out (an overloaded worker):
    the send it started goes on and records its outcome, so the row is not left ``sending`` to
    end as ``outcome_unknown`` although the message went out."""
    notifier = world.services.notifier
    slow = SlowAfterHandOver(notifier.sms)
    notifier.sms = slow
    sending = NotificationActivities(notifier, world.services.digests, clock=lambda: WORKDAY)
    attempt = asyncio.create_task(sending.send_notification(PAGE))
    await slow.handed_over.wait()
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    slow.release.set()
    for _ in range(100):
        if outbox_rows(world.engine)[0].status is not OutboxStatus.sending:
            break
        await asyncio.sleep(0.02)
    assert outbox_rows(world.engine)[0].status is OutboxStatus.sent

    notifier.sms = slow.inner  # the retry of the activity
    assert (await sending.send_notification(PAGE)).outcome is NotifyOutcome.already_sent
    assert len(world.gateway.messages) == 1


async def test_a_timeout_after_sending_is_never_resent_and_ends_as_outcome_unknown(
    world_factory: Callable[..., World],
) -> None:
    world = world_factory(
        "twilio", http_timeout_seconds=0.2, policy=SendPolicy(unknown_outcome_checks=3)
    )
    world.gateway.hang_next(0.6)
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append((await world.services.notifier.notify(PAGE, WORKDAY)).reason)
        except RetryLater as later:
            outcomes.append(later.code)
    assert outcomes == ["twilio_no_answer", "outcome_unknown", "outcome_unknown", "outcome_unknown"]
    await asyncio.sleep(0.5)  # let the hung request finish at the gateway
    assert len(world.gateway.inbox(ANNA_SMS)) == 1
    [row] = outbox_rows(world.engine)
    assert (row.status, row.last_error) == (OutboxStatus.failed, "outcome_unknown")


async def test_concurrent_attempts_send_one_sms(
    world_factory: Callable[..., World], engine: Engine
) -> None:
    world = world_factory("cm", on=engine)

    async def attempt() -> str:
        try:
            return (await world.services.notifier.notify(PAGE, WORKDAY)).outcome.value
        except RetryLater as later:
            return later.code

    outcomes = await asyncio.gather(*(attempt() for _ in range(6)))
    assert outcomes.count("sent") == 1
    assert len(world.gateway.inbox(ANNA_SMS)) == 1
    assert len(outbox_rows(world.engine)) == 1


def test_only_one_claim_of_a_row_wins(engine: Engine) -> None:
    with Session(engine) as session:
        row = OutboxMessage(
            idempotency_key=outbox.row_key("trj:kind:ref:-:professional:p1", Channel.sms),
            purpose="oncall_page", recipient_kind=PersonKind.professional, recipient_id="p1",
            channel=Channel.sms, address="+31600000000", language="nl", body_text="x",
        )  # fmt: skip
        session.add(row)
        session.commit()
        assert row.id is not None
        row_id = row.id
    with Session(engine) as first, Session(engine) as second:
        assert outbox.claim(first, row_id) is True
        assert outbox.claim(second, row_id) is False


def test_long_business_keys_are_hashed_within_the_column() -> None:
    key = outbox.row_key("x" * 300, Channel.email)
    assert len(key) <= outbox.KEY_LIMIT and key.endswith("|email")
    assert outbox.base_of(key) == outbox.base_of(outbox.row_key("x" * 300, Channel.sms))


async def test_a_late_delivery_report_settles_a_message_given_up_as_unknown(
    world_factory: Callable[..., World],
) -> None:
    world = world_factory(
        "cm", http_timeout_seconds=0.2, policy=SendPolicy(unknown_outcome_checks=1)
    )
    world.gateway.hang_next(0.4)
    with pytest.raises(RetryLater):
        await world.services.notifier.notify(PAGE, WORKDAY)
    assert (await world.services.notifier.notify(PAGE, WORKDAY)).reason == "outcome_unknown"
    await asyncio.sleep(0.3)
    [handed_over] = world.gateway.messages
    async with web_client(world) as client:
        await world.gateway.report(
            handed_over, "delivered", url=f"{world.settings.public_base_url}/webhooks/cm/status",
            client=client,
        )  # fmt: skip
    [row] = outbox_rows(world.engine)
    assert row.status is OutboxStatus.delivered and row.last_error is None
    assert (
        await world.services.notifier.notify(PAGE, WORKDAY)
    ).outcome is NotifyOutcome.already_sent
