"""The notification activities: ``send_notification``, ``send_daily_digests`` and
``dispatch_scheduled``. They take ids and return codes; nothing personal reaches Temporal:
exceptions are re-raised as ``ApplicationError`` whose message is a code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from notifications.digest import DigestReport, DigestSender
from notifications.dispatch import DispatchReport, dispatch_scheduled
from notifications.notifier import Notifier, RetryLater
from notifications.requests import DigestRequest, DispatchRequest, NotifyRequest, NotifyResult
from notifications.templates import TemplateProblem

log = logging.getLogger(__name__)
T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _settle(task: asyncio.Task[T]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: an attempt abandoned by its activity logs nothing more


async def _to_the_end(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` to its end even when the activity is cancelled meanwhile (a local activity
    whose workflow task timed out on an overloaded worker, a worker shutting down): a message
    handed to the provider is then recorded ``sent``, not left ``sending`` to end as
    ``outcome_unknown`` although it went out. The activity itself stops waiting at once; its
    retry finds the row settled (``already_sent``) or still ``sending`` (checked again later)."""
    task = asyncio.ensure_future(work())
    task.add_done_callback(_settle)
    return await asyncio.shield(task)


async def _guarded(work: Callable[[], Awaitable[T]], what: str) -> T:
    try:
        return await _to_the_end(work)
    except RetryLater as later:
        delay = timedelta(seconds=later.delay) if later.delay is not None else None
        raise ApplicationError(later.code, type="RetryLater", next_retry_delay=delay) from None
    except TemplateProblem as problem:
        raise ApplicationError(str(problem), type="TemplateProblem", non_retryable=True) from None
    except Exception as exc:  # never let a driver's message (which may hold data) reach Temporal
        log.exception("%s failed", what, extra={"error_type": type(exc).__name__})
        raise ApplicationError(f"internal_error:{type(exc).__name__}", type="Internal") from None


class NotificationActivities:
    def __init__(
        self,
        notifier: Notifier,
        digests: DigestSender,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock``: now for quiet hours and working days; the wall clock unless given."""
        self.notifier = notifier
        self.digests = digests
        self.clock = clock or _utcnow

    @activity.defn(name="send_notification")
    async def send_notification(self, request: NotifyRequest) -> NotifyResult:
        result = await _guarded(
            lambda: self.notifier.notify(request, self.clock()), "send_notification"
        )
        log.info(
            "notification %s",
            result.outcome.value,
            extra={"kind": request.kind.value, "outbox_ids": result.outbox_ids,
                   "reason": result.reason},
        )  # fmt: skip
        return result

    @activity.defn(name="send_daily_digests")
    async def send_daily_digests(self, request: DigestRequest) -> DigestReport:
        return await _guarded(
            lambda: self.digests.send_daily_digests(request.for_date, self.clock()),
            "send_daily_digests",
        )

    @activity.defn(name="dispatch_scheduled")
    async def dispatch_scheduled(self, request: DispatchRequest) -> DispatchReport:
        return await _guarded(
            lambda: dispatch_scheduled(self.notifier, request.now), "dispatch_scheduled"
        )

    def all(self) -> list[Callable[..., object]]:
        return [self.send_notification, self.send_daily_digests, self.dispatch_scheduled]
