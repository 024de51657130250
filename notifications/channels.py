"""What a channel is: the shape of an outgoing email or SMS, a receipt, and the three ways a
send can fail. Channels raise these with codes only; addresses never reach an exception message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    reference: str  # "wv<outbox id>": becomes the Message-ID, so a duplicate is detectable


@dataclass(frozen=True)
class OutgoingSms:
    to: str  # E.164
    body: str
    reference: str  # "wv<outbox id>": the provider's client reference, echoed in reports
    status_callback: str | None = None


@dataclass(frozen=True)
class Receipt:
    provider: str
    provider_message_id: str


class DeliveryError(Exception):
    """Base: ``code`` is a short machine code such as ``http_503`` or ``twilio_21211``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class TemporaryFailure(DeliveryError):
    """Nothing was sent; try again later (after ``retry_after`` seconds when the provider said)."""

    def __init__(self, code: str, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """The provider refused this address for good (invalid number, unknown mailbox)."""


class UnknownOutcome(DeliveryError):
    """The request may have reached the provider (a timeout after sending): do not resend
    blindly; wait for the delivery report that carries our reference."""


class EmailChannel(Protocol):
    name: str

    async def send(self, email: OutgoingEmail) -> Receipt: ...


BeforeData = Callable[[], Awaitable[None]]
"""Called by a staged channel once the server has accepted the sender and the recipient, right
before the message data goes out: the last moment at which nothing can have been delivered.
Whatever it raises aborts the send with nothing sent and reaches the caller unchanged."""


@runtime_checkable
class StagedEmailChannel(Protocol):
    """An email channel that can call back just before the point of no return (SMTP's DATA), so
    the outbox can claim a message as late as possible; see ``Notifier.deliver``."""

    name: str

    async def send(self, email: OutgoingEmail) -> Receipt: ...

    async def send_staged(self, email: OutgoingEmail, before_data: BeforeData) -> Receipt: ...


class SmsChannel(Protocol):
    name: str

    async def send(self, sms: OutgoingSms) -> Receipt: ...


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header given in seconds (HTTP dates are treated as unknown)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def post_to_gateway(
    provider: str, request: Awaitable[httpx.Response]
) -> tuple[httpx.Response, dict[str, Any]]:
    """Send an SMS gateway request and read its JSON answer. A failure that proves nothing was
    sent (no connection, 429, 5xx, no JSON) is temporary; a lost answer is an unknown outcome."""
    try:
        response = await request
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
        raise TemporaryFailure(f"{provider}_connect") from None
    except httpx.HTTPError:
        raise UnknownOutcome(f"{provider}_no_answer") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise TemporaryFailure(
            f"{provider}_http_{response.status_code}",
            retry_after_seconds(response.headers.get("Retry-After")),
        )
    try:
        data = response.json()
    except ValueError:
        raise TemporaryFailure(f"{provider}_http_{response.status_code}") from None
    return response, data if isinstance(data, dict) else {}
