"""``waakvlam import FILE``: enroll a school's CSV export of leavers, or a caseload taken over,
from the command line (idempotent).

The file is read and checked as the web import reads it (``web.csv_import``: encoding,
separator, Dutch or English column names, every row checked before anything is written). A
file with problems is not imported unless ``--only-valid`` is given; ``--check`` only reports.
The rows go through ``waakvlam.enrollment.enroll_all``. Output names lines and trajectory
counts, never a name.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlmodel import Session, col, select

from config.settings import Settings
from store.audit import record
from store.directory import Organisation, OrganisationKind
from waakvlam.container import Container, build_container
from waakvlam.enrollment import (
    EnrollmentError,
    EnrollmentInterrupted,
    EnrollmentResult,
    enroll_all,
    tally,
)
from waakvlam.runtime import connect_ready
from web.csv_import import ImportPreview, ImportRefused, preview

ACTOR = "waakvlam import"  # who the audit log names: the operator at the command line


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import", help="enroll the leavers of a CSV file (a school's export, a caseload)"
    )
    parser.add_argument("file", type=Path, help="the CSV file (as the web import takes)")
    parser.add_argument(
        "--school", help="the school's organisation id, for rows without a school column"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--only-valid", action="store_true", help="import the valid rows of a file with problems"
    )
    mode.add_argument("--check", action="store_true", help="check the file, import nothing")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    try:
        data = args.file.read_bytes()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    return asyncio.run(
        import_file(
            settings, data, school=args.school, only_valid=args.only_valid, check_only=args.check
        )
    )


def check_file(container: Container, data: bytes, school: str | None, today: date) -> ImportPreview:
    """The web import's preview, for every school of the region (the command line acts for the
    whole region; inactive schools are named as such)."""
    with Session(container.engine) as session:
        schools = session.exec(
            select(Organisation).where(col(Organisation.kind) == OrganisationKind.school)
        ).all()
        names = {s.id: s.id for s in schools} | {s.name.lower(): s.id for s in schools}
        if school is not None and school not in names.values():
            raise ImportRefused(f"--school: unknown school {school!r}")
        return preview(
            session,
            data,
            schools=names,
            inactive_schools=frozenset(s.id for s in schools if not s.active),
            default_school=school,
            timeline=container.timeline,
            today=today,
        )


async def import_file(
    settings: Settings,
    data: bytes,
    *,
    school: str | None = None,
    only_valid: bool = False,
    check_only: bool = False,
    out: TextIO | None = None,
) -> int:
    """0 when every row to import is enrolled (or, with ``check_only``, the file is clean); 1
    when rows have problems (then nothing is written unless ``only_valid``) or Temporal stopped
    answering part-way; 2 when the file cannot be read at all or Temporal does not answer (then
    nothing is written). ``out``: where the report goes (standard output)."""
    out = out or sys.stdout
    container = build_container(settings)
    try:
        today = date.today()
        try:
            result = check_file(container, data, school, today)
        except ImportRefused as refused:
            print(f"not imported: {refused}", file=out)
            return 2
        existing = sum(row.existing for row in result.valid)
        print(
            f"{len(result.rows)} rows: {len(result.valid)} valid ({existing} enrolled before), "
            f"{len(result.invalid)} with problems",
            file=out,
        )
        for warning in result.warnings:
            print(f"  note: {warning}", file=out)
        for row in result.invalid:
            print(f"  line {row.line}: {'; '.join(row.problems)}", file=out)
        if check_only:
            return 1 if result.invalid else 0
        if result.invalid and not only_valid:
            print("nothing imported: correct the file, or import the valid rows with "
                  "--only-valid", file=out)  # fmt: skip
            return 1
        requests = [row.request for row in result.valid if row.request is not None]
        try:
            client = await connect_ready(settings, attempts=4)
        except RuntimeError as unreachable:  # the SDK's "failed client connect"
            print(f"nothing imported: Temporal at {settings.temporal_address} does not answer "
                  f"({unreachable})", file=out)  # fmt: skip
            return 2
        try:
            outcomes = await enroll_all(
                database=container.database,
                client=client,
                timeline=container.timeline,
                requests=requests,
                task_queue=settings.temporal_task_queue,
                today=today,
            )
        except EnrollmentInterrupted as stopped:
            _audit(container, stopped.outcomes, skipped=len(result.invalid))
            print(f"interrupted: Temporal stopped answering ({stopped.__cause__!r}); "
                  f"{stopped.started} of {len(requests)} started. What was enrolled stays: run "
                  "the same import again to finish it.", file=out)  # fmt: skip
            return 1
        summary = _audit(container, outcomes, skipped=len(result.invalid))
        print(f"imported: {summary['created']} enrolled, {summary['existing']} enrolled before, "
              f"{summary['skipped']} skipped", file=out)  # fmt: skip
        failed = 0
        for row, outcome in zip(result.valid, outcomes, strict=True):
            if isinstance(outcome, EnrollmentError):
                failed += 1
                print(f"  line {row.line} not enrolled: {'; '.join(outcome.problems)}", file=out)
        return 1 if failed else 0
    finally:
        await container.aclose()


def _audit(
    container: Container,
    outcomes: Sequence[EnrollmentResult | EnrollmentError | None],
    skipped: int,
) -> dict[str, int]:
    """One entry per youth enrolled, as the web import writes, and one for the file (what it
    came to, returned for the report)."""
    summary = tally(outcomes, skipped)
    with Session(container.engine) as session:
        for outcome in outcomes:
            if isinstance(outcome, EnrollmentResult):
                record(session, actor_kind="system", actor_id=ACTOR, action="youth_enrolled",
                       subject_kind="trajectory", subject_id=outcome.trajectory_id,
                       detail={"created": outcome.created})  # fmt: skip
        record(session, actor_kind="system", actor_id=ACTOR, action="import_committed",
               subject_kind="school", subject_id="-", detail=summary)  # fmt: skip
        session.commit()
    return summary
