"""Signed action links beyond tests/notifications/test_links.py: forged with another secret,
claims edited under the old signature, never issued, replayed for another purpose, and a used
link presented again after it expired."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from notifications import links

SECRET = "test-signing-secret-that-is-long-enough-1234"
NOW = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)


def sign(engine: Engine, secret: str = SECRET, record: bool = True) -> links.ActionLink:
    with Session(engine) as session:
        link = links.sign_link(
            "task_done", {"trajectory": "trj_1"}, timedelta(days=1),
            session=session, secret=secret, base_url="https://w", now=NOW,
        )  # fmt: skip
        if record:
            session.commit()
    return link


def use(engine: Engine, token: str, purpose: str = "task_done", now: datetime = NOW) -> None:
    with Session(engine) as session:
        links.consume(token, purpose, session=session, secret=SECRET, now=now)
        session.commit()


def test_a_link_signed_with_another_secret_is_tampered(sqlite_engine: Engine) -> None:
    forged = sign(sqlite_engine, secret="an-attackers-guess-of-the-secret-000000")
    with pytest.raises(links.LinkTampered):
        use(sqlite_engine, forged.token)


def test_claims_edited_under_the_old_signature_are_tampered(sqlite_engine: Engine) -> None:
    link = sign(sqlite_engine)
    payload, _, mac = link.token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["s"]["trajectory"] = "trj_someone_else"
    claims["e"] += 86400 * 365
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(links.LinkTampered):
        use(sqlite_engine, f"{edited}.{mac}")


def test_a_correctly_signed_link_that_was_never_issued_is_refused(sqlite_engine: Engine) -> None:
    unrecorded = sign(sqlite_engine, record=False)  # its jti never reached the database
    with pytest.raises(links.LinkTampered):
        use(sqlite_engine, unrecorded.token)


def test_a_used_link_cannot_be_replayed_for_another_purpose_or_after_expiry(
    sqlite_engine: Engine,
) -> None:
    link = sign(sqlite_engine)
    use(sqlite_engine, link.token)
    with pytest.raises(links.LinkAlreadyUsed):
        use(sqlite_engine, link.token)
    with pytest.raises(links.LinkWrongPurpose):
        use(sqlite_engine, link.token, "page_ack")
    with pytest.raises(links.LinkExpired):
        use(sqlite_engine, link.token, now=NOW + timedelta(days=2))
