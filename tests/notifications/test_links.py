"""Signed action links: HMAC, expiry, purpose and single use, verified against the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from notifications import links

SECRET = "test-signing-secret-that-is-long-enough-1234"
NOW = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)


def make_link(engine: Engine, expires_in: timedelta = timedelta(days=1)) -> links.ActionLink:
    with Session(engine) as session:
        link = links.sign_link(
            "task_done", {"trajectory": "trj_1", "reference": "t@14d"}, expires_in,
            session=session, secret=SECRET, base_url="https://w.example.nl/", now=NOW,
        )  # fmt: skip
        session.commit()
    return link


def check(engine: Engine, token: str, purpose: str = "task_done", **kw: datetime) -> None:
    with Session(engine) as session:
        links.verify(token, purpose, session=session, secret=SECRET, now=kw.get("now", NOW))


def test_a_link_points_under_the_public_base_url_and_verifies(engine: Engine) -> None:
    link = make_link(engine)
    assert link.url == f"https://w.example.nl/a/{link.token}"
    with Session(engine) as session:
        verified = links.verify(link.token, "task_done", session=session, secret=SECRET, now=NOW)
    assert verified.subject == {"trajectory": "trj_1", "reference": "t@14d"}


def test_tampered_expired_and_wrong_purpose_are_told_apart(engine: Engine) -> None:
    link = make_link(engine)
    payload, _, mac = link.token.partition(".")
    with pytest.raises(links.LinkTampered):
        check(engine, payload + "x." + mac)
    with pytest.raises(links.LinkTampered):
        check(engine, link.token[:-2])
    with pytest.raises(links.LinkWrongPurpose):
        check(engine, link.token, "page_ack")
    with pytest.raises(links.LinkExpired):
        check(engine, link.token, now=NOW + timedelta(days=1, seconds=1))


def test_a_second_click_is_already_used_never_a_second_effect(engine: Engine) -> None:
    link = make_link(engine)
    effects = 0
    for _ in range(2):
        with Session(engine) as session:
            try:
                links.consume(link.token, "task_done", session=session, secret=SECRET, now=NOW)
            except links.LinkAlreadyUsed:
                continue
            effects += 1
            session.commit()
    assert effects == 1
    with pytest.raises(links.LinkAlreadyUsed):
        check(engine, link.token)


def test_a_consume_racing_a_stale_read_loses(engine: Engine) -> None:
    link = make_link(engine)
    with Session(engine) as first, Session(engine) as second:
        links.verify(link.token, "task_done", session=second, secret=SECRET, now=NOW)
        links.consume(link.token, "task_done", session=first, secret=SECRET, now=NOW)
        first.commit()
        with pytest.raises(links.LinkAlreadyUsed):
            links.consume(link.token, "task_done", session=second, secret=SECRET, now=NOW)
