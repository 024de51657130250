"""On-call rotations kept by the coordinator in the app: create and edit a rotation, add, remove
and reorder its members, add and delete overrides, and see who is on call now and in the next
shifts. Everyone signed in may look; only the coordinator changes anything (forms and JSON API,
each change one transaction of :mod:`web.directory_changes`, audited with ids only).

Who is on call is never computed here: :func:`store.rotations.who_is_on_call` (through
:func:`store.rotations.upcoming_shifts`) gives the one answer. Moments without a time zone, such
as a form's ``2025-03-31T09:00``, are read in the rotation's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator
from sqlmodel import Session, col, select

from store.base import new_id
from store.directory import Organisation, Professional
from store.oncall import OverrideKind, Rotation, RotationKind, RotationMember, RotationOverride
from store.rotations import SHIFT_HOURS, rotation_in_use, upcoming_shifts
from web.auth import Viewer, audit
from web.directory import Key, RowId, back, message_values, then
from web.directory_changes import (
    Refused,
    api_change,
    check_moment,
    check_time_zone,
    form_change,
    parse,
)
from web.site import CoordinatorOnly, SignedIn, ctx, form_post

router = APIRouter(tags=["directory"])
FORM = [Depends(form_post)]
NEXT_SHIFTS = 6  # the running shift and the five after it
MAX_SHIFT_HOURS = 24 * 28

Moment = Annotated[datetime, AfterValidator(check_moment)]
Id = Annotated[str, Field(min_length=1, max_length=40)]
TimeZone = Annotated[str, Field(max_length=60), AfterValidator(check_time_zone)]


class RotationIn(BaseModel):
    """A rotation. ``start`` is the first hand-off (and so the hand-off time of every shift);
    ``shift_hours`` counts only for ``custom``."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: RotationKind = RotationKind.weekly
    shift_hours: Annotated[int, Field(ge=1, le=MAX_SHIFT_HOURS)] | None = Field(
        default=None, validate_default=True
    )
    start: Moment
    time_zone: TimeZone = "Europe/Amsterdam"
    organisation_id: Id | None = None

    @field_validator("shift_hours")
    @classmethod
    def _custom_needs_hours(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("kind") is RotationKind.custom:
            raise ValueError("a custom rotation needs its shift length in hours")
        return value


class RotationPatch(BaseModel):
    """Only the fields sent are changed."""

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    kind: RotationKind | None = None
    shift_hours: Annotated[int, Field(ge=1, le=MAX_SHIFT_HOURS)] | None = None
    start: Moment | None = None
    time_zone: TimeZone | None = None
    organisation_id: Id | None = None


class MemberIn(BaseModel):
    professional_id: Id


class MemberOrder(BaseModel):
    """Every member id of the rotation, in the new order."""

    member_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(max_length=500)


class OverrideIn(BaseModel):
    """``replace``: ``professional_id`` takes the turn of ``replaces_professional_id`` (or of
    whoever is on call); ``add``: also on call; ``remove``: taken off call. From ``start`` up to
    (not including) ``end``."""

    kind: OverrideKind
    professional_id: Id
    replaces_professional_id: Id | None = None
    start: Moment
    end: Moment


# Changes


def _utc(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def _apply_rotation(session: Session, rotation: Rotation, data: RotationIn) -> None:
    if data.organisation_id is not None and data.organisation_id != rotation.organisation_id:
        org = session.get(Organisation, data.organisation_id)
        if org is None:
            raise Refused("unknown_organisation", 422, ("organisation_id",))
        if not org.active:  # a rotation keeps an organisation made inactive, gets no new one
            raise Refused("inactive_organisation", 422, ("organisation_id",))
    rotation.name, rotation.kind, rotation.time_zone = data.name, data.kind, data.time_zone
    rotation.shift_hours = SHIFT_HOURS.get(data.kind) or data.shift_hours or 0
    rotation.start_at = _utc(data.start, data.time_zone)
    rotation.organisation_id = data.organisation_id
    session.add(rotation)


def create_rotation(session: Session, viewer: Viewer, data: RotationIn) -> str:
    rotation = Rotation(id=new_id("rot"), name=data.name, start_at=datetime.now(UTC))
    _apply_rotation(session, rotation, data)
    audit(session, viewer, "rotation_added", "rotation", rotation.id)
    return rotation.id


def edit_rotation(session: Session, viewer: Viewer, rotation_id: str, patch: RotationPatch) -> str:
    rotation = _rotation(session, rotation_id)
    current = {
        "name": rotation.name,
        "kind": rotation.kind,
        "shift_hours": rotation.shift_hours,
        "start": rotation.start_at,
        "time_zone": rotation.time_zone,
        "organisation_id": rotation.organisation_id,
    }
    changed = sorted(patch.model_fields_set)
    _apply_rotation(
        session, rotation, parse(RotationIn, current | patch.model_dump(include=set(changed)))
    )
    audit(session, viewer, "rotation_changed", "rotation", rotation.id, {"fields": changed})
    return rotation.id


def delete_rotation(session: Session, viewer: Viewer, rotation_id: str) -> str:
    """Refused while an escalation policy pages the rotation, or an open escalation may still."""
    rotation = _rotation(session, rotation_id)
    policies, escalations = rotation_in_use(session, rotation_id)
    if policies or escalations:
        raise Refused("rotation_in_use", 409)
    for row in (*_members(session, rotation_id), *_overrides(session, rotation_id)):
        session.delete(row)
    session.flush()
    session.delete(rotation)
    audit(session, viewer, "rotation_deleted", "rotation", rotation_id)
    return rotation_id


def add_member(session: Session, viewer: Viewer, rotation_id: str, data: MemberIn) -> int:
    _rotation(session, rotation_id)
    _active_person(session, data.professional_id, "professional_id")
    members = _members(session, rotation_id)
    if any(m.professional_id == data.professional_id for m in members):
        raise Refused("already_member", 409, ("professional_id",))
    member = RotationMember(
        rotation_id=rotation_id,
        professional_id=data.professional_id,
        position=max((m.position for m in members), default=-1) + 1,
    )
    session.add(member)
    session.flush()
    assert member.id is not None
    detail = {"member": member.id, "professional": data.professional_id}
    audit(session, viewer, "rotation_member_added", "rotation", rotation_id, detail)
    return member.id


def remove_member(session: Session, viewer: Viewer, rotation_id: str, member_id: int) -> int:
    members = _members(session, rotation_id)
    gone = next((m for m in members if m.id == member_id), None)
    if gone is None:
        raise Refused("unknown_member", 404)
    session.delete(gone)
    _renumber(session, [m for m in members if m is not gone])
    detail = {"member": member_id, "professional": gone.professional_id}
    audit(session, viewer, "rotation_member_removed", "rotation", rotation_id, detail)
    return member_id


def move_member(
    session: Session, viewer: Viewer, rotation_id: str, member_id: int, up: bool
) -> int:
    members = _members(session, rotation_id)
    ids = [m.id for m in members]
    if member_id not in ids:
        raise Refused("unknown_member", 404)
    here = ids.index(member_id)
    there = here - 1 if up else here + 1
    if 0 <= there < len(members):
        members[here], members[there] = members[there], members[here]
    return _reorder(session, viewer, rotation_id, members)


def order_members(session: Session, viewer: Viewer, rotation_id: str, data: MemberOrder) -> int:
    members = {m.id or 0: m for m in _members(session, rotation_id)}
    if sorted(data.member_ids) != sorted(members):
        raise Refused("member_order", 422, ("member_ids",))
    return _reorder(session, viewer, rotation_id, [members[i] for i in data.member_ids])


def _reorder(
    session: Session, viewer: Viewer, rotation_id: str, members: list[RotationMember]
) -> int:
    _renumber(session, members)
    detail = {"order": [m.id for m in members]}
    audit(session, viewer, "rotation_members_reordered", "rotation", rotation_id, detail)
    return len(members)


def _renumber(session: Session, members: list[RotationMember]) -> None:
    for position, member in enumerate(members):
        member.position = position
        session.add(member)


def add_override(session: Session, viewer: Viewer, rotation_id: str, data: OverrideIn) -> int:
    rotation = _rotation(session, rotation_id)
    start, end = _utc(data.start, rotation.time_zone), _utc(data.end, rotation.time_zone)
    if end <= start:
        raise Refused("end_before_start", 422, ("end",))
    if data.kind is OverrideKind.remove:
        if session.get(Professional, data.professional_id) is None:
            raise Refused("unknown_person", 422, ("professional_id",))
    else:
        _active_person(session, data.professional_id, "professional_id")
    replaced = data.replaces_professional_id if data.kind is OverrideKind.replace else None
    if replaced is not None and session.get(Professional, replaced) is None:
        raise Refused("unknown_person", 422, ("replaces_professional_id",))
    override = RotationOverride(
        rotation_id=rotation_id,
        kind=data.kind,
        professional_id=data.professional_id,
        replaces_professional_id=replaced,
        start_at=start,
        end_at=end,
    )
    session.add(override)
    session.flush()
    assert override.id is not None
    detail = {"override": override.id, "kind": data.kind.value}
    audit(session, viewer, "rotation_override_added", "rotation", rotation_id, detail)
    return override.id


def delete_override(session: Session, viewer: Viewer, rotation_id: str, override_id: int) -> int:
    override = session.get(RotationOverride, override_id)
    if override is None or override.rotation_id != rotation_id:
        raise Refused("unknown_override", 404)
    session.delete(override)
    detail = {"override": override_id}
    audit(session, viewer, "rotation_override_deleted", "rotation", rotation_id, detail)
    return override_id


def _rotation(session: Session, rotation_id: str) -> Rotation:
    rotation = session.get(Rotation, rotation_id)
    if rotation is None:
        raise Refused("unknown_rotation", 404)
    return rotation


def _active_person(session: Session, person_id: str, field: str) -> None:
    person = session.get(Professional, person_id)
    if person is None:
        raise Refused("unknown_person", 422, (field,))
    if not person.active:
        raise Refused("inactive_person", 422, (field,))


def _members(session: Session, rotation_id: str) -> list[RotationMember]:
    return list(
        session.exec(
            select(RotationMember)
            .where(RotationMember.rotation_id == rotation_id)
            .order_by(col(RotationMember.position), col(RotationMember.id))
        ).all()
    )


def _overrides(session: Session, rotation_id: str) -> list[RotationOverride]:
    return list(
        session.exec(
            select(RotationOverride)
            .where(RotationOverride.rotation_id == rotation_id)
            .order_by(col(RotationOverride.start_at), col(RotationOverride.id))
        ).all()
    )


# Reading


def rotation_view(session: Session, rotation: Rotation, at: datetime) -> dict[str, Any]:
    """The rotation with its members, overrides, who is on call at ``at`` and the shifts after."""
    zone = ZoneInfo(rotation.time_zone)
    members, overrides = _members(session, rotation.id), _overrides(session, rotation.id)
    ids = {m.professional_id for m in members} | {
        pid for o in overrides for pid in (o.professional_id, o.replaces_professional_id) if pid
    }
    shifts = upcoming_shifts(session, rotation, at=at, count=NEXT_SHIFTS)
    ids |= {pid for _, people in shifts for pid in people}
    people = {
        p.id: p
        for p in session.exec(select(Professional).where(col(Professional.id).in_(ids))).all()
    }

    def person(pid: str | None) -> dict[str, Any] | None:
        if pid is None:
            return None
        p = people.get(pid)
        name = f"{p.first_name} {p.last_name}" if p else pid
        return {"id": pid, "name": name, "active": bool(p and p.active)}

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

    return {
        "id": rotation.id,
        "name": rotation.name,
        "kind": rotation.kind.value,
        "shift_hours": rotation.shift_hours,
        "start_at": rotation.start_at.isoformat(),
        "start_local": local(rotation.start_at),
        "time_zone": rotation.time_zone,
        "organisation_id": rotation.organisation_id,
        "members": [
            {"id": m.id, "position": m.position, "person": person(m.professional_id)}
            for m in members
        ],
        "overrides": [
            {
                "id": o.id,
                "kind": o.kind.value,
                "person": person(o.professional_id),
                "replaces": person(o.replaces_professional_id),
                "start_at": o.start_at.isoformat(),
                "end_at": o.end_at.isoformat(),
                "start_local": local(o.start_at),
                "end_local": local(o.end_at),
            }
            for o in overrides
        ],
        "at": at.isoformat(),
        "on_call": [person(pid) for pid in shifts[0][1]],
        "shifts": [
            {
                "start_at": shift.start.isoformat(),
                "end_at": shift.end.isoformat(),
                "start_local": local(shift.start),
                "end_local": local(shift.end),
                "on_call": [person(pid) for pid in on_call],
            }
            for shift, on_call in shifts
        ],
    }


def _view(request: Request, rotation_id: str, at: datetime | None = None) -> dict[str, Any]:
    with Session(ctx(request).container.engine) as session:
        rotation = session.get(Rotation, rotation_id)
        if rotation is None:
            raise HTTPException(404, {"error": "unknown_rotation", "fields": []})
        return rotation_view(session, rotation, at or datetime.now(UTC))


# Pages and forms


@router.get("/directory/rotations/{rotation_id}", include_in_schema=False)
def rotation_page(request: Request, viewer: SignedIn, rotation_id: Key) -> Response:
    return _page(request, viewer, None, rotation_id=rotation_id)


def _page(
    request: Request,
    viewer: Viewer,
    problem: Refused | None,
    *,
    rotation_id: str,
    saved: bool = False,
) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        rotation = session.get(Rotation, rotation_id)
        if rotation is None:
            return back(request, viewer, problem or Refused("unknown_rotation", 404))
        view = rotation_view(session, rotation, datetime.now(UTC))
        people = session.exec(
            select(Professional)
            .where(col(Professional.active))
            .order_by(col(Professional.last_name), col(Professional.first_name))
        ).all()
        orgs = session.exec(
            select(Organisation)
            .where(col(Organisation.active) | (Organisation.id == rotation.organisation_id))
            .order_by(col(Organisation.name))
        ).all()
        return context.render(
            request,
            "site/directory_rotation.html",
            problem.status if problem else 200,
            r=view,
            people=[{"id": p.id, "name": f"{p.first_name} {p.last_name}"} for p in people],
            organisations=orgs,
            kinds=[k.value for k in RotationKind],
            override_kinds=[k.value for k in OverrideKind],
            **message_values(request, problem, saved),
        )


@router.post("/directory/rotations", include_in_schema=False, dependencies=FORM)
async def create_rotation_form(request: Request, viewer: CoordinatorOnly) -> Response:
    created: list[str] = []

    def change(form: dict[str, str], session: Session) -> None:
        created.append(create_rotation(session, viewer, parse(RotationIn, form)))

    def page(problem: Refused | None) -> Response:
        if problem is not None:
            return back(request, viewer, problem)
        return _page(request, viewer, None, rotation_id=created[0], saved=True)

    return await form_change(request, change, page)


@router.post("/directory/rotations/{rotation_id}", include_in_schema=False, dependencies=FORM)
async def edit_rotation_form(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key
) -> Response:
    cleared: dict[str, str | None] = {"organisation_id": None}
    return await form_change(
        request,
        lambda form, s: edit_rotation(s, viewer, rotation_id, parse(RotationPatch, cleared | form)),
        then(_page, request, viewer, rotation_id=rotation_id),
    )


@router.post(
    "/directory/rotations/{rotation_id}/delete", include_in_schema=False, dependencies=FORM
)
async def delete_rotation_form(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key
) -> Response:
    def page(problem: Refused | None) -> Response:
        if problem is None:
            return back(request, viewer, saved=True)
        return _page(request, viewer, problem, rotation_id=rotation_id)

    return await form_change(request, lambda _, s: delete_rotation(s, viewer, rotation_id), page)


@router.post(
    "/directory/rotations/{rotation_id}/members", include_in_schema=False, dependencies=FORM
)
async def add_member_form(request: Request, viewer: CoordinatorOnly, rotation_id: Key) -> Response:
    return await form_change(
        request,
        lambda form, s: add_member(s, viewer, rotation_id, parse(MemberIn, form)),
        then(_page, request, viewer, rotation_id=rotation_id),
    )


@router.post(
    "/directory/rotations/{rotation_id}/members/{member_id}/{step}",
    include_in_schema=False,
    dependencies=FORM,
)
async def member_form(
    request: Request,
    viewer: CoordinatorOnly,
    rotation_id: Key,
    member_id: RowId,
    step: Literal["up", "down", "remove"],
) -> Response:
    def change(_: dict[str, str], session: Session) -> int:
        if step == "remove":
            return remove_member(session, viewer, rotation_id, member_id)
        return move_member(session, viewer, rotation_id, member_id, up=step == "up")

    return await form_change(request, change, then(_page, request, viewer, rotation_id=rotation_id))


@router.post(
    "/directory/rotations/{rotation_id}/overrides", include_in_schema=False, dependencies=FORM
)
async def add_override_form(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key
) -> Response:
    return await form_change(
        request,
        lambda form, s: add_override(s, viewer, rotation_id, parse(OverrideIn, form)),
        then(_page, request, viewer, rotation_id=rotation_id),
    )


@router.post(
    "/directory/rotations/{rotation_id}/overrides/{override_id}/delete",
    include_in_schema=False,
    dependencies=FORM,
)
async def delete_override_form(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key, override_id: RowId
) -> Response:
    return await form_change(
        request,
        lambda _, s: delete_override(s, viewer, rotation_id, override_id),
        then(_page, request, viewer, rotation_id=rotation_id),
    )


# JSON API


@router.get("/api/directory/rotations/{rotation_id}", tags=["api"])
def rotation_api(
    request: Request,
    viewer: SignedIn,
    rotation_id: Key,
    at: Annotated[datetime | None, Query()] = None,
) -> dict[str, Any]:
    """A rotation: members, overrides, who is on call now (or at ``at``, with a time zone) and
    the next shifts."""
    if at is not None and (at.tzinfo is None or not 2000 <= at.year <= 2100):
        raise HTTPException(422, {"error": "invalid", "fields": ["at"]})
    return _view(request, rotation_id, at)


@router.post("/api/directory/rotations", tags=["api"], status_code=201, dependencies=FORM)
async def create_rotation_api(
    request: Request, viewer: CoordinatorOnly, body: RotationIn
) -> dict[str, Any]:
    """Create a rotation (a ``start`` without offset is read in ``time_zone``)."""
    rotation_id = await api_change(request, lambda s: create_rotation(s, viewer, body))
    return _view(request, rotation_id)


@router.patch("/api/directory/rotations/{rotation_id}", tags=["api"], dependencies=FORM)
async def edit_rotation_api(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key, body: RotationPatch
) -> dict[str, Any]:
    """Change the fields sent."""
    await api_change(request, lambda s: edit_rotation(s, viewer, rotation_id, body))
    return _view(request, rotation_id)


@router.delete("/api/directory/rotations/{rotation_id}", tags=["api"], dependencies=FORM)
async def delete_rotation_api(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key
) -> dict[str, str]:
    """Delete a rotation with its members and overrides; 409 while an escalation policy or an
    open escalation pages it."""
    await api_change(request, lambda s: delete_rotation(s, viewer, rotation_id))
    return {"id": rotation_id, "status": "deleted"}


@router.post(
    "/api/directory/rotations/{rotation_id}/members",
    tags=["api"],
    status_code=201,
    dependencies=FORM,
)
async def add_member_api(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key, body: MemberIn
) -> dict[str, Any]:
    """Add a member at the end of the turn order."""
    await api_change(request, lambda s: add_member(s, viewer, rotation_id, body))
    return _view(request, rotation_id)


@router.put("/api/directory/rotations/{rotation_id}/members", tags=["api"], dependencies=FORM)
async def order_members_api(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key, body: MemberOrder
) -> dict[str, Any]:
    """Put the members in a new turn order (every member id, once)."""
    await api_change(request, lambda s: order_members(s, viewer, rotation_id, body))
    return _view(request, rotation_id)


@router.delete(
    "/api/directory/rotations/{rotation_id}/members/{member_id}", tags=["api"], dependencies=FORM
)
async def remove_member_api(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key, member_id: RowId
) -> dict[str, Any]:
    """Take a member out of the turn order."""
    await api_change(request, lambda s: remove_member(s, viewer, rotation_id, member_id))
    return _view(request, rotation_id)


@router.post(
    "/api/directory/rotations/{rotation_id}/overrides",
    tags=["api"],
    status_code=201,
    dependencies=FORM,
)
async def add_override_api(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key, body: OverrideIn
) -> dict[str, Any]:
    """Add an override for a period (``end`` after ``start``)."""
    await api_change(request, lambda s: add_override(s, viewer, rotation_id, body))
    return _view(request, rotation_id)


@router.delete(
    "/api/directory/rotations/{rotation_id}/overrides/{override_id}",
    tags=["api"],
    dependencies=FORM,
)
async def delete_override_api(
    request: Request, viewer: CoordinatorOnly, rotation_id: Key, override_id: RowId
) -> dict[str, Any]:
    """Delete an override."""
    await api_change(request, lambda s: delete_override(s, viewer, rotation_id, override_id))
    return _view(request, rotation_id)
