"""Temporary failures retry (honouring Retry-After) without sending twice; permanent ones stop,
fail over to the person's other channel, and show up for the coordinator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from notifications.notifier import RetryLater
from notifications.outbox import failed_messages
from notifications.requests import MessageKind, NotifyOutcome
from store.audit import AuditEntry
from store.directory import ContactMethod
from store.outbox import OutboxStatus
from tests.notifications.conftest import ANNA_SMS, WORKDAY, World, outbox_rows, request

PAGE = request(MessageKind.oncall_page, reference="esc_9:0.0", ack_code="1234")


@pytest.mark.parametrize("provider", ["cm", "twilio"])
async def test_a_503_is_retried_and_the_sms_goes_out_once(
    world_factory: Callable[..., World], provider: str
) -> None:
    world = world_factory(provider)
    world.gateway.fail_next(2, status=503)
    for _ in range(2):
        with pytest.raises(RetryLater) as retry:
            await world.services.notifier.notify(PAGE, WORKDAY)
        assert retry.value.code == f"{provider}_http_503"
        assert outbox_rows(world.engine)[0].status is OutboxStatus.pending

    result = await world.services.notifier.notify(PAGE, WORKDAY)
    again = await world.services.notifier.notify(PAGE, WORKDAY)

    assert result.outcome is NotifyOutcome.sent
    assert again.outcome is NotifyOutcome.already_sent
    assert len(world.gateway.inbox(ANNA_SMS)) == 1
    assert outbox_rows(world.engine)[0].attempts == 3


@pytest.mark.parametrize("provider", ["cm", "twilio"])
async def test_a_429_asks_to_retry_after_the_providers_delay(
    world_factory: Callable[..., World], provider: str
) -> None:
    world = world_factory(provider)
    world.gateway.throttle_next(1, retry_after=7)
    with pytest.raises(RetryLater) as retry:
        await world.services.notifier.notify(PAGE, WORKDAY)
    assert retry.value.delay == 7
    assert (await world.services.notifier.notify(PAGE, WORKDAY)).outcome is NotifyOutcome.sent
    assert len(world.gateway.inbox(ANNA_SMS)) == 1


@pytest.mark.parametrize(("provider", "code"), [("cm", "cm_303"), ("twilio", "twilio_21211")])
async def test_an_invalid_number_fails_over_to_email_and_is_reported(
    world_factory: Callable[..., World], provider: str, code: str
) -> None:
    world = world_factory(provider)
    world.gateway.mark_invalid(ANNA_SMS)

    result = await world.services.notifier.notify(PAGE, WORKDAY)

    assert result.outcome is NotifyOutcome.sent
    [sms_row, email_row] = outbox_rows(world.engine)
    assert result.outbox_ids == [sms_row.id, email_row.id]
    assert (sms_row.status, sms_row.last_error) == (OutboxStatus.failed, code)
    assert email_row.failover_of == sms_row.id and email_row.status is OutboxStatus.sent
    [mail] = world.smtp.messages_to("anna@example.org")
    assert "OK 1234" in mail.text
    assert world.gateway.messages == []
    with Session(world.engine) as session:
        assert [m.id for m in failed_messages(session)] == [sms_row.id]
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "message_failed")).one()
        assert audit.detail["code"] == code and audit.subject_id == str(sms_row.id)
        assert ANNA_SMS not in str(audit.detail)
        sms = session.exec(select(ContactMethod).where(ContactMethod.address == ANNA_SMS)).one()
        assert sms.disabled_reason == code


async def test_a_rejected_mailbox_fails_over_to_sms(world: World) -> None:
    world.smtp.reject("anna@example.org", code=550)
    result = await world.services.notifier.notify(request(), WORKDAY)
    assert result.outcome is NotifyOutcome.sent
    [sms] = world.gateway.inbox(ANNA_SMS)
    assert sms.startswith("Waakvlam: Herinnering: Toekomstgesprek") and "/a/" in sms
    assert outbox_rows(world.engine)[0].last_error == "smtp_550"


async def test_a_temporary_mailbox_error_is_retried_not_failed_over(world: World) -> None:
    world.smtp.reject("anna@example.org", code=451)
    with pytest.raises(RetryLater, match="smtp_451"):
        await world.services.notifier.notify(request(), WORKDAY)
    world.smtp.accept("anna@example.org")
    assert (await world.services.notifier.notify(request(), WORKDAY)).outcome is NotifyOutcome.sent
    assert world.gateway.messages == [] and len(world.smtp.messages) == 1


async def test_no_other_channel_means_failed_for_good(world: World) -> None:
    world.smtp.reject("ben@example.org", code=550)
    result = await world.services.notifier.notify(request(to="pro_ben"), WORKDAY)
    assert (result.outcome, result.reason) == (NotifyOutcome.failed, "smtp_550")
    again = await world.services.notifier.notify(request(to="pro_ben"), WORKDAY)
    assert again.outcome is NotifyOutcome.failed


async def test_a_carrier_opt_out_counts_as_stop_so_start_can_undo_it(
    world_factory: Callable[..., World],
) -> None:
    world = world_factory("twilio")
    world.gateway.mark_unsubscribed(ANNA_SMS)
    result = await world.services.notifier.notify(PAGE, WORKDAY)
    assert result.outcome is NotifyOutcome.sent  # by email instead
    sms_row = outbox_rows(world.engine)[0]
    assert (sms_row.status, sms_row.last_error) == (OutboxStatus.suppressed, "twilio_21610")
    with Session(world.engine) as session:
        sms = session.exec(select(ContactMethod).where(ContactMethod.address == ANNA_SMS)).one()
        assert sms.sms_opted_out_at is not None and sms.disabled_reason is None
        assert failed_messages(session) == []
