"""A real SMTP server on loopback (aiosmtpd) that captures every message it accepts.

Use it through the ``smtp_server`` fixture (registered in ``tests/conftest.py``)::

    async def test_x(smtp_server: FakeSmtp) -> None:
        settings = settings.model_copy(update=smtp_server.settings_overrides())
        ...send...
        [mail] = smtp_server.messages_to("anna@example.org")
        assert mail["Subject"] == "…" and "link" in mail.text

API:
- ``host``, ``port``: where it listens (a free loopback port).
- ``messages``: every accepted :class:`CapturedMail` in arrival order; ``messages_to(addr)``.
- ``received``: the same messages as the server took them (:class:`Received`: envelope and raw
  bytes), not parsed; ``len(received)`` is the cheap way to count arrivals.
- ``reject(addr, code=550)``: refuse RCPT TO for that address (550 permanent, 451 temporary).
- ``require_auth(username, password)``: AUTH PLAIN/LOGIN required, these credentials accepted.
- ``FakeSmtp(security="starttls"|"tls", tls_context=...)``: require STARTTLS or speak implicit
  TLS (see ``tests/fakes/tls.py`` for a loopback certificate).
- ``settings_overrides()``: the ``Settings`` fields that point the product at this server.
- ``wait_for(count, timeout)``: wait until at least ``count`` messages arrived.
- ``reset()``: forget everything, so one server can serve many tests.

At DATA the server keeps the envelope and the bytes and answers 250, as a real MTA queues a
message: it does not build an ``EmailMessage`` tree first (the standard parser costs
milliseconds per message, which would make the server, not the client under test, the
bottleneck of a benchmark). A message is parsed the first time ``messages`` is read after it
arrived, in the reader's thread, and kept.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """A message as the server accepted it: the envelope and the bytes of DATA."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes


@dataclass
class CapturedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def __getitem__(self, header: str) -> str:
        return " ".join(str(self.message[header]).split())

    def _part(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        return "" if part is None else str(part.get_content())

    @property
    def text(self) -> str:
        return self._part("plain")

    @property
    def html(self) -> str:
        return self._part("html")


def _parse(received: Received) -> CapturedMail:
    parsed = message_from_bytes(received.raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return CapturedMail(received.mail_from, list(received.rcpt_tos), parsed)


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)  # appended by the server's thread
    rejected: dict[str, int] = field(default_factory=dict)
    _parsed: list[CapturedMail] = field(default_factory=list)  # received[:n], parsed on reading
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def parsed(self) -> list[CapturedMail]:
        """Every message received so far, parsed (each once, on the first reading after it
        arrived). A method, not a property: aiosmtpd reads every attribute of the handler
        (``inspect.getmembers``) for each new connection, in the server's thread."""
        with self._lock:
            arrived = len(self.received)  # (list.append from the server's thread is atomic)
            for received in self.received[len(self._parsed) : arrived]:
                self._parsed.append(_parse(received))
            return list(self._parsed)

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self._parsed.clear()

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        code = self.rejected.get(address.lower())
        if code is not None:
            return f"{code} {'5.1.1 mailbox unavailable' if code >= 500 else '4.3.0 try later'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def __init__(self, handler: _Handler, port: int, fake: FakeSmtp) -> None:
        implicit = fake.tls_context if fake.security == "tls" else None
        super().__init__(handler, hostname="127.0.0.1", port=port, ssl_context=implicit)
        self._fake = fake

    def factory(self) -> SMTP:
        fake = self._fake
        with warnings.catch_warnings():  # AUTH without TLS is fine on loopback
            warnings.simplefilter("ignore")
            return SMTP(
                self.handler,
                hostname="fake-smtp.localhost",
                auth_required=fake.credentials is not None,
                auth_require_tls=False,
                authenticator=fake._authenticate,
                tls_context=fake.tls_context if fake.security == "starttls" else None,
                require_starttls=fake.security == "starttls",
            )


class FakeSmtp:
    def __init__(
        self, *, security: str = "none", tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.security = security  # "none", "starttls" (required) or "tls" (implicit)
        self.tls_context = tls_context
        self._handler = _Handler()
        self.credentials: tuple[str, str] | None = None
        self._controller = _Controller(self._handler, self.port, self)

    @property
    def messages(self) -> list[CapturedMail]:
        return self._handler.parsed()

    @property
    def received(self) -> list[Received]:
        return list(self._handler.received)

    def messages_to(self, address: str) -> list[CapturedMail]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def reject(self, address: str, code: int = 550) -> None:
        self._handler.rejected[address.lower()] = code

    def accept(self, address: str) -> None:
        self._handler.rejected.pop(address.lower(), None)

    def reset(self) -> None:
        """Forget messages, rejections and credentials (to reuse one server across tests)."""
        self._handler.clear()
        self._handler.rejected.clear()
        self.credentials = None

    def require_auth(self, username: str, password: str) -> None:
        self.credentials = (username, password)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if self.credentials is None:
            return AuthResult(success=True)
        ok = (
            isinstance(data, LoginPassword)
            and (
                data.login.decode(),
                data.password.decode(),
            )
            == self.credentials
        )
        return AuthResult(success=ok, handled=False)

    def settings_overrides(self) -> dict[str, Any]:
        return {
            "email_provider": "smtp",
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_security": self.security,
        }

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[CapturedMail]:
        deadline = time.monotonic() + timeout
        while len(self._handler.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mails, got {len(self.messages)}")
            await asyncio.sleep(0.02)
        return self.messages

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def running_smtp() -> Iterator[FakeSmtp]:
    """Generator for a fixture: a started server, stopped afterwards."""
    server = FakeSmtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()
