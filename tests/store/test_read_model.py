"""The read model written by the trajectory's activities, on SQLite and PostgreSQL: projections
are upserts guarded by version, and roles resolve through the directory."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.trajectory import Projected, project, resolve
from config.domain import Phase, Role, SchoolType, TaskKind
from store.db import Database
from store.directory import PersonKind, Professional, RoleAssignment
from store.trajectories import TaskRow, TaskStatus, Trajectory, TrajectoryStatus
from store.youth import Consent, ConsentKind, ConsentStatus, Guardian, Youth
from tests.factories import build_region
from tests.threads import another_writer
from workflows.trajectory_models import Consents, ProjectedTask, Projection, ResolveRecipient

AT = datetime(2026, 9, 1, 9, tzinfo=UTC)


def seed(engine: Engine) -> None:
    region = build_region(engine)
    with Session(engine) as session:
        session.add(
            Youth(
                id="yth_1",
                first_name="Ada",
                last_name="Peters",
                birth_date=date(2009, 5, 1),
                school_id=region.school_id,
                school_ref="1",
                school_type=SchoolType.pro,
            )
        )
        session.flush()
        session.add(
            Trajectory(
                id="trj_1",
                youth_id="yth_1",
                workflow_id="trajectory-trj_1",
                school_id=region.school_id,
                school_type=SchoolType.pro,
                timeline_id="default",
                timeline_version=1,
                leave_date=date(2027, 7, 1),
            )
        )
        session.add(Guardian(id="grd_1", youth_id="yth_1", first_name="Piet", last_name="Peters"))
        session.commit()


def projection(version: int, status: TaskStatus, phase: Phase = Phase.orientation) -> Projection:
    return Projection(
        trajectory_id="trj_1",
        version=version,
        phase=phase,
        closed=False,
        closed_reason=None,
        destination=None,
        destination_organisation_id=None,
        case_director_id="pro_case_director",
        next_contact_id=None,
        timeline_id="default",
        timeline_version=1,
        next_due_task="case_meeting",
        next_due_date=date(2027, 1, 1),
        overdue_count=1,
        last_contact_at=None,
        no_destination=True,
        consent_pending=False,
        waakvlam=False,
        safety_net=False,
        consents=Consents(data_sharing=ConsentStatus.given),
        tasks=[
            ProjectedTask(
                key="case_meeting",
                rule_id="case_meeting",
                kind=TaskKind.task,
                role=Role.case_director,
                owner_id="pro_case_director",
                due=date(2027, 1, 1),
                status=status,
                escalated=False,
                completed_at=None,
                completed_by=None,
                reason=None,
            )
        ],
        at=AT,
    )


def test_projections_upsert_and_ignore_older_versions(engine: Engine) -> None:
    seed(engine)
    with Session(engine) as session:
        assert project(session, projection(3, TaskStatus.overdue)) is Projected.written
        session.commit()
        assert project(session, projection(5, TaskStatus.done, Phase.decision)) is Projected.written
        session.commit()
        assert project(session, projection(4, TaskStatus.open)) is Projected.ignored, (
            "a stale write is ignored"
        )
        session.commit()
    with Session(engine) as session:
        row = session.get(Trajectory, "trj_1")
        assert row is not None and row.projected_version == 5 and row.phase is Phase.decision
        task = session.exec(select(TaskRow)).one()
        assert (task.id, task.status) == ("trj_1:case_meeting", TaskStatus.done)
        consent = session.exec(select(Consent)).one()
        assert (consent.kind, consent.status) == (ConsentKind.data_sharing, ConsentStatus.given)


def test_a_projection_writes_only_the_tasks_that_changed(engine: Engine) -> None:
    seed(engine)
    with Session(engine) as session:
        assert project(session, projection(1, TaskStatus.open)) is Projected.written
        session.commit()
    later = projection(2, TaskStatus.open).model_copy(update={"at": AT.replace(hour=20)})
    with Session(engine) as session:
        assert project(session, later) is Projected.written  # the same task, unchanged
        assert not [o for o in session.dirty | session.new if isinstance(o, TaskRow)]
        session.commit()
        task = session.exec(select(TaskRow)).one()
        assert task.updated_at == AT, "an unchanged task keeps its time of last change"
    changed = projection(3, TaskStatus.done).model_copy(update={"at": AT.replace(hour=21)})
    with Session(engine) as session:
        assert project(session, changed) is Projected.written
        session.commit()
        task = session.exec(select(TaskRow)).one()
        assert (task.status, task.updated_at) == (TaskStatus.done, AT.replace(hour=21))


def test_a_projection_closes_once_and_follows_a_changed_consent(engine: Engine) -> None:
    seed(engine)
    with Session(engine) as session:
        assert project(session, projection(1, TaskStatus.open)) is Projected.written
        session.commit()
    refused = projection(2, TaskStatus.open).model_copy(
        update={"consents": Consents(data_sharing=ConsentStatus.refused)}
    )
    closed = refused.model_copy(
        update={
            "version": 3,
            "closed": True,
            "closed_reason": "aftercare_done",
            "at": AT.replace(hour=20),
        }
    )
    again = closed.model_copy(update={"version": 4, "at": AT.replace(hour=21)})
    for step in (refused, closed, again):
        with Session(engine) as session:
            assert project(session, step) is Projected.written
            session.commit()
    with Session(engine) as session:
        consent = session.exec(select(Consent)).one()
        assert consent.status is ConsentStatus.refused and consent.answered_at is not None
        assert consent.answered_at > AT, "a changed answer is dated when it is projected"
        row = session.get(Trajectory, "trj_1")
        assert row is not None and row.status is TrajectoryStatus.closed
        assert (row.closed_reason, row.closed_at) == ("aftercare_done", AT.replace(hour=20))
        assert (row.projected_version, row.updated_at) == (4, AT.replace(hour=21))


def test_roles_resolve_through_the_directory_school_first(engine: Engine) -> None:
    seed(engine)
    request = ResolveRecipient(
        trajectory_id="trj_1", role=Role.mentor, youth_id="yth_1", school_id="org_school"
    )
    with Session(engine) as session:
        assert [r.id for r in resolve(session, request)] == ["pro_mentor"]
        # A region-wide mentor does not beat the school's own; an inactive one is skipped.
        session.add(RoleAssignment(professional_id="pro_spare", role=Role.mentor))
        mentor = session.get(Professional, "pro_mentor")
        assert mentor is not None
        mentor.active = False
        session.add(mentor)
        session.commit()
        assert [r.id for r in resolve(session, request)] == ["pro_spare"]
        guardians = resolve(session, request.model_copy(update={"role": Role.legal_representative}))
        assert [(r.kind, r.id) for r in guardians] == [(PersonKind.guardian, "grd_1")]
        # No destination contact yet: the case director keeps the check-in.
        nxt = resolve(
            session,
            request.model_copy(update={"role": Role.next_contact, "case_director_id": "pro_x"}),
        )
        assert [r.id for r in nxt] == ["pro_x"]


def changes_only(since: int, version: int, *tasks: ProjectedTask) -> Projection:
    return projection(version, TaskStatus.open).model_copy(
        update={"tasks": list(tasks), "consents": Consents(), "complete": False, "since": since,
                "at": AT.replace(hour=20)}
    )  # fmt: skip


def seeded_and_projected(engine: Engine, version: int) -> None:
    """The region, and a whole projection of ``version`` with one open task."""
    seed(engine)
    with Session(engine) as session:
        assert project(session, projection(version, TaskStatus.open)) is Projected.written
        session.commit()


def test_changes_only_write_their_tasks_and_leave_the_others(engine: Engine) -> None:
    seeded_and_projected(engine, 1)
    meeting = projection(1, TaskStatus.open).tasks[0]
    new = meeting.model_copy(update={"key": "plan", "rule_id": "plan"})
    done = meeting.model_copy(update={"status": TaskStatus.done, "completed_by": "pro_x"})
    with Session(engine) as session:
        assert project(session, changes_only(1, 2, new)) is Projected.written
        session.commit()
        assert project(session, changes_only(2, 3, done)) is Projected.written
        session.commit()
    with Session(engine) as session:
        rows = {t.key: t for t in session.exec(select(TaskRow))}
        assert set(rows) == {"case_meeting", "plan"}, "a task not in the changes stays"
        assert rows["plan"].status is TaskStatus.open and rows["plan"].updated_at == AT.replace(
            hour=20
        )
        assert (rows["case_meeting"].status, rows["case_meeting"].completed_by) == (
            TaskStatus.done, "pro_x")  # fmt: skip
        consent = session.exec(select(Consent)).one()
        assert consent.status is ConsentStatus.given, "a consent not in the changes stays"
        row = session.get(Trajectory, "trj_1")
        assert row is not None and row.projected_version == 3


def test_changes_that_do_not_follow_the_stored_version_are_not_written(engine: Engine) -> None:
    seeded_and_projected(engine, 4)
    done = projection(1, TaskStatus.done).tasks[0]
    with Session(engine) as session:
        assert project(session, changes_only(2, 5, done)) is Projected.behind
        assert project(session, changes_only(4, 3, done)) is Projected.ignored, "older still"
        session.commit()
    with Session(engine) as session:
        row = session.get(Trajectory, "trj_1")
        assert row is not None and row.projected_version == 4
        assert session.exec(select(TaskRow)).one().status is TaskStatus.open


async def test_on_sqlite_the_read_model_is_written_on_the_event_loop_unless_busy(
    engine: Engine,
) -> None:
    """SQLite: on the event loop, with no thread to wait for the interpreter lock in; if another
    writer holds the database past AT_ONCE_WAIT, in a thread that waits for it. PostgreSQL: in a
    thread."""
    seed(engine)
    database = Database.of(engine)
    assert (database.at_once is not None) is (engine.dialect.name == "sqlite")
    calls: list[tuple[bool, bool]] = []  # (on the loop's thread, with the engine waiting briefly)

    def write(used: Engine, p: Projection) -> Projected:
        calls.append((threading.current_thread() is threading.main_thread(), used is not engine))
        with Session(used) as session:
            outcome = project(session, p)
            session.commit()
            return outcome

    assert await database.run(write, projection(1, TaskStatus.open)) is Projected.written
    if engine.dialect.name != "sqlite":
        assert calls == [(False, False)]
        return
    assert calls == [(True, True)]
    assert database.at_once is not None
    assert database.at_once.url.database == engine.url.database
    calls.clear()
    with another_writer(engine):
        pending = asyncio.create_task(database.run(write, projection(2, TaskStatus.done)))
        await asyncio.sleep(0.3)
        assert not pending.done(), "waits for the lock, in a thread"
    assert await pending is Projected.written
    assert calls == [(True, True), (False, False)]
    with Session(engine) as session:
        assert session.exec(select(TaskRow)).one().status is TaskStatus.done
    database.at_once.dispose()
