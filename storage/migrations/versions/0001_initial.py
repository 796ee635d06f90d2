"""initial schema: users, tokens, kerja sama, pihak, naskah, revisions

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:27:11.852862

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("nama", sa.String(length=200), nullable=False),
        sa.Column("jabatan", sa.String(length=200), nullable=False),
        sa.Column("nip", sa.String(length=32), nullable=True),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_username"), ["username"], unique=True)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "kerja_sama",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jenis", sa.String(length=8), nullable=False),
        sa.Column("judul", sa.String(length=500), nullable=False),
        sa.Column("objek", sa.Text(), nullable=False),
        sa.Column("manfaat", sa.Text(), nullable=False),
        sa.Column("bentuk", sa.String(length=200), nullable=False),
        sa.Column("tahun_anggaran_mulai", sa.Integer(), nullable=False),
        sa.Column("mulai", sa.Date(), nullable=False),
        sa.Column("selesai", sa.Date(), nullable=False),
        sa.Column("opd_teknis", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kerja_sama", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kerja_sama_jenis"), ["jenis"], unique=False)

    op.create_table(
        "naskah",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kerja_sama_id", sa.Integer(), nullable=False),
        sa.Column("jenis", sa.String(length=8), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["kerja_sama_id"],
            ["kerja_sama.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["naskah.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("naskah", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_naskah_kerja_sama_id"), ["kerja_sama_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_naskah_status"), ["status"], unique=False)

    op.create_table(
        "pihak",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kerja_sama_id", sa.Integer(), nullable=False),
        sa.Column("urutan", sa.Integer(), nullable=False),
        sa.Column("instansi", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("alamat", sa.String(length=500), nullable=True),
        sa.Column("penandatangan_nama", sa.String(length=200), nullable=False),
        sa.Column("penandatangan_jabatan", sa.String(length=200), nullable=False),
        sa.Column("penandatangan_nip", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["kerja_sama_id"],
            ["kerja_sama.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kerja_sama_id", "urutan"),
    )
    with op.batch_alter_table("pihak", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pihak_kerja_sama_id"), ["kerja_sama_id"], unique=False)

    op.create_table(
        "naskah_nomor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("pihak_id", sa.Integer(), nullable=False),
        sa.Column("nomor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["naskah_id"],
            ["naskah.id"],
        ),
        sa.ForeignKeyConstraint(
            ["pihak_id"],
            ["pihak.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("naskah_id", "pihak_id"),
    )
    with op.batch_alter_table("naskah_nomor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_naskah_nomor_naskah_id"), ["naskah_id"], unique=False)

    op.create_table(
        "revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("template_sha256", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("docx_key", sa.String(length=512), nullable=False),
        sa.Column("docx_version_id", sa.String(length=200), nullable=True),
        sa.Column("docx_sha256", sa.String(length=64), nullable=False),
        sa.Column("docx_size", sa.Integer(), nullable=False),
        sa.Column("pdf_key", sa.String(length=512), nullable=False),
        sa.Column("pdf_version_id", sa.String(length=200), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_size", sa.Integer(), nullable=False),
        sa.Column("pdf_pages", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["naskah_id"],
            ["naskah.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("naskah_id", "number"),
    )
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revision_naskah_id"), ["naskah_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_revision_state"), ["state"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_state"))
        batch_op.drop_index(batch_op.f("ix_revision_naskah_id"))

    op.drop_table("revision")
    with op.batch_alter_table("naskah_nomor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_naskah_nomor_naskah_id"))

    op.drop_table("naskah_nomor")
    with op.batch_alter_table("pihak", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pihak_kerja_sama_id"))

    op.drop_table("pihak")
    with op.batch_alter_table("naskah", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_naskah_status"))
        batch_op.drop_index(batch_op.f("ix_naskah_kerja_sama_id"))

    op.drop_table("naskah")
    with op.batch_alter_table("kerja_sama", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kerja_sama_jenis"))

    op.drop_table("kerja_sama")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_tokens_token_hash"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_username"))

    op.drop_table("users")
