"""least privilege: who sees which naskah, who drafts it, tokens that expire

Revision ID: 0011_access
Revises: 0010_nomor_register
Create Date: 2026-12-08 01:00:00

Issue 12 ("Least privilege"): a user's OPD and whether they are a counterparty's official (pihak
luar, of ``instansi``) decide what they see (``pipeline.access``); ``kerja_sama.opd_key`` is the
case's OPD teknis normalised, for that match; ``naskah_drafter`` holds the drafters the Kepala
Bagian Pemerintahan assigns to a naskah besides its creator; every API token gets an expiry.

Tokens issued before expiry existed get ``now + 90 days`` (the default ``NASKAH_TOKEN_LIFETIME_DAYS``),
so an upgrade does not lock every user out at once but no token lives for ever.
"""

import datetime as dt
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UtcDateTime

# revision identifiers, used by Alembic.
revision: str = "0011_access"
down_revision: str | Sequence[str] | None = "0010_nomor_register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_TOKEN_DAYS = 90


def _opd_key(text: str) -> str:
    # the same normalisation as pipeline.access.opd_key (a migration must not import the app)
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())[:200]


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("users", sa.Column("opd", sa.String(length=200), nullable=True))
    # Server defaults stay: SQLite would have to rebuild these tables (referenced by every other) to drop them.
    op.add_column("users", sa.Column("pihak_luar", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("instansi", sa.String(length=300), nullable=True))
    op.add_column("kerja_sama", sa.Column("opd_key", sa.String(length=200), nullable=False, server_default=""))
    op.create_index(op.f("ix_kerja_sama_opd_key"), "kerja_sama", ["opd_key"], unique=False)
    bind = op.get_bind()
    for case_id, opd in bind.execute(sa.text("SELECT id, opd_teknis FROM kerja_sama")).all():
        bind.execute(
            sa.text("UPDATE kerja_sama SET opd_key = :key WHERE id = :id"), {"key": _opd_key(opd or ""), "id": case_id}
        )

    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table("api_tokens", sa.column("expires_at", UtcDateTime()))
    bind.execute(tokens.update().values(expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=LEGACY_TOKEN_DAYS)))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)

    op.create_table(
        "naskah_drafter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["naskah_id"], ["naskah.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_naskah_drafter_naskah_id"), "naskah_drafter", ["naskah_id"], unique=False)
    op.create_index(op.f("ix_naskah_drafter_user_id"), "naskah_drafter", ["user_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_naskah_drafter_user_id"), table_name="naskah_drafter")
    op.drop_index(op.f("ix_naskah_drafter_naskah_id"), table_name="naskah_drafter")
    op.drop_table("naskah_drafter")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    op.drop_index(op.f("ix_kerja_sama_opd_key"), table_name="kerja_sama")
    with op.batch_alter_table("kerja_sama") as batch:
        batch.drop_column("opd_key")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("instansi")
        batch.drop_column("pihak_luar")
        batch.drop_column("opd")
