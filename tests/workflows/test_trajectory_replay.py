"""Running trajectories live for years: every shipped version's histories, committed under
``histories/``, must replay on the current code. A change that alters the commands a workflow
issues breaks replay unless it goes through ``workflow.patched``; the last two tests show both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from activities.trajectory import TrajectoryActivities
from tests.conftest import TEST_PAYLOAD_KEYS
from waakvlam.temporal import data_converter
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_attributes import Shown
from workflows.trajectory_effects import Effects

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


async def histories() -> AsyncIterator[WorkflowHistory]:
    for path in HISTORIES:
        yield WorkflowHistory.from_json(f"trajectory-{path.stem}", path.read_text())


def replayer() -> Replayer:
    """The histories were recorded with the test suite's payload keys (they are encrypted)."""
    return Replayer(
        workflows=[TrajectoryWorkflow], data_converter=data_converter(TEST_PAYLOAD_KEYS)
    )


def test_histories_are_committed() -> None:
    assert len(HISTORIES) >= 2


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_every_committed_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json("trajectory", path.read_text())
    await replayer().replay_workflow(history)


async def test_a_change_without_workflow_patched_fails_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Effects.settle_wake

    async def changed(self: Effects) -> None:  # a new step in shipped code, unguarded
        await workflow.execute_local_activity_method(
            TrajectoryActivities.project_trajectory,
            self.projection(Shown.of(self.state)),
            start_to_close_timeout=timedelta(seconds=5),
        )
        await original(self)

    monkeypatch.setattr(Effects, "settle_wake", changed)
    results = await replayer().replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures, "replay must catch the unguarded change"


async def test_the_same_change_behind_workflow_patched_replays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Effects.settle_wake

    async def guarded(self: Effects) -> Any:
        if workflow.patched("extra-projection"):
            await workflow.execute_local_activity_method(
                TrajectoryActivities.project_trajectory,
                self.projection(Shown.of(self.state)),
                start_to_close_timeout=timedelta(seconds=5),
            )
        await original(self)

    monkeypatch.setattr(Effects, "settle_wake", guarded)
    results = await replayer().replay_workflows(histories(), raise_on_replay_failure=False)
    assert not results.replay_failures
