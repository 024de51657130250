"""The fake SMTP server (aiosmtpd, ``tests/fakes/smtp_sessions.py``) in a process of its own, for
the notifications benchmark: its CPU is then not counted against the client it serves.

    python -m bench.smtp_server [--security starttls --cert C --key K] [--username U --password P]

It writes ``ready PORT`` when listening. Then, one command per line on stdin: ``stats`` answers
one JSON line ``{"references": [...], "connections": N}`` (our reference of every message it
accepted, in order, and the connections it accepted); ``stop`` (or the end of stdin) stops it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from tests.fakes.smtp_sessions import SessionCountingSmtp
from tests.fakes.tls import server_context


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
                references = [
                    m["Message-ID"].strip("<>").partition("@")[0] for m in server.messages
                ]
                stats = {"references": references, "connections": server.connections}
                sys.stdout.write(json.dumps(stats) + "\n")
                sys.stdout.flush()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
