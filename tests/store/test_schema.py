"""The database schema: migrations create it on SQLite and PostgreSQL, match the models, and an
existing database upgrades without losing rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel, select

import store.models  # noqa: F401  (every table)
from config.domain import SchoolType
from store.audit import AuditEntry
from store.db import alembic_config, migrate
from store.directory import Organisation, OrganisationKind
from store.oncall import Escalation, EscalationStatus
from store.youth import Youth

EXPECTED_TABLES = {
    "organisation",
    "professional",
    "roleassignment",
    "contactmethod",
    "youth",
    "guardian",
    "trustedperson",
    "consent",
    "trajectory",
    "task",
    "rotation",
    "rotationmember",
    "rotationoverride",
    "escalationpolicy",
    "escalation",
    "escalationcall",
    "outboxmessage",
    "actiontoken",
    "auditentry",
    "meta",
}


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert EXPECTED_TABLES <= tables
    assert "alembic_version" in tables


def test_the_models_and_the_migrations_agree(engine: Engine) -> None:
    """A model changed without a migration fails here."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_upgrading_an_existing_database_keeps_its_rows(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            Organisation(
                id="org_s", name="School", kind=OrganisationKind.school, school_type=SchoolType.vso
            )
        )
        session.flush()
        session.add(
            Youth(
                id="yth_1",
                first_name="Ada",
                last_name="Peters",
                birth_date=date(2009, 5, 1),
                school_id="org_s",
                school_ref="1",
                school_type=SchoolType.vso,
            )
        )
        session.commit()
    migrate(engine)  # every start runs the migrations again
    with Session(engine) as session:
        youth = session.exec(select(Youth)).one()
        assert (youth.first_name, youth.school_type) == ("Ada", SchoolType.vso)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version is not None


def _escalation(escalation_id: str, code: str, status: EscalationStatus) -> Escalation:
    return Escalation(
        id=escalation_id,
        workflow_id=f"escalation-{escalation_id}",
        category="absence",
        urgency="today",
        status=status,
        ack_code=code,
        opened_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def _version(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_upgrading_from_the_first_revision_keeps_escalations_and_the_audit_log(
    engine: Engine,
) -> None:
    command.downgrade(alembic_config(engine), "0001")
    with Session(engine) as session:
        session.add(_escalation("esc_a", "1234", EscalationStatus.open))
        session.add(_escalation("esc_b", "1234", EscalationStatus.resolved))
        session.add(AuditEntry(actor_kind="system", action="created", subject_kind="escalation",
                               subject_id="esc_a"))  # fmt: skip
        session.commit()
    migrate(engine)
    assert _version(engine) == "0002"
    with Session(engine) as session:
        assert {e.id for e in session.exec(select(Escalation)).all()} == {"esc_a", "esc_b"}
        assert [a.subject_id for a in session.exec(select(AuditEntry)).all()] == ["esc_a"]


def test_an_upgrade_refuses_live_escalations_sharing_a_code_and_changes_nothing(
    engine: Engine,
) -> None:
    command.downgrade(alembic_config(engine), "0001")
    with Session(engine) as session:
        session.add(_escalation("esc_a", "1234", EscalationStatus.open))
        session.add(_escalation("esc_b", "1234", EscalationStatus.acknowledged))
        session.commit()
    with pytest.raises(RuntimeError, match="share the acknowledgement code.*1234"):
        migrate(engine)
    assert _version(engine) == "0001"
    with Session(engine) as session:
        assert len(session.exec(select(Escalation)).all()) == 2
