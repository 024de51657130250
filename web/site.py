"""The web app's pages and wiring: one Jinja environment (autoescaping, built once per app),
the request context every router reads, the sign-in/403 handling, and ``install``, which
``web.app.create_app`` calls to add all of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from temporalio.client import Client

from config.domain import Language
from waakvlam.container import Container
from web.auth import ApiClient, Forbidden, SignInNeeded, Viewer, api_client_of, viewer_of
from web.i18n import LANG_COOKIE, language_of, translate
from web.security import Csrf, RateLimiter, SecurityHeaders

STATIC = Path(__file__).parent / "static"


class Pages:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )


@dataclass
class WebContext:
    container: Container
    client: Client | None
    pages: Pages
    csrf: Csrf
    sign_in_limit: RateLimiter  # per address
    sign_in_ip_limit: RateLimiter  # per client address: an office shares one behind NAT
    help_limit: RateLimiter

    @property
    def secure_cookies(self) -> bool:
        return not self.container.settings.is_development

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        language = language_of(request)
        viewer = getattr(request.state, "viewer", None)
        html = self.pages.env.get_template(name).render(
            values,
            t=lambda key: translate(language, key),
            lang=language.value,
            csrf=self.csrf.token(request),
            viewer=viewer,
            region=self.container.settings.region_name,
            path=request.url.path,
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in ("nl", "en"):
            response.set_cookie(
                LANG_COOKIE,
                request.query_params["lang"],
                httponly=True,
                samesite="lax",
                secure=self.secure_cookies,
                max_age=365 * 86400,
            )
        return response

    def language(self, request: Request) -> Language:
        return language_of(request)


def ctx(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def signed_in(request: Request) -> Viewer:
    """Dependency: the signed-in professional, else sign in first."""
    context = ctx(request)
    viewer = viewer_of(request, context.container.engine)
    if viewer is None:
        raise SignInNeeded()
    request.state.viewer = viewer
    return viewer


def coordinator(request: Request) -> Viewer:
    viewer = signed_in(request)
    if not viewer.is_coordinator:
        raise Forbidden()
    return viewer


def viewer_or_client(request: Request) -> Viewer | ApiClient:
    """Dependency for the JSON API: an API token, else a session."""
    client = api_client_of(request, ctx(request).container.engine)
    return client if client is not None else signed_in(request)


SignedIn = Annotated[Viewer, Depends(signed_in)]
CoordinatorOnly = Annotated[Viewer, Depends(coordinator)]
Caller = Annotated[Viewer | ApiClient, Depends(viewer_or_client)]


async def form_post(request: Request) -> None:
    """Dependency for every form POST: the CSRF token must match."""
    if not await ctx(request).csrf.valid(request):
        raise HTTPException(403, "csrf")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith(("/api/", "/oncall/")) or accept == "application/json"


def install(app: FastAPI, container: Container, client: Client | None) -> None:
    from web import (
        actions,
        dashboard,
        directory,
        enroll,
        imports,
        policies_admin,
        rotations_admin,
        signin,
        trajectory_page,
    )

    context = WebContext(
        container=container,
        client=client,
        pages=Pages(),
        csrf=Csrf(container.settings.signing_secret.get_secret_value()),
        sign_in_limit=RateLimiter(limit=5, window=15 * 60),
        sign_in_ip_limit=RateLimiter(limit=30, window=15 * 60),
        help_limit=RateLimiter(limit=3, window=10 * 60),
    )
    app.state.web = context
    app.add_middleware(SecurityHeaders, secure_cookies=context.secure_cookies)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routers = (signin, dashboard, trajectory_page, actions, enroll, imports, directory)
    for module in (*routers, rotations_admin, policies_admin):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "sign_in_required"}, status_code=401)
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        return context.render(
            request, "site/message.html", 403, title="forbidden.title", text="forbidden.text"
        )
