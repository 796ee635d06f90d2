"""object_store: the local store this database was set up with (no write is lost)

Revision ID: 0011_writes
Revises: 0010_nomor_register
Create Date: 2026-12-07 03:00:00

A local object store's folder is made once, by set-up, with a marker file holding a random id;
this table records that id per role (``objects``, ``arsip``).  A folder that later is missing,
unmarked (an empty mount point) or another store's is storage_unavailable instead of being made
again empty (issue 12, "No write is lost").  Existing installations get their row at the first
start after this upgrade, when their folder is marked and adopted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011_writes"
down_revision: str | Sequence[str] | None = "0010_nomor_register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "object_store",
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("role"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("object_store")
