"""An SMS gateway emulator on loopback that speaks CM.com's and Twilio's HTTP APIs.

One Starlette app served by uvicorn on a free port in a background task (``sms_gateway``
fixture in ``tests/conftest.py``). Point the product at it with ``gateway.settings_overrides("cm")``
or ``("twilio")``. It is meant to be reused for "fake phone" conversation tests (GoAlert style).

Outbound API it serves:
- CM.com: ``POST /v1.0/message`` with JSON ``{"messages": {"authentication": {"producttoken"},
  "msg": [{"from", "to": [{"number": "00316…"}], "body": {"type", "content"}, "reference"}]}}``;
  answers ``{"details", "errorCode": 0, "messages": [{"to", "status": "Accepted", "reference",
  "parts", "messageDetails", "messageErrorCode": 0}]}``; an invalid number gets HTTP 400 with
  ``errorCode`` 201 and ``messageErrorCode`` 303 ("invalid MSISDN in the To field").
- Twilio: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` (form: To, From, Body,
  StatusCallback; HTTP Basic sid:token); answers 201 with ``{"sid": "SM…", "status": "queued",
  …}``; an invalid number gets 400 ``{"code": 21211, "message", "more_info", "status": 400}``.

Controls (all per gateway instance):
- ``messages`` (every accepted :class:`GatewayMessage`), ``inbox(number)`` (bodies sent to a
  number, in order; numbers are compared in E.164, ``+316…``), ``wait_for(number, count)``.
- ``fail_next(times, status=503)``: the next ``times`` requests get a 5xx (nothing is sent).
- ``throttle_next(times, retry_after=1)``: the next requests get 429 with ``Retry-After``.
- ``mark_invalid(number)``: requests to that number fail permanently in the provider's shape.
- ``mark_unsubscribed(number)``: Twilio answers 21610 (STOP sent to the carrier).
- ``hang_next(seconds)``: the next request IS accepted and recorded, but the answer comes only
  after ``seconds`` (a client timeout then leaves the outcome unknown to the sender).
- ``report(message, status, url, client=None)``: post a delivery report in the message's
  provider's shape (CM JSON status report, or Twilio's status callback form, signed with
  ``X-Twilio-Signature``) to ``url`` (default: the StatusCallback given when sending).
- ``inbound(provider, from_number, to_number, body, url, client=None)``: post an inbound SMS in
  that provider's shape (CM JSON ``{"from": {"number"}, "to": {"number"}, "message": {"text"}}``,
  Twilio form ``From``/``To``/``Body``/``MessageSid``, signed).
- ``requests``: every request to either API, faulted ones included; ``cm_requests``: the
  ``reference`` of each ``msg`` of every CM request that got past the faults, one list per
  request in arrival order (how the messages were batched).
- ``hold()`` / ``release()``: while held, CM requests are recorded in ``cm_requests`` and then
  wait before anything is accepted or answered (a request "in flight", for batching tests).
``reset()`` forgets messages, requests and faults, so one gateway can serve many tests.
``client`` may be an ``httpx.AsyncClient`` with an ``ASGITransport`` to post into an app without
a socket; the signature is always computed over ``url`` (the public URL Twilio would sign).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.smtp import free_port

CM_TOKEN = "00000000-0000-4000-8000-00000000c0de"
TWILIO_SID = "AC" + "0" * 30 + "fa"
TWILIO_TOKEN = "twilio-test-auth-token-0123456789"
TWILIO_FROM = "+3197010000001"


def e164(number: str) -> str:
    number = number.strip().replace(" ", "")
    if number.startswith("00"):
        return "+" + number[2:]
    return number


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's documented algorithm: HMAC-SHA1 over the URL plus each POST parameter name and
    value, sorted by name, base64-encoded."""
    payload = url + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class GatewayMessage:
    provider: str
    to: str  # E.164
    sender: str
    body: str
    reference: str | None
    id: str
    status_callback: str | None = None
    parts: int = 1


@dataclass
class _Faults:
    fail: list[int] = field(default_factory=list)
    throttle: list[int] = field(default_factory=list)
    hang: list[float] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)


