"""Builds the Temporal worker: every workflow and activity of the product, registered once.

Tuning (issue 8, profiled with ``python -m bench scale`` and ``bench enrollment`` on two cores):

- **Bounded concurrency.** Workflow activations, sync activities (the read-model projection) and,
  in ``waakvlam dev``, the web app share one Python process, so one GIL. With the SDK's defaults
  (100 workflow tasks, 100 local activities) and 64 activity threads, a burst of new trajectories
  made every task wait its turn: in a 1,000-trajectory scale run 388 workflow tasks took over 5 s
  and 96 passed Temporal's 10-second workflow-task timeout and were done again. A few at a time,
  each finishing quickly, wastes nothing.
- **The trajectory outside the sandbox.** There is one per youth; the sandbox's import for each
  new run and its context around every activation were a third of the worker's Python time per
  new trajectory. See ``workflows/trajectory.py`` and tests/workflows/test_determinism.py.
- **Bytecode for the workflow modules.** The sandbox imports each sandboxed workflow's module
  afresh for every run it creates (a new run, or one replayed after eviction from the cache).
  Without a bytecode cache (``PYTHONDONTWRITEBYTECODE=1``, an editable install) that import
  compiles the source every time (17 ms for ``workflows/trajectory.py`` when it was sandboxed),
  on the event loop. The worker writes the cache of its workflow modules once at start when it
  can (the regular install of the Docker image already ships it).
"""

from __future__ import annotations

import importlib.util
import logging
import py_compile
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.escalation import EscalationActivities
from activities.notify import NotificationActivities
from activities.retention import RetentionActivities
from activities.trajectory import TrajectoryActivities
from activities.wake import trajectory_activities
from waakvlam.container import Container
from workflows.digest import DigestWorkflow, DispatchWorkflow
from workflows.escalation import EscalationWorkflow
from workflows.retention import PurgeWorkflow
from workflows.trajectory import TrajectoryWorkflow

log = logging.getLogger(__name__)

# Workflow tasks processed at once. Each is a few milliseconds of Python plus its local
# activities; more in flight only makes each one wait longer for the GIL.
MAX_WORKFLOW_TASKS = 16
# Local activities (role resolution, the read-model projection: short SQL) at once.
MAX_LOCAL_ACTIVITIES = 16
# Activities at once, and the threads of the executor for the sync ones. Sends are async and wait
# on the network, so they need slots more than threads; the executor keeps one thread per slot
# (the SDK expects that) but sync activities are short database work.
MAX_ACTIVITIES = 32


def workflows() -> Sequence[type]:
    return [TrajectoryWorkflow, EscalationWorkflow, DigestWorkflow, DispatchWorkflow, PurgeWorkflow]


def activities(
    container: Container, clock: Callable[[], datetime] | None = None
) -> Sequence[Callable[..., Any]]:
    """``clock``: the notification layer's now (quiet hours, working days); the wall clock unless
    given (the enrollment benchmark pins it to a working moment)."""
    notifications = container.notifications
    notify = NotificationActivities(notifications.notifier, notifications.digests, clock=clock)
    trajectory = TrajectoryActivities(container.database)
    return [
        *trajectory_activities(trajectory, notify.send_notification),
        *EscalationActivities(container.engine).all(),
        notify.send_daily_digests,
        notify.dispatch_scheduled,
        RetentionActivities(
            container.engine, container.settings.retention_months
        ).purge_expired_trajectories,
    ]


def compile_workflow_modules(workflow_classes: Sequence[type]) -> list[Path]:
    """Write the bytecode cache of each workflow class's module (and its package) if it is missing
    or stale, so the sandbox's per-run import loads it instead of compiling the source. Best
    effort: a read-only install (which has its cache already) is left alone. Returns the caches
    written."""
    written = []
    names = {cls.__module__ for cls in workflow_classes}
    # The sandbox imports the modules' packages afresh too.
    names |= {name.rpartition(".")[0] for name in names if "." in name}
    for name in sorted(names):
        source = getattr(sys.modules.get(name), "__file__", None)
        if not source or not source.endswith(".py"):
            continue
        cache = Path(importlib.util.cache_from_source(source))
        try:
            if _cache_is_current(cache, Path(source)):
                continue
            py_compile.compile(source, cfile=str(cache), doraise=True)
        except (OSError, py_compile.PyCompileError) as error:
            log.debug("no bytecode cache for %s: %s", name, type(error).__name__)
            continue
        written.append(cache)
    return written


def _cache_is_current(cache: Path, source: Path) -> bool:
    """Whether the import system would load ``cache`` for ``source``: the header records the
    source's modification time and size (a copied tree or an unpacked image can carry a cache
    newer than its source that still records another source's time, and would be compiled again
    at every import)."""
    try:
        header = cache.read_bytes()[:16]
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") != 0:
        return True  # a hash-based cache (checked or not) is the import system's to validate
    stat = source.stat()
    recorded_mtime = int.from_bytes(header[8:12], "little")
    recorded_size = int.from_bytes(header[12:16], "little")
    return (recorded_mtime, recorded_size) == (
        int(stat.st_mtime) & 0xFFFFFFFF,
        stat.st_size & 0xFFFFFFFF,
    )


def tuned_worker(
    client: Client,
    *,
    task_queue: str,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
    executor: ThreadPoolExecutor | None = None,
) -> Worker:
    """A worker with the product's tuning (see the module docstring) for the given workflows and
    activities; ``build_worker`` uses it with the product's own, the benchmarks with theirs."""
    compile_workflow_modules(workflows)
    executor = executor or ThreadPoolExecutor(
        max_workers=MAX_ACTIVITIES, thread_name_prefix="activity"
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        activity_executor=executor,
        max_concurrent_activities=executor._max_workers,
        max_concurrent_workflow_tasks=MAX_WORKFLOW_TASKS,
        max_concurrent_local_activities=MAX_LOCAL_ACTIVITIES,
    )


def build_worker(
    client: Client,
    container: Container,
    *,
    task_queue: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Worker:
    return tuned_worker(
        client,
        task_queue=task_queue or container.settings.temporal_task_queue,
        workflows=workflows(),
        activities=activities(container, clock),
    )
