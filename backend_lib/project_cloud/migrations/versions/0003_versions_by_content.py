"""versions by content: find a project's revisions by SHA-256 (batch items sent by reference)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_file_versions_project_sha256", "file_versions", ["project_id", "sha256"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_file_versions_project_sha256", table_name="file_versions")
