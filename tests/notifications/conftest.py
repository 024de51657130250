"""A small network with recognisable people, and the notification layer built against real
servers on loopback (the fake SMTP server and the SMS gateway emulator)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.domain import Language, SchoolType
from config.settings import DEFAULT_TIMELINE, Settings
from config.timeline import load_timeline
from notifications.requests import MessageKind, NotifyRequest, Recipient
from notifications.timing import SendPolicy
from notifications.wiring import NotificationServices, build_notifications
from store.db import Database
from store.directory import (
    Channel,
    ContactMethod,
    Organisation,
    OrganisationKind,
    PersonKind,
    Professional,
)
from store.outbox import OutboxMessage
from store.youth import Guardian, Youth
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import FakeSmtp, running_smtp
from tests.fakes.smtp_sessions import SessionCountingSmtp

AMS = ZoneInfo("Europe/Amsterdam")
# Tuesday 9 March 2027, 10:00 in Amsterdam: a working moment.
WORKDAY = datetime(2027, 3, 9, 10, 0, tzinfo=AMS).astimezone(UTC)
EVENING = datetime(2027, 3, 9, 20, 0, tzinfo=AMS).astimezone(UTC)

ANNA_SMS = "+31612345001"
SANNE_SMS = "+31612345003"


def configure(settings: Settings, **overrides: Any) -> Settings:
    return Settings(_env_file=None, **(settings.model_dump() | overrides))  # type: ignore[call-arg]


def add_contact(
    session: Session, kind: PersonKind, pid: str, channel: Channel, address: str
) -> None:
    session.add(ContactMethod(person_kind=kind, person_id=pid, channel=channel, address=address))


def seed_people(engine: Engine) -> None:
    """Anna (nl, email+SMS), Ben (en, email), Cas (nl, daily digest, email), Sanne (youth, 19,
    SMS) with her father Piet (email), Tim (youth, 17) with his mother Ria (email)."""
    pro, yth, grd = PersonKind.professional, PersonKind.youth, PersonKind.guardian
    with Session(engine) as session:
        session.add(
            Organisation(
                id="org_school",
                name="Praktijkschool De Maas",
                kind=OrganisationKind.school,
                school_type=SchoolType.pro,
            )
        )
        session.flush()
        for pid, first, language, digest in (
            ("pro_anna", "Anna", Language.nl, False),
            ("pro_ben", "Ben", Language.en, False),
            ("pro_cas", "Cas", Language.nl, True),
        ):
            session.add(
                Professional(
                    id=pid,
                    organisation_id="org_school",
                    first_name=first,
                    last_name="Achternaam-" + first,
                    language=language,
                    wants_daily_digest=digest,
                )
            )
            add_contact(session, pro, pid, Channel.email, f"{first.lower()}@example.org")
        add_contact(session, pro, "pro_anna", Channel.sms, ANNA_SMS)
        for yid, first, born in (
            ("yth_sanne", "Sanne", date(2008, 1, 5)),
            ("yth_tim", "Tim", date(2010, 1, 5)),
        ):
            session.add(
                Youth(
                    id=yid,
                    first_name=first,
                    last_name="Jansen",
                    birth_date=born,
                    school_id="org_school",
                    school_ref=yid,
                    school_type=SchoolType.pro,
                )
            )
        session.flush()
        add_contact(session, yth, "yth_sanne", Channel.sms, SANNE_SMS)
        session.add(
            Guardian(id="grd_piet", youth_id="yth_sanne", first_name="Piet", last_name="Jansen")
        )
        session.add(
            Guardian(
                id="grd_ria",
                youth_id="yth_tim",
                first_name="Ria",
                last_name="Jansen",
                language=Language.en,
            )
        )
        add_contact(session, grd, "grd_piet", Channel.email, "piet@example.org")
        add_contact(session, grd, "grd_ria", Channel.email, "ria@example.org")
        session.commit()


def request(
    kind: MessageKind = MessageKind.task_reminder,
    *,
    to: str = "pro_anna",
    person: PersonKind = PersonKind.professional,
    reference: str = "future_conversation@14d",
    urgent: bool = False,
    **facts: str | int,
) -> NotifyRequest:
    return NotifyRequest(
        kind=kind,
        recipient=Recipient(kind=person, id=to),
        reference=reference,
        trajectory_id="trj_0001",
        due_date=date(2027, 3, 23),
        urgent=urgent,
        facts={"task": "future_conversation", **facts},
    )


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]


@dataclass
class World:
    engine: Engine
    settings: Settings
    services: NotificationServices
    smtp: FakeSmtp
    gateway: SmsGateway

    def gateway_http(self) -> httpx.AsyncClient:
        """The HTTP client the notification layer of this world uses."""
        sms = self.services.sms
        client: httpx.AsyncClient = getattr(sms, "http")  # noqa: B009
        return client


@pytest.fixture
def notify_engine(sqlite_engine: Engine) -> Engine:
    return sqlite_engine


@pytest.fixture(scope="session")
def shared_smtp() -> Iterator[FakeSmtp]:
    """One SMTP server for the folder, reset before each test (starting one per test is slow)."""
    yield from running_smtp()


@pytest.fixture(scope="session")
async def shared_gateway() -> AsyncIterator[SmsGateway]:
    gateway = SmsGateway()
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


@pytest.fixture(scope="session")
def shared_session_smtp() -> Iterator[SessionCountingSmtp]:
    """An SMTP server that counts sessions and can hold or drop them, for the pool's tests."""
    server = SessionCountingSmtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def session_smtp(
    shared_session_smtp: SessionCountingSmtp,
) -> AsyncIterator[SessionCountingSmtp]:
    await shared_session_smtp.drop_connections()  # whatever an earlier test left open
    shared_session_smtp.reset()
    shared_session_smtp.messages_per_connection = None
    yield shared_session_smtp


