"""Notifications: 1,000 emails to a local SMTP server and 1,000 SMS to the gateway emulator.

    python -m bench notifications [--messages 1000] [--in-flight 4]

Product: the channels as the composition root builds them: ``SmtpEmail`` with its pool of
sessions (``SMTP_POOL_SIZE`` = the concurrency) and ``CmSms`` on the one pooled
``httpx.AsyncClient`` of ``waakvlam.container.build_http_client``. Baseline: a new connection per
message (``aiosmtplib.send`` per email; a new ``httpx.AsyncClient`` per SMS). Product and baseline
send with the same number of messages in flight (``--in-flight``).

Email is measured against two servers, each in a process of its own (``bench/smtp_server.py``),
so the server's CPU is not counted against the client:

- **STARTTLS + AUTH**, as real providers require: the server insists on STARTTLS (a certificate
  made at the start of the run) and on AUTH. A new connection per message pays TCP, the TLS
  handshake, EHLO twice and AUTH for every message; the pool pays them once per session.
- **plain loopback**: no TLS, no AUTH. A connection costs almost nothing here, so the figure is
  bounded by aiosmtpd's work per message; it is shown for honesty, not judged.

Every message is counted at the server by its reference: each must arrive exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx

from bench.common import ROOT, Section, Stopwatch, bench_settings
from config.settings import Settings
from notifications.channels import OutgoingEmail, OutgoingSms
from notifications.email_smtp import SmtpEmail
from notifications.mime import compose
from notifications.sms_cm import CmSms
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.tls import loopback_certificate
from waakvlam.container import build_http_client

NAME = "notifications"
USER, PASSWORD = "waakvlam", "bench-password"


def email(n: int, run: str) -> OutgoingEmail:
    return OutgoingEmail(f"p{n % 50}@example.org", "Herinnering", "Tekst " * 40,
                         "<p>" + "Tekst " * 40 + "</p>", f"wv{run}{n}")  # fmt: skip


def sms(n: int, run: str) -> OutgoingSms:
    return OutgoingSms(f"+316{n % 50:08d}", "Herinnering: toekomstgesprek op 12-3.", f"wv{run}{n}")


def exactly_once(references: list[str], run: str, count: int) -> bool:
    seen = Counter(r for r in references if r.startswith(f"wv{run}"))
    return len(seen) == count and set(seen.values()) == {1}


@dataclass
class Timing:
    seconds: float  # wall clock
    cpu: float  # CPU of the bench process (the client; the SMTP servers run elsewhere)


async def spread(count: int, concurrency: int, send: Callable[[int], Awaitable[Any]]) -> Timing:
    """Send messages 0..count-1 with ``concurrency`` of them in flight."""
    numbers = iter(range(count))

    async def lane() -> None:
        for n in numbers:
            await send(n)

    cpu = time.process_time()
    with Stopwatch() as watch:
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    return Timing(watch.seconds, time.process_time() - cpu)


@dataclass
class ServerProcess:
    """``bench/smtp_server.py`` running in its own process."""

    process: subprocess.Popen[str]
    port: int

    def stats(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        result: dict[str, Any] = json.loads(self.process.stdout.readline())
        return result


@contextmanager
def smtp_server(*arguments: str) -> Iterator[ServerProcess]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.smtp_server", *arguments], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError("the SMTP server process did not start")
        yield ServerProcess(process, int(ready[1]))
    finally:
        if process.stdin is not None:
            process.stdin.write("stop\n")
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class EmailFigures:
    product: float  # messages per second
    baseline: float
    product_cpu_ms: float  # client CPU per message
    baseline_cpu_ms: float
    product_connections: int
    baseline_connections: int
    once: bool


async def email_pair(
    settings: Settings, server: ServerProcess, messages: int, concurrency: int,
    tls: ssl.SSLContext | None, run: str,
) -> EmailFigures:  # fmt: skip
    """The pooled channel and a new connection per message, against one server."""
    channel = SmtpEmail(settings)
    product = await spread(messages, concurrency, lambda n: channel.send(email(n, run + "p")))
    await channel.aclose()
    after_product = server.stats()["connections"]
    user, password = (USER, PASSWORD) if settings.smtp_username else (None, None)

    async def new_connection(n: int) -> None:
        outgoing = email(n, run + "b")
        message = compose(outgoing, settings.email_from)
        await aiosmtplib.send(
            message.data, sender=message.sender, recipients=[outgoing.to],
            hostname=settings.smtp_host, port=settings.smtp_port,
            start_tls=tls is not None, tls_context=tls, username=user, password=password,
        )  # fmt: skip

    baseline = await spread(messages, concurrency, new_connection)
    stats = server.stats()
    refs: list[str] = stats["references"]
    return EmailFigures(
        product=messages / product.seconds,
        baseline=messages / baseline.seconds,
        product_cpu_ms=1000 * product.cpu / messages,
        baseline_cpu_ms=1000 * baseline.cpu / messages,
        product_connections=after_product,
        baseline_connections=stats["connections"] - after_product,
        once=exactly_once(refs, run + "p", messages) and exactly_once(refs, run + "b", messages),
    )


async def run(messages: int, concurrency: int) -> Section:
    gateway = SmsGateway()
    await gateway.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            cert, key = loopback_certificate(directory)
            # The client trusts the run's certificate (SmtpEmail uses the default trust store);
            # the baseline gets one ready context, so it pays the handshakes, not the setup.
            # (Only for the email runs: httpx reads it too, and would build its per-client
            # contexts from this one certificate instead of the full CA bundle.)
            os.environ["SSL_CERT_FILE"] = str(cert)
            tls = ssl.create_default_context(cafile=str(cert))
            common = dict(smtp_pool_size=concurrency, **gateway.settings_overrides("cm"))
            with smtp_server(
                "--security", "starttls", "--cert", str(cert), "--key", str(key),
                "--username", USER, "--password", PASSWORD,
            ) as secure:  # fmt: skip
                settings = bench_settings(
                    directory, email_provider="smtp", smtp_host="127.0.0.1",
                    smtp_port=secure.port, smtp_security="starttls", smtp_username=USER,
                    smtp_password=PASSWORD, **common,
                )  # fmt: skip
                secured = await email_pair(settings, secure, messages, concurrency, tls, "t")
            with smtp_server() as plain_server:
                settings = bench_settings(
                    directory, email_provider="smtp", smtp_host="127.0.0.1",
                    smtp_port=plain_server.port, **common,
                )  # fmt: skip
                plain = await email_pair(settings, plain_server, messages, concurrency, None, "l")
            os.environ.pop("SSL_CERT_FILE", None)
            http = build_http_client(settings)
            pooled = CmSms(settings, http)
            sms_product = await spread(messages, concurrency, lambda n: pooled.send(sms(n, "a")))
            await http.aclose()

            async def own_client(n: int) -> None:
                async with httpx.AsyncClient(timeout=10) as own:
                    await CmSms(settings, own).send(sms(n, "b"))

            sms_base = await spread(messages, concurrency, own_client)
        refs = [m.reference or "" for m in gateway.messages]
        sms_once = exactly_once(refs, "a", messages) and exactly_once(refs, "b", messages)
    finally:
        os.environ.pop("SSL_CERT_FILE", None)
        await gateway.stop()
    sms_rates = (messages / sms_product.seconds, messages / sms_base.seconds)
    return section(messages, concurrency, secured, plain, sms_rates, sms_once)


def section(
    messages: int, concurrency: int, secured: EmailFigures, plain: EmailFigures,
    sms_rates: tuple[float, float], sms_once: bool,
) -> Section:  # fmt: skip
    result = Section(
        NAME,
        f"Notifications: {messages:,} emails and {messages:,} SMS on loopback, "
        f"{concurrency} in flight",
        f"python -m bench notifications --messages {messages} --in-flight {concurrency}",
        ["channel", "product (msg/s)", "baseline: new connection per message (msg/s)", "ratio",
         "goal", "client CPU per message, product / baseline (ms)",
         "connections at the server: product / baseline", "each once at the server"],
    )  # fmt: skip

    def email_row(label: str, f: EmailFigures, goal: str) -> list[str]:
        return [label, f"{f.product:.0f}", f"{f.baseline:.0f}", f"{f.product / f.baseline:.2f}",
                goal, f"{f.product_cpu_ms:.2f} / {f.baseline_cpu_ms:.2f}",
                f"{f.product_connections} / {f.baseline_connections}",
                "yes" if f.once else "NO"]  # fmt: skip

    product_sms, base_sms = sms_rates
    result.rows = [
        ["SMS (CM.com API, one pooled httpx client)", f"{product_sms:.0f}", f"{base_sms:.0f}",
         f"{product_sms / base_sms:.2f}", "≥ 3", "–", "–", "yes" if sms_once else "NO"],
        email_row("email, server requires STARTTLS + AUTH (SmtpEmail, pooled sessions)",
                  secured, "≥ 3"),
        email_row("email, plain loopback: no TLS, no AUTH (SmtpEmail, pooled sessions)",
                  plain, "(not judged)"),
    ]  # fmt: skip
    result.notes = [
        f"Product and baseline have the same {concurrency} messages in flight; the SMTP pool "
        f"holds {concurrency} sessions (`WAAKVLAM_SMTP_POOL_SIZE`). Each SMTP server is "
        "aiosmtpd in a process of its own (`bench/smtp_server.py`), so its CPU is not counted "
        "against the client; on this 2-core machine it still competes with the client for the "
        "cores. The SMS gateway emulator runs in the bench's own process, as before.",
        "The email goal is judged on the STARTTLS + AUTH row: real providers require both on "
        "every connection, so a new connection per message pays TCP, a TLS handshake, EHLO "
        "twice and AUTH each time, which the pool pays once per session. On plain loopback a "
        "connection costs almost nothing and aiosmtpd's own work per message bounds both "
        "sides, so pooling gains little there; that row is shown, not judged.",
    ]
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument(
        "--in-flight", type=int, default=4, help="notifications: messages in flight at once"
    )


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.messages, args.in_flight))
