"""The fake SMTP server of ``tests/fakes/smtp.py`` (aiosmtpd on loopback), watching its sessions:
for the SMTP pool's tests and the notifications benchmark.

    server = SessionCountingSmtp(messages_per_connection=3)
    server.start()
    ...send...
    assert server.connections == 1 and server.most_open <= 2

API, on top of ``FakeSmtp``'s:
- ``connections``: connections accepted so far; ``open``: connected now; ``most_open``: the most
  connected at once.
- ``messages_per_connection``: like many providers, answer the MAIL after that many with
  ``421`` and close the connection (``None``: no limit).
- ``rcpt_delay``, ``data_delay``: seconds to wait before answering RCPT TO, or DATA (before its
  ``354``), e.g. to cancel a sender in the middle of the conversation.
- ``await drop_connections()``: close every open connection from the server's side (a restart,
  its idle timeout), and wait until they are gone.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
import warnings
from typing import Any

from aiosmtpd.smtp import SMTP

from tests.fakes.smtp import FakeSmtp, _Controller


class _WatchedSession(SMTP):
    def __init__(self, fake: SessionCountingSmtp, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fake = fake
        self._transactions = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        new = self.transport is None  # (a STARTTLS upgrade calls this a second time)
        super().connection_made(transport)
        if new:
            self._fake._opened(self)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self._fake._closed(self)

    async def smtp_MAIL(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's name)
        limit = self._fake.messages_per_connection
        if limit is not None and self._transactions >= limit:
            await self.push("421 4.7.0 Too many messages on this connection, closing")
            assert self.transport is not None
            self.transport.close()
            return
        self._transactions += 1
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str) -> None:  # noqa: N802
        if self._fake.rcpt_delay:
            await asyncio.sleep(self._fake.rcpt_delay)
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802
        if self._fake.data_delay:
            await asyncio.sleep(self._fake.data_delay)
        await super().smtp_DATA(arg)


class _WatchingController(_Controller):
    def factory(self) -> SMTP:
        fake = self._fake
        assert isinstance(fake, SessionCountingSmtp)
        with warnings.catch_warnings():  # AUTH without TLS is fine on loopback
            warnings.simplefilter("ignore")
            return _WatchedSession(
                fake,
                self.handler,
                hostname="fake-smtp.localhost",
                auth_required=fake.credentials is not None,
                auth_require_tls=False,
                authenticator=fake._authenticate,
                tls_context=fake.tls_context if fake.security == "starttls" else None,
                require_starttls=fake.security == "starttls",
            )


class SessionCountingSmtp(FakeSmtp):
    def __init__(
        self,
        *,
        security: str = "none",
        tls_context: ssl.SSLContext | None = None,
        messages_per_connection: int | None = None,
    ) -> None:
        super().__init__(security=security, tls_context=tls_context)
        self.messages_per_connection = messages_per_connection
        self.rcpt_delay = 0.0
        self.data_delay = 0.0
        self.connections = 0
        self.most_open = 0
        self._live: set[_WatchedSession] = set()
        self._lock = threading.Lock()
        self._controller = _WatchingController(self._handler, self.port, self)

    @property
    def open(self) -> int:
        return len(self._live)

    def _opened(self, session: _WatchedSession) -> None:
        with self._lock:
            self.connections += 1
            self._live.add(session)
            self.most_open = max(self.most_open, len(self._live))

    def _closed(self, session: _WatchedSession) -> None:
        with self._lock:
            self._live.discard(session)

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + 2
        while self._live and time.monotonic() < deadline:  # the controller's own test connection
            time.sleep(0.01)
        with self._lock:
            self.connections = self.most_open = 0

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.connections = len(self._live)
            self.most_open = len(self._live)
        self.rcpt_delay = self.data_delay = 0.0

    async def drop_connections(self, timeout: float = 5.0) -> None:
        def close_all() -> None:
            for session in list(self._live):
                if session.transport is not None:
                    session.transport.close()

        self._controller.loop.call_soon_threadsafe(close_all)
        deadline = time.monotonic() + timeout
        while self._live:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self._live)} connections still open")
            await asyncio.sleep(0.01)

    async def wait_until_closed(self, timeout: float = 5.0) -> None:
        """Wait until no connection is open any more (the client closed them)."""
        deadline = time.monotonic() + timeout
        while self._live:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self._live)} connections still open")
            await asyncio.sleep(0.01)
