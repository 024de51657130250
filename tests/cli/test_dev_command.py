"""``waakvlam dev`` end to end: the embedded stack answers with the demo region, the dev server
lists the 30 demo trajectories, and a second start keeps them and adds none."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from waakvlam.temporal import find_binary

START_LIMIT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dev:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.temporal = f"127.0.0.1:{free_port()}"
        self.web_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WAAKVLAM_")},
            "WAAKVLAM_TEMPORAL_ADDRESS": self.temporal,
            "WAAKVLAM_TEMPORAL_UI_PORT": str(free_port()),
            "WAAKVLAM_WEB_PORT": str(self.web_port),
            "WAAKVLAM_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}",
        }

    def start(self) -> tuple[subprocess.Popen[str], list[str]]:
        process = subprocess.Popen(
            [sys.executable, "-m", "waakvlam.cli", "dev"],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        lines: list[str] = []
        started = time.monotonic()
        while time.monotonic() - started < START_LIMIT_SECONDS:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise AssertionError("waakvlam dev exited:\n" + "".join(lines))
            lines.append(line)
            if "Press Ctrl-C to stop." in line:
                return process, lines
        process.kill()
        raise AssertionError("no answer within 60 seconds:\n" + "".join(lines))

    def stop(self, process: subprocess.Popen[str]) -> str:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0, out
        return out

    def trajectories_in_database(self) -> int:
        with sqlite3.connect(self.workdir / "var" / "waakvlam.db") as db:
            return int(db.execute("SELECT count(*) FROM trajectory").fetchone()[0])

    def trajectory_ids(self) -> set[str]:
        listed = subprocess.run(
            [
                str(find_binary("temporal")),
                "workflow",
                "list",
                "--address",
                self.temporal,
                "--query",
                "WorkflowType='TrajectoryWorkflow'",
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return {item["execution"]["workflowId"] for item in json.loads(listed.stdout or "[]")}


def test_make_run_answers_with_the_demo_region_and_restarts_without_duplicates(
    tmp_path: Path,
) -> None:
    dev = Dev(tmp_path)
    process, lines = dev.start()
    try:
        assert f"web app:         http://127.0.0.1:{dev.web_port}/" in "".join(lines)
        assert "demo region:     seeded now" in "".join(lines)
        page = httpx.get(f"http://127.0.0.1:{dev.web_port}/", timeout=10, follow_redirects=True)
        assert page.status_code == 200  # the start page, or sign-in in front of it
        assert httpx.get(f"http://127.0.0.1:{dev.web_port}/healthz", timeout=10).status_code == 200
        assert dev.trajectories_in_database() == 30
        first = dev.trajectory_ids()
        assert len(first) == 30
    finally:
        out = dev.stop(process)
    assert "Waakvlam stopped." in out
    assert (tmp_path / "var" / "temporal.db").exists()

    process, lines = dev.start()
    try:
        assert "demo region:     already there" in "".join(lines)
        assert dev.trajectories_in_database() == 30
        assert dev.trajectory_ids() == first
    finally:
        dev.stop(process)
