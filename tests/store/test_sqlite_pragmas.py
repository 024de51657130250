"""SQLite connections are set up for one writer and many readers across threads: WAL (readers do
not block the writer), synchronous=NORMAL (safe with WAL, no fsync per commit), a busy timeout (a
writer waits for the lock instead of failing), and foreign keys enforced."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from store.db import make_engine


def test_every_sqlite_connection_gets_wal_normal_sync_busy_timeout_and_foreign_keys(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_a_writer_waits_for_another_threads_write_lock_instead_of_failing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        holding, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))
                holding.set()
                release.wait(5)

        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        assert holding.wait(5)
        threading.Timer(0.3, release.set).start()
        with engine.begin() as conn:  # blocks on the lock for ~0.3 s, then succeeds
            conn.execute(text("INSERT INTO t VALUES (2)"))
        holder.join()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
    finally:
        engine.dispose()
