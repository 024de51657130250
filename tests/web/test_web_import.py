"""CSV import of a school's leavers: delimiter and encoding detection, missing columns, per-row
errors with line numbers, nothing written unless the file is clean or the user confirms only
the valid rows, idempotent re-import, and 5,000 rows."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

import httpx
from sqlmodel import Session, func, select
from temporalio.service import RPCError, RPCStatusCode

from store.audit import AuditEntry
from store.trajectories import Trajectory
from store.youth import Youth
from tests.web.world import WebWorld
from workflows.trajectory_models import TrajectoryInput

HEADER = ["leerlingnummer", "voornaam", "achternaam", "geboortedatum", "uitstroomdatum",
          "schoolsoort", "school"]  # fmt: skip
BIRTH = (date.today() - timedelta(days=17 * 365 + 30)).strftime("%d-%m-%Y")
LEAVE = (date.today() + timedelta(days=200)).strftime("%d-%m-%Y")


class FakeTemporal:
    """Records the workflows enrollment starts (the trajectory tests run them for real); with
    ``answers``, stops answering after that many starts, as Temporal does in an outage."""

    def __init__(self, answers: int | None = None) -> None:
        self.started: list[str] = []
        self.inputs: list[TrajectoryInput] = []
        self.answers = answers

    async def start_workflow(self, *args: Any, id: str, **kwargs: Any) -> None:
        if self.answers is not None and len(self.started) >= self.answers:
            raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
        self.started.append(id)
        self.inputs.append(args[1])  # (TrajectoryWorkflow.run, its input)


def csv_text(rows: list[list[str]], delimiter: str = ";") -> str:
    return "\r\n".join(delimiter.join(r) for r in [HEADER, *rows]) + "\r\n"


def leaver(n: int, **change: str) -> list[str]:
    row = {"ref": f"P{n:05d}", "first": "Sanne", "last": "Bakker", "birth": BIRTH,
           "leave": LEAVE, "type": "PrO", "school": "org_school"} | change  # fmt: skip
    return list(row.values())


async def upload(client: httpx.AsyncClient, csrf: str, data: bytes) -> httpx.Response:
    return await client.post(
        "/import",
        data={"csrf_token": csrf, "school_id": "org_school"},
        files={"file": ("leerlingen.csv", data, "text/csv")},
    )


def content_of(page: str) -> str:
    match = re.search(r'name="content" value="([^"]*)"', page, re.S)
    assert match, "no confirm form"
    import html

    return html.unescape(match.group(1))


def count(web: WebWorld) -> int:
    with Session(web.engine) as session:
        return int(session.exec(select(func.count()).select_from(Trajectory)).one())


def staff(web: WebWorld) -> tuple[httpx.AsyncClient, str, FakeTemporal]:
    temporal = FakeTemporal()
    web.app.state.web.client = temporal
    client, csrf = web.as_role("school_admin")
    return client, csrf, temporal


async def test_a_clean_dutch_file_imports_and_a_second_import_changes_nothing(
    web: WebWorld,
) -> None:
    client, csrf, temporal = staff(web)
    before = count(web)
    data = ("\ufeff" + csv_text([leaver(1), leaver(2, first="Zoë")])).encode("utf-8")
    page = await upload(client, csrf, data)
    assert page.status_code == 200 and "Alle regels zijn in orde" in page.text, page.text[-1500:]
    form = {"csrf_token": csrf, "school_id": "org_school", "mode": "all",
            "content": content_of(page.text)}  # fmt: skip
    done = await client.post("/import/confirm", data=form)
    assert done.status_code == 200 and "2 nieuw aangemeld" in done.text
    assert count(web) == before + 2 and len(temporal.started) == 2
    with Session(web.engine) as session:
        assert session.exec(select(Youth).where(Youth.first_name == "Zoë")).one()
    again = await client.post("/import/confirm", data=form)
    assert "0 nieuw aangemeld · 2 al aangemeld" in again.text
    assert count(web) == before + 2


async def test_commas_and_windows_1252_are_understood(web: WebWorld) -> None:
    client, csrf, _ = staff(web)
    data = csv_text([leaver(3, first="Renée")], delimiter=",").encode("cp1252")
    page = await upload(client, csrf, data)
    assert page.status_code == 200
    assert "Windows-1252" in page.text and "1 goed" in page.text
    assert "Renée" in content_of(page.text)


async def test_files_that_cannot_be_read_get_one_clear_error(web: WebWorld) -> None:
    client, csrf, _ = staff(web)
    utf16 = await upload(client, csrf, csv_text([leaver(1)]).encode("utf-16"))
    assert utf16.status_code == 422 and "UTF-16" in utf16.text
    pipes = await upload(client, csrf, csv_text([leaver(1)], delimiter="|").encode())
    assert pipes.status_code == 422 and "Kolommen ontbreken" in pipes.text
    assert "scheidingsteken" in pipes.text
    short = "leerlingnummer;voornaam;achternaam;schoolsoort\r\nP1;Sanne;Bakker;PrO\r\n"
    missing = await upload(client, csrf, short.encode())
    assert missing.status_code == 422
    assert "geboortedatum" in missing.text and "uitstroomdatum" in missing.text
    empty = await upload(client, csrf, b"")
    assert empty.status_code == 422 and "leeg" in empty.text
    assert count(web) == 3  # the seed only


async def test_row_errors_are_listed_and_nothing_is_half_written(web: WebWorld) -> None:
    client, csrf, temporal = staff(web)
    rows = [
        leaver(1),
        leaver(2, birth="31-02-2009"),  # line 3: bad date
        leaver(3, school="Onbekende School"),  # line 4: unknown school
        leaver(4, birth=""),  # line 5: missing birth date
        leaver(1, first="Tweede"),  # line 6: duplicate of line 2
        leaver(6, school="org_school2"),  # line 7: another school than the viewer's
        leaver(7, type="HAVO"),  # line 8: not a school type we guide
    ]
    page = await upload(client, csrf, csv_text(rows).encode())
    assert page.status_code == 200
    errors = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", page.text))
    assert "onbekende datum" in errors["3"]
    assert "onbekende school" in errors["4"]
    assert "geboortedatum: ontbreekt" in errors["5"]
    assert "regel 2" in errors["6"]
    assert "onbekende school" in errors["7"]
    assert "schoolsoort" in errors["8"] or "school_type" in errors["8"]
    assert set(errors) == {"3", "4", "5", "6", "7", "8"}
    content = content_of(page.text)
    form = {"csrf_token": csrf, "school_id": "org_school", "content": content}
    refused = await client.post("/import/confirm", data=form | {"mode": "all"})
    assert refused.status_code == 422 and count(web) == 3 and not temporal.started
    valid_only = await client.post("/import/confirm", data=form | {"mode": "valid"})
    assert "1 nieuw aangemeld" in valid_only.text and "6 overgeslagen" in valid_only.text
    assert count(web) == 4


async def test_five_thousand_rows_are_checked_in_one_go(web: WebWorld) -> None:
    client, csrf, _ = staff(web)
    rows = [leaver(n) for n in range(1, 5001)]
    rows[4320] = leaver(4321, leave="morgen")
    started = time.perf_counter()
    page = await upload(client, csrf, csv_text(rows).encode())
    elapsed = time.perf_counter() - started
    assert page.status_code == 200
    assert "5000 regels · 4999 goed · 1 regels met fouten" in page.text
    assert "<tr><td>4322</td><td>uitstroomdatum: onbekende datum" in page.text
    assert elapsed < 15, elapsed
    assert count(web) == 3


async def test_only_school_staff_import_and_only_for_their_school(web: WebWorld) -> None:
    outsider, csrf = web.as_role("outsider")
    response = await upload(outsider, csrf, csv_text([leaver(1)]).encode())
    assert response.status_code == 403


async def test_a_file_of_hundreds_is_enrolled_at_once_with_an_audit_row_per_youth(
    web: WebWorld,
) -> None:
    """The confirmed rows go through ``enroll_all`` (rows written a transaction at a time, the
    starts in flight together), each youth once, and the audit names every trajectory."""
    client, csrf, temporal = staff(web)
    before = count(web)
    rows = [leaver(n) for n in range(100, 400)]
    rows[17] = leaver(117, leave="morgen")
    page = await upload(client, csrf, csv_text(rows).encode())
    form = {"csrf_token": csrf, "school_id": "org_school", "mode": "valid",
            "content": content_of(page.text)}  # fmt: skip
    done = await client.post("/import/confirm", data=form)
    assert done.status_code == 200 and "299 nieuw aangemeld" in done.text, done.text[-800:]
    assert count(web) == before + 299
    assert len(temporal.started) == len(set(temporal.started)) == 299
    with Session(web.engine) as session:
        enrolled = session.exec(
            select(AuditEntry.subject_id).where(AuditEntry.action == "youth_enrolled")
        ).all()
        trajectories = session.exec(select(Trajectory.workflow_id)).all()
    assert {f"trajectory-{t}" for t in enrolled} == set(temporal.started)
    assert set(temporal.started) <= set(trajectories)


async def test_the_preview_counts_a_pupil_enrolled_before_only_at_the_same_school(
    web: WebWorld,
) -> None:
    """``R00a1`` is enrolled at org_school already; ``R00b2`` is a pupil number of org_school2,
    so at org_school it is a new pupil."""
    client, csrf, _ = staff(web)
    rows = [leaver(0, ref="R00a1"), leaver(0, ref="R00b2"), leaver(7)]
    page = await upload(client, csrf, csv_text(rows).encode())
    assert page.status_code == 200
    assert "3 regels · 3 goed · 0 regels met fouten · 1 al aangemeld" in page.text, page.text


async def test_an_outage_part_way_says_how_far_it_got_and_the_same_file_finishes_it(
    web: WebWorld,
) -> None:
    """Temporal stops answering after two starts: the page says so (503) and how many were
    enrolled, those two are in the audit log, and the same file again enrolls the rest."""
    client, csrf, _ = staff(web)
    web.app.state.web.client = FakeTemporal(answers=2)
    page = await upload(client, csrf, csv_text([leaver(n) for n in range(500, 505)]).encode())
    form = {"csrf_token": csrf, "school_id": "org_school", "mode": "all",
            "content": content_of(page.text)}  # fmt: skip
    stopped = await client.post("/import/confirm", data=form)
    assert stopped.status_code == 503
    assert "Temporal antwoordt niet: 2 van de 5 leerlingen zijn aangemeld" in stopped.text

    def enrolled() -> list[str]:
        with Session(web.engine) as session:
            query = select(AuditEntry.subject_id).where(AuditEntry.action == "youth_enrolled")
            return list(session.exec(query).all())

    assert len(enrolled()) == 2
    web.app.state.web.client = temporal = FakeTemporal()
    done = await client.post("/import/confirm", data=form)
    # All five rows were written before the outage (one transaction): each is "enrolled before",
    # and each trajectory is started (a running one is left be).
    assert "0 nieuw aangemeld · 5 al aangemeld" in done.text, done.text[-600:]
    assert len(temporal.started) == 5 and len(enrolled()) == 2 + 5


async def test_one_enrollment_by_the_api_answers_503_when_temporal_does_not(
    web: WebWorld,
) -> None:
    client, csrf, _ = staff(web)
    web.app.state.web.client = FakeTemporal(answers=0)
    body = {"school_id": "org_school", "school_ref": "API-1", "first_name": "Sanne",
            "last_name": "Bakker", "birth_date": "2009-05-01",
            "leave_date": (date.today() + timedelta(days=200)).isoformat(),
            "school_type": "PrO"}  # fmt: skip
    response = await client.post("/api/enrollments", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 503 and response.json()["detail"] == "temporal_unavailable"
    web.app.state.web.client = temporal = FakeTemporal()
    again = await client.post("/api/enrollments", json=body, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200 and not again.json()["created"], "the row was written"
    assert temporal.started == [f"trajectory-{again.json()['trajectory_id']}"]


async def test_a_caseload_taken_over_names_the_tasks_already_done(web: WebWorld) -> None:
    """The optional ``afgerond`` column: its tasks reach the trajectory as done before the
    import (the rest that is past due becomes overdue at once); an unknown task is the row's
    problem, with its line."""
    client, csrf, temporal = staff(web)
    header = ";".join([*HEADER, "afgerond"])
    text = "\r\n".join([
        header,
        ";".join([*leaver(600), "pupil_profile, future_conversation"]),
        ";".join([*leaver(601), "geen_taak"]),
        ";".join([*leaver(602), ""]),
    ]) + "\r\n"  # fmt: skip
    page = await upload(client, csrf, text.encode())
    assert "3 regels · 2 goed · 1 regels met fouten" in page.text, page.text[-1500:]
    assert "<tr><td>3</td><td>done_before_enrollment: unknown task &#39;geen_taak&#39;" in page.text
    form = {"csrf_token": csrf, "school_id": "org_school", "mode": "valid",
            "content": content_of(page.text)}  # fmt: skip
    done = await client.post("/import/confirm", data=form)
    assert "2 nieuw aangemeld" in done.text
    assert [i.enrollment.done_before_enrollment for i in temporal.inputs] == [
        ["pupil_profile", "future_conversation"],
        [],
    ]
