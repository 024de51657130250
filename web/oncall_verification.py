"""Verifying a jobcoach's mobile number from the web app: send a six-digit code by SMS, then
confirm it (typed in here, or sent back by SMS: see :mod:`web.oncall_sms`). Until then the
number is not paged by SMS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from store import contact_verification
from store.directory import ContactMethod
from waakvlam.container import Container
from web.oncall_sms import SmsSender


class CodeBody(BaseModel):
    code: str = Field(min_length=4, max_length=12)


def verification_router(
    container: Container, sms: SmsSender | None, signed_in: Callable[[Request], str]
) -> APIRouter:
    """A jobcoach verifies their own number (signed in); nobody else can."""
    router = APIRouter()
    engine = container.engine
    secret = container.settings.signing_secret.get_secret_value()

    @router.post("/contacts/{contact_id}/verification", status_code=202)
    async def send_verification_code(request: Request, contact_id: int) -> Any:
        me = signed_in(request)
        if sms is None:
            raise HTTPException(503, "SMS is not configured")
        with Session(engine) as session:
            contact = session.get(ContactMethod, contact_id)
            if contact is None or contact.person_id != me:
                raise HTTPException(404, "unknown contact method")
            try:
                code = contact_verification.start_verification(session, contact, secret=secret)
            except ValueError as exc:
                raise HTTPException(422, "not a mobile number") from exc
            address = contact.address
            session.commit()
        await sms.send_text(address, verification_text(code))
        return {"status": "code_sent"}

    @router.post("/contacts/{contact_id}/verification/confirm")
    def confirm_verification(request: Request, contact_id: int, body: CodeBody) -> Any:
        me = signed_in(request)
        with Session(engine) as session:
            contact = session.get(ContactMethod, contact_id)
            if contact is None or contact.person_id != me:
                raise HTTPException(404, "unknown contact method")
            ok = contact_verification.confirm(
                session, contact, body.code, secret=secret, now=datetime.now(UTC)
            )
            session.commit()
        if not ok:
            raise HTTPException(422, "wrong code")
        return {"status": "verified"}

    return router


def verification_text(code: str) -> str:
    return f"Waakvlam: je code is {code}. Stuur deze code terug om je nummer te bevestigen."
