"""Notifications: 1,000 emails to a local SMTP server and 1,000 SMS to the gateway emulator.

    python -m bench notifications [--messages 1000] [--in-flight 4]

Product: the channels as the composition root builds them: ``SmtpEmail`` with its pool of
sessions (``SMTP_POOL_SIZE`` = the concurrency) and ``CmSms`` on the one pooled
``httpx.AsyncClient`` of ``waakvlam.container.build_http_client``, with its natural batches as
shipped (``SMS_BATCH_SIZE`` at its default: SMS that fall due while requests are out share the
next request). Baseline: a new connection per message (``aiosmtplib.send`` per email; a new
``httpx.AsyncClient`` per SMS, given one SSL context made before the run, one SMS per request:
``SMS_BATCH_SIZE`` 1). Product and baseline send with the same number of messages in flight
(``--in-flight``).

Every server runs in a process of its own, so its CPU is not counted against the client: the
SMTP server (``bench/smtp_server.py``) and the SMS gateway emulator of the tests
(``bench/sms_gateway_server.py``). Each is measured twice:

- **secured**, as real providers require: the SMTP server insists on STARTTLS and AUTH, the
  gateway serves HTTPS only (CM.com and Twilio do). One certificate is made at the start of the
  run for both. A new connection per message pays TCP and the TLS handshake for every message
  (and EHLO twice and AUTH for email); the pooled clients pay them once per connection.
- **plain loopback**: no TLS (and no AUTH). A connection costs almost nothing here, so the figure
  is bounded by the server's work per message; it is shown for honesty, not judged.

The product and the baseline trust the run's certificate, and only it, the same way: through
``ssl.create_default_context``. The baseline is handed one context made before the run
(``cafile=`` the certificate). The product's clients take no CA setting, so ``SSL_CERT_FILE`` is
set (:func:`trusting`) only while they make theirs: ``build_http_client`` while it builds the
client (httpx then calls ``create_default_context(cafile=...)`` exactly as the baseline's was
made, which the SMS run checks), ``SmtpEmail`` at its first connection in the pooled run.

Every message is counted at the server by its reference: each must arrive exactly once. The
gateway also counts the requests of each side.
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
from contextlib import contextmanager, nullcontext
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
from notifications.sms_cm import MAX_IN_FLIGHT, CmSms
from tests.fakes.sms_gateway import CM_TOKEN
from tests.fakes.tls import loopback_certificate
from waakvlam.container import build_http_client

NAME = "notifications"
USER, PASSWORD = "waakvlam", "bench-password"
SMS_ROUNDS = 5  # product and baseline take turns, a fifth of the messages each time
EMAIL_ROUNDS = 5  # the same for email


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
    cpu: float  # CPU of the bench process (the client; the servers run elsewhere)


async def spread(
    count: int, concurrency: int, send: Callable[[int], Awaitable[Any]], start: int = 0
) -> Timing:
    """Send messages start..start+count-1 with ``concurrency`` of them in flight."""
    numbers = iter(range(start, start + count))

    async def lane() -> None:
        for n in numbers:
            await send(n)

    cpu = time.process_time()
    with Stopwatch() as watch:
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    return Timing(watch.seconds, time.process_time() - cpu)


@contextmanager
def trusting(cert: Path) -> Iterator[None]:
    """``SSL_CERT_FILE`` = the run's certificate, for the product clients built inside only: they
    take no CA of their own. The variable is put back as it was on the way out, so nothing built
    later (a baseline client, another benchmark) picks it up."""
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(cert)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = before


@dataclass
class ServerProcess:
    """A server of ``bench/`` (``smtp_server``, ``sms_gateway_server``) in its own process."""

    process: subprocess.Popen[str]
    port: int

    def cpu(self) -> float:
        """CPU seconds the process has used so far (user + system), from ``/proc``: read from
        outside, so asking costs the server nothing."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stats(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        result: dict[str, Any] = json.loads(self.process.stdout.readline())
        return result


