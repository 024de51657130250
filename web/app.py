"""Builds the FastAPI application from the container; routers are added here."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import text
from sqlmodel import Session, func, select
from temporalio.client import Client

from store.trajectories import Trajectory
from waakvlam.codec import EncryptionCodec
from waakvlam.container import Container
from web import outbox as dev_outbox
from web import privacy, webhooks
from web.codec import codec_router, coordinator_session
from web.oncall import oncall_router
from web.oncall_sms import ChannelSmsSender, OncallSmsReplies
from web.site import coordinator, signed_in
from web.site import install as install_site


def create_app(container: Container, temporal_client: Client | None = None) -> FastAPI:
    app = FastAPI(title="Waakvlam", version="0.1.0")
    app.state.container = container
    install_site(app, container, temporal_client)  # pages, sign-in, API; its "/" comes first
    app.include_router(webhooks.router)
    sms_replies = ChannelSmsSender(container.notifications.sms)
    app.include_router(
        oncall_router(
            container,
            temporal_client,
            sms_replies,
            signed_in=lambda request: signed_in(request).professional_id,
            coordinator=lambda request: coordinator(request).professional_id,
        )
    )
    codec = EncryptionCodec(container.settings.payload_key_map)
    authorise = coordinator_session(container.engine)
    app.include_router(codec_router(container.settings, container.engine, codec, authorise))
    app.include_router(privacy.router)
    if temporal_client is not None:  # "OK 4821", verification codes, help texts
        container.notifications.inbound.register(
            OncallSmsReplies(
                engine=container.engine,
                client=temporal_client,
                sms=sms_replies,
                secret=container.settings.signing_secret.get_secret_value(),
            )
        )
    if container.settings.is_development:
        app.include_router(dev_outbox.router)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        with Session(container.engine) as session:
            session.exec(select(text("1"))).one()
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def start_page() -> str:
        with Session(container.engine) as session:
            total = session.exec(select(func.count()).select_from(Trajectory)).one()
        region = container.settings.region_name
        return (
            "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
            f"<title>Waakvlam</title></head><body><h1>Waakvlam: {_escape(region)}</h1>"
            f"<p>{total} trajecten in beeld.</p></body></html>"
        )

    return app


def _escape(value: str) -> str:
    from html import escape

    return escape(value)
