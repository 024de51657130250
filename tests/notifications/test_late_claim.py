"""An email's outbox row is claimed only once the SMTP server has accepted the recipient, just
before DATA: a worker that dies (here: an activity cancelled) before that leaves the row
``pending`` and a retry sends it exactly once; one that dies during DATA leaves it ``sending``,
never resent, and in the end ``failed`` / ``outcome_unknown`` where the coordinator sees it. Two
attempts never both send: the claim is still the conditional UPDATE, only later."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from notifications import outbox
from notifications.notifier import RetryLater
from notifications.requests import NotifyOutcome
from notifications.timing import SendPolicy
from store.outbox import OutboxStatus
from tests.fakes.smtp_sessions import SessionCountingSmtp
from tests.notifications.conftest import WORKDAY, World, arrivals, outbox_rows, request

REMINDER = request()  # to Anna, by email


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def cut_off_while(world: World, session_smtp: SessionCountingSmtp, stage: str) -> None:
    """Start sending the reminder and cancel it while the server holds ``stage`` (RCPT or
    DATA): what a kill -9 of the worker does to the activity at that moment."""
    setattr(session_smtp, f"{stage}_delay", 30.0)
    sending = asyncio.create_task(world.services.notifier.notify(REMINDER, WORKDAY))
    await until(lambda: session_smtp.open == 1)
    await asyncio.sleep(0.3)  # well inside the held command
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    setattr(session_smtp, f"{stage}_delay", 0.0)


async def test_a_cut_off_before_data_leaves_the_row_pending_and_a_retry_sends_it_once(
    world_factory: Callable[..., World], session_smtp: SessionCountingSmtp
) -> None:
    world = world_factory(smtp_server=session_smtp)
    await cut_off_while(world, session_smtp, "rcpt")
    [row] = outbox_rows(world.engine)
    assert (row.status, row.attempts) == (OutboxStatus.pending, 0)
    assert session_smtp.messages == []

    result = await world.services.notifier.notify(REMINDER, WORKDAY)  # Temporal's retry
    assert result.outcome is NotifyOutcome.sent
    assert arrivals(session_smtp) == {f"wv{row.id}": 1}
    again = await world.services.notifier.notify(REMINDER, WORKDAY)
    assert again.outcome is NotifyOutcome.already_sent
    assert len(session_smtp.messages) == 1


async def test_a_cut_off_during_data_is_never_resent_and_ends_visible_as_outcome_unknown(
    world_factory: Callable[..., World], session_smtp: SessionCountingSmtp
) -> None:
    world = world_factory(smtp_server=session_smtp, policy=SendPolicy(unknown_outcome_checks=2))
    await cut_off_while(world, session_smtp, "data")
    [row] = outbox_rows(world.engine)
    assert row.status is OutboxStatus.sending  # claimed just before DATA

    with pytest.raises(RetryLater, match="outcome_unknown"):
        await world.services.notifier.notify(REMINDER, WORKDAY)
    result = await world.services.notifier.notify(REMINDER, WORKDAY)
    assert (result.outcome, result.reason) == (NotifyOutcome.failed, "outcome_unknown")
    assert session_smtp.messages == []  # not resent (and this time it never arrived)
    with Session(world.engine) as session:
        assert [r.id for r in outbox.failed_messages(session)] == [row.id]


async def test_a_row_claimed_by_another_attempt_before_data_is_not_sent_by_this_one(
    world_factory: Callable[..., World], session_smtp: SessionCountingSmtp
) -> None:
    world = world_factory(smtp_server=session_smtp)
    session_smtp.rcpt_delay = 0.5
    sending = asyncio.create_task(world.services.notifier.notify(REMINDER, WORKDAY))
    await until(lambda: len(outbox_rows(world.engine)) == 1 and session_smtp.open == 1)
    [row] = outbox_rows(world.engine)
    assert row.id is not None
    with Session(world.engine) as session:  # another worker's attempt wins the claim
        assert outbox.claim(session, row.id)
    with pytest.raises(RetryLater, match="outcome_unknown"):
        await sending  # it sees the row in someone else's hands and waits for its outcome
    session_smtp.rcpt_delay = 0.0
    assert session_smtp.messages == []
    assert outbox_rows(world.engine)[0].status is OutboxStatus.sending


async def test_concurrent_attempts_send_one_email(
    world_factory: Callable[..., World], engine: Engine, session_smtp: SessionCountingSmtp
) -> None:
    world = world_factory(on=engine, smtp_server=session_smtp)

    async def attempt() -> str:
        try:
            return (await world.services.notifier.notify(REMINDER, WORKDAY)).outcome.value
        except RetryLater as later:
            return later.code

    outcomes = await asyncio.gather(*(attempt() for _ in range(6)))
    assert outcomes.count("sent") == 1
    assert len(session_smtp.messages) == 1
    assert len(outbox_rows(world.engine)) == 1
