"""The dashboard's queries on SQLite and PostgreSQL, the page with its pictures, and the CSV
export of the yearly figures on the reference date."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from config.domain import Destination, Phase
from store import dashboard as queries
from store.dashboard import Filters, Scope
from tests.web.world import WebWorld, add_trajectory, seed
from web.dashboard import default_reference

REGION = Scope(region=True)


def _region(engine: Engine) -> None:
    data = seed(engine)
    with Session(engine) as session:
        school = data.region.school_id
        add_trajectory(session, "trj_00000000000000d4", school, first="Daan", overdue=5,
                       contact_days_ago=200, leave=date(2026, 7, 1))  # fmt: skip
        add_trajectory(session, "trj_00000000000000e5", school, first="Eva", overdue=0,
                       contact_days_ago=3, destination=Destination.work,
                       phase=Phase.aftercare, leave=date(2026, 7, 1))  # fmt: skip
        add_trajectory(session, "trj_00000000000000f6", school, first="Fem", overdue=1,
                       contact_days_ago=200, leave=date(2026, 6, 1))  # fmt: skip
        session.commit()


def test_stalled_trajectories_are_ranked_by_neglect(engine: Engine) -> None:
    _region(engine)
    with Session(engine) as session:
        rows = queries.stalled(session, REGION, datetime.now(UTC))
    order = [r.youth.first_name for r in rows]
    # never contacted first, then the longest without contact (most overdue first), and Eva
    # (recent contact, nothing overdue) is not stalled
    assert order == ["Sanne", "Daan", "Fem", "Bram"]


def test_counts_flags_and_filters(engine: Engine) -> None:
    _region(engine)
    with Session(engine) as session:
        assert queries.count_by(session, REGION, "phase") == {"decision": 4, "aftercare": 2}
        by_destination = queries.count_by(session, REGION, "destination")
        assert by_destination == {"none": 4, "work": 2}
        assert queries.count_by(session, REGION, "school_id") == {"org_school": 4, "org_school2": 2}
        flags = queries.flag_counts(session, REGION)
        assert flags["open"] == 6 and flags["no_destination"] == 4
        only = Filters(school_id="org_school2")
        assert queries.flag_counts(session, REGION, only)["open"] == 2
        mine = Scope(professional_id="pro_jobcoach")
        assert queries.flag_counts(session, mine)["open"] == 1
        overdue = dict(queries.overdue_by_organisation(session, REGION))
        assert overdue == {"Praktijkschool De Maas": 3, "VSO De Berken": 1}


def test_the_sluitend_rate_counts_leavers_of_the_year_up_to_the_reference_date(
    engine: Engine,
) -> None:
    _region(engine)
    with Session(engine) as session:
        figures = queries.sluitend(session, REGION, date(2026, 10, 1))
    assert [(f.school_id, f.leavers, f.with_destination) for f in figures] == [("org_school", 3, 1)]
    assert abs((figures[0].rate or 0) - 1 / 3) < 1e-9


def test_the_reference_date_is_the_last_first_of_october() -> None:
    assert default_reference(date(2026, 11, 28)) == date(2026, 10, 1)
    assert default_reference(date(2026, 9, 30)) == date(2025, 10, 1)


async def test_the_dashboard_page_draws_and_the_figures_export(web: WebWorld) -> None:
    _region_extra(web)
    client, _ = web.as_role("coordinator")
    page = await client.get("/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 4 and "Oriëntatie" in page.text
    assert page.text.index("Sanne") < page.text.index("Bram")  # the attention paradox
    filtered = await client.get("/dashboard", params={"school": "org_school2"})
    assert "Sanne Jansen" not in filtered.text and "Bram Jansen" in filtered.text
    export = await client.get("/export/figures.csv", params={"peildatum": "2026-10-01"})
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:6] == [
        "peildatum", "school_id", "school", "uitstromers", "met_bestemming", "sluitend_pct",
    ]  # fmt: skip
    assert rows[1][:6] == ["2026-10-01", "org_school", "Praktijkschool De Maas", "1", "1", "100,0"]


def _region_extra(web: WebWorld) -> None:
    with Session(web.engine) as session:
        add_trajectory(session, "trj_00000000000000e5", "org_school", first="Eva",
                       destination=Destination.work, phase=Phase.aftercare,
                       leave=date.today().replace(year=2026, month=7, day=1),
                       contact_days_ago=1)  # fmt: skip
        session.commit()


async def test_a_call_is_taken_from_the_dashboard(web: WebWorld) -> None:
    web.app.state.web.client = object()  # an unknown escalation never reaches Temporal
    client, csrf = web.as_role("jobcoach")
    taken = await client.post("/escalations/esc_gone/ack", data={"csrf_token": csrf})
    assert taken.headers["location"] == "/dashboard?flash=closed"
    page = await client.get(taken.headers["location"])
    assert 'role="status">closed' in page.text
    forged = await client.post("/escalations/esc_gone/ack", data={"csrf_token": "x"})
    assert forged.status_code == 403
