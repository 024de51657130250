"""Escalation policies kept by the coordinator in the app: who is paged in which order, how long
each step waits for an acknowledgement, and how often the steps repeat. Everyone signed in may
look; only the coordinator creates, edits and deletes (forms and JSON API, each change one
transaction of :mod:`web.directory_changes`, audited with ids only).

The steps are the escalation workflow's own :class:`~workflows.escalation_models.PolicyStep`,
and a policy must freeze into a :class:`~workflows.escalation_models.PolicySnapshot` (at least one
step, the repeat count within its bounds): what the app accepts is exactly what the workflow
reads. Each step names an existing rotation, an active person, or the coordinator (nobody else).

An escalation freezes its policy when it starts, so editing or deleting a policy never changes
one already running. The region's default policy (the oldest: a call for help that names no
policy uses it, :func:`web.oncall_actions.policy_snapshot`) is never deleted; edit it instead.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from store.base import new_id
from store.directory import Professional
from store.oncall import EscalationPolicy, Rotation
from web.auth import Viewer, audit
from web.directory import Key, back, default_policy_id, message_values, then
from web.directory_changes import Refused, api_change, form_change, parse
from web.site import CoordinatorOnly, SignedIn, ctx, form_post
from workflows.escalation_models import PolicySnapshot, PolicyStep, StepTarget

router = APIRouter(tags=["directory"])
FORM = [Depends(form_post)]
MAX_STEPS = 10
EMPTY_FORM_ROWS = 2  # blank step rows under the existing ones, for adding steps without scripts

Name = Annotated[str, Field(min_length=1, max_length=100)]


class PolicyIn(BaseModel):
    """An escalation policy: ``steps`` in order (``target`` rotation, person or coordinator;
    ``ref`` the rotation's or person's id, none for the coordinator; ``wait_minutes`` before
    the next step) and ``repeat``: how many more passes when nobody answered."""

    name: Name
    repeat: int = 1
    steps: list[PolicyStep] = Field(max_length=MAX_STEPS)


class PolicyPatch(BaseModel):
    """Only the fields sent are changed (``steps`` replaces all steps)."""

    name: Name | None = None
    repeat: int | None = None
    steps: list[PolicyStep] | None = Field(default=None, max_length=MAX_STEPS)


# Changes


def _check(session: Session, policy_id: str, data: PolicyIn) -> list[dict[str, Any]]:
    """The steps as stored, once the workflow's snapshot model and the directory accept them."""
    parse(
        PolicySnapshot,
        {"policy_id": policy_id, "repeat": data.repeat, "steps": data.steps},
    )
    for step in data.steps:
        if step.target is StepTarget.coordinator:
            if step.ref is not None:
                raise Refused("coordinator_step_ref", 422, ("steps",))
        elif step.target is StepTarget.rotation:
            if step.ref is None or session.get(Rotation, step.ref) is None:
                raise Refused("unknown_rotation", 422, ("steps",))
        else:
            person = session.get(Professional, step.ref) if step.ref else None
            if person is None:
                raise Refused("unknown_person", 422, ("steps",))
            if not person.active:
                raise Refused("inactive_person", 422, ("steps",))
    return [step.model_dump(mode="json") for step in data.steps]


def create_policy(session: Session, viewer: Viewer, data: PolicyIn) -> str:
    policy = EscalationPolicy(id=new_id("pol"), name=data.name, repeat=data.repeat)
    policy.steps = _check(session, policy.id, data)
    session.add(policy)
    audit(session, viewer, "policy_added", "escalation_policy", policy.id)
    return policy.id


def edit_policy(session: Session, viewer: Viewer, policy_id: str, patch: PolicyPatch) -> str:
    policy = _policy(session, policy_id)
    changed = sorted(patch.model_fields_set)
    current = {"name": policy.name, "repeat": policy.repeat, "steps": policy.steps}
    sent = {field: getattr(patch, field) for field in changed}
    if any(value is None for value in sent.values()):
        raise Refused("invalid", 422, tuple(f for f, v in sent.items() if v is None))
    data = parse(PolicyIn, current | sent)
    policy.steps = _check(session, policy.id, data)
    policy.name, policy.repeat = data.name, data.repeat
    session.add(policy)
    audit(session, viewer, "policy_changed", "escalation_policy", policy.id, {"fields": changed})
    return policy.id


