"""Every table, imported in one place so metadata and alembic see them all."""

from store.accounts import ApiToken, SignInToken, WebSession
from store.audit import AuditEntry
from store.directory import (
    Channel,
    ContactMethod,
    Organisation,
    OrganisationKind,
    PersonKind,
    Professional,
    RoleAssignment,
)
from store.meta import Meta
from store.oncall import (
    Escalation,
    EscalationCall,
    EscalationPolicy,
    EscalationStatus,
    OverrideKind,
    Rotation,
    RotationKind,
    RotationMember,
    RotationOverride,
    SmsReplyThrottle,
)
from store.outbox import ActionToken, OutboxMessage, OutboxStatus
from store.trajectories import TaskRow, TaskStatus, Trajectory, TrajectoryStatus
from store.youth import Consent, ConsentKind, ConsentStatus, Guardian, TrustedPerson, Youth

__all__ = [
    "ApiToken",
    "SignInToken",
    "WebSession",
    "ActionToken",
    "AuditEntry",
    "Channel",
    "Consent",
    "ConsentKind",
    "ConsentStatus",
    "ContactMethod",
    "Escalation",
    "EscalationCall",
    "EscalationPolicy",
    "EscalationStatus",
    "Guardian",
    "Meta",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "OutboxStatus",
    "OverrideKind",
    "PersonKind",
    "Professional",
    "RoleAssignment",
    "Rotation",
    "RotationKind",
    "RotationMember",
    "RotationOverride",
    "SmsReplyThrottle",
    "TaskRow",
    "TaskStatus",
    "Trajectory",
    "TrajectoryStatus",
    "TrustedPerson",
    "Youth",
]
