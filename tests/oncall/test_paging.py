"""Conversation tests: pages, replies and escalation, with fake phones on the gateway emulator."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from store.oncall import EscalationCall
from tests.oncall.conftest import World, as_
from workflows.escalation import EscalationWorkflow
from workflows.escalation_models import CallerKind


async def test_ack_at_step_one_by_sms_reply_stops_paging_and_tells_the_caller(world: World) -> None:
    anna, bram = world.phones["anna"], world.phones["bram"]
    handle = await world.call()
    code = await anna.expect_page()
    await anna.reply(f"  ok {code} ")
    await anna.expect_sms("bevestigd", code)
    await world.sleep(60)  # long past every step's wait: nobody else is paged
    escalation_id = await world.escalation_id(handle)
    row = world.row(escalation_id)
    assert (row.status.value, row.acknowledged_by, row.acknowledged_via) == (
        "acknowledged",
        "pro_anna",
        "sms",
    )
    [told] = world.mails_to("pro_case_director")  # the caller hears it is taken, and by whom
    assert "Anna" in told.text
    [paged_by_mail] = world.mails_to("pro_anna")  # the page went out by email as well
    assert code in paged_by_mail.text
    result = await world.resolve(handle)
    assert result.status.value == "resolved" and result.pages == 1
    # One audit entry per channel of the page: SMS and email.
    assert world.actions(escalation_id) == [
        "created",
        "paged",
        "paged",
        "acknowledged",
        "resolved",
    ]
    world.phones.assert_no_surprises()
    del bram


async def test_no_ack_pages_the_backup_then_the_coordinator(world: World) -> None:
    anna, bob, coordinator = world.phones["anna"], world.phones["bob"], world.phones["coordinator"]
    handle = await world.call()
    code = await anna.expect_page()
    await world.sleep(9)
    bob.assert_no_more()
    await world.sleep(2)
    assert await bob.expect_page() == code
    await world.sleep(10)
    assert await coordinator.expect_page() == code
    escalation_id = await world.escalation_id(handle)
    answer = await world.web.post(
        f"/oncall/escalations/{escalation_id}/ack", headers=as_(world.coordinator)
    )
    assert answer.json()["outcome"] == "acknowledged"
    await anna.expect_sms("opgepakt", code)  # the others hear it is taken
    await bob.expect_sms("opgepakt", code)
    again = await world.web.post(
        f"/oncall/escalations/{escalation_id}/ack", headers=as_("pro_bram")
    )
    assert again.json() == {
        "outcome": "already_acknowledged",
        "escalation_id": escalation_id,
        "acknowledged_by": world.coordinator,
    }
    await world.sleep(60)
    await world.resolve(handle)
    assert world.actions(escalation_id) == [
        "created",
        "paged",
        "paged",
        "escalated",
        "paged",
        "paged",
        "escalated",
        "paged",
        "paged",
        "acknowledged",
        "resolved",
    ]
    assert world.row(escalation_id).acknowledged_via == "dashboard"
    world.phones.assert_no_surprises()


async def test_ack_by_link_in_the_page(world: World) -> None:
    anna = world.phones["anna"]
    handle = await world.call()
    body = await anna.expect_page()
    sms = anna.inbox()[0]
    link = sms[sms.index("http") :].split()[0]
    token = link.rsplit("/", 1)[1]
    first = await world.web.post(f"/oncall/ack/{token}")
    assert first.json()["outcome"] == "acknowledged", first.text
    second = await world.web.post(f"/oncall/ack/{token}")
    assert second.json()["outcome"] == "already_acknowledged"
    await world.sleep(30)
    escalation_id = await world.escalation_id(handle)
    assert world.row(escalation_id).acknowledged_via == "link"
    await world.resolve(handle)
    world.phones.assert_no_surprises()
    del body


@pytest.mark.policy(
    repeat=1,
    steps=[
        {"target": "rotation", "ref": "rot_jobcoach", "wait_minutes": 5},
        {"target": "person", "ref": "pro_backup", "wait_minutes": 5},
    ],
)
@pytest.mark.parametrize(
    "begins",
    [
        "now",
        # The rotation's weekly hand-off is on Mondays at nine: begun at 08:55, the test's half
        # hour would cross it. The world begins in Anna's next week instead (this failed).
        pytest.param("monday 08:55", marks=pytest.mark.begins_on_monday_at(8, 55)),
    ],
)
async def test_repeat_then_the_coordinator_before_giving_up(world: World, begins: str) -> None:
    anna, bob, coordinator = world.phones["anna"], world.phones["bob"], world.phones["coordinator"]
    handle = await world.call()
    code = await anna.expect_page()
    for minutes, phone in ((5, bob), (5, anna), (5, bob), (5, coordinator)):
        await world.sleep(minutes)
        assert await phone.expect_page() == code
    await world.sleep(6)
    result = await handle.result()
    assert (result.status.value, result.pages) == ("exhausted", 5)
    escalation_id = result.escalation_id
    assert world.row(escalation_id).status.value == "exhausted"
    assert world.actions(escalation_id)[-1] == "exhausted"
    await anna.reply(f"OK {code}")  # too late: the escalation is closed
    await anna.expect_sms("niet begrepen")
    world.phones.assert_no_surprises()


async def test_a_second_call_joins_the_open_escalation(world: World) -> None:
    anna = world.phones["anna"]
    first = await world.call(caller="pro_case_director")
    code = await anna.expect_page()
    second = await world.call(caller="pro_mentor", kind=CallerKind.partner)
    assert second.id == first.id
    await world.sleep(2)
    await anna.reply(code)
    await anna.expect_sms("bevestigd")
    await world.sleep(1)
    escalation_id = await world.escalation_id(first)
    with Session(world.engine) as session:
        calls = session.exec(
            select(EscalationCall).where(EscalationCall.escalation_id == escalation_id)
        ).all()
    assert [c.caller_ref for c in calls] == ["pro_case_director", "pro_mentor"]
    assert world.actions(escalation_id) == ["created", "paged", "paged", "joined", "acknowledged"]
    assert len(world.mails_to("pro_case_director")) == 1
    assert len(world.mails_to("pro_mentor")) == 1
    third = await world.call(caller="pro_school")  # after the ack: told at once who is coming
    await world.sleep(1)
    assert third.id == first.id
    assert len(world.mails_to("pro_school")) == 1
    await world.resolve(first)
    world.phones.assert_no_surprises()


async def test_a_second_sms_ack_hears_who_already_took_it(world: World) -> None:
    anna, bob = world.phones["anna"], world.phones["bob"]
    await world.call()
    code = await anna.expect_page()
    await world.sleep(11)
    await bob.expect_page()
    await bob.reply(f"Ok{code}")
    await bob.expect_sms("bevestigd")
    await anna.expect_sms("opgepakt")
    await anna.reply(f"OK {code}")
    await anna.expect_sms("al opgepakt door Bob")
    world.phones.assert_no_surprises()


async def test_the_web_routes_need_a_signed_in_person_and_the_audit_a_coordinator(
    world: World,
) -> None:
    body = {"trajectory_id": world.trajectory_id, "category": "absence", "urgency": "today"}
    assert (await world.web.post("/oncall/calls", json=body)).status_code == 401
    started = await world.web.post("/oncall/calls", json=body, headers=as_("pro_mentor"))
    assert started.status_code == 202
    world.started.append(started.json()["workflow_id"])
    code = await world.phones["anna"].expect_page()
    handle = world.env.client.get_workflow_handle_for(
        EscalationWorkflow.run, started.json()["workflow_id"]
    )
    escalation_id = await world.escalation_id(handle)
    await world.sleep(1)  # the page is recorded just after it is sent
    audit_url = f"/oncall/escalations/{escalation_id}/audit"
    assert (await world.web.get(audit_url, headers=as_("pro_anna"))).status_code == 403
    trail = (await world.web.get(audit_url, headers=as_(world.coordinator))).json()
    assert [e["action"] for e in trail["entries"]] == ["created", "paged", "paged"]
    assert trail["entries"][0]["actor_id"] == "pro_mentor"
    assert [e["detail"]["channel"] for e in trail["entries"][1:]] == ["sms", "email"]
    # The rotation is laid out on the test server's clock, which runs ahead of the wall clock.
    at = (await world.env.get_current_time()).isoformat()
    now = await world.web.get(
        "/oncall/rotations/rot_jobcoach/now", params={"at": at}, headers=as_("pro_anna")
    )
    assert now.json()["on_call"] == ["pro_anna"]
    resolved = await world.web.post(
        f"/oncall/escalations/{escalation_id}/resolve",
        json={"outcome": "withdrawn"},
        headers=as_("pro_mentor"),
    )
    assert resolved.json()["outcome"] == "resolved"
    result = await handle.result()
    assert (result.status.value, result.outcome and result.outcome.value) == (
        "resolved",
        "withdrawn",
    )
    again = await world.web.post(
        f"/oncall/escalations/{escalation_id}/resolve",
        json={"outcome": "visited"},
        headers=as_("pro_mentor"),
    )
    assert again.json()["outcome"] == "already_closed"
    del code
    world.phones.assert_no_surprises()