def delete_policy(session: Session, viewer: Viewer, policy_id: str) -> str:
    """Open escalations keep their frozen copy, so they go on unchanged; the default policy
    (the one a call without a named policy uses) is refused."""
    policy = _policy(session, policy_id)
    if policy.id == default_policy_id(session):
        raise Refused("default_policy", 409)
    session.delete(policy)
    audit(session, viewer, "policy_deleted", "escalation_policy", policy_id)
    return policy_id


def _policy(session: Session, policy_id: str) -> EscalationPolicy:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise Refused("unknown_policy", 404)
    return policy


# Reading


def policies(session: Session) -> list[EscalationPolicy]:
    return list(
        session.exec(
            select(EscalationPolicy).order_by(
                col(EscalationPolicy.created_at), col(EscalationPolicy.id)
            )
        ).all()
    )


def policy_list(session: Session) -> list[dict[str, Any]]:
    default = default_policy_id(session)
    return [
        {"id": p.id, "name": p.name, "default": p.id == default, "steps": len(p.steps)}
        for p in policies(session)
    ]


def policy_view(session: Session, policy: EscalationPolicy) -> dict[str, Any]:
    refs = {str(s.get("ref")) for s in policy.steps if s.get("ref")}
    people = {
        p.id: p
        for p in session.exec(select(Professional).where(col(Professional.id).in_(refs))).all()
    }
    rotations = {
        r.id: r.name for r in session.exec(select(Rotation).where(col(Rotation.id).in_(refs))).all()
    }

    def step(raw: dict[str, Any]) -> dict[str, Any]:
        ref, target = raw.get("ref"), raw.get("target")
        person = people.get(str(ref)) if target == StepTarget.person.value else None
        if target == StepTarget.rotation.value:
            name = rotations.get(str(ref), str(ref))
        elif person is not None:
            name = f"{person.first_name} {person.last_name}"
        else:
            name = str(ref) if ref else ""
        return {
            "target": target,
            "ref": ref,
            "wait_minutes": raw.get("wait_minutes"),
            "name": name,
            "active": person.active if person is not None else True,
        }

    return {
        "id": policy.id,
        "name": policy.name,
        "repeat": policy.repeat,
        "default": policy.id == default_policy_id(session),
        "steps": [step(s) for s in policy.steps],
    }


def _view(request: Request, policy_id: str) -> dict[str, Any]:
    with Session(ctx(request).container.engine) as session:
        policy = session.get(EscalationPolicy, policy_id)
        if policy is None:
            raise HTTPException(404, {"error": "unknown_policy", "fields": []})
        return policy_view(session, policy)


# Pages and forms


def form_policy(form: dict[str, str]) -> dict[str, Any]:
    """A form's fields as a policy: the step rows ``step_target_<n>``, ``step_ref_<n>`` and
    ``step_wait_<n>`` in the order of n; a row without a target is left out."""
    numbers = sorted(
        int(key.removeprefix("step_target_"))
        for key in form
        if key.startswith("step_target_") and key.removeprefix("step_target_").isdigit()
    )
    steps = [
        {
            "target": form[f"step_target_{n}"],
            "ref": form.get(f"step_ref_{n}"),
            "wait_minutes": form.get(f"step_wait_{n}"),
        }
        for n in numbers[: MAX_STEPS + 1]
    ]
    values: dict[str, Any] = {k: v for k, v in form.items() if k in ("name", "repeat")}
    return values | {"steps": steps}


def choices(session: Session) -> dict[str, Any]:
    """What a step may name: the rotations and the active people."""
    people = session.exec(
        select(Professional)
        .where(col(Professional.active))
        .order_by(col(Professional.last_name), col(Professional.first_name))
    ).all()
    return {
        "step_targets": [t.value for t in StepTarget],
        "rotations": session.exec(select(Rotation).order_by(col(Rotation.name))).all(),
        "step_people": [{"id": p.id, "name": f"{p.first_name} {p.last_name}"} for p in people],
    }


