"""Email over SMTP with aiosmtplib: multipart plain text + HTML, STARTTLS or TLS, AUTH, and a pool
of connected, logged-in sessions reused across messages.

The conversation is done step by step so a failure can be classified: anything before DATA means
nothing was accepted (temporary or permanent by the reply code); a timeout or disconnect during
DATA leaves the outcome unknown.

The pool (``SmtpPool``) holds at most ``SMTP_POOL_SIZE`` sessions at once; a sender waits for a
free one. A session goes back to the pool after a message, is closed after
``SMTP_POOL_IDLE_SECONDS`` unused, and is replaced after ``SMTP_MESSAGES_PER_CONNECTION``
messages. A reused session may have been dropped by the server meanwhile (its idle timeout, a
restart, a 421, its own per-connection limit): when it fails *before DATA*, nothing can have been
accepted, so it is discarded and the message goes out on a fresh session. Nothing is ever sent a
second time after DATA has begun.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from email.utils import parseaddr
from types import TracebackType

import aiosmtplib

from config.settings import Settings, SmtpSecurity
from notifications.channels import (
    BeforeData,
    OutgoingEmail,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    UnknownOutcome,
)
from notifications.mime import compose

CLOSING = 421  # "service not available, closing transmission channel"
QUIT_TIMEOUT = 2.0


@dataclass(eq=False)
class Session:
    """One connected (and, when configured, logged-in) SMTP session."""

    smtp: aiosmtplib.SMTP
    reused: bool = False  # it served before: the server may have dropped it since
    messages: int = 0
    idle_since: float = 0.0


async def quit_politely(smtp: aiosmtplib.SMTP) -> None:
    """QUIT, briefly; a session that does not answer is simply closed."""
    try:
        if smtp.is_connected:
            await asyncio.wait_for(smtp.quit(), QUIT_TIMEOUT)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    finally:
        smtp.close()


class SmtpPool:
    """Sessions for reuse: at most ``size`` at once, closed after ``idle_seconds`` unused and
    replaced after ``max_messages``. Bound to the event loop that first uses it (a session
    belongs to one loop); another loop starts afresh."""

    def __init__(
        self,
        open_session: Callable[[], Awaitable[aiosmtplib.SMTP]],
        *,
        size: int,
        idle_seconds: float,
        max_messages: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_session = open_session
        self.size = size
        self.idle_seconds = idle_seconds
        self.max_messages = max_messages
        self.clock = clock
        self.opened = 0  # sessions opened so far (for tests and benchmarks)
        self._idle: list[Session] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def idle(self) -> int:
        return len(self._idle)

    def slot(self) -> Slot:
        """``async with pool.slot() as slot``: one of the ``size`` sessions, for one message."""
        return Slot(self)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            for session in self._idle:  # of an earlier loop: unusable here
                with suppress(RuntimeError):
                    session.smtp.close()
            self._idle.clear()
            self._reaper = None
            self._slots, self._loop = asyncio.Semaphore(self.size), loop
        return self._slots

    async def _new(self) -> Session:
        smtp = await self._open_session()
        self.opened += 1
        return Session(smtp)

    def _take_idle(self) -> Session | None:
        now = self.clock()
        while self._idle:
            session = self._idle.pop()  # the most recently used: it is the likeliest alive
            if session.smtp.is_connected and now - session.idle_since < self.idle_seconds:
                return session
            session.smtp.close()
        return None

    async def _park(self, session: Session, *, sent: bool) -> None:
        session.messages += sent
        if self._closed or session.messages >= self.max_messages:
            await quit_politely(session.smtp)
            return
        session.reused = True
        session.idle_since = self.clock()
        self._idle.append(session)
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        """Close sessions that stayed unused for ``idle_seconds``; ends when none is idle."""
        while self._idle:
            now = self.clock()
            expired = [s for s in self._idle if now - s.idle_since >= self.idle_seconds]
            for session in expired:
                self._idle.remove(session)
            for session in expired:
                await quit_politely(session.smtp)
            if self._idle:
                oldest = min(s.idle_since for s in self._idle)
                await asyncio.sleep(max(0.01, oldest + self.idle_seconds - self.clock()))

    async def aclose(self) -> None:
        """Close every idle session (QUIT); sessions in use are closed when their send ends."""
        self._closed = True
        if self._reaper is not None and not self._reaper.done():
            self._reaper.cancel()
            with suppress(asyncio.CancelledError):
                await self._reaper
        self._reaper = None
        idle, self._idle = self._idle, []
        await asyncio.gather(*(quit_politely(s.smtp) for s in idle))


class Slot:
    """Holds one place in the pool; the session checked out through it is either parked again
    (``finish``), reset for reuse (``abort``) or closed (``discard``, and on any exit)."""

    def __init__(self, pool: SmtpPool) -> None:
        self.pool = pool
        self.session: Session | None = None
        self._slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> Slot:
        self._slots = self.pool._semaphore()
        await self._slots.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.session is not None:  # not handed back: its state is unknown
            self.session.smtp.close()
            self.session = None
        assert self._slots is not None
        self._slots.release()

    async def checkout(self, *, fresh: bool = False) -> Session:
        """An idle session, or a new one (``fresh``: always a new one)."""
        session = None if fresh else self.pool._take_idle()
        self.session = session or await self.pool._new()
        return self.session

    def discard(self, session: Session) -> None:
        session.smtp.close()
        self.session = None

    async def finish(self, session: Session) -> None:
        """The message went through: back to the pool (or closed at its message limit)."""
        self.session = None
        await self.pool._park(session, sent=True)

    async def abort(self, session: Session) -> None:
        """An open transaction ended before DATA: RSET keeps the session usable."""
        self.session = None
        try:
            await session.smtp.rset()
        except (aiosmtplib.SMTPException, OSError):
            session.smtp.close()
            return
        await self.pool._park(session, sent=False)


class _Stale(Exception):
    """The session failed before the recipient was accepted; nothing was sent on it."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SmtpEmail:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender = parseaddr(settings.email_from)[1]
        self._tls: ssl.SSLContext | None = None
        self.pool = SmtpPool(
            self._open,
            size=settings.smtp_pool_size,
            idle_seconds=settings.smtp_pool_idle_seconds,
            max_messages=settings.smtp_messages_per_connection,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def _tls_context(self) -> ssl.SSLContext | None:
        """One verifying TLS context for every connection (loading the CA store is not free)."""
        if self.settings.smtp_security is SmtpSecurity.none:
            return None
        if self._tls is None:
            self._tls = await asyncio.to_thread(ssl.create_default_context)
        return self._tls

    async def _open(self) -> aiosmtplib.SMTP:
        """Connect (TLS or STARTTLS as configured) and log in; every failure is temporary."""
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_security is SmtpSecurity.tls,
            start_tls=True if s.smtp_security is SmtpSecurity.starttls else False,
            tls_context=await self._tls_context(),
            timeout=s.smtp_timeout_seconds,
        )
        try:
            await smtp.connect()
            if s.smtp_username and s.smtp_password:
                await smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
        except aiosmtplib.SMTPResponseException as exc:
            # TLS or AUTH refused: our configuration, not the person's address. Retry; never
            # fail over or disable.
            smtp.close()
            raise TemporaryFailure(f"smtp_session_{exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise TemporaryFailure(f"smtp_{type(exc).__name__}") from None
        except BaseException:
            smtp.close()
            raise
        return smtp

    async def send(self, email: OutgoingEmail) -> Receipt:
        return await self._send(email, None)

    async def send_staged(self, email: OutgoingEmail, before_data: BeforeData) -> Receipt:
        """Send, calling ``before_data`` once the recipient is accepted and just before DATA."""
        return await self._send(email, before_data)

    async def _send(self, email: OutgoingEmail, before_data: BeforeData | None) -> Receipt:
        message = compose(email, self.settings.email_from)
        async with self.pool.slot() as slot:
            session = await self._envelope(slot, email.to)
            if before_data is not None:
                try:
                    await before_data()
                except Exception:  # e.g. the claim went to another attempt: send nothing
                    await slot.abort(session)
                    raise  # (a cancellation closes the session on leaving the slot)
            try:
                await session.smtp.data(message.data)
            except aiosmtplib.SMTPResponseException as exc:
                slot.discard(session)
                raise _classify(exc.code) from None
            except (aiosmtplib.SMTPException, OSError) as exc:
                slot.discard(session)
                raise UnknownOutcome(f"smtp_data_{type(exc).__name__}") from None
            await slot.finish(session)
        return Receipt(self.name, message.message_id)

    async def _envelope(self, slot: Slot, to: str) -> Session:
        """MAIL FROM and RCPT TO on a pooled session; a reused session that turns out dropped
        is replaced by a fresh one once (nothing was accepted on it)."""
        fresh = False
        while True:
            session = await slot.checkout(fresh=fresh)
            try:
                await self._mail_rcpt(slot, session, to)
                return session
            except _Stale as stale:
                slot.discard(session)
                if not session.reused:
                    raise TemporaryFailure(stale.code) from None
                fresh = True

    async def _mail_rcpt(self, slot: Slot, session: Session, to: str) -> None:
        smtp = session.smtp
        try:
            await smtp.mail(self.sender)
        except aiosmtplib.SMTPResponseException as exc:
            # Refused before any recipient was named: the session's state or limits (421, a
            # per-connection limit) or our configuration (sender refused): never the address.
            raise _Stale(f"smtp_session_{exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _Stale(f"smtp_{type(exc).__name__}") from None
        try:
            await smtp.rcpt(to)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == CLOSING:
                raise _Stale(f"smtp_{exc.code}") from None
            await slot.abort(session)  # the server's verdict on this address: session is fine
            raise _classify(exc.code) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _Stale(f"smtp_{type(exc).__name__}") from None


def _classify(code: int) -> TemporaryFailure | PermanentFailure:
    if 500 <= code < 600:
        return PermanentFailure(f"smtp_{code}")
    return TemporaryFailure(f"smtp_{code}")
