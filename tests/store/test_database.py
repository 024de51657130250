"""``Database``: where blocking database work runs when async code asks for it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from store.db import AT_ONCE_WAIT, Database, make_engine


def on_the_loop(_engine: Engine) -> bool:
    return threading.current_thread() is threading.main_thread()


async def test_a_sqlite_file_gets_an_engine_that_gives_up_quickly_for_the_event_loop(
    tmp_path: Path,
) -> None:
    database = Database.of(make_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    try:
        assert database.at_once is not None
        assert database.at_once.url.database == database.engine.url.database
        with database.at_once.connect() as connection:
            waits_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert waits_ms == AT_ONCE_WAIT * 1000
        assert await database.run(on_the_loop) is True
        assert await database.in_thread(on_the_loop) is False, "work not safe to repeat"
    finally:
        database.dispose()


async def test_in_memory_sqlite_runs_its_work_in_a_thread() -> None:
    """``:memory:`` is a database per connection: a second engine would see another one."""
    database = Database.of(make_engine("sqlite://"))
    assert database.at_once is None
    assert await database.run(on_the_loop) is False
    database.dispose()


async def test_an_error_other_than_a_busy_database_is_raised_and_not_run_again(
    tmp_path: Path,
) -> None:
    database = Database.of(make_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    calls: list[Engine] = []

    def broken(engine: Engine) -> None:
        calls.append(engine)
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError, match="no such table"):
        await database.run(broken)
    assert calls == [database.at_once]
    database.dispose()
