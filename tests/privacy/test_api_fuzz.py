"""A property-based fuzz run of the JSON API from its OpenAPI description (schemathesis): no
operation may answer with a server error (5xx), whatever it is sent.

Every operation the OpenAPI lists at the time is fuzzed, nothing is excluded: the app runs on a
seeded SQLite database, with a real Temporal client (the dev server; no worker, so a workflow
that would be started just waits), signed in as a coordinator with a valid CSRF token and the
codec token, so requests get past sign-in, roles and CSRF into the handlers. Examples are
derandomized so a run is repeatable; ``WAAKVLAM_FUZZ_EXAMPLES`` raises the number per operation.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import hypothesis
import schemathesis
from hypothesis import HealthCheck, given
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from store import accounts
from tests.privacy.conftest import seed
from tests.web.world import build_world
from tests.web.world import seed as seed_web
from web.security import CSRF_COOKIE

EXAMPLES = int(os.environ.get("WAAKVLAM_FUZZ_EXAMPLES", "10"))
TOKEN = "codec-token-for-the-fuzz-run-0123456789abcdef"


def test_no_operation_of_the_api_answers_with_a_server_error(
    settings: Settings, web_engine: Engine, dev_env: WorkflowEnvironment
) -> None:
    data = seed_web(web_engine)
    seed(web_engine, region=data.region)
    app, container, _ = build_world(settings, web_engine, dev_env.client, codec_token=TOKEN)
    with Session(web_engine) as session:
        token = accounts.open_session(
            session, professional_id=data.people["coordinator"], now=datetime.now(UTC)
        )
        session.commit()
    cookie = "fuzz-csrf-cookie-0123456789"
    csrf = app.state.web.csrf.token_for(cookie)
    cookies = {"wv_session": token, CSRF_COOKIE: cookie}
    headers = {"x-csrf-token": csrf, "authorization": f"Bearer {TOKEN}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            label = case.operation.label
            try:
                response = case.call(headers=headers, cookies=cookies)
            except Exception as error:  # an unhandled exception is a 500 to the client
                failures.append(f"{label}: 500 {type(error).__name__}: {str(error)[:200]}")
                return
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code} {response.text[:200]}")

        fuzz()
    asyncio.run(container.http.aclose())
    assert operations >= 10  # the whole API was there to fuzz
    assert failures == [], "\n".join(failures)
