"""The network directory (read by all, kept by the coordinator), API tokens scoped to one
school, and enrolling one youth by form and by API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from store.directory import Organisation, Professional, RoleAssignment
from store.oncall import Rotation, RotationMember
from tests.web.world import WebWorld

BIRTH = (date.today() - timedelta(days=17 * 365 + 30)).isoformat()
LEAVE = (date.today() + timedelta(days=200)).isoformat()


class FakeTemporal:
    def __init__(self) -> None:
        self.started: list[str] = []

    async def start_workflow(self, *args: Any, id: str, **kwargs: Any) -> None:
        self.started.append(id)


def body(school: str = "org_school", ref: str = "A1") -> dict[str, str]:
    return {
        "school_id": school,
        "school_ref": ref,
        "first_name": "Noor",
        "last_name": "Smit",
        "birth_date": BIRTH,
        "leave_date": LEAVE,
        "school_type": "PrO",
    }


async def test_everyone_reads_the_directory_with_who_is_on_call_now(web: WebWorld) -> None:
    with Session(web.engine) as session:
        session.add(
            Rotation(
                id="rot_jc",
                name="Jobcoach op afroep",
                start_at=datetime.now(UTC) - timedelta(days=1),
            )
        )
        session.flush()
        session.add(
            RotationMember(rotation_id="rot_jc", professional_id="pro_jobcoach", position=0)
        )
        session.commit()
    client, _ = web.as_role("outsider")
    data = (await client.get("/api/directory")).json()
    assert data["rotations"] == [
        {
            "id": "rot_jc",
            "name": "Jobcoach op afroep",
            "on_call": [{"id": "pro_jobcoach", "name": "Voornaam6 Achternaam6"}],
        }
    ]
    school = next(o for o in data["organisations"] if o["id"] == "org_school")
    roles = {r["role"] for p in school["people"] for r in p["roles"]}
    assert {"case_director", "mentor", "jobcoach"} <= roles
    page = await client.get("/directory")
    assert "Nu bereikbaar" in page.text and "Organisatie toevoegen" not in page.text


async def test_the_coordinator_keeps_the_directory(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    await client.post(
        "/directory/organisations",
        data={"csrf_token": csrf, "name": "Werkbedrijf", "kind": "employer"},
    )
    with Session(web.engine) as session:
        org = session.exec(select(Organisation).where(Organisation.name == "Werkbedrijf")).one()
    await client.post(
        "/directory/people",
        data={
            "csrf_token": csrf,
            "organisation_id": org.id,
            "first_name": "Wim",
            "last_name": "Berg",
            "email": "Wim@Example.org",
        },
    )
    with Session(web.engine) as session:
        wim = session.exec(select(Professional).where(Professional.first_name == "Wim")).one()
    await client.post(
        "/directory/roles", data={"csrf_token": csrf, "professional_id": wim.id, "role": "jobcoach"}
    )
    with Session(web.engine) as session:
        roles = session.exec(
            select(RoleAssignment.role).where(RoleAssignment.professional_id == wim.id)
        ).all()
    assert [r.value for r in roles] == ["jobcoach"]
    # Wim can now sign in with the address he was given
    anonymous, anon_csrf = web.anonymous()
    await anonymous.post("/signin", data={"email": "wim@example.org", "csrf_token": anon_csrf})
    assert web.emails.sent[-1].to == "wim@example.org" and "Wim" in web.emails.sent[-1].text


async def test_an_api_token_enrolls_only_for_its_own_school(web: WebWorld) -> None:
    temporal = FakeTemporal()
    web.app.state.web.client = temporal
    client, csrf = web.as_role("coordinator")
    page = await client.post(
        "/directory/tokens", data={"csrf_token": csrf, "school_id": "org_school", "name": "SIS"}
    )
    match = re.search(r'id="new-token">([^<]+)<', page.text)
    assert match
    system = web.client()
    headers = {"Authorization": f"Bearer {match.group(1)}"}
    created = await system.post("/api/enrollments", json=body(), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True and len(temporal.started) == 1
    again = await system.post("/api/enrollments", json=body(), headers=headers)
    assert again.status_code == 200 and again.json()["created"] is False
    other = await system.post("/api/enrollments", json=body("org_school2", "B1"), headers=headers)
    assert other.status_code == 403 and "Noor" not in other.text
    wrong = await system.post(
        "/api/enrollments", json=body(), headers={"Authorization": "Bearer x"}
    )
    assert wrong.status_code == 401
    bad = await system.post(
        "/api/enrollments", json=body(ref="A2") | {"birth_date": "2030-01-01"}, headers=headers
    )
    assert bad.status_code == 422 and "birth_date" in bad.json()["problems"][0]


async def test_a_browser_session_needs_the_csrf_header_for_the_json_api(web: WebWorld) -> None:
    web.app.state.web.client = FakeTemporal()
    client, csrf = web.as_role("school_admin")
    assert (await client.post("/api/enrollments", json=body())).status_code == 403
    ok = await client.post("/api/enrollments", json=body(), headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


async def test_the_enroll_form(web: WebWorld) -> None:
    temporal = FakeTemporal()
    web.app.state.web.client = temporal
    client, csrf = web.as_role("school_admin")
    page = await client.get("/enroll")
    assert "Praktijkschool De Maas" in page.text and "VSO De Berken" not in page.text
    done = await client.post("/enroll", data={"csrf_token": csrf, **body(), "vso_profile": ""})
    assert "het traject loopt" in done.text and temporal.started
    wrong = await client.post(
        "/enroll", data={"csrf_token": csrf, **body(ref="Z9"), "birth_date": "not-a-date"}
    )
    assert "birth_date" in wrong.text and len(temporal.started) == 1
    forbidden = await client.post("/enroll", data={"csrf_token": csrf, **body("org_school2")})
    assert forbidden.status_code == 403


async def test_without_temporal_enrollment_answers_503(web: WebWorld) -> None:
    client, csrf = web.as_role("school_admin")
    response = await client.post("/api/enrollments", json=body(), headers={"X-CSRF-Token": csrf})
    assert response.status_code == 503


async def test_the_openapi_description_lists_the_json_api(web: WebWorld) -> None:
    client, _ = web.anonymous()
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/dashboard",
        "/api/trajectories/{trajectory_id}",
        "/api/enrollments",
        "/api/directory",
        "/export/figures.csv",
    ):
        assert path in paths
