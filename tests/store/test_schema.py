"""The database schema: migrations create it on SQLite and PostgreSQL, match the models, and an
existing database upgrades without losing rows."""

from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel, select

import store.models  # noqa: F401  (every table)
from config.domain import SchoolType
from store.db import migrate
from store.directory import Organisation, OrganisationKind
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
