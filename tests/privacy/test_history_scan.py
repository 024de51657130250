"""The history scan is proved: a workflow that puts a name into a signal makes it fail, and a
log record with a name fails the log scan."""

from __future__ import annotations

import logging

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.conftest import TEST_PAYLOAD_KEYS
from tests.privacy.history_scan import Leak, scan_histories, scan_log_records
from waakvlam.codec import EncryptionCodec


@workflow.defn(sandboxed=False)
class LeakyWorkflow:
    """Deliberately wrong: takes a free-text note (with a name) in a signal."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: bool(self.notes))
        return len(self.notes)

    @workflow.signal
    def add_note(self, note: str) -> None:
        self.notes.append(note)


async def test_the_scan_catches_a_name_put_into_a_signal(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client, codec = dev_env.client, EncryptionCodec(TEST_PAYLOAD_KEYS)
    async with Worker(client, task_queue=task_queue, workflows=[LeakyWorkflow]):
        handle = await client.start_workflow(
            LeakyWorkflow.run, id=f"leaky-{task_queue}", task_queue=task_queue
        )
        await handle.signal(LeakyWorkflow.add_note, "gesprek met Fenna Wouterse-Brinkhorst")
        assert await handle.result() == 1
    leaks = await scan_histories(client, [handle.id], ["Wouterse-Brinkhorst", "Fenna"], codec)
    assert {leak.needle for leak in leaks} == {"Wouterse-Brinkhorst", "Fenna"}
    assert all(leak.where.endswith("decoded") for leak in leaks)  # encrypted on the server
    assert any("signaled" in leak.where.lower() for leak in leaks)


def test_the_log_scan_catches_a_name_in_a_log_record() -> None:
    record = logging.LogRecord(
        "waakvlam", logging.INFO, __file__, 1, "sent to %s", ("Fenna",), None
    )
    assert scan_log_records([record], ["fenna"]) == [Leak("log waakvlam:1", "fenna")]
