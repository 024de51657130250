"""Signed one-click action links: HMAC-SHA256, an expiry, and single use.

A link is ``<public_base_url>/a/<token>``; the token is ``base64url(json claims).base64url(mac)``
with the claims ``p`` (purpose), ``s`` (subject: opaque ids only), ``j`` (a random jti) and ``e``
(expiry, epoch seconds). The jti is recorded in :class:`store.outbox.ActionToken`; ``consume``
marks it used with a conditional UPDATE, so of two clicks racing only one wins and the other gets
:class:`LinkAlreadyUsed`. The caller commits ``consume`` together with the effect it guards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, insert, update
from sqlmodel import Session

from store.base import new_row
from store.outbox import ActionToken

LINK_PATH = "/a/"
ADD_TOKEN = insert(ActionToken.__table__)  # type: ignore[attr-defined]


class LinkError(Exception):
    code = "link_invalid"

    def __init__(self) -> None:
        super().__init__(self.code)


class LinkTampered(LinkError):
    code = "link_tampered"


class LinkExpired(LinkError):
    code = "link_expired"


class LinkWrongPurpose(LinkError):
    code = "link_wrong_purpose"


class LinkAlreadyUsed(LinkError):
    code = "link_already_used"


@dataclass(frozen=True)
class ActionLink:
    url: str
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class VerifiedLink:
    purpose: str
    subject: dict[str, str]
    jti: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign_link(
    purpose: str,
    subject: dict[str, str],
    expires_in: timedelta,
    *,
    session: Session | Connection,
    secret: str,
    base_url: str,
    now: datetime,
) -> ActionLink:
    """Create a link and record its jti (the caller commits)."""
    jti = secrets.token_urlsafe(16)
    expires_at = (now + expires_in).astimezone(UTC).replace(microsecond=0)
    claims = {"p": purpose, "s": subject, "j": jti, "e": int(expires_at.timestamp())}
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    token = f"{payload}.{_mac(secret, payload)}"
    # A plain INSERT in the caller's transaction: the ORM's unit of work, flushed at the caller's
    # next query, cost more than the statement (every message with a link signs one).
    session.execute(
        ADD_TOKEN, new_row(ActionToken, jti=jti, purpose=purpose[:40], expires_at=expires_at)
    )
    return ActionLink(f"{base_url.rstrip('/')}{LINK_PATH}{token}", token, jti, expires_at)


def _claims(token: str, secret: str) -> dict[str, Any]:
    payload, sep, mac = token.partition(".")
    if not sep or not hmac.compare_digest(mac.encode(), _mac(secret, payload).encode()):
        raise LinkTampered()
    try:
        claims = json.loads(_unb64(payload))
    except ValueError as exc:
        raise LinkTampered() from exc
    if not isinstance(claims, dict) or not {"p", "s", "j", "e"} <= claims.keys():
        raise LinkTampered()
    return claims


def verify(
    token: str, purpose: str, *, session: Session, secret: str, now: datetime
) -> VerifiedLink:
    """Check signature, purpose, expiry and single use, without using the link up."""
    claims = _claims(token, secret)
    if claims["p"] != purpose:
        raise LinkWrongPurpose()
    expires_at = datetime.fromtimestamp(int(claims["e"]), UTC)
    if now >= expires_at:
        raise LinkExpired()
    row = session.get(ActionToken, claims["j"])
    if row is None:
        raise LinkTampered()
    if row.used_at is not None:
        raise LinkAlreadyUsed()
    return VerifiedLink(claims["p"], dict(claims["s"]), claims["j"], expires_at)


def consume(
    token: str, purpose: str, *, session: Session, secret: str, now: datetime
) -> VerifiedLink:
    """Verify and mark the link used, atomically: a second click gets :class:`LinkAlreadyUsed`."""
    link = verify(token, purpose, session=session, secret=secret, now=now)
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(ActionToken)
        .where(ActionToken.jti == link.jti)  # type: ignore[arg-type]
        .where(ActionToken.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=now)
    )
    if result.rowcount != 1:
        raise LinkAlreadyUsed()
    return link
