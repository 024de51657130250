"""The embedded stack for the benchmarks: a file-persisted Temporal dev server (``DevServer``, as
``waakvlam dev`` starts it) on free loopback ports in a temporary directory, a migrated SQLite
file with the small region of ``tests.factories``, and helpers to enroll youth through
``waakvlam.enrollment.enroll`` and to read a process's resident memory."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client

from bench.common import bench_settings
from config.domain import Role, SchoolType
from config.settings import DEFAULT_TIMELINE, Settings
from config.timeline import Timeline, load_timeline
from store.base import new_id
from store.db import Database, make_engine, migrate
from tests.factories import Region, build_region
from tests.fakes.smtp import free_port
from waakvlam.devserver import DevServer
from waakvlam.enrollment import EnrollmentRequest, EnrollmentResult, enroll, enroll_all
from waakvlam.runtime import connect_ready
from workflows.dates import add_months, local_date
from workflows.trajectory_models import Enrollment


@dataclass
class Embedded:
    settings: Settings
    server: DevServer
    client: Client
    database: Database
    region: Region
    timeline: Timeline

    @property
    def engine(self) -> Engine:
        return self.database.engine

    @property
    def today(self) -> date:
        return local_date(datetime.now(UTC))

    def request(self, n: int, leave_in_months: int = 12) -> EnrollmentRequest:
        today = self.today
        return EnrollmentRequest(
            school_id=self.region.school_id, school_ref=f"B{n:06d}", first_name="Bench",
            last_name="Youth", birth_date=add_months(today, -12 * 16 - 5),
            leave_date=add_months(today, leave_in_months), school_type=SchoolType.pro,
            case_director_id=self.region.holder(Role.case_director),
        )  # fmt: skip

    def enrollment(self, n: int) -> Enrollment:
        """A new trajectory's enrollment for pupil ``n``, as ``enroll`` would make it, built in
        memory (no rows written)."""
        request = self.request(n)
        return Enrollment(
            trajectory_id=new_id("trj"), youth_id=new_id("yth"), school_id=request.school_id,
            school_type=request.school_type, birth_date=request.birth_date,
            leave_date=request.leave_date, enrolled_on=self.today,
            case_director_id=request.case_director_id, timeline=self.timeline,
        )  # fmt: skip

    async def enroll_many(
        self,
        count: int,
        *,
        first: int = 0,
        concurrency: int = 16,
        leave_in_months: int = 12,
        task_queue: str | None = None,
    ) -> list[str]:
        gate = asyncio.Semaphore(concurrency)
        ids: list[str] = []

        async def one(n: int) -> None:
            async with gate:
                result = await enroll(
                    database=self.database, client=self.client, timeline=self.timeline,
                    request=self.request(n, leave_in_months),
                    task_queue=task_queue or self.settings.temporal_task_queue,
                    today=self.today,
                )  # fmt: skip
                ids.append(result.trajectory_id)

        await asyncio.gather(*(one(n) for n in range(first, first + count)))
        return ids

    async def import_many(
        self, count: int, *, first: int = 0, concurrency: int = 16, task_queue: str | None = None
    ) -> list[str]:
        """Pupils ``first`` to ``first + count`` enrolled as one file is (``enroll_all``, the CSV
        import's path): ``concurrency`` starts in flight, as ``enroll_many`` has enrollments."""
        outcomes = await enroll_all(
            database=self.database, client=self.client, timeline=self.timeline,
            requests=[self.request(n) for n in range(first, first + count)],
            task_queue=task_queue or self.settings.temporal_task_queue, today=self.today,
            concurrency=concurrency,
        )  # fmt: skip
        ids = [o.trajectory_id for o in outcomes if isinstance(o, EnrollmentResult)]
        if len(ids) != count:
            raise RuntimeError(f"{count - len(ids)} of {count} not enrolled: {outcomes[:3]}")
        return ids


@asynccontextmanager
async def embedded(
    data_dir: Path, region_builder: Callable[[Engine], Region] = build_region, **overrides: Any
) -> AsyncIterator[Embedded]:
    settings = bench_settings(
        data_dir, temporal_address=f"127.0.0.1:{free_port()}", temporal_ui_port=free_port(),
        temporal_task_queue="bench", **overrides,
    )  # fmt: skip
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    region = region_builder(engine)
    database = Database.of(engine)
    server = DevServer(settings)
    await server.start()
    try:
        client = await connect_ready(settings)
        timeline = load_timeline(DEFAULT_TIMELINE)
        yield Embedded(settings, server, client, database, region, timeline)
    finally:
        server.stop()
        database.dispose()


def rss_mib(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), from /proc."""
    with open(f"/proc/{pid or os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
