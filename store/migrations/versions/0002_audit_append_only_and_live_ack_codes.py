"""the database itself keeps the audit log append-only; live acknowledgement codes are unique

Until now only the ORM refused to change or delete an audit entry; a trigger now refuses it on
SQLite and PostgreSQL too (PostgreSQL also refuses TRUNCATE). And no two escalations that can
still be acknowledged may share an acknowledgement code: a partial unique index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('open', 'acknowledged')"
REFUSAL = "audit entries are never updated or deleted"


class LiveAckCodesClash(RuntimeError):
    """Two escalations that can still be acknowledged share a code: resolve one first."""


def upgrade() -> None:
    bind = op.get_bind()
    clashes = bind.execute(
        sa.text(
            f"SELECT ack_code, COUNT(*) FROM escalation WHERE {LIVE} "
            "GROUP BY ack_code HAVING COUNT(*) > 1"
        )
    ).all()
    if clashes:
        codes = ", ".join(str(code) for code, _ in clashes)
        raise LiveAckCodesClash(
            f"open escalations share the acknowledgement code(s) {codes}: resolve all but one "
            "of each in the app, then start again (nothing was changed)"
        )
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.create_index(
            "ux_escalation_live_ack_code",
            ["ack_code"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION waakvlam_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER auditentry_append_only BEFORE UPDATE OR DELETE ON auditentry "
            "FOR EACH ROW EXECUTE FUNCTION waakvlam_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER auditentry_no_truncate BEFORE TRUNCATE ON auditentry "
            "FOR EACH STATEMENT EXECUTE FUNCTION waakvlam_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER auditentry_no_{verb.lower()} BEFORE {verb} ON auditentry "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER auditentry_no_truncate ON auditentry")
        op.execute("DROP TRIGGER auditentry_append_only ON auditentry")
        op.execute("DROP FUNCTION waakvlam_audit_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER auditentry_no_{verb}")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_index("ux_escalation_live_ack_code")
