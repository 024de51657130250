"""send_notification as a real activity in a workflow on the time-skipping server: Temporal's
retries against a flaky gateway still produce exactly one SMS; DigestWorkflow sends the digest."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notify import NotificationActivities
from notifications.requests import MessageKind, NotifyOutcome, NotifyRequest, NotifyResult
from tests.notifications.conftest import ANNA_SMS, WORKDAY, World, request
from workflows.digest import DigestInput, DigestWorkflow

AMS = ZoneInfo("Europe/Amsterdam")


@workflow.defn(sandboxed=False)
class SendTwice:
    """Sends the same request twice, as a workflow that retried or continued-as-new would."""

    @workflow.run
    async def run(self, notify: NotifyRequest) -> list[NotifyResult]:
        results = []
        for _ in range(2):
            result: NotifyResult = await workflow.execute_activity(
                "send_notification",
                notify,
                result_type=NotifyResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1), maximum_attempts=10
                ),
            )
            results.append(result)
        return results


def activities(world: World, now: datetime) -> NotificationActivities:
    return NotificationActivities(
        world.services.notifier, world.services.digests, clock=lambda: now
    )


async def test_retries_with_a_flaky_gateway_produce_exactly_one_sms(
    workflow_env: WorkflowEnvironment, task_queue: str, world: World
) -> None:
    world.gateway.fail_next(2, status=503)
    world.gateway.throttle_next(1, retry_after=1)
    page = request(MessageKind.oncall_page, reference="esc_8:0.0", ack_code="8888")
    acts = activities(world, WORKDAY)
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            workflow_env.client, task_queue=task_queue, workflows=[SendTwice],
            activities=acts.all(), activity_executor=executor,
        ):  # fmt: skip
            results = await workflow_env.client.execute_workflow(
                SendTwice.run, page, id=f"send-{task_queue}", task_queue=task_queue
            )
    assert [r.outcome for r in results] == [NotifyOutcome.sent, NotifyOutcome.already_sent]
    assert world.gateway.requests == 4
    [sms] = world.gateway.inbox(ANNA_SMS)
    assert "OK 8888" in sms


async def test_a_template_problem_is_not_retried_and_carries_only_a_code(
    workflow_env: WorkflowEnvironment, task_queue: str, world: World
) -> None:
    world.services.templates.sms_max_segments = 0  # every SMS is now "too long"
    page = request(MessageKind.oncall_page, reference="esc_9:0.0", ack_code="9999")
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            workflow_env.client, task_queue=task_queue, workflows=[SendTwice],
            activities=activities(world, WORKDAY).all(), activity_executor=executor,
        ):  # fmt: skip
            try:
                await workflow_env.client.execute_workflow(
                    SendTwice.run, page, id=f"bad-{task_queue}", task_queue=task_queue
                )
            except WorkflowFailureError as failure:
                cause = failure.cause.__cause__
                assert isinstance(cause, ApplicationError) and cause.non_retryable
                assert cause.message.startswith("sms_too_long:nl/oncall_page.jinja")
                assert "Anna" not in str(cause) and ANNA_SMS not in str(cause)
            else:
                raise AssertionError("the workflow should have failed")
    assert world.gateway.messages == []


async def test_the_digest_workflow_sends_the_days_digest_once(
    workflow_env: WorkflowEnvironment, task_queue: str, world: World
) -> None:
    await world.services.notifier.notify(request(to="pro_cas"), WORKDAY)
    morning = datetime(2027, 3, 10, 9, 0, tzinfo=AMS)
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            workflow_env.client, task_queue=task_queue, workflows=[DigestWorkflow],
            activities=activities(world, morning).all(), activity_executor=executor,
        ):  # fmt: skip
            reports = [
                await workflow_env.client.execute_workflow(
                    DigestWorkflow.run,
                    DigestInput(for_date=date(2027, 3, 10)),
                    id=f"digest-{task_queue}-{n}",
                    task_queue=task_queue,
                )  # fmt: skip
                for n in range(2)
            ]
    assert [(r.sent, r.already_sent) for r in reports] == [(1, 0), (0, 1)]
    [digest] = world.smtp.messages_to("cas@example.org")
    assert "Toekomstgesprek" in digest.text
