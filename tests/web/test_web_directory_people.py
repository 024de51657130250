"""The coordinator keeps the directory in the app: edits and removes organisations, edits people
and their contact details, makes people inactive, removes roles and revokes API tokens; by form
and by the JSON API, refused whole on bad input, audited with ids only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from store.contact_verification import UNVERIFIED
from store.directory import (
    Channel,
    ContactMethod,
    Organisation,
    PersonKind,
    Professional,
    RoleAssignment,
)
from store.oncall import Rotation, RotationMember
from tests.web.directory_kit import audits_since, call, last_audit_id, snapshot
from tests.web.test_web_directory_and_enroll import FakeTemporal, body
from tests.web.world import WebWorld


def _contacts(web: WebWorld, pid: str) -> dict[Channel, ContactMethod]:
    with Session(web.engine) as session:
        rows = session.exec(
            select(ContactMethod).where(
                ContactMethod.person_kind == PersonKind.professional,
                ContactMethod.person_id == pid,
            )
        ).all()
    return {r.channel: r for r in rows}


def _assignment(web: WebWorld, pid: str) -> int:
    with Session(web.engine) as session:
        row = session.exec(
            select(RoleAssignment).where(RoleAssignment.professional_id == pid)
        ).first()
    assert row is not None and row.id is not None
    return row.id


async def test_the_coordinator_edits_an_organisation_by_form_and_api(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    since = last_audit_id(web.engine)
    page = await client.get("/directory/organisations/org_uwv")
    assert page.status_code == 200 and 'value="UWV Venlo"' in page.text
    form = {"csrf_token": csrf, "name": "UWV Noord-Limburg", "kind": "uwv", "phone": "077 1234"}
    saved = await client.post("/directory/organisations/org_uwv", data=form)
    assert saved.status_code == 200 and "Opgeslagen" in saved.text
    with Session(web.engine) as session:
        org = session.get(Organisation, "org_uwv")
        assert org is not None and (org.name, org.phone) == ("UWV Noord-Limburg", "077 1234")
    # an emptied field clears it; the API changes only what it is sent
    await client.post("/directory/organisations/org_uwv", data=form | {"phone": ""})
    patched = await call(
        client, "PATCH", "/api/directory/organisations/org_uwv", csrf, {"email": "Info@UWV.nl"}
    )
    assert patched.status_code == 200, patched.text
    with Session(web.engine) as session:
        org = session.get(Organisation, "org_uwv")
        assert org is not None
        assert (org.name, org.phone, org.email) == ("UWV Noord-Limburg", None, "info@uwv.nl")
    entries = audits_since(web.engine, since)
    assert [e.action for e in entries] == ["organisation_changed"] * 3
    assert entries[-1].subject_id == "org_uwv" and entries[-1].detail == {"fields": ["email"]}
    english = await client.get("/directory/organisations/org_uwv?lang=en")
    assert "Edit" in english.text and "Wijzigen" not in english.text


async def test_an_organisation_in_use_is_not_removed(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    before = snapshot(web.engine)
    busy = await client.post(
        "/directory/organisations/org_school/remove", data={"csrf_token": csrf}
    )
    assert busy.status_code == 409 and "nog actieve mensen" in busy.text
    assert snapshot(web.engine) == before
    # its only person goes, but its trajectories are still open
    await call(client, "DELETE", "/api/directory/people/pro_school2", csrf)
    refused = await call(client, "DELETE", "/api/directory/organisations/org_school2", csrf)
    assert refused.status_code == 409
    assert refused.json()["detail"]["error"] == "org_has_trajectories"
    # a former colleague is history: the organisation is kept, made inactive
    await call(client, "DELETE", "/api/directory/people/pro_outsider", csrf)
    kept = await call(client, "DELETE", "/api/directory/organisations/org_uwv", csrf)
    assert kept.status_code == 200 and kept.json()["status"] == "inactive"
    # an organisation nothing refers to goes
    created = await call(
        client, "POST", "/api/directory/organisations", csrf, {"name": "Tijdelijk", "kind": "other"}
    )
    assert created.status_code == 201
    org_id = created.json()["id"]
    since = last_audit_id(web.engine)
    gone = await client.post(f"/directory/organisations/{org_id}/remove", data={"csrf_token": csrf})
    assert gone.status_code == 200 and "Tijdelijk" not in gone.text
    with Session(web.engine) as session:
        assert session.get(Organisation, org_id) is None
        kept_org = session.get(Organisation, "org_uwv")
        assert kept_org is not None and not kept_org.active
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_id) == ("organisation_removed", org_id)
    unknown = await call(client, "DELETE", "/api/directory/organisations/org_nope", csrf)
    assert unknown.status_code == 404


async def test_the_coordinator_edits_a_person_and_their_contact_details(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    since = last_audit_id(web.engine)
    page = await client.get("/directory/people/pro_outsider")
    assert page.status_code == 200 and "pro_outsider@example.org" in page.text
    form = {
        "csrf_token": csrf,
        "first_name": "Otto",
        "last_name": "Verbeek",
        "organisation_id": "org_school2",
        "language": "en",
        "email": "Otto.Verbeek@Example.org",
        "mobile": "06 1234 5678",
    }
    saved = await client.post("/directory/people/pro_outsider", data=form)
    assert saved.status_code == 200 and "Opgeslagen" in saved.text
    assert "nog niet bevestigd" in saved.text
    with Session(web.engine) as session:
        person = session.get(Professional, "pro_outsider")
        assert person is not None
        assert (person.last_name, person.organisation_id, person.language.value) == (
            "Verbeek",
            "org_school2",
            "en",
        )
    contacts = _contacts(web, "pro_outsider")
    assert contacts[Channel.email].address == "otto.verbeek@example.org"
    mobile = contacts[Channel.sms]
    # a new number is not paged by SMS until its owner confirms the code
    assert mobile.address == "+31612345678" and mobile.verified_at is None
    assert mobile.disabled_reason == UNVERIFIED
    # he signs in with the new address, not with the old one
    anonymous, anon_csrf = web.anonymous()
    for address in ("pro_outsider@example.org", "otto.verbeek@example.org"):
        await anonymous.post("/signin", data={"email": address, "csrf_token": anon_csrf})
    assert [e.to for e in web.emails.sent] == ["otto.verbeek@example.org"]
    # a verified number stays verified when it is sent again unchanged, a new one is not
    with Session(web.engine) as session:
        row = session.get(ContactMethod, mobile.id)
        assert row is not None
        row.verified_at, row.disabled_reason = datetime.now(UTC), None
        session.add(row)
        session.commit()
    same = await call(
        client, "PATCH", "/api/directory/people/pro_outsider", csrf, {"mobile": "+31612345678"}
    )
    assert same.status_code == 200
    assert _contacts(web, "pro_outsider")[Channel.sms].verified_at is not None
    await call(
        client, "PATCH", "/api/directory/people/pro_outsider", csrf, {"mobile": "0687654321"}
    )
    changed = _contacts(web, "pro_outsider")[Channel.sms]
    assert (changed.address, changed.verified_at) == ("+31687654321", None)
    assert changed.disabled_reason == UNVERIFIED
    removed = await call(
        client, "PATCH", "/api/directory/people/pro_outsider", csrf, {"mobile": None}
    )
    assert removed.status_code == 200 and Channel.sms not in _contacts(web, "pro_outsider")
    actions = {e.action for e in audits_since(web.engine, since)}
    assert actions == {"professional_changed", "sign_in_link_requested"}


async def test_a_person_added_with_a_mobile_number_starts_unverified(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    person = {
        "organisation_id": "org_uwv",
        "first_name": "Iris",
        "last_name": "Bos",
        "email": "iris@example.org",
        "mobile": "+31 6 11112222",
    }
    created = await call(client, "POST", "/api/directory/people", csrf, person)
    assert created.status_code == 201, created.text
    contacts = _contacts(web, created.json()["id"])
    assert contacts[Channel.sms].address == "+31611112222"
    assert contacts[Channel.sms].disabled_reason == UNVERIFIED
    again = await call(client, "POST", "/api/directory/people", csrf, person | {"mobile": None})
    assert again.status_code == 409 and again.json()["detail"]["error"] == "email_taken"


async def test_a_deactivated_person_leaves_sign_in_and_who_is_on_call(web: WebWorld) -> None:
    with Session(web.engine) as session:
        session.add(
            Rotation(id="rot_jc", name="Jobcoach", start_at=datetime.now(UTC) - timedelta(days=1))
        )
        session.flush()
        session.add(
            RotationMember(rotation_id="rot_jc", professional_id="pro_jobcoach", position=0)
        )
        session.commit()
    client, csrf = web.as_role("coordinator")
    jobcoach, _ = web.as_role("jobcoach")
    assert (await jobcoach.get("/api/dashboard")).status_code == 200

    def on_call(data: dict[str, object]) -> list[str]:
        rotations = data["rotations"]
        assert isinstance(rotations, list)
        return [p["id"] for p in rotations[0]["on_call"]]

    assert on_call((await client.get("/api/directory")).json()) == ["pro_jobcoach"]
    since = last_audit_id(web.engine)
    page = await client.post("/directory/people/pro_jobcoach/deactivate", data={"csrf_token": csrf})
    assert page.status_code == 200 and "niet actief" in page.text
    assert on_call((await client.get("/api/directory")).json()) == []
    assert (await jobcoach.get("/api/dashboard")).status_code == 401  # the session is dead too
    anonymous, anon_csrf = web.anonymous()
    await anonymous.post(
        "/signin", data={"email": "pro_jobcoach@example.org", "csrf_token": anon_csrf}
    )
    assert web.emails.sent == []
    with Session(web.engine) as session:  # kept, with their history
        person = session.get(Professional, "pro_jobcoach")
        assert person is not None and not person.active
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_id) == ("professional_deactivated", "pro_jobcoach")
    back = await call(client, "POST", "/api/directory/people/pro_jobcoach/reactivate", csrf)
    assert back.status_code == 200
    assert on_call((await client.get("/api/directory")).json()) == ["pro_jobcoach"]
    # nobody makes themselves inactive (the region would lose its coordinator)
    coordinator = web.seed.people["coordinator"]
    before = snapshot(web.engine)
    self_ = await call(client, "DELETE", f"/api/directory/people/{coordinator}", csrf)
    assert self_.status_code == 409 and snapshot(web.engine) == before


async def test_the_coordinator_removes_a_role(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    assignment = _assignment(web, "pro_outsider")
    since = last_audit_id(web.engine)
    page = await client.post(f"/directory/roles/{assignment}/remove", data={"csrf_token": csrf})
    assert page.status_code == 200 and "Opgeslagen" in page.text
    with Session(web.engine) as session:
        assert session.get(RoleAssignment, assignment) is None
    [entry] = audits_since(web.engine, since)
    assert entry.action == "role_removed" and entry.subject_id == "pro_outsider"
    assert entry.detail == {"assignment": assignment, "role": "labour_expert"}
    unknown = await call(client, "DELETE", f"/api/directory/roles/{assignment}", csrf)
    assert unknown.status_code == 404
    own = _assignment(web, web.seed.people["coordinator"])
    before = snapshot(web.engine)
    refused = await call(client, "DELETE", f"/api/directory/roles/{own}", csrf)
    assert refused.status_code == 409 and snapshot(web.engine) == before
    # assigning it back by the API; twice is a conflict that writes nothing
    role = {"professional_id": "pro_outsider", "role": "labour_expert"}
    assert (await call(client, "POST", "/api/directory/roles", csrf, role)).status_code == 201
    before = snapshot(web.engine)
    twice = await call(client, "POST", "/api/directory/roles", csrf, role)
    assert twice.status_code == 409 and snapshot(web.engine) == before


async def test_a_revoked_token_no_longer_lets_its_system_in(web: WebWorld) -> None:
    web.app.state.web.client = FakeTemporal()
    client, csrf = web.as_role("coordinator")
    issued = await call(
        client, "POST", "/api/directory/tokens", csrf, {"school_id": "org_school", "name": "SIS"}
    )
    assert issued.status_code == 201
    token_id, token = issued.json()["id"], issued.json()["token"]
    system = web.client()
    headers = {"Authorization": f"Bearer {token}"}
    assert (await system.post("/api/enrollments", json=body(), headers=headers)).status_code == 201
    listed = (await client.get("/api/directory/tokens")).json()
    assert [(t["id"], t["name"], t["revoked_at"]) for t in listed] == [(token_id, "SIS", None)]
    assert token not in json.dumps(listed)
    page = await client.get("/directory")
    assert f"/directory/tokens/{token_id}/revoke" in page.text
    since = last_audit_id(web.engine)
    revoked = await client.post(f"/directory/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 200 and "ingetrokken" in revoked.text
    refused = await system.post("/api/enrollments", json=body(ref="A2"), headers=headers)
    assert refused.status_code == 401
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_kind, entry.subject_id) == (
        "api_token_revoked",
        "api_token",
        token_id,
    )
    assert (
        await call(client, "DELETE", "/api/directory/tokens/0123456789abcdef", csrf)
    ).status_code == 404


async def test_bad_input_is_refused_with_a_message_and_nothing_written(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    before = snapshot(web.engine)
    person = {
        "csrf_token": csrf,
        "organisation_id": "org_uwv",
        "first_name": "Iris",
        "last_name": "B",
        "email": "not-an-address",
        "mobile": "12",
    }
    page = await client.post("/directory/people", data=person)
    assert page.status_code == 422
    assert "Controleer deze velden: E-mail, Mobiel nummer (sms)" in page.text
    unknown_org = await client.post(
        "/directory/people",
        data=person | {"organisation_id": "org_x", "email": "i@x.nl", "mobile": ""},
    )
    assert unknown_org.status_code == 422 and "Onbekende organisatie" in unknown_org.text
    english = await client.post(
        "/directory/organisations/org_nope?lang=en",
        data={"csrf_token": csrf, "name": "X", "kind": "other"},
    )
    assert english.status_code == 404 and "Unknown organisation" in english.text
    answers = [
        await call(client, "PATCH", "/api/directory/people/pro_nope", csrf, {"first_name": "X"}),
        await call(client, "PATCH", "/api/directory/people/pro_outsider", csrf, {"first_name": ""}),
        await call(client, "PATCH", "/api/directory/people/pro_outsider", csrf, {"email": None}),
        await call(
            client,
            "PATCH",
            "/api/directory/people/pro_outsider",
            csrf,
            {"organisation_id": "org_x"},
        ),
        await call(client, "PATCH", "/api/directory/organisations/org_uwv", csrf, {"name": None}),
        await call(
            client, "POST", "/api/directory/organisations", csrf, {"name": "X", "kind": "x"}
        ),
        await call(
            client,
            "POST",
            "/api/directory/roles",
            csrf,
            {"professional_id": "pro_x", "role": "mentor"},
        ),
        await call(
            client, "POST", "/api/directory/tokens", csrf, {"school_id": "org_uwv", "name": "X"}
        ),
        await call(
            client,
            "PATCH",
            "/api/directory/people/pro_outsider",
            csrf,
            {"email": "pro_mentor@example.org"},
        ),
    ]
    assert [a.status_code for a in answers] == [404, 422, 422, 422, 422, 422, 422, 422, 409]
    assert snapshot(web.engine) == before


async def test_changes_without_the_csrf_token_are_refused(web: WebWorld) -> None:
    client, _ = web.as_role("coordinator")
    before = snapshot(web.engine)
    form = await client.post("/directory/people/pro_outsider/deactivate", data={})
    assert form.status_code == 403
    api = await client.delete("/api/directory/people/pro_outsider")
    assert api.status_code == 403
    forged = await client.request(
        "PATCH",
        "/api/directory/organisations/org_uwv",
        json={"name": "X"},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403
    assert snapshot(web.engine) == before


async def test_the_audit_log_names_nobody(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    since = last_audit_id(web.engine)
    org = await call(
        client, "POST", "/api/directory/organisations", csrf,
        {"name": "Zorg Geheim", "kind": "care_provider", "phone": "0771234567"},
    )  # fmt: skip
    person = await call(
        client, "POST", "/api/directory/people", csrf,
        {"organisation_id": org.json()["id"], "first_name": "Geheime", "last_name": "Naam",
         "email": "geheim@example.org", "mobile": "0611223344"},
    )  # fmt: skip
    pid = person.json()["id"]
    await call(client, "PATCH", f"/api/directory/people/{pid}", csrf, {"last_name": "Anders",
               "email": "anders@example.org", "mobile": "0699887766"})  # fmt: skip
    await call(client, "PATCH", f"/api/directory/organisations/{org.json()['id']}", csrf,
               {"phone": "0779999999"})  # fmt: skip
    await call(client, "DELETE", f"/api/directory/people/{pid}", csrf)
    entries = audits_since(web.engine, since)
    assert len(entries) == 5
    written = json.dumps([[e.subject_id, e.detail] for e in entries])
    for secret in ("Geheim", "Naam", "Anders", "geheim@", "anders@", "0611", "+31611", "+31699",
                   "0699", "077"):  # fmt: skip
        assert secret.lower() not in written.lower(), secret
    assert {e.actor_id for e in entries} == {web.seed.people["coordinator"]}
