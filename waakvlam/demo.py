"""The demo region: about 10 organisations, 25 professionals and 30 youth, seeded once, spread
over every phase of the timeline with some tasks overdue, so the dashboard has something to show.

Seeding goes through the product's own paths (enrollment and the workflow's updates); it is
idempotent, and a marker in the ``meta`` table makes later starts skip it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from config.domain import Destination, SchoolType, VsoProfile
from config.timeline import Timeline
from store.db import Database
from store.meta import Meta
from waakvlam.demo_directory import build_directory
from waakvlam.enrollment import EnrollmentRequest, enroll, workflow_id
from workflows.dates import add_months
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import (
    Actor,
    ChooseDestination,
    DropoutReason,
    ReportDropout,
)

MARKER = "demo_seeded"
log = logging.getLogger("waakvlam.demo")
FIRST = [
    "Sanne",
    "Daan",
    "Lotte",
    "Milan",
    "Emma",
    "Bram",
    "Noa",
    "Luuk",
    "Julia",
    "Sem",
    "Fenna",
    "Thijs",
    "Isa",
    "Jesse",
    "Eva",
    "Stijn",
    "Roos",
    "Mees",
    "Tess",
    "Ruben",
    "Lieke",
    "Niels",
    "Femke",
    "Joris",
    "Anouk",
    "Gijs",
    "Maud",
    "Koen",
    "Yara",
    "Teun",
]
LAST = [
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "Hendriks",
    "Peters",
    "Willems",
    "Smeets",
    "Janssen",
    "Gerrits",
]


@dataclass(frozen=True)
class Leaver:
    """One demo youth: when they leave relative to today, and what happened so far."""

    leave_in_months: int
    story: str  # orientation, late, decision, handover, aftercare, safety_net, waakvlam, moved
    age: int = 17


STORIES = (
    [
        Leaver(12, "orientation"),
        Leaver(11, "orientation", 16),
        Leaver(10, "orientation"),
        Leaver(9, "orientation", 15),
        Leaver(8, "late"),
        Leaver(7, "late", 18),
        Leaver(7, "late"),
    ]
    + [
        Leaver(3, "decision"),
        Leaver(2, "decision", 18),
        Leaver(2, "decision_chosen"),
        Leaver(1, "decision_chosen"),
        Leaver(1, "decision"),
        Leaver(3, "decision_chosen", 16),
    ]
    + [Leaver(0, "handover"), Leaver(0, "handover", 18), Leaver(0, "handover")]
    + [
        Leaver(-2, "aftercare"),
        Leaver(-4, "aftercare", 19),
        Leaver(-7, "aftercare"),
        Leaver(-13, "aftercare", 19),
        Leaver(-19, "aftercare", 20),
        Leaver(-1, "aftercare"),
    ]
    + [Leaver(-3, "safety_net"), Leaver(1, "safety_net", 18)]
    + [Leaver(-5, "waakvlam", 19), Leaver(6, "waakvlam")]
    + [
        Leaver(4, "moved"),
        Leaver(-6, "moved", 19),
        Leaver(5, "orientation"),
        Leaver(10, "orientation", 16),
    ]
)


def already_seeded(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.get(Meta, MARKER) is not None


def _past_rule_ids(timeline: Timeline, leave: date, today: date) -> list[str]:
    past = [
        r.id
        for r in timeline.task
        if add_months(leave, r.offset_months) + timedelta(days=r.offset_days) < today
    ]
    return [*past, "aftercare_checkin"] if leave < today else past


async def seed_demo(
    database: Database, client: Client, timeline: Timeline, task_queue: str, today: date
) -> int:
    """Seed the demo region unless it was seeded before; returns how many youth were enrolled."""
    engine = database.engine
    if already_seeded(engine):
        return 0
    directory = build_directory(engine)
    for index, leaver in enumerate(STORIES):
        school_id, school_type = directory.schools[index % len(directory.schools)]
        leave = add_months(today, leaver.leave_in_months) + timedelta(days=index % 9)
        if leaver.story == "handover":
            leave = today - timedelta(days=3 + index % 7)
        done = [] if leaver.story == "late" else _past_rule_ids(timeline, leave, today)
        request = EnrollmentRequest(
            school_id=school_id,
            school_ref=f"DEMO-{index + 1:03d}",
            first_name=FIRST[index % len(FIRST)],
            last_name=LAST[index % len(LAST)],
            birth_date=add_months(today, -12 * leaver.age - 1 - index % 11),
            leave_date=leave,
            school_type=school_type,
            vso_profile=VsoProfile.labour_market if school_type is SchoolType.vso else None,
            case_director_id=directory.case_directors[index % len(directory.case_directors)],
            done_before_enrollment=done,
        )
        result = await enroll(
            database=database,
            client=client,
            timeline=timeline,
            request=request,
            task_queue=task_queue,
            today=today,
        )
        await _tell_story(
            client,
            result.trajectory_id,
            leaver,
            directory.jobcoaches[index % 4],
            directory.coordinator,
        )
    with Session(engine) as session:
        session.merge(Meta(key=MARKER, value=today.isoformat()))
        session.commit()
    log.info("demo region seeded: %d youth", len(STORIES))
    return len(STORIES)


async def _tell_story(
    client: Client, trajectory_id: str, leaver: Leaver, coach: str, coordinator: str
) -> None:
    handle = client.get_workflow_handle(workflow_id(trajectory_id))
    story = leaver.story
    if story in ("decision_chosen", "handover", "aftercare", "safety_net", "moved") or (
        story == "waakvlam" and leaver.leave_in_months < 0
    ):
        await handle.execute_update(
            TrajectoryWorkflow.choose_destination,
            ChooseDestination(
                actor_id=coordinator, destination=_destination(leaver), next_contact_id=coach
            ),
        )
    if story == "safety_net":
        await handle.execute_update(
            TrajectoryWorkflow.report_dropout,
            ReportDropout(actor_id=coach, reason=DropoutReason.contract_ended),
        )
    elif story == "waakvlam":
        await handle.execute_update(TrajectoryWorkflow.refuse_guidance, Actor(actor_id=coach))
    elif story == "moved":
        await handle.execute_update(TrajectoryWorkflow.move_out, Actor(actor_id=coordinator))


def _destination(leaver: Leaver) -> Destination:
    options = list(Destination)
    return options[(leaver.leave_in_months + leaver.age) % len(options)]
