"""Who is on call (dienst): ONE answer, used by the escalation workflow, the web app and the tests.

A rotation hands over from one jobcoach to the next every shift. Shifts are counted in local
wall-clock time of the rotation's time zone, so a weekly hand-off at Monday 09:00 in
Europe/Amsterdam stays at 09:00 across the change to and from summer time (that week is then
167 or 169 real hours long). Overrides then change the answer for a period: ``replace`` swaps one
person (or, without ``replaces_professional_id``, everybody) for another, ``add`` puts an extra
person on call, ``remove`` takes a person off.

:func:`on_call_at` is pure (rows in, ids out); :func:`who_is_on_call` reads the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from store.directory import Professional
from store.oncall import (
    Escalation,
    EscalationPolicy,
    EscalationStatus,
    OverrideKind,
    Rotation,
    RotationKind,
    RotationMember,
    RotationOverride,
)

SHIFT_HOURS = {RotationKind.weekly: 168, RotationKind.daily: 24}


@dataclass(frozen=True)
class Shift:
    """One turn of the rotation: ``index`` counts shifts from the rotation's start."""

    index: int
    start: datetime
    end: datetime


def shift_length(rotation: Rotation) -> timedelta:
    hours = SHIFT_HOURS.get(rotation.kind, rotation.shift_hours)
    if hours <= 0:
        raise ValueError("a shift must last at least one hour")
    return timedelta(hours=hours)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local wall-clock time without a zone, so that adding hours means wall-clock hours."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _boundary(rotation: Rotation, index: int) -> datetime:
    """The hand-off moment that starts shift ``index`` (a wall time that does not exist in the
    spring-forward gap is read with the offset before the change, i.e. an hour later).

    Returned in UTC: Python compares and subtracts two datetimes sharing one ``ZoneInfo`` by
    wall clock, which would hide the DST hour."""
    zone = ZoneInfo(rotation.time_zone)
    local = _wall(rotation.start_at, zone) + index * shift_length(rotation)
    return local.replace(tzinfo=zone).astimezone(UTC)


def shift_at(rotation: Rotation, at: datetime) -> Shift:
    """The shift running at ``at`` (shifts before the start count backwards: the cycle is an
    anchor, not a beginning)."""
    if at.tzinfo is None:
        raise ValueError("'at' must be timezone-aware")
    at = at.astimezone(UTC)
    zone = ZoneInfo(rotation.time_zone)
    elapsed = _wall(at, zone) - _wall(rotation.start_at, zone)
    index = elapsed // shift_length(rotation)
    # The wall-clock estimate can be one off around a fall-back hour: settle on real instants.
    while _boundary(rotation, index + 1) <= at:
        index += 1
    while _boundary(rotation, index) > at:
        index -= 1
    return Shift(index=index, start=_boundary(rotation, index), end=_boundary(rotation, index + 1))


def on_call_at(
    rotation: Rotation,
    members: Sequence[RotationMember],
    overrides: Sequence[RotationOverride],
    at: datetime,
) -> list[str]:
    """The professional ids on call in ``rotation`` at ``at``, overrides applied, in order."""
    at = at.astimezone(UTC)
    ordered = sorted(members, key=lambda m: (m.position, m.id or 0))
    people: list[str] = []
    if ordered:
        turn = shift_at(rotation, at).index % len(ordered)
        people.append(ordered[turn].professional_id)
    active = [o for o in overrides if o.start_at <= at < o.end_at]
    for override in sorted(active, key=lambda o: (o.start_at, o.id or 0)):
        person = override.professional_id
        if override.kind is OverrideKind.replace and person:
            target = override.replaces_professional_id
            if target is None:
                people = [person]
            else:
                people = [person if p == target else p for p in people]
        elif override.kind is OverrideKind.add and person:
            people.append(person)
        elif override.kind is OverrideKind.remove:
            gone = person or override.replaces_professional_id
            people = [p for p in people if p != gone]
    return list(dict.fromkeys(people))


def who_is_on_call(session: Session, *, rotation_id: str, at: datetime) -> list[str]:
    """The active professionals on call in a rotation at ``at`` (empty for an unknown one).

    Inactive professionals are left out of the cycle, as if they had been removed from it."""
    rotation = session.get(Rotation, rotation_id)
    if rotation is None:
        return []
    members = session.exec(
        select(RotationMember)
        .join(Professional, col(Professional.id) == RotationMember.professional_id)
        .where(RotationMember.rotation_id == rotation_id, col(Professional.active))
    ).all()
    overrides = session.exec(
        select(RotationOverride).where(
            RotationOverride.rotation_id == rotation_id,
            col(RotationOverride.start_at) <= at,
            col(RotationOverride.end_at) > at,
        )
    ).all()
    people = on_call_at(rotation, members, overrides, at)
    if not people:
        return people
    active = set(
        session.exec(
            select(Professional.id).where(
                col(Professional.id).in_(people), col(Professional.active)
            )
        ).all()
    )
    return [p for p in people if p in active]  # an override cannot page an inactive person


def upcoming_shifts(
    session: Session, rotation: Rotation, *, at: datetime, count: int
) -> list[tuple[Shift, list[str]]]:
    """The shift running at ``at`` with who is on call at ``at``, then the next ``count - 1``
    shifts with who is on call as each begins (overrides applied, by :func:`who_is_on_call`)."""
    shift = shift_at(rotation, at)
    shifts = [(shift, who_is_on_call(session, rotation_id=rotation.id, at=at))]
    for _ in range(count - 1):
        shift = shift_at(rotation, shift.end)
        shifts.append((shift, who_is_on_call(session, rotation_id=rotation.id, at=shift.start)))
    return shifts


def rotation_in_use(session: Session, rotation_id: str) -> tuple[list[str], list[str]]:
    """(escalation policies with a step paging this rotation, open escalations whose frozen
    policy does): while either exists the rotation must not disappear."""

    def pages(steps: Sequence[dict[str, object]]) -> bool:
        return any(s.get("target") == "rotation" and s.get("ref") == rotation_id for s in steps)

    policies = [p.id for p in session.exec(select(EscalationPolicy)).all() if pages(p.steps)]
    running = session.exec(
        select(Escalation).where(Escalation.status == EscalationStatus.open)
    ).all()
    escalations = [e.id for e in running if pages(e.policy_snapshot.get("steps") or [])]
    return policies, escalations
