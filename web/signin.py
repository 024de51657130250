"""Sign-in by a one-time link sent by email (no passwords), and signing out.

``POST /signin`` always answers the same page, known address or not, so nobody learns who has an
account; it is rate limited per address and per client. The link opens a page with a button
(GET shows, POST signs in), so a mail scanner that fetches links does not use it up.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, func, select

from notifications.channels import DeliveryError, OutgoingEmail
from store import accounts
from store.directory import Channel, ContactMethod, PersonKind, Professional
from web.auth import SESSION_COOKIE, audit, load_viewer, viewer_of
from web.security import client_ip
from web.site import ctx, form_post

log = logging.getLogger(__name__)
router = APIRouter(tags=["sign-in"])


@router.get("/", include_in_schema=False)
def start(request: Request) -> Response:
    signed_in = viewer_of(request, ctx(request).container.engine) is not None
    return RedirectResponse("/dashboard" if signed_in else "/signin", status_code=303)


@router.get("/signin", include_in_schema=False)
def signin_page(request: Request) -> Response:
    return ctx(request).render(request, "site/signin.html", sent=False)


def _professional_by_email(session: Session, email: str) -> Professional | None:
    found = session.exec(
        select(Professional)
        .join(ContactMethod, col(ContactMethod.person_id) == Professional.id)
        .where(
            ContactMethod.person_kind == PersonKind.professional,
            ContactMethod.channel == Channel.email,
            func.lower(ContactMethod.address) == email,
            col(Professional.active),
        )
    ).first()
    return found


@router.post("/signin", include_in_schema=False, dependencies=[Depends(form_post)])
async def request_link(request: Request, email: Annotated[str, Form(max_length=200)]) -> Response:
    context = ctx(request)
    email = email.strip().lower()
    per_ip = context.sign_in_ip_limit.allow(client_ip(request))
    if not (per_ip and context.sign_in_limit.allow(email)):
        return context.render(
            request, "site/message.html", 429, title="limit.title", text="limit.text"
        )
    container = context.container
    with Session(container.engine) as session:
        person = _professional_by_email(session, email)
        if person is None:
            return context.render(request, "site/signin.html", sent=True)
        token = accounts.issue_sign_in(session, professional_id=person.id, now=datetime.now(UTC))
        audit(session, None, "sign_in_link_requested", "professional", person.id)
        session.commit()
        first_name, language = person.first_name, person.language
    link = f"{container.settings.public_base_url}/signin/{token}"
    rendered = container.notifications.templates.render(
        "sign_in_link",
        language,
        {"first_name": first_name, "link": link, "region": container.settings.region_name},
    )
    try:
        await container.notifications.email.send(
            OutgoingEmail(email, rendered.subject, rendered.text, rendered.html, "wvsignin")
        )
    except DeliveryError as exc:  # the same answer: the person can ask again
        log.warning("sign-in link not sent", extra={"code": exc.code})
    return context.render(request, "site/signin.html", sent=True)


@router.get("/signin/{token}", include_in_schema=False)
def confirm_page(request: Request, token: str) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        try:
            accounts.check_sign_in(session, token=token, now=datetime.now(UTC))
        except accounts.SignInProblem:
            return context.render(
                request,
                "site/message.html",
                410,
                title="signin.title",
                text="signin.bad",
                back="/signin",
            )
    return context.render(request, "site/signin_confirm.html", token=token)


@router.post("/signin/{token}", include_in_schema=False, dependencies=[Depends(form_post)])
def sign_in(request: Request, token: str) -> Response:
    context = ctx(request)
    with Session(context.container.engine) as session:
        try:
            pid, session_token = accounts.redeem_sign_in(
                session, token=token, now=datetime.now(UTC)
            )
        except accounts.SignInProblem:
            session.rollback()
            return context.render(
                request,
                "site/message.html",
                410,
                title="signin.title",
                text="signin.bad",
                back="/signin",
            )
        if load_viewer(session, pid) is None:
            session.rollback()
            return context.render(
                request, "site/message.html", 403, title="forbidden.title", text="forbidden.text"
            )
        audit(session, None, "signed_in", "professional", pid)
        session.commit()
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_token,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=context.secure_cookies,
        path="/",
    )
    return response


@router.post("/signout", include_in_schema=False, dependencies=[Depends(form_post)])
def sign_out(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with Session(ctx(request).container.engine) as session:
            accounts.end_session(session, token=token, now=datetime.now(UTC))
            session.commit()
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
