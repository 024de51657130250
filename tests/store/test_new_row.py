"""``new_row``: a new row's values for a plain INSERT, with the model's defaults, without the
model."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session

from config.domain import SchoolType
from store.base import new_row
from store.outbox import OutboxMessage, OutboxStatus
from store.trajectories import Trajectory
from store.youth import Youth


def message(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "idempotency_key": "trj_1:task_reminder:x|email",
        "purpose": "task_reminder",
        "recipient_kind": "professional",
        "recipient_id": "pro_1",
        "channel": "email",
        "address": "anna@example.org",
        "language": "nl",
        "body_text": "Hallo",
    }
    return values | changes


def test_the_models_defaults_fill_what_is_not_given_and_the_database_keeps_its_key() -> None:
    before = datetime.now(UTC)
    row = new_row(OutboxMessage, **message(urgent=True))
    assert "id" not in row, "the database assigns it"
    assert row["urgent"] is True and row["status"] is OutboxStatus.pending
    assert row["attempts"] == 0 and row["sent_at"] is None and row["subject"] is None
    assert row["created_at"] >= before, "a default factory is called for each row"
    later = new_row(OutboxMessage, **message())
    assert later["created_at"] >= row["created_at"]


def test_a_missing_or_unknown_column_is_refused_by_name() -> None:
    values = message()
    del values["address"]
    with pytest.raises(TypeError, match="OutboxMessage: address is required"):
        new_row(OutboxMessage, **values)
    with pytest.raises(TypeError, match="OutboxMessage has no column colour"):
        new_row(OutboxMessage, **message(colour="red"))


def test_a_row_written_from_new_row_reads_back_as_the_model_would_have_written_it(
    engine: Engine,
) -> None:
    """The same youth and trajectory, once built as models and added by the ORM, once from
    ``new_row`` in a plain INSERT: every column but the ids and the clock reads back alike."""
    from tests.factories import build_region

    region = build_region(engine)
    school = {"school_id": region.school_id, "school_type": SchoolType.pro}
    common = {"first_name": "Sanne", "last_name": "de Vries", "birth_date": date(2010, 3, 1)}
    common |= school
    path = {"timeline_id": "default", "timeline_version": 1, "leave_date": date(2027, 7, 1)}
    path |= school
    with Session(engine) as session:
        session.add(Youth(id="yth_orm", school_ref="A1", **common))
        session.flush()
        session.add(Trajectory(id="trj_orm", youth_id="yth_orm", workflow_id="w1", **path))
        session.execute(
            insert(Youth.__table__),  # type: ignore[attr-defined]
            new_row(Youth, id="yth_new", school_ref="A2", **common),
        )
        session.execute(
            insert(Trajectory.__table__),  # type: ignore[attr-defined]
            new_row(Trajectory, id="trj_new", youth_id="yth_new", workflow_id="w2", **path),
        )
        session.commit()
        for model, ids, differ in (
            (Youth, ("yth_orm", "yth_new"), {"id", "school_ref", "created_at"}),
            (Trajectory, ("trj_orm", "trj_new"), {"id", "youth_id", "workflow_id", "opened_at"}),
        ):
            orm, plain = (session.get_one(model, i).model_dump() for i in ids)  # type: ignore[attr-defined]
            assert {k: v for k, v in orm.items() if k not in differ} == {
                k: v for k, v in plain.items() if k not in differ
            }
