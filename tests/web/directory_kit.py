"""Helpers of the directory tests: JSON calls of a signed-in browser, what the directory holds
(to prove a refused change wrote nothing), and the audit rows written since a point."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, col, select

from store.accounts import ApiToken
from store.audit import AuditEntry
from store.directory import ContactMethod, Organisation, Professional, RoleAssignment
from store.oncall import EscalationPolicy, Rotation, RotationMember, RotationOverride

TABLES: tuple[type[SQLModel], ...] = (
    Organisation,
    Professional,
    ContactMethod,
    RoleAssignment,
    ApiToken,
    Rotation,
    RotationMember,
    RotationOverride,
    EscalationPolicy,
)


async def call(
    client: httpx.AsyncClient, method: str, url: str, csrf: str, body: Any = None
) -> httpx.Response:
    """A JSON call as a signed-in browser makes it: with the CSRF token in the header."""
    return await client.request(method, url, json=body, headers={"X-CSRF-Token": csrf})


def snapshot(engine: Engine) -> list[list[dict[str, Any]]]:
    """Every row of the directory's tables and the number of audit entries."""
    with Session(engine) as session:
        rows = [
            sorted((r.model_dump(mode="json") for r in session.exec(select(t)).all()), key=str)
            for t in TABLES
        ]
        count = session.exec(select(func.count()).select_from(AuditEntry)).one()
    return [*rows, [{"audit": count}]]


def last_audit_id(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.max(AuditEntry.id))).one() or 0


def audits_since(engine: Engine, since: int) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEntry).where(col(AuditEntry.id) > since).order_by(col(AuditEntry.id))
            ).all()
        )
