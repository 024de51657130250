"""A Temporal client that stops answering starts part-way, as in an outage: the real client (the
test server's, or the dev server's) for the first ``good`` starts, then ``UNAVAILABLE``."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode


class StartsFailAfter:
    def __init__(self, client: Client, good: int) -> None:
        self.client, self.good, self.calls = client, good, 0

    async def start_workflow(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls > self.good:
            raise RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
        return await self.client.start_workflow(*args, **kwargs)
