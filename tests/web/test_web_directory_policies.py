"""Escalation policies kept by the coordinator in the app: created, edited and deleted by form
and JSON API in the escalation workflow's own step format; bad steps refused whole; the default
policy is never deleted, and a running escalation keeps its frozen copy."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlmodel import Session

from store.oncall import Escalation, EscalationPolicy
from tests.web.directory_kit import audits_since, call, last_audit_id, snapshot
from tests.web.test_web_directory_rotations import WEEKLY
from tests.web.world import WebWorld
from web.oncall_actions import policy_snapshot

A, B = "pro_jobcoach", "pro_mentor"


async def _rotation(client: httpx.AsyncClient, csrf: str) -> str:
    created = await call(client, "POST", "/api/directory/rotations", csrf, WEEKLY)
    assert created.status_code == 201, created.text
    rotation_id: str = created.json()["id"]
    return rotation_id


def _steps(rotation_id: str) -> list[dict[str, Any]]:
    return [
        {"target": "rotation", "ref": rotation_id, "wait_minutes": 10},
        {"target": "person", "ref": B, "wait_minutes": 10},
        {"target": "coordinator", "ref": None, "wait_minutes": 15},
    ]


def _policy(web: WebWorld, policy_id: str) -> EscalationPolicy | None:
    with Session(web.engine) as session:
        return session.get(EscalationPolicy, policy_id)


async def test_the_coordinator_creates_and_edits_a_policy_by_form(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf)
    directory = await client.get("/directory")
    assert 'action="/directory/policies"' in directory.text and "step_target_2" in directory.text
    since = last_audit_id(web.engine)
    form = {
        "csrf_token": csrf, "name": "Jobcoach, dan achterwacht", "repeat": "1",
        "step_target_0": "rotation", "step_ref_0": rotation_id, "step_wait_0": "10",
        "step_target_1": "person", "step_ref_1": B, "step_wait_1": "10",
        "step_target_2": "coordinator", "step_ref_2": "", "step_wait_2": "15",
    }  # fmt: skip
    page = await client.post("/directory/policies", data=form)
    assert page.status_code == 200 and "Opgeslagen" in page.text, page.text[-2000:]
    assert 'id="default-policy"' in page.text  # the region's only policy is its default
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_kind) == ("policy_added", "escalation_policy")
    policy_id = entry.subject_id
    policy = _policy(web, policy_id)
    assert policy is not None and (policy.name, policy.repeat) == ("Jobcoach, dan achterwacht", 1)
    assert policy.steps == _steps(rotation_id)
    # what a call for help freezes is exactly this policy, in the workflow's own model
    with Session(web.engine) as session:
        frozen = policy_snapshot(session)
    assert frozen.policy_id == policy_id and len(frozen.steps) == 3
    # the page shows the steps and offers two empty rows for more
    shown = await client.get(f"/directory/policies/{policy_id}")
    assert "Jobcoach op afroep" in shown.text and "step_target_4" in shown.text
    assert "step_target_5" not in shown.text
    # edit: the person step goes, the wait changes; an emptied row is left out
    edit = form | {"step_target_1": "", "step_ref_1": "", "step_wait_1": "", "step_wait_0": "5",
                   "repeat": "0"}  # fmt: skip
    since = last_audit_id(web.engine)
    saved = await client.post(f"/directory/policies/{policy_id}", data=edit)
    assert saved.status_code == 200 and "Opgeslagen" in saved.text
    policy = _policy(web, policy_id)
    assert policy is not None and policy.repeat == 0
    assert policy.steps == [
        {"target": "rotation", "ref": rotation_id, "wait_minutes": 5},
        {"target": "coordinator", "ref": None, "wait_minutes": 15},
    ]
    [entry] = audits_since(web.engine, since)
    assert entry.action == "policy_changed" and entry.detail == {
        "fields": ["name", "repeat", "steps"]
    }
    # everyone signed in reads it, only the coordinator gets the forms
    jobcoach, _ = web.as_role("jobcoach")
    read = await jobcoach.get(f"/directory/policies/{policy_id}")
    assert read.status_code == 200 and "Jobcoach op afroep" in read.text
    assert f'action="/directory/policies/{policy_id}"' not in read.text
    listed = (await jobcoach.get("/api/directory/policies")).json()
    assert listed == [
        {"id": policy_id, "name": "Jobcoach, dan achterwacht", "default": True, "steps": 2}
    ]


async def test_policies_by_the_api_and_deleting_them(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf)
    first = await call(
        client, "POST", "/api/directory/policies", csrf,
        {"name": "Standaard", "steps": _steps(rotation_id)},
    )  # fmt: skip
    assert first.status_code == 201, first.text
    default_id = first.json()["id"]
    assert first.json()["default"] is True and first.json()["repeat"] == 1
    assert first.json()["steps"][0]["name"] == "Jobcoach op afroep"
    second = await call(
        client, "POST", "/api/directory/policies", csrf,
        {"name": "Alleen coördinator", "repeat": 0,
         "steps": [{"target": "coordinator", "wait_minutes": 30}]},
    )  # fmt: skip
    assert second.status_code == 201 and second.json()["default"] is False
    other_id = second.json()["id"]
    patched = await call(
        client, "PATCH", f"/api/directory/policies/{other_id}", csrf, {"repeat": 2}
    )
    assert patched.status_code == 200 and patched.json()["repeat"] == 2
    # the default (a call that names no policy uses it) is not deleted; nothing changes
    before = snapshot(web.engine)
    refused = await call(client, "DELETE", f"/api/directory/policies/{default_id}", csrf)
    assert refused.status_code == 409 and refused.json()["detail"]["error"] == "default_policy"
    page = await client.post(f"/directory/policies/{default_id}/delete", data={"csrf_token": csrf})
    assert page.status_code == 409 and "standaardbeleid" in page.text
    assert snapshot(web.engine) == before
    # a running escalation froze the other one: deleting it leaves the escalation as it was
    frozen = {"policy_id": other_id, "repeat": 2,
              "steps": [{"target": "coordinator", "ref": None, "wait_minutes": 30}]}  # fmt: skip
    with Session(web.engine) as session:
        escalation = Escalation(
            id="esc_1", workflow_id="escalation-1", category="other", urgency="today",
            ack_code="4821", policy_snapshot=frozen,
        )  # fmt: skip
        session.add(escalation)
        session.commit()
    since = last_audit_id(web.engine)
    deleted = await call(client, "DELETE", f"/api/directory/policies/{other_id}", csrf)
    assert deleted.json() == {"id": other_id, "status": "deleted"}
    assert _policy(web, other_id) is None
    with Session(web.engine) as session:
        escalation = session.get(Escalation, "esc_1")
        assert escalation is not None and escalation.policy_snapshot == frozen
    [entry] = audits_since(web.engine, since)
    assert (entry.action, entry.subject_id, entry.detail) == ("policy_deleted", other_id, {})
    assert (
        await call(client, "DELETE", f"/api/directory/policies/{other_id}", csrf)
    ).status_code == 404
    assert (await client.get(f"/api/directory/policies/{other_id}")).status_code == 404
    # the rotation it pages is still protected by the default policy
    kept = await call(client, "DELETE", f"/api/directory/rotations/{rotation_id}", csrf)
    assert kept.status_code == 409
    # the audit log names nobody
    written = json.dumps([[e.subject_id, e.detail] for e in audits_since(web.engine, 0)])
    assert "Voornaam" not in written and "Achternaam" not in written


async def test_bad_steps_are_refused_with_a_message_and_nothing_written(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    rotation_id = await _rotation(client, csrf)
    await call(client, "DELETE", "/api/directory/people/pro_outsider", csrf)
    good = await call(
        client, "POST", "/api/directory/policies", csrf,
        {"name": "Goed", "steps": _steps(rotation_id)},
    )  # fmt: skip
    policy_id = good.json()["id"]
    before = snapshot(web.engine)

    def policy(*steps: dict[str, Any], repeat: int = 1) -> dict[str, Any]:
        return {"name": "Fout", "repeat": repeat, "steps": list(steps)}

    coordinator = {"target": "coordinator", "wait_minutes": 10}
    bad = [
        policy({"target": "rotation", "ref": "rot_nope", "wait_minutes": 10}),
        policy({"target": "rotation", "wait_minutes": 10}),
        policy({"target": "person", "ref": "pro_nope", "wait_minutes": 10}),
        policy({"target": "person", "ref": "pro_outsider", "wait_minutes": 10}),  # inactive
        policy({"target": "coordinator", "ref": A, "wait_minutes": 10}),
        policy({"target": "person", "ref": A, "wait_minutes": 0}),
        policy({"target": "person", "ref": A, "wait_minutes": 24 * 60 + 1}),
        policy({"target": "manager", "wait_minutes": 10}),
        policy(coordinator, repeat=11),
        policy(coordinator, repeat=-1),
        policy(),
        policy(*[coordinator] * 11),
        {"name": "", "steps": [coordinator]},
    ]
    answers = [await call(client, "POST", "/api/directory/policies", csrf, b) for b in bad]
    assert [a.status_code for a in answers] == [422] * len(bad)
    codes = [a.json()["detail"]["error"] for a in answers[:5]]
    assert codes == [
        "unknown_rotation", "unknown_rotation", "unknown_person", "inactive_person",
        "coordinator_step_ref",
    ]  # fmt: skip
    assert answers[8].json()["detail"] == {"error": "invalid", "fields": ["repeat"]}
    assert answers[10].json()["detail"] == {"error": "invalid", "fields": ["steps"]}
    patches = [
        await call(client, "PATCH", f"/api/directory/policies/{policy_id}", csrf, change)
        for change in ({"steps": []}, {"name": None}, {"repeat": 99},
                       {"steps": [{"target": "rotation", "ref": "rot_x", "wait_minutes": 5}]})
    ]  # fmt: skip
    assert [p.status_code for p in patches] == [422, 422, 422, 422]
    unknown = await call(client, "PATCH", "/api/directory/policies/pol_nope", csrf, {"repeat": 1})
    assert unknown.status_code == 404
    form = {"csrf_token": csrf, "name": "Fout", "repeat": "1", "step_target_0": "person",
            "step_ref_0": A, "step_wait_0": "0"}  # fmt: skip
    page = await client.post("/directory/policies", data=form)
    assert page.status_code == 422 and "Controleer deze velden: Stappen" in page.text
    page = await client.post(
        f"/directory/policies/{policy_id}?lang=en",
        data=form | {"step_target_0": "coordinator", "step_wait_0": "5"},
    )
    assert page.status_code == 422 and "A step to the coordinator names no" in page.text
    assert snapshot(web.engine) == before


async def test_policy_changes_need_the_csrf_token(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    created = await call(
        client, "POST", "/api/directory/policies", csrf,
        {"name": "P", "steps": [{"target": "coordinator", "wait_minutes": 5}]},
    )  # fmt: skip
    policy_id = created.json()["id"]
    before = snapshot(web.engine)
    form = await client.post(f"/directory/policies/{policy_id}/delete", data={})
    assert form.status_code == 403
    api = await client.request("PATCH", f"/api/directory/policies/{policy_id}", json={"repeat": 0})
    assert api.status_code == 403
    assert snapshot(web.engine) == before
