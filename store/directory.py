"""The network directory ("wie bel ik waarvoor"): organisations, professionals, roles, contacts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel, UniqueConstraint

from config.domain import Language, Role, SchoolType
from store.base import created_at, enum_field, timestamp


class OrganisationKind(StrEnum):
    school = "school"
    municipality = "municipality"
    uwv = "uwv"
    employers_service_point = "employers_service_point"  # WSP
    care_provider = "care_provider"
    employer = "employer"
    mbo = "mbo"
    other = "other"


class Organisation(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    kind: OrganisationKind = enum_field(OrganisationKind, ..., index=True)
    school_type: SchoolType | None = enum_field(SchoolType, None)
    municipality: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    # An organisation with history is deactivated rather than removed: hidden from pickers, its
    # API tokens stop enrolling, its history (and the figures) stay.
    active: bool = True
    created_at: datetime = created_at()


class Professional(SQLModel, table=True):
    """A network partner: mentor, case director, jobcoach, coordinator…"""

    id: str = Field(primary_key=True, max_length=40)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=40)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    language: Language = enum_field(Language, Language.nl)
    wants_daily_digest: bool = False
    active: bool = True
    created_at: datetime = created_at()


# NULLs are distinct in a unique constraint, so region-wide assignments (scope NULL) need a
# partial unique index of their own (on SQLite and PostgreSQL alike).
REGION_WIDE_SQL = "scope_organisation_id IS NULL"


class RoleAssignment(SQLModel, table=True):
    """A professional plays a role, region-wide or for one school (scope)."""

    __table_args__ = (
        UniqueConstraint("professional_id", "role", "scope_organisation_id"),
        Index(
            "ux_roleassignment_region_wide",
            "professional_id",
            "role",
            unique=True,
            sqlite_where=text(REGION_WIDE_SQL),
            postgresql_where=text(REGION_WIDE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    professional_id: str = Field(foreign_key="professional.id", index=True, max_length=40)
    role: Role = enum_field(Role, ..., index=True)
    scope_organisation_id: str | None = Field(
        default=None, foreign_key="organisation.id", index=True, max_length=40
    )
    priority: int = 0  # lower wins when several people share a role in the same scope


class Channel(StrEnum):
    email = "email"
    sms = "sms"


class PersonKind(StrEnum):
    professional = "professional"
    youth = "youth"
    guardian = "guardian"
    trusted_person = "trusted_person"


class ContactMethod(SQLModel, table=True):
    """An email address or mobile number of a person, with its verification and opt-out state."""

    __table_args__ = (UniqueConstraint("person_kind", "person_id", "channel", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    person_kind: PersonKind = enum_field(PersonKind, ..., index=True)
    person_id: str = Field(index=True, max_length=40)
    channel: Channel = enum_field(Channel, ...)
    address: str = Field(max_length=200, index=True)
    verified_at: datetime | None = timestamp()
    verification_code_hash: str | None = Field(default=None, max_length=128)
    sms_opted_out_at: datetime | None = timestamp()  # STOP received; START clears it
    disabled_reason: str | None = Field(default=None, max_length=200)
    priority: int = 0
    created_at: datetime = created_at()
