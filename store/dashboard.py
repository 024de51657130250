"""Dashboard queries over the read model: what the coordinator (or a professional, for their own
caseload) sees. Every query takes a :class:`Scope`, so nothing outside it can leak.

Indexes used (see ``bench/dashboard.py`` for EXPLAIN and timings): ``ix_trajectory_stalled``
(status, last_contact_at, overdue_count), ``ix_trajectory_phase`` (status, phase),
``ix_task_status_due`` and ``ix_task_owner_status`` on tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, false, func, or_
from sqlmodel import Session, col, select

from store.directory import Organisation, Professional
from store.oncall import Escalation, EscalationStatus
from store.trajectories import TaskRow, TaskStatus, Trajectory, TrajectoryStatus
from store.youth import Youth

STALLED_AFTER = timedelta(days=60)  # no contact for this long counts as stalled


@dataclass(frozen=True)
class Scope:
    """What a viewer may see: the whole region, or their own caseload and organisations."""

    region: bool = False
    professional_id: str | None = None
    organisation_ids: frozenset[str] = frozenset()

    def condition(self) -> ColumnElement[bool]:
        if self.region:
            return and_(True)
        parts: list[ColumnElement[bool]] = []
        if self.professional_id:
            me = self.professional_id
            mine = select(TaskRow.trajectory_id).where(TaskRow.owner_id == me)
            parts += [
                col(Trajectory.case_director_id) == me,
                col(Trajectory.next_contact_id) == me,
                col(Trajectory.id).in_(mine),
            ]
        if self.organisation_ids:
            orgs = sorted(self.organisation_ids)
            parts += [
                col(Trajectory.school_id).in_(orgs),
                col(Trajectory.destination_organisation_id).in_(orgs),
            ]
        return or_(*parts) if parts else false()


@dataclass(frozen=True)
class Filters:
    school_id: str | None = None
    school_type: str | None = None
    phase: str | None = None

    def condition(self) -> ColumnElement[bool]:
        chosen = {"school_id": self.school_id, "school_type": self.school_type, "phase": self.phase}
        parts = [col(getattr(Trajectory, k)) == v for k, v in chosen.items() if v]
        return and_(True, *parts)


@dataclass
class Row:
    trajectory: Trajectory
    youth: Youth


def _open(scope: Scope, filters: Filters) -> ColumnElement[bool]:
    return and_(
        col(Trajectory.status) == TrajectoryStatus.open, scope.condition(), filters.condition()
    )


def _select(where: ColumnElement[bool], order: list[Any], limit: int) -> Any:
    return (
        select(Trajectory, Youth)
        .join(Youth, col(Youth.id) == Trajectory.youth_id)
        .where(where)
        .order_by(*order)
        .limit(limit)
    )


def _rows(session: Session, query: Any) -> list[Row]:
    return [Row(t, y) for t, y in session.exec(query).all()]


def stalled_queries(
    scope: Scope, now: datetime, filters: Filters = Filters(), limit: int = 50
) -> tuple[Any, Any]:
    """Two index-friendly halves of the ranking (one ORDER BY with NULLS FIRST cannot use the
    index on PostgreSQL): the never contacted, most overdue first; then the rest, longest
    without contact first. Both walk ``ix_trajectory_stalled`` in order and stop at the limit."""
    base = _open(scope, filters)
    last, overdue = col(Trajectory.last_contact_at), col(Trajectory.overdue_count)
    never = _select(and_(base, last.is_(None)), [overdue.desc(), col(Trajectory.id)], limit)
    quiet = and_(base, last.is_not(None), or_(overdue > 0, last < now - STALLED_AFTER))
    rest = _select(quiet, [last.asc(), overdue.desc(), col(Trajectory.id)], limit)
    return never, rest


def stalled(
    session: Session, scope: Scope, now: datetime, filters: Filters = Filters(), limit: int = 50
) -> list[Row]:
    """Stalled trajectories ranked by neglect (the attention paradox): never contacted or the
    longest without contact first, then the most overdue."""
    never, rest = stalled_queries(scope, now, filters, limit)
    rows = _rows(session, never)
    return (rows + _rows(session, rest))[:limit] if len(rows) < limit else rows


def flagged(
    session: Session, scope: Scope, flag: str, filters: Filters = Filters(), limit: int = 50
) -> list[Row]:
    """Open trajectories with a flag: ``no_destination``, ``consent_pending``, ``waakvlam`` or
    ``safety_net``; the soonest leavers first."""
    column = getattr(Trajectory, flag)
    where = and_(_open(scope, filters), col(column).is_(True))
    return _rows(session, _select(where, [col(Trajectory.leave_date), col(Trajectory.id)], limit))


def count_by(
    session: Session, scope: Scope, column: str, filters: Filters = Filters()
) -> dict[str, int]:
    """Open trajectories per value of ``phase``, ``destination``, ``school_id`` or
    ``school_type`` (no destination counts as ``none``)."""
    attr = col(getattr(Trajectory, column))
    query = select(attr, func.count()).where(_open(scope, filters)).group_by(attr)
    return {_key(value): n for value, n in session.exec(query).all()}


def flag_counts(session: Session, scope: Scope, filters: Filters = Filters()) -> dict[str, int]:
    flags = ("no_destination", "consent_pending", "waakvlam", "safety_net")
    columns = [func.sum(func.cast(col(getattr(Trajectory, f)), Integer())) for f in flags]
    query = select(func.count(), *columns).where(_open(scope, filters))
    totals: tuple[Any, ...] = tuple(session.execute(query).one())
    return dict(zip(("open", *flags), (int(v or 0) for v in totals), strict=True))


def _key(value: Any) -> str:
    return "none" if value is None else str(getattr(value, "value", value))


@dataclass
class SchoolFigure:
    school_id: str
    name: str
    leavers: int = 0
    with_destination: int = 0
    destinations: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.with_destination / self.leavers if self.leavers else None


def sluitend(session: Session, scope: Scope, reference: date) -> list[SchoolFigure]:
    """The "sluitend" rate per school on a reference date (peildatum, 1 October by default):
    of the youth who left in the year up to that date, the share with a destination."""
    since = reference.replace(year=reference.year - 1)
    window = and_(
        scope.condition(),
        col(Trajectory.leave_date) > since,
        col(Trajectory.leave_date) <= reference,
    )
    query = (
        select(Trajectory.school_id, Organisation.name, Trajectory.destination, func.count())
        .join(Organisation, col(Organisation.id) == Trajectory.school_id)
        .where(window)
        .group_by(col(Trajectory.school_id), col(Organisation.name), col(Trajectory.destination))
    )
    figures: dict[str, SchoolFigure] = {}
    for school_id, name, destination, n in session.exec(query).all():
        figure = figures.setdefault(school_id, SchoolFigure(school_id, name))
        figure.leavers += n
        figure.destinations[_key(destination)] = n
        if destination is not None:
            figure.with_destination += n
    return sorted(figures.values(), key=lambda f: f.name)


def overdue_query(scope: Scope) -> Any:
    """Overdue tasks counted per owner first (through ``ix_task_status_due``), so the joins to
    people and organisations touch a few dozen rows, not every task."""
    where = [col(TaskRow.status) == TaskStatus.overdue]
    if not scope.region:
        where.append(col(TaskRow.trajectory_id).in_(select(Trajectory.id).where(scope.condition())))
    per_owner = (
        select(
            TaskRow.owner_id.label("owner_id"),  # type: ignore[union-attr]
            TaskRow.owner_organisation_id.label("org_id"),  # type: ignore[union-attr]
            func.count().label("n"),
        )
        .where(*where)
        .group_by(col(TaskRow.owner_id), col(TaskRow.owner_organisation_id))
        .subquery()
    )
    organisation = func.coalesce(per_owner.c.org_id, Professional.organisation_id)
    total = func.sum(per_owner.c.n)
    return (
        select(Organisation.name, total)
        .select_from(per_owner)
        .join(Professional, col(Professional.id) == per_owner.c.owner_id, isouter=True)
        .join(Organisation, col(Organisation.id) == organisation, isouter=True)
        .group_by(col(Organisation.name))
        .order_by(total.desc(), col(Organisation.name))
    )


def overdue_by_organisation(session: Session, scope: Scope) -> list[tuple[str, int]]:
    """Overdue tasks per organisation of their owner (the task's own organisation, else the
    owner's), most first; tasks owned by a youth or parent count under "—"."""
    return [(name or "—", int(n)) for name, n in session.exec(overdue_query(scope)).all()]


def open_escalations(session: Session, scope: Scope, limit: int = 20) -> list[Escalation]:
    """Escalations not yet resolved: unanswered first, then the oldest. A professional sees
    only those about trajectories in their scope."""
    query = select(Escalation).where(
        col(Escalation.status).in_([EscalationStatus.open, EscalationStatus.exhausted])
    )
    if not scope.region:
        visible = select(Trajectory.id).where(scope.condition())
        query = query.where(col(Escalation.trajectory_id).in_(visible))
    query = query.order_by(
        col(Escalation.acknowledged_at).asc().nulls_first(), col(Escalation.opened_at)
    ).limit(limit)
    return list(session.exec(query).all())


def visible_trajectory(session: Session, scope: Scope, trajectory_id: str) -> Row | None:
    rows = _rows(
        session, _select(and_(col(Trajectory.id) == trajectory_id, scope.condition()), [], 1)
    )
    return rows[0] if rows else None


def tasks_of(session: Session, trajectory_id: str) -> list[TaskRow]:
    query = (
        select(TaskRow)
        .where(TaskRow.trajectory_id == trajectory_id)
        .order_by(col(TaskRow.due_date), col(TaskRow.key))
    )
    return list(session.exec(query).all())
