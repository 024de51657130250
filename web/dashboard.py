"""The coordinator's dashboard (a professional gets the same page for their own caseload), its
JSON twin, and the CSV export of the yearly figures.

Stalled trajectories are ranked by neglect: the longest without contact and the most overdue
first (the attention paradox: the hardest to reach need the most attention). The "sluitend"
rate is measured on a reference date (peildatum), 1 October unless another is asked for.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from config.domain import Destination, Phase, SchoolType
from store import dashboard as queries
from store.dashboard import Filters, Row, Scope
from store.directory import Organisation, OrganisationKind
from web import oncall_actions
from web.auth import Forbidden, Viewer, WebRole, audit
from web.charts import bar_chart
from web.site import CoordinatorOnly, SignedIn, ctx
from workflows.escalation_models import AckVia

router = APIRouter(tags=["dashboard"])
PHASES = [p.value for p in Phase if p is not Phase.closed]
DESTINATIONS = [d.value for d in Destination] + ["none"]


def default_reference(today: date) -> date:
    """The latest 1 October that is not in the future."""
    this_year = date(today.year, 10, 1)
    return this_year if this_year <= today else date(today.year - 1, 10, 1)


def _filters(school: str | None, school_type: str | None, phase: str | None) -> Filters:
    return Filters(school_id=school or None, school_type=school_type or None, phase=phase or None)


def _youth(row: Row, viewer: Viewer) -> dict[str, Any]:
    t, y = row.trajectory, row.youth
    name = f"{y.first_name} {y.last_name}" if viewer.is_coordinator else y.first_name
    return {
        "trajectory_id": t.id,
        "name": name,
        "school_id": t.school_id,
        "phase": t.phase.value,
        "leave_date": t.leave_date.isoformat(),
        "last_contact_at": t.last_contact_at.isoformat() if t.last_contact_at else None,
        "overdue_count": t.overdue_count,
        "destination": t.destination.value if t.destination else None,
    }


def gather(session: Session, viewer: Viewer, filters: Filters, reference: date) -> dict[str, Any]:
    scope: Scope = viewer.scope
    now = datetime.now(UTC)
    lists = {
        "stalled": queries.stalled(session, scope, now, filters),
        "no_destination": queries.flagged(session, scope, "no_destination", filters, 20),
        "consent_pending": queries.flagged(session, scope, "consent_pending", filters, 20),
        "waakvlam": queries.flagged(session, scope, "waakvlam", filters, 20),
    }
    shown = sorted({r.trajectory.id for rows in lists.values() for r in rows})
    audit(session, viewer, "dashboard_viewed", "region", "dashboard", {"trajectories": shown})
    session.commit()
    escalations = queries.open_escalations(session, scope)
    return {
        "lists": {k: [_youth(r, viewer) for r in rows] for k, rows in lists.items()},
        "flags": queries.flag_counts(session, scope, filters),
        "by_phase": queries.count_by(session, scope, "phase", filters),
        "by_destination": queries.count_by(session, scope, "destination", filters),
        "by_school": queries.count_by(session, scope, "school_id", filters),
        "by_school_type": queries.count_by(session, scope, "school_type", filters),
        "sluitend": [
            {
                "school_id": f.school_id,
                "school": f.name,
                "leavers": f.leavers,
                "with_destination": f.with_destination,
                "rate": None if f.rate is None else round(f.rate, 3),
            }
            for f in queries.sluitend(session, scope, reference)
        ],
        "reference_date": reference.isoformat(),
        "overdue_by_organisation": queries.overdue_by_organisation(session, scope),
        "escalations": [
            {
                "escalation_id": e.id,
                "trajectory_id": e.trajectory_id,
                "status": e.status.value,
                "category": e.category,
                "urgency": e.urgency,
                "opened_at": e.opened_at.isoformat(),
                "unanswered": e.acknowledged_at is None,
            }
            for e in escalations
        ],
    }


def _schools(session: Session) -> list[Organisation]:
    return list(
        session.exec(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.school)
            .order_by(col(Organisation.name))
        ).all()
    )


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(
    request: Request,
    viewer: SignedIn,
    school: str | None = None,
    school_type: str | None = None,
    phase: str | None = None,
    peildatum: date | None = None,
) -> Response:
    context = ctx(request)
    reference = peildatum or default_reference(date.today())
    with Session(context.container.engine, expire_on_commit=False) as session:
        data = gather(session, viewer, _filters(school, school_type, phase), reference)
        schools = _schools(session)
    names = {s.id: s.name for s in schools}
    return context.render(
        request,
        "site/dashboard.html",
        data=data,
        phase_chart=bar_chart(data["by_phase"], PHASES),
        destination_chart=bar_chart(data["by_destination"], DESTINATIONS),
        school_type_chart=bar_chart(data["by_school_type"], [s.value for s in SchoolType]),
        school_chart=bar_chart({names.get(k, k): v for k, v in data["by_school"].items()}),
        schools=[s for s in schools if viewer.is_coordinator or s.id in data["by_school"]],
        school_types=[s.value for s in SchoolType],
        phases=PHASES,
        chosen={"school": school or "", "school_type": school_type or "", "phase": phase or ""},
        school_names=names,
        request_flash=request.query_params.get("flash", "")[:40],
    )


@router.get("/api/dashboard", tags=["api"])
def dashboard_json(
    request: Request,
    viewer: SignedIn,
    school: str | None = None,
    school_type: str | None = None,
    phase: str | None = None,
    peildatum: date | None = None,
) -> dict[str, Any]:
    """The dashboard's figures and lists, within the viewer's scope."""
    reference = peildatum or default_reference(date.today())
    with Session(ctx(request).container.engine, expire_on_commit=False) as session:
        return gather(session, viewer, _filters(school, school_type, phase), reference)


@router.get("/export/figures.csv", tags=["api"])
def yearly_figures(
    request: Request, viewer: CoordinatorOnly, peildatum: date | None = None
) -> Response:
    """The yearly figures per school on the reference date (1 October by default): leavers,
    with a destination, the sluitend rate, and the leavers per destination."""
    reference = peildatum or default_reference(date.today())
    with Session(ctx(request).container.engine, expire_on_commit=False) as session:
        figures = queries.sluitend(session, Scope(region=True), reference)
        audit(
            session, viewer, "figures_exported", "region", "figures", {"peildatum": str(reference)}
        )
        session.commit()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        ["peildatum", "school_id", "school", "uitstromers", "met_bestemming", "sluitend_pct"]
        + DESTINATIONS
    )
    for f in figures:
        rate = "" if f.rate is None else f"{100 * f.rate:.1f}".replace(".", ",")
        writer.writerow(
            [reference.isoformat(), f.school_id, f.name, f.leavers, f.with_destination, rate]
            + [f.destinations.get(d, 0) for d in DESTINATIONS]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="waakvlam-{reference}.csv"'},
    )


@router.post("/escalations/{escalation_id}/ack", include_in_schema=False)
async def acknowledge(request: Request, viewer: SignedIn, escalation_id: str) -> Response:
    """Take a call from the dashboard (the on-call jobcoach, or the coordinator): the same
    update as an SMS reply or the page's link, so further pages stop at once."""
    if not await ctx(request).csrf.valid(request):
        raise HTTPException(403, "csrf")
    if not (viewer.is_coordinator or WebRole.jobcoach in viewer.roles):
        raise Forbidden()
    context = ctx(request)
    if context.client is None:
        return RedirectResponse("/dashboard?flash=unavailable", status_code=303)
    answer = await oncall_actions.acknowledge(
        client=context.client,
        engine=context.container.engine,
        escalation_id=escalation_id,
        professional_id=viewer.professional_id,
        via=AckVia.dashboard,
    )
    with Session(context.container.engine) as session:
        detail = {"outcome": answer.outcome.value}
        audit(session, viewer, "escalation_acknowledged", "escalation", escalation_id, detail)
        session.commit()
    return RedirectResponse(f"/dashboard?flash={answer.outcome.value}", status_code=303)
