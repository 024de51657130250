"""SMS commands of a jobcoach: STOP and START, verifying a new number, garbage and help texts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from store.oncall import OverrideKind, RotationOverride, SmsReplyThrottle
from tests.oncall.conftest import World, add_mobile, as_
from tests.oncall.world import add_professional
from workflows.escalation import EscalationWorkflow


async def test_stop_moves_pages_to_email_and_start_brings_sms_back(world: World) -> None:
    anna = world.phones["anna"]
    await anna.reply("stop")
    assert world.contact(anna.number).sms_opted_out_at is not None
    handle = await world.call()
    await world.sleep(1)
    [mail] = world.mails_to("pro_anna")
    row = world.row(await world.escalation_id(handle))
    assert f"OK {row.ack_code}" in mail.text
    anna.assert_no_more()  # no SMS after STOP
    await world.resolve(handle)
    await anna.reply(" Start ")
    assert world.contact(anna.number).sms_opted_out_at is None
    again = await world.call()  # a new escalation for the same youth
    assert again.id == handle.id
    await anna.expect_page()
    await world.resolve(again)
    world.phones.assert_no_surprises()


async def test_a_new_number_is_paged_by_sms_only_after_it_is_verified(world: World) -> None:
    with Session(world.engine) as session:
        add_professional(session, "pro_dirk", "Dirk", "org_school")
        session.commit()
    contact_id = add_mobile(world.engine, "pro_dirk", "+31600000042", verified=False)
    dirk = world.phones.add("dirk", "+31600000042")
    assert (await world.web.post(f"/oncall/contacts/{contact_id}/verification")).status_code == 401
    other = await world.web.post(
        f"/oncall/contacts/{contact_id}/verification", headers=as_("pro_anna")
    )
    assert other.status_code == 404  # only your own number
    sent = await world.web.post(
        f"/oncall/contacts/{contact_id}/verification", headers=as_("pro_dirk")
    )
    assert sent.status_code == 202
    body = await dirk.expect_sms("code")
    code = re.search(r"\b(\d{6})\b", body)
    assert code is not None
    stored = world.contact(dirk.number)
    assert stored.verification_code_hash and code.group(1) not in stored.verification_code_hash
    now = await world.env.get_current_time()
    with Session(world.engine) as session:
        session.add(
            RotationOverride(
                rotation_id="rot_jobcoach",
                kind=OverrideKind.add,
                professional_id="pro_dirk",
                start_at=now - timedelta(hours=1),
                end_at=now + timedelta(days=365),
            )
        )
        session.commit()
    first = await world.call()
    await world.phones["anna"].expect_page()
    await world.sleep(1)
    assert len(world.mails_to("pro_dirk")) == 1  # unverified: the page went by email
    dirk.assert_no_more()
    wrong = await world.web.post(
        f"/oncall/contacts/{contact_id}/verification/confirm",
        json={"code": "000000"},
        headers=as_("pro_dirk"),
    )
    assert wrong.status_code == 422
    await dirk.reply(code.group(1))
    await dirk.expect_sms("bevestigd")
    assert world.contact(dirk.number).verified_at is not None
    await world.resolve(first)
    second = await world.call(trajectory_id="trj_00000000000000d1")
    await world.phones["anna"].expect_page()
    await dirk.expect_page()
    await world.resolve(second)
    world.phones.assert_no_surprises()


async def test_garbage_gets_one_help_text_per_hour(world: World) -> None:
    bram = world.phones["bram"]
    stranger = world.phones.add("stranger", "+31699999999")
    moment = datetime(2026, 1, 5, 10, tzinfo=UTC)
    world.replies.clock = lambda: moment
    await bram.reply("hallo?")
    await bram.expect_sms("niet begrepen", "OK")
    for text in ("wat moet ik doen", "OK", "12345", "OK 99"):
        await bram.reply(text)
    await stranger.reply("ok 1234")  # a code from a number we do not know
    await stranger.expect_sms("niet begrepen")
    bram.assert_no_more()
    moment += timedelta(minutes=61)
    await bram.reply("??")
    await bram.expect_sms("niet begrepen")
    with Session(world.engine) as session:
        row = session.get(SmsReplyThrottle, bram.number)
        assert row is not None and (row.garbage_count, row.help_count) == (6, 2)
    world.phones.assert_no_surprises()


async def test_an_ack_code_only_counts_from_a_known_verified_number(world: World) -> None:
    anna = world.phones["anna"]
    handle = await world.call()
    code = await anna.expect_page()
    stranger = world.phones.add("stranger", "+31688888888")
    await stranger.reply(f"OK {code}")
    await stranger.expect_sms("niet begrepen")
    assert (await handle.query(EscalationWorkflow.view)).acknowledged_by is None
    await world.resolve(handle)
    world.phones.assert_no_surprises()
