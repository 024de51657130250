"""Builds the notification layer once, for the composition root: templates, channels chosen in
settings, the notifier, the digest sender and the inbound SMS router."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from config.settings import EmailProvider, Settings, SmsProvider
from config.timeline import Timeline
from notifications.channels import EmailChannel, SmsChannel
from notifications.compose import Composer
from notifications.console import ConsoleChannel
from notifications.digest import DigestSender
from notifications.email_smtp import SmtpEmail
from notifications.inbound import InboundRouter
from notifications.notifier import Notifier
from notifications.sms_cm import CmSms
from notifications.sms_twilio import TwilioSms
from notifications.templates import MessageTemplates
from notifications.timing import SendPolicy
from store.db import Database


@dataclass
class NotificationServices:
    templates: MessageTemplates
    email: EmailChannel
    sms: SmsChannel
    notifier: Notifier
    digests: DigestSender
    inbound: InboundRouter

    async def aclose(self) -> None:
        """Close the pooled SMTP sessions and let the CM.com batcher send what it was handed
        and hear the answers (the HTTP client belongs to the caller, who closes it after)."""
        for channel in {id(c): c for c in (self.email, self.notifier.email)}.values():
            if isinstance(channel, SmtpEmail):
                await channel.aclose()
        for sms in {id(c): c for c in (self.sms, self.notifier.sms)}.values():
            if isinstance(sms, CmSms):
                await sms.aclose()


def console_path(settings: Settings) -> Path:
    return settings.data_dir / "outbox-console.jsonl"


def build_sms(settings: Settings, http: httpx.AsyncClient) -> SmsChannel:
    if settings.sms_provider is SmsProvider.cm:
        return CmSms(settings, http)
    if settings.sms_provider is SmsProvider.twilio:
        return TwilioSms(settings, http)
    return ConsoleChannel(console_path(settings))


def build_email(settings: Settings) -> EmailChannel:
    if settings.email_provider is EmailProvider.smtp:
        return SmtpEmail(settings)
    return ConsoleChannel(console_path(settings))


def build_notifications(
    settings: Settings,
    database: Database,
    http: httpx.AsyncClient,
    timeline: Timeline | None,
    *,
    policy: SendPolicy | None = None,
    region_templates: Path | None = None,
) -> NotificationServices:
    templates = MessageTemplates(
        region_dir=region_templates, sms_max_segments=settings.sms_max_segments
    )
    email, sms = build_email(settings), build_sms(settings, http)
    notifier = Notifier(
        database=database,
        settings=settings,
        composer=Composer(settings, templates, timeline),
        email=email,
        sms=sms,
        policy=policy or SendPolicy(sms_per_recipient_per_hour=settings.sms_per_recipient_per_hour),
    )
    return NotificationServices(
        templates=templates,
        email=email,
        sms=sms,
        notifier=notifier,
        digests=DigestSender(notifier, templates),
        inbound=InboundRouter(database.engine),
    )
