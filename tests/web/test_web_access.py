"""Who may open what: every endpoint for every role (and for nobody signed in). A 403 says
nothing about the youth it guards, and an unknown id looks the same as one out of scope."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from store.youth import Consent, ConsentKind, ConsentStatus
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
}  # fmt: skip


def _path(template: str, seed: Seed) -> str:
    return template.format(own=seed.own, other=seed.other, jobcoach_case=seed.jobcoach_case)


@pytest.mark.parametrize(
    ("method", "path", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE]
)
async def test_role_by_endpoint(
    web: WebWorld, method: str, path: str, expected: dict[str, int]
) -> None:
    url = _path(path, web.seed)
    names = {"Bram", "Cees"}  # youth at the second school
    for role in ROLES:
        client, csrf = web.anonymous() if role == "anonymous" else web.as_role(role)
        if method == "GET":
            response = await client.get(url)
        else:
            data = {"csrf_token": csrf, **FORMS.get(path, {})}
            response = await client.post(url, data=data)
        got = response.status_code
        # a POST that is allowed redirects or re-renders the page
        ok = got == expected[role] or (expected[role] == 200 and got in (200, 303))
        assert ok, f"{role}: {method} {url} answered {got}, expected {expected[role]}"
        if got in (401, 403):
            assert not names & set(response.text.replace("<", " ").split()), role
            assert "Jansen" not in response.text


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
