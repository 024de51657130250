"""Accounts of the web app: one-time sign-in links, sessions and API tokens.

No passwords. A professional asks for a sign-in link by email; the link's token is single use and
expires in minutes; redeeming it opens a session that expires after a working day. A school's
administration system uses an API token with a scope such as ``enroll:<school id>``.

Only SHA-256 hashes of tokens are stored: the tokens themselves are 32 random bytes, so a slow
hash adds nothing, and a copy of the database lets nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel, col, select

from store.base import UtcDateTime, created_at, timestamp
from store.directory import Organisation

SIGN_IN_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=10)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignInToken(SQLModel, table=True):
    token_hash: str = Field(primary_key=True, max_length=64)
    professional_id: str = Field(foreign_key="professional.id", index=True, max_length=40)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = timestamp()
    created_at: datetime = created_at()


class WebSession(SQLModel, table=True):
    token_hash: str = Field(primary_key=True, max_length=64)
    professional_id: str = Field(foreign_key="professional.id", index=True, max_length=40)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    ended_at: datetime | None = timestamp()
    created_at: datetime = created_at()


class ApiToken(SQLModel, table=True):
    """A token for a system, e.g. a school's pupil administration. ``scope`` is space separated:
    ``enroll:<school id>`` lets it enroll leavers of that school and nothing else."""

    token_hash: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    scope: str = Field(max_length=400)
    created_by: str | None = Field(default=None, max_length=40)
    revoked_at: datetime | None = timestamp()
    created_at: datetime = created_at()

    @property
    def scopes(self) -> set[str]:
        return set(self.scope.split())


class SignInProblem(Exception):
    """The sign-in link is unknown, used or expired; ``code`` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def issue_sign_in(session: Session, *, professional_id: str, now: datetime) -> str:
    """A new sign-in token (the caller commits and sends it)."""
    token = secrets.token_urlsafe(32)
    session.add(
        SignInToken(
            token_hash=token_hash(token),
            professional_id=professional_id,
            expires_at=now + SIGN_IN_LIFETIME,
        )
    )
    return token


def check_sign_in(session: Session, *, token: str, now: datetime) -> SignInToken:
    row = session.get(SignInToken, token_hash(token))
    if row is None:
        raise SignInProblem("unknown")
    if row.used_at is not None:
        raise SignInProblem("used")
    if now >= row.expires_at:
        raise SignInProblem("expired")
    return row


def redeem_sign_in(session: Session, *, token: str, now: datetime) -> tuple[str, str]:
    """Use the sign-in token up (of two racing clicks only one wins) and open a session:
    returns (professional id, session token). The caller commits."""
    row = check_sign_in(session, token=token, now=now)
    used = session.execute(
        update(SignInToken)
        .where(col(SignInToken.token_hash) == row.token_hash, col(SignInToken.used_at).is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise SignInProblem("used")
    return row.professional_id, open_session(session, professional_id=row.professional_id, now=now)


def open_session(session: Session, *, professional_id: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            professional_id=professional_id,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return token


def session_owner(session: Session, *, token: str, now: datetime) -> str | None:
    """The professional of a live session, or None (unknown, ended or expired)."""
    row = session.get(WebSession, token_hash(token))
    if row is None or row.ended_at is not None or now >= row.expires_at:
        return None
    return row.professional_id


def end_session(session: Session, *, token: str, now: datetime) -> None:
    row = session.get(WebSession, token_hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.add(row)


def issue_api_token(session: Session, *, name: str, scope: str, created_by: str | None) -> str:
    token = "wvk_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(token_hash=token_hash(token), name=name, scope=scope, created_by=created_by)
    )
    return token


ENROLL = "enroll:"


def api_token(session: Session, *, token: str) -> ApiToken | None:
    """The token's row, unless it was revoked or every school it enrolls for is inactive (an
    inactive school's system lets nobody in; reactivating the school lets it in again)."""
    row = session.get(ApiToken, token_hash(token))
    if row is None or row.revoked_at is not None:
        return None
    schools = [s.removeprefix(ENROLL) for s in row.scopes if s.startswith(ENROLL)]
    if schools and len(schools) == len(row.scopes):
        active = session.exec(
            select(Organisation.id).where(
                col(Organisation.id).in_(schools), col(Organisation.active)
            )
        ).first()
        if active is None:
            return None
    return row


def api_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.created_at))).all())


def api_token_id(hashed: str) -> str:
    """The handle of a token shown to the coordinator and in the audit log: the start of its
    hash, which says nothing about the token itself."""
    return hashed[:16]


def find_api_token(session: Session, token_id: str) -> ApiToken | None:
    """The token with this handle (:func:`api_token_id`), revoked or not."""
    if len(token_id) != 16 or any(c not in "0123456789abcdef" for c in token_id):
        return None
    rows = session.exec(select(ApiToken).where(col(ApiToken.token_hash).startswith(token_id))).all()
    return rows[0] if len(rows) == 1 else None


def revoke_api_token(session: Session, row: ApiToken, *, now: datetime) -> None:
    """From now on the token lets nobody in (the caller commits)."""
    row.revoked_at = now
    session.add(row)
