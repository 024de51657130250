"""The SMS gateway emulator (``tests/fakes/sms_gateway.py``, CM.com's and Twilio's APIs) in a
process of its own, for the notifications benchmark: its CPU is then not counted against the
client it serves.

    python -m bench.sms_gateway_server [--cert C --key K]

With ``--cert`` and ``--key`` it serves HTTPS only (the server's TLS context is the one the SMTP
server uses, ``tests.fakes.tls.server_context``), as real gateways do; without, plain HTTP. The
emulator's own Starlette app is served by uvicorn with the h11 protocol, counting the connections
it accepts (a TLS connection is counted once its handshake is done).

It writes ``ready PORT`` when listening. Then, one command per line on stdin: ``stats`` answers
one JSON line ``{"references": [...], "connections": N, "requests": N, "cpu": S}`` (our
reference of every message it accepted, in order, the connections and the requests it accepted,
and the CPU seconds the process has used); ``stop`` (or the end of stdin) stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from tests.fakes.sms_gateway import SmsGateway
from tests.fakes.tls import server_context


class CountingH11(H11Protocol):
    """uvicorn's h11 protocol, one instance per connection: counts them."""

    accepted: ClassVar[int] = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        CountingH11.accepted += 1
        super().connection_made(transport)


def tls_factory(cert: Path, key: Path) -> Callable[..., ssl.SSLContext]:
    def factory(*_: object) -> ssl.SSLContext:
        return server_context(cert, key)

    return factory


async def serve(cert: Path | None, key: Path | None) -> None:
    gateway = SmsGateway()  # the emulator; only its app and its records are used here
    config = uvicorn.Config(
        gateway.app, host="127.0.0.1", port=gateway.port, http=CountingH11,
        log_level="warning", access_log=False, lifespan="off",
        ssl_context_factory=tls_factory(cert, key) if cert and key else None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the gateway emulator stopped before it started")
        await asyncio.sleep(0.01)
    sys.stdout.write(f"ready {gateway.port}\n")
    sys.stdout.flush()
    try:
        while True:
            command = (await asyncio.to_thread(sys.stdin.readline)).strip()
            if command == "stats":
                stats = {
                    "references": [m.reference or "" for m in gateway.messages],
                    "connections": CountingH11.accepted,
                    "requests": gateway.requests,
                    "cpu": time.process_time(),
                }
                sys.stdout.write(json.dumps(stats) + "\n")
                sys.stdout.flush()
            elif command in ("stop", ""):  # "" is the end of stdin
                break
    finally:
        server.should_exit = True
        await task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    args = parser.parse_args()
    asyncio.run(serve(args.cert, args.key))


if __name__ == "__main__":
    main()