def arrivals(server: FakeSmtp) -> Counter[str]:
    """How often each outbox reference arrived (from the Message-ID)."""
    return Counter(m["Message-ID"].strip("<>").partition("@")[0] for m in server.messages)


@pytest.fixture
def smtp(shared_smtp: FakeSmtp) -> FakeSmtp:
    shared_smtp.reset()
    return shared_smtp


@pytest.fixture
def gateway(shared_gateway: SmsGateway) -> SmsGateway:
    shared_gateway.reset()
    return shared_gateway


@pytest.fixture
async def world_factory(
    settings: Settings, notify_engine: Engine, smtp: FakeSmtp, gateway: SmsGateway
) -> AsyncIterator[Callable[..., World]]:
    clients: list[httpx.AsyncClient] = []
    built: list[NotificationServices] = []
    seed_people(notify_engine)

    def make(
        provider: str = "cm",
        *,
        policy: SendPolicy | None = None,
        on: Engine | None = None,
        smtp_server: FakeSmtp | None = None,
        **extra: Any,
    ) -> World:
        """A world on the given gateway provider; ``on`` another (e.g. PostgreSQL) database;
        ``smtp_server`` another SMTP server than the folder's."""
        engine = notify_engine
        if on is not None:
            engine = on
            seed_people(engine)
        mail_server = smtp_server or smtp
        configured = configure(
            settings,
            **mail_server.settings_overrides(),
            **gateway.settings_overrides(provider),
            **extra,
        )
        http = httpx.AsyncClient(timeout=httpx.Timeout(configured.http_timeout_seconds))
        clients.append(http)
        services = build_notifications(
            configured, Database.of(engine), http, load_timeline(DEFAULT_TIMELINE), policy=policy
        )
        built.append(services)
        return World(engine, configured, services, mail_server, gateway)

    yield make
    for services in built:
        await services.aclose()
    for client in clients:
        await client.aclose()


@pytest.fixture
def world(world_factory: Callable[..., World]) -> World:
    return world_factory("cm")


@asynccontextmanager
async def web_client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The real web app (webhooks included), reached in-process at the public base URL."""
    from waakvlam.container import Container
    from web.app import create_app

    container = Container(
        settings=world.settings,
        database=world.services.notifier.database,
        timeline=load_timeline(DEFAULT_TIMELINE),
        http=httpx.AsyncClient(),
        notifications=world.services,
    )
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(
        transport=transport, base_url=world.settings.public_base_url
    ) as client:
        yield client
    await container.http.aclose()
