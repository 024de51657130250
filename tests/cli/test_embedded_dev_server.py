"""The embedded dev server (``waakvlam.devserver``), as ``waakvlam dev`` starts it: its search
attributes are served from the server's cache, not read from its database for every start."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from config.settings import Settings
from waakvlam.devserver import DevServer, free_port
from waakvlam.temporal import connect
from workflows import search_attributes as sa

STARTS = 10


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[DevServer]:
    """A dev server of the test's own, on free ports, its state in the test's directory."""
    own = settings.model_copy(
        update={
            "temporal_address": f"127.0.0.1:{free_port('127.0.0.1')}",
            "temporal_ui_port": free_port("127.0.0.1"),
        }
    )
    running = DevServer(own)
    await running.start()
    try:
        yield running
    finally:
        running.stop()


def persistence_requests(server: DevServer, operation: str) -> float:
    text = httpx.get(server.metrics_url, timeout=10).text
    pattern = rf'^persistence_requests\{{[^}}]*operation="{operation}"[^}}]*\}} ([0-9.e+]+)$'
    return sum(float(value) for value in re.findall(pattern, text, flags=re.MULTILINE))


async def counted(server: DevServer, started: int) -> None:
    """Until the server's metrics show ``started`` workflows created (they are reported in
    batches, about once a second)."""
    deadline = time.monotonic() + 30
    while persistence_requests(server, "CreateWorkflowExecution") < started:
        assert time.monotonic() < deadline, "the server's metrics did not show the starts"
        await asyncio.sleep(0.2)


async def test_starts_with_search_attributes_read_them_from_the_cache(server: DevServer) -> None:
    client = await connect(server.settings)
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(sa.SCHOOL_TYPE, "pro"),
            SearchAttributePair(sa.PHASE, "orientation"),
            SearchAttributePair(sa.LEAVE_DATE, noon),
            SearchAttributePair(sa.OVERDUE_COUNT, 0),
            SearchAttributePair(sa.FLAGS, ["no_destination"]),
        ]
    )
    await client.start_workflow(
        "Nothing", id=f"warm-{secrets.token_hex(3)}", task_queue="none",
        search_attributes=attributes,
    )  # fmt: skip
    await counted(server, 1)
    before = persistence_requests(server, "GetCurrentClusterMetadata")
    for n in range(STARTS):
        handle = await client.start_workflow(
            "Nothing", id=f"start-{n}", task_queue="none", search_attributes=attributes
        )
        described = await handle.describe()
        assert described.typed_search_attributes.get(sa.PHASE) == "orientation"
    await counted(server, 1 + STARTS)
    reads = persistence_requests(server, "GetCurrentClusterMetadata") - before
    # Read afresh, each start and its description read them five times: 50 here (measured).
    assert reads < STARTS, f"{reads:.0f} reads of the cluster metadata for {STARTS} starts"


async def test_the_write_ahead_log_is_checkpointed_at_its_larger_size(server: DevServer) -> None:
    """SQLite's default checkpoints the log, syncing the database file, every 1,000 pages (the
    log file then stays near 4 MB); the server's log is let grow to WAL_PAGES first."""
    client = await connect(server.settings)
    wal = Path(f"{server.db_path}-wal")
    default_limit = 1_000 * (4096 + 24)
    for n in range(3_000):
        await client.start_workflow(
            "Nothing", "x" * 4000, id=f"fill-{n}", task_queue="none",
            search_attributes=TypedSearchAttributes([SearchAttributePair(sa.PHASE, "decision")]),
        )  # fmt: skip
        if wal.stat().st_size > 2 * default_limit:
            return
    raise AssertionError(f"the log stayed at {wal.stat().st_size:,} bytes: checkpointed early")
