"""CSV import of a school's leavers: upload → preview → confirm.

Nothing is half-written: the whole file is read and every row checked before anything is
enrolled. A clean file is imported with one click. A file with errors shows every error per
row; the user then fixes the file, or explicitly confirms importing only the valid rows (the
preview names how many). The confirm step checks the file again, so what is committed is what
was previewed. Enrollment is idempotent, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from waakvlam.enrollment import EnrollmentError, EnrollmentInterrupted, tally
from web.auth import Forbidden, Viewer, audit
from web.csv_import import ImportPreview, ImportRefused, preview
from web.enroll import enroll_many, schools_for
from web.site import SignedIn, WebContext, ctx, form_post

router = APIRouter(tags=["import"])
MAX_BYTES = 4 * 1024 * 1024


def _check(context: WebContext, viewer: Viewer, data: bytes, school: str | None) -> ImportPreview:
    with Session(context.container.engine) as session:
        allowed = schools_for(session, viewer, with_inactive=True)
        if not any(s.active for s in allowed):
            raise Forbidden()
        names = {s.id: s.id for s in allowed} | {s.name.lower(): s.id for s in allowed}
        default = school if school in {s.id for s in allowed} else None
        result = preview(
            session,
            data,
            schools=names,
            inactive_schools=frozenset(s.id for s in allowed if not s.active),
            default_school=default,
            timeline=context.container.timeline,
            today=date.today(),
        )
        audit(
            session,
            viewer,
            "import_previewed",
            "school",
            default or "-",
            {"rows": len(result.rows), "invalid": len(result.invalid)},
        )
        session.commit()
        return result


@router.get("/import", include_in_schema=False)
def import_page(request: Request, viewer: SignedIn) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        schools = schools_for(session, viewer)
    if not schools:
        raise Forbidden()
    return context.render(request, "site/import.html", schools=schools, result=None, error=None)


@router.post("/import", include_in_schema=False, dependencies=[Depends(form_post)])
async def upload(request: Request, viewer: SignedIn) -> Response:
    context = ctx(request)
    form = await request.form()
    file, school = form.get("file"), str(form.get("school_id") or "")
    data = await file.read(MAX_BYTES + 1) if isinstance(file, UploadFile) else b""
    with Session(context.container.engine) as session:
        schools = schools_for(session, viewer)
    try:
        if len(data) > MAX_BYTES:
            raise ImportRefused("Het bestand is te groot (maximaal 4 MB).")
        result = _check(context, viewer, data, school)
    except ImportRefused as exc:
        return context.render(
            request, "site/import.html", 422, schools=schools, result=None, error=str(exc)
        )
    text = data.decode("utf-8-sig") if result.encoding == "utf-8" else data.decode("cp1252")
    return context.render(
        request,
        "site/import.html",
        schools=schools,
        result=result,
        error=None,
        content=text,
        school=school,
    )


@router.post("/import/confirm", include_in_schema=False, dependencies=[Depends(form_post)])
async def confirm(request: Request, viewer: SignedIn) -> Response:
    context = ctx(request)
    form = await request.form()
    content, school = str(form.get("content") or ""), str(form.get("school_id") or "")
    only_valid = form.get("mode") == "valid"
    with Session(context.container.engine) as session:
        schools = schools_for(session, viewer)
    try:
        result = _check(context, viewer, content.encode("utf-8"), school)
    except ImportRefused as exc:
        return context.render(
            request, "site/import.html", 422, schools=schools, result=None, error=str(exc)
        )
    if result.invalid and not only_valid:
        return context.render(
            request,
            "site/import.html",
            422,
            schools=schools,
            result=result,
            error=None,
            content=content,
            school=school,
        )
    rows = result.valid
    try:
        outcomes = await enroll_many(context, viewer, [row.request for row in rows if row.request])
    except EnrollmentInterrupted as stopped:
        error = (
            f"Temporal antwoordt niet: {stopped.started} van de {len(rows)} leerlingen zijn "
            "aangemeld. Wat al is aangemeld blijft staan; importeer hetzelfde bestand straks "
            "opnieuw om de rest aan te melden."
        )
        return context.render(
            request, "site/import.html", 503, schools=schools, result=None, error=error
        )
    summary = tally(outcomes, skipped=len(result.invalid))
    failed = [
        f"regel {row.line}: {'; '.join(outcome.problems)}"
        for row, outcome in zip(rows, outcomes, strict=True)
        if isinstance(outcome, EnrollmentError)
    ]
    with Session(context.container.engine) as session:
        audit(
            session,
            viewer,
            "import_committed",
            "school",
            school or "-",
            summary,
        )
        session.commit()
    return context.render(request, "site/import_done.html", summary=summary, failed=failed)
