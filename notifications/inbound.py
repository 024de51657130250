"""Inbound SMS: parsed from each gateway's shape, opt-out keywords handled first, everything
else offered to the registered handlers in order (the on-call layer registers its acknowledgement
handler, "OK 4821", at the composition root).

STOP, STOP ALL and UNSUBSCRIBE (any case) set ``sms_opted_out_at`` on every SMS contact method
with the sender's number: no more SMS to it, email continues. START and UNSTOP clear it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.audit import record
from store.directory import Channel, ContactMethod

STOP_WORDS = frozenset({"STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE"})
START_WORDS = frozenset({"START", "UNSTOP"})


class InboundSms(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_number: str  # E.164
    to_number: str
    body: str
    provider: str
    provider_message_id: str | None
    received_at: datetime


InboundHandler = Callable[[InboundSms], Awaitable[bool]]


class InboundOutcome(StrEnum):
    opted_out = "opted_out"
    opted_in = "opted_in"
    handled = "handled"  # a registered handler claimed it
    unclaimed = "unclaimed"  # nobody did: the caller may answer with help text


def e164(number: str) -> str:
    number = "".join(ch for ch in number.strip() if ch.isdigit() or ch == "+")
    return "+" + number[2:] if number.startswith("00") else number


def parse_cm_inbound(data: Mapping[str, Any], now: datetime) -> InboundSms:
    sender, receiver = data.get("from") or {}, data.get("to") or {}
    message = data.get("message") or {}
    return InboundSms(
        from_number=e164(str(sender.get("number", ""))),
        to_number=e164(str(receiver.get("number", ""))),
        body=str(message.get("text", "")),
        provider="cm",
        provider_message_id=data.get("reference"),
        received_at=now,
    )


def parse_twilio_inbound(form: Mapping[str, str], now: datetime) -> InboundSms:
    return InboundSms(
        from_number=e164(form.get("From", "")),
        to_number=e164(form.get("To", "")),
        body=form.get("Body", ""),
        provider="twilio",
        provider_message_id=form.get("MessageSid"),
        received_at=now,
    )


def keyword(body: str) -> str:
    return " ".join(body.upper().split())


class InboundRouter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.handlers: list[InboundHandler] = []

    def register(self, handler: InboundHandler) -> None:
        self.handlers.append(handler)

    async def route(self, sms: InboundSms) -> InboundOutcome:
        word = keyword(sms.body)
        if word in STOP_WORDS or word in START_WORDS:
            opted_out = word in STOP_WORDS
            await asyncio.to_thread(self._set_opt_out, sms.from_number, opted_out, sms.received_at)
            return InboundOutcome.opted_out if opted_out else InboundOutcome.opted_in
        for handler in self.handlers:
            if await handler(sms):
                return InboundOutcome.handled
        return InboundOutcome.unclaimed

    def _set_opt_out(self, number: str, opted_out: bool, now: datetime) -> None:
        with Session(self.engine) as session:
            set_sms_opt_out(session, number, opted_out=opted_out, now=now)


def set_sms_opt_out(session: Session, number: str, *, opted_out: bool, now: datetime) -> None:
    """STOP (or the carrier saying the number unsubscribed) or START for every SMS contact
    method with this number; audited, committed."""
    methods = session.exec(
        select(ContactMethod)
        .where(ContactMethod.channel == Channel.sms)
        .where(ContactMethod.address == number)
    ).all()
    for method in methods:
        method.sms_opted_out_at = now.astimezone(UTC) if opted_out else None
        session.add(method)
        record(
            session,
            actor_kind=method.person_kind.value,
            actor_id=method.person_id,
            action="sms_opted_out" if opted_out else "sms_opted_in",
            subject_kind="contact_method",
            subject_id=str(method.id),
        )
    session.commit()
