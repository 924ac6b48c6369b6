"""confirmed deletes: a tombstone a person confirmed past a replica's delete guard

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN: no table is recreated (other tables refer to this one)
    op.add_column(
        "file_versions",
        sa.Column("confirmed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("file_versions") as batch:
        batch.drop_column("confirmed")
