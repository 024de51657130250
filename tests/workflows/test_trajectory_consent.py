"""Consent: the legal representative under 16, the youth's own consent at 16, and at 18 whether
parents stay involved; reminders, and no answer by the deadline → parents no longer informed and
the case director asks in person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from config.domain import Role
from notifications.requests import MessageKind
from store.directory import PersonKind
from store.trajectories import TaskStatus
from store.youth import Consent, ConsentKind, ConsentStatus
from tests.workflows.conftest import Harness
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import RecordConsent


def stored(h: Harness) -> dict[ConsentKind, ConsentStatus]:
    with Session(h.engine) as session:
        return {c.kind: c.status for c in session.exec(select(Consent))}


async def test_under_16_the_legal_representatives_consent_is_recorded(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(age_years=15, legal_representative_consent=ConsentStatus.given)
    await h.advance_to(await h.today() + timedelta(days=1))
    consents = await handle.query(TrajectoryWorkflow.consents)
    assert consents.legal_representative is ConsentStatus.given
    assert stored(h)[ConsentKind.legal_representative] is ConsentStatus.given
    # The school's task to record it closes when the consent is recorded through the workflow.
    other = await h.enroll(age_years=15)
    await other.execute_update(
        TrajectoryWorkflow.record_consent,
        RecordConsent(actor_id="grd_1", kind=ConsentKind.legal_representative, given=True),
    )
    entries = {e.key: e for e in await other.query(TrajectoryWorkflow.timeline)}
    assert entries["enrollment_consent"].status is TaskStatus.done


@pytest.mark.parametrize("given", [True, False])
async def test_at_16_the_youth_is_asked_and_answers(harness: Harness, given: bool) -> None:
    h = harness
    handle = await h.enroll(age_years=15, age_extra_days=300)  # 16 in about two months
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    asked_on = entries["consent_16"].due - timedelta(days=28)
    await h.advance_to(asked_on)
    requests = h.outbox.of(MessageKind.consent_request, "consent_16")
    assert [(r.recipient.kind, r.reference) for r in requests] == [
        (PersonKind.youth, f"consent_16@{asked_on.isoformat()}")
    ]
    result = await handle.execute_update(
        TrajectoryWorkflow.record_consent,
        RecordConsent(actor_id="yth", kind=ConsentKind.data_sharing, given=given),
    )
    assert result.status == "done"
    wanted = ConsentStatus.given if given else ConsentStatus.refused
    assert (await handle.query(TrajectoryWorkflow.consents)).data_sharing is wanted
    await h.advance_to(entries["consent_16"].due + timedelta(days=2))
    assert len(h.outbox.of(MessageKind.consent_request, "consent_16")) == 1, "no more reminders"
    assert stored(h)[ConsentKind.data_sharing] is wanted


async def test_at_16_no_answer_means_no_sharing_and_an_in_person_task(harness: Harness) -> None:
    h = harness
    handle = await h.enroll(age_years=16, age_extra_days=10)
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    await h.advance_to(entries["consent_16"].due + timedelta(days=1))
    reminders = h.outbox.of(MessageKind.consent_request, "consent_16")
    assert len(reminders) == 4, "asked, then reminded 21, 14 and 7 days before the deadline"
    consents = await handle.query(TrajectoryWorkflow.consents)
    assert consents.data_sharing is ConsentStatus.expired
    assert h.outbox.recipients(MessageKind.task_reminder, "consent_16_in_person") == {
        h.region.holder(Role.case_director)
    }


@pytest.mark.parametrize("given", [True, False])
async def test_at_18_the_youth_decides_about_parents(harness: Harness, given: bool) -> None:
    h = harness
    handle = await h.enroll(age_years=17, age_extra_days=330)
    await handle.execute_update(
        TrajectoryWorkflow.record_consent,
        RecordConsent(actor_id="yth", kind=ConsentKind.data_sharing, given=True),
    )
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    await h.advance_to(entries["consent_18"].due - timedelta(days=27))
    assert h.outbox.of(MessageKind.consent_request, "consent_18")
    await handle.execute_update(
        TrajectoryWorkflow.record_consent,
        RecordConsent(actor_id="yth", kind=ConsentKind.parents_involved, given=given),
    )
    await h.advance_to(entries["consent_18"].due + timedelta(days=2))
    wanted = ConsentStatus.given if given else ConsentStatus.refused
    assert stored(h)[ConsentKind.parents_involved] is wanted
    assert not h.outbox.of(MessageKind.task_reminder, "consent_18_in_person")


async def test_at_18_no_answer_stops_informing_parents_and_tasks_the_case_director(
    harness: Harness,
) -> None:
    h = harness
    handle = await h.enroll(age_years=17, age_extra_days=330)
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    await h.advance_to(entries["consent_18"].due + timedelta(days=1))
    assert len(h.outbox.of(MessageKind.consent_request, "consent_18")) == 4
    assert (await handle.query(TrajectoryWorkflow.consents)).parents_involved is (
        ConsentStatus.expired
    )
    assert stored(h)[ConsentKind.parents_involved] is ConsentStatus.expired
    assert h.outbox.recipients(MessageKind.task_reminder, "consent_18_in_person") == {
        h.region.holder(Role.case_director)
    }
    # Asked in person later: the answer is recorded and the in-person task is done.
    await handle.execute_update(
        TrajectoryWorkflow.record_consent,
        RecordConsent(actor_id="pro_case_director", kind=ConsentKind.parents_involved, given=True),
    )
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert entries["consent_18_in_person"].status is TaskStatus.done