@contextmanager
def server_process(module: str, *arguments: str) -> Iterator[ServerProcess]:
    """Start ``python -m module arguments``, wait for its ``ready PORT``; stop it at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *arguments], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError(f"{module} did not start")
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
class Figures:
    product: float  # messages per second
    baseline: float
    product_cpu_ms: float  # client CPU per message
    baseline_cpu_ms: float
    product_connections: int  # accepted by the server
    baseline_connections: int
    once: bool
    server_cpu_ms: tuple[float, float] | None = None  # per message, product / baseline
    requests: tuple[int, int] | None = None  # at the server, product / baseline


def figures(
    messages: int, product: Timing, baseline: Timing, connections: tuple[int, int],
    refs: list[str], run: str,
) -> Figures:  # fmt: skip
    """``connections``: accepted by the server during the product and the baseline run."""
    return Figures(
        product=messages / product.seconds,
        baseline=messages / baseline.seconds,
        product_cpu_ms=1000 * product.cpu / messages,
        baseline_cpu_ms=1000 * baseline.cpu / messages,
        product_connections=connections[0],
        baseline_connections=connections[1],
        once=exactly_once(refs, run + "p", messages) and exactly_once(refs, run + "b", messages),
    )


async def email_pair(
    settings: Settings, server: ServerProcess, messages: int, concurrency: int,
    tls: ssl.SSLContext | None, run: str,
) -> Figures:  # fmt: skip
    """The pooled channel and a new connection per message, against one server.

    As for SMS, the messages go in ``EMAIL_ROUNDS`` rounds, product and baseline taking turns,
    so a change in the load of the shared machine falls on both sides alike, after a few
    uncounted messages on connections of their own (the server's first-use costs). The pooled
    channel stays open across the rounds, as it does in the worker."""
    user, password = (USER, PASSWORD) if settings.smtp_username else (None, None)

    async def new_connection(n: int, run: str) -> None:
        outgoing = email(n, run)
        message = compose(outgoing, settings.email_from)
        await aiosmtplib.send(
            message.data, sender=message.sender, recipients=[outgoing.to],
            hostname=settings.smtp_host, port=settings.smtp_port,
            start_tls=tls is not None, tls_context=tls, username=user, password=password,
        )  # fmt: skip

    await spread(2 * concurrency, concurrency, lambda n: new_connection(n, run + "w"))
    channel = SmtpEmail(settings)
    sides: list[Callable[[int], Awaitable[Any]]] = [
        lambda n: channel.send(email(n, run + "p")),
        lambda n: new_connection(n, run + "b"),
    ]
    seconds, client_cpu, server_cpu, connections = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0, 0]
    try:
        for round_ in range(EMAIL_ROUNDS):
            first = messages * round_ // EMAIL_ROUNDS
            last = messages * (round_ + 1) // EMAIL_ROUNDS
            for side, send in enumerate(sides):
                before, cpu_before = server.stats()["connections"], server.cpu()
                timing = await spread(last - first, concurrency, send, start=first)
                server_cpu[side] += server.cpu() - cpu_before
                seconds[side] += timing.seconds
                client_cpu[side] += timing.cpu
                connections[side] += server.stats()["connections"] - before
    finally:
        await channel.aclose()
    result = figures(
        messages, Timing(seconds[0], client_cpu[0]), Timing(seconds[1], client_cpu[1]),
        (connections[0], connections[1]), server.stats()["references"], run,
    )  # fmt: skip
    result.server_cpu_ms = (1000 * server_cpu[0] / messages, 1000 * server_cpu[1] / messages)
    return result


def verifying_context(client: httpx.AsyncClient) -> ssl.SSLContext:
    """The SSL context a client's connections verify with (httpx keeps it private)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    context = getattr(pool, "_ssl_context", None)
    if not isinstance(context, ssl.SSLContext):
        raise RuntimeError("cannot find the HTTP client's SSL context (has httpx changed?)")
    return context


def same_verification(product: ssl.SSLContext, baseline: ssl.SSLContext) -> None:
    """Product and baseline must trust the same certificate, and only it, the same way."""

    def shape(c: ssl.SSLContext) -> tuple[Any, ...]:
        return (c.get_ca_certs(), c.verify_mode, c.check_hostname, c.verify_flags,
                c.minimum_version, c.maximum_version, c.options)  # fmt: skip

    if shape(product) != shape(baseline) or len(baseline.get_ca_certs()) != 1:
        raise RuntimeError("the product and the baseline SMS clients verify differently")


async def sms_pair(
    settings: Settings, server: ServerProcess, messages: int, concurrency: int,
    tls: ssl.SSLContext, cert: Path | None, run: str,
) -> Figures:  # fmt: skip
    """The one pooled client of the composition root and a new client per message.

    ``cert``: the gateway serves HTTPS with it. The product's client is built trusting it
    (``SSL_CERT_FILE`` only while it is built); the baseline's clients are each handed ``tls``,
    made from the same certificate before the run, so a new connection pays TCP and the TLS
    handshake, not the loading of a CA store. On plain HTTP ``tls`` goes unused (but httpx would
    otherwise load its CA bundle for every new client).

    The messages go in ``SMS_ROUNDS`` rounds, product and baseline taking turns, so a change
    in the load of the shared machine during the run falls on both sides alike."""
    timeout = httpx.Timeout(settings.http_timeout_seconds)  # as build_http_client's

    alone = settings.model_copy(update={"sms_batch_size": 1})  # one SMS per request

    async def new_connection(n: int, run: str) -> None:
        async with httpx.AsyncClient(timeout=timeout, verify=tls) as own:
            await CmSms(alone, own).send(sms(n, run))

    # A few messages first on clients of their own, so neither side pays the first-use costs
    # (lazy imports, the server's first requests); they are not counted.
    await spread(2 * concurrency, concurrency, lambda n: new_connection(n, run + "w"))
    with trusting(cert) if cert is not None else nullcontext():
        http = build_http_client(settings)
    if cert is not None:
        same_verification(verifying_context(http), tls)
    pooled = CmSms(settings, http)  # as shipped: natural batches
    sides: list[Callable[[int], Awaitable[Any]]] = [
        lambda n: pooled.send(sms(n, run + "p")),
        lambda n: new_connection(n, run + "b"),
    ]
    seconds, client_cpu, server_cpu, connections = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0, 0]
    requests = [0, 0]
    try:
        for round_ in range(SMS_ROUNDS):
            first, last = messages * round_ // SMS_ROUNDS, messages * (round_ + 1) // SMS_ROUNDS
            for side, send in enumerate(sides):
                before = server.stats()
                timing = await spread(last - first, concurrency, send, start=first)
                after = server.stats()
                seconds[side] += timing.seconds
                client_cpu[side] += timing.cpu
                server_cpu[side] += after["cpu"] - before["cpu"]
                connections[side] += after["connections"] - before["connections"]
                requests[side] += after["requests"] - before["requests"]
    finally:
        await pooled.aclose()
        await http.aclose()
    result = figures(
        messages, Timing(seconds[0], client_cpu[0]), Timing(seconds[1], client_cpu[1]),
        (connections[0], connections[1]), server.stats()["references"], run,
    )  # fmt: skip
    result.server_cpu_ms = (1000 * server_cpu[0] / messages, 1000 * server_cpu[1] / messages)
    result.requests = (requests[0], requests[1])
    return result


