"""On-call rotations kept by the coordinator in the app: create and edit, members added, removed
and reordered, overrides added and deleted, and who is on call at a moment changing with them;
bad input refused whole; a rotation an escalation pages is not deleted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import Session, select

from store.oncall import (
    Escalation,
    EscalationPolicy,
    Rotation,
    RotationKind,
    RotationMember,
    RotationOverride,
)
from tests.web.directory_kit import audits_since, call, last_audit_id, snapshot
from tests.web.world import WebWorld

A, B, C = "pro_jobcoach", "pro_mentor", "pro_case_director"
# A weekly rotation handing over on Mondays at 09:00 in Amsterdam from 3 March 2025; the moment
# falls in its second week (shift 1).
WEEKLY = {"name": "Jobcoach op afroep", "kind": "weekly", "start": "2025-03-03T09:00"}
MOMENT = "2025-03-12T12:00:00+01:00"


async def _rotation(client: httpx.AsyncClient, csrf: str, *members: str) -> str:
    created = await call(client, "POST", "/api/directory/rotations", csrf, WEEKLY)
    assert created.status_code == 201, created.text
    rotation_id: str = created.json()["id"]
    for pid in members:
        added = await call(
            client, "POST", f"/api/directory/rotations/{rotation_id}/members", csrf,
            {"professional_id": pid},
        )  # fmt: skip
        assert added.status_code == 201, added.text
    return rotation_id


async def _on_call(client: httpx.AsyncClient, rotation_id: str, at: str = MOMENT) -> list[str]:
    view = await client.get(f"/api/directory/rotations/{rotation_id}", params={"at": at})
    assert view.status_code == 200, view.text
    return [p["id"] for p in view.json()["on_call"]]


def _members(view: dict[str, Any]) -> dict[str, int]:
    return {m["person"]["id"]: m["id"] for m in view["members"]}


async def test_the_coordinator_creates_and_edits_a_rotation(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    since = last_audit_id(web.engine)
    form = {"csrf_token": csrf, **WEEKLY, "time_zone": "Europe/Amsterdam"}
    page = await client.post("/directory/rotations", data=form)
    assert page.status_code == 200 and "Opgeslagen" in page.text
    with Session(web.engine) as session:
        rotation = session.exec(select(Rotation)).one()
    assert rotation.start_at == datetime(2025, 3, 3, 8, tzinfo=UTC)  # 09:00 CET
    assert (rotation.kind, rotation.shift_hours) == (RotationKind.weekly, 168)
    assert f'action="/directory/rotations/{rotation.id}/members"' in page.text
    edit = form | {"kind": "daily", "start": "2025-03-03T08:00", "time_zone": "Europe/London"}
    edited = await client.post(f"/directory/rotations/{rotation.id}", data=edit)
    assert edited.status_code == 200 and "Opgeslagen" in edited.text
    patched = await call(
        client, "PATCH", f"/api/directory/rotations/{rotation.id}", csrf,
        {"kind": "custom", "shift_hours": 12, "name": "Nachtdienst"},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    view = patched.json()
    assert (view["name"], view["kind"], view["shift_hours"]) == ("Nachtdienst", "custom", 12)
    assert (view["time_zone"], view["start_at"]) == ("Europe/London", "2025-03-03T08:00:00+00:00")
    shifts = view["shifts"]
    assert len(shifts) == 6 and shifts[1]["start_at"] == shifts[0]["end_at"]
    entries = audits_since(web.engine, since)
    assert [e.action for e in entries] == ["rotation_added", "rotation_changed", "rotation_changed"]
    assert {e.subject_id for e in entries} == {rotation.id}
    assert entries[-1].detail == {"fields": ["kind", "name", "shift_hours"]}
    assert "Nachtdienst" not in json.dumps([e.detail for e in entries])


async def test_members_added_reordered_and_removed_change_who_is_on_call(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf, A, B, C)
    assert await _on_call(client, rotation_id) == [B]  # week 2: the second member
    view = (await client.get(f"/api/directory/rotations/{rotation_id}")).json()
    ids = _members(view)
    order = [ids[C], ids[A], ids[B]]
    since = last_audit_id(web.engine)
    reordered = await call(
        client, "PUT", f"/api/directory/rotations/{rotation_id}/members", csrf,
        {"member_ids": order},
    )  # fmt: skip
    assert reordered.status_code == 200
    assert await _on_call(client, rotation_id) == [A]
    # by form: B one up (C, B, A), then C out (B, A)
    up = await client.post(
        f"/directory/rotations/{rotation_id}/members/{ids[B]}/up", data={"csrf_token": csrf}
    )
    assert up.status_code == 200
    assert await _on_call(client, rotation_id) == [B]
    out = await client.post(
        f"/directory/rotations/{rotation_id}/members/{ids[C]}/remove", data={"csrf_token": csrf}
    )
    assert out.status_code == 200
    assert await _on_call(client, rotation_id) == [A]
    with Session(web.engine) as session:
        rows = session.exec(
            select(RotationMember).where(RotationMember.rotation_id == rotation_id)
        ).all()
    assert sorted((m.position, m.professional_id) for m in rows) == [(0, B), (1, A)]
    removed = await call(
        client, "DELETE", f"/api/directory/rotations/{rotation_id}/members/{ids[A]}", csrf
    )
    assert removed.status_code == 200
    assert await _on_call(client, rotation_id) == [B]
    actions = [e.action for e in audits_since(web.engine, since)]
    assert actions == [
        "rotation_members_reordered",
        "rotation_members_reordered",
        "rotation_member_removed",
        "rotation_member_removed",
    ]
    # everyone signed in sees the rotation page, with who is on call and the next shifts
    jobcoach, _ = web.as_role("jobcoach")
    page = await jobcoach.get(f"/directory/rotations/{rotation_id}")
    assert page.status_code == 200 and 'id="shifts"' in page.text
    assert "Voornaam" in page.text and "/members/" not in page.text  # no forms for them


async def test_overrides_are_added_and_deleted(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf, A, B)
    assert await _on_call(client, rotation_id) == [B]
    since = last_audit_id(web.engine)
    # by form, in the rotation's local time: the outsider stands in for B that Wednesday
    form = {
        "csrf_token": csrf,
        "kind": "replace",
        "professional_id": "pro_outsider",
        "replaces_professional_id": B,
        "start": "2025-03-12T08:00",
        "end": "2025-03-12T18:00",
    }
    page = await client.post(f"/directory/rotations/{rotation_id}/overrides", data=form)
    assert page.status_code == 200 and "Opgeslagen" in page.text
    assert await _on_call(client, rotation_id) == ["pro_outsider"]
    assert await _on_call(client, rotation_id, "2025-03-12T18:30:00+01:00") == [B]
    added = await call(
        client, "POST", f"/api/directory/rotations/{rotation_id}/overrides", csrf,
        {"kind": "add", "professional_id": A, "start": "2025-03-12T11:00:00+01:00",
         "end": "2025-03-12T13:00:00+01:00"},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    assert await _on_call(client, rotation_id) == ["pro_outsider", A]
    overrides = {o["kind"]: o["id"] for o in added.json()["overrides"]}
    deleted = await client.post(
        f"/directory/rotations/{rotation_id}/overrides/{overrides['replace']}/delete",
        data={"csrf_token": csrf},
    )
    assert deleted.status_code == 200
    assert await _on_call(client, rotation_id) == [B, A]
    gone = await call(
        client, "DELETE", f"/api/directory/rotations/{rotation_id}/overrides/{overrides['add']}",
        csrf,
    )  # fmt: skip
    assert gone.status_code == 200 and gone.json()["overrides"] == []
    assert await _on_call(client, rotation_id) == [B]
    entries = audits_since(web.engine, since)
    assert [e.action for e in entries] == [
        "rotation_override_added",
        "rotation_override_added",
        "rotation_override_deleted",
        "rotation_override_deleted",
    ]
    assert entries[0].detail == {"override": overrides["replace"], "kind": "replace"}


async def test_an_override_cannot_put_an_inactive_person_on_call(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf, A)
    added = await call(
        client, "POST", f"/api/directory/rotations/{rotation_id}/overrides", csrf,
        {"kind": "add", "professional_id": B, "start": "2025-03-12T11:00:00+01:00",
         "end": "2025-03-12T13:00:00+01:00"},
    )  # fmt: skip
    assert added.status_code == 201
    assert await _on_call(client, rotation_id) == [A, B]
    await call(client, "DELETE", f"/api/directory/people/{B}", csrf)
    assert await _on_call(client, rotation_id) == [A]


async def test_bad_rotation_input_is_refused_and_nothing_written(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf, A)
    member = _members((await client.get(f"/api/directory/rotations/{rotation_id}")).json())[A]
    await call(client, "DELETE", "/api/directory/people/pro_outsider", csrf)
    before = snapshot(web.engine)
    base = f"/api/directory/rotations/{rotation_id}"
    period = {"start": "2025-03-12T11:00", "end": "2025-03-12T13:00"}
    new, add = "/api/directory/rotations", {"kind": "add", "professional_id": B}
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", new, WEEKLY | {"time_zone": "Mars/Olympus"}, 422, "time_zone"),
        ("POST", new, WEEKLY | {"kind": "custom", "shift_hours": 0}, 422, "shift_hours"),
        ("POST", new, WEEKLY | {"kind": "custom"}, 422, "shift_hours"),
        ("POST", new, WEEKLY | {"start": "1900-01-01T09:00"}, 422, "start"),
        ("POST", new, WEEKLY | {"organisation_id": "org_x"}, 422, "organisation_id"),
        ("PATCH", base, {"shift_hours": -1}, 422, "shift_hours"),
        ("PATCH", base, {"time_zone": "../../etc/passwd"}, 422, "time_zone"),
        ("PATCH", f"{new}/rot_nope", {"name": "X"}, 404, ""),
        ("DELETE", f"{new}/rot_nope", None, 404, ""),
        ("POST", f"{base}/members", {"professional_id": "pro_nope"}, 422, "professional_id"),
        ("POST", f"{base}/members", {"professional_id": A}, 409, "professional_id"),
        ("POST", f"{base}/members", {"professional_id": "pro_outsider"}, 422, "professional_id"),
        ("DELETE", f"{base}/members/999999", None, 404, ""),
        ("PUT", f"{base}/members", {"member_ids": [member, member]}, 422, "member_ids"),
        ("POST", f"{base}/overrides", period | add | {"end": "2025-03-12T10:00"}, 422, "end"),
        ("POST", f"{base}/overrides", period | add | {"professional_id": "x"}, 422,
         "professional_id"),
        ("DELETE", f"{base}/overrides/999999", None, 404, ""),
        ("POST", f"{new}/rot_nope/overrides", period | add, 404, ""),
    ]  # fmt: skip
    for method, url, body, status, field in cases:
        answer = await call(client, method, url, csrf, body)
        assert answer.status_code == status, (method, url, body, answer.text)
        if field:
            detail = answer.json()["detail"]
            named = detail["fields"] if isinstance(detail, dict) else [e["loc"][-1] for e in detail]
            assert field in named, (url, body, detail)
    bad_at = await client.get(base, params={"at": "2025-03-12T12:00"})
    assert bad_at.status_code == 422
    form = {"csrf_token": csrf, **WEEKLY, "time_zone": "Mars/Olympus"}
    page = await client.post("/directory/rotations", data=form)
    assert page.status_code == 422 and "Controleer deze velden: Tijdzone" in page.text
    page = await client.post(
        f"/directory/rotations/{rotation_id}/overrides",
        data={"csrf_token": csrf, "kind": "add", "professional_id": B, **period,
              "end": "2025-03-11T13:00"},
    )  # fmt: skip
    assert page.status_code == 422 and "Het einde moet na het begin liggen" in page.text
    page = await client.post(
        f"/directory/rotations/{rotation_id}?lang=en",
        data={"csrf_token": csrf, **WEEKLY, "kind": "custom", "shift_hours": "0"},
    )
    assert page.status_code == 422 and "Check these fields: Shift length (hours)" in page.text
    assert snapshot(web.engine) == before


async def test_a_rotation_an_escalation_pages_is_not_deleted(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf, A, B)
    step = {"target": "rotation", "ref": rotation_id, "wait_minutes": 10}
    with Session(web.engine) as session:
        session.add(EscalationPolicy(id="pol_1", name="Standaard", steps=[step]))
        session.commit()
    before = snapshot(web.engine)
    page = await client.post(
        f"/directory/rotations/{rotation_id}/delete", data={"csrf_token": csrf}
    )
    assert page.status_code == 409 and "escalatiebeleid" in page.text
    assert snapshot(web.engine) == before
    with Session(web.engine) as session:
        policy = session.get(EscalationPolicy, "pol_1")
        assert policy is not None
        session.delete(policy)
        session.add(
            Escalation(
                id="esc_1",
                workflow_id="escalation-1",
                category="workplace",
                urgency="today",
                ack_code="4821",
                policy_snapshot={"policy_id": "pol_1", "repeat": 0, "steps": [step]},
            )
        )
        session.commit()
    running = await call(client, "DELETE", f"/api/directory/rotations/{rotation_id}", csrf)
    assert running.status_code == 409 and running.json()["detail"]["error"] == "rotation_in_use"
    with Session(web.engine) as session:
        escalation = session.get(Escalation, "esc_1")
        assert escalation is not None
        escalation.status = escalation.status.resolved
        session.add(escalation)
        session.add(
            RotationOverride(
                rotation_id=rotation_id,
                kind="add",  # type: ignore[arg-type]
                professional_id=C,
                start_at=datetime(2025, 3, 1, tzinfo=UTC),
                end_at=datetime(2025, 3, 2, tzinfo=UTC),
            )
        )
        session.commit()
    since = last_audit_id(web.engine)
    deleted = await client.post(
        f"/directory/rotations/{rotation_id}/delete", data={"csrf_token": csrf}
    )
    assert deleted.status_code == 200 and "Jobcoach op afroep" not in deleted.text
    with Session(web.engine) as session:
        assert session.get(Rotation, rotation_id) is None
        assert session.exec(select(RotationMember)).all() == []
        assert session.exec(select(RotationOverride)).all() == []
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_id) == ("rotation_deleted", rotation_id)


async def test_rotation_changes_need_the_csrf_token(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf, A)
    before = snapshot(web.engine)
    form = await client.post(f"/directory/rotations/{rotation_id}/delete", data={})
    assert form.status_code == 403
    api = await client.request(
        "POST", f"/api/directory/rotations/{rotation_id}/members", json={"professional_id": B}
    )
    assert api.status_code == 403
    assert snapshot(web.engine) == before
