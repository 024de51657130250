"""Watching where database work runs: which functions went to a thread, and SQLite's write lock
held by another connection for a while."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine


def work_sent_to_threads(
    monkeypatch: pytest.MonkeyPatch, keep: Callable[[Callable[..., Any]], bool] = lambda _: True
) -> list[str]:
    """The names of the functions that ``asyncio.to_thread`` runs from now on (those ``keep``
    accepts), in order; they still run in their threads."""
    threaded: list[str] = []
    to_thread = asyncio.to_thread

    async def spy(work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if keep(work):
            threaded.append(getattr(work, "__name__", repr(work)))
        return await to_thread(work, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", spy)
    return threaded


@contextmanager
def another_writer(engine: Engine) -> Iterator[None]:
    """Another connection holds SQLite's write lock until the block ends."""
    with engine.connect() as writer:
        writer.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            writer.exec_driver_sql("ROLLBACK")
