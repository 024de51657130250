"""Builds the FastAPI application from the container; routers are added here."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import text
from sqlmodel import Session, func, select

from store.trajectories import Trajectory
from waakvlam.container import Container
from web import outbox as dev_outbox
from web import webhooks


def create_app(container: Container) -> FastAPI:
    app = FastAPI(title="Waakvlam", version="0.1.0")
    app.state.container = container
    app.include_router(webhooks.router)
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
