"""Consent in force at every age boundary (15y364d, 16y0d, 17y364d, 18y0d), for parents and for
partners outside the case team, through the notifier (every message) and ``may_see_youth``
(every page view)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from config.domain import Role
from config.settings import Settings
from notifications.requests import MessageKind, NotifyOutcome, NotifyRequest, Recipient
from notifications.wiring import NotificationServices, build_notifications
from store.db import Database
from store.directory import PersonKind
from store.disclosure import NO_PARENT_CONSENT, NO_SHARING_CONSENT, may_see_youth
from store.youth import Consent, ConsentKind, ConsentStatus
from tests.privacy.conftest import GUARDIAN, NOW, OUTSIDER, TODAY, TRAJECTORY, YOUTH, seed
from workflows.dates import add_months


def born(years: int, days_short: int = 0) -> date:
    """A birth date so that the youth is ``years`` old today, minus ``days_short`` days."""
    return add_months(TODAY, -12 * years) + timedelta(days=days_short)


AGE_15Y364D, AGE_16Y0D = born(16, 1), born(16)
AGE_17Y364D, AGE_18Y0D = born(18, 1), born(18)


@pytest.fixture
async def services(
    sqlite_engine: Engine, settings: Settings
) -> AsyncIterator[NotificationServices]:
    async with httpx.AsyncClient() as http:
        yield build_notifications(settings, Database.of(sqlite_engine), http, None)


def consent(engine: Engine, kind: ConsentKind, status: ConsentStatus) -> None:
    with Session(engine) as session:
        session.add(Consent(youth_id=YOUTH, trajectory_id=TRAJECTORY, kind=kind, status=status))
        session.commit()


def reminder(to: str, kind: PersonKind) -> NotifyRequest:
    return NotifyRequest(
        kind=MessageKind.task_reminder,
        recipient=Recipient(kind=kind, id=to),
        reference="exit_conversation@14d",
        trajectory_id=TRAJECTORY,
        due_date=date(2027, 3, 23),
        facts={"task": "exit_conversation"},
    )


async def reason(services: NotificationServices, to: str, kind: PersonKind) -> str | None:
    result = await services.notifier.notify(reminder(to, kind), NOW)
    if result.outcome is NotifyOutcome.suppressed:
        return result.reason
    assert result.outcome in (NotifyOutcome.sent, NotifyOutcome.scheduled), result
    return None


@pytest.mark.parametrize(
    ("birth_date", "parents_involved", "expected"),
    [
        (AGE_17Y364D, None, None),
        (AGE_18Y0D, None, NO_PARENT_CONSENT),
        (AGE_18Y0D, ConsentStatus.pending, NO_PARENT_CONSENT),
        (AGE_18Y0D, ConsentStatus.refused, NO_PARENT_CONSENT),
        (AGE_18Y0D, ConsentStatus.given, None),
        (AGE_15Y364D, None, None),
        (AGE_16Y0D, None, None),
    ],
    ids=[
        "17y364d",
        "18y0d-none",
        "18y0d-pending",
        "18y0d-refused",
        "18y0d-given",
        "15y364d",
        "16y0d",
    ],  # fmt: skip
)
async def test_a_parent_hears_nothing_from_18_without_the_youths_consent(
    sqlite_engine: Engine,
    services: NotificationServices,
    birth_date: date,
    parents_involved: ConsentStatus | None,
    expected: str | None,
) -> None:
    seed(sqlite_engine, birth_date=birth_date)
    if parents_involved is not None:
        consent(sqlite_engine, ConsentKind.parents_involved, parents_involved)
    assert await reason(services, GUARDIAN, PersonKind.guardian) == expected


@pytest.mark.parametrize(
    ("birth_date", "data_sharing", "expected"),
    [
        # under 16 the legal representative's consent (given in the seed) governs
        (AGE_15Y364D, ConsentStatus.refused, None),
        (AGE_16Y0D, ConsentStatus.refused, NO_SHARING_CONSENT),
        (AGE_16Y0D, ConsentStatus.expired, NO_SHARING_CONSENT),
        (AGE_16Y0D, ConsentStatus.pending, None),  # the representative's answer still stands
        (AGE_16Y0D, ConsentStatus.given, None),
        (AGE_17Y364D, ConsentStatus.refused, NO_SHARING_CONSENT),
        (AGE_18Y0D, ConsentStatus.expired, NO_SHARING_CONSENT),
        (AGE_18Y0D, ConsentStatus.given, None),
    ],
    ids=[
        "15y364d-refused",
        "16y0d-refused",
        "16y0d-expired",
        "16y0d-pending",
        "16y0d-given",
        "17y364d-refused",
        "18y0d-expired",
        "18y0d-given",
    ],  # fmt: skip
)
async def test_a_partner_outside_the_case_team_follows_the_data_sharing_consent(
    sqlite_engine: Engine,
    services: NotificationServices,
    birth_date: date,
    data_sharing: ConsentStatus,
    expected: str | None,
) -> None:
    seed(sqlite_engine, birth_date=birth_date)
    consent(sqlite_engine, ConsentKind.data_sharing, data_sharing)
    assert await reason(services, OUTSIDER, PersonKind.professional) == expected
    with Session(sqlite_engine) as session:
        assert may_see_youth(session, OUTSIDER, YOUTH, TODAY) is (expected is None)


@pytest.mark.parametrize("birth_date", [AGE_15Y364D, AGE_16Y0D], ids=["15y364d", "16y0d"])
async def test_a_refusal_by_the_legal_representative_holds_until_the_youth_answers(
    sqlite_engine: Engine, services: NotificationServices, birth_date: date
) -> None:
    seed(sqlite_engine, birth_date=birth_date)
    consent(sqlite_engine, ConsentKind.legal_representative, ConsentStatus.refused)
    assert await reason(services, OUTSIDER, PersonKind.professional) == NO_SHARING_CONSENT


@pytest.mark.parametrize("birth_date", [AGE_16Y0D, AGE_18Y0D], ids=["16y0d", "18y0d"])
async def test_the_case_team_keeps_hearing_when_sharing_is_refused(
    sqlite_engine: Engine, services: NotificationServices, birth_date: date
) -> None:
    seeded = seed(sqlite_engine, birth_date=birth_date)
    consent(sqlite_engine, ConsentKind.data_sharing, ConsentStatus.refused)
    for member in (seeded.region.holder(Role.case_director), seeded.region.holder(Role.mentor)):
        assert await reason(services, member, PersonKind.professional) is None  # director, owner
    assert await reason(services, YOUTH, PersonKind.youth) is None


async def test_nobody_hears_about_a_purged_youth(
    sqlite_engine: Engine, services: NotificationServices
) -> None:
    seeded = seed(sqlite_engine, birth_date=AGE_16Y0D)
    from store.privacy import anonymise_youth

    with Session(sqlite_engine) as session:
        anonymise_youth(session, YOUTH, at=NOW)
        session.commit()
    director = seeded.region.holder(Role.case_director)
    assert await reason(services, director, PersonKind.professional) == "youth_unknown"


async def test_the_jobcoach_on_call_is_paged_whatever_the_sharing_consent(
    sqlite_engine: Engine, services: NotificationServices
) -> None:
    seed(sqlite_engine, birth_date=AGE_18Y0D)
    consent(sqlite_engine, ConsentKind.data_sharing, ConsentStatus.refused)
    page = NotifyRequest(
        kind=MessageKind.oncall_page,
        recipient=Recipient(kind=PersonKind.professional, id=OUTSIDER),
        reference="esc_00000000000000aa:0.0",
        trajectory_id=TRAJECTORY,
        urgent=True,
        facts={"ack_code": "4821"},
    )
    result = await services.notifier.notify(page, NOW)  # a page says nothing about the youth
    assert result.outcome is NotifyOutcome.sent, result
    with Session(sqlite_engine) as session:
        assert may_see_youth(session, OUTSIDER, YOUTH, TODAY) is False
