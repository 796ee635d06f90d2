"""archive records (arsip) and their stored versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 01:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "arsip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("kerja_sama_id", sa.Integer(), nullable=False),
        sa.Column("jenis", sa.String(length=8), nullable=False),
        sa.Column("jenis_kerja_sama", sa.String(length=8), nullable=False),
        sa.Column("judul", sa.String(length=500), nullable=False),
        sa.Column("pihak", sa.JSON(), nullable=False),
        sa.Column("nomor", sa.JSON(), nullable=False),
        sa.Column("opd_teknis", sa.String(length=200), nullable=False),
        sa.Column("tanggal_ttd", sa.Date(), nullable=False),
        sa.Column("mulai", sa.Date(), nullable=False),
        sa.Column("selesai", sa.Date(), nullable=False),
        sa.Column("related", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("version_id", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timestamp_expiry", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_by", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["archived_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["kerja_sama_id"],
            ["kerja_sama.id"],
        ),
        sa.ForeignKeyConstraint(
            ["naskah_id"],
            ["naskah.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("naskah_id"),
    )
    op.create_index(op.f("ix_arsip_archived_at"), "arsip", ["archived_at"], unique=False)
    op.create_index(op.f("ix_arsip_jenis"), "arsip", ["jenis"], unique=False)
    op.create_index(op.f("ix_arsip_jenis_kerja_sama"), "arsip", ["jenis_kerja_sama"], unique=False)
    op.create_index(op.f("ix_arsip_kerja_sama_id"), "arsip", ["kerja_sama_id"], unique=False)
    op.create_index(op.f("ix_arsip_opd_teknis"), "arsip", ["opd_teknis"], unique=False)
    op.create_index(op.f("ix_arsip_selesai"), "arsip", ["selesai"], unique=False)
    op.create_index(op.f("ix_arsip_tanggal_ttd"), "arsip", ["tanggal_ttd"], unique=False)
    op.create_table(
        "arsip_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arsip_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("timestamp_expiry", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["arsip_id"],
            ["arsip.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_arsip_version_arsip_id"), "arsip_version", ["arsip_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_arsip_version_arsip_id"), table_name="arsip_version")
    op.drop_table("arsip_version")
    op.drop_index(op.f("ix_arsip_tanggal_ttd"), table_name="arsip")
    op.drop_index(op.f("ix_arsip_selesai"), table_name="arsip")
    op.drop_index(op.f("ix_arsip_opd_teknis"), table_name="arsip")
    op.drop_index(op.f("ix_arsip_kerja_sama_id"), table_name="arsip")
    op.drop_index(op.f("ix_arsip_jenis_kerja_sama"), table_name="arsip")
    op.drop_index(op.f("ix_arsip_jenis"), table_name="arsip")
    op.drop_index(op.f("ix_arsip_archived_at"), table_name="arsip")
    op.drop_table("arsip")
