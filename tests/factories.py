"""Builders for test data: a small region with recognisable people."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from config.domain import Role, SchoolType
from store.directory import (
    Channel,
    ContactMethod,
    Organisation,
    OrganisationKind,
    PersonKind,
    Professional,
    RoleAssignment,
)


@dataclass
class Region:
    """Ids of a small network: one school, one municipality, one person per role."""

    school_id: str = "org_school"
    municipality_id: str = "org_gemeente"
    people: dict[Role, str] = field(default_factory=dict)
    spare_id: str = "pro_spare"

    def holder(self, role: Role) -> str:
        return self.people[role]


ROLES = (
    Role.case_director,
    Role.mentor,
    Role.internship_coordinator,
    Role.school,
    Role.network_coordinator,
    Role.municipality_coordinator,
    Role.jobcoach,
)


def build_region(engine: Engine) -> Region:
    region = Region()
    with Session(engine) as session:
        session.add(
            Organisation(
                id=region.school_id,
                name="Praktijkschool De Maas",
                kind=OrganisationKind.school,
                school_type=SchoolType.pro,
            )
        )
        session.add(
            Organisation(
                id=region.municipality_id,
                name="Gemeente Venlo",
                kind=OrganisationKind.municipality,
            )
        )
        session.flush()
        for index, role in enumerate((*ROLES, None)):
            pid = region.spare_id if role is None else f"pro_{role.value}"
            org = (
                region.municipality_id
                if role is Role.municipality_coordinator
                else (region.school_id)
            )
            session.add(
                Professional(
                    id=pid,
                    organisation_id=org,
                    first_name=f"Voornaam{index}",
                    last_name=f"Achternaam{index}",
                )
            )
            session.add(
                ContactMethod(
                    person_kind=PersonKind.professional,
                    person_id=pid,
                    channel=Channel.email,
                    address=f"{pid}@example.org",
                )
            )
            if role is not None:
                region.people[role] = pid
        session.flush()
        for role, pid in region.people.items():
            scope = (
                None
                if role in (Role.network_coordinator, Role.municipality_coordinator)
                else (region.school_id)
            )
            session.add(RoleAssignment(professional_id=pid, role=role, scope_organisation_id=scope))
        session.commit()
    return region
