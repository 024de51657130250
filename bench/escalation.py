"""Escalation latency: a call for help → the first SMS at the gateway, with many trajectories open.

    python -m bench escalation [--open 1000] [--calls 50]

Extends ``bench/escalation_latency.py`` (the on-call engineer's page-path benchmark) with the load
of this issue: first ``--open`` trajectories are enrolled and projected on the embedded dev
server, with the product's worker (all workflows and activities of ``waakvlam.worker``) running.
Then each call for help (``web.oncall_actions.call_for_help``, for one of the open trajectories)
is timed until the CM.com gateway emulator accepts the page to the jobcoach on call. Baseline:
the notification layer alone (``Notifier.notify`` of the same page, no Temporal), same run.
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
from sqlalchemy import Engine

from bench.common import Section, p50, percentile
from bench.escalation_latency import ANNA, wait_for_sms
from bench.scale import projected, wait_until
from bench.stack import embedded
from notifications.requests import MessageKind, NotifyRequest, Recipient
from store.directory import PersonKind
from tests.factories import Region
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import FakeSmtp
from tests.faults.stack import fault_worker, notification_services
from tests.oncall.conftest import add_mobile
from tests.oncall.world import build_oncall, monday_nine_before
from web import oncall_actions
from workflows.escalation_models import CallerKind, CallForHelp, HelpCategory, Urgency

NAME = "escalation"


def oncall_region(engine: Engine) -> Region:
    region = build_oncall(engine, monday_nine_before(datetime.now(UTC)))
    add_mobile(engine, "pro_anna", ANNA)
    return region


async def run(open_count: int, calls: int) -> Section:
    smtp, gateway = FakeSmtp(), SmsGateway()
    smtp.start()
    await gateway.start()
    samples: list[float] = []
    baseline: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp:
            overrides = smtp.settings_overrides() | gateway.settings_overrides("cm")
            async with embedded(Path(tmp), oncall_region, **overrides) as stack:
                async with httpx.AsyncClient(timeout=10) as http:
                    services = notification_services(stack.settings, stack.engine, http)
                    for n in range(calls):
                        request = NotifyRequest(
                            kind=MessageKind.oncall_page, urgent=True, reference=f"bench:{n}",
                            recipient=Recipient(kind=PersonKind.professional, id="pro_anna"),
                            facts={"ack_code": "1234"},
                        )  # fmt: skip
                        started = time.perf_counter()
                        await services.notifier.notify(request, datetime.now(UTC))
                        await wait_for_sms(gateway, n + 1)
                        baseline.append(time.perf_counter() - started)
                    seen = len(gateway.inbox(ANNA))
                    queue = stack.settings.temporal_task_queue
                    with ThreadPoolExecutor(max_workers=16) as executor:
                        async with fault_worker(stack.client, queue, stack.engine, services,
                                                executor):  # fmt: skip
                            ids = await stack.enroll_many(open_count)
                            await wait_until(lambda: projected(stack.engine, open_count)
                                             >= open_count, timeout=3600)  # fmt: skip
                            for n in range(calls):
                                started = time.perf_counter()
                                await oncall_actions.call_for_help(
                                    client=stack.client, engine=stack.engine, task_queue=queue,
                                    trajectory_id=ids[n % len(ids)],
                                    call=CallForHelp(caller_kind=CallerKind.coordinator,
                                                     category=HelpCategory.safety,
                                                     urgency=Urgency.immediate),
                                )  # fmt: skip
                                await wait_for_sms(gateway, seen + n + 1)
                                samples.append(time.perf_counter() - started)
    finally:
        await gateway.stop()
        smtp.stop()
    p95 = percentile(samples, 0.95)
    section = Section(
        NAME,
        f"Escalation latency: call for help → first SMS, {open_count:,} open trajectories",
        f"python -m bench escalation --open {open_count} --calls {calls}",
        ["path", "p50 (ms)", "p95 (ms)", "max (ms)", "goal", "met"],
    )
    section.rows = [
        ["call_for_help → EscalationWorkflow → page accepted by the gateway",
         f"{p50(samples) * 1000:.0f}", f"{p95 * 1000:.0f}", f"{max(samples) * 1000:.0f}",
         "p95 < 1000 ms", "yes" if p95 < 1.0 else "NO"],
        ["baseline: Notifier.notify of the same page (no Temporal)",
         f"{p50(baseline) * 1000:.0f}", f"{percentile(baseline, 0.95) * 1000:.0f}",
         f"{max(baseline) * 1000:.0f}", "", ""],
    ]  # fmt: skip
    section.notes = [
        f"{calls} calls, one after another, each for a different open trajectory; "
        f"p95 of the workflow path / baseline p95 = {p95 / percentile(baseline, 0.95):.1f}."
    ]
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--open", type=int, default=1000, help="open trajectories")
    parser.add_argument("--calls", type=int, default=50)


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.open, args.calls))
