"""The codec endpoint for the Temporal UI, and the coordinator's export, erasure and audit
routes, on the web app (sign-in and roles from the web app; see tests/web)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from store.audit import AuditEntry
from store.trajectories import Trajectory
from store.youth import Youth
from tests.privacy.conftest import YOUTH, seed
from tests.web.live import live_world
from tests.web.world import WebWorld, build_world
from tests.web.world import seed as seed_web
from waakvlam.codec import EncryptionCodec

TOKEN = "codec-token-for-the-temporal-ui-0123456789"
UI = "http://localhost:8080"
CLEAR = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
         "data": base64.b64encode(b'"trj_00000000000000aa"').decode()}  # fmt: skip


@pytest.fixture
async def world(settings: Settings, web_engine: Engine) -> AsyncIterator[WebWorld]:
    data = seed_web(web_engine)
    seed(web_engine, region=data.region)
    app, container, emails = build_world(
        settings, web_engine, None, codec_token=TOKEN, temporal_ui_origin=UI
    )
    world = WebWorld(app, web_engine, container, emails, data)
    yield world
    for client in world.clients:
        await client.aclose()
    await container.http.aclose()


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_the_codec_endpoint_round_trips_for_an_operator(world: WebWorld) -> None:
    client, _ = world.anonymous()
    encoded = await client.post("/codec/encode", json={"payloads": [CLEAR]}, headers=bearer())
    assert encoded.status_code == 200
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    decoded = await client.post(
        "/codec/decode", json={"payloads": [sealed]}, headers=bearer() | {"x-namespace": "default"}
    )
    assert decoded.json() == {"payloads": [CLEAR]}
    with Session(world.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "payloads_decoded")
        ).one()
        assert (entry.actor_kind, entry.subject_id, entry.detail) == (
            "operator", "default", {"count": 1},
        )  # fmt: skip


async def test_the_codec_endpoint_shows_a_compressed_payload_as_it_was(world: WebWorld) -> None:
    """A large payload (a trajectory's input, its carried state) is compressed before it is
    sealed; the UI is shown the original all the same."""
    client, _ = world.anonymous()
    text = b'"' + b"trj_00000000000000aa " * 200 + b'"'
    large = {"metadata": CLEAR["metadata"], "data": base64.b64encode(text).decode()}
    encoded = await client.post("/codec/encode", json={"payloads": [large]}, headers=bearer())
    [sealed] = encoded.json()["payloads"]
    assert len(base64.b64decode(sealed["data"])) < len(base64.b64decode(large["data"])) / 4
    decoded = await client.post("/codec/decode", json={"payloads": [sealed]}, headers=bearer())
    assert decoded.json() == {"payloads": [large]}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("wrong_token", 401),
        ("coordinator", 200),
        ("case_director", 401),
        ("jobcoach", 401),
    ],  # fmt: skip
)
async def test_only_an_operator_may_decode(world: WebWorld, who: str, status: int) -> None:
    if who in ("anonymous", "wrong_token"):
        client, _ = world.anonymous()
    else:
        client, _ = world.as_role(who)
    headers = bearer("not-the-token") if who == "wrong_token" else {}
    answer = await client.post("/codec/decode", json={"payloads": [CLEAR]}, headers=headers)
    assert answer.status_code == status


async def test_without_a_token_outside_development_only_a_coordinator_session_decodes(
    settings: Settings, web_engine: Engine
) -> None:
    app, container, _ = build_world(settings, web_engine, None)  # no token, environment=test
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://w") as c:
        answer = await c.post("/codec/decode", json={"payloads": []}, headers=bearer(""))
        assert answer.status_code == 401
    await container.http.aclose()


async def test_cors_allows_the_temporal_ui_origin_only(world: WebWorld) -> None:
    client, _ = world.anonymous()
    preflight = {
        "origin": UI,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-namespace",
    }
    answer = await client.options("/codec/decode", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in answer.headers["access-control-allow-headers"].lower()
    answer = await client.options(
        "/codec/decode", headers=preflight | {"origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in answer.headers
    posted = await client.post("/codec/decode", json={"payloads": []},
                               headers=bearer() | {"origin": UI})  # fmt: skip
    assert posted.headers["access-control-allow-origin"] == UI


async def test_tampered_or_unknown_key_payloads_are_a_clear_422(world: WebWorld) -> None:
    client, _ = world.anonymous()
    [other] = await EncryptionCodec({"old": b"o" * 32}).encode([Payload(data=b"x")])
    wire = {"metadata": {k: base64.b64encode(v).decode() for k, v in other.metadata.items()},
            "data": base64.b64encode(other.data).decode()}  # fmt: skip
    answer = await client.post("/codec/decode", json={"payloads": [wire]}, headers=bearer())
    assert answer.status_code == 422 and "'old'" in answer.json()["detail"]
    bad = await client.post("/codec/decode", json={"payloads": [{"data": "%%%"}]}, headers=bearer())
    assert bad.status_code == 400


async def test_a_coordinator_exports_a_youth_and_the_view_is_audited(world: WebWorld) -> None:
    client, _ = world.as_role("coordinator")
    answer = await client.get(f"/api/privacy/youth/{YOUTH}/export")
    assert answer.status_code == 200
    assert answer.json()["youth"]["first_name"] == "Lotte"
    assert (await client.get("/api/privacy/youth/yth_nobody/export")).status_code == 404
    audit = await client.get("/api/privacy/audit", params={"subject_id": YOUTH})
    assert audit.status_code == 200, audit.text
    actions = [(e["actor_id"], e["action"]) for e in audit.json()]
    assert (world.seed.people["coordinator"], "exported") in actions
    csv = await client.get("/api/privacy/audit", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert ",exported,youth," in csv.text


@pytest.mark.parametrize("role", ["case_director", "jobcoach", "school_admin", "professional"])
async def test_only_a_coordinator_may_use_the_privacy_routes(world: WebWorld, role: str) -> None:
    client, csrf = world.as_role(role)
    assert (await client.get(f"/api/privacy/youth/{YOUTH}/export")).status_code == 403
    assert (await client.get("/api/privacy/audit")).status_code == 403
    erase = await client.post(
        f"/api/privacy/youth/{YOUTH}/erase",
        json={"confirm_youth_id": YOUTH},
        headers={"x-csrf-token": csrf},
    )
    assert erase.status_code == 403
    anonymous, _ = world.anonymous()
    assert (await anonymous.get("/api/privacy/audit")).status_code == 401


async def test_erasure_needs_the_csrf_token_the_confirmation_and_temporal(world: WebWorld) -> None:
    client, csrf = world.as_role("coordinator")
    path = f"/api/privacy/youth/{YOUTH}/erase"
    no_csrf = await client.post(path, json={"confirm_youth_id": YOUTH})
    assert no_csrf.status_code == 403
    wrong = await client.post(path, json={"confirm_youth_id": "yth_other"},
                              headers={"x-csrf-token": csrf})  # fmt: skip
    assert wrong.status_code == 422
    unavailable = await client.post(path, json={"confirm_youth_id": YOUTH},
                                    headers={"x-csrf-token": csrf})  # fmt: skip
    assert unavailable.status_code == 503  # this app has no Temporal client: nothing erased
    with Session(world.engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "erased")).all() == []


async def test_a_coordinator_erases_a_youth_with_a_running_trajectory(
    settings: Settings,
    web_engine: Engine,
    isolated_workflow_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    """The whole route, with Temporal: the trajectory is stopped, the personal data goes, the
    erasure is in the audit log, and asking again says it was already done."""
    async with live_world(settings, web_engine, isolated_workflow_env, task_queue) as live:
        trajectory_id = await live.enroll(first_name="Noor")
        with Session(web_engine) as session:
            trajectory = session.get(Trajectory, trajectory_id)
            assert trajectory is not None
            youth_id = trajectory.youth_id
        client, csrf = live.web.as_role("coordinator")
        path = f"/api/privacy/youth/{youth_id}/erase"
        done = await client.post(path, json={"confirm_youth_id": youth_id},
                                 headers={"x-csrf-token": csrf})  # fmt: skip
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["workflows_terminated"] == [f"trajectory-{trajectory_id}"]
        assert body["already_erased"] is False and body["removed"]
        described = await isolated_workflow_env.client.get_workflow_handle(
            f"trajectory-{trajectory_id}"
        ).describe()
        assert described.status == WorkflowExecutionStatus.TERMINATED
        with Session(web_engine) as session:
            youth = session.get(Youth, youth_id)
            assert youth is not None and youth.purged_at is not None
            assert (youth.first_name, youth.last_name, youth.school_ref) == ("", "", youth_id)
            entry = session.exec(select(AuditEntry).where(AuditEntry.action == "erased")).one()
            assert (entry.subject_id, entry.actor_id) == (
                youth_id,
                live.web.seed.people["coordinator"],
            )
        again = await client.post(path, json={"confirm_youth_id": youth_id},
                                  headers={"x-csrf-token": csrf})  # fmt: skip
        assert again.status_code == 200 and again.json()["already_erased"] is True
        unknown = await client.post("/api/privacy/youth/yth_nobody/erase",
                                    json={"confirm_youth_id": "yth_nobody"},
                                    headers={"x-csrf-token": csrf})  # fmt: skip
        assert unknown.status_code == 404
