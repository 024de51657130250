"""SMS replies for on-call: ``OK 4821`` (or ``4821``) acknowledges a page; a six-digit code
confirms a new mobile number; anything else gets one short help text, at most once an hour per
number (a number that keeps sending garbage is counted, not answered in a loop).

STOP and START are the notification layer's (it handles them before this handler is asked).
Register :meth:`OncallSmsReplies.handle` with the ``InboundRouter``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from notifications.channels import OutgoingSms, SmsChannel
from notifications.inbound import InboundSms
from store import contact_verification, escalations
from store.directory import Professional
from web import oncall_actions
from web.oncall_actions import AckOutcome
from workflows.escalation_models import AckVia

ACK_REPLY = re.compile(r"^\s*(?:ok[\s:.,-]*)?(\d{4})\s*[.!]*\s*$", re.IGNORECASE)
VERIFY_REPLY = re.compile(r"^\s*(\d{6})\s*$")

HELP_TEXT = (
    "Waakvlam: niet begrepen. Pak je een oproep op? Antwoord OK en de code, bijv. OK 1234. "
    "STOP = geen sms meer."
)


class SmsSender(Protocol):
    async def send_text(self, to: str, body: str) -> None: ...


class ChannelSmsSender:
    """Direct replies (confirmations, help texts, verification codes) over the SMS channel."""

    def __init__(self, channel: SmsChannel) -> None:
        self.channel = channel

    async def send_text(self, to: str, body: str) -> None:
        reference = "wvr" + secrets.token_hex(6)
        await self.channel.send(OutgoingSms(to=to, body=body, reference=reference))


def parse_ack(text: str) -> str | None:
    match = ACK_REPLY.match(text)
    return match.group(1) if match else None


class OncallSmsReplies:
    """The on-call handler of the ``InboundRouter`` (an ``InboundHandler``)."""

    def __init__(
        self,
        *,
        engine: Engine,
        client: Client,
        sms: SmsSender,
        secret: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine, self.client, self.sms, self.secret = engine, client, sms, secret
        self.clock = clock

    async def __call__(self, message: InboundSms) -> bool:
        return await self.handle(message.from_number, message.body)

    async def handle(self, sender: str, text: str) -> bool:
        """Answer one inbound SMS from ``sender`` (E.164); True when it was for on-call."""
        code = VERIFY_REPLY.match(text)
        if code and await self._verify(sender, code.group(1)):
            return True
        ack_code = parse_ack(text)
        if ack_code and await self._acknowledge(sender, ack_code):
            return True
        with Session(self.engine) as session:
            answer = contact_verification.note_unrecognised_reply(session, sender, now=self.clock())
            session.commit()
        if answer:
            await self.sms.send_text(sender, HELP_TEXT)
        return True

    async def _verify(self, sender: str, code: str) -> bool:
        with Session(self.engine) as session:
            contact = contact_verification.confirm_by_sms(
                session, sender, code, secret=self.secret, now=self.clock()
            )
            session.commit()
        if contact is None:
            return False
        await self.sms.send_text(sender, "Waakvlam: je nummer is bevestigd. Dank je!")
        return True

    async def _acknowledge(self, sender: str, code: str) -> bool:
        with Session(self.engine) as session:
            professional_id = contact_verification.professional_for_number(session, sender)
            if professional_id is None:
                return False
            escalation = escalations.live_by_code(session, code)
            escalation_id = escalation.id if escalation else None
        if escalation_id is None:
            return False
        answer = await oncall_actions.acknowledge(
            client=self.client,
            engine=self.engine,
            escalation_id=escalation_id,
            professional_id=professional_id,
            via=AckVia.sms,
        )
        if answer.acknowledged_by == professional_id:
            text = f"Waakvlam: bevestigd, jij pakt oproep {code} op. Dank je!"
        elif answer.outcome is AckOutcome.already_acknowledged:
            who = self._first_name(answer.acknowledged_by)
            text = f"Waakvlam: oproep {code} is al opgepakt door {who}."
        else:
            text = f"Waakvlam: oproep {code} is al afgesloten."
        await self.sms.send_text(sender, text)
        return True

    def _first_name(self, professional_id: str | None) -> str:
        with Session(self.engine) as session:
            person = session.get(Professional, professional_id) if professional_id else None
            return person.first_name if person else "een collega"
