"""Helpers of the web tests: the web app on one migrated SQLite copy per test, with a seeded
two-school region, a capturing email channel, and httpx clients signed in as each role
(cookies set like a browser's).

Seed: ``org_school`` (the factories' region: one person per role) and ``org_school2`` with its
own school administrator and mentor. Trajectories are read-model rows, so the API tests need
no Temporal server; the action tests and the browser test start a real one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from config.domain import Destination, Phase, Role, SchoolType, TaskKind
from config.settings import DEFAULT_TIMELINE, Settings
from config.timeline import load_timeline
from notifications.channels import OutgoingEmail, Receipt
from notifications.wiring import build_notifications
from store import accounts
from store.db import Database
from store.directory import (
    Channel,
    ContactMethod,
    Organisation,
    OrganisationKind,
    PersonKind,
    Professional,
    RoleAssignment,
)
from store.trajectories import TaskRow, TaskStatus, Trajectory
from store.youth import Youth
from tests.factories import Region, build_region
from waakvlam.container import Container
from web.app import create_app
from web.security import CSRF_COOKIE

BASE_URL = "https://waakvlam.test"
HOST = "waakvlam.test"


class CapturedEmails:
    name = "capture"

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    async def send(self, email: OutgoingEmail) -> Receipt:
        self.sent.append(email)
        return Receipt(self.name, f"capture-{len(self.sent)}")

    def link_to(self, address: str) -> str:
        for email in reversed(self.sent):
            if email.to == address:
                return next(w for w in email.text.split() if w.startswith("http"))
        raise AssertionError(f"no email to {address}")


def add_person(
    session: Session, pid: str, org: str, role: Role | None, scope: str | None, first: str
) -> None:
    session.add(Professional(id=pid, organisation_id=org, first_name=first, last_name="Test"))
    session.add(
        ContactMethod(
            person_kind=PersonKind.professional,
            person_id=pid,
            channel=Channel.email,
            address=f"{pid}@example.org",
        )
    )
    session.flush()
    if role is not None:
        session.add(RoleAssignment(professional_id=pid, role=role, scope_organisation_id=scope))


def add_trajectory(
    session: Session,
    tid: str,
    school: str,
    *,
    first: str,
    case_director: str | None = None,
    overdue: int = 0,
    contact_days_ago: int | None = None,
    destination: Destination | None = None,
    phase: Phase = Phase.decision,
    leave: date | None = None,
    task_owner: str | None = None,
) -> None:
    yid = "yth_" + tid.removeprefix("trj_")
    session.add(
        Youth(
            id=yid,
            first_name=first,
            last_name="Jansen",
            birth_date=date(2009, 3, 1),
            school_id=school,
            school_ref=f"R{tid[-4:]}",
            school_type=SchoolType.pro,
        )
    )
    session.flush()
    now = datetime.now(UTC)
    session.add(
        Trajectory(
            id=tid,
            youth_id=yid,
            workflow_id=f"trajectory-{tid}",
            school_id=school,
            school_type=SchoolType.pro,
            case_director_id=case_director,
            timeline_id="default",
            timeline_version=1,
            leave_date=leave or date.today() + timedelta(days=60),
            phase=phase,
            destination=destination,
            overdue_count=overdue,
            no_destination=destination is None,
            last_contact_at=None
            if contact_days_ago is None
            else now - timedelta(days=contact_days_ago),
        )
    )
    session.flush()
    session.add(
        TaskRow(
            id=f"{tid}:case_meeting",
            trajectory_id=tid,
            key="case_meeting",
            rule_id="case_meeting",
            kind=TaskKind.task,
            role=Role.case_director,
            owner_id=task_owner or case_director,
            owner_organisation_id=school,
            due_date=date.today() - timedelta(days=10),
            status=TaskStatus.overdue if overdue else TaskStatus.open,
        )
    )


@dataclass
class Seed:
    region: Region
    people: dict[str, str] = field(default_factory=dict)  # web role → professional id
    own: str = "trj_00000000000000a1"  # org_school, case director pro_case_director
    other: str = "trj_00000000000000b2"  # org_school2, nobody of org_school involved
    jobcoach_case: str = "trj_00000000000000c3"  # org_school2, a task owned by the jobcoach


def seed(engine: Engine) -> Seed:
    region = build_region(engine)
    s = Seed(region=region)
    with Session(engine) as session:
        session.add(
            Organisation(
                id="org_school2",
                name="VSO De Berken",
                kind=OrganisationKind.school,
                school_type=SchoolType.vso,
            )
        )
        session.add(Organisation(id="org_uwv", name="UWV Venlo", kind=OrganisationKind.uwv))
        session.flush()
        add_person(session, "pro_school2", "org_school2", Role.school, "org_school2", "Sara")
        add_person(session, "pro_outsider", "org_uwv", Role.labour_expert, None, "Otto")
        add_trajectory(
            session,
            s.own,
            region.school_id,
            first="Sanne",
            case_director=region.holder(Role.case_director),
            overdue=2,
        )
        add_trajectory(
            session, s.other, "org_school2", first="Bram", overdue=1, contact_days_ago=100
        )
        add_trajectory(
            session,
            s.jobcoach_case,
            "org_school2",
            first="Cees",
            task_owner=region.holder(Role.jobcoach),
            contact_days_ago=5,
            destination=Destination.work,
            phase=Phase.aftercare,
        )
        session.commit()
    s.people = {
        "coordinator": region.holder(Role.network_coordinator),
        "case_director": region.holder(Role.case_director),
        "jobcoach": region.holder(Role.jobcoach),
        "school_admin": region.holder(Role.school),
        "professional": region.holder(Role.mentor),
        "school2_admin": "pro_school2",
        "outsider": "pro_outsider",
    }
    return s


@dataclass
class WebWorld:
    app: FastAPI
    engine: Engine
    container: Container
    emails: CapturedEmails
    seed: Seed
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL, follow_redirects=False
        )
        for name, value in (cookies or {}).items():
            client.cookies.set(name, value, domain=HOST)
        self.clients.append(client)
        return client

    def csrf_cookie(self) -> tuple[str, str]:
        cookie = secrets.token_urlsafe(16)
        return cookie, self.app.state.web.csrf.token_for(cookie)

    def as_person(self, pid: str) -> tuple[httpx.AsyncClient, str]:
        """A client signed in as ``pid`` (a session opened directly) and its CSRF token."""
        with Session(self.engine) as session:
            token = accounts.open_session(session, professional_id=pid, now=datetime.now(UTC))
            session.commit()
        cookie, csrf = self.csrf_cookie()
        return self.client({"wv_session": token, CSRF_COOKIE: cookie}), csrf

    def as_role(self, role: str) -> tuple[httpx.AsyncClient, str]:
        return self.as_person(self.seed.people[role])

    def anonymous(self) -> tuple[httpx.AsyncClient, str]:
        cookie, csrf = self.csrf_cookie()
        return self.client({CSRF_COOKIE: cookie}), csrf


def build_world(
    settings: Settings, engine: Engine, client: Client | None, **overrides: Any
) -> tuple[FastAPI, Container, CapturedEmails]:
    values = settings.model_dump() | {"public_base_url": BASE_URL} | overrides
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    http = httpx.AsyncClient()
    timeline = load_timeline(DEFAULT_TIMELINE)
    database = Database.of(engine)
    notifications = build_notifications(settings, database, http, timeline)
    emails = CapturedEmails()
    notifications.email = emails
    container = Container(settings, database, timeline, http, notifications)
    return create_app(container, client), container, emails
