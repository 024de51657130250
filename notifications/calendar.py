"""Working days, working hours and Dutch public holidays, in the region's time zone.

Pure functions: no I/O and no wall clock, so workflows may call them too (pass
``workflow.now()``). Working days and Dutch public holidays come from :mod:`workflows.dates`, so
the trajectory's deadlines and the notification layer's quiet hours agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from workflows.dates import add_working_days, is_working_day
from workflows.dates import is_dutch_public_holiday as is_public_holiday


class HoursSettings(Protocol):
    """The part of :class:`config.settings.Settings` the calendar needs."""

    time_zone: str
    working_hours_start: int
    working_hours_end: int


@dataclass(frozen=True)
class WorkingHours:
    """Working hours ``start``..``end`` (whole hours, local time) on working days."""

    zone: ZoneInfo
    start: int = 9
    end: int = 17

    @classmethod
    def of(cls, settings: HoursSettings) -> WorkingHours:
        return cls(
            zone=ZoneInfo(settings.time_zone),
            start=settings.working_hours_start,
            end=settings.working_hours_end,
        )


def start_of_working_day(day: date, hours: WorkingHours) -> datetime:
    """The moment working hours begin on ``day``, in UTC (daylight saving applied)."""
    return datetime.combine(day, time(hours.start), tzinfo=hours.zone).astimezone(UTC)


def is_working_moment(moment: datetime, hours: WorkingHours) -> bool:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    local = moment.astimezone(hours.zone)
    return is_working_day(local.date()) and hours.start <= local.hour < hours.end


def next_working_moment(moment: datetime, hours: WorkingHours) -> datetime:
    """``moment`` itself when it is within working hours, otherwise the start of the next
    working period; always returned in UTC."""
    if is_working_moment(moment, hours):
        return moment.astimezone(UTC)
    local = moment.astimezone(hours.zone)
    day = local.date()
    if not (is_working_day(day) and local.hour < hours.start):
        day = add_working_days(day, 1) if is_working_day(day) else _next_working_day(day)
    return start_of_working_day(day, hours)


def next_working_day_start(moment: datetime, hours: WorkingHours) -> datetime:
    """The first start of working hours strictly after ``moment`` (when a daily digest that
    runs at the start of working hours will next go out)."""
    local = moment.astimezone(hours.zone)
    day = local.date()
    if is_working_day(day) and start_of_working_day(day, hours) > moment:
        return start_of_working_day(day, hours)
    return start_of_working_day(_next_working_day(day), hours)


def _next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def local_date(moment: datetime, hours: WorkingHours) -> date:
    return moment.astimezone(hours.zone).date()


__all__ = [
    "WorkingHours",
    "add_working_days",
    "is_public_holiday",
    "is_working_day",
    "is_working_moment",
    "local_date",
    "next_working_day_start",
    "next_working_moment",
    "start_of_working_day",
]
