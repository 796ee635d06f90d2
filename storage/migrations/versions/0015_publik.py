"""public_link, rate_hit: the public page of a naskah behind an unguessable token, and a shared rate limit

Revision ID: 0015_publik
Revises: 0014_preview
Create Date: 2026-12-07 05:30:00

Issue 14 (public verification): the QR code in every signature block points at ``/v/<token>``, a
random token per naskah (``public_link``), never the sequential id; the anonymous upload page
``/verifikasi`` is rate-limited per client address, counted in ``rate_hit`` so that every process
of the app counts the same requests.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015_publik"
down_revision: str | Sequence[str] | None = "0014_preview"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "public_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["naskah_id"], ["naskah.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("naskah_id"),
        sa.UniqueConstraint("token"),
    )
    op.create_table(
        "rate_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rate_hit_key_at", "rate_hit", ["key", "at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_rate_hit_key_at", table_name="rate_hit")
    op.drop_table("rate_hit")
    op.drop_table("public_link")
