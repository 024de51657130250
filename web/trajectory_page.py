"""A trajectory's page: the youth, the timeline (the read model, overlaid with the workflow's own
timeline query when it answers), and the actions a professional takes from it. Every view and
every action is written to the audit log; only opaque ids go to Temporal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from config.domain import CheckinStatus, Destination
from store import dashboard as queries
from store.directory import Organisation, Professional
from store.disclosure import may_see_youth
from store.trajectories import TaskStatus
from web.auth import Forbidden, Viewer, audit
from web.charts import timeline_picture
from web.site import SignedIn, WebContext, ctx, form_post
from web.task_titles import task_title
from web.workflow_actions import Answer, act, live_view
from workflows.dates import AMSTERDAM
from workflows.trajectory_models import (
    Actor,
    ChooseDestination,
    CompleteTask,
    DropoutReason,
    RecordCheckin,
    ReportDropout,
)

router = APIRouter(tags=["trajectories"])
ACTIONABLE = {TaskStatus.upcoming, TaskStatus.open, TaskStatus.overdue}


def _visible(session: Session, viewer: Viewer, trajectory_id: str) -> queries.Row:
    row = queries.visible_trajectory(session, viewer.scope, trajectory_id)
    if row is None:  # unknown and out of scope look the same: nothing leaks
        raise Forbidden()
    # Outside the youth's own case team, the consent in force decides (data sharing from 16).
    today = datetime.now(AMSTERDAM).date()
    if not viewer.is_coordinator and not may_see_youth(
        session, viewer.professional_id, row.youth.id, today
    ):
        raise Forbidden()
    return row


async def _view(context: WebContext, request: Request, viewer: Viewer, tid: str) -> dict[str, Any]:
    language = context.language(request)
    with Session(context.container.engine, expire_on_commit=False) as session:
        row = _visible(session, viewer, tid)
        tasks = queries.tasks_of(session, tid)
        school = session.get(Organisation, row.trajectory.school_id)
        audit(session, viewer, "trajectory_viewed", "trajectory", tid)
        session.commit()
    live = await live_view(context.client, tid)
    live_status = {e.key: e.status for e in live.timeline} if live else {}
    timeline = context.container.timeline
    items = [
        {
            "key": t.key,
            "kind": t.kind.value,
            "title": task_title(timeline, t.rule_id, t.kind, language),
            "due": t.due_date.isoformat(),
            "status": live_status.get(t.key, t.status).value,
            "actionable": live_status.get(t.key, t.status) in ACTIONABLE,
        }
        for t in tasks
    ]
    t, y = row.trajectory, row.youth
    return {
        "trajectory_id": t.id,
        "name": f"{y.first_name} {y.last_name}" if viewer.is_coordinator else y.first_name,
        "school": school.name if school else t.school_id,
        "phase": (live.summary.phase if live else t.phase).value,
        "destination": t.destination.value if t.destination else None,
        "leave_date": t.leave_date.isoformat(),
        "overdue_count": live.summary.overdue_count if live else t.overdue_count,
        "live": live is not None,
        "waakvlam": live.summary.waakvlam if live else t.waakvlam,
        "tasks": items,
    }


@router.get("/trajectories/{trajectory_id}", include_in_schema=False)
async def trajectory_page(request: Request, trajectory_id: str, viewer: SignedIn) -> Response:
    context = ctx(request)
    view = await _view(context, request, viewer, trajectory_id)
    picture = timeline_picture(
        [(i["key"], i["title"], i["status"], date.fromisoformat(i["due"])) for i in view["tasks"]],
        date.today(),
    )
    with Session(context.container.engine, expire_on_commit=False) as session:
        people = session.exec(
            select(Professional)
            .where(col(Professional.active))
            .order_by(col(Professional.first_name))
        ).all()
    return context.render(
        request,
        "site/trajectory.html",
        view=view,
        picture=picture,
        flash=request.query_params.get("flash"),
        reason=request.query_params.get("reason"),
        checkin_statuses=[s.value for s in CheckinStatus],
        destinations=[d.value for d in Destination],
        dropout_reasons=[r.value for r in DropoutReason],
        people=people,
    )


@router.get("/api/trajectories/{trajectory_id}", tags=["api"])
async def trajectory_json(request: Request, trajectory_id: str, viewer: SignedIn) -> dict[str, Any]:
    """One trajectory and its tasks, if it is within the viewer's scope."""
    return await _view(ctx(request), request, viewer, trajectory_id)


