"""Cohort simulation: ``waakvlam simulate`` against bare workflows with the same timers and
activities, on the time-skipping server.

    python -m bench simulation [--cohort 30] [--seed 1]

Product: :func:`waakvlam.simulation.simulate` (real ``TrajectoryWorkflow``s, enrollment, the
read-model activities on SQLite, partners acting through updates each simulated week) on its own
time-skipping server. Then the histories of its workflows are read (every run of a workflow that
continued as new), that server is shut down, and the baseline runs on a fresh one: the same
binary and settings (:func:`waakvlam.simulation.start_server`), the product's worker tuning
(``tuned_worker``), one bare workflow per youth with exactly that youth's number of timers,
activities and local activities, spread over the same simulated span and driven by the same
weekly loop (``env.sleep`` of a week until all are done; nobody waits on ``handle.result()``).
Speed = simulated youth-years per wall second; the ratio is product speed / baseline speed.

Why two servers: at a cohort of 650 the baseline that followed the product on the product's
server failed with an ``h2 protocol error`` from the test server, while the same baseline at
650 on a fresh server completes; one server per side also keeps the product's leftovers (its
closed workflows and histories) out of the baseline's time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from bench.common import BENCH_KEYS, Section, Stopwatch
from config.settings import DEFAULT_TIMELINE
from config.timeline import load_timeline
from waakvlam.simulation import Workload, report, simulate, start_server
from waakvlam.worker import tuned_worker

NAME = "simulation"


class BarePlan(BaseModel):
    timers: int
    activities: int
    local_activities: int
    span_days: int


@activity.defn(name="bare_tick")
async def bare_tick(n: int) -> int:
    return n


@dataclass
class Finished:
    count: int = 0

    @activity.defn(name="bare_done")
    async def bare_done(self) -> None:
        self.count += 1


@workflow.defn(sandboxed=False)
class BareTimeline:
    """The baseline: timers and activities only, no logic."""

    @workflow.run
    async def run(self, plan: BarePlan) -> None:
        step = timedelta(days=plan.span_days) / max(1, plan.timers)
        timeout = timedelta(seconds=30)
        for i in range(plan.timers):
            await workflow.sleep(step)
            for _ in range(plan.activities // plan.timers + (i < plan.activities % plan.timers)):
                await workflow.execute_activity(bare_tick, i, start_to_close_timeout=timeout)
            share = plan.local_activities // plan.timers + (i < plan.local_activities % plan.timers)
            for _ in range(share):
                await workflow.execute_local_activity(bare_tick, i, start_to_close_timeout=timeout)
        await workflow.execute_activity("bare_done", start_to_close_timeout=timeout)


async def history_counts(env: WorkflowEnvironment, workflow_id: str) -> tuple[int, int, int]:
    """Timers started, activities scheduled and local activities (markers) of a workflow, over
    every run of it: from the latest run back through the runs it continued as new from."""
    timers = activities = markers = 0
    run_id: str | None = None
    while True:
        handle = env.client.get_workflow_handle(workflow_id, run_id=run_id)
        run_id = None
        async for event in handle.fetch_history_events():
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                started = event.workflow_execution_started_event_attributes
                run_id = started.continued_execution_run_id
            timers += kind == EventType.EVENT_TYPE_TIMER_STARTED
            activities += kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            markers += kind == EventType.EVENT_TYPE_MARKER_RECORDED
        if not run_id:
            return timers, activities, markers


def _server_cpu() -> float:
    """CPU seconds of this process's child processes still running (the test server), from
    /proc; 0 where there is no /proc."""
    total = 0.0
    try:
        for task in Path("/proc/self/task").iterdir():
            for child in (task / "children").read_text().split():
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
    return total


@dataclass
class Cpu:
    """CPU seconds of one side: this Python process (all threads) and the test server."""

    python: float = 0.0
    server: float = 0.0


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def run_product(cohort: int, seed: int) -> tuple[Workload, list[tuple[int, int, int]], Cpu]:
    env = await start_server(BENCH_KEYS)
    try:
        began = _own_cpu()
        workload = await simulate(env=env, timeline=load_timeline(DEFAULT_TIMELINE),
                                  cohort_size=cohort, seed=seed)  # fmt: skip
        cpu = Cpu(_own_cpu() - began, _server_cpu())
        counts = [await history_counts(env, wid) for wid in workload.workflow_ids]
    finally:
        await env.shutdown()
    return workload, counts, cpu


async def run_baseline(plans: list[BarePlan]) -> tuple[float, Cpu]:
    """The bare workflows on a fresh time-skipping server and the product's worker tuning,
    driven a week at a time until every one has finished; returns wall seconds and CPU."""
    env = await start_server(BENCH_KEYS)
    try:
        finished = Finished()
        queue = f"bare-{secrets.token_hex(3)}"
        began = _own_cpu()
        # Timed like the product's run: with the worker's start and shutdown.
        with Stopwatch() as base:
            async with tuned_worker(env.client, task_queue=queue, workflows=[BareTimeline],
                                    activities=[bare_tick, finished.bare_done]):  # fmt: skip
                for n, plan in enumerate(plans):
                    await env.client.start_workflow(BareTimeline.run, plan, id=f"{queue}-{n}",
                                                    task_queue=queue)  # fmt: skip
                while finished.count < len(plans):
                    await env.sleep(timedelta(days=7))
        cpu = Cpu(_own_cpu() - began, _server_cpu())
    finally:
        await env.shutdown()
    return base.seconds, cpu


async def run(cohort: int, seed: int) -> Section:
    workload, counts, product_cpu = await run_product(cohort, seed)
    plans = [BarePlan(timers=timers, activities=acts, local_activities=local,
                      span_days=workload.days) for timers, acts, local in counts]  # fmt: skip
    base_seconds, base_cpu = await run_baseline(plans)
    years = cohort * workload.days / 365.25
    product_speed, base_speed = years / workload.seconds, years / base_seconds
    ratio = product_speed / base_speed
    timers = sum(c[0] for c in counts)
    activities = sum(c[1] for c in counts)
    local = sum(c[2] for c in counts)
    section = Section(
        NAME,
        f"Cohort simulation: {cohort} youth through the whole timeline (time-skipping server)",
        f"python -m bench simulation --cohort {cohort} --seed {seed}",
        ["what", "wall seconds", "youth-years / s", "ratio to baseline", "goal", "met"],
    )
    section.rows = [
        [f"waakvlam.simulation.simulate ({workload.actions} partner actions)",
         f"{workload.seconds:.0f}", f"{product_speed:.2f}", f"{ratio:.2f}", "≥ 0.6",
         "yes" if ratio >= 0.6 else "NO"],
        [f"baseline: bare workflows, {timers:,} timers, {activities:,} activities, "
         f"{local:,} local activities", f"{base_seconds:.0f}", f"{base_speed:.2f}", "1.00", "", ""],
    ]  # fmt: skip
    section.notes = [
        f"{workload.days} simulated days per youth. Figures of this run: "
        f"{sum(workload.messages.values()):,} messages; reached a destination "
        f"{workload.reached_destination} of {cohort} ({workload.destination_share:.1%}).",
        "",
        f"CPU seconds: product {product_cpu.python:.0f} in Python (all threads) and "
        f"{product_cpu.server:.0f} in the test server; baseline {base_cpu.python:.0f} and "
        f"{base_cpu.server:.0f}. Each side runs on its own time-skipping server (same binary and "
        "settings) and the product's worker tuning.",
        "",
        "<details><summary>The simulation's report</summary>",
        "",
        "```",
        *report(workload),
        "```",
        "</details>",
    ]
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cohort", type=int, default=30, help="youth in the simulated cohort")
    parser.add_argument("--seed", type=int, default=1)


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.cohort, args.seed))
