"""Crash at scale: kill -9 of the worker process while notices are going out.

    python -m bench faults [--fault-trajectories 100]

The stack of ``tests/faults`` (file-persisted dev server, the worker as its own process from
``tests.faults.worker_process``, the fake SMTP server): youth are enrolled two months before
leaving, so each has ten notices due at once. When 40% of all notices have reached the SMTP
server, the worker gets SIGKILL and a new one starts at once. Counted at the server by our
reference: every notice must arrive at most once. An email row is claimed only once the SMTP
server has accepted its recipient, just before DATA (``docs/notifications.md``): a send cut off
before that is still ``pending`` and is retried; only a send cut off during DATA is settled by the
at-most-once rule: never resent blindly, it ends ``failed`` with ``outcome_unknown``, in the
coordinator's list. Baseline: the same run without a kill (time to the last notice).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Section
from config.settings import Settings
from store.db import make_engine, migrate
from store.outbox import OutboxStatus
from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.smtp import FakeSmtp
from tests.faults.conftest import Stack, stack_environment
from tests.faults.stack import arrivals, enroll_late, in_flight, outbox, seed_network
from waakvlam.devserver import DevServer
from waakvlam.runtime import connect_ready
from workflows.dates import local_date

NAME = "faults"
PER_TRAJECTORY = 10


async def one_run(count: int, kill: bool) -> dict[str, float]:
    smtp, gateway = FakeSmtp(), SmsGateway()
    smtp.start()
    await gateway.start()
    try:
        with tempfile.TemporaryDirectory(prefix="wv-bench-") as tmp:
            env = stack_environment(Path(tmp), smtp, gateway)
            settings = Settings(_env_file=None, **{  # type: ignore[call-arg]
                k.removeprefix("WAAKVLAM_").lower(): v for k, v in env.items()
                if k.startswith("WAAKVLAM_")})  # fmt: skip
            engine = make_engine(settings.resolved_database_url)
            migrate(engine)
            region = seed_network(engine)
            server = DevServer(settings)
            await server.start()
            stack = Stack(settings, env, engine, region, server, await connect_ready(settings))
            try:
                await stack.start_worker()
                started = time.monotonic()
                await enroll_late(engine=engine, client=stack.client, region=region,
                                  task_queue="faults", today=local_date(datetime.now(UTC)),
                                  count=count)  # fmt: skip
                expected = count * PER_TRAJECTORY
                at_kill = 0
                if kill:
                    while len(smtp.messages) < expected * 0.4:
                        await asyncio.sleep(0.05)
                    stack.kill_worker()
                    at_kill = len(smtp.messages)
                    await stack.start_worker()
                deadline = time.monotonic() + 900
                while len(outbox(engine)) < expected or in_flight(engine) > 0:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the outbox did not settle in 15 minutes")
                    await asyncio.sleep(0.5)
                seconds = time.monotonic() - started
                rows = outbox(engine)
                seen = arrivals(smtp, None)
                statuses = Counter(r.status for r in rows)
                sent_ids = {f"wv{r.id}" for r in rows if r.status is OutboxStatus.sent}
                return {
                    "expected": expected, "rows": len(rows), "seconds": seconds,
                    "arrived": len(seen), "duplicates": sum(1 for n in seen.values() if n > 1),
                    "sent": statuses[OutboxStatus.sent], "failed": statuses[OutboxStatus.failed],
                    "failed_but_arrived": sum(
                        1 for r in rows if r.status is OutboxStatus.failed and f"wv{r.id}" in seen
                    ),
                    "sent_and_arrived": len(sent_ids & set(seen)),
                    "lost": sum(1 for r in rows if r.status is not OutboxStatus.failed
                                and f"wv{r.id}" not in seen),
                    "at_kill": at_kill,
                }  # fmt: skip
            finally:
                stack.stop()
    finally:
        await gateway.stop()
        smtp.stop()


async def run(count: int) -> Section:
    base = await one_run(count, kill=False)
    crash = await one_run(count, kill=True)
    section = Section(
        NAME,
        f"Crash: kill -9 of the worker while {count * PER_TRAJECTORY:,} notices of {count} "
        "trajectories go out",
        f"python -m bench faults --fault-trajectories {count}",
        ["run", "notices due", "outbox rows", "arrived at SMTP", "arrived twice", "sent",
         "failed (outcome_unknown)", "of which arrived", "lost unseen", "seconds to settle"],
    )  # fmt: skip
    for label, r in (
        ("baseline: no crash", base),
        (f"kill -9 at 40% ({crash['at_kill']:.0f} arrived), restart", crash),
    ):
        section.rows.append([label, *(f"{r[k]:.0f}" for k in (
            "expected", "rows", "arrived", "duplicates", "sent", "failed",
            "failed_but_arrived", "lost", "seconds"))])  # fmt: skip
    section.notes = [
        "Goal: nothing twice, nothing lost unseen. A trajectory sends its notices as local "
        "activities inside its workflow task: a task cut off by the kill times out on the server "
        "and runs again on the restarted worker, which replays the history and sends what has "
        "no recorded result; the outbox answers `already_sent` for what went out. An email row is "
        "claimed (`sending`) only once the SMTP server has accepted the recipient, just before "
        "DATA: a send cut off before that left its row `pending`, and the retry sends it. A "
        "send cut off during DATA left its row `sending`: the outbox does not resend it (a "
        "duplicate is worse than a late message) and, with no delivery report for email, marks "
        "it failed with `outcome_unknown`, where the coordinator sees it; at most one per "
        'pooled SMTP session can be in DATA at the moment of the kill. "Lost unseen" counts '
        "rows not marked failed whose message never arrived. The kill-free baseline shows the "
        "time the same work takes without a crash."
    ]
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fault-trajectories", type=int, default=100,
                        help="trajectories with notices due when the worker is killed")  # fmt: skip


def main(args: argparse.Namespace) -> Section:
    return asyncio.run(run(args.fault_trajectories))
