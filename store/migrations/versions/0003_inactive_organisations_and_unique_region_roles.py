"""organisations can be made inactive; a person holds a region-wide role at most once

An organisation with history (former staff, closed trajectories, youth, role scopes, rotations)
is no longer removed but made inactive: ``organisation.active``, true for every existing row.
And the unique constraint on role assignments let two region-wide assignments of the same role
through, because NULL scopes are distinct: a partial unique index now refuses them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REGION_WIDE = "scope_organisation_id IS NULL"


class DuplicateRegionWideRoles(RuntimeError):
    """A person holds the same region-wide role twice: remove all but one first."""


def upgrade() -> None:
    bind = op.get_bind()
    duplicates = bind.execute(
        sa.text(
            f"SELECT professional_id, role, COUNT(*) FROM roleassignment WHERE {REGION_WIDE} "
            "GROUP BY professional_id, role HAVING COUNT(*) > 1 ORDER BY professional_id, role"
        )
    ).all()
    if duplicates:
        pairs = ", ".join(f"{person} ({role})" for person, role, _ in duplicates)
        raise DuplicateRegionWideRoles(
            f"region-wide roles assigned twice to the same person: {pairs}; remove all but one "
            "of each in the app, then start again (nothing was changed)"
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("roleassignment", schema=None) as batch_op:
        batch_op.create_index(
            "ux_roleassignment_region_wide",
            ["professional_id", "role"],
            unique=True,
            sqlite_where=sa.text(REGION_WIDE),
            postgresql_where=sa.text(REGION_WIDE),
        )


def downgrade() -> None:
    with op.batch_alter_table("roleassignment", schema=None) as batch_op:
        batch_op.drop_index("ux_roleassignment_region_wide")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("active")
