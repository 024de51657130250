"""The codec endpoint for the Temporal UI: ``POST /codec/encode`` and ``POST /codec/decode``.

The UI (``TEMPORAL_CODEC_ENDPOINT=<public url>/codec``) posts ``{"payloads": [...]}`` in
Temporal's JSON shape (metadata values and data base64) and shows what comes back. Decoding
shows personal data in clear text, so only an authenticated operator may call it:

- with ``Authorization: Bearer <WAAKVLAM_CODEC_TOKEN>`` (the UI's codec settings can pass it), or
- with a signed-in coordinator's session, when the web app's sign-in provides ``authorise``;
- with neither configured the endpoint is open in development only and refused elsewhere.

Cross-origin requests are allowed from ``WAAKVLAM_TEMPORAL_UI_ORIGIN`` only, for these two
paths only. Every decode writes an audit entry (who decoded how many payloads).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.api.common.v1 import Payload

from config.settings import Settings
from store.audit import record
from waakvlam.codec import CodecError, EncryptionCodec

MAX_PAYLOADS = 1000
Authorise = Callable[[Request], str | None]  # the signed-in operator's id, or None


class WirePayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class WirePayloads(BaseModel):
    payloads: list[WirePayload] = Field(default_factory=list, max_length=MAX_PAYLOADS)


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(400, "payload fields must be base64") from None


def _from_wire(body: WirePayloads) -> list[Payload]:
    return [
        Payload(metadata={k: _unb64(v) for k, v in p.metadata.items()}, data=_unb64(p.data))
        for p in body.payloads
    ]


def _to_wire(payloads: list[Payload]) -> WirePayloads:
    return WirePayloads(
        payloads=[
            WirePayload(
                metadata={k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                data=base64.b64encode(p.data).decode(),
            )
            for p in payloads
        ]
    )


def codec_router(
    settings: Settings, engine: Engine, codec: EncryptionCodec, authorise: Authorise | None = None
) -> APIRouter:
    router = APIRouter(prefix="/codec", tags=["codec"])
    origin = settings.temporal_ui_origin.rstrip("/")
    token = settings.codec_token.get_secret_value() if settings.codec_token else ""

    def cors(request: Request, response: Response) -> None:
        if request.headers.get("origin", "").rstrip("/") == origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"

    def operator(request: Request) -> str:
        given = request.headers.get("authorization", "")
        if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return "codec_token"
        if authorise is not None and (who := authorise(request)) is not None:
            return who
        if not token and authorise is None and settings.is_development:
            return "development"
        if not token and authorise is None:
            raise HTTPException(403, "codec endpoint disabled: set WAAKVLAM_CODEC_TOKEN")
        raise HTTPException(401, "sign in as an operator", {"WWW-Authenticate": "Bearer"})

    @router.options("/{operation}", include_in_schema=False)
    def preflight(operation: str, request: Request) -> Response:
        response = Response(status_code=204)
        if request.headers.get("origin", "").rstrip("/") == origin:
            cors(request, response)
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                "Authorization, Content-Type, X-Namespace"
            )
            response.headers["Access-Control-Max-Age"] = "600"
        return response

    @router.post("/encode", response_model=WirePayloads)
    async def encode(body: WirePayloads, request: Request, response: Response) -> WirePayloads:
        """Encrypt payloads with the current key (for the UI's "send signal" and the like)."""
        cors(request, response)
        operator(request)
        return _to_wire(await codec.encode(_from_wire(body)))

    @router.post("/decode", response_model=WirePayloads)
    async def decode(body: WirePayloads, request: Request, response: Response) -> WirePayloads:
        """Decrypt payloads for display; payloads that were never encrypted come back as is."""
        cors(request, response)
        who = operator(request)
        try:
            decoded = await codec.decode(_from_wire(body))
        except CodecError as error:
            raise HTTPException(422, str(error)) from None
        with Session(engine) as session:
            record(
                session, actor_kind="operator", actor_id=who[:40], action="payloads_decoded",
                subject_kind="temporal", subject_id=request.headers.get("x-namespace", "-")[:80],
                detail={"count": len(decoded)},
            )  # fmt: skip
            session.commit()
        return _to_wire(decoded)

    return router


def coordinator_session(engine: Engine) -> Authorise:
    """Operators are signed-in coordinators (the web app's session cookie)."""
    from web.auth import viewer_of

    def authorise(request: Request) -> str | None:
        viewer = viewer_of(request, engine)
        return viewer.professional_id if viewer and viewer.is_coordinator else None

    return authorise