def gateway_settings(directory: Path, scheme: str, server: ServerProcess) -> Settings:
    return bench_settings(
        directory, sms_provider="cm", cm_product_token=CM_TOKEN,
        cm_api_url=f"{scheme}://127.0.0.1:{server.port}/v1.0/message",
    )  # fmt: skip


async def run(messages: int, concurrency: int) -> Section:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        cert, key = loopback_certificate(directory)  # one certificate for every secured server
        # The baselines get one context made now, so they pay the handshakes, not the setup.
        tls = ssl.create_default_context(cafile=str(cert))
        with server_process(
            "bench.sms_gateway_server", "--cert", str(cert), "--key", str(key)
        ) as gateway:  # fmt: skip
            settings = gateway_settings(directory, "https", gateway)
            sms_secured = await sms_pair(settings, gateway, messages, concurrency, tls, cert, "s")
        with server_process("bench.sms_gateway_server") as gateway:
            settings = gateway_settings(directory, "http", gateway)
            sms_plain = await sms_pair(settings, gateway, messages, concurrency, tls, None, "h")
        with server_process(
            "bench.smtp_server", "--security", "starttls", "--cert", str(cert), "--key", str(key),
            "--username", USER, "--password", PASSWORD,
        ) as secure:  # fmt: skip
            settings = bench_settings(
                directory, email_provider="smtp", smtp_host="127.0.0.1", smtp_port=secure.port,
                smtp_security="starttls", smtp_username=USER, smtp_password=PASSWORD,
                smtp_pool_size=concurrency,
            )  # fmt: skip
            # SmtpEmail makes its TLS context at its first connection, inside the product run.
            with trusting(cert):
                secured = await email_pair(settings, secure, messages, concurrency, tls, "t")
        with server_process("bench.smtp_server") as plain_server:
            settings = bench_settings(
                directory, email_provider="smtp", smtp_host="127.0.0.1",
                smtp_port=plain_server.port, smtp_pool_size=concurrency,
            )  # fmt: skip
            plain = await email_pair(settings, plain_server, messages, concurrency, None, "l")
    return section(messages, concurrency, sms_secured, sms_plain, secured, plain)


