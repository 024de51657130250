"""Webhooks of the SMS gateways: delivery reports and inbound SMS, for CM.com and Twilio.

URLs (configure them at the provider, under ``public_base_url``):
- ``POST|GET /webhooks/cm/status``: CM status reports (JSON, or flat parameters);
- ``POST /webhooks/cm/inbound``: CM inbound messages (JSON);
- ``POST /webhooks/twilio/status?ref=wv<id>``: Twilio status callbacks (we set this URL per
  message);
- ``POST /webhooks/twilio/inbound``: Twilio inbound messages.
Twilio requests must carry a valid ``X-Twilio-Signature`` (HMAC-SHA1 with the auth token over
the public URL and the sorted POST parameters); others get 403.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from notifications.delivery_reports import (
    Applied,
    DeliveryReport,
    apply_report,
    parse_cm,
    parse_twilio,
)
from notifications.inbound import InboundSms, parse_cm_inbound, parse_twilio_inbound
from notifications.sms_twilio import signature_valid
from waakvlam.container import Container

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _public_url(request: Request, container: Container) -> str:
    """The URL Twilio signed: our public base URL, not whatever a proxy made of it."""
    url = container.settings.public_base_url + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


async def _twilio_form(request: Request, container: Container) -> dict[str, str]:
    form = {key: str(value) for key, value in (await request.form()).items()}
    token = container.settings.twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature")
    if token is None or not signature_valid(
        token.get_secret_value(), _public_url(request, container), form, signature
    ):
        raise HTTPException(status_code=403, detail="invalid_signature")
    return form


async def _apply(container: Container, reports: list[DeliveryReport]) -> list[int | None]:
    now = datetime.now(UTC)

    def work() -> list[Applied | None]:
        with Session(container.engine) as session:
            return [apply_report(session, report, now) for report in reports]

    applied = await asyncio.to_thread(work)
    for item in applied:
        if item is not None and item.failover_row_id is not None:
            await container.notifications.notifier.deliver(
                item.failover_row_id, now, reschedule_on_temporary=True
            )
    return [item.row_id if item else None for item in applied]


async def _route(container: Container, sms: InboundSms) -> str:
    return (await container.notifications.inbound.route(sms)).value


# Provider callbacks, not our API: left out of the OpenAPI description (the GET+POST route
# would also give it a duplicate operation id).
router = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=False)


@router.api_route("/cm/status", methods=["GET", "POST"])
async def cm_status(request: Request) -> JSONResponse:
    container = _container(request)
    data: Any = dict(request.query_params)
    if request.method == "POST":
        if request.headers.get("content-type", "").startswith("application/json"):
            data = await request.json()
        else:
            data = {key: str(value) for key, value in (await request.form()).items()}
    rows = await _apply(container, parse_cm(data))
    return JSONResponse({"matched": sum(1 for r in rows if r is not None)})


@router.post("/cm/inbound")
async def cm_inbound(request: Request) -> JSONResponse:
    container = _container(request)
    sms = parse_cm_inbound(await request.json(), datetime.now(UTC))
    return JSONResponse({"outcome": await _route(container, sms)})


@router.post("/twilio/status")
async def twilio_status(request: Request) -> Response:
    container = _container(request)
    form = await _twilio_form(request, container)
    report = parse_twilio(form, request.query_params.get("ref"))
    if report is not None:
        await _apply(container, [report])
    return Response(status_code=204)


@router.post("/twilio/inbound")
async def twilio_inbound(request: Request) -> Response:
    container = _container(request)
    form = await _twilio_form(request, container)
    sms = parse_twilio_inbound(form, datetime.now(UTC))
    outcome = await _route(container, sms)
    return Response(EMPTY_TWIML, media_type="application/xml", headers={"X-Waakvlam": outcome})
