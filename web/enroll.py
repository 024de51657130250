"""Enrollment (aanmelden) of one youth: a form for school staff and the coordinator, and the
JSON API a school's administration system calls with a token scoped ``enroll:<school id>``.

Both go through :func:`waakvlam.enrollment.enroll`, which is idempotent per school and pupil
number: enrolling twice answers the existing trajectory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from config.domain import SchoolType, VsoProfile
from store.directory import Organisation, OrganisationKind
from waakvlam.enrollment import (
    EnrollmentError,
    EnrollmentInterrupted,
    EnrollmentRequest,
    EnrollmentResult,
    enroll_all,
)
from web.auth import ApiClient, Forbidden, Viewer, audit
from web.site import Caller, SignedIn, WebContext, ctx, form_post

router = APIRouter(tags=["enrollment"])


def schools_for(
    session: Session, viewer: Viewer, *, with_inactive: bool = False
) -> list[Organisation]:
    """The schools the viewer may enroll for: the pickers offer active ones only (the CSV
    import also looks up inactive ones, to name them in its per-row errors)."""
    query = select(Organisation).where(Organisation.kind == OrganisationKind.school)
    if not with_inactive:
        query = query.where(col(Organisation.active))
    if not viewer.is_coordinator:
        query = query.where(col(Organisation.id).in_(sorted(viewer.school_ids)))
    return list(session.exec(query.order_by(col(Organisation.name))).all())


async def enroll_one(
    context: WebContext, who: Viewer | ApiClient, request: EnrollmentRequest
) -> EnrollmentResult:
    """One youth (the form, the API): ``enroll_many`` of one, its problems raised; 503 when
    Temporal does not answer (the rows written stay, and enrolling again finishes it)."""
    try:
        (outcome,) = await enroll_many(context, who, [request])
    except EnrollmentInterrupted as stopped:
        raise HTTPException(503, "temporal_unavailable") from stopped
    if isinstance(outcome, EnrollmentError):
        raise outcome
    return outcome


async def enroll_many(
    context: WebContext, who: Viewer | ApiClient, requests: list[EnrollmentRequest]
) -> list[EnrollmentResult | EnrollmentError]:
    """A whole file at once (``waakvlam.enrollment.enroll_all``): refused before anything is
    written if one row is for a school ``who`` may not enroll for; one audit row per youth
    enrolled, also when Temporal stops answering part-way (``EnrollmentInterrupted``)."""
    if not all(who.may_enroll_for(request.school_id) for request in requests):
        raise Forbidden()
    if context.client is None:
        raise HTTPException(503, "enrollment is not connected to Temporal")
    container = context.container
    try:
        outcomes = await enroll_all(
            database=container.database,
            client=context.client,
            timeline=container.timeline,
            requests=requests,
            task_queue=container.settings.temporal_task_queue,
            today=date.today(),
        )
    except EnrollmentInterrupted as stopped:
        _audit_enrolled(container.engine, who, requests, stopped.outcomes)
        raise
    _audit_enrolled(container.engine, who, requests, outcomes)
    return outcomes


def _audit_enrolled(
    engine: Engine,
    who: Viewer | ApiClient,
    requests: list[EnrollmentRequest],
    outcomes: Sequence[EnrollmentResult | EnrollmentError | None],
) -> None:
    """One audit entry per youth enrolled (None: a request whose start was not made)."""
    with Session(engine) as session:
        for request, outcome in zip(requests, outcomes, strict=True):
            if isinstance(outcome, EnrollmentResult):
                audit(
                    session,
                    who,
                    "youth_enrolled",
                    "trajectory",
                    outcome.trajectory_id,
                    {"created": outcome.created, "school_id": request.school_id},
                )
        session.commit()


def _form_page(context: WebContext, request: Request, viewer: Viewer, **extra: Any) -> Response:
    with Session(context.container.engine) as session:
        schools = schools_for(session, viewer)
    if not schools:
        raise Forbidden()
    values: dict[str, Any] = {"problems": [], "result": None, "entered": {}} | extra
    return context.render(
        request,
        "site/enroll.html",
        schools=schools,
        school_types=[s.value for s in SchoolType],
        vso_profiles=[p.value for p in VsoProfile],
        **values,
    )


@router.get("/enroll", include_in_schema=False)
def enroll_page(request: Request, viewer: SignedIn) -> Response:
    return _form_page(ctx(request), request, viewer)


@router.post("/enroll", include_in_schema=False, dependencies=[Depends(form_post)])
async def enroll_form(request: Request, viewer: SignedIn) -> Response:
    context = ctx(request)
    form = {k: str(v).strip() for k, v in (await request.form()).items() if k != "csrf_token"}
    data = {k: v for k, v in form.items() if v}
    try:
        enrollment = EnrollmentRequest.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return _form_page(context, request, viewer, problems=problems, entered=form)
    try:
        result = await enroll_one(context, viewer, enrollment)
    except EnrollmentError as exc:
        return _form_page(context, request, viewer, problems=exc.problems, entered=form)
    return _form_page(context, request, viewer, result=result)


@router.post("/api/enrollments", tags=["api"], response_model=EnrollmentResult)
async def enroll_api(request: Request, body: EnrollmentRequest, who: Caller) -> Any:
    """Enroll one leaver. Systems use ``Authorization: Bearer <token>`` with the scope
    ``enroll:<school_id>``; a signed-in browser also sends ``X-CSRF-Token``."""
    context = ctx(request)
    if isinstance(who, Viewer) and not await context.csrf.valid(request):
        raise HTTPException(403, "csrf")
    try:
        result = await enroll_one(context, who, body)
    except EnrollmentError as exc:
        return JSONResponse({"detail": "invalid", "problems": exc.problems}, status_code=422)
    return JSONResponse(result.model_dump(), status_code=201 if result.created else 200)
