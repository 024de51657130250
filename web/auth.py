"""Who is asking: a signed-in professional (session cookie) or a system (API token), with the
roles the app derives from the directory and the scope of youth they may see.

Roles (from :class:`store.directory.RoleAssignment`): ``network_coordinator`` → coordinator
(sees the region), ``case_director``, ``jobcoach``, ``school`` → school administrator (enrolls
for their school), every other role → professional. Non-coordinators see their own caseload
(trajectories where they are owner of a task, case director or next contact) and the youth of
their organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fastapi import Request
from sqlalchemy import Engine
from sqlmodel import Session, select

from config.domain import Role
from store import accounts
from store.audit import record
from store.dashboard import Scope
from store.directory import Professional, RoleAssignment

SESSION_COOKIE = "wv_session"


class WebRole(StrEnum):
    coordinator = "coordinator"
    case_director = "case_director"
    professional = "professional"
    jobcoach = "jobcoach"
    school_admin = "school_admin"


ROLE_MAP = {
    Role.network_coordinator: WebRole.coordinator,
    Role.case_director: WebRole.case_director,
    Role.jobcoach: WebRole.jobcoach,
    Role.school: WebRole.school_admin,
}


class SignInNeeded(Exception):
    """No (live) session: pages redirect to sign-in, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but this is outside the viewer's role or scope: 403, nothing else said."""


@dataclass(frozen=True)
class Viewer:
    professional_id: str
    first_name: str
    last_name: str
    organisation_id: str
    roles: frozenset[WebRole]
    school_ids: frozenset[str]  # schools this person administers

    @property
    def is_coordinator(self) -> bool:
        return WebRole.coordinator in self.roles

    @property
    def scope(self) -> Scope:
        if self.is_coordinator:
            return Scope(region=True)
        return Scope(
            professional_id=self.professional_id,
            organisation_ids=frozenset({self.organisation_id}) | self.school_ids,
        )

    def may_enroll_for(self, school_id: str) -> bool:
        return self.is_coordinator or school_id in self.school_ids


def load_viewer(session: Session, professional_id: str) -> Viewer | None:
    person = session.get(Professional, professional_id)
    if person is None or not person.active:
        return None
    roles: set[WebRole] = set()
    schools: set[str] = set()
    for assignment in session.exec(
        select(RoleAssignment).where(RoleAssignment.professional_id == professional_id)
    ).all():
        role = ROLE_MAP.get(assignment.role, WebRole.professional)
        roles.add(role)
        if role is WebRole.school_admin:
            schools.add(assignment.scope_organisation_id or person.organisation_id)
    return Viewer(
        professional_id=person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        organisation_id=person.organisation_id,
        roles=frozenset(roles or {WebRole.professional}),
        school_ids=frozenset(schools),
    )


def viewer_of(request: Request, engine: Engine) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with Session(engine) as session:
        owner = accounts.session_owner(session, token=token, now=datetime.now(UTC))
        return load_viewer(session, owner) if owner else None


@dataclass(frozen=True)
class ApiClient:
    name: str
    scopes: frozenset[str]

    def may_enroll_for(self, school_id: str) -> bool:
        return f"enroll:{school_id}" in self.scopes


def api_client_of(request: Request, engine: Engine) -> ApiClient | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    with Session(engine) as session:
        row = accounts.api_token(session, token=token.strip())
        return ApiClient(row.name, frozenset(row.scopes)) if row else None


def audit(
    session: Session,
    who: Viewer | ApiClient | None,
    action: str,
    subject_kind: str,
    subject_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Who saw or changed what (the caller commits)."""
    if isinstance(who, Viewer):
        kind, actor = "professional", who.professional_id
    elif isinstance(who, ApiClient):
        kind, actor = "api", who.name[:40]
    else:
        kind, actor = "link", None
    record(
        session,
        actor_kind=kind,
        actor_id=actor,
        action=action,
        subject_kind=subject_kind,
        subject_id=subject_id,
        detail=detail,
    )
