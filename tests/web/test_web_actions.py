"""One-click actions from messages and actions from the trajectory page, against a real
trajectory workflow: GET shows, POST acts; a second click is "already"; expired, used and
tampered links change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from notifications import links
from store.audit import AuditEntry
from store.trajectories import TaskStatus, Trajectory
from tests.web.live import LiveWorld, live_world
from tests.web.world import BASE_URL
from workflows.trajectory import TrajectoryWorkflow


@pytest.fixture
async def live(
    settings: Settings,
    web_engine: Engine,
    workflow_env: WorkflowEnvironment,
    task_queue: str,
) -> AsyncIterator[LiveWorld]:
    async with live_world(settings, web_engine, workflow_env, task_queue) as world:
        yield world


def sign(live: LiveWorld, purpose: str, tid: str, reference: str, *, days: int = 30) -> str:
    with Session(live.web.engine) as session:
        link = links.sign_link(
            purpose,
            {"trajectory": tid, "reference": reference, "recipient": "youth:yth_x"},
            timedelta(days=days),
            session=session,
            secret=live.web.container.settings.signing_secret.get_secret_value(),
            base_url=BASE_URL,
            now=datetime.now(UTC) if days > 0 else datetime.now(UTC) - timedelta(days=60),
        )
        session.commit()
    return link.url.removeprefix(BASE_URL)


async def test_a_reminder_link_completes_the_task_once(live: LiveWorld) -> None:
    tid = await live.enroll()
    await live.wait_for(lambda: live.links(tid))
    path = live.links(tid)[0].removeprefix(BASE_URL)
    client, csrf = live.web.anonymous()
    shown = await client.get(path)
    assert shown.status_code == 200 and 'id="confirm"' in shown.text and "Sanne" in shown.text
    assert "de Vries" not in shown.text  # first name only
    key = next(k for k, t in live.tasks(tid).items() if t.status is TaskStatus.overdue)
    done = await client.post(path, data={"csrf_token": csrf})
    assert done.status_code == 200 and "vastgelegd" in done.text
    handle = live.env.client.get_workflow_handle(f"trajectory-{tid}")
    statuses = {e.key: e.status for e in await handle.query(TrajectoryWorkflow.timeline)}
    assert any(s is TaskStatus.done for s in statuses.values())
    again = await client.post(path, data={"csrf_token": csrf})
    assert again.status_code == 410 and "al gebruikt" in again.text
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await client.get(tampered)).status_code == 410
    assert (await client.post(tampered, data={"csrf_token": csrf})).status_code == 410
    assert key


async def test_check_in_consent_and_dropout_by_link(live: LiveWorld) -> None:
    tid = await live.enroll(leave_in_months=-2)  # left two months ago: aftercare
    client, csrf = live.web.anonymous()
    checkin = sign(live, "checkin", tid, "checkin_1m@overdue")
    answer = await client.post(checkin, data={"csrf_token": csrf, "status": "at_destination"})
    assert "vastgelegd" in answer.text
    consent = sign(live, "consent", tid, "consent_16@2026-01-01")
    assert "toestemming" in (await client.get(consent)).text
    answer = await client.post(consent, data={"csrf_token": csrf, "answer": "given"})
    assert "vastgelegd" in answer.text
    handle = live.env.client.get_workflow_handle(f"trajectory-{tid}")
    consents = await handle.query(TrajectoryWorkflow.consents)
    assert consents.data_sharing is not None and consents.data_sharing.value == "given"
    dropout = sign(live, "dropout", tid, "dropout")
    answer = await client.post(dropout, data={"csrf_token": csrf, "reason": "contract_ended"})
    assert "vastgelegd" in answer.text
    summary = await handle.query(TrajectoryWorkflow.summary)
    assert summary.phase.value == "safety_net"


async def test_the_destination_reminder_asks_for_the_destination(live: LiveWorld) -> None:
    tid = await live.enroll()
    client, csrf = live.web.anonymous()
    path = sign(live, "task_done", tid, "destination_confirmed@overdue")
    page = await client.get(path)
    assert 'name="destination"' in page.text and "Dagbesteding" in page.text
    answer = await client.post(path, data={"csrf_token": csrf, "destination": "day_activity"})
    assert "vastgelegd" in answer.text
    summary = await live.env.client.get_workflow_handle(f"trajectory-{tid}").query(
        TrajectoryWorkflow.summary
    )
    assert summary.destination is not None and summary.destination.value == "day_activity"


async def test_expired_links_and_forged_forms_change_nothing(live: LiveWorld) -> None:
    tid = await live.enroll()
    client, csrf = live.web.anonymous()
    expired = sign(live, "task_done", tid, "case_meeting@overdue", days=-1)
    page = await client.get(expired)
    assert page.status_code == 410 and "verlopen" in page.text and "niets veranderd" in page.text
    fresh = sign(live, "task_done", tid, "case_meeting@overdue")
    assert (await client.post(fresh, data={"csrf_token": "forged"})).status_code == 403
    assert live.tasks(tid)["case_meeting"].status is TaskStatus.overdue


async def test_the_trajectory_page_completes_a_task_and_chooses_a_destination(
    live: LiveWorld,
) -> None:
    tid = await live.enroll()
    client, csrf = live.web.as_role("case_director")
    page = await client.get(f"/trajectories/{tid}")
    assert page.status_code == 200 and "status-overdue" in page.text
    done = await client.post(f"/trajectories/{tid}/tasks/case_meeting/complete",
                             data={"csrf_token": csrf})  # fmt: skip
    assert done.headers["location"] == f"/trajectories/{tid}?flash=done"
    again = await client.post(f"/trajectories/{tid}/tasks/case_meeting/complete",
                              data={"csrf_token": csrf})  # fmt: skip
    assert again.headers["location"].endswith("flash=already_done")
    unknown = await client.post(f"/trajectories/{tid}/tasks/nope/complete",
                                data={"csrf_token": csrf})  # fmt: skip
    assert unknown.headers["location"].endswith("flash=rejected&reason=UnknownTask")
    await live.wait_for(lambda: live.tasks(tid)["case_meeting"].status is TaskStatus.done)
    chosen = await client.post(
        f"/trajectories/{tid}/destination",
        data={"csrf_token": csrf, "destination": "work", "next_contact_id": "pro_jobcoach"},
    )
    assert chosen.headers["location"].endswith("flash=done")
    second = await client.post(
        f"/trajectories/{tid}/destination",
        data={"csrf_token": csrf, "destination": "pathway", "next_contact_id": "pro_jobcoach"},
    )
    assert second.headers["location"].endswith("reason=DestinationAlreadyChosen")

    def destination() -> str | None:
        with Session(live.web.engine) as session:
            row = session.get(Trajectory, tid)
            return row.destination.value if row and row.destination else None

    await live.wait_for(lambda: destination() == "work")
    refused = await client.post(f"/trajectories/{tid}/waakvlam/refuse", data={"csrf_token": csrf})
    assert refused.headers["location"].endswith("flash=done")
    handle = live.env.client.get_workflow_handle(f"trajectory-{tid}")
    assert (await handle.query(TrajectoryWorkflow.summary)).waakvlam
    assert "Vraagt weer hulp" in (await client.get(f"/trajectories/{tid}")).text
    helped = await client.post(f"/trajectories/{tid}/waakvlam/help", data={"csrf_token": csrf})
    assert helped.headers["location"].endswith("flash=done")
    assert not (await handle.query(TrajectoryWorkflow.summary)).waakvlam
    with Session(live.web.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    assert "trajectory_viewed" in actions and actions.count("complete_task") == 3


async def test_the_employers_call_link_is_rate_limited_and_never_used_up(live: LiveWorld) -> None:
    tid = await live.enroll()
    live.web.app.state.web.client = None  # no paging here: the on-call tests cover it
    path = sign(live, "oncall_call", tid, "call")
    client, csrf = live.web.anonymous()
    assert "jobcoach" in (await client.get(path)).text
    codes = []
    for _ in range(4):
        response = await client.post(
            path, data={"csrf_token": csrf, "category": "absence", "urgency": "today"}
        )
        codes.append(response.status_code)
    assert codes == [200, 200, 200, 429]
    assert (await client.get(path)).status_code == 200  # still usable later
