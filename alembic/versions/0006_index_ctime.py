"""local index: ctime

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows from before hold 0, which matches no file's ctime: each file is hashed once more.
    op.add_column(
        "local_index",
        sa.Column("ctime_ns", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite >= 3.35): a batch copy of the table would lose the
    # clean-scan triggers of migration 0004.
    op.execute("ALTER TABLE local_index DROP COLUMN ctime_ns")
