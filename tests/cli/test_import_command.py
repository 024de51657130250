"""``waakvlam import FILE``: a CSV of leavers enrolled from the command line, checked as the web
import checks it, nothing written for a file with problems unless asked, idempotent, audited,
and no name in what it prints."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from store.audit import AuditEntry
from store.db import make_engine, migrate
from store.trajectories import Trajectory
from tests.factories import build_region
from tests.fakes.temporal_outage import StartsFailAfter
from waakvlam.cli import main
from waakvlam.commands import imports
from waakvlam.commands.imports import import_file

BIRTH = (date.today() - timedelta(days=17 * 365 + 30)).strftime("%d-%m-%Y")
LEAVE = (date.today() + timedelta(days=200)).strftime("%d-%m-%Y")
HEADER = "leerlingnummer;voornaam;achternaam;geboortedatum;uitstroomdatum;schoolsoort"


def leavers(*rows: str) -> bytes:
    return "\r\n".join([HEADER, *rows, ""]).encode("utf-8")


def leaver(ref: str, birth: str = BIRTH, leave: str = LEAVE) -> str:
    return f"{ref};Sanne;Bakker;{birth};{leave};PrO"


def trajectories(settings: Settings) -> list[Trajectory]:
    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        found = list(session.exec(select(Trajectory)).all())
    engine.dispose()
    return found


def test_check_names_every_problem_by_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    migrate(engine)
    region = build_region(engine)
    engine.dispose()
    file = tmp_path / "leerlingen.csv"
    file.write_bytes(leavers(leaver("A1"), leaver("A2", leave="morgen"), leaver("A3")))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAAKVLAM_DATABASE_URL", url)
    assert main(["import", str(file), "--school", region.school_id, "--check"]) == 1
    out = capsys.readouterr().out
    assert "3 rows: 2 valid (0 enrolled before), 1 with problems" in out
    assert "line 3: uitstroomdatum: onbekende datum 'morgen'" in out
    assert "Sanne" not in out and "Bakker" not in out
    with Session(make_engine(url)) as session:
        assert session.exec(select(func.count()).select_from(Trajectory)).one() == 0

    assert main(["import", str(file), "--school", "org_nowhere", "--check"]) == 2
    assert "--school: unknown school 'org_nowhere'" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


async def test_a_file_is_enrolled_once_and_a_file_with_problems_only_when_asked(
    dev_env: WorkflowEnvironment, settings: Settings, task_queue: str
) -> None:
    settings = settings.model_copy(
        update={
            "temporal_address": dev_env.client.service_client.config.target_host,
            "temporal_task_queue": task_queue,
        }
    )
    migrate(engine := make_engine(settings.resolved_database_url))
    school = build_region(engine).school_id
    engine.dispose()
    out = io.StringIO()
    clean = leavers(*(leaver(f"B{n}") for n in range(5)))
    assert await import_file(settings, clean, school=school, out=out) == 0
    assert "imported: 5 enrolled, 0 enrolled before, 0 skipped" in out.getvalue()
    first = trajectories(settings)
    assert len(first) == 5
    for trajectory in first:
        described = await dev_env.client.get_workflow_handle(trajectory.workflow_id).describe()
        assert described.task_queue == task_queue

    out = io.StringIO()
    assert await import_file(settings, clean, school=school, out=out) == 0
    assert "imported: 0 enrolled, 5 enrolled before" in out.getvalue()
    assert len(trajectories(settings)) == 5

    with_problem = leavers(leaver("C1"), leaver("C2", birth="1-1-1990"), leaver("C3"))
    out = io.StringIO()
    assert await import_file(settings, with_problem, school=school, out=out) == 1
    assert "nothing imported" in out.getvalue() and len(trajectories(settings)) == 5
    out = io.StringIO()
    assert await import_file(settings, with_problem, school=school, only_valid=True, out=out) == 0
    assert "imported: 2 enrolled, 0 enrolled before, 1 skipped" in out.getvalue()
    everything = trajectories(settings)
    assert len(everything) == 7

    engine = make_engine(settings.resolved_database_url)
    with Session(engine) as session:
        audited = session.exec(
            select(AuditEntry.subject_id).where(AuditEntry.action == "youth_enrolled")
        ).all()
        files = session.exec(
            select(AuditEntry.detail).where(AuditEntry.action == "import_committed")
        ).all()
    engine.dispose()
    assert set(audited) == {t.id for t in everything} and len(files) == 3
    for trajectory in everything:
        await dev_env.client.get_workflow_handle(trajectory.workflow_id).terminate("test over")


async def test_an_outage_part_way_is_reported_and_the_same_import_finishes_it(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings.model_copy(update={"temporal_task_queue": task_queue})
    migrate(engine := make_engine(settings.resolved_database_url))
    school = build_region(engine).school_id
    engine.dispose()

    async def failing_after_two(_: Settings, **__: object) -> StartsFailAfter:
        return StartsFailAfter(dev_env.client, good=2)

    out = io.StringIO()
    unreachable = settings.model_copy(update={"temporal_address": "127.0.0.1:1"})
    file = leavers(*(leaver(f"D{n}") for n in range(4)))
    assert await import_file(unreachable, file, school=school, out=out) == 2
    assert "nothing imported: Temporal at 127.0.0.1:1 does not answer" in out.getvalue()
    assert trajectories(settings) == []

    monkeypatch.setattr(imports, "connect_ready", failing_after_two)
    out = io.StringIO()
    assert await import_file(settings, file, school=school, out=out) == 1
    assert "interrupted: Temporal stopped answering" in out.getvalue()
    assert "2 of 4 started. What was enrolled stays" in out.getvalue()

    async def working(_: Settings, **__: object) -> object:
        return dev_env.client

    monkeypatch.setattr(imports, "connect_ready", working)
    out = io.StringIO()
    assert await import_file(settings, file, school=school, out=out) == 0
    assert "imported: 0 enrolled, 4 enrolled before" in out.getvalue()
    written = trajectories(settings)
    assert len(written) == 4
    for trajectory in written:
        handle = dev_env.client.get_workflow_handle(trajectory.workflow_id)
        assert (await handle.describe()).task_queue == task_queue
        await handle.terminate("test over")
