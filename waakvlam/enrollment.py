"""Enrollment (aanmelding): a school registers a leaver and the trajectory starts.

Idempotent: the youth is identified by school and pupil number; enrolling twice returns the
existing trajectory and starts nothing new. The database row is written first, then the workflow
is started with a conflict policy that reuses a running one, so a retry after a crash in between
completes the job.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, bindparam, insert
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Dialect
from sqlmodel import Session
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)

from config.domain import SchoolType, VsoProfile
from config.timeline import Timeline
from store.base import new_id, new_row
from store.db import Database
from store.directory import Organisation, OrganisationKind, Professional
from store.driver import DriverStatement, driver_transaction
from store.trajectories import Trajectory
from store.youth import ConsentStatus, Youth
from workflows import search_attributes as sa
from workflows import trajectory_attributes as attributes
from workflows import trajectory_releases as releases
from workflows.dates import age_on, birthday, midday_utc
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import MAX_HISTORY_EVENTS, Enrollment, TrajectoryInput

MIN_AGE, MAX_AGE = 12, 27
# Enrolling many at once (``enroll_all``): the rows checked and written in one transaction
# (SQLite's write lock is held for one such batch, a few tens of milliseconds), and the starts
# in flight at a time.
ROWS_PER_TRANSACTION = 100
STARTS_IN_FLIGHT = 16


class EnrollmentRequest(BaseModel):
    school_id: str
    school_ref: str = Field(min_length=1, max_length=60)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    leave_date: date
    school_type: SchoolType
    vso_profile: VsoProfile | None = None
    case_director_id: str | None = None
    done_before_enrollment: list[str] = Field(default_factory=list)
    legal_representative_consent: ConsentStatus | None = None


class EnrollmentResult(BaseModel):
    trajectory_id: str
    youth_id: str
    created: bool


class EnrollmentError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class EnrollmentInterrupted(RuntimeError):
    """``enroll_all`` stopped part-way because a start failed (its cause: Temporal unreachable,
    say). ``outcomes`` holds one entry per request: its result if its trajectory started, its
    problems if it had any, None if it was not started. The rows written stay; running the same
    requests again finishes the job."""

    def __init__(self, outcomes: list[EnrollmentResult | EnrollmentError | None]) -> None:
        self.outcomes = outcomes
        super().__init__(f"enrollment stopped after {self.started} of {len(outcomes)} started")

    @property
    def started(self) -> int:
        """How many trajectories did start before it stopped."""
        return sum(isinstance(outcome, EnrollmentResult) for outcome in self.outcomes)


def tally(
    outcomes: Sequence[EnrollmentResult | EnrollmentError | None], skipped: int = 0
) -> dict[str, int]:
    """What a file's enrollments came to, as its audit entry and its report give it: youth
    enrolled now, youth enrolled before, and rows ``skipped`` (left out for their problems)."""
    enrolled = [outcome for outcome in outcomes if isinstance(outcome, EnrollmentResult)]
    created = sum(outcome.created for outcome in enrolled)
    return {"created": created, "existing": len(enrolled) - created, "skipped": skipped}


ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
PROFESSIONAL = Professional.__table__  # type: ignore[attr-defined]
YOUTH = Youth.__table__  # type: ignore[attr-defined]
TRAJECTORY = Trajectory.__table__  # type: ignore[attr-defined]
# Built once: building a statement costs more than running it on SQLite.
ADD_YOUTH, ADD_TRAJECTORY = insert(YOUTH), insert(TRAJECTORY)
THE_SCHOOL = ORGANISATION.c.id == bindparam("school_id")
# What the checks look up, in one statement: the school, the case director, and the youth if the
# school enrolled this pupil number before.
LOOKUP = sa_select(
    sa_select(ORGANISATION.c.kind).where(THE_SCHOOL).scalar_subquery().label("school_kind"),
    sa_select(ORGANISATION.c.active).where(THE_SCHOOL).scalar_subquery().label("school_active"),
    sa_select(PROFESSIONAL.c.id)
    .where(PROFESSIONAL.c.id == bindparam("professional_id"))
    .scalar_subquery()
    .label("professional_id"),
    sa_select(YOUTH.c.id)
    .where(YOUTH.c.school_id == bindparam("school_id"))
    .where(YOUTH.c.school_ref == bindparam("school_ref"))
    .scalar_subquery()
    .label("youth_id"),
)
YOUTH_ROW = YOUTH.select().where(YOUTH.c.id == bindparam("youth_id"))
TRAJECTORY_ROW = TRAJECTORY.select().where(TRAJECTORY.c.youth_id == bindparam("youth_id"))


def workflow_id(trajectory_id: str) -> str:
    return f"trajectory-{trajectory_id}"


def lookup_values(request: EnrollmentRequest) -> dict[str, str | None]:
    return {
        "school_id": request.school_id,
        "school_ref": request.school_ref,
        "professional_id": request.case_director_id,
    }


def check(
    db: Session | Connection, request: EnrollmentRequest, timeline: Timeline, today: date
) -> str | None:
    """Every problem of the request at once (``EnrollmentError``), or the id of the youth if the
    school enrolled this pupil number before (else None), on ``db``: the CSV preview's ORM
    session, say. Enrollment itself runs the same lookup on the driver (``Statements``)."""
    found = db.execute(LOOKUP, lookup_values(request)).mappings().one()
    return checked(found, request, timeline, today)


def checked(
    found: Mapping[Any, Any], request: EnrollmentRequest, timeline: Timeline, today: date
) -> str | None:
    """``check`` on what ``LOOKUP`` found for the request."""
    problems: list[str] = []
    if found["school_kind"] is not OrganisationKind.school:
        problems.append(f"school_id: unknown school {request.school_id!r}")
    elif not found["school_active"]:
        problems.append(f"school_id: school {request.school_id!r} is inactive")
    if request.birth_date >= today:
        problems.append("birth_date: must be in the past")
    elif not MIN_AGE <= age_on(request.birth_date, today) < MAX_AGE:
        problems.append(f"birth_date: the youth must be between {MIN_AGE} and {MAX_AGE - 1}")
    elif request.leave_date >= birthday(request.birth_date, MAX_AGE):
        problems.append("leave_date: after the youth turns 27")
    if request.school_type is SchoolType.vso and request.vso_profile is None:
        problems.append("vso_profile: required for a VSO pupil")
    if request.case_director_id and found["professional_id"] is None:
        problems.append(f"case_director_id: unknown professional {request.case_director_id!r}")
    known = {rule.id for rule in timeline.task} | {"aftercare_checkin"}
    for rule_id in request.done_before_enrollment:
        if rule_id not in known:
            problems.append(f"done_before_enrollment: unknown task {rule_id!r}")
    if problems:
        raise EnrollmentError(problems)
    return found["youth_id"]  # type: ignore[no-any-return]


Row = Mapping[Any, Any]  # a row's values by column name


def _new(request: EnrollmentRequest, timeline: Timeline) -> tuple[Row, Row]:
    """The new youth and trajectory rows, as plain values: building the models cost more than
    the inserts."""
    youth = new_row(
        Youth,
        id=new_id("yth"),
        first_name=request.first_name,
        last_name=request.last_name,
        birth_date=request.birth_date,
        school_id=request.school_id,
        school_ref=request.school_ref,
        school_type=request.school_type,
        vso_profile=request.vso_profile,
    )
    trajectory_id = new_id("trj")
    trajectory = new_row(
        Trajectory,
        id=trajectory_id,
        youth_id=youth["id"],
        workflow_id=workflow_id(trajectory_id),
        school_id=request.school_id,
        school_type=request.school_type,
        case_director_id=request.case_director_id,
        timeline_id=timeline.id,
        timeline_version=timeline.version,
        leave_date=request.leave_date,
    )
    return youth, trajectory


class Statements:
    """The database half's statements, compiled once for a dialect and run on the driver's
    cursor (``store.driver``): through SQLAlchemy's execution, connection and transaction
    they cost as much again as the statements themselves, for every youth enrolled."""

    def __init__(self, dialect: Dialect) -> None:
        self.lookup = DriverStatement(LOOKUP, dialect)
        self.add_youth = DriverStatement(ADD_YOUTH, dialect)
        self.add_trajectory = DriverStatement(ADD_TRAJECTORY, dialect)
        self.youth = DriverStatement(YOUTH_ROW, dialect)
        self.trajectory = DriverStatement(TRAJECTORY_ROW, dialect)

    _compiled: WeakKeyDictionary[Dialect, Statements] = WeakKeyDictionary()

    @classmethod
    def of(cls, engine: Engine) -> Statements:
        statements = cls._compiled.get(engine.dialect)
        if statements is None:
            statements = cls._compiled[engine.dialect] = cls(engine.dialect)
        return statements


def _register(
    cursor: Any,
    statements: Statements,
    request: EnrollmentRequest,
    timeline: Timeline,
    today: date,
) -> tuple[Row, Row, bool]:
    """The checks, then the youth and trajectory rows, inside a transaction. Enrolling the same
    youth again returns what exists."""
    found = statements.lookup.one(cursor, lookup_values(request))
    youth_id = checked(found, request, timeline, today)
    if youth_id is None:
        youth, trajectory = _new(request, timeline)
        statements.add_youth.execute(cursor, youth)
        statements.add_trajectory.execute(cursor, trajectory)
        return youth, trajectory, True
    youth = statements.youth.one(cursor, {"youth_id": youth_id})
    trajectory = statements.trajectory.one(cursor, {"youth_id": youth_id})
    return youth, trajectory, False


# What the database half hands the start: the workflow id, the workflow's enrollment, and
# whether the youth is new.
Prepared = tuple[str, Enrollment, bool]


def _prepared(
    cursor: Any,
    statements: Statements,
    request: EnrollmentRequest,
    timeline: Timeline,
    today: date,
) -> Prepared:
    youth, trajectory, created = _register(cursor, statements, request, timeline, today)
    enrollment = Enrollment(
        trajectory_id=trajectory["id"],
        youth_id=youth["id"],
        school_id=youth["school_id"],
        school_type=youth["school_type"],
        vso_profile=youth["vso_profile"],
        birth_date=youth["birth_date"],
        leave_date=trajectory["leave_date"],
        enrolled_on=today if created else trajectory["opened_at"].date(),
        case_director_id=trajectory["case_director_id"],
        timeline=timeline,
        done_before_enrollment=request.done_before_enrollment,
        legal_representative_consent=request.legal_representative_consent,
    )
    return trajectory["workflow_id"], enrollment, created


def _prepare(
    engine: Engine, request: EnrollmentRequest, timeline: Timeline, today: date
) -> Prepared:
    """The database half of enrollment (checks, the youth and trajectory rows): one transaction,
    safe to run again, so ``Database.run`` may retry it in a thread."""
    with driver_transaction(engine) as cursor:
        return _prepared(cursor, Statements.of(engine), request, timeline, today)


def _prepare_all(
    engine: Engine, requests: Sequence[EnrollmentRequest], timeline: Timeline, today: date
) -> list[Prepared | EnrollmentError]:
    """The database half of many enrollments in one transaction, with one commit instead of one
    each: every request's checks and rows as in ``_prepare``. A request with problems gets its
    ``EnrollmentError`` and the others go on. Safe to run again, like ``_prepare``."""
    prepared: list[Prepared | EnrollmentError] = []
    statements = Statements.of(engine)
    with driver_transaction(engine) as cursor:
        for request in requests:
            try:
                prepared.append(_prepared(cursor, statements, request, timeline, today))
            except EnrollmentError as error:
                prepared.append(error)
    return prepared


async def enroll(
    *,
    database: Database,
    client: Client,
    timeline: Timeline,
    request: EnrollmentRequest,
    task_queue: str,
    today: date,
    max_history_events: int = MAX_HISTORY_EVENTS,
) -> EnrollmentResult:
    workflow, enrollment, created = await database.run(_prepare, request, timeline, today)
    await start_trajectory(
        client, workflow, enrollment, task_queue=task_queue, today=today,
        max_history_events=max_history_events,
    )  # fmt: skip
    return EnrollmentResult(
        trajectory_id=enrollment.trajectory_id, youth_id=enrollment.youth_id, created=created
    )


async def enroll_all(
    *,
    database: Database,
    client: Client,
    timeline: Timeline,
    requests: Sequence[EnrollmentRequest],
    task_queue: str,
    today: date,
    concurrency: int = STARTS_IN_FLIGHT,
    max_history_events: int = MAX_HISTORY_EVENTS,
) -> list[EnrollmentResult | EnrollmentError]:
    """Many enrollments at once (a school's CSV file, a caseload taken over): the checks and
    rows of ``enroll``, written :data:`ROWS_PER_TRANSACTION` to a transaction, and the
    trajectories started ``concurrency`` at a time while the next rows are written. One
    outcome per request, in order: its result, or its problems (the other requests are
    enrolled all the same).

    If a start fails (Temporal unreachable), no further start is made, the starts already sent
    get their answers, and :class:`EnrollmentInterrupted` is raised from the failure, with what
    each request came to;
    the rows written stay, and running the same requests again starts what did not start
    (enrollment is idempotent, and a running trajectory is left be)."""
    outcomes: list[EnrollmentResult | EnrollmentError | None] = [None] * len(requests)
    gate, failed = asyncio.Semaphore(concurrency), asyncio.Event()

    async def start(index: int, workflow: str, enrollment: Enrollment, created: bool) -> None:
        async with gate:
            if failed.is_set():
                return  # an earlier start failed: its error is on its way to the caller
            try:
                await start_trajectory(
                    client, workflow, enrollment, task_queue=task_queue, today=today,
                    max_history_events=max_history_events,
                )  # fmt: skip
            except BaseException:
                failed.set()
                raise
        outcomes[index] = EnrollmentResult(
            trajectory_id=enrollment.trajectory_id, youth_id=enrollment.youth_id, created=created
        )

    # One transaction's starts run while the next transaction's rows are written; the one after
    # waits until the first's starts are done, so the rows written stay just ahead of the starts.
    started: list[asyncio.Task[None]] = []
    waves: deque[list[asyncio.Task[None]]] = deque()
    try:
        for first in range(0, len(requests), ROWS_PER_TRANSACTION):
            chunk = requests[first : first + ROWS_PER_TRANSACTION]
            wave = []
            for index, prepared in enumerate(
                await database.run(_prepare_all, chunk, timeline, today), first
            ):
                if isinstance(prepared, EnrollmentError):
                    outcomes[index] = prepared
                else:
                    wave.append(asyncio.create_task(start(index, *prepared)))
            started += wave
            waves.append(wave)
            if len(waves) > 1:
                await asyncio.gather(*waves.popleft())
        while waves:
            await asyncio.gather(*waves.popleft())
    except asyncio.CancelledError:
        for task in started:
            task.cancel()
        raise
    except Exception as failure:
        if not failed.is_set():
            raise  # the database half failed: nothing is started past it, and no start failed
        raise EnrollmentInterrupted(outcomes) from failure
    finally:
        # After a failure: the starts already sent get their answers (so ``outcomes`` says which
        # trajectories run), and those still waiting for the gate see ``failed`` and are not made.
        await asyncio.gather(*started, return_exceptions=True)
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(requests), "every request has its outcome"
    return done


async def start_trajectory(
    client: Client,
    workflow: str,
    enrollment: Enrollment,
    *,
    task_queue: str,
    today: date,
    max_history_events: int = MAX_HISTORY_EVENTS,
) -> None:
    """Start the youth's ``TrajectoryWorkflow`` (the second half of ``enroll``, after the rows
    are written), or leave the running one be. Its search attributes are there from the start."""
    timeline = enrollment.timeline
    await client.start_workflow(
        TrajectoryWorkflow.run,
        TrajectoryInput(
            enrollment=enrollment, max_history_events=max_history_events, release=releases.CURRENT
        ),
        id=workflow,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.SCHOOL_TYPE, enrollment.school_type.value),
                SearchAttributePair(sa.LEAVE_DATE, midday_utc(enrollment.leave_date)),
                SearchAttributePair(sa.TIMELINE, f"{timeline.id}@{timeline.version}"),
                # What the first run would write: it then writes only what changes.
                *attributes.at_start(enrollment, today),
            ]
        ),
    )
