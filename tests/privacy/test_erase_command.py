"""``waakvlam erase YOUTH_ID --by PROFESSIONAL_ID`` against a Temporal server."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from config.domain import Role
from config.settings import Settings
from store.audit import AuditEntry
from store.db import make_engine, migrate
from store.trajectories import Trajectory
from store.youth import Youth
from tests.privacy.conftest import TRAJECTORY, YOUTH, seed
from waakvlam.commands import erase


def run(settings: Settings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="waakvlam")
    erase.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args, settings)
    return code


def test_erase_removes_the_data_and_keeps_who_did_it(
    dev_env: WorkflowEnvironment, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    address: Any = dev_env.client.service_client.config.target_host
    values = settings.model_dump() | {"temporal_address": address}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    seeded = seed(engine)
    coordinator = seeded.region.holder(Role.network_coordinator)
    assert run(settings, ["erase", YOUTH, "--by", "pro_nobody"]) == 1
    assert "no active professional" in capsys.readouterr().err
    assert run(settings, ["erase", YOUTH, "--by", coordinator]) == 0
    out = capsys.readouterr().out
    assert f"erased youth {YOUTH}" in out and "none running" in out
    with Session(engine) as session:
        youth = session.get(Youth, YOUTH)
        assert youth is not None and (youth.first_name, youth.last_name) == ("", "")
        trajectory = session.get(Trajectory, TRAJECTORY)
        assert trajectory is not None and trajectory.closed_reason == "erasure"
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "erased")).one()
        assert entry.actor_id == coordinator
    assert run(settings, ["erase", "yth_nobody", "--by", coordinator]) == 1
    engine.dispose()
