"""Browser security of the web app: response headers, CSRF tokens for forms, and rate limits.

CSRF: every visitor gets a random ``wv_csrf`` cookie (HttpOnly, SameSite=Lax); a form carries
``csrf_token`` = HMAC(secret, cookie). A POST without a matching pair is refused. This signed
double-submit works before sign-in (the sign-in form, one-click action pages) and after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from threading import Lock

from fastapi import Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

CSRF_COOKIE = "wv_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
FORM_PART_LIMIT = 8 * 1024 * 1024  # the import's confirm step posts the checked file back

CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds the security headers and hands out the CSRF cookie on first visit."""

    def __init__(self, app: object, *, secure_cookies: bool) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.secure = secure_cookies

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        fresh = None
        if not request.cookies.get(CSRF_COOKIE):
            fresh = secrets.token_urlsafe(24)
            request.state.csrf_cookie = fresh
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if self.secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        response.headers.setdefault("Cache-Control", "no-store")
        if fresh is not None:
            response.set_cookie(
                CSRF_COOKIE, fresh, httponly=True, samesite="lax", secure=self.secure, path="/"
            )
        return response


class Csrf:
    def __init__(self, secret: str) -> None:
        self.key = hashlib.sha256(b"csrf:" + secret.encode()).digest()

    def _cookie(self, request: Request) -> str:
        fresh: str = getattr(request.state, "csrf_cookie", "")
        return request.cookies.get(CSRF_COOKIE) or fresh

    def token_for(self, cookie: str) -> str:
        return hmac.new(self.key, cookie.encode(), hashlib.sha256).hexdigest() if cookie else ""

    def token(self, request: Request) -> str:
        return self.token_for(self._cookie(request))

    async def valid(self, request: Request) -> bool:
        """A POST carries the token in its form (or, for JSON, in the X-CSRF-Token header)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie:
            return False
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            content_type = request.headers.get("content-type", "")
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
                form = await request.form(max_part_size=FORM_PART_LIMIT)
                sent = str(form.get(CSRF_FIELD) or "")
        return bool(sent) and hmac.compare_digest(str(sent), self.token(request))


class RateLimiter:
    """At most ``limit`` hits per key in a sliding ``window`` (seconds), in this process.

    One web process per region is the deployment; with several, put the limit in the proxy."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self.hits: dict[str, deque[float]] = {}
        self.lock = Lock()

    def allow(self, *keys: str) -> bool:
        """Counts a hit against every key; refuses when any key is over its limit."""
        now = self.clock()
        with self.lock:
            queues = [self.hits.setdefault(k, deque()) for k in keys]
            for queue in queues:
                while queue and queue[0] <= now - self.window:
                    queue.popleft()
            if any(len(q) >= self.limit for q in queues):
                return False
            for queue in queues:
                queue.append(now)
            if len(self.hits) > 10_000:  # forget idle keys
                self.hits = {k: q for k, q in self.hits.items() if q}
            return True


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
