"""The demo region's network directory: organisations, professionals, roles, contact methods,
a jobcoach rotation and an escalation policy. All names, numbers and addresses are made up
(example.org addresses, numbers in a range no Dutch operator hands out to customers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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
from store.oncall import EscalationPolicy, Rotation, RotationKind, RotationMember

ORGANISATIONS = [
    ("org_pro_maas", "Praktijkschool De Maas", OrganisationKind.school, SchoolType.pro),
    ("org_vso_velden", "VSO De Velden", OrganisationKind.school, SchoolType.vso),
    ("org_entree_gilde", "Gilde Entree Venlo", OrganisationKind.school, SchoolType.entree),
    ("org_venlo", "Gemeente Venlo", OrganisationKind.municipality, None),
    ("org_horst", "Gemeente Horst aan de Maas", OrganisationKind.municipality, None),
    ("org_uwv", "UWV Noord-Limburg", OrganisationKind.uwv, None),
    ("org_wsp", "WSP Noord-Limburg", OrganisationKind.employers_service_point, None),
    ("org_zorg", "Zorgaanbieder Dichterbij", OrganisationKind.care_provider, None),
    ("org_mbo", "Gilde Opleidingen", OrganisationKind.mbo, None),
    ("org_kwekerij", "Kwekerij Van Rijn", OrganisationKind.employer, None),
]
# (id, organisation, first name, last name, role, scope: a school id, or None for the region)
PEOPLE: list[tuple[str, str, str, str, Role, str | None]] = [
    ("pro_mentor_maas", "org_pro_maas", "Ingrid", "Claessens", Role.mentor, "org_pro_maas"),
    (
        "pro_stage_maas",
        "org_pro_maas",
        "Ruud",
        "Peeters",
        Role.internship_coordinator,
        "org_pro_maas",
    ),
    ("pro_admin_maas", "org_pro_maas", "Marleen", "Hermans", Role.school, "org_pro_maas"),
    ("pro_mentor_velden", "org_vso_velden", "Kees", "Vullings", Role.mentor, "org_vso_velden"),
    (
        "pro_stage_velden",
        "org_vso_velden",
        "Anja",
        "Verhoeven",
        Role.internship_coordinator,
        "org_vso_velden",
    ),
    ("pro_admin_velden", "org_vso_velden", "Henk", "Driessen", Role.school, "org_vso_velden"),
    ("pro_mentor_gilde", "org_entree_gilde", "Sandra", "Kuijpers", Role.mentor, "org_entree_gilde"),
    (
        "pro_stage_gilde",
        "org_entree_gilde",
        "Paul",
        "Aarts",
        Role.internship_coordinator,
        "org_entree_gilde",
    ),
    ("pro_admin_gilde", "org_entree_gilde", "Wendy", "Linders", Role.school, "org_entree_gilde"),
    ("pro_regie_1", "org_venlo", "Monique", "Janssen", Role.case_director, None),
    ("pro_regie_2", "org_venlo", "Frank", "Gielen", Role.case_director, None),
    ("pro_regie_3", "org_horst", "Yvonne", "Litjens", Role.case_director, None),
    ("pro_vangnet_venlo", "org_venlo", "Marco", "Jacobs", Role.municipality_coordinator, None),
    ("pro_vangnet_horst", "org_horst", "Els", "Wijnen", Role.municipality_coordinator, None),
    ("pro_netwerk", "org_venlo", "Anke", "Verstappen", Role.network_coordinator, None),
    ("pro_coach_1", "org_wsp", "Tom", "Hesen", Role.jobcoach, None),
    ("pro_coach_2", "org_wsp", "Nicole", "Boots", Role.jobcoach, None),
    ("pro_coach_3", "org_zorg", "Rob", "Custers", Role.jobcoach, None),
    ("pro_coach_4", "org_zorg", "Linda", "Thijssen", Role.jobcoach, None),
    ("pro_ad_uwv", "org_uwv", "Jeroen", "Maessen", Role.labour_expert, None),
    ("pro_jongerencoach", "org_venlo", "Sophie", "Coenen", Role.youth_coach, None),
    ("pro_zorg", "org_zorg", "Karin", "Steeghs", Role.care_provider, None),
    ("pro_mbo_mentor", "org_mbo", "Bart", "Hoeijmakers", Role.mentor, None),
    ("pro_werkgever", "org_kwekerij", "Gerard", "van Rijn", Role.next_contact, None),
    ("pro_ad_uwv_2", "org_uwv", "Petra", "Seelen", Role.labour_expert, None),
]


@dataclass
class DemoDirectory:
    schools: list[tuple[str, SchoolType]] = field(default_factory=list)
    case_directors: list[str] = field(default_factory=list)
    jobcoaches: list[str] = field(default_factory=list)
    coordinator: str = "pro_netwerk"


def build_directory(engine: Engine) -> DemoDirectory:
    directory = DemoDirectory()
    with Session(engine) as session:
        for org_id, name, kind, school_type in ORGANISATIONS:
            org = session.get(Organisation, org_id) or Organisation(
                id=org_id, name=name, kind=kind, school_type=school_type
            )
            session.add(org)
            if kind is OrganisationKind.school and school_type is not None:
                directory.schools.append((org_id, school_type))
        session.flush()
        for number, (pid, org_id, first, last, role, scope) in enumerate(PEOPLE):
            if session.get(Professional, pid) is None:
                session.add(
                    Professional(id=pid, organisation_id=org_id, first_name=first, last_name=last)
                )
                session.flush()
                session.add(
                    RoleAssignment(professional_id=pid, role=role, scope_organisation_id=scope)
                )
                email = f"{first.lower()}.{last.lower().replace(' ', '')}@example.org"
                session.add(
                    ContactMethod(
                        person_kind=PersonKind.professional,
                        person_id=pid,
                        channel=Channel.email,
                        address=email,
                    )
                )
                session.add(
                    ContactMethod(
                        person_kind=PersonKind.professional,
                        person_id=pid,
                        channel=Channel.sms,
                        address=f"+3197010{number:05d}",
                        verified_at=datetime.now(UTC),
                    )
                )
            if role is Role.case_director:
                directory.case_directors.append(pid)
            if role is Role.jobcoach:
                directory.jobcoaches.append(pid)
        _on_call(session, directory.jobcoaches)
        session.commit()
    return directory


def _on_call(session: Session, coaches: list[str]) -> None:
    if session.get(Rotation, "rot_jobcoach") is not None:
        return
    monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    session.add(
        Rotation(
            id="rot_jobcoach",
            name="Jobcoach op afroep",
            kind=RotationKind.weekly,
            shift_hours=168,
            start_at=datetime(monday.year, monday.month, monday.day, 8, tzinfo=UTC),
        )
    )
    session.flush()
    for position, pid in enumerate(coaches):
        session.add(
            RotationMember(rotation_id="rot_jobcoach", professional_id=pid, position=position)
        )
    session.add(
        EscalationPolicy(
            id="pol_default",
            name="Jobcoach, dan achterwacht, dan coördinator",
            repeat=1,
            steps=[
                {"target": "rotation", "ref": "rot_jobcoach", "wait_minutes": 10},
                {"target": "person", "ref": coaches[1], "wait_minutes": 10},
                {"target": "coordinator", "ref": None, "wait_minutes": 15},
            ],
        )
    )
