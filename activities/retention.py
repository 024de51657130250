"""The retention purge: personal data of trajectories closed longer than the retention period
(``WAAKVLAM_RETENTION_MONTHS``, default 24) is removed, the anonymous counts stay.

:func:`purge_expired` is shared by the ``purge_expired_trajectories`` activity (run daily by
``PurgeWorkflow`` from a Temporal Schedule) and ``waakvlam purge``. Each youth is anonymised in
its own transaction, together with an audit entry, so a crash halfway loses nothing: the next
run simply finds the rest. What crosses into Temporal is counts and dates only.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from store.audit import record
from store.privacy import anonymise_youth, due_for_purge
from workflows.dates import add_months

log = logging.getLogger(__name__)


class PurgeRequest(BaseModel):
    now: datetime
    dry_run: bool = False


class PurgeReport(BaseModel):
    closed_before: datetime
    youth: int = 0
    guardians: int = 0
    trusted_persons: int = 0
    contact_methods: int = 0
    outbox_messages: int = 0
    dry_run: bool = False


def cutoff(now: datetime, retention_months: int) -> datetime:
    """Trajectories closed before this moment are due: ``now`` minus the retention period."""
    day = add_months(now.astimezone(UTC).date(), -retention_months)
    return datetime.combine(day, time(0), UTC)


def purge_expired(
    engine: Engine, *, now: datetime, retention_months: int, dry_run: bool = False
) -> PurgeReport:
    closed_before = cutoff(now, retention_months)
    report = PurgeReport(closed_before=closed_before, dry_run=dry_run)
    with Session(engine) as session:
        due = due_for_purge(session, closed_before=closed_before)
    report.youth = len(due)
    if dry_run:
        return report
    for youth_id in due:
        with Session(engine) as session:
            done = anonymise_youth(session, youth_id, at=now)
            record(
                session, actor_kind="system", actor_id="retention", action="purged",
                subject_kind="youth", subject_id=youth_id,
                detail={"reason": "retention", "retention_months": retention_months,
                        **done.counts()},
            )  # fmt: skip
            session.commit()
        report.guardians += done.guardians
        report.trusted_persons += done.trusted_persons
        report.contact_methods += done.contact_methods
        report.outbox_messages += done.outbox_messages
    log.info("retention purge: %d youth anonymised", report.youth)
    return report


class RetentionActivities:
    def __init__(self, engine: Engine, retention_months: int) -> None:
        self.engine = engine
        self.retention_months = retention_months

    @activity.defn(name="purge_expired_trajectories")
    def purge_expired_trajectories(self, request: PurgeRequest) -> PurgeReport:
        return purge_expired(
            self.engine,
            now=request.now,
            retention_months=self.retention_months,
            dry_run=request.dry_run,
        )
