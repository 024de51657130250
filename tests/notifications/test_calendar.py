"""Working hours, working days and Dutch public holidays in Europe/Amsterdam (DST-correct)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from notifications.calendar import (
    WorkingHours,
    add_working_days,
    is_public_holiday,
    is_working_moment,
    next_working_day_start,
    next_working_moment,
)

AMS = ZoneInfo("Europe/Amsterdam")
HOURS = WorkingHours(AMS, 9, 17)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def test_kings_day_and_christian_holidays_are_not_working_days() -> None:
    assert is_public_holiday(date(2027, 4, 27))  # Koningsdag (a Tuesday)
    assert is_public_holiday(date(2027, 3, 29))  # Tweede Paasdag
    assert is_public_holiday(date(2027, 5, 6))  # Hemelvaartsdag
    assert is_public_holiday(date(2027, 5, 17))  # Tweede Pinksterdag
    assert is_public_holiday(date(2026, 12, 25)) and is_public_holiday(date(2026, 12, 26))
    assert not is_public_holiday(date(2027, 4, 28))


def test_evening_before_kings_day_waits_until_the_day_after() -> None:
    asked = local(2027, 4, 26, 20, 0)
    assert next_working_moment(asked, HOURS) == local(2027, 4, 28, 9, 0).astimezone(UTC)


def test_evening_before_easter_and_the_dst_change_waits_for_tuesday_nine_cest() -> None:
    # Clocks go forward on Sunday 28 March 2027; 29 March is Easter Monday.
    asked = local(2027, 3, 26, 18, 30)
    moment = next_working_moment(asked, HOURS)
    assert moment == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST = 07:00 UTC
    assert moment.astimezone(AMS).hour == 9


def test_autumn_dst_change_moves_the_utc_start_of_the_day() -> None:
    before = next_working_moment(local(2026, 10, 23, 17, 0), HOURS)  # Friday after hours
    assert before == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET after the change
    assert is_working_moment(datetime(2026, 10, 26, 8, 0, tzinfo=UTC), HOURS)
    assert not is_working_moment(datetime(2026, 10, 26, 7, 59, tzinfo=UTC), HOURS)


def test_within_working_hours_is_now_and_the_end_hour_is_exclusive() -> None:
    now = local(2027, 3, 9, 16, 59)
    assert next_working_moment(now, HOURS) == now.astimezone(UTC)
    assert not is_working_moment(local(2027, 3, 9, 17, 0), HOURS)
    assert next_working_moment(local(2027, 3, 9, 7, 0), HOURS) == local(2027, 3, 9, 9, 0)


def test_add_working_days_skips_weekends_and_christmas() -> None:
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert add_working_days(date(2027, 4, 23), 5) == date(2027, 5, 3)  # skips King's Day
    # Easter Monday is skipped; Good Friday is a working day under the Algemene termijnenwet.
    assert add_working_days(date(2027, 3, 30), -1) == date(2027, 3, 26)
    assert add_working_days(date(2027, 5, 4), 1) == date(2027, 5, 7)  # 5 May, then Ascension
    assert add_working_days(date(2027, 3, 9), 0) == date(2027, 3, 9)


def test_the_digest_goes_out_at_the_next_start_of_working_hours() -> None:
    assert next_working_day_start(local(2027, 3, 9, 8, 0), HOURS) == local(2027, 3, 9, 9, 0)
    assert next_working_day_start(local(2027, 3, 9, 9, 0), HOURS) == local(2027, 3, 10, 9, 0)
    assert next_working_day_start(local(2027, 4, 26, 12, 0), HOURS) == local(2027, 4, 28, 9, 0)