def section(
    messages: int, concurrency: int, sms_secured: Figures, sms_plain: Figures,
    secured: Figures, plain: Figures,
) -> Section:  # fmt: skip
    result = Section(
        NAME,
        f"Notifications: {messages:,} emails and {messages:,} SMS on loopback, "
        f"{concurrency} in flight",
        f"python -m bench notifications --messages {messages} --in-flight {concurrency}",
        ["channel", "product (msg/s)", "baseline: new connection per message (msg/s)", "ratio",
         "goal", "client CPU per message, product / baseline (ms)",
         "server CPU per message, product / baseline (ms)",
         "connections at the server: product / baseline",
         "requests at the server: product / baseline", "each once at the server"],
    )  # fmt: skip

    def row(label: str, f: Figures, goal: str) -> list[str]:
        return [label, f"{f.product:.0f}", f"{f.baseline:.0f}", f"{f.product / f.baseline:.2f}",
                goal, f"{f.product_cpu_ms:.2f} / {f.baseline_cpu_ms:.2f}",
                f"{f.server_cpu_ms[0]:.2f} / {f.server_cpu_ms[1]:.2f}" if f.server_cpu_ms else "–",
                f"{f.product_connections} / {f.baseline_connections}",
                f"{f.requests[0]} / {f.requests[1]}" if f.requests else "–",
                "yes" if f.once else "NO"]  # fmt: skip

    result.rows = [
        row("SMS, gateway serves HTTPS only (CM.com API, pooled client, natural batches)",
            sms_secured, "≥ 3"),
        row("SMS, plain HTTP on loopback (CM.com API, pooled client, natural batches)",
            sms_plain, "(not judged)"),
        row("email, server requires STARTTLS + AUTH (SmtpEmail, pooled sessions)", secured,
            "≥ 3"),
        row("email, plain loopback: no TLS, no AUTH (SmtpEmail, pooled sessions)", plain,
            "(not judged)"),
    ]  # fmt: skip

    def cpu(f: Figures) -> str:
        assert f.server_cpu_ms is not None
        pooled = f.product_cpu_ms + f.server_cpu_ms[0]
        fresh = f.baseline_cpu_ms + f.server_cpu_ms[1]
        return f"{pooled:.2f} ms pooled against {fresh:.2f} ms ({fresh / pooled:.2f}×)"

    result.notes = [
        f"Product and baseline have the same {concurrency} messages in flight; the SMTP pool "
        f"holds {concurrency} sessions (`WAAKVLAM_SMTP_POOL_SIZE`). Every server runs in a "
        "process of its own, so its CPU is not counted against the client: aiosmtpd "
        "(`bench/smtp_server.py`) and the tests' CM.com/Twilio gateway emulator under uvicorn "
        "(`bench/sms_gateway_server.py`). On this 2-core machine they still compete with the "
        "client for the cores. Client CPU is the bench process's CPU time per message; the "
        "server's CPU per message is the CPU time of its process while that side sent (the "
        "gateway reports it; the SMTP server's is read from `/proc`); connections are counted "
        "by the server (for HTTPS, once the handshake is done). "
        f"SMS go in {SMS_ROUNDS} rounds and email in {EMAIL_ROUNDS}, product and baseline "
        f"taking turns (product first in each), after {2 * concurrency} uncounted warm-up "
        "messages on connections of their own; the pooled clients stay open across the rounds.",
        "The SMS product is `CmSms` as shipped: with `WAAKVLAM_SMS_BATCH_SIZE` at its default "
        f"({Settings.model_fields['sms_batch_size'].default}) and at most {MAX_IN_FLIGHT} "
        "request(s) out, an SMS goes at once while a request slot is free, and the SMS that "
        "fall due while every slot is busy share the next request (CM.com's API takes a list "
        "of messages and answers per message); there is no timer. The baseline sends one SMS "
        "per request on a new client (batch size 1). The requests column counts the gateway's "
        "requests per side; each SMS is still counted once at the gateway by its reference.",
        "Both goals are judged on the secured rows, because real providers secure every "
        "connection: CM.com and Twilio serve their APIs over HTTPS only, and SMTP providers "
        "require STARTTLS and AUTH. A new connection per message then pays TCP and a TLS "
        "handshake each time (for email also EHLO twice and AUTH), which the pooled clients pay "
        "once per connection. One certificate is made per run for both servers and is the only "
        "CA the SMS clients trust. The baseline is handed one `ssl.create_default_context"
        "(cafile=…)` made before the run, so each new client pays the handshake, not the "
        "loading of a CA store. The product's clients take no CA setting, so `SSL_CERT_FILE` "
        "names the certificate only while they make their context (restored right after, so "
        "no baseline client sees it): httpx then makes it the same way, which the run checks "
        "(same CA, verify mode, hostname check, flags and options, or the run stops); "
        "`SmtpEmail` makes its context with `ssl.create_default_context()` at its first "
        "connection, inside the pooled run.",
        "On plain loopback a connection costs only a local TCP connect, so the server's own "
        "work per message (uvicorn and Starlette for SMS, aiosmtpd for email) bounds both "
        "sides and reuse gains little; those rows are shown, not judged.",
        "Client and server CPU per message together, which move far less with the load of the "
        f"shared machine than the rates do: SMS over HTTPS {cpu(sms_secured)}; SMS over plain "
        f"HTTP {cpu(sms_plain)}; email with STARTTLS + AUTH {cpu(secured)}; plain email "
        f"{cpu(plain)}. Where CPU bounds the rates, as here, the rate ratio settles between "
        "the client's CPU ratio (the client process the bottleneck) and this one. Against a real "
        "gateway a new connection also waits for two more network round trips (TCP, then TLS "
        "1.3), which loopback does not show.",
    ]
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument(
        "--in-flight", type=int, default=4, help="notifications: messages in flight at once"
    )


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.messages, args.in_flight))
