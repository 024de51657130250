"""Natural batching for an SMS gateway that takes many messages in one request (CM.com).

There is no timer and no added wait. While fewer than ``max_in_flight`` requests are out, a
message goes at once: alone, unless others are already waiting. While every request slot is
busy, arriving messages wait, and when a request comes back the messages waiting by then go
together in the next one (at most ``max_batch``). When little is due, every message goes alone as
it would without the batcher; when many fall due together (a morning reminder window, a page to
several jobcoaches), they share requests, and the gateway's per-request cost is paid once per
batch instead of once per message.

Each caller awaits its own message's outcome. ``post`` answers one outcome per message, in order:
a :class:`Receipt`, or the :class:`DeliveryError` that caller must see (a fresh instance each).
A caller cancelled while its message waits takes the message out: it is not posted. A caller
cancelled while its request is out does not stop the request (the others in it still get their
answers); its own outcome is dropped, and the outbox row it claimed is settled by the provider's
delivery report, as any send whose answer was lost.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from notifications.channels import (
    DeliveryError,
    OutgoingSms,
    Receipt,
    TemporaryFailure,
    UnknownOutcome,
)

PostBatch = Callable[[Sequence[OutgoingSms]], Awaitable[Sequence[Receipt | DeliveryError]]]


@dataclass(eq=False)
class _Waiting:
    sms: OutgoingSms
    outcome: asyncio.Future[Receipt]


class SmsBatcher:
    """Sends messages through ``post`` in natural batches; see the module docstring.

    ``provider`` prefixes the codes of the failures the batcher makes itself:
    ``<provider>_closing`` (sent after :meth:`aclose` began: nothing was sent) and
    ``<provider>_no_answer`` (the request was torn down while out: the outcome is unknown).
    """

    def __init__(
        self, post: PostBatch, *, provider: str, max_batch: int, max_in_flight: int = 1
    ) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("batch_limits")
        self._post = post
        self._provider = provider
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._waiting: deque[_Waiting] = deque()
        self._requests: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def in_flight(self) -> int:
        return len(self._requests)

    async def send(self, sms: OutgoingSms) -> Receipt:
        if self._closing:
            raise TemporaryFailure(f"{self._provider}_closing")
        waiting = _Waiting(sms, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        self._start_requests()
        # Cancelling the caller cancels the future: a waiting message is then skipped.
        return await waiting.outcome

    async def aclose(self) -> None:
        """Refuse new messages (a temporary failure: nothing sent), send those already handed
        over, and return once every request has been answered."""
        self._closing = True
        self._start_requests()
        while self._requests:
            await asyncio.wait(list(self._requests))

    # -- internals ------------------------------------------------------------------------------
    def _start_requests(self) -> None:
        while len(self._requests) < self.max_in_flight:
            batch = self._take()
            if not batch:
                return
            request = asyncio.get_running_loop().create_task(self._request(batch))
            self._requests.add(request)
            request.add_done_callback(self._finished)

    def _take(self) -> list[_Waiting]:
        """Up to ``max_batch`` waiting messages whose callers still wait, oldest first; a second
        message with a reference already in the batch waits for the next request, so every
        answer matches one caller."""
        batch: list[_Waiting] = []
        references: set[str] = set()
        later: list[_Waiting] = []
        while self._waiting and len(batch) < self.max_batch:
            waiting = self._waiting.popleft()
            if waiting.outcome.done():  # its caller was cancelled
                continue
            if waiting.sms.reference in references:
                later.append(waiting)
                continue
            references.add(waiting.sms.reference)
            batch.append(waiting)
        self._waiting.extendleft(reversed(later))
        return batch

    def _finished(self, request: asyncio.Task[None]) -> None:
        # A done callback runs after the wake-ups of the callers the request answered, so a
        # caller that sends again at once is already waiting here and joins the next batch.
        self._requests.discard(request)
        if not request.cancelled():
            request.exception()  # _request handles its errors; this only marks it retrieved
        self._start_requests()

    async def _request(self, batch: list[_Waiting]) -> None:
        live = [w for w in batch if not w.outcome.done()]  # cancelled before the post: not sent
        if not live:
            return
        try:
            outcomes = await self._post([w.sms for w in live])
            if len(outcomes) != len(live):
                raise RuntimeError("batch_outcomes_mismatch")
        except asyncio.CancelledError:
            for waiting in live:  # the request may have gone out: do not let anyone resend
                _settle(waiting, UnknownOutcome(f"{self._provider}_no_answer"))
            raise
        except Exception as error:  # a defect, not a gateway answer: every caller sees it
            for waiting in live:
                _settle(waiting, error)
            return
        for waiting, outcome in zip(live, outcomes, strict=True):
            _settle(waiting, outcome)


def _settle(waiting: _Waiting, outcome: Receipt | BaseException) -> None:
    if waiting.outcome.done():  # its caller was cancelled while the request was out
        return
    if isinstance(outcome, BaseException):
        waiting.outcome.set_exception(outcome)
    else:
        waiting.outcome.set_result(outcome)
