"""The database schema: migrations create it on SQLite and PostgreSQL, match the models, and an
existing database upgrades without losing rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

import store.models  # noqa: F401  (every table)
from config.domain import Role, SchoolType
from store.audit import AuditEntry
from store.db import MIGRATIONS, alembic_config, migrate
from store.directory import Organisation, OrganisationKind, Professional, RoleAssignment
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


HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


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
    assert _version(engine) == HEAD
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


def _people(session: Session) -> None:
    session.add(Organisation(id="org_a", name="A", kind=OrganisationKind.school))
    session.add(Organisation(id="org_b", name="B", kind=OrganisationKind.school))
    session.flush()
    for pid in ("pro_1", "pro_2"):
        session.add(Professional(id=pid, organisation_id="org_a", first_name="X", last_name="Y"))
    session.flush()


def _role(pid: str, scope: str | None = None) -> RoleAssignment:
    return RoleAssignment(professional_id=pid, role=Role.jobcoach, scope_organisation_id=scope)


def test_the_database_refuses_a_region_wide_role_twice(engine: Engine) -> None:
    with Session(engine) as session:
        _people(session)
        session.add_all([_role("pro_1"), _role("pro_2"), _role("pro_1", "org_a")])
        session.add_all([_role("pro_1", "org_b"), _role("pro_2", "org_a")])
        session.commit()  # region-wide once per person, and once per scope
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.add(_role("pro_1"))
        session.commit()
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.add(_role("pro_1", "org_a"))
        session.commit()
    with Session(engine) as session:
        assert len(session.exec(select(RoleAssignment)).all()) == 5


def _old_organisation(engine: Engine, org_id: str) -> None:
    """An organisation row as revision 0002 writes it (no ``active`` column yet)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisation (id, name, kind, created_at) "
                "VALUES (:id, 'Oud', 'school', CURRENT_TIMESTAMP)"
            ),
            {"id": org_id},
        )


def test_upgrading_to_0003_makes_every_organisation_active_and_downgrading_drops_it(
    engine: Engine,
) -> None:
    command.downgrade(alembic_config(engine), "0002")
    assert "active" not in {c["name"] for c in inspect(engine).get_columns("organisation")}
    _old_organisation(engine, "org_old")
    migrate(engine)
    assert _version(engine) == "0003"
    with Session(engine) as session:
        old = session.get(Organisation, "org_old")
        assert old is not None and old.active is True
        session.add(Organisation(id="org_new", name="Nieuw", kind=OrganisationKind.other))
        session.commit()
        new = session.get(Organisation, "org_new")
        assert new is not None and new.active is True


def test_an_upgrade_refuses_duplicate_region_wide_roles_and_changes_nothing(
    engine: Engine,
) -> None:
    command.downgrade(alembic_config(engine), "0002")
    _old_organisation(engine, "org_a")
    with Session(engine) as session:
        session.add(Professional(id="pro_1", organisation_id="org_a", first_name="X",
                                 last_name="Y"))  # fmt: skip
        session.flush()
        session.add_all([_role("pro_1"), _role("pro_1")])  # NULL scopes slipped through
        session.commit()
    with pytest.raises(RuntimeError, match=r"assigned twice.*pro_1 \(jobcoach\)"):
        migrate(engine)
    assert _version(engine) == "0002"
    assert "active" not in {c["name"] for c in inspect(engine).get_columns("organisation")}
    with Session(engine) as session:
        assert len(session.exec(select(RoleAssignment)).all()) == 2
