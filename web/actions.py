"""One-click actions from messages: ``/a/<token>``, the signed single-use links the notification
layer puts in reminders, check-ins, consent requests and pages (and the employer's call-for-help
link, which may be used more than once but is rate limited).

GET only shows a page with a confirm button; POST acts. So a mail client's link scanner changes
nothing. An expired, used or tampered link gets a clear page and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from config.domain import CheckinStatus, Destination
from notifications import links
from store.trajectories import TaskRow, Trajectory
from store.youth import ConsentKind, Youth
from web import oncall_actions
from web.auth import audit
from web.oncall import CALL_LINK_PURPOSE, ack_link_subject
from web.security import client_ip
from web.site import WebContext, ctx, form_post
from web.task_titles import task_title
from web.workflow_actions import Answer, Outcome
from workflows.escalation_effects import ACK_LINK_PURPOSE
from workflows.escalation_models import AckVia, CallerKind, CallForHelp, HelpCategory, Urgency

router = APIRouter(tags=["one-click actions"])
TASK_PURPOSES = ("task_done", "handover_done", "checkin", "consent", "dropout")
PURPOSES = (*TASK_PURPOSES, ACK_LINK_PURPOSE, CALL_LINK_PURPOSE)
CONSENT_OF_TASK = {
    "enrollment_consent": ConsentKind.legal_representative,
    "consent_16": ConsentKind.data_sharing,
    "consent_18": ConsentKind.parents_involved,
}


def identify(session: Session, token: str, secret: str) -> links.VerifiedLink:
    """Verify the link against each purpose we serve; raises the link's own error."""
    now = datetime.now(UTC)
    for purpose in PURPOSES:
        try:
            return links.verify(token, purpose, session=session, secret=secret, now=now)
        except links.LinkWrongPurpose:
            continue
    raise links.LinkWrongPurpose()


def _facts(session: Session, context: WebContext, request: Request, link: Any) -> dict[str, Any]:
    subject: dict[str, str] = link.subject
    tid = subject.get("trajectory", "")
    key = subject.get("reference", "").partition("@")[0]
    facts: dict[str, Any] = {"purpose": link.purpose, "task_key": key, "trajectory_id": tid}
    trajectory = session.get(Trajectory, tid) if tid else None
    if trajectory is not None:
        youth = session.get(Youth, trajectory.youth_id)
        facts["first_name"] = youth.first_name if youth else ""
    task = session.get(TaskRow, f"{tid}:{key}") if tid else None
    if task is not None:
        facts["kind"] = task.kind.value
        facts["title"] = task_title(
            context.container.timeline, task.rule_id, task.kind, context.language(request)
        )
    return facts


def _problem(context: WebContext, request: Request, code: str) -> Response:
    return context.render(
        request,
        "site/message.html",
        410,
        title="action.title",
        text=f"action.{code}",
        more="action.nothing_changed",
    )


@router.get("/a/{token}", include_in_schema=False)
def show(request: Request, token: str) -> Response:
    context = ctx(request)
    secret = context.container.settings.signing_secret.get_secret_value()
    with Session(context.container.engine) as session:
        try:
            link = identify(session, token, secret)
        except links.LinkError as exc:
            return _problem(context, request, exc.code)
        facts = _facts(session, context, request, link)
        if facts.get("trajectory_id"):
            audit(
                session,
                None,
                "action_link_viewed",
                "trajectory",
                facts["trajectory_id"],
                {"purpose": link.purpose, "recipient": link.subject.get("recipient", "")},
            )
            session.commit()
    return context.render(
        request,
        "site/action.html",
        token=token,
        facts=facts,
        categories=[c.value for c in HelpCategory],
        destinations=[d.value for d in Destination],
        urgencies=[u.value for u in Urgency],
    )


def _actor(link: links.VerifiedLink) -> str:
    return link.subject.get("recipient", "").partition(":")[2] or "link"


