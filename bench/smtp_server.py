"""The fake SMTP server (aiosmtpd, ``tests/fakes/smtp_sessions.py``) in a process of its own, for
the notifications benchmark: its CPU is then not counted against the client it serves.

    python -m bench.smtp_server [--security starttls --cert C --key K] [--username U --password P]

It writes ``ready PORT`` when listening. Then, one command per line on stdin: ``stats`` answers
one JSON line ``{"references": [...], "connections": N}`` (our reference of every message it
accepted, in order, and the connections it accepted); ``stop`` (or the end of stdin) stops it.
The references are read from the raw bytes the server keeps (the Message-ID header), without
building an ``EmailMessage`` of each, so a ``stats`` costs little.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

from tests.fakes.smtp_sessions import SessionCountingSmtp
from tests.fakes.tls import server_context

MESSAGE_ID = re.compile(rb"^message-id:[ \t]*<([^@>\s]*)", re.IGNORECASE | re.MULTILINE)


def reference(raw: bytes) -> str:
    """Our reference: the Message-ID's part before the ``@``, from the header block only."""
    headers = raw.partition(b"\r\n\r\n")[0]
    found = MESSAGE_ID.search(headers)
    return found.group(1).decode("ascii", "replace") if found else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--security", choices=["none", "starttls"], default="none")
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    parser.add_argument("--username")
    parser.add_argument("--password")
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's per-connection notes
    tls = server_context(args.cert, args.key) if args.security != "none" else None
    server = SessionCountingSmtp(security=args.security, tls_context=tls)
    if args.username:
        server.require_auth(args.username, args.password)
    server.start()
    sys.stdout.write(f"ready {server.port}\n")
    sys.stdout.flush()
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "stop":
                break
            if command == "stats":
                references = [reference(m.raw) for m in server.received]
                stats = {"references": references, "connections": server.connections}
                sys.stdout.write(json.dumps(stats) + "\n")
                sys.stdout.flush()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
