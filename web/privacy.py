"""The coordinator's privacy routes (JSON API; the web app's sign-in decides who is a
coordinator, every call is written to the audit log):

- ``GET /api/privacy/youth/{youth_id}/export``: everything held about one youth (AVG art. 15/20);
- ``POST /api/privacy/youth/{youth_id}/erase``: erasure on request (AVG art. 17); the body must
  repeat the youth id, and the CSRF token is required like every other POST;
- ``GET /api/privacy/audit``: the audit log as JSON or CSV (``?format=csv``), filtered by time
  and subject.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from store.privacy import UnknownYouth
from waakvlam.privacy import UnknownProfessional, audit_csv, audit_log, erase, export_for
from web.auth import Viewer, audit
from web.site import coordinator, ctx, form_post

router = APIRouter(prefix="/api/privacy", tags=["privacy"])
Coordinator = Annotated[Viewer, Depends(coordinator)]
YouthId = Annotated[str, Field(min_length=1, max_length=40)]


class EraseRequest(BaseModel):
    confirm_youth_id: str = Field(max_length=40, description="the youth id again, to confirm")


class ErasureOut(BaseModel):
    youth_id: str
    workflows_terminated: list[str]
    removed: dict[str, int]
    already_erased: bool


@router.get("/youth/{youth_id}/export")
def export_youth(youth_id: str, request: Request, viewer: Coordinator) -> dict[str, Any]:
    engine = ctx(request).container.engine
    try:
        data: dict[str, Any] = export_for(
            engine, youth_id[:40], actor_kind="professional", actor_id=viewer.professional_id
        )
    except UnknownYouth:
        raise HTTPException(404, "unknown_youth") from None
    return data


@router.post(
    "/youth/{youth_id}/erase", response_model=ErasureOut, dependencies=[Depends(form_post)]
)
async def erase_youth(
    youth_id: str, body: EraseRequest, request: Request, viewer: Coordinator
) -> ErasureOut:
    if body.confirm_youth_id != youth_id:
        raise HTTPException(422, "confirm_youth_id must repeat the youth id")
    context = ctx(request)
    if context.client is None:
        raise HTTPException(503, "temporal_unavailable")
    try:
        report = await erase(
            engine=context.container.engine,
            client=context.client,
            youth_id=youth_id[:40],
            by=viewer.professional_id,
            now=datetime.now(UTC),
        )
    except (UnknownYouth, UnknownProfessional):
        raise HTTPException(404, "unknown_youth") from None
    return ErasureOut(
        youth_id=report.youth_id,
        workflows_terminated=report.workflows_terminated,
        removed=report.removed,
        already_erased=report.already_erased,
    )


@router.get("/audit", response_model=None)
def audit_entries(
    request: Request,
    viewer: Coordinator,
    since: datetime | None = None,
    until: datetime | None = None,
    subject_kind: Annotated[str | None, Query(max_length=20)] = None,
    subject_id: Annotated[str | None, Query(max_length=80)] = None,
    format: Literal["json", "csv"] = "json",
) -> Response | list[dict[str, Any]]:
    with Session(ctx(request).container.engine) as session:
        entries = audit_log(
            session,
            since=_aware(since),
            until=_aware(until),
            subject_kind=subject_kind,
            subject_id=subject_id,
        )
        rows = [e.model_dump(mode="json") for e in entries]
        text = audit_csv(entries) if format == "csv" else ""
        audit(session, viewer, "audit_exported", "audit", subject_id or "*",
              {"entries": len(entries), "format": format})  # fmt: skip
        session.commit()
    if format == "csv":
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    return rows


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