async def _perform(context: WebContext, request: Request, link: links.VerifiedLink) -> Answer:
    from web.workflow_actions import act
    from workflows.trajectory_models import (
        ChooseDestination,
        CompleteTask,
        DropoutReason,
        RecordCheckin,
        RecordConsent,
        ReportDropout,
    )

    form = await request.form()
    tid = link.subject.get("trajectory", "")
    key = link.subject.get("reference", "").partition("@")[0]
    actor, client = _actor(link), context.client
    if link.purpose == "checkin":
        status = CheckinStatus(str(form.get("status", "at_destination")))
        return await act(
            client,
            tid,
            "record_checkin",
            RecordCheckin(task_key=key, actor_id=actor, status=status),
        )
    if link.purpose == "consent":
        kind = CONSENT_OF_TASK.get(key.removesuffix("_in_person"))
        if kind is None:
            return Answer(Outcome.rejected, "unknown_consent")
        given = form.get("answer") == "given"
        return await act(
            client, tid, "record_consent", RecordConsent(actor_id=actor, kind=kind, given=given)
        )
    if link.purpose == "dropout":
        reason = DropoutReason(str(form.get("reason", "other")))
        return await act(
            client, tid, "report_dropout", ReportDropout(actor_id=actor, reason=reason)
        )
    if form.get("destination"):  # the reminder of the destination task: choose it
        destination = Destination(str(form["destination"]))
        choice = ChooseDestination(actor_id=actor, destination=destination, next_contact_id=actor)
        return await act(client, tid, "choose_destination", choice)
    return await act(client, tid, "complete_task", CompleteTask(task_key=key, actor_id=actor))


async def _page_ack(context: WebContext, link: links.VerifiedLink) -> Answer:
    escalation_id, professional_id = ack_link_subject(link.subject)
    if context.client is None or not escalation_id or not professional_id:
        return Answer(Outcome.unavailable)
    answer = await oncall_actions.acknowledge(
        client=context.client,
        engine=context.container.engine,
        escalation_id=escalation_id,
        professional_id=professional_id,
        via=AckVia.link,
    )
    if answer.outcome is oncall_actions.AckOutcome.acknowledged:
        return Answer(Outcome.done)
    if answer.outcome is oncall_actions.AckOutcome.already_acknowledged:
        return Answer(Outcome.already_done)
    return Answer(Outcome.rejected, "closed")


async def _call(context: WebContext, request: Request, link: links.VerifiedLink) -> Answer:
    if not context.help_limit.allow(f"link:{link.jti}", f"ip:{client_ip(request)}"):
        return Answer(Outcome.rejected, "rate_limited")
    if context.client is None:
        return Answer(Outcome.unavailable)
    form = await request.form()
    call = CallForHelp(
        caller_kind=CallerKind.employer,
        caller_ref=link.subject.get("caller"),
        category=HelpCategory(str(form.get("category", "other"))),
        urgency=Urgency(str(form.get("urgency", "today"))),
    )
    try:
        await oncall_actions.call_for_help(
            client=context.client,
            engine=context.container.engine,
            task_queue=context.container.settings.temporal_task_queue,
            trajectory_id=link.subject.get("trajectory"),
            call=call,
        )
    except oncall_actions.NoPolicy:
        return Answer(Outcome.unavailable, "no_policy")
    return Answer(Outcome.done)


@router.post("/a/{token}", include_in_schema=False, dependencies=[Depends(form_post)])
async def perform(request: Request, token: str) -> Response:
    context = ctx(request)
    secret = context.container.settings.signing_secret.get_secret_value()
    with Session(context.container.engine) as session:
        try:
            link = identify(session, token, secret)
        except links.LinkError as exc:
            return _problem(context, request, exc.code)
    if link.purpose == CALL_LINK_PURPOSE:
        answer = await _call(context, request, link)
    elif link.purpose == ACK_LINK_PURPOSE:
        answer = await _page_ack(context, link)
    else:
        try:
            answer = await _perform(context, request, link)
        except ValueError:  # a form value that is not one of the choices
            answer = Answer(Outcome.rejected, "invalid_choice")
    with Session(context.container.engine) as session:
        if (
            answer.outcome in (Outcome.done, Outcome.already_done)
            and link.purpose != CALL_LINK_PURPOSE
        ):
            try:
                links.consume(
                    token, link.purpose, session=session, secret=secret, now=datetime.now(UTC)
                )
            except links.LinkAlreadyUsed:
                pass  # a racing second click: the workflow already answered it
        audit(
            session,
            None,
            f"link_{link.purpose}",
            "trajectory",
            link.subject.get("trajectory") or "-",
            {
                "outcome": answer.outcome.value,
                "reason": answer.reason or "",
                "recipient": link.subject.get("recipient", ""),
            },
        )
        session.commit()
    status = 429 if answer.reason == "rate_limited" else 200
    return context.render(request, "site/action_done.html", status, answer=answer)
