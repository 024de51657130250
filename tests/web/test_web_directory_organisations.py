"""An organisation with history is made inactive instead of removed: refused while it still has
active people or open trajectories, hidden from every picker (enrollment, CSV import, API
tokens, people, roles, rotations), its tokens stop enrolling, shown greyed in the directory,
still counted in the figures, and reactivated with one button."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import Session

from store.directory import Organisation
from store.trajectories import Trajectory, TrajectoryStatus
from tests.web.directory_kit import audits_since, call, last_audit_id, snapshot
from tests.web.test_web_directory_and_enroll import FakeTemporal, body
from tests.web.test_web_import import csv_text, leaver
from tests.web.world import WebWorld


def _close_trajectories(web: WebWorld, school: str) -> None:
    with Session(web.engine) as session:
        session.exec(
            update(Trajectory)
            .where(Trajectory.school_id == school)  # type: ignore[arg-type]
            .values(status=TrajectoryStatus.closed)
        )
        session.commit()


def _active(web: WebWorld, org_id: str) -> bool:
    with Session(web.engine) as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        return org.active


async def _figures(client: httpx.AsyncClient) -> tuple[dict[str, Any], str]:
    dashboard = (await client.get("/api/dashboard")).json()
    return dashboard, (await client.get("/export/figures.csv")).text


async def _deactivate_school2(web: WebWorld) -> None:
    """org_school2 keeps its history (a former administrator, closed trajectories, youth)."""
    client, csrf = web.as_role("coordinator")
    assert (await call(client, "DELETE", "/api/directory/people/pro_school2", csrf)).is_success
    _close_trajectories(web, "org_school2")
    gone = await call(client, "DELETE", "/api/directory/organisations/org_school2", csrf)
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"id": "org_school2", "status": "inactive"}


async def test_an_organisation_with_history_is_made_inactive_and_reactivated(
    web: WebWorld,
) -> None:
    client, csrf = web.as_role("coordinator")
    # still in use: refused with a message saying what to do first, nothing changed
    before = snapshot(web.engine)
    busy = await client.post(
        "/directory/organisations/org_school2/remove", data={"csrf_token": csrf}
    )
    assert busy.status_code == 409 and "Verplaats hen" in busy.text
    await call(client, "DELETE", "/api/directory/people/pro_school2", csrf)
    before = snapshot(web.engine)
    still = await call(client, "DELETE", "/api/directory/organisations/org_school2", csrf)
    assert still.status_code == 409
    assert still.json()["detail"]["error"] == "org_has_trajectories"
    assert snapshot(web.engine) == before and _active(web, "org_school2")
    _close_trajectories(web, "org_school2")
    figures = await _figures(client)
    since = last_audit_id(web.engine)
    page = await client.post(
        "/directory/organisations/org_school2/remove", data={"csrf_token": csrf}
    )
    assert page.status_code == 200 and 'id="org-inactive"' in page.text
    assert "/directory/organisations/org_school2/reactivate" in page.text
    assert not _active(web, "org_school2")
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_id) == ("organisation_deactivated", "org_school2")
    # removing it again changes nothing more
    again = await call(client, "DELETE", "/api/directory/organisations/org_school2", csrf)
    assert again.json()["status"] == "inactive" and audits_since(web.engine, since) == [entry]
    # greyed in the directory, for everyone; the API says so
    directory = await client.get("/directory")
    section = re.search(r'<section class="card([^"]*)" id="org-org_school2">', directory.text)
    assert section is not None and "muted inactive" in section.group(1)
    data = (await client.get("/api/directory")).json()
    states = {o["id"]: o["active"] for o in data["organisations"]}
    assert states["org_school2"] is False and states["org_school"] is True
    # hidden from the pickers of the directory page
    pickers = directory.text.split('action="/directory/people"', 1)[1]
    assert 'value="org_school2"' not in pickers and 'value="org_school"' in pickers
    # and refused when named anyway: nothing written
    before = snapshot(web.engine)
    person = {"organisation_id": "org_school2", "first_name": "I", "last_name": "B",
              "email": "ib@example.org"}  # fmt: skip
    refused = [
        await call(client, "POST", "/api/directory/people", csrf, person),
        await call(client, "PATCH", "/api/directory/people/pro_outsider", csrf,
                   {"organisation_id": "org_school2"}),  # fmt: skip
        await call(client, "POST", "/api/directory/roles", csrf,
                   {"professional_id": "pro_outsider", "role": "school",
                    "scope_organisation_id": "org_school2"}),  # fmt: skip
        await call(client, "POST", "/api/directory/tokens", csrf,
                   {"school_id": "org_school2", "name": "SIS"}),  # fmt: skip
        await call(client, "POST", "/api/directory/rotations", csrf,
                   {"name": "R", "start": "2025-03-03T09:00", "organisation_id": "org_school2"}),
        await call(client, "POST", "/api/directory/people/pro_school2/reactivate", csrf),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [422, 422, 422, 422, 422, 409]
    assert {r.json()["detail"]["error"] for r in refused} == {"inactive_organisation"}
    assert snapshot(web.engine) == before
    form = await client.post("/directory/people", data={"csrf_token": csrf, **person})
    assert form.status_code == 422 and "niet actief" in form.text
    # its former administrator's page still shows (and keeps) the organisation
    own = await client.get("/directory/people/pro_school2")
    assert 'value="org_school2" selected' in own.text
    # the figures are the same as before: reports keep counting its history
    assert await _figures(client) == figures
    # reactivated: back in the pickers, its people can come back
    since = last_audit_id(web.engine)
    back = await client.post(
        "/directory/organisations/org_school2/reactivate", data={"csrf_token": csrf}
    )
    assert back.status_code == 200 and 'id="org-inactive"' not in back.text
    assert _active(web, "org_school2")
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_id) == ("organisation_reactivated", "org_school2")
    assert (
        await call(client, "POST", "/api/directory/people/pro_school2/reactivate", csrf)
    ).status_code == 200
    api = await call(client, "POST", "/api/directory/organisations/org_school2/reactivate", csrf)
    assert api.json() == {"id": "org_school2", "status": "active"}


async def test_an_inactive_school_enrolls_nobody(web: WebWorld) -> None:
    temporal = FakeTemporal()
    web.app.state.web.client = temporal
    client, csrf = web.as_role("coordinator")
    issued = await call(
        client, "POST", "/api/directory/tokens", csrf, {"school_id": "org_school2", "name": "SIS"}
    )
    token = issued.json()["token"]
    system = web.client()
    headers = {"Authorization": f"Bearer {token}"}
    enrolled = await system.post(
        "/api/enrollments", json=body("org_school2", "S1"), headers=headers
    )
    assert enrolled.status_code == 201
    await _deactivate_school2(web)
    # the token of its administration system stops working
    refused = await system.post("/api/enrollments", json=body("org_school2", "S2"), headers=headers)
    assert refused.status_code == 401
    # the enroll form does not offer it; named anyway, it is refused with a clear problem
    form = await client.get("/enroll")
    assert 'value="org_school2"' not in form.text and 'value="org_school"' in form.text
    posted = await client.post("/enroll", data={"csrf_token": csrf, **body("org_school2", "S3")})
    assert "is inactive" in posted.text
    api = await call(client, "POST", "/api/enrollments", csrf, body("org_school2", "S4"))
    assert api.status_code == 422 and "is inactive" in " ".join(api.json()["problems"])
    assert len(temporal.started) == 1
    # the CSV import names the inactive school per row, and does not offer it
    importing = await client.get("/import")
    assert 'value="org_school2"' not in importing.text
    rows = [leaver(1), leaver(2, school="org_school2")]
    page = await client.post(
        "/import",
        data={"csrf_token": csrf, "school_id": "org_school"},
        files={"file": ("l.csv", csv_text(rows).encode(), "text/csv")},
    )
    errors = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", page.text))
    assert set(errors) == {"3"} and "niet actief" in errors["3"]
    # reactivated, the same token enrolls again
    await call(client, "POST", "/api/directory/organisations/org_school2/reactivate", csrf)
    again = await system.post("/api/enrollments", json=body("org_school2", "S5"), headers=headers)
    assert again.status_code == 201
