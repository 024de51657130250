"""Two small scheduled workflows of the notification layer.

- ``DigestWorkflow``: sends the daily digests of the local day it runs on (or of ``for_date``).
- ``DispatchWorkflow``: sends scheduled messages whose time has come (quiet hours over).

Both are started by Temporal Schedules (:mod:`notifications.schedules`); neither has signals,
updates or queries.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from notifications.digest import DigestReport
    from notifications.dispatch import DispatchReport
    from notifications.requests import DigestRequest, DispatchRequest

RETRY = RetryPolicy(initial_interval=timedelta(seconds=10), maximum_interval=timedelta(minutes=5))


class DigestInput(BaseModel):
    time_zone: str = "Europe/Amsterdam"
    for_date: date | None = None


@workflow.defn
class DigestWorkflow:
    @workflow.run
    async def run(self, params: DigestInput) -> DigestReport:
        day = params.for_date or workflow.now().astimezone(ZoneInfo(params.time_zone)).date()
        report: DigestReport = await workflow.execute_activity(
            "send_daily_digests",
            DigestRequest(for_date=day),
            result_type=DigestReport,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
        )
        return report


@workflow.defn
class DispatchWorkflow:
    @workflow.run
    async def run(self) -> DispatchReport:
        report: DispatchReport = await workflow.execute_activity(
            "dispatch_scheduled",
            DispatchRequest(now=workflow.now()),
            result_type=DispatchReport,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
        )
        return report
