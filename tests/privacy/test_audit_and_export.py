"""The audit log is append-only and exportable; the export holds everything about one youth."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from store.audit import AuditEntry, AuditLogIsAppendOnly, record
from store.privacy import EXPORT_FORMAT, UnknownYouth, export_youth
from tests.privacy.conftest import GUARDIAN, NOW, TRAJECTORY, TRUSTED, YOUTH, seed
from waakvlam.privacy import audit_csv, audit_log, export_for


def one_entry(engine: Engine) -> int:
    with Session(engine) as session:
        entry = record(session, actor_kind="professional", actor_id="pro_1", action="viewed",
                       subject_kind="youth", subject_id="yth_1")  # fmt: skip
        session.commit()
        assert entry.id is not None
        return entry.id


def test_an_audit_entry_cannot_be_changed_through_the_orm(engine: Engine) -> None:
    entry_id = one_entry(engine)
    with Session(engine) as session:
        entry = session.get(AuditEntry, entry_id)
        assert entry is not None
        entry.actor_id = "pro_someone_else"
        session.add(entry)
        with pytest.raises(AuditLogIsAppendOnly):
            session.commit()


def test_an_audit_entry_cannot_be_deleted_through_the_orm(engine: Engine) -> None:
    entry_id = one_entry(engine)
    with Session(engine) as session:
        entry = session.get(AuditEntry, entry_id)
        session.delete(entry)
        with pytest.raises(AuditLogIsAppendOnly):
            session.commit()


def test_bulk_updates_and_deletes_of_the_audit_log_are_refused(engine: Engine) -> None:
    one_entry(engine)
    with Session(engine) as session:
        with pytest.raises(AuditLogIsAppendOnly):
            session.execute(update(AuditEntry).values(actor_id="x"))
        with pytest.raises(AuditLogIsAppendOnly):
            session.execute(delete(AuditEntry))
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry)).all()) == 1


@pytest.mark.parametrize(
    "statement",
    ["UPDATE auditentry SET actor_id = 'x'", "DELETE FROM auditentry"],
)
def test_the_database_itself_refuses_to_change_the_audit_log(
    engine: Engine, statement: str
) -> None:
    """Plain SQL, past the ORM's guard: a trigger refuses it (SQLite and PostgreSQL)."""
    one_entry(engine)
    with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="never updated or deleted"):
            connection.execute(text(statement))
        connection.rollback()
    with Session(engine) as session:
        assert [e.actor_id for e in session.exec(select(AuditEntry)).all()] == ["pro_1"]


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # SQLite has no TRUNCATE
def test_postgresql_refuses_to_truncate_the_audit_log(engine: Engine) -> None:
    one_entry(engine)
    with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="never updated or deleted"):
            connection.execute(text("TRUNCATE auditentry"))
        connection.rollback()
    with Session(engine) as session:
        assert len(session.exec(select(AuditEntry)).all()) == 1


def test_the_export_holds_everything_about_one_youth(sqlite_engine: Engine) -> None:
    seed(sqlite_engine)
    data = export_for(sqlite_engine, YOUTH, actor_kind="professional", actor_id="pro_x")
    assert data["format"] == EXPORT_FORMAT
    assert data["youth"]["first_name"] == "Lotte"
    assert [g["id"] for g in data["guardians"]] == [GUARDIAN]
    assert [t["id"] for t in data["trusted_persons"]] == [TRUSTED]
    assert {c["address"] for c in data["contact_methods"]} == {
        "lotte.bakhuizen@example.org", "+31611122233", "karel@example.org", "+31644455566",
    }  # fmt: skip
    assert all("verification_code_hash" not in c for c in data["contact_methods"])
    assert data["trajectory"]["id"] == TRAJECTORY
    assert [t["key"] for t in data["tasks"]] == ["profile"]
    assert [c["kind"] for c in data["consents"]] == ["legal_representative"]
    assert len(data["escalations"]) == 1 and len(data["escalation_calls"]) == 1
    assert len(data["outbox_messages"]) == 2
    assert [a["action"] for a in data["audit_entries"]] == ["viewed", "exported"]


def test_an_unknown_youth_cannot_be_exported(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, pytest.raises(UnknownYouth):
        export_youth(session, "yth_nobody")


def test_the_audit_log_exports_as_csv_without_spreadsheet_formulas(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        record(session, actor_kind="professional", actor_id="=cmd()", action="viewed",
               subject_kind="youth", subject_id=YOUTH, detail={"page": "trajectory"})  # fmt: skip
        session.commit()
        entries = audit_log(session, since=NOW.replace(year=2000), subject_id=YOUTH)
    lines = audit_csv(entries).splitlines()
    assert lines[0] == "id,at,actor_kind,actor_id,action,subject_kind,subject_id,detail"
    assert ",'=cmd()," in lines[1] and '""page"": ""trajectory""' in lines[1]
