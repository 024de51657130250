"""Record the histories the replay test checks: ``python -m tests.workflows.histories.record``.

Run it only when a new version of ``TrajectoryWorkflow`` ships, to add that version's histories
(give them a new file name); never re-record the old ones, they are what running trajectories look
like. Each scenario runs on a time-skipping server with the real trajectory activities.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session
from temporalio.client import WorkflowHandle

from config.domain import CheckinStatus, Destination, Role
from store.db import make_engine, migrate
from store.trajectories import Trajectory
from tests.conftest import start_time_skipping
from tests.workflows.conftest import Harness, running_harness
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import (
    Actor,
    ChooseDestination,
    CompleteTask,
    RecordCheckin,
)

HERE = Path(__file__).parent
Scenario = Callable[[Harness, WorkflowHandle], Awaitable[None]]  # type: ignore[type-arg]


async def safety_net_and_recovery(h: Harness, handle: WorkflowHandle) -> None:  # type: ignore[type-arg]
    entries = {e.key: e for e in await handle.query(TrajectoryWorkflow.timeline)}
    await h.advance_to(entries["destination_confirmed"].due + timedelta(days=1))
    await handle.execute_update(
        TrajectoryWorkflow.choose_destination,
        ChooseDestination(
            actor_id="pro_case_director",
            destination=Destination.pathway,
            next_contact_id=h.region.holder(Role.jobcoach),
        ),
    )
    await h.advance_to(entries["checkin_1m"].due)
    await handle.execute_update(
        TrajectoryWorkflow.record_checkin,
        RecordCheckin(task_key="checkin_1m", actor_id="pro_jobcoach", status=CheckinStatus.at_risk),
    )
    await h.advance_to(entries["checkin_3m"].due + timedelta(days=20))


async def waakvlam_and_return(h: Harness, handle: WorkflowHandle) -> None:  # type: ignore[type-arg]
    await handle.execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key="future_conversation", actor_id="pro_case_director"),
    )
    await handle.execute_update(TrajectoryWorkflow.refuse_guidance, Actor(actor_id="pro_x"))
    await h.advance_to(await h.today() + timedelta(days=100))
    await handle.execute_update(TrajectoryWorkflow.ask_help_again, Actor(actor_id="pro_x"))
    await h.advance_to(await h.today() + timedelta(days=60))


async def read_model_set_back(h: Harness, handle: WorkflowHandle) -> None:  # type: ignore[type-arg]
    """The read model is put back a version (a restore from backup): the next wake's changes are
    refused, and it projects whole in a second local activity."""
    await h.advance_to(await h.today() + timedelta(days=3))
    with Session(h.engine) as session:
        row = session.get(Trajectory, handle.id.removeprefix("trajectory-"))
        assert row is not None
        row.projected_version -= 1
        session.add(row)
        session.commit()
    await handle.execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key="future_conversation", actor_id="pro_case_director"),
    )
    await h.advance_to(await h.today() + timedelta(days=40))


# One pair per shipped version of the workflow code. v2: messages as local activities, only
# changed search attributes written (the patch LESS_SERVER_WORK of workflows/trajectory_effects.py).
# v3: release KNOWN_RECIPIENTS (workflows/trajectory_releases.py): the run's input names its
# release, no patch marker; the youth, case director and next contact without an activity.
# v4: release WAKE_AT_ONCE: a wake's messages and projection in one local activity.
# v5: release CHANGES_ONLY: a projection of the changes only; a read model set back is projected
# whole in a second local activity.
SCENARIOS: dict[str, tuple[dict[str, int], Scenario]] = {
    "v1_safety_net_and_recovery": ({"leave_in_months": 2}, safety_net_and_recovery),
    "v1_waakvlam_and_return": ({"leave_in_months": 10, "age_years": 17}, waakvlam_and_return),
    "v2_safety_net_and_recovery": ({"leave_in_months": 2}, safety_net_and_recovery),
    "v2_waakvlam_and_return": ({"leave_in_months": 10, "age_years": 17}, waakvlam_and_return),
    "v3_safety_net_and_recovery": ({"leave_in_months": 2}, safety_net_and_recovery),
    "v3_waakvlam_and_return": ({"leave_in_months": 10, "age_years": 17}, waakvlam_and_return),
    "v4_safety_net_and_recovery": ({"leave_in_months": 2}, safety_net_and_recovery),
    "v4_waakvlam_and_return": ({"leave_in_months": 10, "age_years": 17}, waakvlam_and_return),
    "v5_safety_net_and_recovery": ({"leave_in_months": 2}, safety_net_and_recovery),
    "v5_waakvlam_and_return": ({"leave_in_months": 10, "age_years": 17}, waakvlam_and_return),
    "v5_read_model_set_back": ({"leave_in_months": 6}, read_model_set_back),
    # Release 5 again, recorded once the codec compressed large payloads before sealing them: the
    # input (its timeline inside) is ``binary/zlib``, and any other payload of 512 bytes or more.
    "v5_compressed_safety_net_and_recovery": ({"leave_in_months": 2}, safety_net_and_recovery),
}


async def record(name: str, kwargs: dict[str, int], scenario: Scenario) -> None:
    env = await start_time_skipping()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/r.db")
        migrate(engine)
        async with running_harness(env, engine, f"record-{secrets.token_hex(4)}") as h:
            handle = await h.enroll(**kwargs)
            await scenario(h, handle)
            history = await handle.fetch_history()
        engine.dispose()
    (HERE / f"{name}.json").write_text(history.to_json())
    await env.shutdown()


async def main() -> None:
    for name, (kwargs, scenario) in SCENARIOS.items():
        if (HERE / f"{name}.json").exists():
            continue  # a shipped version's history: never re-recorded
        await record(name, kwargs, scenario)
        sys.stdout.write(f"recorded {name}\n")


if __name__ == "__main__":
    asyncio.run(main())
