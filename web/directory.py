"""The network directory ("wie bel ik waarvoor"): organisations, people, their roles, on-call
rotations and who is on call now. Everyone signed in can read it; the coordinator maintains it
(and issues API tokens for schools' administration systems), by forms and by the JSON API.

The changes themselves live in :mod:`web.directory_people` (and the rotations in
:mod:`web.rotations_admin`); this module only turns requests into them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from config.domain import Language, Role, SchoolType
from store.directory import (
    Channel,
    ContactMethod,
    Organisation,
    OrganisationKind,
    PersonKind,
    Professional,
    RoleAssignment,
)
from store.oncall import EscalationPolicy, Rotation, RotationKind
from store.rotations import who_is_on_call
from web import directory_people as people_ops
from web.auth import Viewer
from web.directory_changes import Refused, api_change, form_change, parse, problem_text
from web.directory_people import (
    OrganisationIn,
    OrganisationPatch,
    PersonIn,
    PersonPatch,
    RoleIn,
    TokenIn,
)
from web.i18n import translate
from web.oncall_actions import NoPolicy, policy_snapshot
from web.site import CoordinatorOnly, SignedIn, ctx, form_post
from workflows.escalation_models import StepTarget

router = APIRouter(tags=["directory"])
FORM = [Depends(form_post)]
Key = Annotated[str, Path(min_length=1, max_length=40)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NEW_POLICY_ROWS = 3  # step rows of the "add escalation policy" form


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
    roles: dict[str, list[dict[str, Any]]] = {}
    for a in session.exec(select(RoleAssignment).order_by(col(RoleAssignment.priority))).all():
        roles.setdefault(a.professional_id, []).append(
            {"id": a.id, "role": a.role.value, "scope": a.scope_organisation_id}
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
    default_policy = default_policy_id(session)
    policies = [
        {"id": p.id, "name": p.name, "default": p.id == default_policy}
        for p in session.exec(
            select(EscalationPolicy).order_by(
                col(EscalationPolicy.created_at), col(EscalationPolicy.id)
            )
        ).all()
    ]
    return {
        "organisations": [
            {
                "id": o.id,
                "name": o.name,
                "kind": o.kind.value,
                "active": o.active,
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
        "policies": policies,
    }


def default_policy_id(session: Session) -> str | None:
    """The default escalation policy: the one a call for help that names none freezes."""
    try:
        return policy_snapshot(session).policy_id
    except NoPolicy:
        return None


# Pages


@router.get("/directory", include_in_schema=False)
def directory_page(request: Request, viewer: SignedIn) -> Response:
    return back(request, viewer)


@router.get("/api/directory", tags=["api"])
def directory_json(request: Request, viewer: SignedIn) -> dict[str, Any]:
    """Organisations, people and roles, rotations and who is on call now."""
    with Session(ctx(request).container.engine) as session:
        return directory(session, datetime.now(UTC))


def back(
    request: Request,
    viewer: Viewer,
    problem: Refused | None = None,
    *,
    saved: bool = False,
    new_token: str | None = None,
) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        data = directory(session, datetime.now(UTC))
        tokens = people_ops.token_list(session) if viewer.is_coordinator else []
        people = [
            {"id": p["id"], "name": p["name"]} for o in data["organisations"] for p in o["people"]
        ]
    return context.render(
        request,
        "site/directory.html",
        problem.status if problem else 200,
        data=data,
        tokens=tokens,
        new_token=new_token,
        kinds=[k.value for k in OrganisationKind],
        roles=[r.value for r in Role],
        school_types=[s.value for s in SchoolType],
        rotation_kinds=[k.value for k in RotationKind],
        step_targets=[t.value for t in StepTarget],
        step_people=sorted(people, key=lambda p: str(p["name"])),
        new_policy_rows=NEW_POLICY_ROWS,
        **message_values(request, problem, saved),
    )


def message_values(request: Request, problem: Refused | None, saved: bool) -> dict[str, str]:
    language = ctx(request).language(request)
    text = problem_text(problem, lambda key: translate(language, key))
    return {"problem": text, "saved": translate(language, "dir.saved") if saved else ""}


def then(
    show: Callable[..., Response], request: Request, viewer: Viewer, **where: str
) -> Callable[[Refused | None], Response]:
    """The page to show after a form post: with the refusal, or with "saved"."""
    return lambda problem: show(request, viewer, problem, saved=problem is None, **where)


@router.get("/directory/organisations/{org_id}", include_in_schema=False)
def organisation_page(request: Request, viewer: CoordinatorOnly, org_id: Key) -> Response:
    return _organisation_page(request, viewer, None, org_id=org_id)


def _organisation_page(
    request: Request,
    viewer: Viewer,
    problem: Refused | None,
    *,
    org_id: str,
    saved: bool = False,
) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        org = session.get(Organisation, org_id)
        if org is None:
            return back(request, viewer, problem or Refused("unknown_organisation", 404))
        people = session.exec(
            select(Professional)
            .where(Professional.organisation_id == org_id)
            .order_by(col(Professional.last_name))
        ).all()
        return context.render(
            request,
            "site/directory_organisation.html",
            problem.status if problem else 200,
            org=org,
            people=people,
            kinds=[k.value for k in OrganisationKind],
            school_types=[s.value for s in SchoolType],
            **message_values(request, problem, saved),
        )


@router.get("/directory/people/{person_id}", include_in_schema=False)
def person_page(request: Request, viewer: CoordinatorOnly, person_id: Key) -> Response:
    return _person_page(request, viewer, None, person_id=person_id)


def _person_page(
    request: Request,
    viewer: Viewer,
    problem: Refused | None,
    *,
    person_id: str,
    saved: bool = False,
) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        person = session.get(Professional, person_id)
        if person is None:
            return back(request, viewer, problem or Refused("unknown_person", 404))
        contacts = session.exec(
            select(ContactMethod).where(
                ContactMethod.person_kind == PersonKind.professional,
                ContactMethod.person_id == person_id,
            )
        ).all()
        assignments = session.exec(
            select(RoleAssignment).where(RoleAssignment.professional_id == person_id)
        ).all()
        orgs = session.exec(select(Organisation).order_by(col(Organisation.name))).all()
        return context.render(
            request,
            "site/directory_person.html",
            problem.status if problem else 200,
            person=person,
            email=next((c for c in contacts if c.channel is Channel.email), None),
            mobile=next((c for c in contacts if c.channel is Channel.sms), None),
            assignments=assignments,
            organisations=orgs,
            org_names={o.id: o.name for o in orgs},
            roles=[r.value for r in Role],
            languages=[lang.value for lang in Language],
            **message_values(request, problem, saved),
        )


# Organisations


@router.post("/directory/organisations", include_in_schema=False, dependencies=FORM)
async def add_organisation(request: Request, viewer: CoordinatorOnly) -> Response:
    return await form_change(
        request,
        lambda form, s: people_ops.add_organisation(s, viewer, parse(OrganisationIn, form)),
        then(back, request, viewer),
    )


@router.post("/directory/organisations/{org_id}", include_in_schema=False, dependencies=FORM)
async def edit_organisation(request: Request, viewer: CoordinatorOnly, org_id: Key) -> Response:
    cleared = dict.fromkeys(("school_type", "municipality", "phone", "email"))  # emptied fields
    return await form_change(
        request,
        lambda form, s: people_ops.edit_organisation(
            s, viewer, org_id, parse(OrganisationPatch, cleared | form)
        ),
        then(_organisation_page, request, viewer, org_id=org_id),
    )


@router.post("/directory/organisations/{org_id}/remove", include_in_schema=False, dependencies=FORM)
async def remove_organisation(request: Request, viewer: CoordinatorOnly, org_id: Key) -> Response:
    """Removed (back to the directory) when nothing refers to it, else made inactive (its page
    again, greyed, with a button to reactivate it)."""
    outcome: list[str] = []

    def change(_: dict[str, str], session: Session) -> None:
        outcome.append(people_ops.remove_organisation(session, viewer, org_id)[1])

    def page(problem: Refused | None) -> Response:
        if problem is None and outcome == ["removed"]:
            return back(request, viewer, saved=True)
        return _organisation_page(request, viewer, problem, org_id=org_id, saved=problem is None)

    return await form_change(request, change, page)


@router.post(
    "/directory/organisations/{org_id}/reactivate", include_in_schema=False, dependencies=FORM
)
async def reactivate_organisation(
    request: Request, viewer: CoordinatorOnly, org_id: Key
) -> Response:
    return await form_change(
        request,
        lambda _, s: people_ops.reactivate_organisation(s, viewer, org_id),
        then(_organisation_page, request, viewer, org_id=org_id),
    )


@router.post("/api/directory/organisations", tags=["api"], status_code=201, dependencies=FORM)
async def add_organisation_api(
    request: Request, viewer: CoordinatorOnly, body: OrganisationIn
) -> dict[str, str]:
    """Add an organisation (coordinator; a browser session sends ``X-CSRF-Token``)."""
    return {"id": await api_change(request, lambda s: people_ops.add_organisation(s, viewer, body))}


@router.patch("/api/directory/organisations/{org_id}", tags=["api"], dependencies=FORM)
async def edit_organisation_api(
    request: Request, viewer: CoordinatorOnly, org_id: Key, body: OrganisationPatch
) -> dict[str, str]:
    """Change the fields sent (``null`` clears an optional one)."""
    return {
        "id": await api_change(
            request, lambda s: people_ops.edit_organisation(s, viewer, org_id, body)
        )
    }


@router.delete("/api/directory/organisations/{org_id}", tags=["api"], dependencies=FORM)
async def remove_organisation_api(
    request: Request, viewer: CoordinatorOnly, org_id: Key
) -> dict[str, str]:
    """Remove an organisation: ``removed`` when nothing refers to it, ``inactive`` when it
    holds history (kept, hidden from pickers, its API tokens stop enrolling); 409 while it has
    active people or open trajectories."""
    done, status = await api_change(
        request, lambda s: people_ops.remove_organisation(s, viewer, org_id)
    )
    return {"id": done, "status": status}


@router.post("/api/directory/organisations/{org_id}/reactivate", tags=["api"], dependencies=FORM)
async def reactivate_organisation_api(
    request: Request, viewer: CoordinatorOnly, org_id: Key
) -> dict[str, str]:
    """Make an inactive organisation active again."""
    done = await api_change(
        request, lambda s: people_ops.reactivate_organisation(s, viewer, org_id)
    )
    return {"id": done, "status": "active"}


# People


@router.post("/directory/people", include_in_schema=False, dependencies=FORM)
async def add_person(request: Request, viewer: CoordinatorOnly) -> Response:
    return await form_change(
        request,
        lambda form, s: people_ops.add_person(s, viewer, parse(PersonIn, form)),
        then(back, request, viewer),
    )


@router.post("/directory/people/{person_id}", include_in_schema=False, dependencies=FORM)
async def edit_person(request: Request, viewer: CoordinatorOnly, person_id: Key) -> Response:
    cleared: dict[str, str | None] = {"mobile": None}  # an emptied mobile field removes it
    return await form_change(
        request,
        lambda form, s: people_ops.edit_person(
            s, viewer, person_id, parse(PersonPatch, cleared | form)
        ),
        then(_person_page, request, viewer, person_id=person_id),
    )


@router.post("/directory/people/{person_id}/deactivate", include_in_schema=False, dependencies=FORM)
async def deactivate_person(request: Request, viewer: CoordinatorOnly, person_id: Key) -> Response:
    return await form_change(
        request,
        lambda _, s: people_ops.set_active(s, viewer, person_id, False),
        then(_person_page, request, viewer, person_id=person_id),
    )


@router.post("/directory/people/{person_id}/reactivate", include_in_schema=False, dependencies=FORM)
async def reactivate_person(request: Request, viewer: CoordinatorOnly, person_id: Key) -> Response:
    return await form_change(
        request,
        lambda _, s: people_ops.set_active(s, viewer, person_id, True),
        then(_person_page, request, viewer, person_id=person_id),
    )


@router.post("/api/directory/people", tags=["api"], status_code=201, dependencies=FORM)
async def add_person_api(
    request: Request, viewer: CoordinatorOnly, body: PersonIn
) -> dict[str, str]:
    """Add a person with the email address they sign in with (and a mobile number, which is
    unverified until they confirm it)."""
    return {"id": await api_change(request, lambda s: people_ops.add_person(s, viewer, body))}


@router.patch("/api/directory/people/{person_id}", tags=["api"], dependencies=FORM)
async def edit_person_api(
    request: Request, viewer: CoordinatorOnly, person_id: Key, body: PersonPatch
) -> dict[str, str]:
    """Change the fields sent; ``"mobile": null`` removes the mobile number."""
    return {
        "id": await api_change(
            request, lambda s: people_ops.edit_person(s, viewer, person_id, body)
        )
    }


@router.delete("/api/directory/people/{person_id}", tags=["api"], dependencies=FORM)
async def deactivate_person_api(
    request: Request, viewer: CoordinatorOnly, person_id: Key
) -> dict[str, str]:
    """Make a person inactive (kept with their history; no sign-in, no pages, no tasks)."""
    done = await api_change(request, lambda s: people_ops.set_active(s, viewer, person_id, False))
    return {"id": done, "status": "inactive"}


@router.post("/api/directory/people/{person_id}/reactivate", tags=["api"], dependencies=FORM)
async def reactivate_person_api(
    request: Request, viewer: CoordinatorOnly, person_id: Key
) -> dict[str, str]:
    """Make an inactive person active again."""
    done = await api_change(request, lambda s: people_ops.set_active(s, viewer, person_id, True))
    return {"id": done, "status": "active"}


# Roles


@router.post("/directory/roles", include_in_schema=False, dependencies=FORM)
async def assign_role(request: Request, viewer: CoordinatorOnly) -> Response:
    return await form_change(
        request,
        lambda form, s: people_ops.assign_role(s, viewer, parse(RoleIn, form)),
        then(back, request, viewer),
    )


@router.post("/directory/roles/{assignment_id}/remove", include_in_schema=False, dependencies=FORM)
async def remove_role(request: Request, viewer: CoordinatorOnly, assignment_id: RowId) -> Response:
    return await form_change(
        request,
        lambda _, s: people_ops.remove_role(s, viewer, assignment_id),
        then(back, request, viewer),
    )


@router.post("/api/directory/roles", tags=["api"], status_code=201, dependencies=FORM)
async def assign_role_api(
    request: Request, viewer: CoordinatorOnly, body: RoleIn
) -> dict[str, int]:
    """Give a person a role, region-wide or for one organisation; 409 if they have it."""
    return {"id": await api_change(request, lambda s: people_ops.assign_role(s, viewer, body))}


@router.delete("/api/directory/roles/{assignment_id}", tags=["api"], dependencies=FORM)
async def remove_role_api(
    request: Request, viewer: CoordinatorOnly, assignment_id: RowId
) -> dict[str, int]:
    """Take a role assignment away (not your own coordinator role)."""
    return {
        "id": await api_change(request, lambda s: people_ops.remove_role(s, viewer, assignment_id))
    }


# API tokens


@router.post("/directory/tokens", include_in_schema=False, dependencies=FORM)
async def issue_token(request: Request, viewer: CoordinatorOnly) -> Response:
    issued: list[str] = []

    def change(form: dict[str, str], session: Session) -> None:
        issued.append(people_ops.issue_token(session, viewer, parse(TokenIn, form))[1])

    def page(problem: Refused | None) -> Response:
        return back(request, viewer, problem, new_token=issued[0] if issued else None)

    return await form_change(request, change, page)


@router.post("/directory/tokens/{token_id}/revoke", include_in_schema=False, dependencies=FORM)
async def revoke_token(request: Request, viewer: CoordinatorOnly, token_id: Key) -> Response:
    return await form_change(
        request,
        lambda _, s: people_ops.revoke_token(s, viewer, token_id),
        then(back, request, viewer),
    )


@router.get("/api/directory/tokens", tags=["api"])
def tokens_api(request: Request, viewer: CoordinatorOnly) -> list[dict[str, Any]]:
    """The API tokens (their handles, never the tokens), revoked ones too."""
    with Session(ctx(request).container.engine) as session:
        return people_ops.token_list(session)


@router.post("/api/directory/tokens", tags=["api"], status_code=201, dependencies=FORM)
async def issue_token_api(
    request: Request, viewer: CoordinatorOnly, body: TokenIn
) -> dict[str, str]:
    """A token that enrolls for one school; the token is in this answer only."""
    token_id, token = await api_change(request, lambda s: people_ops.issue_token(s, viewer, body))
    return {"id": token_id, "token": token}


@router.delete("/api/directory/tokens/{token_id}", tags=["api"], dependencies=FORM)
async def revoke_token_api(
    request: Request, viewer: CoordinatorOnly, token_id: Key
) -> dict[str, str]:
    """Revoke a token: it lets nobody in from now on."""
    done = await api_change(request, lambda s: people_ops.revoke_token(s, viewer, token_id))
    return {"id": done, "status": "revoked"}
