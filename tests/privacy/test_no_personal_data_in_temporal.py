"""Nothing personal reaches Temporal or the worker's log (DESIGN.md 4.1), end to end on the dev
server with the real worker: enrollments, updates, messages, an on-call escalation and an
erasure (the scan itself is proved in test_history_scan.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from config.domain import SchoolType
from config.settings import Settings
from store.audit import AuditEntry
from store.directory import Channel, ContactMethod, PersonKind, Professional
from store.trajectories import Trajectory
from store.youth import Guardian, TrustedPerson, Youth
from tests.conftest import TEST_PAYLOAD_KEYS
from tests.oncall.world import build_oncall, monday_nine_before
from tests.privacy.history_scan import scan_histories, scan_log_records, scan_text
from waakvlam.codec import EncryptionCodec
from waakvlam.container import Container, build_container
from waakvlam.enrollment import EnrollmentRequest, enroll
from waakvlam.privacy import erase
from waakvlam.worker import build_worker
from web import oncall_actions
from workflows.dates import add_months
from workflows.escalation import EscalationWorkflow
from workflows.escalation_models import (
    AckVia,
    CallerKind,
    CallForHelp,
    HelpCategory,
    Outcome,
    Resolve,
    Urgency,
)
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import CompleteTask, ReassignCaseDirector, RecordConsent

YOUTH = [("Fenna", "Wouterse-Brinkhorst", "LLN-443311"), ("Jurriaan", "Oosterwijk", "LLN-552299")]
PROFESSIONAL_NAMES = ["Gerdientje Kloosterboer", "Marius Tjalsma", "Wilhelmina Haverkamp",
                      "Evertjan Dijkhuizen", "Hendrika Veldkamp", "Bartholomeus Jonkers",
                      "Cornelia Zwagerman", "Reinoud Ploegmaker", "Annelies Spijkerboer",
                      "Bonifatius Kruiningen", "Carolientje Meerveld",
                      "Barendina Stokvis"]  # fmt: skip
GUARDIAN = ("Theodorus", "Wouterse-Brinkhorst")
TRUSTED = ("Grietje", "Nijenhuis-Stam")
PHONES = ["+31687650011", "+31687650022", "+31687650033", "+31687650044"]


@dataclass
class Run:
    env: WorkflowEnvironment
    container: Container
    task_queue: str
    needles: list[str]


def personal_strings(names: list[str]) -> list[str]:
    parts = [part for name in names for part in name.split()]
    return sorted(set(parts + PHONES + [f"{p.split()[0].lower()}@example.org" for p in names]))


def seed_people(container: Container) -> list[str]:
    """Recognisable names, numbers and addresses for every professional; returns them."""
    region = build_oncall(container.engine, monday_nine_before(datetime.now(UTC)))
    del region
    with Session(container.engine) as session:
        people = session.exec(select(Professional).order_by(Professional.id)).all()  # type: ignore[arg-type]
        names = []
        for person, name in zip(people, PROFESSIONAL_NAMES, strict=False):
            person.first_name, person.last_name = name.split(" ", 1)
            session.add(person)
            names.append(name)
            for method in session.exec(
                select(ContactMethod).where(ContactMethod.person_id == person.id)
            ):
                method.address = f"{person.first_name.lower()}@example.org"
                session.add(method)
        for pid, number in zip(("pro_anna", "pro_bram", "pro_cees"), PHONES, strict=False):
            session.add(ContactMethod(person_kind=PersonKind.professional, person_id=pid,
                                      channel=Channel.sms, address=number,
                                      verified_at=datetime.now(UTC)))  # fmt: skip
        session.commit()
    return names


@pytest.fixture
async def run(
    dev_env: WorkflowEnvironment, settings: Settings, task_queue: str
) -> AsyncIterator[Run]:
    values = settings.model_dump() | {"temporal_task_queue": task_queue}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    container = build_container(settings)
    names = seed_people(container)
    needles = personal_strings(names + [" ".join(y[:2]) for y in YOUTH])
    needles += [y[2] for y in YOUTH] + list(GUARDIAN) + list(TRUSTED) + ["theodorus@example.org"]
    async with build_worker(dev_env.client, container, task_queue=task_queue):
        yield Run(dev_env, container, task_queue, sorted(set(needles)))
    await container.aclose()


async def enroll_youth(run: Run, first: str, last: str, ref: str) -> tuple[str, str]:
    today = date.today()
    result = await enroll(
        database=run.container.database, client=run.env.client,
        timeline=run.container.timeline,
        request=EnrollmentRequest(
            school_id="org_school", school_ref=ref, first_name=first, last_name=last,
            birth_date=add_months(today, -12 * 17), leave_date=add_months(today, 12),
            school_type=SchoolType.pro, case_director_id="pro_case_director",
        ),
        task_queue=run.task_queue, today=today,
    )  # fmt: skip
    with Session(run.container.engine) as session:
        gid, tid = f"grd_{result.youth_id[4:]}", f"tp_{result.youth_id[4:]}"
        session.add(Guardian(id=gid, youth_id=result.youth_id, first_name=GUARDIAN[0],
                             last_name=GUARDIAN[1]))  # fmt: skip
        session.add(TrustedPerson(id=tid, youth_id=result.youth_id, first_name=TRUSTED[0],
                                  last_name=TRUSTED[1]))  # fmt: skip
        session.add(ContactMethod(person_kind=PersonKind.guardian, person_id=gid,
                                  channel=Channel.email,
                                  address="theodorus@example.org"))  # fmt: skip
        session.add(ContactMethod(person_kind=PersonKind.youth, person_id=result.youth_id,
                                  channel=Channel.sms, address=PHONES[3]))  # fmt: skip
        session.commit()
    return result.youth_id, result.trajectory_id


async def act_on_trajectory(run: Run, trajectory_id: str) -> None:
    handle = run.env.client.get_workflow_handle_for(
        TrajectoryWorkflow.run, f"trajectory-{trajectory_id}"
    )
    tasks = await handle.query(TrajectoryWorkflow.timeline)
    first = next(t for t in tasks if t.kind.value == "task" and t.status.value != "done")
    await handle.execute_update(
        TrajectoryWorkflow.complete_task,
        CompleteTask(task_key=first.key, actor_id="pro_case_director"),
    )
    await handle.execute_update(
        TrajectoryWorkflow.record_consent,
        RecordConsent(actor_id="pro_case_director", kind="data_sharing", given=True),  # type: ignore[arg-type]
    )
    await handle.execute_update(
        TrajectoryWorkflow.reassign_case_director,
        ReassignCaseDirector(actor_id="pro_network_coordinator", professional_id="pro_spare"),
    )


async def escalate(run: Run, trajectory_id: str) -> str:
    client, engine = run.env.client, run.container.engine
    receipt = await oncall_actions.call_for_help(
        client=client, engine=engine, task_queue=run.task_queue, trajectory_id=trajectory_id,
        call=CallForHelp(caller_kind=CallerKind.partner, caller_ref="pro_case_director",
                         category=HelpCategory.workplace_problem, urgency=Urgency.immediate),
    )  # fmt: skip
    handle = client.get_workflow_handle_for(EscalationWorkflow.run, receipt.workflow_id)
    escalation_id = (await handle.query(EscalationWorkflow.view)).escalation_id
    for _ in range(100):  # the page goes out on the real clock
        if (await handle.query(EscalationWorkflow.view)).pages:
            break
        await asyncio.sleep(0.1)
    await oncall_actions.acknowledge(client=client, engine=engine, escalation_id=escalation_id,
                                     professional_id="pro_anna", via=AckVia.dashboard)  # fmt: skip
    await oncall_actions.resolve(client=client, engine=engine, escalation_id=escalation_id,
                                 resolution=Resolve(escalation_id=escalation_id,
                                                    outcome=Outcome.handled_by_phone))  # fmt: skip
    await handle.result()
    return receipt.workflow_id


async def test_no_personal_data_in_histories_or_the_worker_log(
    run: Run, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("temporalio", "activities", "notifications", "workflows", "store", "waakvlam"):
        caplog.set_level(logging.DEBUG, logger=name)
    kept, erased = [await enroll_youth(run, *youth) for youth in YOUTH]
    for _, trajectory_id in (kept, erased):
        await act_on_trajectory(run, trajectory_id)
    escalation = await escalate(run, kept[1])
    report = await erase(engine=run.container.engine, client=run.env.client, youth_id=erased[0],
                         by="pro_network_coordinator", now=datetime.now(UTC))  # fmt: skip
    assert report.workflows_terminated == [f"trajectory-{erased[1]}"]
    kept_handle = run.env.client.get_workflow_handle(f"trajectory-{kept[1]}")
    await kept_handle.terminate("test over")

    listed = [w.id async for w in run.env.client.list_workflows(f'TaskQueue="{run.task_queue}"')]
    ids = {f"trajectory-{kept[1]}", f"trajectory-{erased[1]}", escalation, *listed}
    leaks = await scan_histories(
        run.env.client, ids, run.needles, EncryptionCodec(TEST_PAYLOAD_KEYS)
    )
    leaks += scan_log_records(caplog.records, run.needles)
    out, err = capfd.readouterr()
    leaks += scan_text("stdout/stderr (SDK core)", out + err, run.needles)
    assert leaks == [], "\n".join(map(str, leaks))
    assert len(caplog.records) > 20  # the log was really captured (DEBUG included)
    # The messages did go out with names and numbers in them: there was something to leak.
    console = (run.container.settings.data_dir / "outbox-console.jsonl").read_text()
    assert len(scan_text("console outbox", console, run.needles)) >= 3

    # The erasure: the workflow was terminated with the reason code, the data is gone.
    described = await run.env.client.get_workflow_handle(f"trajectory-{erased[1]}").describe()
    assert described.status is WorkflowExecutionStatus.TERMINATED
    with Session(run.container.engine) as session:
        youth = session.get(Youth, erased[0])
        assert youth is not None and youth.first_name == "" and youth.purged_at is not None
        trajectory = session.get(Trajectory, erased[1])
        assert trajectory is not None and trajectory.closed_reason == "erasure"
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "erased")).one()
        assert (entry.actor_id, entry.subject_id) == ("pro_network_coordinator", erased[0])
        assert session.exec(select(Guardian).where(Guardian.youth_id == erased[0])).all() == []
