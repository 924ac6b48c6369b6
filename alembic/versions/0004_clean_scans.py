"""clean scans

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

# Every write to a project's trees forgets its clean scan: the fingerprint then vouches
# for nothing, and the next one-shot sync scans and plans in full.
TREES = ("synced_entries", "remote_entries", "local_index")
EVENTS = {"insert": "NEW", "update": "OLD", "delete": "OLD"}


def _trigger(table: str, event: str) -> str:
    return f"trg_{table}_{event}_forget_clean_scan"


def upgrade() -> None:
    op.create_table(
        "clean_scans",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_clean_scans_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_clean_scans")),
    )
    if op.get_bind().dialect.name != "sqlite":
        return  # the one-shot check that reads clean_scans runs on plain SQLite files only
    for table in TREES:
        for event, row in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {_trigger(table, event)} AFTER {event.upper()} ON {table} "
                f"BEGIN DELETE FROM clean_scans WHERE project_id = {row}.project_id; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TREES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}")
    op.drop_table("clean_scans")
