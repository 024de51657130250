"""``PurgeWorkflow``: the daily retention purge (bewaartermijn), started by a Temporal Schedule
(:mod:`waakvlam.retention`). It passes its own workflow time to the activity, which removes the
personal data of trajectories closed longer than the retention period and returns counts only.

No signals, updates or queries.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import PurgeReport, PurgeRequest

RETRY = RetryPolicy(initial_interval=timedelta(seconds=30), maximum_interval=timedelta(minutes=10))


@workflow.defn
class PurgeWorkflow:
    @workflow.run
    async def run(self) -> PurgeReport:
        report: PurgeReport = await workflow.execute_activity(
            "purge_expired_trajectories",
            PurgeRequest(now=workflow.now()),
            result_type=PurgeReport,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RETRY,
        )
        return report
