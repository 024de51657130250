"""The messages of ``TrajectoryWorkflow``: its input, carried state, human actions and results.

Opaque ids, enums and dates only: no name, phone number, email address or note ever goes in.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from config.domain import CheckinStatus, Destination, Phase, Role, SchoolType, TaskKind, VsoProfile
from config.timeline import Timeline
from notifications.requests import NotifyRequest
from store.trajectories import TaskStatus
from store.youth import ConsentKind, ConsentStatus

OpaqueId = str


class Enrollment(BaseModel):
    """What a school's enrollment starts a trajectory with."""

    model_config = ConfigDict(frozen=True)

    trajectory_id: OpaqueId = Field(pattern=r"^trj_[0-9a-f]{16}$")
    youth_id: OpaqueId = Field(max_length=40)
    school_id: OpaqueId = Field(max_length=40)
    school_type: SchoolType
    vso_profile: VsoProfile | None = None
    birth_date: date
    leave_date: date
    enrolled_on: date
    case_director_id: OpaqueId | None = None
    timeline: Timeline
    # Late enrollment: rule ids of tasks already done before the import (the rest that is past
    # due becomes overdue at once: never silently skipped).
    done_before_enrollment: list[str] = Field(default_factory=list)
    legal_representative_consent: ConsentStatus | None = None


class PlannedTask(BaseModel):
    key: str  # unique within the trajectory, e.g. "case_meeting", "checkin_3m", "safety_net_1"
    rule_id: str
    kind: TaskKind
    role: Role
    due: date
    reminders: list[date] = Field(default_factory=list)
    reminders_sent: list[date] = Field(default_factory=list)
    escalate_on: date
    escalated: bool = False
    overdue_notified: bool = False
    status: TaskStatus = TaskStatus.upcoming
    assigned_to: OpaqueId | None = None  # an explicit re-assignment beats role resolution
    owner_id: OpaqueId | None = None  # who it was last sent to
    completed_at: datetime | None = None
    completed_by: OpaqueId | None = None
    reason: str | None = None

    @property
    def is_finished(self) -> bool:
        return self.status in (TaskStatus.done, TaskStatus.not_applicable, TaskStatus.cancelled)


class Consents(BaseModel):
    legal_representative: ConsentStatus | None = None
    data_sharing: ConsentStatus | None = None
    parents_involved: ConsentStatus | None = None

    def get(self, kind: ConsentKind) -> ConsentStatus | None:
        return getattr(self, kind.value)  # type: ignore[no-any-return]


class TrajectoryState(BaseModel):
    """Everything the workflow knows; carried whole across continue-as-new."""

    enrollment: Enrollment
    timeline: Timeline
    phase: Phase = Phase.orientation
    tasks: list[PlannedTask] = Field(default_factory=list)
    destination: Destination | None = None
    destination_organisation_id: OpaqueId | None = None
    next_contact_id: OpaqueId | None = None
    case_director_id: OpaqueId | None = None
    consents: Consents = Field(default_factory=Consents)
    consent_asked: list[str] = Field(default_factory=list)  # "16", "18"
    waakvlam: bool = False
    in_safety_net: bool = False
    safety_net_rounds: int = 0
    support_rounds: int = 0
    waakvlam_rounds: int = 0
    moved_out: bool = False
    closed: bool = False
    closed_reason: str | None = None
    last_contact_at: datetime | None = None
    version: int = 0
    runs: int = 1  # how many runs (continue-as-new generations) so far

    def task(self, key: str) -> PlannedTask | None:
        return next((t for t in self.tasks if t.key == key), None)


# Events in a run's history before it continues as new, unless the enrollment says otherwise.
MAX_HISTORY_EVENTS = 2000


class TrajectoryInput(BaseModel):
    """The workflow's input: a fresh enrollment, or the carried state after continue-as-new."""

    enrollment: Enrollment
    carried: TrajectoryState | None = None
    max_history_events: int = Field(default=MAX_HISTORY_EVENTS, ge=100, le=40_000)
    # The release of the workflow code the run starts under (workflows/trajectory_releases.py);
    # 0 in the inputs of runs started before releases were recorded.
    release: int = Field(default=0, ge=0)


class TrajectoryOutcome(BaseModel):
    trajectory_id: OpaqueId
    closed_reason: str
    runs: int


# ---- human actions (updates) -------------------------------------------------------------


class ActionStatus(StrEnum):
    done = "done"
    already_done = "already_done"


class ActionResult(BaseModel):
    status: ActionStatus
    task_key: str | None = None
    phase: Phase


