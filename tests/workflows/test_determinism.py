"""Determinism of the workflow code, guarded where the SDK's sandbox does not reach.

``TrajectoryWorkflow`` runs outside the sandbox (``workflows/trajectory.py`` says why), and even
inside it the sandbox checks only a workflow's own module: the helpers it passes through (agenda,
branches, effects, dates: most of the logic) run unchecked. So:

- every module of the ``workflows`` package is read here and may not import a clock, randomness,
  I/O, threads or logging, nor call ``now()``/``today()`` on anything but ``workflow``, ``open``,
  ``print``, ``hash`` (salted per process: differs on the worker that replays) or the asyncio
  calls that wait on the event loop's clock;
- the committed histories of every release replay with the trajectory inside the sandbox too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_PAYLOAD_KEYS
from tests.workflows.sandboxed_trajectory import SandboxedTrajectoryWorkflow
from waakvlam.temporal import data_converter

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))

# Modules whose use in workflow code is nondeterministic or I/O. ``from datetime import time`` is
# a type, not this ``time`` module: only the module imports are matched.
FORBIDDEN_MODULES = {
    "random", "secrets", "uuid", "time", "threading", "multiprocessing", "concurrent",
    "subprocess", "socket", "ssl", "select", "signal", "os", "io", "pathlib", "shutil",
    "tempfile", "glob", "logging", "sqlite3", "sqlalchemy", "sqlmodel", "psycopg", "asyncpg",
    "httpx", "requests", "aiohttp", "urllib", "http", "smtplib", "aiosmtplib", "email",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "hash", "breakpoint"}
CLOCK_METHODS = {"now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp"}
ASYNCIO_WAITS = {"sleep", "wait_for", "timeout", "to_thread", "run", "get_event_loop"}


def problems_in(source: str, name: str = "<source>") -> list[str]:
    """The nondeterministic constructs in ``source``, one located line each."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where}: imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{where}: imports from {node.module}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                found.append(f"{where}: calls {func.id}()")
            elif isinstance(func, ast.Attribute):
                owner = func.value.id if isinstance(func.value, ast.Name) else None
                if func.attr in CLOCK_METHODS and owner != "workflow":
                    found.append(f"{where}: reads the clock ({owner or '…'}.{func.attr}())")
                elif owner == "asyncio" and func.attr in ASYNCIO_WAITS:
                    found.append(f"{where}: asyncio.{func.attr}() (use the workflow's timers)")
    return found


def test_no_workflow_module_reads_a_clock_randomness_or_io() -> None:
    modules = sorted(WORKFLOWS.glob("*.py"))
    assert {"trajectory.py", "agenda.py", "branches.py", "trajectory_effects.py"} <= {
        m.name for m in modules
    }
    problems = [
        problem
        for module in modules
        for problem in problems_in(module.read_text(encoding="utf-8"), module.name)
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("from datetime import datetime\nx = datetime.now()", "reads the clock (datetime.now())"),
        ("import datetime\nx = datetime.date.today()", "reads the clock (….today())"),
        ("import random\n", "imports random"),
        ("from uuid import uuid4\n", "imports from uuid"),
        ("import os.path\n", "imports os.path"),
        ("import logging\n", "imports logging"),
        ("async def f():\n    await asyncio.sleep(1)", "asyncio.sleep() (use the workflow's"),
        ("x = hash('a')", "calls hash()"),
        ("with open('f') as f:\n    pass", "calls open()"),
    ],
)
def test_the_check_finds_each_kind_of_problem(snippet: str, expected: str) -> None:
    [problem] = problems_in(snippet)
    assert expected in problem


def test_what_workflows_may_do_passes_the_check() -> None:
    allowed = (
        "from datetime import date, time, timedelta\n"
        "from temporalio import workflow\n"
        "now = workflow.now()\n"
        "async def f():\n"
        "    await workflow.sleep(5)\n"
        "    await asyncio.gather(f(), f())\n"
    )
    assert problems_in(allowed) == []


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_every_committed_history_replays_inside_the_sandbox(path: Path) -> None:
    """The trajectory's own lines under the sandbox's checks, on every path the histories of
    every release take (a clock read or an import there fails the replay)."""
    history = WorkflowHistory.from_json("trajectory", path.read_text())
    replayer = Replayer(
        workflows=[SandboxedTrajectoryWorkflow], data_converter=data_converter(TEST_PAYLOAD_KEYS)
    )
    await replayer.replay_workflow(history)
