"""The retention purge: personal data of trajectories closed longer than the retention period is
gone, the anonymous counts stay, and it runs from the command line and a Temporal Schedule."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, func, select

from activities.retention import cutoff, purge_expired
from config.settings import Settings
from store.audit import AuditEntry
from store.oncall import Escalation
from store.outbox import OutboxMessage
from store.trajectories import TaskRow, Trajectory
from store.youth import Consent, Guardian, TrustedPerson, Youth
from tests.privacy.conftest import NOW, PERSONAL, YOUTH, seed
from waakvlam.commands import export, purge


def run(settings: Settings, module: Any, argv: list[str]) -> int:
    """Run one subcommand as ``waakvlam`` would (its own parser, the given settings)."""
    parser = argparse.ArgumentParser(prog="waakvlam")
    module.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args, settings)
    return code


def database_text(engine: Engine) -> str:
    """Every row of every table, as one string: personal data cannot hide anywhere."""
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).all()
        return "\n".join(
            repr(row) for (name,) in tables for row in conn.execute(text(f'SELECT * FROM "{name}"'))
        )


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_the_cutoff_is_the_retention_period_before_now() -> None:
    assert cutoff(NOW, 24) == datetime(2025, 3, 9, tzinfo=UTC)


def test_a_trajectory_closed_longer_than_the_retention_loses_its_personal_data(
    sqlite_engine: Engine,
) -> None:
    seed(sqlite_engine, closed_at=NOW - timedelta(days=2 * 365 + 10))
    assert all(s in database_text(sqlite_engine) for s in PERSONAL)
    before = {m: count(sqlite_engine, m) for m in (Trajectory, TaskRow, Consent, Escalation)}
    report = purge_expired(sqlite_engine, now=NOW, retention_months=24)
    assert (report.youth, report.guardians, report.trusted_persons) == (1, 1, 1)
    assert (report.contact_methods, report.outbox_messages) == (4, 2)
    leaked = [s for s in PERSONAL if s in database_text(sqlite_engine)]
    assert leaked == []
    # The anonymous figures stay: the read model, consent statuses, escalations, the audit log.
    assert {m: count(sqlite_engine, m) for m in before} == before
    assert (count(sqlite_engine, Guardian), count(sqlite_engine, TrustedPerson)) == (0, 0)
    with Session(sqlite_engine) as session:
        youth = session.get(Youth, YOUTH)
        assert youth is not None and youth.purged_at == NOW
        assert (youth.first_name, youth.last_name, youth.school_ref) == ("", "", YOUTH)
        assert (youth.birth_date.month, youth.birth_date.day) == (1, 1)
        trajectory = session.exec(select(Trajectory)).one()
        assert trajectory.purged_at == NOW and trajectory.destination is None
        assert {m.status.value for m in session.exec(select(OutboxMessage))} == {"sent"}
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "purged")).all()
        assert (entry.actor_kind, entry.subject_id, entry.detail["guardians"]) == (
            "system", YOUTH, 1,
        )  # fmt: skip


def test_open_and_recently_closed_trajectories_are_kept(sqlite_engine: Engine) -> None:
    seed(sqlite_engine, closed_at=NOW - timedelta(days=2 * 365 - 10))
    assert purge_expired(sqlite_engine, now=NOW, retention_months=24).youth == 0
    assert purge_expired(sqlite_engine, now=NOW, retention_months=12).youth == 1


def test_a_second_purge_finds_nothing_to_do(sqlite_engine: Engine) -> None:
    seed(sqlite_engine, closed_at=NOW - timedelta(days=800))
    assert purge_expired(sqlite_engine, now=NOW, retention_months=24).youth == 1
    assert purge_expired(sqlite_engine, now=NOW, retention_months=24).youth == 0


def test_the_purge_command_counts_on_a_dry_run_and_purges_otherwise(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from store.db import make_engine, migrate

    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    seed(engine, closed_at=datetime.now(UTC) - timedelta(days=800))
    assert run(settings, purge, ["purge", "--dry-run"]) == 0
    assert "dry run: 1 youth" in capsys.readouterr().out
    assert "Lotte" in database_text(engine)
    assert run(settings, purge, ["purge"]) == 0
    assert "purged 1 youth" in capsys.readouterr().out
    assert "Lotte" not in database_text(engine)
    engine.dispose()


def test_the_export_command_writes_everything_and_the_audit_log(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from store.db import make_engine, migrate

    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    seed(engine)
    assert run(settings, export, ["export", YOUTH, "--by", "pro_network_coordinator"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["youth"]["first_name"] == "Lotte"
    assert run(settings, export, ["export", "--audit", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,at,actor_kind") and any(",exported,youth," in r for r in lines)
    assert run(settings, export, ["export", "yth_nobody"]) == 1
    engine.dispose()


def test_the_retention_defaults_to_24_months() -> None:
    assert Settings(_env_file=None).retention_months == 24  # type: ignore[call-arg]
