"""Waiting, bounded in time, for the outbox to settle."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Engine

from tests.faults.stack import in_flight, outbox


async def settle(
    engine: Engine, *, at_least: int, timeout: float = 60.0, quiet: float = 1.0
) -> int:
    """Wait until at least ``at_least`` outbox rows exist, none is in flight, and nothing new
    appeared for ``quiet`` seconds; returns the number of rows."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(outbox(engine))
        if count != last:
            last, since = count, time.monotonic()
        elif count >= at_least and in_flight(engine) == 0 and time.monotonic() - since > quiet:
            return count
        await asyncio.sleep(0.2)
    raise AssertionError(f"the outbox did not settle: {last} rows, {in_flight(engine)} in flight")
