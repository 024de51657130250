"""Dashboard queries at region scale: 10,000 trajectories and 100,000 tasks, on SQLite and on
PostgreSQL (a scratch schema, dropped afterwards). Prints p50/p95 of the stalled list and the
counts, beside a baseline measured in the same run (a plain ``SELECT count(*)`` on the same
tables), and the query plans, so a missing index shows.

``python -m bench dashboard [--region-trajectories N] [--tasks-per 10] [--repeat 60]
[--no-postgres]`` (``--postgres-url`` defaults to WAAKVLAM_TEST_POSTGRES_URL or postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from bench.common import Section, p50, percentile
from config.domain import Destination, Phase, Role, SchoolType, TaskKind
from store import dashboard as queries
from store.dashboard import Scope
from store.db import make_engine, migrate, scratch_postgres
from store.directory import Organisation, OrganisationKind, Professional
from store.trajectories import TaskRow, TaskStatus, Trajectory
from store.youth import Youth

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
LIMIT_MS = 100.0


def fill(engine: Engine, trajectories: int, tasks_per: int, seed: int = 7) -> None:
    """Bulk-insert a region: 12 schools, 60 professionals, the youth, trajectories and tasks."""
    rng = random.Random(seed)
    now, today = datetime.now(UTC), date.today()
    schools = [f"org_s{i:02d}" for i in range(12)]
    people = [f"pro_{i:03d}" for i in range(60)]
    phases = [p for p in Phase if p is not Phase.closed]
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [
            {"id": s, "name": f"School {i}", "kind": OrganisationKind.school,
             "school_type": list(SchoolType)[i % 3], "created_at": now}
            for i, s in enumerate(schools)])  # fmt: skip
        conn.execute(insert(Professional), [
            {"id": p, "organisation_id": schools[i % 12], "first_name": "P", "last_name": str(i),
             "language": "nl", "wants_daily_digest": False, "active": True, "created_at": now}
            for i, p in enumerate(people)])  # fmt: skip
        for start in range(0, trajectories, 2000):
            batch = range(start, min(trajectories, start + 2000))
            conn.execute(insert(Youth), [
                {"id": f"yth_{n:016x}", "first_name": "Y", "last_name": str(n),
                 "birth_date": date(2009, 1, 1), "school_id": schools[n % 12],
                 "school_ref": f"R{n}", "school_type": list(SchoolType)[n % 3],
                 "language": "nl", "created_at": now} for n in batch])  # fmt: skip
            rows = [_trajectory(n, rng, schools, people, phases, now, today) for n in batch]
            conn.execute(insert(Trajectory), rows)
            tasks = [_task(n, k, rng, people, today) for n in batch for k in range(tasks_per)]
            conn.execute(insert(TaskRow), tasks)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _trajectory(n: int, rng: random.Random, schools: list[str], people: list[str],
                phases: list[Phase], now: datetime, today: date) -> dict[str, Any]:  # fmt: skip
    destination = rng.choice([None, None, *Destination])
    contact = None if rng.random() < 0.15 else now - timedelta(days=rng.randint(0, 400))
    return {
        "id": f"trj_{n:016x}", "youth_id": f"yth_{n:016x}", "workflow_id": f"trajectory-{n}",
        "school_id": schools[n % 12], "school_type": list(SchoolType)[n % 3],
        "case_director_id": people[n % 60], "next_contact_id": people[(n * 7) % 60],
        "timeline_id": "default", "timeline_version": 1,
        "leave_date": today + timedelta(days=rng.randint(-730, 365)),
        "status": "closed" if rng.random() < 0.08 else "open", "phase": rng.choice(phases),
        "destination": destination, "overdue_count": rng.choice([0, 0, 0, 1, 2, 5]),
        "last_contact_at": contact, "no_destination": destination is None,
        "consent_pending": rng.random() < 0.2, "waakvlam": rng.random() < 0.03,
        "safety_net": rng.random() < 0.05, "projected_version": 1, "opened_at": now,
    }  # fmt: skip


def _task(n: int, k: int, rng: random.Random, people: list[str], today: date) -> dict[str, Any]:
    status = rng.choices(list(TaskStatus), weights=[40, 10, 5, 40, 3, 2])[0]
    return {
        "id": f"trj_{n:016x}:t{k}", "trajectory_id": f"trj_{n:016x}", "key": f"t{k}",
        "rule_id": f"t{k}", "kind": TaskKind.task, "role": Role.case_director,
        "owner_id": rng.choice(people), "due_date": today + timedelta(days=rng.randint(-400, 400)),
        "status": status, "escalated": False,
    }  # fmt: skip


def timed(work: Callable[[], Any], repeat: int) -> list[float]:
    work()  # warm the cache and the statement cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measurements(session: Session) -> dict[str, Callable[[], Any]]:
    region, mine = Scope(region=True), Scope(professional_id="pro_007",
                                             organisation_ids=frozenset({"org_s03"}))  # fmt: skip
    now, reference = datetime.now(UTC), date(date.today().year, 10, 1)
    return {
        "baseline: SELECT count(*) FROM trajectory":
            lambda: session.execute(text("SELECT count(*) FROM trajectory")).scalar(),
        "baseline: SELECT count(*) FROM task":
            lambda: session.execute(text("SELECT count(*) FROM task")).scalar(),
        "stalled list (region, top 50)": lambda: queries.stalled(session, region, now),
        "stalled list (one professional)": lambda: queries.stalled(session, mine, now),
        "counts by phase": lambda: queries.count_by(session, region, "phase"),
        "counts by destination": lambda: queries.count_by(session, region, "destination"),
        "counts by school": lambda: queries.count_by(session, region, "school_id"),
        "flag counts (open, no destination, consent, waakvlam, vangnet)":
            lambda: queries.flag_counts(session, region),
        "sluitend per school": lambda: queries.sluitend(session, region, reference),
        "overdue tasks per organisation": lambda: queries.overdue_by_organisation(session, region),
    }  # fmt: skip


def plans(session: Session, engine: Engine) -> list[str]:
    from sqlalchemy.dialects import postgresql, sqlite

    never, rest = queries.stalled_queries(Scope(region=True), datetime.now(UTC))
    statements = {
        "stalled (never contacted)": never,
        "stalled (the rest)": rest,
        "overdue per organisation": queries.overdue_query(Scope(region=True)),
    }
    lines = []
    for name, statement in statements.items():
        dialect = postgresql.dialect() if engine.dialect.name == "postgresql" else sqlite.dialect()
        sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        rows = session.execute(text(f"{prefix} {sql}")).all()
        plan = " / ".join(str(r[-1]).strip() for r in rows)
        lines.append(f"- {engine.dialect.name} plan of {name}: `{plan[:400]}`")
    return lines


@contextmanager
def sqlite_engine(directory: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{directory / 'bench-dashboard.db'}")
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def postgres_engine(url: str) -> AbstractContextManager[Engine]:
    return scratch_postgres(url, "bench")


def run(args: argparse.Namespace) -> Section:
    section = Section(
        name="dashboard",
        title=f"Dashboard queries: {args.region_trajectories:,} trajectories, "
        f"{args.region_trajectories * args.tasks_per:,} tasks",
        command=f"python -m bench dashboard --region-trajectories {args.region_trajectories}",
        header=["database", "query", "p50 ms", "p95 ms", f"p95 < {LIMIT_MS:.0f} ms"],
    )
    targets: list[tuple[str, Callable[[], Any]]] = []
    tmp = tempfile.TemporaryDirectory()
    targets.append(("sqlite", lambda: sqlite_engine(Path(tmp.name))))
    if not args.no_postgres:
        targets.append(("postgresql", lambda: postgres_engine(args.postgres_url)))
    for label, make in targets:
        with make() as engine:
            started = time.perf_counter()
            fill(engine, args.region_trajectories, args.tasks_per)
            section.notes.append(f"- {label}: filled in {time.perf_counter() - started:.1f} s")
            with Session(engine) as session:
                for name, work in measurements(session).items():
                    samples = timed(work, args.repeat)
                    p95 = percentile(samples, 0.95)
                    verdict = (
                        "" if name.startswith("baseline") else ("yes" if p95 < LIMIT_MS else "NO")
                    )
                    section.rows.append([label, name, f"{p50(samples):.1f}", f"{p95:.1f}", verdict])
                section.notes += plans(session, engine)
    tmp.cleanup()
    return section


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region-trajectories", type=int, default=10_000,
                        help="trajectories in the dashboard benchmark's region")  # fmt: skip
    parser.add_argument("--tasks-per", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--no-postgres", action="store_true")
    url = os.environ.get("WAAKVLAM_TEST_POSTGRES_URL") or DEFAULT_PG
    parser.add_argument("--postgres-url", default=url)


def main(args: argparse.Namespace) -> Section:
    return run(args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    add_arguments(parser)
    main(parser.parse_args(sys.argv[1:])).print()
