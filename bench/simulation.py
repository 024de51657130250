"""Cohort simulation: ``waakvlam simulate`` against bare workflows with the same timers and
activities, on the time-skipping server.

    python -m bench simulation [--cohort 30] [--seed 1]

Product: :func:`waakvlam.simulation.simulate` (real ``TrajectoryWorkflow``s, enrollment, the
read-model activities on SQLite, partners acting through updates each simulated week). Then the
histories of its workflows are read, and the baseline runs, on the same server, one bare
workflow per youth with exactly that youth's number of timers, activities and local activities,
spread over the same simulated span and driven by the same weekly loop. Speed = simulated
youth-years per wall second; the ratio is product speed / baseline speed.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.common import BENCH_KEYS, Section, Stopwatch
from config.settings import DEFAULT_TIMELINE
from config.timeline import load_timeline
from waakvlam.simulation import report, simulate, start_server

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
    events = [e.event_type async for e in env.client.get_workflow_handle(workflow_id)
              .fetch_history_events()]  # fmt: skip
    return (
        events.count(EventType.EVENT_TYPE_TIMER_STARTED),
        events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
        events.count(EventType.EVENT_TYPE_MARKER_RECORDED),
    )


async def run(cohort: int, seed: int) -> Section:
    env = await start_server(BENCH_KEYS)
    try:
        workload = await simulate(env=env, timeline=load_timeline(DEFAULT_TIMELINE),
                                  cohort_size=cohort, seed=seed)  # fmt: skip
        counts = [await history_counts(env, wid) for wid in workload.workflow_ids]
        finished = Finished()
        queue = f"bare-{secrets.token_hex(3)}"
        async with Worker(env.client, task_queue=queue, workflows=[BareTimeline],
                          activities=[bare_tick, finished.bare_done]):  # fmt: skip
            with Stopwatch() as base:
                for n, (timers, acts, local) in enumerate(counts):
                    plan = BarePlan(timers=timers, activities=acts, local_activities=local,
                                    span_days=workload.days)  # fmt: skip
                    await env.client.start_workflow(BareTimeline.run, plan, id=f"{queue}-{n}",
                                                    task_queue=queue)  # fmt: skip
                while finished.count < len(counts):
                    await env.sleep(timedelta(days=7))
    finally:
        await env.shutdown()
    years = cohort * workload.days / 365.25
    product_speed, base_speed = years / workload.seconds, years / base.seconds
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
         f"{local:,} local activities", f"{base.seconds:.0f}", f"{base_speed:.2f}", "1.00", "", ""],
    ]  # fmt: skip
    section.notes = [
        f"{workload.days} simulated days per youth. Figures of this run: "
        f"{sum(workload.messages.values()):,} messages; reached a destination "
        f"{workload.reached_destination} of {cohort} ({workload.destination_share:.1%}).",
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
