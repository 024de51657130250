"""The development channel: messages are appended to a JSON-lines file and logged by id only.

Nothing leaves the machine. The outbox rows themselves hold the rendered messages, which the web
app's development outbox page (``/dev/outbox``) shows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from notifications.channels import OutgoingEmail, OutgoingSms, Receipt

log = logging.getLogger(__name__)


class ConsoleChannel:
    """Serves as both the email and the SMS channel in development."""

    name = "console"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def _append(self, record: dict[str, str]) -> None:
        async with self._lock:
            await asyncio.to_thread(self._write, json.dumps(record, ensure_ascii=False))

    def _write(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")

    async def send(self, message: OutgoingEmail | OutgoingSms) -> Receipt:
        if isinstance(message, OutgoingEmail):
            record = {
                "channel": "email",
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
                "reference": message.reference,
            }
        else:
            record = {
                "channel": "sms",
                "to": message.to,
                "body": message.body,
                "reference": message.reference,
            }
        await self._append(record)
        log.info("console message written", extra={"reference": message.reference})
        return Receipt(self.name, f"console-{message.reference}")
