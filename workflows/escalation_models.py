"""The messages of ``EscalationWorkflow`` (een oproep voor de jobcoach van dienst).

Opaque ids, enums, codes and times only: no name, phone number, address or note ever goes in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from store.directory import PersonKind
from store.oncall import EscalationStatus

OpaqueId = str
ESCALATION_ID = r"^esc_[0-9a-f]{16}$"


class HelpCategory(StrEnum):
    workplace_problem = "workplace_problem"  # probleem op de werkvloer
    absence = "absence"  # niet komen opdagen, ziekte
    conflict = "conflict"
    wellbeing = "wellbeing"  # zorgen om welzijn
    safety = "safety"  # onveilige situatie
    practical = "practical"  # vervoer, rooster, papieren
    other = "other"


class Urgency(StrEnum):
    immediate = "immediate"  # nu
    today = "today"
    this_week = "this_week"


class CallerKind(StrEnum):
    employer = "employer"  # an employer's contact person (a professional of the employer)
    youth = "youth"
    partner = "partner"
    coordinator = "coordinator"

    @property
    def person_kind(self) -> PersonKind:
        return PersonKind.youth if self is CallerKind.youth else PersonKind.professional


class StepTarget(StrEnum):
    rotation = "rotation"  # whoever is on call in the rotation when the step pages
    person = "person"
    coordinator = "coordinator"  # the network coordinator (netwerkcoördinator)


class AckVia(StrEnum):
    sms = "sms"
    link = "link"
    dashboard = "dashboard"


class Outcome(StrEnum):
    handled_by_phone = "handled_by_phone"
    visited = "visited"  # ter plaatse geweest
    referred = "referred"  # doorverwezen
    no_action_needed = "no_action_needed"
    withdrawn = "withdrawn"  # the caller no longer needs help
    expired = "expired"  # closed automatically, nobody resolved it in time


class PolicyStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: StepTarget
    ref: OpaqueId | None = Field(default=None, max_length=40)  # rotation or professional id
    wait_minutes: int = Field(ge=1, le=24 * 60)


class PolicySnapshot(BaseModel):
    """An escalation policy frozen when the escalation starts: later edits do not reach it."""

    model_config = ConfigDict(frozen=True)

    policy_id: OpaqueId = Field(max_length=40)
    repeat: int = Field(default=1, ge=0, le=10)  # extra passes through the steps
    steps: list[PolicyStep] = Field(min_length=1)

    @classmethod
    def of(cls, policy_id: str, repeat: int, steps: list[dict[str, Any]]) -> PolicySnapshot:
        return cls(policy_id=policy_id, repeat=repeat, steps=[PolicyStep(**s) for s in steps])


class CallForHelp(BaseModel):
    """A call for help (oproep); the signal that starts an escalation or joins an open one."""

    model_config = ConfigDict(frozen=True)

    caller_kind: CallerKind
    caller_ref: OpaqueId | None = Field(default=None, max_length=40)
    category: HelpCategory
    urgency: Urgency


class EscalationInput(BaseModel):
    escalation_id: OpaqueId = Field(pattern=ESCALATION_ID)
    trajectory_id: OpaqueId | None = Field(default=None, max_length=40)
    policy: PolicySnapshot
    max_open_days: int = Field(default=14, ge=1)


class Acknowledge(BaseModel):
    escalation_id: OpaqueId = Field(pattern=ESCALATION_ID)  # refused by a later escalation
    professional_id: OpaqueId = Field(max_length=40)
    via: AckVia


class AckStatus(StrEnum):
    acknowledged = "acknowledged"
    already_acknowledged = "already_acknowledged"


class AckResult(BaseModel):
    status: AckStatus
    escalation_id: OpaqueId
    acknowledged_by: OpaqueId


class Resolve(BaseModel):
    escalation_id: OpaqueId = Field(pattern=ESCALATION_ID)
    outcome: Outcome
    professional_id: OpaqueId | None = Field(default=None, max_length=40)


class EscalationView(BaseModel):
    escalation_id: OpaqueId
    status: EscalationStatus
    ack_code: str | None
    round: int
    step: int
    calls: int
    pages: int
    acknowledged_by: OpaqueId | None = None


class EscalationResult(BaseModel):
    escalation_id: OpaqueId
    status: EscalationStatus
    outcome: Outcome | None
    pages: int


# ---- activity requests -----------------------------------------------------------------------


class OpenEscalation(BaseModel):
    escalation_id: OpaqueId
    trajectory_id: OpaqueId | None
    workflow_id: str
    policy: PolicySnapshot
    call: CallForHelp
    at: datetime


class OpenedEscalation(BaseModel):
    ack_code: str


class RecordCall(BaseModel):
    escalation_id: OpaqueId
    call: CallForHelp
    at: datetime


class ResolveStep(BaseModel):
    escalation_id: OpaqueId
    trajectory_id: OpaqueId | None
    step: PolicyStep
    at: datetime  # workflow time: who is on call *now*, as the workflow sees it


class RecordPage(BaseModel):
    escalation_id: OpaqueId
    professional_id: OpaqueId
    round: int
    step: int
    outcome: str
    outbox_ids: list[int] = Field(default_factory=list)
    reason: str | None = None
    at: datetime


class RecordStep(BaseModel):
    """An escalation moved on: to the next step, or with nobody to page at a step."""

    escalation_id: OpaqueId
    action: str  # escalated | no_one_on_call | exhausted
    round: int
    step: int
    at: datetime


class RecordAck(BaseModel):
    escalation_id: OpaqueId
    ack: Acknowledge
    at: datetime


class RecordResolution(BaseModel):
    escalation_id: OpaqueId
    status: EscalationStatus
    outcome: Outcome | None
    professional_id: OpaqueId | None = None
    at: datetime
