"""The SMTP channel's pool of sessions, against the real aiosmtpd server on loopback: sessions are
reused (counted at the server), a session the server dropped is replaced without losing or
doubling a message, no more sessions than the pool's size are open at once, idle sessions are
closed, and closing the pool closes them all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from notifications.channels import OutgoingEmail, PermanentFailure, TemporaryFailure
from notifications.email_smtp import SmtpEmail
from tests.fakes.smtp_sessions import SessionCountingSmtp
from tests.fakes.tls import loopback_certificate, server_context
from tests.notifications.conftest import arrivals, configure


def mail(n: int, to: str = "anna@example.org") -> OutgoingEmail:
    return OutgoingEmail(to, f"Onderwerp {n}", "tekst", "<p>tekst</p>", f"wv{n}")


@pytest.fixture
async def channel_for(
    settings: Settings, session_smtp: SessionCountingSmtp
) -> AsyncIterator[Callable[..., SmtpEmail]]:
    made: list[SmtpEmail] = []

    def make(**overrides: Any) -> SmtpEmail:
        channel = SmtpEmail(configure(settings, **session_smtp.settings_overrides() | overrides))
        made.append(channel)
        return channel

    yield make
    for channel in made:
        await channel.aclose()


async def test_one_session_carries_many_messages(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    channel = channel_for()
    for n in range(10):
        await channel.send(mail(n))
    assert arrivals(session_smtp) == {f"wv{n}": 1 for n in range(10)}
    assert (session_smtp.connections, channel.pool.opened, channel.pool.idle) == (1, 1, 1)


async def test_no_more_sessions_than_the_pool_size_at_once(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    channel = channel_for(smtp_pool_size=3)
    await asyncio.gather(*(channel.send(mail(n)) for n in range(30)))
    assert arrivals(session_smtp) == {f"wv{n}": 1 for n in range(30)}
    assert session_smtp.most_open <= 3 and session_smtp.connections <= 3
    assert channel.pool.idle == session_smtp.open


async def test_a_session_the_server_dropped_is_replaced_without_losing_or_doubling(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    channel = channel_for()
    await channel.send(mail(1))
    await (
        session_smtp.drop_connections()
    )  # a restart or its idle timeout, while ours sat in the pool
    await channel.send(mail(2))
    assert arrivals(session_smtp) == {"wv1": 1, "wv2": 1}
    assert session_smtp.connections == 2


async def test_a_session_dropped_at_the_moment_of_use_is_replaced_before_data(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    """The server's per-connection limit: its 421 answers MAIL, so nothing was accepted and the
    message goes out on a fresh session."""
    session_smtp.messages_per_connection = 3
    channel = channel_for()
    for n in range(7):
        await channel.send(mail(n))
    assert arrivals(session_smtp) == {f"wv{n}": 1 for n in range(7)}
    assert session_smtp.connections == 3


async def test_a_fresh_session_refused_before_data_is_a_temporary_failure(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    session_smtp.messages_per_connection = 0  # every MAIL gets 421: no fresh session helps
    channel = channel_for()
    with pytest.raises(TemporaryFailure, match="smtp_session_421"):
        await channel.send(mail(1))
    assert session_smtp.messages == [] and session_smtp.connections == 1


async def test_sessions_are_replaced_after_the_configured_number_of_messages(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    channel = channel_for(smtp_messages_per_connection=2)
    for n in range(5):
        await channel.send(mail(n))
    assert arrivals(session_smtp) == {f"wv{n}": 1 for n in range(5)}
    assert session_smtp.connections == 3


async def test_a_refused_recipient_keeps_the_session_usable(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    session_smtp.reject("gone@example.org", 550)
    channel = channel_for()
    with pytest.raises(PermanentFailure, match="smtp_550"):
        await channel.send(mail(1, to="gone@example.org"))
    await channel.send(mail(2))  # on the same session, after RSET
    assert arrivals(session_smtp) == {"wv2": 1}
    assert session_smtp.connections == 1


async def test_a_hook_that_refuses_before_data_sends_nothing_and_keeps_the_session(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    channel = channel_for()
    calls: list[int] = []

    async def refuse() -> None:
        calls.append(len(session_smtp.messages))
        raise LookupError("taken")

    with pytest.raises(LookupError):
        await channel.send_staged(mail(1), refuse)

    async def allow() -> None:
        calls.append(len(session_smtp.messages))

    await channel.send_staged(mail(2), allow)
    assert calls == [0, 0]  # called before any message data went out
    assert arrivals(session_smtp) == {"wv2": 1}
    assert session_smtp.connections == 1


async def test_idle_sessions_are_closed_after_the_idle_time(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    channel = channel_for(smtp_pool_idle_seconds=0.2)
    await asyncio.gather(*(channel.send(mail(n)) for n in range(4)))
    assert session_smtp.open >= 1
    await session_smtp.wait_until_closed(timeout=3)  # QUIT by the pool, not dropped by the server
    assert channel.pool.idle == 0
    before = session_smtp.connections
    await channel.send(mail(9))
    assert session_smtp.connections == before + 1
    assert len(session_smtp.messages) == 5


async def test_closing_the_pool_closes_its_sessions(
    channel_for: Callable[..., SmtpEmail], session_smtp: SessionCountingSmtp
) -> None:
    channel = channel_for()
    await asyncio.gather(*(channel.send(mail(n)) for n in range(8)))
    assert session_smtp.open >= 1
    await channel.aclose()
    await session_smtp.wait_until_closed(timeout=3)
    assert channel.pool.idle == 0


async def test_starttls_and_auth_happen_once_per_session(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = loopback_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    session_smtp = SessionCountingSmtp(security="starttls", tls_context=server_context(cert, key))
    session_smtp.require_auth("waakvlam", "geheim")
    session_smtp.start()
    channel = SmtpEmail(
        configure(settings, **session_smtp.settings_overrides(), smtp_username="waakvlam",
                  smtp_password="geheim")
    )  # fmt: skip
    try:
        for n in range(5):
            await channel.send(mail(n))
        await channel.aclose()
    finally:
        session_smtp.stop()
    assert arrivals(session_smtp) == {f"wv{n}": 1 for n in range(5)}
    assert session_smtp.connections == 1