async def _act(
    request: Request, viewer: Viewer, tid: str, update: str, arg: Any, what: dict[str, str]
) -> Response:
    context = ctx(request)
    with Session(context.container.engine, expire_on_commit=False) as session:
        _visible(session, viewer, tid)
    answer: Answer = await act(context.client, tid, update, arg)
    with Session(context.container.engine, expire_on_commit=False) as session:
        detail = {**what, "outcome": answer.outcome.value, "reason": answer.reason or ""}
        audit(session, viewer, update, "trajectory", tid, detail)
        session.commit()
    query = f"flash={answer.outcome.value}" + (f"&reason={answer.reason}" if answer.reason else "")
    return RedirectResponse(f"/trajectories/{tid}?{query}", status_code=303)


FORM = [Depends(form_post)]


@router.post("/trajectories/{tid}/tasks/{key}/complete", include_in_schema=False, dependencies=FORM)
async def complete(request: Request, tid: str, key: str, viewer: SignedIn) -> Response:
    arg = CompleteTask(task_key=key, actor_id=viewer.professional_id)
    return await _act(request, viewer, tid, "complete_task", arg, {"task_key": key})


@router.post("/trajectories/{tid}/tasks/{key}/checkin", include_in_schema=False, dependencies=FORM)
async def checkin(
    request: Request,
    viewer: SignedIn,
    tid: str,
    key: str,
    status: Annotated[CheckinStatus, Form()],
) -> Response:
    arg = RecordCheckin(task_key=key, actor_id=viewer.professional_id, status=status)
    what = {"task_key": key, "status": status.value}
    return await _act(request, viewer, tid, "record_checkin", arg, what)


@router.post("/trajectories/{tid}/destination", include_in_schema=False, dependencies=FORM)
async def destination(
    request: Request,
    viewer: SignedIn,
    tid: str,
    destination: Annotated[Destination, Form()],
    next_contact_id: Annotated[str, Form(max_length=40)],
    replace: Annotated[bool, Form()] = False,
) -> Response:
    arg = ChooseDestination(
        actor_id=viewer.professional_id,
        destination=destination,
        next_contact_id=next_contact_id,
        replace=replace,
    )
    what = {"destination": destination.value, "next_contact_id": next_contact_id}
    return await _act(request, viewer, tid, "choose_destination", arg, what)


@router.post("/trajectories/{tid}/dropout", include_in_schema=False, dependencies=FORM)
async def dropout(
    request: Request, tid: str, reason: Annotated[DropoutReason, Form()], viewer: SignedIn
) -> Response:
    arg = ReportDropout(actor_id=viewer.professional_id, reason=reason)
    return await _act(request, viewer, tid, "report_dropout", arg, {"reason": reason.value})


@router.post("/trajectories/{tid}/waakvlam/{step}", include_in_schema=False, dependencies=FORM)
async def waakvlam(request: Request, viewer: SignedIn, tid: str, step: str) -> Response:
    """The youth refuses guidance (waakvlam: light contact only) or asks for help again."""
    update = {"refuse": "refuse_guidance", "help": "ask_help_again"}.get(step)
    if update is None:
        raise Forbidden()
    arg = Actor(actor_id=viewer.professional_id)
    return await _act(request, viewer, tid, update, arg, {"step": step})
