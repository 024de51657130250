"""Escalations run for hours or days: histories recorded with shipped code (``histories/``,
made with ``WAAKVLAM_RECORD_HISTORIES=<dir> pytest tests/oncall``) must replay on the current
code; a change to the commands the workflow issues needs ``workflow.patched``."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_PAYLOAD_KEYS
from waakvlam.temporal import data_converter
from workflows.escalation import EscalationWorkflow
from workflows.escalation_effects import Pager

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def replayer() -> Replayer:
    return Replayer(
        workflows=[EscalationWorkflow], data_converter=data_converter(TEST_PAYLOAD_KEYS)
    )


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"escalation-{path.stem}", path.read_text())


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_every_committed_history_replays(path: Path) -> None:
    await replayer().replay_workflow(history(path))


async def test_an_unguarded_extra_step_fails_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Pager.record_step

    async def changed(self: Pager, action: str, round_: int, step: int) -> None:
        await original(self, "extra", round_, step)
        await original(self, action, round_, step)

    monkeypatch.setattr(Pager, "record_step", changed)
    path = next(p for p in HISTORIES if "repeat" in p.stem)
    result = await replayer().replay_workflow(history(path), raise_on_replay_failure=False)
    assert result.replay_failure is not None


async def test_the_same_step_behind_workflow_patched_replays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Pager.record_step

    async def guarded(self: Pager, action: str, round_: int, step: int) -> None:
        if workflow.patched("extra-step-record"):
            await original(self, "extra", round_, step)
        await original(self, action, round_, step)

    monkeypatch.setattr(Pager, "record_step", guarded)
    for path in HISTORIES:
        await replayer().replay_workflow(history(path))
