"""When messages go: quiet hours and public holidays defer non-urgent messages, pages never
wait, the per-recipient SMS limit defers the surplus, and the daily digest bundles reminders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session, select

from config.settings import Settings
from notifications.dispatch import dispatch_scheduled
from notifications.requests import MessageKind, NotifyOutcome
from notifications.timing import SendPolicy
from notifications.wiring import build_notifications
from store.db import make_engine
from store.directory import ContactMethod, PersonKind
from store.outbox import OutboxStatus
from tests.notifications.conftest import (
    ANNA_SMS,
    EVENING,
    SANNE_SMS,
    WORKDAY,
    World,
    outbox_rows,
    request,
)

AMS = ZoneInfo("Europe/Amsterdam")


async def test_a_reminder_asked_for_in_the_evening_waits_for_the_next_morning(
    world: World,
) -> None:
    notifier = world.services.notifier
    result = await notifier.notify(request(), EVENING)

    assert (result.outcome, result.reason) == (NotifyOutcome.scheduled, "quiet_hours")
    [row] = outbox_rows(world.engine)
    morning = datetime(2027, 3, 10, 9, 0, tzinfo=AMS)
    assert row.not_before == morning
    assert (await dispatch_scheduled(notifier, morning - timedelta(minutes=1))).due == 0
    assert world.smtp.messages == []

    report = await dispatch_scheduled(notifier, morning)

    assert report.sent == 1
    assert len(world.smtp.messages_to("anna@example.org")) == 1
    assert (await dispatch_scheduled(notifier, morning + timedelta(minutes=5))).due == 0
    assert (await notifier.notify(request(), EVENING)).outcome is NotifyOutcome.already_sent


async def test_on_kings_day_a_reminder_waits_for_the_next_working_day(world: World) -> None:
    kings_day = datetime(2027, 4, 27, 11, 0, tzinfo=AMS)
    await world.services.notifier.notify(request(), kings_day)
    [row] = outbox_rows(world.engine)
    assert row.status is OutboxStatus.scheduled
    assert row.not_before == datetime(2027, 4, 28, 9, 0, tzinfo=AMS)


async def test_across_the_spring_dst_change_the_morning_is_nine_local(world: World) -> None:
    # Friday evening before Easter and the DST change: Tuesday 09:00 CEST (Easter Monday off).
    await world.services.notifier.notify(request(), datetime(2027, 3, 26, 19, 0, tzinfo=AMS))
    [row] = outbox_rows(world.engine)
    assert row.not_before == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)


async def test_a_page_at_night_on_a_holiday_goes_at_once(world: World) -> None:
    night = datetime(2027, 12, 25, 3, 0, tzinfo=AMS)
    page = request(MessageKind.oncall_page, reference="esc_1:0.0", ack_code="1111")
    assert (await world.services.notifier.notify(page, night)).outcome is NotifyOutcome.sent
    assert len(world.gateway.inbox(ANNA_SMS)) == 1


async def test_the_sms_limit_per_recipient_defers_the_surplus_but_not_pages(
    world_factory: Callable[..., World],
) -> None:
    world = world_factory("cm", policy=SendPolicy(sms_per_recipient_per_hour=2))
    notifier = world.services.notifier

    def checkin(n: int) -> object:
        return request(MessageKind.checkin_request, to="yth_sanne", person=PersonKind.youth,
                       reference=f"checkin_{n}@0d")  # fmt: skip

    outcomes = []
    for n in range(3):
        result = await notifier.notify(checkin(n), WORKDAY + timedelta(minutes=n))  # type: ignore[arg-type]
        outcomes.append((result.outcome, result.reason))
    assert outcomes[2] == (NotifyOutcome.scheduled, "rate_limited")
    assert len(world.gateway.inbox(SANNE_SMS)) == 2
    page = request(MessageKind.oncall_page, to="yth_sanne", person=PersonKind.youth,
                   reference="esc_2:0.0", ack_code="2222")  # fmt: skip
    assert (await notifier.notify(page, WORKDAY)).outcome is NotifyOutcome.sent

    report = await dispatch_scheduled(notifier, WORKDAY + timedelta(hours=1))
    assert report.sent == 1
    assert len(world.gateway.inbox(SANNE_SMS)) == 4


async def test_a_digest_reader_gets_one_email_with_all_of_the_days_reminders(
    world: World,
) -> None:
    notifier, digests = world.services.notifier, world.services.digests
    tasks = ["future_conversation", "case_meeting", "exit_conversation"]
    for task in tasks:
        result = await notifier.notify(
            request(to="pro_cas", reference=f"{task}@14d", task=task), WORKDAY
        )
        assert (result.outcome, result.reason) == (NotifyOutcome.scheduled, "daily_digest")
    page = request(MessageKind.oncall_page, to="pro_cas", reference="esc_3:0.0", ack_code="3")
    assert (await notifier.notify(page, WORKDAY)).outcome is NotifyOutcome.sent  # not bundled
    assert len(world.smtp.messages) == 1

    next_morning = datetime(2027, 3, 10, 9, 0, tzinfo=AMS)
    assert (await dispatch_scheduled(notifier, next_morning)).due == 0  # digest rows wait
    report = await digests.send_daily_digests(date(2027, 3, 10), next_morning)
    rerun = await digests.send_daily_digests(date(2027, 3, 10), next_morning)

    assert (report.sent, report.bundled_rows) == (1, 3)
    assert (rerun.sent, rerun.already_sent) == (0, 1)
    digest = world.smtp.messages_to("cas@example.org")[-1]
    assert len(world.smtp.messages_to("cas@example.org")) == 2
    assert digest["Subject"] == "Je Waakvlam-overzicht van 10 maart 2027: 3 berichten"
    assert "Toekomstgesprek" in digest.text and "Leerlingbespreking" in digest.text
    assert "Uitstroomgesprek" in digest.text
    assert digest.text.count(world.settings.public_base_url + "/a/") == 3
    assert digest.html.count("<li>") == 3
    again = await notifier.notify(request(to="pro_cas", reference="case_meeting@14d"), WORKDAY)
    assert again.outcome is NotifyOutcome.already_sent


async def test_todays_digest_does_not_take_tomorrows_items(world: World) -> None:
    await world.services.notifier.notify(request(to="pro_cas"), WORKDAY)
    report = await world.services.digests.send_daily_digests(date(2027, 3, 9), WORKDAY)
    assert report.sent == 0 and world.smtp.messages == []


async def test_a_stop_received_while_a_message_waits_is_honoured_at_dispatch(
    world: World,
) -> None:
    notifier = world.services.notifier
    checkin = request(MessageKind.checkin_request, to="yth_sanne", person=PersonKind.youth,
                      reference="checkin@0d")  # fmt: skip
    assert (await notifier.notify(checkin, EVENING)).outcome is NotifyOutcome.scheduled
    with Session(world.engine) as session:
        method = session.exec(select(ContactMethod).where(ContactMethod.address == SANNE_SMS)).one()
        method.sms_opted_out_at = EVENING
        session.commit()

    report = await dispatch_scheduled(notifier, datetime(2027, 3, 10, 9, 0, tzinfo=AMS))

    assert report.outcomes == {1: "suppressed"}
    assert world.gateway.messages == []
    [row] = outbox_rows(world.engine)
    assert (row.status, row.last_error) == (OutboxStatus.suppressed, "sms_opted_out")


async def test_the_sms_rate_limit_comes_from_the_settings(settings: Settings) -> None:
    tuned = settings.model_copy(update={"sms_per_recipient_per_hour": 2})
    async with httpx.AsyncClient() as http:
        services = build_notifications(tuned, make_engine("sqlite://"), http, None)
    assert services.notifier.policy.sms_per_recipient_per_hour == 2