class SmsGateway:
    def __init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.messages: list[GatewayMessage] = []
        self.requests = 0
        self.cm_requests: list[list[str | None]] = []
        self._open = asyncio.Event()
        self._open.set()
        self._faults = _Faults()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(
            routes=[
                Route("/v1.0/message", self._cm_send, methods=["POST"]),
                Route(
                    "/2010-04-01/Accounts/{sid}/Messages.json",
                    self._twilio_send,
                    methods=["POST"],
                ),
            ]
        )

    # -- controls ---------------------------------------------------------------------------
    def fail_next(self, times: int = 1, status: int = 503) -> None:
        self._faults.fail.extend([status] * times)

    def throttle_next(self, times: int = 1, retry_after: int = 1) -> None:
        self._faults.throttle.extend([retry_after] * times)

    def hang_next(self, seconds: float) -> None:
        self._faults.hang.append(seconds)

    def mark_invalid(self, number: str) -> None:
        self._faults.invalid.add(e164(number))

    def mark_unsubscribed(self, number: str) -> None:
        """Twilio answers 21610 (the number sent STOP to the carrier); CM treats it as invalid."""
        self._faults.unsubscribed.add(e164(number))

    def hold(self) -> None:
        """CM requests wait (recorded, not yet accepted) until :meth:`release`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def reset(self) -> None:
        """Forget messages, requests and faults (to reuse one gateway across tests)."""
        self.messages = []
        self.requests = 0
        self.cm_requests = []
        self._open.set()
        self._faults = _Faults()

    def inbox(self, number: str) -> list[str]:
        return [m.body for m in self.messages if m.to == e164(number)]

    async def wait_for(self, number: str, count: int = 1, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.inbox(number)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} SMS, got {len(self.inbox(number))}")
            await asyncio.sleep(0.02)
        return self.inbox(number)

    def settings_overrides(self, provider: str) -> dict[str, Any]:
        if provider == "cm":
            return {
                "sms_provider": "cm",
                "cm_api_url": f"{self.base_url}/v1.0/message",
                "cm_product_token": CM_TOKEN,
            }
        return {
            "sms_provider": "twilio",
            "twilio_api_url": self.base_url,
            "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_from_number": TWILIO_FROM,
        }

    # -- callbacks to the product -------------------------------------------------------------
    async def report(
        self,
        message: GatewayMessage,
        status: str = "delivered",
        url: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        target = url or message.status_callback
        assert target, "no URL to report to"
        if message.provider == "cm":
            code = {"accepted": "0", "rejected": "1", "delivered": "2", "failed": "3"}[status]
            payload = {
                "messages": {
                    "msg": {
                        "received": datetime.now(UTC).isoformat(),
                        "to": "00" + message.to.removeprefix("+"),
                        "reference": message.reference,
                        "status": {
                            "code": code,
                            "errorCode": "" if code in ("0", "2") else "5",
                            "errorDescription": "" if code in ("0", "2") else "Unknown subscriber",
                        },
                    }
                }
            }
            return await self._post(client, target, json=payload)
        form = {
            "MessageSid": message.id,
            "SmsSid": message.id,
            "AccountSid": TWILIO_SID,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message.to,
            "From": message.sender,
            "ApiVersion": "2010-04-01",
        }
        if status in ("failed", "undelivered"):
            form["ErrorCode"] = "30005"
        return await self._post(client, target, form=form)

    async def inbound(
        self,
        provider: str,
        from_number: str,
        to_number: str,
        body: str,
        url: str,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        if provider == "cm":
            payload = {
                "reference": secrets.token_hex(8),
                "messageContext": "",
                "from": {"number": e164(from_number), "name": ""},
                "to": {"number": e164(to_number)},
                "message": {"text": body, "media": {}, "custom": {}},
                "groupings": [],
                "timeUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "channel": "SMS",
            }
            return await self._post(client, url, json=payload)
        form = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "SmsSid": "SM" + secrets.token_hex(16),
            "AccountSid": TWILIO_SID,
            "From": e164(from_number),
            "To": e164(to_number),
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        return await self._post(client, url, form=form)

    async def _post(
        self,
        client: httpx.AsyncClient | None,
        url: str,
        *,
        json: Any = None,
        form: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {}
        if form is not None:
            headers["X-Twilio-Signature"] = twilio_signature(TWILIO_TOKEN, url, form)
        if client is not None:
            return await client.post(url, json=json, data=form, headers=headers)
        async with httpx.AsyncClient(timeout=5) as own:
            return await own.post(url, json=json, data=form, headers=headers)

    # -- the emulated APIs ---------------------------------------------------------------------
    async def _fault(self, error_body: dict[str, Any]) -> Response | None:
        self.requests += 1
        if self._faults.fail:
            status = self._faults.fail.pop(0)
            return JSONResponse(error_body | {"status": status}, status_code=status)
        if self._faults.throttle:
            retry_after = self._faults.throttle.pop(0)
            return JSONResponse(
                error_body | {"status": 429, "message": "Too Many Requests"},
                status_code=429,
                headers={"Retry-After": str(retry_after)},
            )
        return None

    async def _accepted(self, message: GatewayMessage) -> None:
        self.messages.append(message)
        if self._faults.hang:
            await asyncio.sleep(self._faults.hang.pop(0))

    async def _cm_send(self, request: Request) -> Response:
        fault = await self._fault({"details": "Service unavailable", "errorCode": 500})
        if fault is not None:
            return fault
        data = await request.json()
        batch = data["messages"]
        self.cm_requests.append([msg.get("reference") for msg in batch.get("msg", [])])
        await self._open.wait()
        if batch.get("authentication", {}).get("producttoken") != CM_TOKEN:
            return JSONResponse(
                {
                    "details": "No account found for the given authentication",
                    "errorCode": 101,
                    "messages": [],
                },
                status_code=401,
            )
        results = []
        rejected = False
        for msg in batch["msg"]:
            for recipient in msg["to"]:
                number = e164(recipient["number"])
                body = msg["body"]["content"]
                parts = 1 if len(body) <= 160 else math.ceil(len(body) / 153)
                if number in self._faults.invalid | self._faults.unsubscribed:
                    rejected = True
                    results.append(
                        {
                            "to": recipient["number"],
                            "status": "Rejected",
                            "reference": msg.get("reference"),
                            "parts": 0,
                            "messageDetails": "Gsm '" + recipient["number"] + "' is not a number.",
                            "messageErrorCode": 303,
                        }
                    )
                    continue
                await self._accepted(
                    GatewayMessage(
                        "cm",
                        number,
                        msg.get("from", ""),
                        body,
                        msg.get("reference"),
                        "cm-" + secrets.token_hex(8),
                        parts=parts,
                    )
                )
                results.append(
                    {
                        "to": recipient["number"],
                        "status": "Accepted",
                        "reference": msg.get("reference"),
                        "parts": parts,
                        "messageDetails": None,
                        "messageErrorCode": 0,
                    }
                )
        if rejected:
            return JSONResponse(
                {
                    "details": "This request has one or more errors in its messages. Some or all "
                    "messages have not been sent. See MSGs for details.",
                    "errorCode": 201,
                    "messages": results,
                },
                status_code=400,
            )
        return JSONResponse(
            {"details": f"Created {len(results)} message(s)", "errorCode": 0, "messages": results}
        )

    async def _twilio_send(self, request: Request) -> Response:
        fault = await self._fault(
            {
                "code": 20503,
                "message": "Service unavailable",
                "more_info": "https://www.twilio.com/docs/errors/20503",
            }
        )
        if fault is not None:
            return fault
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse(
                {
                    "code": 20003,
                    "message": "Authenticate",
                    "status": 401,
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                },
                status_code=401,
            )
        form = await request.form()
        to, body = str(form["To"]), str(form["Body"])
        if e164(to) in self._faults.unsubscribed:
            return JSONResponse(
                {
                    "code": 21610,
                    "message": "Attempt to send to unsubscribed recipient",
                    "more_info": "https://www.twilio.com/docs/errors/21610",
                    "status": 400,
                },
                status_code=400,
            )
        if e164(to) in self._faults.invalid or not to.startswith("+"):
            return JSONResponse(
                {
                    "code": 21211,
                    "message": f"The 'To' number {to} is not a valid phone number.",
                    "more_info": "https://www.twilio.com/docs/errors/21211",
                    "status": 400,
                },
                status_code=400,
            )
        sid = "SM" + secrets.token_hex(16)
        parts = 1 if len(body) <= 160 else math.ceil(len(body) / 153)
        callback = form.get("StatusCallback")
        await self._accepted(
            GatewayMessage(
                "twilio",
                e164(to),
                str(form["From"]),
                body,
                None,
                sid,
                status_callback=str(callback) if callback else None,
                parts=parts,
            )
        )
        now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": request.path_params["sid"],
                "to": to,
                "from": form["From"],
                "body": body,
                "status": "queued",
                "num_segments": str(parts),
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "date_created": now,
                "date_updated": now,
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "price": None,
                "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}.json",
            },
            status_code=201,
        )

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
