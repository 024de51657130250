"""``waakvlam stalled`` lists the most neglected trajectories first, with ids and no names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from config.domain import SchoolType
from store.db import make_engine, migrate
from store.trajectories import Trajectory
from store.youth import Youth
from tests.factories import build_region
from waakvlam.cli import main


def test_the_longest_without_contact_and_most_overdue_come_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    migrate(engine)
    region = build_region(engine)
    now = datetime.now(UTC)
    contacts = {
        "trj_recent": now - timedelta(days=3),
        "trj_old": now - timedelta(days=200),
        "trj_never": None,
    }
    with Session(engine) as session:
        for number, (tid, contact) in enumerate(contacts.items()):
            session.add(
                Youth(
                    id=f"yth_{number}",
                    first_name="Noa",
                    last_name="Bakker",
                    birth_date=date(2009, 1, 1),
                    school_id=region.school_id,
                    school_ref=str(number),
                    school_type=SchoolType.pro,
                )
            )
            session.flush()
            session.add(
                Trajectory(
                    id=tid,
                    youth_id=f"yth_{number}",
                    workflow_id=f"w-{tid}",
                    school_id=region.school_id,
                    school_type=SchoolType.pro,
                    timeline_id="default",
                    timeline_version=1,
                    leave_date=date(2027, 7, 1),
                    last_contact_at=contact,
                    overdue_count=number,
                )
            )
        session.commit()
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAAKVLAM_DATABASE_URL", url)
    assert main(["stalled"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # Recent contact and nothing overdue is not stalled.
    assert [line.split()[0] for line in lines[1:]] == ["trj_never", "trj_old"]
    assert "Noa" not in "\n".join(lines) and "Bakker" not in "\n".join(lines)
