"""The data subject's rights, end to end, for the web app and the command line alike:

- :func:`export_for` — everything held about one youth, with an ``exported`` audit entry;
- :func:`erase` — erasure on request: the running trajectory workflow (and an open escalation)
  is terminated with the reason ``erasure``, the read model closes with that reason, the personal
  data is removed as the retention purge would, and the audit log keeps who did it and when;
- :func:`audit_log` and :func:`audit_csv` — the audit log for the coordinator.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from store.audit import AuditEntry, record
from store.directory import Professional
from store.privacy import UnknownYouth, anonymise_youth, close_for_erasure, export_youth
from store.trajectories import Trajectory
from store.youth import Youth
from workflows.escalation import workflow_id_for

ERASURE = "erasure"
AUDIT_COLUMNS = ("id", "at", "actor_kind", "actor_id", "action", "subject_kind", "subject_id")


class UnknownProfessional(LookupError):
    def __init__(self, professional_id: str) -> None:
        super().__init__(f"no active professional with id {professional_id!r}")


@dataclass(frozen=True)
class ErasureReport:
    youth_id: str
    trajectory_id: str | None
    workflows_terminated: list[str]
    removed: dict[str, int]
    already_erased: bool


def export_for(engine: Engine, youth_id: str, *, actor_kind: str, actor_id: str | None) -> Any:
    with Session(engine) as session:
        if session.get(Youth, youth_id) is None:
            raise UnknownYouth(youth_id)
        record(session, actor_kind=actor_kind, actor_id=actor_id, action="exported",
               subject_kind="youth", subject_id=youth_id)  # fmt: skip
        session.commit()
        return export_youth(session, youth_id)


async def _terminate(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).terminate(reason=ERASURE)
    except RPCError as error:  # not found, or already closed: nothing to stop
        if error.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise
        return False
    return True


async def erase(
    *, engine: Engine, client: Client, youth_id: str, by: str, now: datetime
) -> ErasureReport:
    """Erase one youth on request (AVG art. 17); ``by`` is the professional who decided it."""
    with Session(engine) as session:
        youth = session.get(Youth, youth_id)
        if youth is None:
            raise UnknownYouth(youth_id)
        actor = session.get(Professional, by)
        if actor is None or not actor.active:
            raise UnknownProfessional(by)
        trajectory = session.exec(select(Trajectory).where(Trajectory.youth_id == youth_id)).first()
        already = youth.purged_at is not None
    stopped: list[str] = []
    if trajectory is not None:
        for workflow_id in (trajectory.workflow_id, workflow_id_for(trajectory.id, "")):
            if await _terminate(client, workflow_id):
                stopped.append(workflow_id)
    with Session(engine) as session:
        close_for_erasure(session, youth_id, at=now)
        done = anonymise_youth(session, youth_id, at=now)
        record(
            session, actor_kind="professional", actor_id=by, action="erased",
            subject_kind="youth", subject_id=youth_id,
            detail={"reason": ERASURE, "workflows_terminated": stopped, **done.counts()},
        )  # fmt: skip
        session.commit()
    return ErasureReport(
        youth_id=youth_id,
        trajectory_id=trajectory.id if trajectory else None,
        workflows_terminated=stopped,
        removed=done.counts(),
        already_erased=already,
    )


def audit_log(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    limit: int = 10_000,
) -> list[AuditEntry]:
    query = select(AuditEntry)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    if until is not None:
        query = query.where(col(AuditEntry.at) < until)
    if subject_kind is not None:
        query = query.where(AuditEntry.subject_kind == subject_kind)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    query = query.order_by(col(AuditEntry.at), col(AuditEntry.id)).limit(limit)
    return list(session.exec(query).all())


def audit_csv(entries: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*AUDIT_COLUMNS, "detail"])
    for entry in entries:
        row = entry.model_dump(mode="json")
        writer.writerow(
            [*(_cell(row[c]) for c in AUDIT_COLUMNS), json.dumps(row["detail"], sort_keys=True)]
        )
    return out.getvalue()


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
