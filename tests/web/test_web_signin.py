"""Sign-in by a one-time link: no passwords, the same answer for unknown addresses, a confirm
button so mail scanners cannot use the link, single use, expiry, rate limit, sign-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from store.accounts import SignInToken, WebSession
from store.audit import AuditEntry
from tests.web.world import BASE_URL, WebWorld

EMAIL = "pro_network_coordinator@example.org"


async def test_signing_in_by_link_opens_a_session(web: WebWorld) -> None:
    client, csrf = web.anonymous()
    page = await client.post("/signin", data={"email": EMAIL.upper(), "csrf_token": csrf})
    assert page.status_code == 200 and "inloglink" in page.text
    link = web.emails.link_to(EMAIL)
    assert link.startswith(f"{BASE_URL}/signin/")
    assert "Voornaam" in web.emails.sent[-1].text  # first name only
    path = link.removeprefix(BASE_URL)
    shown = await client.get(path)  # what a mail scanner does: nothing is used up
    assert shown.status_code == 200 and 'id="confirm"' in shown.text
    assert (await client.get("/dashboard")).status_code == 303
    signed = await client.post(path, data={"csrf_token": csrf})
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard"
    cookie = signed.headers["set-cookie"].lower()
    assert "wv_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" in cookie
    assert (await client.get("/dashboard")).status_code == 200
    again = await web.anonymous()[0].post(path, data={"csrf_token": csrf})
    assert again.status_code in (403, 410)  # used (or refused for want of CSRF): no session
    with Session(web.engine) as session:
        actions = {e.action for e in session.exec(select(AuditEntry)).all()}
    assert {"sign_in_link_requested", "signed_in", "dashboard_viewed"} <= actions


async def test_a_used_or_expired_link_gets_a_clear_page(web: WebWorld) -> None:
    client, csrf = web.anonymous()
    await client.post("/signin", data={"email": EMAIL, "csrf_token": csrf})
    path = web.emails.link_to(EMAIL).removeprefix(BASE_URL)
    assert (await client.post(path, data={"csrf_token": csrf})).status_code == 303
    other, other_csrf = web.anonymous()
    used = await other.post(path, data={"csrf_token": other_csrf})
    assert used.status_code == 410 and "werkt niet" in used.text
    assert "wv_session" not in used.headers.get("set-cookie", "")
    await client.post("/signin", data={"email": EMAIL, "csrf_token": csrf})
    fresh = web.emails.link_to(EMAIL).removeprefix(BASE_URL)
    with Session(web.engine) as session:
        for row in session.exec(select(SignInToken)).all():
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
        session.commit()
    assert (await other.get(fresh)).status_code == 410
    assert (await other.post(fresh, data={"csrf_token": other_csrf})).status_code == 410
    assert (await other.get("/signin/made-up-token")).status_code == 410


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(web: WebWorld) -> None:
    client, csrf = web.anonymous()
    known = await client.post("/signin", data={"email": EMAIL, "csrf_token": csrf})
    unknown = await client.post("/signin", data={"email": "x@example.org", "csrf_token": csrf})
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text
    assert [e.to for e in web.emails.sent] == [EMAIL]


async def test_sign_in_requests_are_rate_limited(web: WebWorld) -> None:
    client, csrf = web.anonymous()
    codes = [
        (await client.post("/signin", data={"email": EMAIL, "csrf_token": csrf})).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert len(web.emails.sent) == 5
    other = [
        (await client.post("/signin", data={"email": f"{n}@x.org", "csrf_token": csrf})).status_code
        for n in range(30)
    ]
    assert other.count(429) == 7  # the same computer: at most 30 requests per 15 minutes


async def test_signing_out_ends_the_session(web: WebWorld) -> None:
    client, csrf = web.as_role("coordinator")
    assert (await client.get("/dashboard")).status_code == 200
    out = await client.post("/signout", data={"csrf_token": csrf})
    assert out.status_code == 303
    with Session(web.engine) as session:
        assert all(s.ended_at is not None for s in session.exec(select(WebSession)).all())
    assert (await client.get("/api/dashboard")).status_code == 401


async def test_an_expired_session_needs_a_new_sign_in(web: WebWorld) -> None:
    client, _ = web.as_role("coordinator")
    with Session(web.engine) as session:
        for row in session.exec(select(WebSession)).all():
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
        session.commit()
    assert (await client.get("/dashboard")).headers["location"] == "/signin"


async def test_pages_are_dutch_first_and_english_on_request(web: WebWorld) -> None:
    client, _ = web.anonymous()
    assert "Inloggen" in (await client.get("/signin")).text
    english = await client.get("/signin?lang=en")
    assert "Sign in" in english.text and "wv_lang=en" in english.headers["set-cookie"]
    client.cookies.set("wv_lang", "en", domain="waakvlam.test")
    assert '<html lang="en">' in (await client.get("/signin")).text
