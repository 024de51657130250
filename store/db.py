"""Engine construction and schema migration (alembic), built once by the composition root."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# On SQLite, database work from async code is first tried on the event loop, waiting at most this
# long for another writer's lock; a busy database sends it to a thread with the full timeout.
AT_ONCE_WAIT = 0.01
P = ParamSpec("P")
R = TypeVar("R")


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, echo: bool = False, busy_timeout: float = 30) -> Engine:
    """``busy_timeout``: on SQLite, how long a statement waits for another writer's lock."""
    url = normalise_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@dataclass(frozen=True)
class Database:
    """The engine, and where a piece of blocking database work runs when async code asks for it.

    SQLite is a library in this process: a lookup or a write is a few statements on a local
    file, well under a millisecond each. In a thread, each statement gives up the interpreter
    lock and waits to get it back from a busy event loop (ad hoc, the simulation at 300: 27 ms a
    projection in a thread against 2.7 ms on the loop), and threads writing at once wait on each
    other's file lock. So on a SQLite file the work runs on the event loop, on a second engine
    (``at_once``) that waits only :data:`AT_ONCE_WAIT` for another writer's lock; if the
    database is busy it runs again in a thread on the main engine, which waits as long as it
    must. PostgreSQL is a server: its work always runs in a thread.
    """

    engine: Engine
    at_once: Engine | None = None

    @classmethod
    def of(cls, engine: Engine) -> Database:
        """``engine`` with, on a SQLite file, its quick-to-give-up twin (``:memory:`` is one
        database per connection, so it has none)."""
        if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
            return cls(engine)
        url = engine.url.render_as_string(hide_password=False)
        return cls(engine, make_engine(url, busy_timeout=AT_ONCE_WAIT))

    async def run(
        self, work: Callable[Concatenate[Engine, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """``work(engine, *args, **kwargs)``: on the event loop where the database is a SQLite
        file that is free within :data:`AT_ONCE_WAIT`, else in a thread. ``work`` must leave
        nothing behind when it fails (one transaction, or a few that each end in a commit before
        the next begins and are safe to repeat), since a busy database means it runs again."""
        if self.at_once is not None:
            try:
                return work(self.at_once, *args, **kwargs)
            except OperationalError as error:
                if not is_busy(error):
                    raise
        return await self.in_thread(work, *args, **kwargs)

    async def in_thread(
        self, work: Callable[Concatenate[Engine, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """``work(engine, ...)`` in a thread, always: for work that is not safe to run twice."""
        return await asyncio.to_thread(work, self.engine, *args, **kwargs)

    def dispose(self) -> None:
        if self.at_once is not None:
            self.at_once.dispose()
        self.engine.dispose()


def is_busy(error: OperationalError) -> bool:
    """SQLite's answer when another connection holds the lock past the busy timeout."""
    message = str(error.orig)
    return "locked" in message or "busy" in message


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@contextmanager
def scratch_postgres(url: str, prefix: str = "scratch") -> Iterator[Engine]:
    """A migrated engine on a fresh PostgreSQL schema that is dropped afterwards (tests and
    benchmarks share one server without touching each other's tables)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    engine = make_engine(f"{normalise_url(url)}{sep}options=-csearch_path%3D{schema}")
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run at every start."""
    command.upgrade(alembic_config(engine), revision)
