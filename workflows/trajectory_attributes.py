"""What a trajectory shows in Temporal visibility (typed search attributes: enums, dates, counts),
computed from its state alone.

One function serves both sides: enrollment starts the workflow with the values its first run
would write, and the workflow writes only the values that changed. Every upsert is a visibility
write on the Temporal server (on the embedded dev server, a SQLite transaction); most wakes of a
trajectory (a reminder sent, a week passed) change none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

from workflows import agenda
from workflows import search_attributes as sa
from workflows.dates import midday_utc
from workflows.trajectory_models import Consents, Enrollment, TrajectoryState


def initial_state(enrollment: Enrollment) -> TrajectoryState:
    """The state a fresh trajectory starts from (the workflow's first run, before anything is
    due)."""
    return TrajectoryState(
        enrollment=enrollment,
        timeline=enrollment.timeline,
        tasks=agenda.initial_tasks(enrollment, enrollment.timeline),
        case_director_id=enrollment.case_director_id,
        consents=Consents(legal_representative=enrollment.legal_representative_consent),
    )


def flags(state: TrajectoryState) -> list[str]:
    return flag_list(
        no_destination=state.destination is None and not state.closed,
        consent_pending=agenda.consent_pending(state.tasks),
        waakvlam=state.waakvlam,
        safety_net=state.in_safety_net,
    )


def flag_list(
    *, no_destination: bool, consent_pending: bool, waakvlam: bool, safety_net: bool
) -> list[str]:
    """The flags that hold, in their fixed order."""
    held = {
        "no_destination": no_destination,
        "consent_pending": consent_pending,
        "waakvlam": waakvlam,
        "safety_net": safety_net,
    }
    return [name for name, holds in held.items() if holds]


@dataclass(frozen=True)
class Shown:
    """The state-derived attribute values of one trajectory."""

    phase: str
    overdue_count: int
    flags: list[str]
    timeline: str
    next_due: datetime | None

    @classmethod
    def of(cls, state: TrajectoryState) -> Shown:
        upcoming = agenda.next_due(state)
        return cls(
            phase=state.phase.value,
            overdue_count=agenda.overdue_count(state),
            flags=flags(state),
            timeline=f"{state.timeline.id}@{state.timeline.version}",
            next_due=None if upcoming is None else midday_utc(upcoming.due),
        )

    def updates(self) -> list[SearchAttributeUpdate[Any]]:
        """Every value, set (or, for the next due date when nothing is left, unset)."""
        return [
            sa.PHASE.value_set(self.phase),
            sa.OVERDUE_COUNT.value_set(self.overdue_count),
            sa.FLAGS.value_set(self.flags),
            sa.TIMELINE.value_set(self.timeline),
            sa.NEXT_DUE.value_unset()
            if self.next_due is None
            else sa.NEXT_DUE.value_set(self.next_due),
        ]

    def differs_from(self, current: TypedSearchAttributes) -> list[SearchAttributeUpdate[Any]]:
        """Only the updates whose value differs from ``current`` (what the workflow has now);
        no flags at all counts as an empty list of flags."""

        def now(key: SearchAttributeKey[Any]) -> object:
            value = current.get(key)
            return list(value or []) if key == sa.FLAGS else value

        return [update for update in self.updates() if now(update.key) != update.value]


def at_start(enrollment: Enrollment, today: date) -> list[SearchAttributePair[Any]]:
    """The state-derived attributes a new trajectory starts with: the values its first run
    computes on ``today`` when nothing is due yet (else the run writes what changed). Read from
    the plan's drafts (``agenda.initial_drafts``), not from a built state: enrollment computes
    them for every youth it starts, and the workflow builds the state again anyway. They are
    what ``Shown.of`` gives for ``initial_state`` (tests/workflows/test_trajectory_agenda.py):
    a new trajectory has no destination, is open, and is neither in waakvlam nor in the safety
    net."""
    drafts = agenda.initial_drafts(enrollment, enrollment.timeline)
    start_flags = flag_list(
        no_destination=True,
        consent_pending=agenda.consent_pending(drafts),
        waakvlam=False,
        safety_net=False,
    )
    phase = agenda.phase_by_date(enrollment, enrollment.timeline, today)
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.PHASE, phase.value),
        SearchAttributePair(sa.OVERDUE_COUNT, agenda.overdue_in(drafts)),
        SearchAttributePair(sa.FLAGS, start_flags),
    ]
    upcoming = agenda.first_pending(drafts)
    if upcoming is not None:
        pairs.append(SearchAttributePair(sa.NEXT_DUE, midday_utc(upcoming.due)))
    return pairs