@router.get("/directory/policies/{policy_id}", include_in_schema=False)
def policy_page(request: Request, viewer: SignedIn, policy_id: Key) -> Response:
    return _page(request, viewer, None, policy_id=policy_id)


def _page(
    request: Request,
    viewer: Viewer,
    problem: Refused | None,
    *,
    policy_id: str,
    saved: bool = False,
) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        policy = session.get(EscalationPolicy, policy_id)
        if policy is None:
            return back(request, viewer, problem or Refused("unknown_policy", 404))
        view = policy_view(session, policy)
        return context.render(
            request,
            "site/directory_policy.html",
            problem.status if problem else 200,
            p=view,
            rows=len(view["steps"]) + EMPTY_FORM_ROWS,
            **choices(session),
            **message_values(request, problem, saved),
        )


@router.post("/directory/policies", include_in_schema=False, dependencies=FORM)
async def create_policy_form(request: Request, viewer: CoordinatorOnly) -> Response:
    created: list[str] = []

    def change(form: dict[str, str], session: Session) -> None:
        created.append(create_policy(session, viewer, parse(PolicyIn, form_policy(form))))

    def page(problem: Refused | None) -> Response:
        if problem is not None:
            return back(request, viewer, problem)
        return _page(request, viewer, None, policy_id=created[0], saved=True)

    return await form_change(request, change, page)


@router.post("/directory/policies/{policy_id}", include_in_schema=False, dependencies=FORM)
async def edit_policy_form(request: Request, viewer: CoordinatorOnly, policy_id: Key) -> Response:
    return await form_change(
        request,
        lambda form, s: edit_policy(s, viewer, policy_id, parse(PolicyPatch, form_policy(form))),
        then(_page, request, viewer, policy_id=policy_id),
    )


@router.post("/directory/policies/{policy_id}/delete", include_in_schema=False, dependencies=FORM)
async def delete_policy_form(request: Request, viewer: CoordinatorOnly, policy_id: Key) -> Response:
    def page(problem: Refused | None) -> Response:
        if problem is None:
            return back(request, viewer, saved=True)
        return _page(request, viewer, problem, policy_id=policy_id)

    return await form_change(request, lambda _, s: delete_policy(s, viewer, policy_id), page)


# JSON API


@router.get("/api/directory/policies", tags=["api"])
def policies_api(request: Request, viewer: SignedIn) -> list[dict[str, Any]]:
    """The escalation policies, oldest first; ``default`` marks the one a call for help that
    names no policy uses."""
    with Session(ctx(request).container.engine) as session:
        return policy_list(session)


@router.get("/api/directory/policies/{policy_id}", tags=["api"])
def policy_api(request: Request, viewer: SignedIn, policy_id: Key) -> dict[str, Any]:
    """A policy with its steps (and whom each names)."""
    return _view(request, policy_id)


@router.post("/api/directory/policies", tags=["api"], status_code=201, dependencies=FORM)
async def create_policy_api(
    request: Request, viewer: CoordinatorOnly, body: PolicyIn
) -> dict[str, Any]:
    """Create a policy (422 for a step naming an unknown rotation or person, a wait or repeat
    out of bounds, no steps)."""
    policy_id = await api_change(request, lambda s: create_policy(s, viewer, body))
    return _view(request, policy_id)


@router.patch("/api/directory/policies/{policy_id}", tags=["api"], dependencies=FORM)
async def edit_policy_api(
    request: Request, viewer: CoordinatorOnly, policy_id: Key, body: PolicyPatch
) -> dict[str, Any]:
    """Change the fields sent; escalations already running keep their frozen copy."""
    await api_change(request, lambda s: edit_policy(s, viewer, policy_id, body))
    return _view(request, policy_id)


@router.delete("/api/directory/policies/{policy_id}", tags=["api"], dependencies=FORM)
async def delete_policy_api(
    request: Request, viewer: CoordinatorOnly, policy_id: Key
) -> dict[str, str]:
    """Delete a policy; 409 for the default one. Running escalations keep their frozen copy."""
    await api_change(request, lambda s: delete_policy(s, viewer, policy_id))
    return {"id": policy_id, "status": "deleted"}
