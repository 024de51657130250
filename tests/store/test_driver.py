"""``store.driver``: statements on the driver's own cursor write and read what SQLAlchemy would,
and fail as SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound, OperationalError
from sqlmodel import Session

from config.domain import SchoolType, VsoProfile
from store.base import new_row
from store.db import is_busy, make_engine
from store.directory import OrganisationKind
from store.driver import DriverStatement, driver_transaction
from store.trajectories import Trajectory
from store.youth import Youth
from tests.factories import build_region
from tests.threads import another_writer
from waakvlam.enrollment import LOOKUP

YOUTH = Youth.__table__  # type: ignore[attr-defined]
TRAJECTORY = Trajectory.__table__  # type: ignore[attr-defined]
OPENED = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)


def youth_row(youth_id: str, school_id: str, school_ref: str) -> dict[str, object]:
    return new_row(
        Youth, id=youth_id, first_name="Sanne", last_name="de Vries", birth_date=date(2010, 2, 28),
        school_id=school_id, school_ref=school_ref, school_type=SchoolType.vso,
        vso_profile=VsoProfile.labour_market, created_at=OPENED,
    )  # fmt: skip


def trajectory_row(trajectory_id: str, youth_id: str, school_id: str) -> dict[str, object]:
    return new_row(
        Trajectory, id=trajectory_id, youth_id=youth_id, workflow_id=f"trajectory-{trajectory_id}",
        school_id=school_id, school_type=SchoolType.vso, timeline_id="default",
        timeline_version=1, leave_date=date(2027, 7, 1), opened_at=OPENED,
    )  # fmt: skip


def test_rows_written_on_the_driver_read_back_as_rows_written_by_sqlalchemy(
    engine: Engine,
) -> None:
    """The same youth and trajectory inserted through SQLAlchemy and on the driver's cursor: every
    column reads back alike through the ORM (enums, dates, an aware timestamp), and the
    driver's query answers what SQLAlchemy's does, with the columns' own types."""
    region = build_region(engine)
    school = region.school_id
    with engine.begin() as connection:
        connection.execute(insert(YOUTH), youth_row("yth_sa", school, "A1"))
        connection.execute(insert(TRAJECTORY), trajectory_row("trj_sa", "yth_sa", school))
    add_youth = DriverStatement(insert(YOUTH), engine.dialect)
    add_trajectory = DriverStatement(insert(TRAJECTORY), engine.dialect)
    with driver_transaction(engine) as cursor:
        add_youth.execute(cursor, youth_row("yth_dr", school, "A2"))
        add_trajectory.execute(cursor, trajectory_row("trj_dr", "yth_dr", school))

    with Session(engine) as session:
        pairs = [
            (session.get(Youth, "yth_sa"), session.get(Youth, "yth_dr"), {"id", "school_ref"}),
            (
                session.get(Trajectory, "trj_sa"),
                session.get(Trajectory, "trj_dr"),
                {"id", "youth_id", "workflow_id"},
            ),
        ]
        for by_sqlalchemy, on_driver, differ in pairs:
            assert by_sqlalchemy is not None and on_driver is not None
            mine, theirs = by_sqlalchemy.model_dump(), on_driver.model_dump()
            assert {k: v for k, v in mine.items() if k not in differ} == {
                k: v for k, v in theirs.items() if k not in differ
            }
        trajectory = session.get(Trajectory, "trj_dr")
        assert trajectory is not None and trajectory.opened_at == OPENED

    query = select(YOUTH).where(YOUTH.c.id == "yth_dr")
    with engine.connect() as connection:
        expected = dict(connection.execute(query).mappings().one())
    with driver_transaction(engine) as cursor:
        found = DriverStatement(query, engine.dialect).one(cursor, {})
    assert found == expected
    assert found["school_type"] is SchoolType.vso and found["created_at"] == OPENED

    lookup = DriverStatement(LOOKUP, engine.dialect)
    with driver_transaction(engine) as cursor:
        found = lookup.one(
            cursor, {"school_id": school, "school_ref": "A2", "professional_id": "nobody"}
        )
    assert found == {
        "school_kind": OrganisationKind.school,
        "school_active": True,
        "professional_id": None,
        "youth_id": "yth_dr",
    }


def test_a_failed_statement_raises_sqlalchemys_error_and_leaves_nothing_written(
    engine: Engine,
) -> None:
    region = build_region(engine)
    add_youth = DriverStatement(insert(YOUTH), engine.dialect)
    with pytest.raises(IntegrityError), driver_transaction(engine) as cursor:
        add_youth.execute(cursor, youth_row("yth_1", region.school_id, "B1"))
        add_youth.execute(cursor, youth_row("yth_2", region.school_id, "B1"))  # the same pupil
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(YOUTH)).scalar_one() == 0

    query = DriverStatement(select(YOUTH.c.id).where(YOUTH.c.school_ref == "B9"), engine.dialect)
    with pytest.raises(NoResultFound), driver_transaction(engine) as cursor:
        query.one(cursor, {})
    with driver_transaction(engine) as cursor:
        add_youth.execute(cursor, youth_row("yth_3", region.school_id, "B3"))
        add_youth.execute(cursor, youth_row("yth_4", region.school_id, "B4"))
    every = DriverStatement(select(YOUTH.c.id), engine.dialect)
    with pytest.raises(MultipleResultsFound), driver_transaction(engine) as cursor:
        every.one(cursor, {})


def test_a_sqlite_file_held_by_another_writer_is_busy_as_sqlalchemy_says_it(
    sqlite_engine: Engine,
) -> None:
    """What ``Database.run`` waits out in a thread: the driver's "database is locked" arrives as
    SQLAlchemy's ``OperationalError``, recognised as busy, and nothing is written."""
    region = build_region(sqlite_engine)
    impatient = make_engine(sqlite_engine.url.render_as_string(), busy_timeout=0.01)
    add_youth = DriverStatement(insert(YOUTH), impatient.dialect)
    try:
        with another_writer(sqlite_engine):
            with pytest.raises(OperationalError) as raised, driver_transaction(impatient) as cursor:
                add_youth.execute(cursor, youth_row("yth_1", region.school_id, "C1"))
        assert is_busy(raised.value)
        with sqlite_engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(YOUTH)).scalar_one() == 0
    finally:
        impatient.dispose()
