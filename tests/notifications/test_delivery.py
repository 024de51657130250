"""Messages arrive over real protocols: email at an SMTP server, SMS at a CM.com or Twilio
gateway. Assertions are on what arrived."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from notifications.requests import MessageKind, NotifyOutcome
from notifications.templates import MessageTemplates
from store.db import Database
from store.directory import PersonKind
from store.outbox import OutboxStatus
from tests.notifications.conftest import (
    ANNA_SMS,
    SANNE_SMS,
    WORKDAY,
    World,
    configure,
    outbox_rows,
    request,
)
from tests.threads import another_writer, work_sent_to_threads


async def test_a_reminder_arrives_as_dutch_email_with_text_html_and_a_signed_link(
    world: World,
) -> None:
    result = await world.services.notifier.notify(request(), WORKDAY)

    assert result.outcome is NotifyOutcome.sent
    [mail] = world.smtp.messages_to("anna@example.org")
    assert (
        mail["Subject"]
        == "Herinnering: Toekomstgesprek met jongere en ouders (uiterlijk 23 maart 2027)"
    )
    assert mail["From"] == world.settings.email_from
    assert "Hallo Anna," in mail.text and "Achternaam" not in mail.text
    link = world.settings.public_base_url + "/a/"
    assert link in mail.text and f'href="{link}' in mail.html
    assert mail["Message-ID"] == f"<wv{result.outbox_ids[0]}@waakvlam.localhost>"
    assert world.gateway.messages == []


async def test_an_english_speaker_gets_english(world: World) -> None:
    await world.services.notifier.notify(request(to="pro_ben"), WORKDAY)
    [mail] = world.smtp.messages_to("ben@example.org")
    assert mail["Subject"].startswith("Reminder: Future conversation with the youth and parents")
    assert "Hello Ben," in mail.text


async def test_smtp_authentication_from_settings(
    world_factory: Callable[..., World],
) -> None:
    world = world_factory("cm", smtp_username="waakvlam", smtp_password="geheim")
    world.smtp.require_auth("waakvlam", "geheim")
    result = await world.services.notifier.notify(request(to="pro_ben"), WORKDAY)
    assert result.outcome is NotifyOutcome.sent
    assert len(world.smtp.messages_to("ben@example.org")) == 1


@pytest.mark.parametrize("provider", ["cm", "twilio"])
async def test_a_page_goes_by_sms_through_the_gateway(
    world_factory: Callable[..., World], provider: str
) -> None:
    world = world_factory(provider)
    page = request(MessageKind.oncall_page, reference="esc_1:0.0", ack_code="4821")

    result = await world.services.notifier.notify(page, WORKDAY)

    assert result.outcome is NotifyOutcome.sent
    [sms] = world.gateway.inbox(ANNA_SMS)
    assert sms.startswith("Waakvlam OPROEP") and "OK 4821" in sms
    assert world.settings.public_base_url + "/a/" in sms
    [row] = outbox_rows(world.engine)
    [sent] = world.gateway.messages
    assert row.status is OutboxStatus.sent and row.provider == provider
    assert row.provider_message_id == (sent.reference if provider == "cm" else sent.id)
    if provider == "twilio":
        assert sent.status_callback == (
            f"{world.settings.public_base_url}/webhooks/twilio/status?ref=wv{row.id}"
        )


async def test_a_youth_without_email_gets_her_consent_request_by_sms_in_gsm7(
    world: World,
) -> None:
    ask = request(MessageKind.consent_request, to="yth_sanne", person=PersonKind.youth,
                  reference="consent:data_sharing", task="exit_conversation")  # fmt: skip
    await world.services.notifier.notify(ask, WORKDAY)
    [sms] = world.gateway.inbox(SANNE_SMS)
    assert sms.startswith("Hoi Sanne, Waakvlam vraagt je toestemming. Antwoord voor 23 maart 2027")
    assert "Jansen" not in sms


async def test_the_console_channel_writes_a_file_and_the_outbox_row(
    world: World,
) -> None:
    settings = configure(world.settings, email_provider="console", sms_provider="console")
    from notifications.wiring import build_notifications

    services = build_notifications(settings, Database.of(world.engine), None, None)  # type: ignore[arg-type]
    result = await services.notifier.notify(request(to="pro_ben"), WORKDAY)
    assert result.outcome is NotifyOutcome.sent
    written = (settings.data_dir / "outbox-console.jsonl").read_text()
    assert "ben@example.org" in written and "Reminder" in written
    assert world.smtp.messages == []
    assert isinstance(services.templates, MessageTemplates)


async def test_a_new_message_is_planned_and_sent_without_reading_its_row_back(
    world: World,
) -> None:
    """The planning's insert has every column of the new row: it is neither read back after the
    commit nor loaded again to be sent."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()).lower())

    database = world.services.notifier.database
    engines = [e for e in (database.engine, database.at_once) if e is not None]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        result = await world.services.notifier.notify(request(), WORKDAY)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    assert result.outcome is NotifyOutcome.sent
    inserted = next(
        i for i, s in enumerate(statements) if s.startswith("insert into outboxmessage")
    )
    assert not [s for s in statements[inserted:] if s.startswith("select") and "outboxmessage" in s]
    (row,) = outbox_rows(world.engine)
    assert (row.status, row.attempts, row.sent_at) == (OutboxStatus.sent, 1, WORKDAY)


async def test_a_new_message_is_planned_and_sent_without_an_orm_session(world: World) -> None:
    """Every step of planning and sending a new message is a prebuilt statement on a plain
    connection; an ORM session around them cost more than they did. A request whose row is
    there already (a retry) still reads it back as a model and is not sent again."""
    begun: list[object] = []

    def record(session: Any, *_: Any) -> None:
        begun.append(session)

    event.listen(Session, "after_begin", record)
    try:
        first = await world.services.notifier.notify(request(), WORKDAY)
        assert begun == []
        again = await world.services.notifier.notify(request(), WORKDAY)
    finally:
        event.remove(Session, "after_begin", record)
    assert (first.outcome, again.outcome) == (NotifyOutcome.sent, NotifyOutcome.already_sent)
    assert again.outbox_ids == first.outbox_ids
    assert len(begun) == 1, "the retry reads the earlier attempt's row in one session"
    assert len(outbox_rows(world.engine)) == 1


async def test_on_a_sqlite_file_a_message_is_planned_claimed_and_recorded_on_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite runs in this process: the notifier's database steps go to a thread only when
    another writer holds the file (a thread's statements each wait for the interpreter lock)."""
    notifier = world.services.notifier
    # The notifier's steps that ran in a thread.
    threaded = work_sent_to_threads(
        monkeypatch, lambda work: getattr(work, "__self__", None) is notifier
    )
    assert notifier.database.at_once is not None
    result = await notifier.notify(request(), WORKDAY)
    assert result.outcome is NotifyOutcome.sent
    assert threaded == []
    with another_writer(world.engine):
        pending = asyncio.create_task(notifier.notify(request(to="pro_ben"), WORKDAY))
        await asyncio.sleep(0.3)
        assert not pending.done() and threaded == ["_plan"], "waits in a thread"
    assert (await pending).outcome is NotifyOutcome.sent
    assert threaded == ["_plan"]
    assert {r.status for r in outbox_rows(world.engine)} == {OutboxStatus.sent}
