"""A rotation hands over while an escalation is open: the next pages go to the new on-call
person, also across the change to summer time (hand-off stays at 09:00 local)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import Session

from store.rotations import who_is_on_call
from tests.oncall.conftest import NUMBERS, World
from tests.oncall.phones import FakePhone
from workflows.dates import AMSTERDAM

PHONE_OF = dict(zip(NUMBERS, ("anna", "bram", "cees", "bob"), strict=True))
ROTATION_AGAIN = [{"target": "rotation", "ref": "rot_jobcoach", "wait_minutes": 60}]


def monday_after_spring_forward(now: datetime) -> datetime:
    """08:50 local on the first Monday of summer time after ``now`` (e.g. 29 March 2027)."""
    year = now.astimezone(AMSTERDAM).year
    while True:
        sunday = date(year, 3, 31)
        sunday -= timedelta(days=(sunday.weekday() + 1) % 7)
        target = datetime.combine(sunday + timedelta(days=1), time(8, 50), tzinfo=AMSTERDAM)
        if target > now + timedelta(days=8):  # past the fixture's rotation start
            return target
        year += 1


def on_call(world: World, at: datetime) -> FakePhone:
    with Session(world.engine) as session:
        [person] = who_is_on_call(session, rotation_id="rot_jobcoach", at=at)
    return world.phones[PHONE_OF[person]]


@pytest.mark.policy(kind="custom", shift_hours=1, repeat=1, steps=ROTATION_AGAIN)
async def test_a_hand_off_during_an_open_escalation_pages_the_new_on_call_person(
    world: World,
) -> None:
    # Start at half past: the shifts change on the hour, and round two comes an hour and a few
    # seconds after the first page. Started in an hour's last minute, the second page fell in
    # the shift after ``then``'s.
    started = await world.env.get_current_time()
    await world.sleep((90 - started.astimezone(AMSTERDAM).minute) % 60)
    now = await world.env.get_current_time()
    first, then = on_call(world, now), on_call(world, now + timedelta(minutes=61))
    assert first is not then
    handle = await world.call()
    code = await first.expect_page()
    await world.sleep(61)  # the hourly shift has handed over; round two pages the rotation again
    assert await then.expect_page() == code
    await then.reply(code)
    await then.expect_sms("bevestigd")
    await first.expect_sms("opgepakt")
    await world.resolve(handle)
    world.phones.assert_no_surprises()


@pytest.mark.policy(
    repeat=1, steps=[{"target": "rotation", "ref": "rot_jobcoach", "wait_minutes": 15}]
)
async def test_weekly_hand_off_stays_at_nine_local_after_summer_time_starts(world: World) -> None:
    # The rotation was anchored on a Monday 09:00 in winter time. On the Monday after summer
    # time starts (the last Sunday of March) the hand-off is at 09:00 CEST, not 10:00.
    now = await world.env.get_current_time()
    target = monday_after_spring_forward(now)
    await world.env.sleep(target - now)
    before, after = on_call(world, target), on_call(world, target + timedelta(minutes=15))
    assert before is not after
    handle = await world.call()
    code = await before.expect_page()
    await world.sleep(15)  # 09:05 local: the new week's jobcoach
    assert await after.expect_page() == code
    paged_at = (await world.env.get_current_time()).astimezone(AMSTERDAM)
    assert (paged_at.hour, paged_at.utcoffset()) == (9, timedelta(hours=2))
    await after.reply(f"OK {code}")
    await after.expect_sms("bevestigd")
    await before.expect_sms("opgepakt")
    await world.resolve(handle)
    world.phones.assert_no_surprises()
