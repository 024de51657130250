"""The cohort simulation: a small cohort runs the whole timeline; the partners' behaviour comes
from the seed alone; the command refuses bad sizes and timelines."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from config.domain import Role, TaskKind
from config.settings import DEFAULT_TIMELINE
from config.timeline import load_timeline
from store.trajectories import TaskRow, TaskStatus
from waakvlam import simulation
from waakvlam.cli import main
from waakvlam.enrollment import EnrollmentResult
from waakvlam.simulation import EARLIEST, Behaviour, Partners, Workload, report, simulate


async def test_a_small_cohort_runs_the_whole_timeline_and_reports_the_workload(
    isolated_workflow_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    workload = await simulate(
        env=isolated_workflow_env,
        timeline=load_timeline(DEFAULT_TIMELINE),
        cohort_size=4,
        seed=3,
        start=date(2027, 8, 2),
        behaviour=Behaviour(late=0.2, never=0.1, dropout=0.25, refusal=0.0),
        data_dir=tmp_path,
    )
    assert workload.closed == 4  # every trajectory reached its end
    assert workload.reached_destination >= 3
    roles = {role for role, _ in workload.messages}
    # Counted in simulated time (enrolled August 2027, aftercare until 2030), not the machine's.
    months = sorted(month for _, month in workload.messages)
    assert "2027-08" <= months[0] and months[-1] <= "2030-12" and len(set(months)) > 12
    assert min(week for _, week in workload.weekly) >= "2027-W31"
    assert {"case_director", "mentor", "next_contact", "youth"} <= roles
    assert workload.actions > 4 * 10  # partners completed most tasks through the updates
    assert workload.outcomes["on_time"] > workload.outcomes["late"]
    assert workload.days > 3 * 365  # a year before leaving and two years of aftercare
    text = "\n".join(report(workload))
    assert "Peak week per role" in text and "Reached a destination: " in text


def test_the_partners_decide_from_the_seed_alone() -> None:
    row = TaskRow(id="t:case_meeting", trajectory_id="trj_x", key="case_meeting",
                  rule_id="case_meeting", kind=TaskKind.task, role=Role.case_director,
                  due_date=date(2028, 1, 15), status=TaskStatus.open)  # fmt: skip
    one = Partners(client=None, seed=7, behaviour=Behaviour(), workload=Workload(1))  # type: ignore[arg-type]
    two = Partners(client=None, seed=7, behaviour=Behaviour(), workload=Workload(1))  # type: ignore[arg-type]
    plans = [one.plan(i, row) for i in range(200)]
    assert plans == [two.plan(i, row) for i in range(200)]
    kinds = [how for _, how in plans]
    assert kinds.count("on_time") > kinds.count("late") > kinds.count("never") > 0
    # The read model is asked only for tasks due within EARLIEST: no plan may act sooner.
    assert min(when for when, _ in plans if when is not None) >= row.due_date - EARLIEST
    assert [one.planned(i, row) for i in range(200)] == plans  # drawn once, then remembered


def test_the_command_refuses_a_cohort_of_zero_and_a_broken_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAAKVLAM_DATA_DIR", str(tmp_path))
    assert main(["simulate", "--cohort", "0"]) == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("id = \n")
    assert main(["simulate", "--cohort", "3", "--timeline", str(broken)]) == 2


async def test_the_cohort_is_enrolled_several_youth_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_flight, most = 0, 0

    async def enroll(**kwargs: object) -> EnrollmentResult:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        ref = kwargs["request"].school_ref  # type: ignore[attr-defined]
        return EnrollmentResult(trajectory_id=f"trj_{ref}", youth_id=f"yth_{ref}", created=True)

    monkeypatch.setattr(simulation, "enroll", enroll)
    cohort = await simulation.enroll_cohort(
        database=None, client=None, timeline=None, size=20, start=date(2027, 8, 2), seed=1,  # type: ignore[arg-type]
        behaviour=Behaviour(), task_queue="q", concurrency=4,
    )  # fmt: skip
    assert most == 4
    assert list(cohort.trajectories.values()) == list(range(20))  # in the order of the youth
    assert cohort.trajectories["trj_S00007"] == 7 and len(cohort.leave) == 20
