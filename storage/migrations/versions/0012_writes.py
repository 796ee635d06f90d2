"""object_store: the local store this database was set up with; revision numbers unique among complete ones

Revision ID: 0012_writes
Revises: 0011_access
Create Date: 2026-12-07 03:00:00

A local object store's folder is made once, by set-up, with a marker file holding a random id;
this table records that id per role (``objects``, ``arsip``).  A folder that later is missing,
unmarked (an empty mount point) or another store's is storage_unavailable instead of being made
again empty (issue 12, "No write is lost").  Existing installations get their row at the first
start after this upgrade, when their folder is marked and adopted.

A revision's number was unique among all rows, pending ones too, so a render that lost its race
(or whose write failed) after a later render had taken the next number left a gap.  Now a pending
row is a candidate for the next number, which racing renders may share, and the number is unique
among complete revisions (a partial unique index).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012_writes"
down_revision: str | Sequence[str] | None = "0011_access"
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
    _drop_unique_number()
    op.create_index(
        "ux_revision_complete_number",
        "revision",
        ["naskah_id", "number"],
        unique=True,
        sqlite_where=sa.text("state = 'complete'"),
        postgresql_where=sa.text("state = 'complete'"),
    )


def _drop_unique_number() -> None:
    """The unnamed UNIQUE (naskah_id, number) of 0001: PostgreSQL named it, SQLite did not (rebuild the table)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        naming = {"uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s"}
        with op.batch_alter_table("revision", naming_convention=naming, recreate="always") as batch:
            batch.drop_constraint("uq_revision_naskah_id_number", type_="unique")
        return
    for uq in sa.inspect(bind).get_unique_constraints("revision"):
        if uq["column_names"] == ["naskah_id", "number"]:
            op.drop_constraint(uq["name"], "revision", type_="unique")


def downgrade() -> None:
    """Downgrade schema (fails if racing renders left two pending rows with one number: reconcile first)."""
    op.drop_index("ux_revision_complete_number", table_name="revision")
    with op.batch_alter_table("revision") as batch:
        batch.create_unique_constraint("uq_revision_naskah_id_number", ["naskah_id", "number"])
    op.drop_table("object_store")
