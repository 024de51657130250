"""Scale: many open trajectories on the embedded stack.

    python -m bench scale [--trajectories 2000]

Enrolls the trajectories through ``enroll`` with the product's worker running in this process
(the workflows, activities and tuning of ``waakvlam.worker``, notification clock pinned to a
working moment by ``tests/faults/stack.py`` so night and weekend runs are not held by quiet
hours), then
measures:

- resident memory of this process (worker, client and enrollment) and of the dev server;
- the coordinator's dashboard queries of ``store/dashboard.py`` (stalled list, counts per
  phase, flag counts), each repeated, p50/p95; baseline: one trajectory by primary key;
- a reminder due for all of them at once: a new timeline version (one extra task, its reminder
  already due) is signalled to every trajectory (``migrate_timeline``, as many signals in flight
  as the worker has activity slots, so the trigger is "at once"); timed from the first signal
  until every reminder is accepted by the SMTP server. Baseline: the same number of emails sent
  straight through the SMTP channel with the worker's concurrency, without Temporal or the
  outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session, col, func, select
from temporalio.client import Client

from bench.common import Section, Stopwatch, p50, percentile
from bench.stack import embedded, rss_mib
from config.domain import Role
from config.timeline import TaskRule, Timeline
from notifications.channels import OutgoingEmail
from notifications.email_smtp import SmtpEmail
from store import dashboard
from store.trajectories import Trajectory
from tests.fakes.smtp import FakeSmtp
from tests.faults.stack import activities, notification_services, pinned_clock
from waakvlam.worker import MAX_ACTIVITIES, tuned_worker, workflows
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import MigrateTimeline

NAME = "scale"
CONCURRENCY = MAX_ACTIVITIES  # the worker's activity slots; the SMTP baseline sends as many at once


def with_extra_task(timeline: Timeline) -> Timeline:
    extra = TaskRule(id="bench_check", title_nl="Controle", title_en="Check",
                     owner=Role.case_director, anchor="enrollment", offset_days=3,
                     reminders_days_before=[7])  # type: ignore[arg-type]  # fmt: skip
    return timeline.model_copy(update={"version": timeline.version + 1,
                                       "task": [*timeline.task, extra]})  # fmt: skip


def projected(engine: object, count: int) -> int:
    with Session(engine) as session:  # type: ignore[arg-type]
        query = select(func.count()).where(col(Trajectory.projected_version) > 0)
        return int(session.exec(query).one())


def timed(fn: object, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return samples


async def wait_until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.25)


async def run(count: int) -> Section:
    smtp = FakeSmtp()
    smtp.start()
    rows: list[list[str]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp:
            async with embedded(Path(tmp), **smtp.settings_overrides()) as stack:
                async with httpx.AsyncClient() as http:
                    services = notification_services(stack.settings, stack.engine, http)
                    with ThreadPoolExecutor(max_workers=CONCURRENCY) as executor:
                        async with tuned_worker(
                            stack.client, task_queue=stack.settings.temporal_task_queue,
                            workflows=workflows(), executor=executor,
                            activities=activities(stack.engine, services, pinned_clock()),
                        ):  # fmt: skip
                            with Stopwatch() as enrolling:
                                ids = await stack.enroll_many(count)
                                await wait_until(lambda: projected(stack.engine, count) >= count,
                                                 timeout=3600)  # fmt: skip
                            worker_rss = rss_mib()
                            assert stack.server.process is not None
                            server_rss = rss_mib(stack.server.process.pid)
                            rows += dashboard_rows(stack.engine, ids[0])
                            signal = MigrateTimeline(timeline=with_extra_task(stack.timeline))
                            before = len(smtp.received)
                            with Stopwatch() as fan_out:
                                await signal_all(stack.client, ids, signal)
                                await wait_until(lambda: len(smtp.received) - before >= count,
                                                 timeout=3600)  # fmt: skip
                    with Stopwatch() as channel_only:
                        await send_direct(SmtpEmail(stack.settings), count)
    finally:
        smtp.stop()
    section = Section(
        NAME,
        f"Scale: {count:,} open trajectories on the embedded stack",
        f"python -m bench scale --trajectories {count}",
        ["measure", "product", "baseline", "ratio (product / baseline)"],
    )
    section.rows = [
        ["enroll and project all (s)", f"{enrolling.seconds:.0f}", "", ""],
        ["RSS of the bench process: worker + client (MiB)", f"{worker_rss:.0f}", "", ""],
        ["RSS of the Temporal dev server (MiB)", f"{server_rss:.0f}", "", ""],
        *rows,
        [f"a reminder due for all {count:,}: signal to last email at the SMTP server (s)",
         f"{fan_out.seconds:.1f}", f"{channel_only.seconds:.1f} (SMTP channel alone)",
         f"{fan_out.seconds / channel_only.seconds:.1f}"],
    ]  # fmt: skip
    section.notes = [
        "Dashboard figures are milliseconds over 30 runs each on SQLite, with the read model "
        "as the projection left it (every trajectory open, none contacted yet, so the stalled "
        "list has candidates everywhere). The worker runs in the bench process, so its RSS "
        "includes the client and the enrollment code. No goals were set for this benchmark."
    ]
    return section


def dashboard_rows(engine: object, some_id: str) -> list[list[str]]:
    scope, now = dashboard.Scope(region=True), datetime.now(UTC)
    with Session(engine) as session:  # type: ignore[arg-type]
        base = timed(lambda: session.get(Trajectory, some_id, populate_existing=True), 30)
        result = []
        for label, fn in (
            ("stalled list (50 rows)", lambda: dashboard.stalled(session, scope, now)),
            ("counts per phase", lambda: dashboard.count_by(session, scope, "phase")),
            ("flag counts", lambda: dashboard.flag_counts(session, scope)),
        ):
            samples = timed(fn, 30)
            result.append([
                f"dashboard {label}: p50 / p95 (ms)",
                f"{p50(samples) * 1000:.1f} / {percentile(samples, 0.95) * 1000:.1f}",
                f"{p50(base) * 1000:.2f} / {percentile(base, 0.95) * 1000:.2f} (one row by key)",
                f"{percentile(samples, 0.95) / percentile(base, 0.95):.0f}",
            ])  # fmt: skip
        return result


async def signal_all(client: Client, ids: list[str], signal: MigrateTimeline) -> None:
    """The trigger of "a reminder due for all at once": the signal to every trajectory, up to
    CONCURRENCY in flight. One at a time, the loop itself was the bottleneck (each signal waited
    for the server's answer while the worker was busy with the earlier ones: 300 signals took
    60 s, and the last email arrived 0.5 s after the last signal)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(tid: str) -> None:
        async with gate:
            handle = client.get_workflow_handle(f"trajectory-{tid}")
            await handle.signal(TrajectoryWorkflow.migrate_timeline, signal)

    await asyncio.gather(*(one(tid) for tid in ids))


async def send_direct(channel: SmtpEmail, count: int) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            await channel.send(OutgoingEmail("pro_case_director@example.org", "Herinnering",
                                             "Tekst", "<p>Tekst</p>", f"direct{n}"))  # fmt: skip

    await asyncio.gather(*(one(n) for n in range(count)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trajectories", type=int, default=1000, help="open trajectories")


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.trajectories))
