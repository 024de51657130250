"""Running trajectories live for years: every shipped version's histories, committed under
``histories/``, must replay on the current code. A change that alters the commands a workflow
issues breaks replay unless it goes through ``workflow.patched``; the last two tests show both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from activities.trajectory import TrajectoryActivities
from tests.conftest import TEST_PAYLOAD_KEYS
from waakvlam.codec import COMPRESSED, ENCODING, EncryptionCodec
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


def payloads(message: Message) -> list[Payload]:
    """Every payload anywhere inside a history event."""
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = [v for v in value.values() if isinstance(v, Message)]
        elif field.is_repeated:
            values = list(value)
        else:
            values = [value]
        for item in values:
            found += payloads(item)
    return found


def test_histories_with_and_without_compressed_payloads_are_committed() -> None:
    """Large payloads are compressed before they are sealed (``waakvlam/codec.py``); histories
    of both kinds stay readable, so both are among those replayed."""
    codec = EncryptionCodec(TEST_PAYLOAD_KEYS)

    def compressed(path: Path) -> int:
        history = WorkflowHistory.from_json("trajectory", path.read_text())
        count = 0
        for event in history.events:
            for sealed in payloads(event):
                if sealed.metadata.get("encoding") != ENCODING:
                    continue  # search attributes and headers are not sealed
                inner = codec.unseal(sealed)
                if inner.metadata.get("encoding") == COMPRESSED:
                    codec.decrypt(sealed)  # and it inflates
                    count += 1
        return count

    by_name = {path.stem: path for path in HISTORIES}
    assert compressed(by_name["v5_safety_net_and_recovery"]) == 0
    assert compressed(by_name["v5_compressed_safety_net_and_recovery"]) >= 1  # the input at least


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
