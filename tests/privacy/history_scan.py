"""A reusable scan for personal data in what Temporal holds and what the worker logs.

:func:`scan_histories` fetches the full history of every workflow given, and checks each event
twice: its raw bytes as the server stores them (encrypted payloads, plain search attributes and
workflow ids, failure messages), and every payload in it decoded with the codec (inputs,
signals, updates, results, memos, activity arguments, failures' encoded attributes). Then
:func:`scan_log_records` checks log records (message, arguments, extras and tracebacks).
Needles are matched case-insensitively; a hit is a :class:`Leak` naming where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import PayloadCodec


@dataclass(frozen=True)
class Leak:
    where: str
    needle: str

    def __str__(self) -> str:
        return f"{self.needle!r} in {self.where}"


def find(where: str, blob: bytes | str, needles: Sequence[str]) -> list[Leak]:
    data = blob.encode() if isinstance(blob, str) else blob
    lowered = data.lower()
    return [Leak(where, n) for n in needles if n.lower().encode() in lowered]


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every :class:`Payload` anywhere inside a protobuf message (maps and lists included)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = value.values()
            if field.message_type.fields_by_name["value"].message_type is None:
                continue
            for item in values:
                yield from payloads_in(item)
        elif field.is_repeated:
            for item in value:
                yield from payloads_in(item)
        else:
            yield from payloads_in(value)


async def scan_histories(
    client: Client, workflow_ids: Iterable[str], needles: Sequence[str], codec: PayloadCodec
) -> list[Leak]:
    leaks: list[Leak] = []
    for workflow_id in dict.fromkeys(workflow_ids):
        leaks += find(f"workflow id {workflow_id}", workflow_id, needles)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            where = f"{workflow_id} event {event.event_id} ({event.WhichOneof('attributes')})"
            leaks += find(f"{where}, raw", event.SerializeToString(), needles)
            for payload in payloads_in(event):
                [decoded] = await codec.decode([payload])
                leaks += find(f"{where}, decoded", decoded.SerializeToString(), needles)
    return leaks


def scan_log_records(records: Iterable[logging.LogRecord], needles: Sequence[str]) -> list[Leak]:
    formatter = logging.Formatter()
    leaks: list[Leak] = []
    for record in records:
        text = f"{formatter.format(record)} {record.args!r} {vars(record)!r}"
        leaks += find(f"log {record.name}:{record.lineno}", text, needles)
    return leaks


def scan_text(where: str, text: str, needles: Sequence[str]) -> list[Leak]:
    return find(where, text, needles)
