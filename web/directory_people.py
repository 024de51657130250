"""The coordinator's changes to organisations, people, their contact details, role assignments
and API tokens. Each function is one change of :mod:`web.directory_changes`: it checks, writes
and audits (ids only, never a name, address or number), or raises :class:`Refused`.

People are never deleted: removing one makes them inactive, so their history, the audit log and
the trajectories that name them stay intact; they can no longer sign in, are left out of role
routing and drop out of who is on call. A new or changed mobile number is unverified until its
owner confirms the code (:mod:`web.oncall_verification`); until then no page goes to it by SMS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from sqlmodel import Session, col, func, select

from config.domain import Language, Role, SchoolType
from store import accounts
from store.base import new_id
from store.contact_verification import UNVERIFIED
from store.directory import (
    Channel,
    ContactMethod,
    Organisation,
    OrganisationKind,
    PersonKind,
    Professional,
    RoleAssignment,
)
from store.oncall import Rotation
from store.trajectories import Trajectory, TrajectoryStatus
from store.youth import Youth
from web.auth import Viewer, audit
from web.directory_changes import Refused, check_email, check_mobile

Email = Annotated[str, Field(max_length=200), AfterValidator(check_email)]
Mobile = Annotated[str, Field(max_length=40), AfterValidator(check_mobile)]
Id = Annotated[str, Field(min_length=1, max_length=40)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class OrganisationIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: OrganisationKind
    school_type: SchoolType | None = None
    municipality: Annotated[str, Field(max_length=100)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Email | None = None


class OrganisationPatch(BaseModel):
    """Only the fields sent are changed; ``null`` clears an optional one."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    kind: OrganisationKind | None = None
    school_type: SchoolType | None = None
    municipality: Annotated[str, Field(max_length=100)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Email | None = None


class PersonIn(BaseModel):
    organisation_id: Id
    first_name: Name
    last_name: Name
    email: Email
    mobile: Mobile | None = None
    language: Language = Language.nl


class PersonPatch(BaseModel):
    """Only the fields sent are changed; ``"mobile": null`` removes the mobile number."""

    organisation_id: Id | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None
    mobile: Mobile | None = None
    language: Language | None = None


class RoleIn(BaseModel):
    professional_id: Id
    role: Role
    scope_organisation_id: Id | None = None


class TokenIn(BaseModel):
    school_id: Id
    name: Name


# Organisations


def add_organisation(session: Session, viewer: Viewer, data: OrganisationIn) -> str:
    org = Organisation(id=new_id("org"), **data.model_dump())
    session.add(org)
    audit(session, viewer, "organisation_added", "organisation", org.id)
    return org.id


def edit_organisation(
    session: Session, viewer: Viewer, org_id: str, data: OrganisationPatch
) -> str:
    org = _organisation(session, org_id, status=404)
    changed = sorted(data.model_fields_set)
    for field in ("name", "kind"):
        if field in changed and getattr(data, field) is None:
            raise Refused("invalid", 422, (field,))
    for field in changed:
        setattr(org, field, getattr(data, field))
    session.add(org)
    audit(session, viewer, "organisation_changed", "organisation", org.id, {"fields": changed})
    return org.id


def remove_organisation(session: Session, viewer: Viewer, org_id: str) -> tuple[str, str]:
    """Remove an organisation: refused while it has active people or open trajectories (the
    coordinator moves or deactivates them first). One nothing refers to is deleted
    (``removed``); one with history (former people, closed trajectories, youth, role scopes or
    rotations) is made inactive instead (``inactive``), keeping that history."""
    org = _organisation(session, org_id, status=404)
    people = select(Professional.id).where(Professional.organisation_id == org_id)
    if session.exec(people.where(col(Professional.active))).first():
        raise Refused("org_has_people", 409)
    either = (col(Trajectory.school_id) == org_id) | (
        col(Trajectory.destination_organisation_id) == org_id
    )
    open_trajectories = select(Trajectory.id).where(
        Trajectory.status == TrajectoryStatus.open, either
    )
    if session.exec(open_trajectories).first():
        raise Refused("org_has_trajectories", 409)
    history = (
        session.exec(people).first(),
        session.exec(select(Trajectory.id).where(either)).first(),
        session.exec(select(Youth.id).where(Youth.school_id == org_id)).first(),
        session.exec(
            select(RoleAssignment.id).where(RoleAssignment.scope_organisation_id == org_id)
        ).first(),
        session.exec(select(Rotation.id).where(Rotation.organisation_id == org_id)).first(),
    )
    if any(found is not None for found in history):
        if org.active:
            org.active = False
            session.add(org)
            audit(session, viewer, "organisation_deactivated", "organisation", org_id)
        return org_id, "inactive"
    session.delete(org)
    audit(session, viewer, "organisation_removed", "organisation", org_id)
    return org_id, "removed"


def reactivate_organisation(session: Session, viewer: Viewer, org_id: str) -> str:
    org = _organisation(session, org_id, status=404)
    if not org.active:
        org.active = True
        session.add(org)
        audit(session, viewer, "organisation_reactivated", "organisation", org_id)
    return org_id


# People and their contact details


def add_person(session: Session, viewer: Viewer, data: PersonIn) -> str:
    _active_organisation(session, data.organisation_id)
    person = Professional(
        id=new_id("pro"),
        organisation_id=data.organisation_id,
        first_name=data.first_name,
        last_name=data.last_name,
        language=data.language,
    )
    session.add(person)
    session.flush()
    _set_email(session, person.id, data.email)
    if data.mobile:
        _set_mobile(session, person.id, data.mobile)
    audit(session, viewer, "professional_added", "professional", person.id)
    return person.id


def edit_person(session: Session, viewer: Viewer, person_id: str, data: PersonPatch) -> str:
    person = _person(session, person_id, status=404)
    changed = sorted(data.model_fields_set)
    for field in ("organisation_id", "first_name", "last_name", "email", "language"):
        if field in changed and getattr(data, field) is None:
            raise Refused("invalid", 422, (field,))
    if data.organisation_id is not None and data.organisation_id != person.organisation_id:
        _active_organisation(session, data.organisation_id)  # nobody moves to an inactive one
    for field in ("organisation_id", "first_name", "last_name", "language"):
        if field in changed:
            setattr(person, field, getattr(data, field))
    session.add(person)
    if data.email is not None:
        _set_email(session, person.id, data.email)
    if "mobile" in changed:
        _set_mobile(session, person.id, data.mobile)
    audit(session, viewer, "professional_changed", "professional", person.id, {"fields": changed})
    return person.id


def set_active(session: Session, viewer: Viewer, person_id: str, active: bool) -> str:
    person = _person(session, person_id, status=404)
    if not active and person.id == viewer.professional_id:
        raise Refused("not_yourself", 409)
    if active and not person.active:
        org = session.get(Organisation, person.organisation_id)
        if org is not None and not org.active:  # move them to an active organisation first
            raise Refused("inactive_organisation", 409, ("organisation_id",))
    if person.active != active:
        person.active = active
        session.add(person)
        action = "professional_reactivated" if active else "professional_deactivated"
        audit(session, viewer, action, "professional", person.id)
    return person.id


def _set_email(session: Session, person_id: str, email: str) -> None:
    """The address the person signs in with: one per person, and no other active person's."""
    taken = session.exec(
        select(ContactMethod.id)
        .join(Professional, col(Professional.id) == ContactMethod.person_id)
        .where(
            ContactMethod.person_kind == PersonKind.professional,
            ContactMethod.channel == Channel.email,
            func.lower(ContactMethod.address) == email,
            ContactMethod.person_id != person_id,
            col(Professional.active),
        )
    ).first()
    if taken is not None:
        raise Refused("email_taken", 409, ("email",))
    rows = _contacts(session, person_id, Channel.email)
    if rows and rows[0].address == email:
        return
    for stale in rows[1:]:
        session.delete(stale)
    current = rows[0] if rows else None
    if current is None:
        current = ContactMethod(
            person_kind=PersonKind.professional,
            person_id=person_id,
            channel=Channel.email,
            address=email,
        )
    current.address, current.disabled_reason, current.verified_at = email, None, None
    session.add(current)


def _set_mobile(session: Session, person_id: str, mobile: str | None) -> None:
    """Set (unverified until confirmed), keep (the same number) or, with None, remove."""
    rows = _contacts(session, person_id, Channel.sms)
    if mobile is not None and rows and rows[0].address == mobile:
        stale, new = rows[1:], None
    else:
        stale, new = rows, mobile
    for row in stale:
        session.delete(row)
    session.flush()
    if new is not None:
        session.add(
            ContactMethod(
                person_kind=PersonKind.professional,
                person_id=person_id,
                channel=Channel.sms,
                address=new,
                disabled_reason=UNVERIFIED,
            )
        )


def _contacts(session: Session, person_id: str, channel: Channel) -> list[ContactMethod]:
    return list(
        session.exec(
            select(ContactMethod)
            .where(
                ContactMethod.person_kind == PersonKind.professional,
                ContactMethod.person_id == person_id,
                ContactMethod.channel == channel,
            )
            .order_by(col(ContactMethod.priority), col(ContactMethod.id))
        ).all()
    )


# Roles


def assign_role(session: Session, viewer: Viewer, data: RoleIn) -> int:
    _person(session, data.professional_id)
    if data.scope_organisation_id is not None:
        _active_organisation(session, data.scope_organisation_id, "scope_organisation_id")
    scope = RoleAssignment.scope_organisation_id
    same = select(RoleAssignment.id).where(
        RoleAssignment.professional_id == data.professional_id,
        RoleAssignment.role == data.role,
        col(scope).is_(None)
        if data.scope_organisation_id is None
        else scope == data.scope_organisation_id,
    )
    if session.exec(same).first() is not None:  # NULL scopes escape the unique constraint
        raise Refused("conflict", 409)
    row = RoleAssignment(
        professional_id=data.professional_id,
        role=data.role,
        scope_organisation_id=data.scope_organisation_id,
    )
    session.add(row)
    session.flush()
    detail = {"role": data.role.value, "scope": data.scope_organisation_id or ""}
    audit(session, viewer, "role_assigned", "professional", data.professional_id, detail)
    assert row.id is not None
    return row.id


def remove_role(session: Session, viewer: Viewer, assignment_id: int) -> int:
    row = session.get(RoleAssignment, assignment_id)
    if row is None:
        raise Refused("unknown_role", 404)
    if row.professional_id == viewer.professional_id and row.role is Role.network_coordinator:
        raise Refused("not_yourself", 409)
    detail = {"assignment": assignment_id, "role": row.role.value}
    audit(session, viewer, "role_removed", "professional", row.professional_id, detail)
    session.delete(row)
    return assignment_id


# API tokens


def issue_token(session: Session, viewer: Viewer, data: TokenIn) -> tuple[str, str]:
    """(token id, the token itself: shown once)."""
    school = session.get(Organisation, data.school_id)
    if school is None or school.kind is not OrganisationKind.school:
        raise Refused("unknown_school", 422, ("school_id",))
    if not school.active:
        raise Refused("inactive_organisation", 422, ("school_id",))
    token = accounts.issue_api_token(
        session, name=data.name, scope=f"enroll:{school.id}", created_by=viewer.professional_id
    )
    token_id = accounts.api_token_id(accounts.token_hash(token))
    audit(session, viewer, "api_token_issued", "api_token", token_id, {"school": school.id})
    return token_id, token


def revoke_token(session: Session, viewer: Viewer, token_id: str) -> str:
    row = accounts.find_api_token(session, token_id)
    if row is None:
        raise Refused("unknown_token", 404)
    if row.revoked_at is None:
        accounts.revoke_api_token(session, row, now=datetime.now(UTC))
        audit(session, viewer, "api_token_revoked", "api_token", token_id)
    return token_id


def token_list(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "id": accounts.api_token_id(row.token_hash),
            "name": row.name,
            "scope": row.scope,
            "created_by": row.created_by,
            "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        }
        for row in accounts.api_tokens(session)
    ]


def _organisation(session: Session, org_id: str, status: int = 422) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise Refused("unknown_organisation", status, () if status == 404 else ("organisation_id",))
    return org


def _active_organisation(
    session: Session, org_id: str, field: str = "organisation_id"
) -> Organisation:
    """An organisation new people, roles, tokens or rotations may name: it exists and is
    active (an inactive one is hidden from the pickers, and refused here too)."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise Refused("unknown_organisation", 422, (field,))
    if not org.active:
        raise Refused("inactive_organisation", 422, (field,))
    return org


def _person(session: Session, person_id: str, status: int = 422) -> Professional:
    person = session.get(Professional, person_id)
    if person is None:
        raise Refused("unknown_person", status, () if status == 404 else ("professional_id",))
    return person
