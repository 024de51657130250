"""Who may open what: every endpoint for every role (and for nobody signed in). A 403 says
nothing about the youth it guards, and an unknown id looks the same as one out of scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from store import accounts
from store.directory import Organisation, OrganisationKind, RoleAssignment
from store.oncall import (
    EscalationPolicy,
    OverrideKind,
    Rotation,
    RotationMember,
    RotationOverride,
)
from store.youth import Consent, ConsentKind, ConsentStatus
from tests.web.directory_kit import snapshot
from tests.web.world import Seed, WebWorld

ROLES = (
    "anonymous", "coordinator", "case_director", "jobcoach", "school_admin", "professional",
    "school2_admin", "outsider",
)  # fmt: skip
ALL = dict.fromkeys(ROLES, 200) | {"anonymous": 303}
API_ALL = ALL | {"anonymous": 401}
COORDINATOR = dict.fromkeys(ROLES, 403) | {"coordinator": 200, "anonymous": 303}
SCHOOL_STAFF = COORDINATOR | {"school_admin": 200, "school2_admin": 200}

# Which trajectory each role may see: the coordinator all; people of org_school the one at
# their school ("own"); the second school's administrator its two; the jobcoach the one where
# they own a task; the outsider (UWV, no caseload) none.
OWN = dict.fromkeys(ROLES, 403) | {
    "anonymous": 303, "coordinator": 200, "case_director": 200, "jobcoach": 200,
    "school_admin": 200, "professional": 200,
}  # fmt: skip
OTHER = dict.fromkeys(ROLES, 403) | {"anonymous": 303, "coordinator": 200, "school2_admin": 200}
JOBCOACH_CASE = OTHER | {"jobcoach": 200}


def _api(expected: dict[str, int]) -> dict[str, int]:
    return expected | {"anonymous": 401}


TABLE: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/dashboard", ALL),
    ("GET", "/api/dashboard", API_ALL),
    ("GET", "/trajectories/{own}", OWN),
    ("GET", "/trajectories/{other}", OTHER),
    ("GET", "/trajectories/{jobcoach_case}", JOBCOACH_CASE),
    (
        "GET",
        "/trajectories/trj_unknown00000000",
        OTHER | {"coordinator": 403, "school2_admin": 403},
    ),
    ("GET", "/api/trajectories/{own}", _api(OWN)),
    ("GET", "/api/trajectories/{other}", _api(OTHER)),
    ("GET", "/export/figures.csv", COORDINATOR),
    ("GET", "/enroll", SCHOOL_STAFF),
    ("GET", "/import", SCHOOL_STAFF),
    ("GET", "/directory", ALL),
    ("GET", "/api/directory", API_ALL),
    ("POST", "/directory/organisations", COORDINATOR),
    ("POST", "/directory/people", COORDINATOR),
    ("POST", "/directory/roles", COORDINATOR),
    ("POST", "/directory/tokens", COORDINATOR),
    # keeping the directory and the rotations: the coordinator only
    ("GET", "/directory/organisations/org_uwv", COORDINATOR),
    ("POST", "/directory/organisations/org_uwv", COORDINATOR),
    ("POST", "/directory/organisations/{spare_org}/remove", COORDINATOR),
    ("POST", "/directory/organisations/{spare_org}/reactivate", COORDINATOR),
    ("GET", "/directory/people/pro_outsider", COORDINATOR),
    ("POST", "/directory/people/pro_outsider", COORDINATOR),
    ("POST", "/directory/people/{spare}/deactivate", COORDINATOR),
    ("POST", "/directory/people/{spare}/reactivate", COORDINATOR),
    ("POST", "/directory/roles/{assignment}/remove", COORDINATOR),
    ("POST", "/directory/tokens/{token}/revoke", COORDINATOR),
    ("GET", "/directory/rotations/{rotation}", ALL),
    ("POST", "/directory/rotations", COORDINATOR),
    ("POST", "/directory/rotations/{rotation}", COORDINATOR),
    ("POST", "/directory/rotations/{rotation}/delete", COORDINATOR),
    ("POST", "/directory/rotations/{rotation}/members", COORDINATOR),
    ("POST", "/directory/rotations/{rotation}/members/{member}/up", COORDINATOR),
    ("POST", "/directory/rotations/{rotation}/members/{member}/remove", COORDINATOR),
    ("POST", "/directory/rotations/{rotation}/overrides", COORDINATOR),
    ("POST", "/directory/rotations/{rotation}/overrides/{override}/delete", COORDINATOR),
    ("GET", "/api/directory/tokens", _api(COORDINATOR)),
    ("POST", "/api/directory/tokens", _api(COORDINATOR)),
    ("DELETE", "/api/directory/tokens/{token}", _api(COORDINATOR)),
    ("POST", "/api/directory/organisations", _api(COORDINATOR)),
    ("PATCH", "/api/directory/organisations/org_uwv", _api(COORDINATOR)),
    ("DELETE", "/api/directory/organisations/{spare_org}", _api(COORDINATOR)),
    ("POST", "/api/directory/organisations/{spare_org}/reactivate", _api(COORDINATOR)),
    ("POST", "/api/directory/people", _api(COORDINATOR)),
    ("PATCH", "/api/directory/people/pro_outsider", _api(COORDINATOR)),
    ("DELETE", "/api/directory/people/{spare}", _api(COORDINATOR)),
    ("POST", "/api/directory/people/{spare}/reactivate", _api(COORDINATOR)),
    ("POST", "/api/directory/roles", _api(COORDINATOR)),
    ("DELETE", "/api/directory/roles/{assignment}", _api(COORDINATOR)),
    ("GET", "/api/directory/rotations/{rotation}", API_ALL),
    ("POST", "/api/directory/rotations", _api(COORDINATOR)),
    ("PATCH", "/api/directory/rotations/{rotation}", _api(COORDINATOR)),
    ("DELETE", "/api/directory/rotations/{rotation}", _api(COORDINATOR)),
    ("POST", "/api/directory/rotations/{rotation}/members", _api(COORDINATOR)),
    ("PUT", "/api/directory/rotations/{rotation}/members", _api(COORDINATOR)),
    ("DELETE", "/api/directory/rotations/{rotation}/members/{member}", _api(COORDINATOR)),
    ("POST", "/api/directory/rotations/{rotation}/overrides", _api(COORDINATOR)),
    ("DELETE", "/api/directory/rotations/{rotation}/overrides/{override}", _api(COORDINATOR)),
    ("GET", "/directory/policies/{policy}", ALL),
    ("POST", "/directory/policies", COORDINATOR),
    ("POST", "/directory/policies/{policy}", COORDINATOR),
    ("POST", "/directory/policies/{policy}/delete", COORDINATOR),
    ("GET", "/api/directory/policies", API_ALL),
    ("GET", "/api/directory/policies/{policy}", API_ALL),
    ("POST", "/api/directory/policies", _api(COORDINATOR)),
    ("PATCH", "/api/directory/policies/{policy}", _api(COORDINATOR)),
    ("DELETE", "/api/directory/policies/{policy}", _api(COORDINATOR)),
    ("POST", "/trajectories/{other}/tasks/case_meeting/complete", OTHER),
    ("POST", "/trajectories/{other}/dropout", OTHER),
    ("POST", "/trajectories/{other}/waakvlam/refuse", OTHER),
    ("POST", "/escalations/esc_unknown/ack", COORDINATOR | {"jobcoach": 200}),
    ("POST", "/trajectories/{other}/tasks/checkin_1m/checkin", OTHER),
    ("POST", "/trajectories/{other}/destination", OTHER),
]
FORMS = {
    "/directory/organisations": {"name": "Zorg BV", "kind": "care_provider"},
    "/directory/people": {"organisation_id": "org_uwv", "first_name": "Iris", "last_name": "B",
                          "email": "iris@example.org"},
    "/directory/roles": {"professional_id": "pro_outsider", "role": "jobcoach"},
    "/directory/tokens": {"school_id": "org_school", "name": "ParnasSys"},
    "/trajectories/{other}/dropout": {"reason": "contract_ended"},
    "/trajectories/{other}/tasks/checkin_1m/checkin": {"status": "at_risk"},
    "/trajectories/{other}/destination": {"destination": "work", "next_contact_id": "pro_jobcoach"},
    "/directory/organisations/org_uwv": {"name": "UWV", "kind": "uwv"},
    "/directory/people/pro_outsider": {"organisation_id": "org_uwv", "first_name": "Otto",
                                       "last_name": "T", "email": "otto@example.org"},
    "/directory/rotations": {"name": "Nieuw", "kind": "daily", "start": "2025-03-03T09:00"},
    "/directory/rotations/{rotation}": {"name": "Rooster", "start": "2025-03-03T09:00"},
    "/directory/rotations/{rotation}/members": {"professional_id": "pro_case_director"},
    "/directory/rotations/{rotation}/overrides": {"kind": "add", "professional_id": "pro_mentor",
                                                  "start": "2025-03-03T09:00",
                                                  "end": "2025-03-04T09:00"},
    "/directory/policies": {"name": "Nieuw", "step_target_0": "coordinator", "step_wait_0": "10"},
    "/directory/policies/{policy}": {"name": "Beleid", "step_target_0": "coordinator",
                                     "step_wait_0": "5"},
}  # fmt: skip
BODIES = {
    "/api/directory/tokens": {"school_id": "org_school", "name": "Magister"},
    "/api/directory/organisations": {"name": "Zorg BV", "kind": "care_provider"},
    "/api/directory/organisations/org_uwv": {"phone": "077 000"},
    "/api/directory/people": {"organisation_id": "org_uwv", "first_name": "Iris",
                              "last_name": "B", "email": "iris@example.org"},
    "/api/directory/people/pro_outsider": {"last_name": "T"},
    "/api/directory/roles": {"professional_id": "pro_outsider", "role": "jobcoach"},
    "/api/directory/rotations": {"name": "Nieuw", "start": "2025-03-03T09:00"},
    "/api/directory/rotations/{rotation}": {"kind": "daily"},
    "/api/directory/rotations/{rotation}/members": {"professional_id": "pro_case_director"},
    "/api/directory/rotations/{rotation}/overrides": {"kind": "add",
                                                      "professional_id": "pro_mentor",
                                                      "start": "2025-03-03T09:00",
                                                      "end": "2025-03-04T09:00"},
    "/api/directory/policies": {"name": "Nieuw",
                                "steps": [{"target": "coordinator", "wait_minutes": 10}]},
    "/api/directory/policies/{policy}": {"repeat": 0},
}  # fmt: skip


def _directory_rows(web: WebWorld) -> dict[str, str]:
    """What the directory rows of the table act on: a rotation with a member and an override,
    an API token, an organisation nothing refers to, a role assignment, an escalation policy
    (beside the default one)."""
    with Session(web.engine) as session:
        session.add(Organisation(id="org_spare", name="Leeg", kind=OrganisationKind.other))
        session.add(
            Rotation(id="rot_table", name="Rooster", start_at=datetime(2025, 3, 3, 8, tzinfo=UTC))
        )
        session.flush()
        member = RotationMember(rotation_id="rot_table", professional_id="pro_jobcoach", position=0)
        override = RotationOverride(
            rotation_id="rot_table",
            kind=OverrideKind.add,
            professional_id="pro_mentor",
            start_at=datetime(2025, 3, 3, tzinfo=UTC),
            end_at=datetime(2025, 3, 4, tzinfo=UTC),
        )
        session.add_all([member, override])
        step = {"target": "coordinator", "ref": None, "wait_minutes": 10}
        session.add(  # the region's default policy (the oldest), which is never deleted
            EscalationPolicy(
                id="pol_default", name="Standaard", steps=[step],
                created_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
        session.add(EscalationPolicy(id="pol_table", name="Beleid", steps=[step]))
        token = accounts.issue_api_token(
            session, name="SIS", scope="enroll:org_school", created_by=None
        )
        assignment = session.exec(
            select(RoleAssignment).where(RoleAssignment.professional_id == "pro_outsider")
        ).one()
        session.commit()
        return {
            "rotation": "rot_table", "member": str(member.id), "override": str(override.id),
            "token": accounts.api_token_id(accounts.token_hash(token)), "spare_org": "org_spare",
            "spare": web.seed.region.spare_id, "assignment": str(assignment.id),
            "policy": "pol_table",
        }  # fmt: skip


def _path(template: str, seed: Seed, rows: dict[str, str]) -> str:
    return template.format(own=seed.own, other=seed.other, jobcoach_case=seed.jobcoach_case, **rows)


@pytest.mark.parametrize(
    ("method", "path", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE]
)
async def test_role_by_endpoint(
    web: WebWorld, method: str, path: str, expected: dict[str, int]
) -> None:
    rows = _directory_rows(web)
    url = _path(path, web.seed, rows)
    names = {"Bram", "Cees"}  # youth at the second school
    directory = "directory/" in path  # changes of the directory must leave nothing behind
    for role in ROLES:
        client, csrf = web.anonymous() if role == "anonymous" else web.as_role(role)
        before = snapshot(web.engine) if directory else None
        if method == "GET":
            response = await client.get(url)
        elif path.startswith("/api/"):
            body = BODIES.get(path)
            if path.endswith("/members") and method == "PUT":
                body = {"member_ids": [int(rows["member"])]}
            headers = {"X-CSRF-Token": csrf}
            response = await client.request(method, url, json=body, headers=headers)
        else:
            data = {"csrf_token": csrf, **FORMS.get(path, {})}
            response = await client.post(url, data=data)
        got = response.status_code
        # a change that is allowed redirects, re-renders the page or answers 200/201
        ok = got == expected[role] or (expected[role] == 200 and got in (200, 201, 303))
        assert ok, f"{role}: {method} {url} answered {got}, expected {expected[role]}"
        if got in (401, 403):
            assert not names & set(response.text.replace("<", " ").split()), role
            assert "Jansen" not in response.text
        if got in (401, 403) or (role == "anonymous" and got == 303):
            assert before is None or snapshot(web.engine) == before, f"{role} changed {url}"


async def test_a_form_post_without_the_csrf_token_is_refused(web: WebWorld) -> None:
    client, _ = web.as_role("coordinator")
    response = await client.post("/directory/organisations", data={"name": "X", "kind": "other"})
    assert response.status_code == 403
    response = await client.post(
        "/directory/organisations", data={"name": "X", "kind": "other", "csrf_token": "forged"}
    )
    assert response.status_code == 403


async def test_the_caseload_shows_only_the_professionals_own_youth(web: WebWorld) -> None:
    client, _ = web.as_role("jobcoach")
    data = (await client.get("/api/dashboard")).json()
    ids = {y["trajectory_id"] for rows in data["lists"].values() for y in rows}
    assert web.seed.other not in ids
    assert data["flags"]["open"] == 2  # own (their school) and the case they own a task of
    names = {y["name"] for rows in data["lists"].values() for y in rows}
    assert names <= {"Sanne", "Cees"}  # first names only for non-coordinators
    coordinator, _ = web.as_role("coordinator")
    region = (await coordinator.get("/api/dashboard")).json()
    assert region["flags"]["open"] == 3
    assert "Bram Jansen" in {y["name"] for rows in region["lists"].values() for y in rows}


async def test_webhooks_stay_reachable_without_sign_in(web: WebWorld) -> None:
    client, _ = web.anonymous()
    response = await client.get("/webhooks/cm/status", params={"reference": "wv999"})
    assert response.status_code == 200
    assert response.json() == {"matched": 0}
    response = await client.post("/webhooks/twilio/status", data={"MessageStatus": "delivered"})
    assert response.status_code == 403  # signature checked, no sign-in asked


async def test_security_headers_are_on_every_response(web: WebWorld) -> None:
    client, _ = web.anonymous()
    response = await client.get("/signin")
    headers = response.headers
    assert "script-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "<script" not in response.text
    fresh = web.client()
    first = await fresh.get("/signin")
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


async def test_outside_the_case_team_a_refused_data_sharing_consent_hides_the_youth(
    web: WebWorld,
) -> None:
    """The mentor sees the school's youth through the organisation, but is not in the case
    team: once the youth (17) refuses data sharing, the page is closed to them; the case
    director still sees it."""
    mentor, _ = web.as_role("professional")
    page = f"/api/trajectories/{web.seed.own}"
    assert (await mentor.get(page)).status_code == 200
    with Session(web.engine) as session:
        session.add(
            Consent(
                youth_id="yth_" + web.seed.own.removeprefix("trj_"),
                trajectory_id=web.seed.own,
                kind=ConsentKind.data_sharing,
                status=ConsentStatus.refused,
            )
        )
        session.commit()
    refused = await mentor.get(page)
    assert refused.status_code == 403 and "Sanne" not in refused.text
    director, _ = web.as_role("case_director")
    assert (await director.get(page)).status_code == 200
