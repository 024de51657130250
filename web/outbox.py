"""The development outbox page (``/dev/outbox``): what the console channel "sent", straight from
the outbox table. Only mounted in development, since it shows message bodies."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session, col, select

from store.outbox import OutboxMessage
from waakvlam.container import Container

router = APIRouter(prefix="/dev", tags=["development"])
_pages = Environment(
    loader=PackageLoader("web", "templates"), autoescape=select_autoescape(["html"])
)


def _latest(container: Container, limit: int) -> list[OutboxMessage]:
    with Session(container.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
            ).all()
        )


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, limit: int = 100) -> str:
    container: Container = request.app.state.container
    template = _pages.get_template("dev_outbox.html")
    return template.render(
        messages=_latest(container, min(limit, 500)), region=container.settings.region_name
    )
