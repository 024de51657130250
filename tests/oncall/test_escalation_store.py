"""Escalation queries: opening is idempotent, live acknowledgement codes are unique (the database
refuses a clash, opening draws again), the audit trail reads oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from store import escalations
from store.oncall import Escalation, EscalationCall, EscalationStatus

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)


def open_one(session: Session, escalation_id: str, at: datetime) -> str:
    row = escalations.open_escalation(
        session,
        escalation_id=escalation_id,
        trajectory_id=None,
        workflow_id=f"escalation-{escalation_id}",
        category="absence",
        urgency="today",
        policy_snapshot={"policy_id": "pol", "repeat": 0, "steps": []},
        caller_kind="coordinator",
        caller_ref=None,
        at=at,
    )
    return row.ack_code


def test_opening_twice_keeps_the_first_code_and_one_call(engine: Engine) -> None:
    with Session(engine) as session:
        code = open_one(session, "esc_0000000000000001", T0)
        again = open_one(session, "esc_0000000000000001", T0 + timedelta(seconds=5))
        session.commit()
        assert again == code and len(code) == 4 and code.isdigit()
        trail = escalations.audit_trail(session, "esc_0000000000000001")
        assert [e.action for e in trail] == ["created"]


def test_the_database_refuses_two_live_escalations_with_one_code(engine: Engine) -> None:
    with Session(engine) as session:
        code = open_one(session, "esc_00000000000000a1", T0)
        open_one(session, "esc_00000000000000b2", T0 + timedelta(minutes=1))
        session.commit()
        second = session.get(Escalation, "esc_00000000000000b2")
        assert second is not None
        second.ack_code = code  # as if both had drawn the same code at the same instant
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert escalations.live_by_code(session, code) == session.get(
            Escalation, "esc_00000000000000a1"
        )
        assert escalations.live_by_code(session, "0000") is None


def test_a_resolved_escalation_gives_its_code_back(engine: Engine) -> None:
    with Session(engine) as session:
        code = open_one(session, "esc_00000000000000a1", T0)
        first = session.get(Escalation, "esc_00000000000000a1")
        assert first is not None
        first.status = EscalationStatus.resolved
        session.commit()
        open_one(session, "esc_00000000000000b2", T0 + timedelta(minutes=1))
        second = session.get(Escalation, "esc_00000000000000b2")
        assert second is not None
        second.ack_code = code
        session.commit()  # only live escalations must differ
        assert escalations.live_by_code(session, code) == second


def test_opening_draws_again_when_the_code_was_taken_meanwhile(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as session:
        taken = open_one(session, "esc_00000000000000a1", T0)
        session.commit()
        draws = iter([taken, "4321" if taken != "4321" else "4322"])
        # new_ack_code reads the live codes first; a concurrent opener can still take the same
        # one between that read and the insert: the unique index catches it, and we draw again.
        monkeypatch.setattr(escalations, "new_ack_code", lambda _session: next(draws))
        code = open_one(session, "esc_00000000000000b2", T0 + timedelta(minutes=1))
        session.commit()
        assert code != taken and code in {"4321", "4322"}
        calls = session.exec(select(EscalationCall)).all()
        assert sorted(c.escalation_id for c in calls) == [
            "esc_00000000000000a1",
            "esc_00000000000000b2",
        ]