class CompleteTask(BaseModel):
    task_key: str
    actor_id: OpaqueId


class NotApplicableReason(StrEnum):
    not_relevant = "not_relevant"
    done_elsewhere = "done_elsewhere"
    youth_unreachable = "youth_unreachable"
    other = "other"


class DeclareNotApplicable(BaseModel):
    task_key: str
    actor_id: OpaqueId
    reason: NotApplicableReason


class ReassignTask(BaseModel):
    task_key: str
    actor_id: OpaqueId
    professional_id: OpaqueId


class RecordCheckin(BaseModel):
    task_key: str
    actor_id: OpaqueId
    status: CheckinStatus


class ChooseDestination(BaseModel):
    actor_id: OpaqueId
    destination: Destination
    next_contact_id: OpaqueId
    organisation_id: OpaqueId | None = None
    replace: bool = False  # choosing again must be explicit


class RecordConsent(BaseModel):
    actor_id: OpaqueId
    kind: ConsentKind
    given: bool


class DropoutReason(StrEnum):
    contract_ended = "contract_ended"
    left_education = "left_education"  # e.g. left Entree
    left_day_activity = "left_day_activity"
    other = "other"


class ReportDropout(BaseModel):
    actor_id: OpaqueId
    reason: DropoutReason


class Actor(BaseModel):
    actor_id: OpaqueId


class ReassignCaseDirector(BaseModel):
    actor_id: OpaqueId
    professional_id: OpaqueId


class MigrateTimeline(BaseModel):
    timeline: Timeline


# ---- queries ------------------------------------------------------------------------------


class TimelineEntry(BaseModel):
    key: str
    rule_id: str
    kind: TaskKind
    role: Role
    due: date
    status: TaskStatus
    owner_id: OpaqueId | None


class TrajectorySummary(BaseModel):
    trajectory_id: OpaqueId
    phase: Phase
    destination: Destination | None
    closed: bool
    closed_reason: str | None
    timeline_id: str
    timeline_version: int
    overdue_count: int
    next_due_task: str | None
    next_due_date: date | None
    consents: Consents
    waakvlam: bool
    runs: int


# ---- activities -------------------------------------------------------------------------


class ResolveRecipient(BaseModel):
    trajectory_id: OpaqueId
    role: Role
    youth_id: OpaqueId
    school_id: OpaqueId
    case_director_id: OpaqueId | None = None
    next_contact_id: OpaqueId | None = None


class ProjectedTask(BaseModel):
    key: str
    rule_id: str
    kind: TaskKind
    role: Role
    owner_id: OpaqueId | None
    due: date
    status: TaskStatus
    escalated: bool
    completed_at: datetime | None
    completed_by: OpaqueId | None
    reason: str | None


class Projection(BaseModel):
    """The read model's view of a trajectory, written by ``project_trajectory``.

    Whole (``complete``), it holds every task and consent. From release CHANGES_ONLY a wake sends
    only the tasks and consents that changed since the projection of version ``since``, which
    this run wrote before; the trajectory's own fields are always whole."""

    trajectory_id: OpaqueId
    version: int
    phase: Phase
    closed: bool
    closed_reason: str | None
    destination: Destination | None
    destination_organisation_id: OpaqueId | None
    case_director_id: OpaqueId | None
    next_contact_id: OpaqueId | None
    timeline_id: str
    timeline_version: int
    next_due_task: str | None
    next_due_date: date | None
    overdue_count: int
    last_contact_at: datetime | None
    no_destination: bool
    consent_pending: bool
    waakvlam: bool
    safety_net: bool
    consents: Consents
    tasks: list[ProjectedTask]
    at: datetime
    complete: bool = True
    since: int | None = None


class WakeWork(BaseModel):
    """What one wake of a trajectory asks of the world at its end, in one local activity
    (``carry_out_wake``, release WAKE_AT_ONCE): the messages it decided, and its projection if
    the state changed."""

    messages: list[NotifyRequest] = Field(default_factory=list)
    projection: Projection | None = None


class WakeDone(BaseModel):
    """The messages of a :class:`WakeWork` that did not go out, by their index: ``retry`` failed
    for now (the workflow sends each again on its own, with the retries of a single message),
    ``failed`` failed for good (recorded in the outbox for the coordinator)."""

    retry: list[int] = Field(default_factory=list)
    failed: list[int] = Field(default_factory=list)
    # The projection held changes only, and the read model was not at the version they follow
    # (restored from a backup, say): nothing was written, the workflow sends it whole.
    reproject: bool = False
