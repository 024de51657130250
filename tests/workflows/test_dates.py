"""Date arithmetic used by workflows: months, birthdays, Dutch public holidays, working days."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import holidays

from workflows.dates import (
    add_days,
    add_months,
    add_working_days,
    age_on,
    birthday,
    dutch_public_holidays,
    wake_moment,
)


def test_months_clamp_to_the_end_of_a_shorter_month() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 3, 15), -13) == date(2026, 2, 15)


def test_months_and_days_agree_with_the_calendar_for_every_day_of_eight_years() -> None:
    """The month lengths come from a table (``calendar.monthrange`` cost twice as much): every
    day of 2023–2030 (two leap years, every month end), moved by months back and forth."""
    day = date(2023, 1, 1)
    while day < date(2031, 1, 1):
        for months in (-216, -13, -1, 1, 2, 11, 12, 13, 30, 216):
            year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
            last = calendar.monthrange(year, month + 1)[1]
            expected = date(year, month + 1, min(day.day, last))
            assert add_months(day, months) == expected, (day, months)
        for days in (-366, -1, 1, 28, 365):
            assert add_days(day, days) == day + timedelta(days=days)
        day += timedelta(days=1)


def test_a_leap_day_birthday_falls_on_28_february() -> None:
    born = date(2008, 2, 29)
    assert birthday(born, 18) == date(2026, 2, 28)
    assert age_on(born, date(2026, 2, 27)) == 17
    assert age_on(born, date(2026, 2, 28)) == 18


def test_holidays_agree_with_the_holidays_package_for_forty_years() -> None:
    """The package is the reference; the law (Algemene termijnenwet) adds Liberation Day every
    year and has no Good Friday."""
    for year in range(2020, 2060):
        reference = {
            day
            for day, name in holidays.country_holidays("NL", years=year).items()
            if "Goede Vrijdag" not in name and "Good Friday" not in name
        } | {date(year, 5, 5)}
        assert dutch_public_holidays(year) == reference, year


def test_kings_day_moves_to_saturday_when_the_27th_is_a_sunday() -> None:
    assert date(2025, 4, 26) in dutch_public_holidays(2025)
    assert date(2025, 4, 27) not in dutch_public_holidays(2025)


def test_five_working_days_skip_weekends_and_holidays() -> None:
    assert add_working_days(date(2026, 4, 24), 5) == date(2026, 5, 4)  # King's Day on Monday
    assert add_working_days(date(2026, 12, 24), 2) == date(2026, 12, 29)


def test_wake_moments_are_nine_local_across_daylight_saving() -> None:
    assert wake_moment(date(2027, 3, 27), 9).utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    assert wake_moment(date(2027, 3, 29), 9).utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
