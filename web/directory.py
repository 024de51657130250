"""The network directory ("wie bel ik waarvoor"): organisations, people, their roles, on-call
rotations and who is on call now. Everyone signed in can read it; the coordinator maintains it
(and issues API tokens for schools' administration systems)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.domain import Role, SchoolType
from store import accounts
from store.base import new_id
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
from store.rotations import who_is_on_call
from web.auth import Viewer, audit
from web.site import CoordinatorOnly, SignedIn, ctx, form_post

router = APIRouter(tags=["directory"])
FORM = [Depends(form_post)]


def directory(session: Session, now: datetime) -> dict[str, Any]:
    orgs = session.exec(select(Organisation).order_by(col(Organisation.name))).all()
    people = session.exec(
        select(Professional).where(col(Professional.active)).order_by(col(Professional.last_name))
    ).all()
    emails = {
        c.person_id: c.address
        for c in session.exec(
            select(ContactMethod).where(
                ContactMethod.person_kind == PersonKind.professional,
                ContactMethod.channel == Channel.email,
            )
        ).all()
    }
    roles: dict[str, list[dict[str, str | None]]] = {}
    for a in session.exec(select(RoleAssignment).order_by(col(RoleAssignment.priority))).all():
        roles.setdefault(a.professional_id, []).append(
            {"role": a.role.value, "scope": a.scope_organisation_id}
        )
    names = {p.id: f"{p.first_name} {p.last_name}" for p in people}
    rotations = [
        {
            "id": r.id,
            "name": r.name,
            "on_call": [
                {"id": pid, "name": names.get(pid, pid)}
                for pid in who_is_on_call(session, rotation_id=r.id, at=now)
            ],
        }
        for r in session.exec(select(Rotation).order_by(col(Rotation.name))).all()
    ]
    return {
        "organisations": [
            {
                "id": o.id,
                "name": o.name,
                "kind": o.kind.value,
                "phone": o.phone,
                "email": o.email,
                "people": [
                    {
                        "id": p.id,
                        "name": names[p.id],
                        "email": emails.get(p.id),
                        "roles": roles.get(p.id, []),
                    }
                    for p in people
                    if p.organisation_id == o.id
                ],
            }
            for o in orgs
        ],
        "rotations": rotations,
    }


@router.get("/directory", include_in_schema=False)
def directory_page(request: Request, viewer: SignedIn) -> Response:
    return _back(request, viewer)


@router.get("/api/directory", tags=["api"])
def directory_json(request: Request, viewer: SignedIn) -> dict[str, Any]:
    """Organisations, people and roles, rotations and who is on call now."""
    with Session(ctx(request).container.engine) as session:
        return directory(session, datetime.now(UTC))


def _back(request: Request, viewer: Viewer, new_token: str | None = None) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        data = directory(session, datetime.now(UTC))
    return context.render(
        request,
        "site/directory.html",
        data=data,
        new_token=new_token,
        kinds=[k.value for k in OrganisationKind],
        roles=[r.value for r in Role],
        school_types=[s.value for s in SchoolType],
    )


@router.post("/directory/organisations", include_in_schema=False, dependencies=FORM)
def add_organisation(
    request: Request,
    viewer: CoordinatorOnly,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    kind: Annotated[OrganisationKind, Form()],
    school_type: Annotated[SchoolType | None, Form()] = None,
    phone: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    with Session(ctx(request).container.engine) as session:
        org = Organisation(
            id=new_id("org"), name=name, kind=kind, school_type=school_type, phone=phone or None
        )
        session.add(org)
        audit(session, viewer, "organisation_added", "organisation", org.id)
        session.commit()
    return _back(request, viewer)


@router.post("/directory/people", include_in_schema=False, dependencies=FORM)
def add_person(
    request: Request,
    viewer: CoordinatorOnly,
    organisation_id: Annotated[str, Form(max_length=40)],
    first_name: Annotated[str, Form(min_length=1, max_length=100)],
    last_name: Annotated[str, Form(min_length=1, max_length=100)],
    email: Annotated[str, Form(min_length=3, max_length=200)],
) -> Response:
    with Session(ctx(request).container.engine) as session:
        if session.get(Organisation, organisation_id) is None:
            return _back(request, viewer)
        person = Professional(
            id=new_id("pro"),
            organisation_id=organisation_id,
            first_name=first_name,
            last_name=last_name,
        )
        session.add(person)
        session.flush()
        session.add(
            ContactMethod(
                person_kind=PersonKind.professional,
                person_id=person.id,
                channel=Channel.email,
                address=email.strip().lower(),
            )
        )
        audit(session, viewer, "professional_added", "professional", person.id)
        session.commit()
    return _back(request, viewer)


@router.post("/directory/roles", include_in_schema=False, dependencies=FORM)
def assign_role(
    request: Request,
    viewer: CoordinatorOnly,
    professional_id: Annotated[str, Form(max_length=40)],
    role: Annotated[Role, Form()],
    scope_organisation_id: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    with Session(ctx(request).container.engine) as session:
        if session.get(Professional, professional_id) is None:
            return _back(request, viewer)
        session.add(
            RoleAssignment(
                professional_id=professional_id,
                role=role,
                scope_organisation_id=scope_organisation_id or None,
            )
        )
        audit(
            session,
            viewer,
            "role_assigned",
            "professional",
            professional_id,
            {"role": role.value, "scope": scope_organisation_id or ""},
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # already assigned
    return _back(request, viewer)


@router.post("/directory/tokens", include_in_schema=False, dependencies=FORM)
def issue_token(
    request: Request,
    viewer: CoordinatorOnly,
    school_id: Annotated[str, Form(max_length=40)],
    name: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    with Session(ctx(request).container.engine) as session:
        school = session.get(Organisation, school_id)
        if school is None or school.kind is not OrganisationKind.school:
            return _back(request, viewer)
        token = accounts.issue_api_token(
            session, name=name, scope=f"enroll:{school_id}", created_by=viewer.professional_id
        )
        audit(session, viewer, "api_token_issued", "organisation", school_id, {"name": name})
        session.commit()
    return _back(request, viewer, new_token=token)
