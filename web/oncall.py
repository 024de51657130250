"""On-call routes: call for help, acknowledge (link or dashboard), resolve, audit trail, who is
on call, and verifying a mobile number. JSON only; the dashboard pages are another issue.

Routes that talk to Temporal answer 503 when the app was built without a Temporal client.
Who is acting comes from the app's sign-in, passed in as ``signed_in`` and ``coordinator``
(each returns the professional id or raises); without them those routes answer 401. The two
link routes need no sign-in: the signed link is the proof.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field
from sqlmodel import Session
from temporalio.client import Client

from notifications import links
from store import escalations
from store.oncall import Escalation
from store.rotations import who_is_on_call
from waakvlam.container import Container
from web import oncall_actions
from web.oncall_actions import AckAnswer, NoPolicy
from web.oncall_sms import SmsSender
from web.oncall_verification import verification_router
from workflows.escalation_effects import ACK_LINK_PURPOSE
from workflows.escalation_models import (
    ESCALATION_ID,
    AckVia,
    CallerKind,
    CallForHelp,
    HelpCategory,
    Outcome,
    Resolve,
    Urgency,
)

EscalationId = Annotated[str, Path(pattern=ESCALATION_ID)]  # malformed → 422, not a crash
CALL_LINK_PURPOSE = "oncall_call"  # an employer's link to call for help about one youth


Acting = Callable[[Request], str]  # the signed-in professional's id, or raises


def _refuse(request: Request) -> str:
    raise HTTPException(401, "sign in first")


class CallBody(BaseModel):
    trajectory_id: str | None = Field(default=None, max_length=40)
    caller_kind: CallerKind = CallerKind.partner
    category: HelpCategory
    urgency: Urgency
    policy_id: str | None = Field(default=None, max_length=40)


class LinkCallBody(BaseModel):
    category: HelpCategory
    urgency: Urgency


class ResolveBody(BaseModel):
    outcome: Outcome


def _answer(answer: AckAnswer) -> dict[str, Any]:
    return {
        "outcome": answer.outcome.value,
        "escalation_id": answer.escalation_id,
        "acknowledged_by": answer.acknowledged_by,
    }


def oncall_router(
    container: Container,
    client: Client | None,
    sms: SmsSender | None = None,
    *,
    signed_in: Acting = _refuse,
    coordinator: Acting = _refuse,
) -> APIRouter:
    router = APIRouter(prefix="/oncall", tags=["oncall"])
    engine, settings = container.engine, container.settings
    secret = settings.signing_secret.get_secret_value()

    def temporal() -> Client:
        if client is None:
            raise HTTPException(503, "on-call paging is not connected to Temporal")
        return client

    async def start_call(call: CallForHelp, trajectory_id: str | None, policy: str | None) -> Any:
        try:
            receipt = await oncall_actions.call_for_help(
                client=temporal(),
                engine=engine,
                task_queue=settings.temporal_task_queue,
                trajectory_id=trajectory_id,
                call=call,
                policy_id=policy,
            )
        except NoPolicy as exc:
            raise HTTPException(409, "no escalation policy configured") from exc
        return {"workflow_id": receipt.workflow_id, "status": "calling"}

    @router.post("/calls", status_code=202)
    async def call_for_help(request: Request, body: CallBody) -> Any:
        """A partner or the coordinator calls for help (from the dashboard)."""
        if body.caller_kind not in (CallerKind.partner, CallerKind.coordinator):
            raise HTTPException(422, "employers and youth call by their link")
        call = CallForHelp(
            caller_kind=body.caller_kind,
            caller_ref=signed_in(request),
            category=body.category,
            urgency=body.urgency,
        )
        return await start_call(call, body.trajectory_id, body.policy_id)

    @router.post("/help/{token}", status_code=202)
    async def call_by_link(token: str, body: LinkCallBody) -> Any:
        """An employer's signed link (no login): the link names the trajectory and the caller."""
        with Session(engine) as session:
            try:
                link = links.verify(
                    token, CALL_LINK_PURPOSE, session=session, secret=secret, now=datetime.now(UTC)
                )
            except links.LinkError as exc:
                raise HTTPException(403, exc.code) from exc
        call = CallForHelp(
            caller_kind=CallerKind.employer,
            caller_ref=link.subject.get("caller"),
            category=body.category,
            urgency=body.urgency,
        )
        return await start_call(call, link.subject.get("trajectory"), None)

    @router.post("/ack/{token}")
    async def acknowledge_by_link(token: str) -> Any:
        """The link in a page (POST, so a link preview cannot acknowledge by fetching it)."""
        with Session(engine) as session:
            try:
                link = links.verify(
                    token, ACK_LINK_PURPOSE, session=session, secret=secret, now=datetime.now(UTC)
                )
            except links.LinkAlreadyUsed:
                return {"outcome": "already_acknowledged"}
            except links.LinkError as exc:
                raise HTTPException(403, exc.code) from exc
        escalation_id, professional_id = ack_link_subject(link.subject)
        if not escalation_id or not professional_id:
            raise HTTPException(403, "link_invalid")
        answer = await oncall_actions.acknowledge(
            client=temporal(),
            engine=engine,
            escalation_id=escalation_id,
            professional_id=professional_id,
            via=AckVia.link,
        )
        with Session(engine) as session:
            try:
                links.consume(
                    token, ACK_LINK_PURPOSE, session=session, secret=secret, now=datetime.now(UTC)
                )
                session.commit()
            except links.LinkError:
                pass  # a racing second click: the update already answered it
        return _answer(answer)

    @router.post("/escalations/{escalation_id}/ack")
    async def acknowledge_from_dashboard(request: Request, escalation_id: str) -> Any:
        professional_id = signed_in(request)
        answer = await oncall_actions.acknowledge(
            client=temporal(),
            engine=engine,
            escalation_id=escalation_id,
            professional_id=professional_id,
            via=AckVia.dashboard,
        )
        return _answer(answer)

    @router.post("/escalations/{escalation_id}/resolve")
    async def resolve(request: Request, escalation_id: EscalationId, body: ResolveBody) -> Any:
        professional_id = signed_in(request)
        if body.outcome is Outcome.expired:
            raise HTTPException(422, "'expired' is set by the system")
        view = await oncall_actions.resolve(
            client=temporal(),
            engine=engine,
            escalation_id=escalation_id,
            resolution=Resolve(
                escalation_id=escalation_id,
                outcome=body.outcome,
                professional_id=professional_id,
            ),
        )
        if view is None:
            return {"outcome": "already_closed"}
        return {"outcome": "resolved", "status": view.status.value}

    @router.get("/escalations/{escalation_id}/audit")
    def audit_trail(request: Request, escalation_id: str) -> Any:
        """The coordinator's view of what happened, oldest first."""
        coordinator(request)
        with Session(engine) as session:
            row = session.get(Escalation, escalation_id)
            if row is None:
                raise HTTPException(404, "unknown escalation")
            entries = escalations.audit_trail(session, escalation_id)
            return {
                "escalation_id": row.id,
                "status": row.status.value,
                "acknowledged_by": row.acknowledged_by,
                "acknowledged_via": row.acknowledged_via,
                "outcome": row.outcome,
                "entries": [
                    {
                        "at": e.at.isoformat(),
                        "action": e.action,
                        "actor_kind": e.actor_kind,
                        "actor_id": e.actor_id,
                        "detail": e.detail,
                    }
                    for e in entries
                ],
            }

    @router.get("/rotations/{rotation_id}/now")
    def on_call_now(request: Request, rotation_id: str, at: datetime | None = None) -> Any:
        signed_in(request)
        moment = at or datetime.now(UTC)
        if moment.tzinfo is None:
            raise HTTPException(422, "give 'at' with a time zone")
        with Session(engine) as session:
            people = who_is_on_call(session, rotation_id=rotation_id, at=moment)
        return {"rotation_id": rotation_id, "at": moment.isoformat(), "on_call": people}

    router.include_router(verification_router(container, sms, signed_in))
    return router


def ack_link_subject(subject: dict[str, str]) -> tuple[str, str]:
    """(escalation id, professional id) from a page's link: the notification layer signs the
    page's reference (``<escalation id>:<round>.<step>``) and ``professional:<id>``."""
    escalation_id = subject.get("reference", "").partition(":")[0]
    kind, _, professional_id = subject.get("recipient", "").partition(":")
    return (escalation_id, professional_id if kind == "professional" else "")
