"""SMS through CM.com's JSON gateway (``POST /v1.0/message``).

Our outbox reference travels as the message ``reference``; CM echoes it in its status reports,
which is how a delivery report finds its outbox row even when our process crashed before it
could record CM's answer. CM returns no message id of its own, so the reference is the id.

One request may carry many messages (``messages.msg`` is a list) and CM answers per message
(``status``, ``reference``, ``messageErrorCode``). With ``SMS_BATCH_SIZE`` above 1 the channel
sends through a :class:`~notifications.sms_batch.SmsBatcher`: messages that fall due while a
request is out go together in the next one; each caller still gets its own message's outcome,
matched by reference. With 1, every message is its own request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from config.settings import Settings
from notifications.channels import (
    DeliveryError,
    OutgoingSms,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
    UnknownOutcome,
    post_to_gateway,
)
from notifications.sms_batch import SmsBatcher

# Message-level codes that mean "this message, as it is, will never go": bad recipient or body.
PERMANENT_MESSAGE_CODES = {301, 302, 303, 304, 305, 401, 402, 403}
# Request-level codes: authentication or balance, the operator must act.
PERMANENT_REQUEST_CODES = {101, 102, 103}
PARTLY_SENT = 201  # "one or more errors in its messages": the others were sent
# Requests out at once per channel. One: while it is out, everything that falls due waits for
# the next request, so batches are as large as the moment allows, and SMS leave in the order they
# fell due. A request that hangs until the HTTP timeout holds the next batch up as long; a slow
# gateway would slow a second request as much, and a page also goes out by email at once.
MAX_IN_FLIGHT = 1


def cm_number(e164: str) -> str:
    """CM wants ``00`` + country code: ``+31612345678`` → ``0031612345678``."""
    return "00" + e164.removeprefix("+") if e164.startswith("+") else e164


class CmSms:
    name = "cm"

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        if settings.cm_product_token is None:
            raise ValueError("cm_product_token_missing")
        self.url = settings.cm_api_url
        self.token = settings.cm_product_token.get_secret_value()
        self.sender = settings.sms_sender
        self.max_parts = settings.sms_max_segments
        self.http = http
        self.batcher: SmsBatcher | None = None
        if settings.sms_batch_size > 1:
            self.batcher = SmsBatcher(
                self.post, provider=self.name, max_batch=settings.sms_batch_size,
                max_in_flight=MAX_IN_FLIGHT,
            )  # fmt: skip

    def message(self, sms: OutgoingSms) -> dict[str, Any]:
        return {
            "from": self.sender,
            "to": [{"number": cm_number(sms.to)}],
            "body": {"type": "auto", "content": sms.body},
            "reference": sms.reference,
            "minimumNumberOfMessageParts": 1,
            "maximumNumberOfMessageParts": self.max_parts,
            "allowedChannels": ["SMS"],
        }

    def payload(self, messages: Sequence[OutgoingSms]) -> dict[str, Any]:
        return {
            "messages": {
                "authentication": {"producttoken": self.token},
                "msg": [self.message(sms) for sms in messages],
            }
        }

    async def send(self, sms: OutgoingSms) -> Receipt:
        if self.batcher is not None:
            return await self.batcher.send(sms)
        (outcome,) = await self.post([sms])
        if isinstance(outcome, DeliveryError):
            raise outcome
        return outcome

    async def aclose(self) -> None:
        """Send what was handed over and wait for the answers (the HTTP client stays open)."""
        if self.batcher is not None:
            await self.batcher.aclose()

    async def post(self, messages: Sequence[OutgoingSms]) -> list[Receipt | DeliveryError]:
        """One request for ``messages``; one outcome per message, in order (a fresh exception
        for each failed one)."""
        try:
            response, data = await post_to_gateway(
                "cm", self.http.post(self.url, json=self.payload(messages))
            )
        except DeliveryError as failure:  # nothing known per message: the same for all
            return [_copy(failure) for _ in messages]
        answers = data.get("messages")
        results: dict[str, Mapping[str, Any]] = {}
        for answer in answers if isinstance(answers, list) else []:
            if isinstance(answer, dict) and isinstance(answer.get("reference"), str):
                results.setdefault(answer["reference"], answer)
        # A one-message request whose answer lists no messages is judged by the request-level
        # answer alone, as it always was; in a batch every message needs its own answer.
        bare = len(messages) == 1 and not isinstance(answers, list)
        return [
            self.outcome(sms, response, data, results.get(sms.reference), bare) for sms in messages
        ]

    def outcome(
        self,
        sms: OutgoingSms,
        response: httpx.Response,
        data: Mapping[str, Any],
        result: Mapping[str, Any] | None,
        bare: bool,
    ) -> Receipt | DeliveryError:
        """One message's outcome from CM's answer and its own result (None: not in the answer)."""
        error = _int(data.get("errorCode"))
        code = _int(result.get("messageErrorCode")) if result is not None else 0
        if code in PERMANENT_MESSAGE_CODES:
            return PermanentFailure(f"cm_{code}")
        if error in PERMANENT_REQUEST_CODES:
            return PermanentFailure(f"cm_{error}")
        all_went = error == 0 and response.is_success
        if result is None and bare:  # a one-message request without per-message answers
            if all_went:
                return Receipt(self.name, sms.reference)
        elif all_went or error == PARTLY_SENT:
            if result is None:
                # CM took the request but said nothing of this message: it may have gone out.
                return UnknownOutcome("cm_no_result")
            status = str(result.get("status") or "Accepted").lower()
            if code == 0 and status == "accepted":
                return Receipt(self.name, sms.reference)
        return TemporaryFailure(f"cm_{error if error > 0 else response.status_code}")


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return -1


def _copy(failure: DeliveryError) -> DeliveryError:
    if isinstance(failure, TemporaryFailure):
        return TemporaryFailure(failure.code, failure.retry_after)
    return type(failure)(failure.code)
