"""Who may receive what: after 18 a parent hears nothing without the youth's consent; a person
without a usable address is suppressed with a reason code."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from notifications.dispatch import dispatch_scheduled
from notifications.requests import MessageKind, NotifyOutcome, NotifyRequest
from store.directory import Channel, ContactMethod, PersonKind
from store.outbox import OutboxStatus
from store.youth import Consent, ConsentKind, ConsentStatus
from tests.notifications.conftest import (
    SANNE_SMS,
    WORKDAY,
    World,
    add_contact,
    outbox_rows,
    request,
)


def to_parent(guardian: str) -> NotifyRequest:
    return request(MessageKind.task_reminder, to=guardian, person=PersonKind.guardian,
                   reference="exit_conversation@parents")  # fmt: skip


def record_consent(world: World, status: ConsentStatus) -> None:
    with Session(world.engine) as session:
        session.add(
            Consent(youth_id="yth_sanne", trajectory_id="trj_0001",
                    kind=ConsentKind.parents_involved, status=status)
        )  # fmt: skip
        session.commit()


async def test_a_parent_of_an_adult_youth_hears_nothing_without_consent(world: World) -> None:
    result = await world.services.notifier.notify(to_parent("grd_piet"), WORKDAY)
    assert (result.outcome, result.reason) == (NotifyOutcome.suppressed, "no_parent_consent")
    assert world.smtp.messages == [] and outbox_rows(world.engine) == []


async def test_with_the_youths_consent_the_parent_is_informed(world: World) -> None:
    record_consent(world, ConsentStatus.given)
    result = await world.services.notifier.notify(to_parent("grd_piet"), WORKDAY)
    assert result.outcome is NotifyOutcome.sent
    [mail] = world.smtp.messages_to("piet@example.org")
    assert "Hallo Piet," in mail.text


async def test_refused_consent_still_blocks(world: World) -> None:
    record_consent(world, ConsentStatus.refused)
    result = await world.services.notifier.notify(to_parent("grd_piet"), WORKDAY)
    assert result.outcome is NotifyOutcome.suppressed


async def test_a_parent_of_a_minor_is_informed_in_their_language(world: World) -> None:
    result = await world.services.notifier.notify(to_parent("grd_ria"), WORKDAY)
    assert result.outcome is NotifyOutcome.sent
    [mail] = world.smtp.messages_to("ria@example.org")
    assert "Hello Ria," in mail.text and "Jansen" not in mail.text


async def test_no_usable_address_is_suppressed_with_a_reason(world: World) -> None:
    with Session(world.engine) as session:
        for method in session.exec(
            select(ContactMethod).where(ContactMethod.person_id == "pro_ben")
        ).all():
            method.disabled_reason = "bounced"
        session.commit()
    result = await world.services.notifier.notify(request(to="pro_ben"), WORKDAY)
    assert (result.outcome, result.reason) == (NotifyOutcome.suppressed, "no_contact_method")


async def test_an_unknown_recipient_is_suppressed(world: World) -> None:
    result = await world.services.notifier.notify(request(to="pro_nobody"), WORKDAY)
    assert (result.outcome, result.reason) == (NotifyOutcome.suppressed, "recipient_unknown")


async def test_an_sms_only_person_who_sent_stop_gets_email_when_they_have_it(
    world: World,
) -> None:
    with Session(world.engine) as session:
        add_contact(session, PersonKind.youth, "yth_sanne", Channel.email, "sanne@example.org")
        sms = session.exec(select(ContactMethod).where(ContactMethod.address == SANNE_SMS)).one()
        sms.sms_opted_out_at = WORKDAY
        session.commit()
    page = request(MessageKind.oncall_page, to="yth_sanne", person=PersonKind.youth,
                   reference="esc_5:0.0", ack_code="5555")  # fmt: skip
    assert (await world.services.notifier.notify(page, WORKDAY)).outcome is NotifyOutcome.sent
    assert world.gateway.messages == []
    assert len(world.smtp.messages_to("sanne@example.org")) == 1


async def test_a_scheduled_message_is_held_when_consent_is_withdrawn_while_it_waits(
    world: World,
) -> None:
    record_consent(world, ConsentStatus.given)
    evening = WORKDAY.replace(hour=19)  # after working hours: the reminder waits for morning
    result = await world.services.notifier.notify(to_parent("grd_piet"), evening)
    assert result.outcome is NotifyOutcome.scheduled
    with Session(world.engine) as session:
        consent = session.exec(select(Consent)).one()
        consent.status = ConsentStatus.refused
        session.add(consent)
        session.commit()
    report = await dispatch_scheduled(world.services.notifier, WORKDAY + timedelta(days=1))
    assert (report.due, report.sent) == (1, 0)
    [row] = outbox_rows(world.engine)
    assert (row.status, row.last_error) == (OutboxStatus.suppressed, "no_parent_consent")
    assert world.smtp.messages_to("piet@example.org") == []
