"""Escalation queries: opening is idempotent, a code clash never acks a stranger's escalation,
the audit trail reads oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from store import escalations
from store.oncall import Escalation

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


def test_a_code_clash_goes_to_the_escalation_that_paged_the_sender(engine: Engine) -> None:
    with Session(engine) as session:
        open_one(session, "esc_00000000000000a1", T0)
        open_one(session, "esc_00000000000000b2", T0 + timedelta(minutes=1))
        session.flush()
        first = session.get(Escalation, "esc_00000000000000a1")
        second = session.get(Escalation, "esc_00000000000000b2")
        assert first is not None and second is not None
        second.ack_code = first.ack_code  # as if both were opened at the same instant
        escalations.audit(
            session, second.id, "paged", T0 + timedelta(minutes=1), actor_id="pro_bram"
        )
        session.commit()
        code = first.ack_code
        assert escalations.live_by_code(session, code, paged="pro_bram") == second
        assert escalations.live_by_code(session, code, paged="pro_stranger") is None
        assert escalations.live_by_code(session, code) == first
        assert escalations.live_by_code(session, "0000") is None
