"""Who is on call: weekly and custom shifts, overrides of each kind, DST in Europe/Amsterdam."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from store.oncall import OverrideKind, Rotation, RotationKind, RotationMember, RotationOverride
from store.rotations import on_call_at, shift_at, who_is_on_call
from tests.factories import build_region

AMS = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def rotation(
    kind: RotationKind = RotationKind.weekly, start: datetime | None = None, hours: int = 168
) -> Rotation:
    # Monday 6 January 2025, 09:00 local
    return Rotation(
        id="rot",
        name="Jobcoaches",
        kind=kind,
        shift_hours=hours,
        start_at=(start or local(2025, 1, 6, 9)).astimezone(UTC),
    )


def members(*ids: str) -> list[RotationMember]:
    return [
        RotationMember(rotation_id="rot", professional_id=p, position=i) for i, p in enumerate(ids)
    ]


def override(
    kind: OverrideKind, start: datetime, end: datetime, who: str | None, replaces: str | None = None
) -> RotationOverride:
    return RotationOverride(
        rotation_id="rot",
        kind=kind,
        professional_id=who,
        replaces_professional_id=replaces,
        start_at=start,
        end_at=end,
    )


TEAM = members("anna", "bram", "cees")


def test_weekly_rotation_hands_over_on_monday_at_nine() -> None:
    rot = rotation()
    assert on_call_at(rot, TEAM, [], local(2025, 1, 6, 9)) == ["anna"]
    assert on_call_at(rot, TEAM, [], local(2025, 1, 13, 8, 59)) == ["anna"]
    assert on_call_at(rot, TEAM, [], local(2025, 1, 13, 9)) == ["bram"]
    assert on_call_at(rot, TEAM, [], local(2025, 1, 20, 9)) == ["cees"]
    assert on_call_at(rot, TEAM, [], local(2025, 1, 27, 9)) == ["anna"]


def test_before_the_start_the_cycle_runs_backwards() -> None:
    assert on_call_at(rotation(), TEAM, [], local(2025, 1, 6, 8)) == ["cees"]


def test_member_order_follows_position_not_row_order() -> None:
    shuffled = [TEAM[2], TEAM[0], TEAM[1]]
    assert on_call_at(rotation(), shuffled, [], local(2025, 1, 7)) == ["anna"]


def test_an_empty_rotation_has_nobody_on_call() -> None:
    assert on_call_at(rotation(), [], [], local(2025, 1, 7)) == []


def test_daily_and_custom_shift_lengths() -> None:
    daily = rotation(RotationKind.daily)
    assert on_call_at(daily, TEAM, [], local(2025, 1, 7, 10)) == ["bram"]
    assert on_call_at(daily, TEAM, [], local(2025, 1, 8, 8)) == ["bram"]
    twelve = rotation(RotationKind.custom, hours=12)
    assert on_call_at(twelve, TEAM, [], local(2025, 1, 6, 20, 59)) == ["anna"]
    assert on_call_at(twelve, TEAM, [], local(2025, 1, 6, 21)) == ["bram"]
    assert on_call_at(twelve, TEAM, [], local(2025, 1, 7, 9)) == ["cees"]


def test_custom_shift_must_last_at_least_an_hour() -> None:
    with pytest.raises(ValueError):
        on_call_at(rotation(RotationKind.custom, hours=0), TEAM, [], local(2025, 1, 7))


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError):
        shift_at(rotation(), datetime(2025, 1, 7))


def test_spring_forward_week_keeps_the_hand_off_at_nine_local() -> None:
    # Summer time starts Sunday 30 March 2025: the week of 24 March is 167 real hours long.
    rot = rotation(start=local(2025, 3, 24, 9))
    shift = shift_at(rot, local(2025, 3, 30, 12))
    assert shift.start == local(2025, 3, 24, 9)
    assert shift.end == local(2025, 3, 31, 9)
    assert shift.end - shift.start == timedelta(hours=167)
    assert on_call_at(rot, TEAM, [], local(2025, 3, 31, 8, 59)) == ["anna"]
    assert on_call_at(rot, TEAM, [], local(2025, 3, 31, 9)) == ["bram"]
    assert shift_at(rot, local(2025, 3, 31, 9)).start.astimezone(AMS).hour == 9


def test_fall_back_week_keeps_the_hand_off_at_nine_local() -> None:
    # Winter time starts Sunday 26 October 2025: that week is 169 real hours long.
    rot = rotation(start=local(2025, 10, 20, 9))
    shift = shift_at(rot, local(2025, 10, 26, 12))
    assert shift.end - shift.start == timedelta(hours=169)
    assert on_call_at(rot, TEAM, [], local(2025, 10, 27, 8, 59)) == ["anna"]
    assert on_call_at(rot, TEAM, [], local(2025, 10, 27, 9)) == ["bram"]


def test_hourly_shifts_through_the_doubled_hour_count_wall_clock_hours() -> None:
    # 02:00-03:00 happens twice on 26 October 2025; wall-clock counting gives that hour's
    # shift two real hours, and the next shift still starts at 03:00 local.
    rot = rotation(RotationKind.custom, start=local(2025, 10, 26, 0), hours=1)
    first_two = datetime(2025, 10, 26, 2, 30, fold=0, tzinfo=AMS)
    second_two = datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=AMS)
    assert on_call_at(rot, TEAM, [], first_two) == on_call_at(rot, TEAM, [], second_two) == ["cees"]
    assert on_call_at(rot, TEAM, [], local(2025, 10, 26, 3)) == ["anna"]


def test_a_shift_starting_in_the_spring_gap_starts_an_hour_later() -> None:
    rot = rotation(RotationKind.custom, start=local(2025, 3, 29, 2, 30), hours=24)
    shift = shift_at(rot, local(2025, 3, 30, 12))
    assert shift.start.astimezone(AMS).hour == 3
    assert shift.end == local(2025, 3, 31, 2, 30)


def test_replace_override_swaps_one_person_for_its_period() -> None:
    rot = rotation()
    sick = override(
        OverrideKind.replace, local(2025, 1, 7, 0), local(2025, 1, 8, 0), "dirk", "anna"
    )
    assert on_call_at(rot, TEAM, [sick], local(2025, 1, 7, 12)) == ["dirk"]
    assert on_call_at(rot, TEAM, [sick], local(2025, 1, 8, 0)) == ["anna"]
    assert on_call_at(rot, TEAM, [sick], local(2025, 1, 13, 12)) == ["bram"]


def test_replace_override_of_someone_not_on_call_changes_nothing() -> None:
    other = override(OverrideKind.replace, local(2025, 1, 7), local(2025, 1, 8), "dirk", "bram")
    assert on_call_at(rotation(), TEAM, [other], local(2025, 1, 7, 12)) == ["anna"]


def test_replace_override_without_target_replaces_whoever_is_on_call() -> None:
    cover = override(OverrideKind.replace, local(2025, 1, 7), local(2025, 1, 8), "dirk")
    assert on_call_at(rotation(), TEAM, [cover], local(2025, 1, 7, 12)) == ["dirk"]


def test_add_override_puts_a_second_person_on_call() -> None:
    extra = override(OverrideKind.add, local(2025, 1, 7), local(2025, 1, 8), "dirk")
    assert on_call_at(rotation(), TEAM, [extra], local(2025, 1, 7, 12)) == ["anna", "dirk"]


def test_remove_override_can_leave_nobody_on_call() -> None:
    off = override(OverrideKind.remove, local(2025, 1, 7), local(2025, 1, 8), "anna")
    assert on_call_at(rotation(), TEAM, [off], local(2025, 1, 7, 12)) == []
    extra = override(OverrideKind.add, local(2025, 1, 7), local(2025, 1, 8), "dirk")
    assert on_call_at(rotation(), TEAM, [extra, off], local(2025, 1, 7, 12)) == ["dirk"]


def test_who_is_on_call_reads_the_rows_and_skips_inactive_people(engine: Engine) -> None:
    region = build_region(engine)
    people = [region.spare_id, "pro_jobcoach", "pro_mentor"]
    with Session(engine) as session:
        session.add(rotation())
        session.flush()
        session.add_all(members(*people))
        session.add(
            override(OverrideKind.add, local(2025, 1, 7), local(2025, 1, 8), "pro_case_director")
        )
        session.commit()
        assert who_is_on_call(session, rotation_id="rot", at=local(2025, 1, 7, 12)) == [
            region.spare_id,
            "pro_case_director",
        ]
        assert who_is_on_call(session, rotation_id="rot", at=local(2025, 1, 13, 12)) == [
            "pro_jobcoach"
        ]
        assert who_is_on_call(session, rotation_id="nope", at=local(2025, 1, 7)) == []
        from store.directory import Professional

        spare = session.get(Professional, region.spare_id)
        assert spare is not None
        spare.active = False
        session.add(spare)
        session.commit()
        # two active members left: the cycle is anna-less, week 0 → pro_jobcoach
        assert (
            who_is_on_call(session, rotation_id="rot", at=local(2025, 1, 7, 12))[0]
            == "pro_jobcoach"
        )
