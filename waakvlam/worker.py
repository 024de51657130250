"""Builds the Temporal worker: every workflow and activity of the product, registered once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.escalation import EscalationActivities
from activities.notify import NotificationActivities
from activities.retention import RetentionActivities
from activities.trajectory import TrajectoryActivities
from waakvlam.container import Container
from workflows.digest import DigestWorkflow, DispatchWorkflow
from workflows.escalation import EscalationWorkflow
from workflows.retention import PurgeWorkflow
from workflows.trajectory import TrajectoryWorkflow


def workflows() -> Sequence[type]:
    return [TrajectoryWorkflow, EscalationWorkflow, DigestWorkflow, DispatchWorkflow, PurgeWorkflow]


def activities(container: Container) -> Sequence[Callable[..., Any]]:
    notify = NotificationActivities(
        container.notifications.notifier, container.notifications.digests
    )
    trajectory = TrajectoryActivities(container.engine)
    return [
        trajectory.resolve_recipients,
        trajectory.project_trajectory,
        *EscalationActivities(container.engine).all(),
        *notify.all(),
        RetentionActivities(
            container.engine, container.settings.retention_months
        ).purge_expired_trajectories,
    ]


def build_worker(client: Client, container: Container, *, task_queue: str | None = None) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or container.settings.temporal_task_queue,
        workflows=workflows(),
        activities=activities(container),
        activity_executor=ThreadPoolExecutor(max_workers=64),
        max_concurrent_activities=64,
    )
