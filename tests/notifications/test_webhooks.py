"""Delivery reports and inbound SMS through the web app's webhooks, in CM.com's and Twilio's
shapes: signatures checked, outbox updated, STOP/START honoured, replies routed to handlers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from notifications.inbound import InboundOutcome, InboundSms
from notifications.outbox import failed_messages
from notifications.requests import MessageKind, NotifyOutcome
from store.directory import ContactMethod, PersonKind
from store.outbox import OutboxStatus
from tests.fakes.sms_gateway import TWILIO_FROM
from tests.notifications.conftest import (
    ANNA_SMS,
    SANNE_SMS,
    WORKDAY,
    World,
    outbox_rows,
    request,
    web_client,
)

PAGE = request(MessageKind.oncall_page, reference="esc_4:0.0", ack_code="4821")
STATUS_URL = {"cm": "/webhooks/cm/status", "twilio": None}
INBOUND_URL = {"cm": "/webhooks/cm/inbound", "twilio": "/webhooks/twilio/inbound"}


@pytest.mark.parametrize("provider", ["cm", "twilio"])
async def test_delivery_reports_mark_the_message_delivered_or_failed(
    world_factory: Callable[..., World], provider: str
) -> None:
    world = world_factory(provider)
    await world.services.notifier.notify(PAGE, WORKDAY)
    checkin = request(MessageKind.checkin_request, to="yth_sanne", person=PersonKind.youth,
                      reference="checkin@0d")  # fmt: skip
    await world.services.notifier.notify(checkin, WORKDAY)
    page_sms, checkin_sms = world.gateway.messages
    base = world.settings.public_base_url
    url = base + STATUS_URL[provider] if STATUS_URL[provider] else None
    async with web_client(world) as client:
        ok = await world.gateway.report(page_sms, "delivered", url=url, client=client)
        bad = await world.gateway.report(checkin_sms, "failed", url=url, client=client)
    assert ok.is_success and bad.is_success
    page_row, checkin_row = outbox_rows(world.engine)
    assert page_row.status is OutboxStatus.delivered and page_row.delivered_at is not None
    assert checkin_row.status is OutboxStatus.failed
    with Session(world.engine) as session:
        assert [m.id for m in failed_messages(session)] == [checkin_row.id]


@pytest.mark.parametrize("provider", ["cm", "twilio"])
async def test_an_sms_reported_undeliverable_fails_over_to_email(
    world_factory: Callable[..., World], provider: str
) -> None:
    world = world_factory(provider)
    await world.services.notifier.notify(PAGE, WORKDAY)  # a page: SMS first
    [page_sms] = world.gateway.messages
    base = world.settings.public_base_url
    url = base + STATUS_URL[provider] if STATUS_URL[provider] else None
    async with web_client(world) as client:
        assert (await world.gateway.report(page_sms, "failed", url=url, client=client)).is_success
    sms_row, email_row = outbox_rows(world.engine)
    assert sms_row.status is OutboxStatus.failed
    assert (email_row.failover_of, email_row.status) == (sms_row.id, OutboxStatus.sent)
    [mail] = world.smtp.messages_to("anna@example.org")
    assert "4821" in mail.text


async def test_a_twilio_webhook_with_a_wrong_signature_is_refused(
    world_factory: Callable[..., World],
) -> None:
    world = world_factory("twilio")
    await world.services.notifier.notify(PAGE, WORKDAY)
    [sms] = world.gateway.messages
    async with web_client(world) as client:
        forged = await client.post(
            "/webhooks/twilio/status?ref=wv1",
            data={"MessageSid": sms.id, "MessageStatus": "delivered"},
            headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        )
        unsigned = await client.post("/webhooks/twilio/inbound", data={"Body": "STOP"})
    assert forged.status_code == 403 and unsigned.status_code == 403
    assert outbox_rows(world.engine)[0].status is OutboxStatus.sent


@pytest.mark.parametrize("provider", ["cm", "twilio"])
@pytest.mark.parametrize("stop_word", ["STOP", "stop all", "Unsubscribe"])
async def test_stop_ends_sms_to_that_number_until_start(
    world_factory: Callable[..., World], provider: str, stop_word: str
) -> None:
    world = world_factory(provider)
    url = world.settings.public_base_url + INBOUND_URL[provider]
    notifier = world.services.notifier
    async with web_client(world) as client:
        stopped = await world.gateway.inbound(provider, SANNE_SMS, TWILIO_FROM, stop_word, url,
                                              client=client)  # fmt: skip
        assert stopped.is_success
        first = request(MessageKind.checkin_request, to="yth_sanne", person=PersonKind.youth,
                        reference="checkin_1@0d")  # fmt: skip
        result = await notifier.notify(first, WORKDAY)
        assert (result.outcome, result.reason) == (NotifyOutcome.suppressed, "no_contact_method")

        await world.gateway.inbound(provider, SANNE_SMS, TWILIO_FROM, "start", url, client=client)
        second = request(MessageKind.checkin_request, to="yth_sanne", person=PersonKind.youth,
                         reference="checkin_2@0d")  # fmt: skip
        assert (await notifier.notify(second, WORKDAY)).outcome is NotifyOutcome.sent
    assert len(world.gateway.inbox(SANNE_SMS)) == 1
    with Session(world.engine) as session:
        method = session.exec(select(ContactMethod).where(ContactMethod.address == SANNE_SMS)).one()
        assert method.sms_opted_out_at is None


@pytest.mark.parametrize("provider", ["cm", "twilio"])
async def test_replies_go_to_the_handler_that_claims_them(
    world_factory: Callable[..., World], provider: str
) -> None:
    world = world_factory(provider)
    seen: list[InboundSms] = []

    async def acknowledgements(sms: InboundSms) -> bool:
        seen.append(sms)
        return sms.body.strip().upper().startswith("OK")

    world.services.inbound.register(acknowledgements)
    url = world.settings.public_base_url + INBOUND_URL[provider]
    async with web_client(world) as client:
        ok = await world.gateway.inbound(provider, "0031612345001", TWILIO_FROM, "OK 4821", url,
                                         client=client)  # fmt: skip
        other = await world.gateway.inbound(provider, ANNA_SMS, TWILIO_FROM, "hoi?", url,
                                            client=client)  # fmt: skip
    outcome = (lambda r: r.json()["outcome"]) if provider == "cm" else (
        lambda r: r.headers["X-Waakvlam"])  # fmt: skip
    assert (outcome(ok), outcome(other)) == (InboundOutcome.handled, InboundOutcome.unclaimed)
    assert [s.from_number for s in seen] == [ANNA_SMS, ANNA_SMS]
    assert seen[0].body == "OK 4821" and seen[0].provider == provider
