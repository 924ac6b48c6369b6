"""merges: why a conflict did not merge and which notebook cells conflicted; merges per job

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN with defaults (older rows: no reason, no cells, no merges).
    op.add_column("conflicts", sa.Column("reason", sa.String(length=16), nullable=True))
    op.add_column("conflicts", sa.Column("cells", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("jobs", sa.Column("merged", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35), as in 0006: no batch copy of the tables.
    op.execute("ALTER TABLE jobs DROP COLUMN merged")
    op.execute("ALTER TABLE conflicts DROP COLUMN cells")
    op.execute("ALTER TABLE conflicts DROP COLUMN reason")
