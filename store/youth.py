"""Youth (jongeren), their guardians and trusted persons, and their consents."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, UniqueConstraint

from config.domain import Language, SchoolType, VsoProfile
from store.base import created_at, enum_field, timestamp


class Youth(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("school_id", "school_ref"),)

    id: str = Field(primary_key=True, max_length=40)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    birth_date: date
    school_id: str = Field(foreign_key="organisation.id", index=True, max_length=40)
    school_ref: str = Field(max_length=60)  # the pupil number in the school's administration
    school_type: SchoolType = enum_field(SchoolType, ...)
    vso_profile: VsoProfile | None = enum_field(VsoProfile, None)
    language: Language = enum_field(Language, Language.nl)
    created_at: datetime = created_at()
    purged_at: datetime | None = timestamp()


class Guardian(SQLModel, table=True):
    """A parent or guardian; ``legal_representative`` consents for a youth under 16."""

    id: str = Field(primary_key=True, max_length=40)
    youth_id: str = Field(foreign_key="youth.id", index=True, max_length=40)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    relation: str = Field(default="parent", max_length=40)
    legal_representative: bool = True
    language: Language = enum_field(Language, Language.nl)


class TrustedPerson(SQLModel, table=True):
    """The vertrouwenspersoon: keeps light contact during waakvlam."""

    id: str = Field(primary_key=True, max_length=40)
    youth_id: str = Field(foreign_key="youth.id", index=True, max_length=40)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    relation: str = Field(default="other", max_length=40)
    professional_id: str | None = Field(default=None, foreign_key="professional.id", max_length=40)


class ConsentKind(StrEnum):
    legal_representative = "legal_representative"  # under 16: the parent/guardian consents
    data_sharing = "data_sharing"  # from 16: the youth's own consent
    parents_involved = "parents_involved"  # from 18: keep informing parents


class ConsentStatus(StrEnum):
    pending = "pending"
    given = "given"
    refused = "refused"
    expired = "expired"  # no answer by the deadline


class Consent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    youth_id: str = Field(foreign_key="youth.id", index=True, max_length=40)
    trajectory_id: str = Field(index=True, max_length=40)
    kind: ConsentKind = enum_field(ConsentKind, ...)
    status: ConsentStatus = enum_field(ConsentStatus, ...)
    given_by: str | None = Field(default=None, max_length=40)  # opaque id of who answered
    requested_at: datetime | None = timestamp()
    deadline: date | None = None
    answered_at: datetime | None = timestamp()
    created_at: datetime = created_at()
