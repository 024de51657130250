"""Turning a request into words: the template context (first name only, task titles from the
regional timeline, dates in the reader's language) and the signed action link for the message.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from config.domain import Language
from config.settings import Settings
from config.timeline import Timeline
from notifications import links
from notifications.recipients import Addressee
from notifications.requests import MessageKind, NotifyRequest
from notifications.templates import MessageTemplates, RenderedMessage, format_date
from store.directory import Professional

# Which one-click action a message's link performs; None → a plain link to the trajectory page.
LINK_PURPOSE: dict[MessageKind, str | None] = {
    MessageKind.task_reminder: "task_done",
    MessageKind.overdue_notice: None,
    MessageKind.daily_digest: None,
    MessageKind.checkin_request: "checkin",
    MessageKind.handover_request: "handover_done",
    MessageKind.consent_request: "consent",
    MessageKind.safety_net_alert: None,
    MessageKind.oncall_page: "page_ack",
    MessageKind.page_acknowledged: None,
}
LINK_LIFETIME = timedelta(days=30)
URGENT_LINK_LIFETIME = timedelta(days=1)
_GENERIC_TASK = {Language.nl: "taak", Language.en: "task"}
_URL = re.compile(r"https?://\S+")


def first_link(text: str) -> str | None:
    match = _URL.search(text)
    return match.group(0) if match else None


class Composer:
    def __init__(
        self, settings: Settings, templates: MessageTemplates, timeline: Timeline | None
    ) -> None:
        self.settings = settings
        self.templates = templates
        self.timeline = timeline

    def task_title(self, rule_id: object, language: Language) -> str:
        if self.timeline is not None and isinstance(rule_id, str):
            try:
                rule = self.timeline.rule(rule_id)
            except (KeyError, ValueError):
                return _GENERIC_TASK[language]
            return rule.title_nl if language is Language.nl else rule.title_en
        return _GENERIC_TASK[language]

    def link(
        self,
        session: Session | Connection,
        request: NotifyRequest,
        addressee: Addressee,
        now: datetime,
    ) -> str:
        base = self.settings.public_base_url
        purpose = LINK_PURPOSE.get(request.kind)
        if purpose is None:
            if request.trajectory_id:
                return f"{base}/trajectories/{request.trajectory_id}"
            return f"{base}/"
        subject = {
            "trajectory": request.trajectory_id or "",
            "reference": request.reference,
            "recipient": f"{addressee.kind.value}:{addressee.id}",
        }
        lifetime = URGENT_LINK_LIFETIME if request.urgent else LINK_LIFETIME
        return links.sign_link(
            purpose,
            subject,
            lifetime,
            session=session,
            secret=self.settings.signing_secret.get_secret_value(),
            base_url=base,
            now=now,
        ).url

    def context(
        self, request: NotifyRequest, addressee: Addressee, link: str, responder: str = ""
    ) -> dict[str, Any]:
        language = addressee.language
        facts = request.facts
        return {
            "responder": responder,
            "audience": str(facts.get("audience", "")),
            "first_name": addressee.first_name,
            "region": self.settings.region_name,
            "task": self.task_title(facts.get("task"), language),
            "due": format_date(request.due_date, language) if request.due_date else "",
            "ack_code": str(facts.get("ack_code", "")),
            "link": link,
        }

    def compose(
        self,
        session: Session | Connection,
        request: NotifyRequest,
        addressee: Addressee,
        now: datetime,
    ) -> RenderedMessage:
        link = self.link(session, request, addressee, now)
        context = self.context(request, addressee, link, responder_name(session, request))
        return self.templates.render(request.kind.value, addressee.language, context)


PROFESSIONAL = Professional.__table__  # type: ignore[attr-defined]
FIRST_NAME = sa_select(PROFESSIONAL.c.first_name).where(PROFESSIONAL.c.id == bindparam("row_id"))


def responder_name(session: Session | Connection, request: NotifyRequest) -> str:
    """The first name of the professional who took a page (``facts["responder_id"]``), so the
    caller hears who is coming; first name only, as every message."""
    responder_id = request.facts.get("responder_id")
    if not isinstance(responder_id, str):
        return ""
    first_name: str | None = session.execute(FIRST_NAME, {"row_id": responder_id}).scalar()
    return first_name or ""
