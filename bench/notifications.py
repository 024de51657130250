"""Notifications: 1,000 emails to a local SMTP server and 1,000 SMS to the gateway emulator.

    python -m bench notifications [--messages 1000]

Product: the channels as the composition root builds them: ``SmtpEmail`` and ``CmSms`` on the
one pooled ``httpx.AsyncClient`` of ``waakvlam.container.build_http_client``. Baseline: a new
connection per message (``aiosmtplib.send`` per email; a new ``httpx.AsyncClient`` per SMS).
For email we also time one SMTP session reused for every message, to show what pooling would
give. Every message is counted at the server by its reference: each must arrive exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from pathlib import Path

import aiosmtplib
import httpx

from bench.common import Section, Stopwatch, bench_settings
from notifications.channels import OutgoingEmail, OutgoingSms
from notifications.email_smtp import SmtpEmail, build_message
from notifications.sms_cm import CmSms
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import FakeSmtp
from waakvlam.container import build_http_client

NAME = "notifications"


def email(n: int, run: str) -> OutgoingEmail:
    return OutgoingEmail(f"p{n % 50}@example.org", "Herinnering", "Tekst " * 40,
                         "<p>" + "Tekst " * 40 + "</p>", f"wv{run}{n}")  # fmt: skip


def sms(n: int, run: str) -> OutgoingSms:
    return OutgoingSms(f"+316{n % 50:08d}", "Herinnering: toekomstgesprek op 12-3.", f"wv{run}{n}")


def exactly_once(references: list[str], run: str, count: int) -> bool:
    seen = Counter(r for r in references if r.startswith(f"wv{run}"))
    return len(seen) == count and set(seen.values()) == {1}


def email_refs(smtp: FakeSmtp) -> list[str]:
    return [m["Message-ID"].strip("<>").partition("@")[0] for m in smtp.messages]


async def run(messages: int) -> Section:
    smtp, gateway = FakeSmtp(), SmsGateway()
    smtp.start()
    await gateway.start()
    rates: dict[str, float] = {}
    checks: dict[str, bool] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(
                Path(tmp), **smtp.settings_overrides(), **gateway.settings_overrides("cm")
            )
            channel = SmtpEmail(settings)
            with Stopwatch() as product_mail:
                for n in range(messages):
                    await channel.send(email(n, "a"))
            with Stopwatch() as base_mail:
                for n in range(messages):
                    msg = build_message(email(n, "b"), settings.email_from)
                    await aiosmtplib.send(msg, hostname=smtp.host, port=smtp.port)
            with Stopwatch() as pooled_mail:
                session = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port)
                await session.connect()
                for n in range(messages):
                    await session.send_message(build_message(email(n, "c"), settings.email_from))
                await session.quit()
            http = build_http_client(settings)
            pooled = CmSms(settings, http)
            with Stopwatch() as product_sms:
                for n in range(messages):
                    await pooled.send(sms(n, "a"))
            await http.aclose()
            with Stopwatch() as base_sms:
                for n in range(messages):
                    async with httpx.AsyncClient(timeout=10) as own:
                        await CmSms(settings, own).send(sms(n, "b"))
        refs = [m.reference or "" for m in gateway.messages]
        for run_id in "abc":
            checks[f"mail {run_id}"] = exactly_once(email_refs(smtp), run_id, messages)
        for run_id in "ab":
            checks[f"sms {run_id}"] = exactly_once(refs, run_id, messages)
        for label, watch in (("mail_product", product_mail), ("mail_base", base_mail),
                             ("mail_pooled", pooled_mail), ("sms_product", product_sms),
                             ("sms_base", base_sms)):  # fmt: skip
            rates[label] = messages / watch.seconds
    finally:
        await gateway.stop()
        smtp.stop()
    section = Section(
        NAME,
        f"Notifications: {messages:,} emails and {messages:,} SMS on loopback",
        f"python -m bench notifications --messages {messages}",
        ["channel", "product (msg/s)", "baseline: new connection per message (msg/s)", "ratio",
         "goal", "each once at the server"],
    )  # fmt: skip
    section.rows = [
        ["SMS (CM.com API, one pooled httpx client)", f"{rates['sms_product']:.0f}",
         f"{rates['sms_base']:.0f}", f"{rates['sms_product'] / rates['sms_base']:.2f}", "≥ 3",
         "yes" if checks["sms a"] and checks["sms b"] else "NO"],
        ["email (SmtpEmail as shipped: one SMTP session per message)",
         f"{rates['mail_product']:.0f}", f"{rates['mail_base']:.0f}",
         f"{rates['mail_product'] / rates['mail_base']:.2f}", "≥ 3",
         "yes" if checks["mail a"] and checks["mail b"] else "NO"],
        ["email, one SMTP session reused (not in the product)", f"{rates['mail_pooled']:.0f}",
         f"{rates['mail_base']:.0f}", f"{rates['mail_pooled'] / rates['mail_base']:.2f}", "≥ 3",
         "yes" if checks["mail c"] else "NO"],
    ]  # fmt: skip
    section.notes = [
        "Messages are sent one after another (no concurrency), so the rates compare the cost "
        "per message. The SMTP channel opens, greets and quits a session for every email "
        "(`notifications/email_smtp.py`), so as shipped it *is* the baseline's shape; the third "
        "row shows what reusing one session would give. That change belongs to the "
        "notification layer and is not made here.",
    ]
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=1000)


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.messages))
