"""Date arithmetic for timelines: months, birthdays, local wake-up moments, working days.

Pure functions with no I/O and no wall clock, safe inside workflows.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


# Days per month in a common year; February gains a day in a leap year.
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to a shorter month's end (31 Jan + 1 → 28 Feb).
    Every date of a plan goes through here (a new trajectory's sixteen tasks, their reminders and
    birthdays): the lengths come from a table, as ``calendar.monthrange`` costs twice as much."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    if day.day <= 28:
        return date(year, month, day.day)
    last = 29 if month == 2 and calendar.isleap(year) else MONTH_DAYS[month - 1]
    return date(year, month, min(day.day, last))


def birthday(birth_date: date, age: int) -> date:
    """The day someone turns ``age`` (29 February birthdays fall on 28 February)."""
    return add_months(birth_date, 12 * age)


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    return years - 1 if birthday(birth_date, years) > day else years


def wake_moment(day: date, hour: int, zone: ZoneInfo = AMSTERDAM) -> datetime:
    """The moment a date's work is due: ``hour`` o'clock local time on ``day``, DST-correct."""
    return datetime.combine(day, time(hour), tzinfo=zone)


def local_date(moment: datetime, zone: ZoneInfo = AMSTERDAM) -> date:
    return moment.astimezone(zone).date()


def add_days(day: date, days: int) -> date:
    return date.fromordinal(day.toordinal() + days)  # half the cost of building a timedelta


def easter_sunday(year: int) -> date:
    """Gregorian Easter (the anonymous algorithm of Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=128)
def dutch_public_holidays(year: int) -> frozenset[date]:
    """The Dutch public holidays of the Algemene termijnenwet: New Year, Easter Sunday and
    Monday, King's Day (26 April when the 27th is a Sunday), Liberation Day (5 May, every year),
    Ascension, Whit Sunday and Monday, Christmas and Boxing Day.
    Good Friday is not one of them. Computed here rather than by a library so that workflows
    can use it without I/O or lazy imports."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:
        kings_day = date(year, 4, 26)
    offsets = (0, 1, 39, 49, 50)
    return frozenset(
        {date(year, 1, 1), kings_day, date(year, 5, 5), date(year, 12, 25), date(year, 12, 26)}
        | {easter + timedelta(days=n) for n in offsets}
    )


def is_dutch_public_holiday(day: date) -> bool:
    return day in dutch_public_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_dutch_public_holiday(day)


def add_working_days(day: date, days: int) -> date:
    """The working day ``days`` working days after ``day`` (before it when negative; 0 gives
    ``day``): weekends and Dutch public holidays are skipped."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def midday_utc(day: date) -> datetime:
    """A date as a timestamp for Temporal's datetime search attributes."""
    return datetime.combine(day, time(12), tzinfo=UTC)
