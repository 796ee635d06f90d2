"""usulan, usulan_file, usulan_event: the intake of penawaran and permohonan before drafting

Revision ID: 0016_intake
Revises: 0015_publik
Create Date: 2026-12-07 07:30:00

Issue 15 (intake): an incoming letter with its kelengkapan and attachments, its disposisi down the
profile's chain (each step with its note and the time it took), the analis's telaah, the TKKSD
meeting and the Kepala Daerah's decision, which opens a kerja sama case (``pipeline.intake``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_intake"
down_revision: str | Sequence[str] | None = "0015_publik"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "usulan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jenis", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("perihal", sa.String(length=500), nullable=False),
        sa.Column("jenis_kerja_sama", sa.String(length=8), nullable=True),
        sa.Column("surat_nomor", sa.String(length=200), nullable=False),
        sa.Column("surat_tanggal", sa.Date(), nullable=False),
        sa.Column("diterima_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pengirim_instansi", sa.String(length=300), nullable=False),
        sa.Column("pengirim_kind", sa.String(length=32), nullable=False),
        sa.Column("pengirim_nama", sa.String(length=200), nullable=True),
        sa.Column("pengirim_jabatan", sa.String(length=200), nullable=True),
        sa.Column("pengirim_alamat", sa.String(length=500), nullable=True),
        sa.Column("mitra", sa.JSON(), nullable=True),
        sa.Column("objek", sa.Text(), nullable=True),
        sa.Column("manfaat", sa.Text(), nullable=True),
        sa.Column("bentuk", sa.String(length=200), nullable=True),
        sa.Column("tahun_anggaran_mulai", sa.Integer(), nullable=True),
        sa.Column("jangka_waktu_bulan", sa.Integer(), nullable=True),
        sa.Column("opd_teknis", sa.String(length=200), nullable=True),
        sa.Column("opd_key", sa.String(length=200), nullable=False),
        sa.Column("posisi", sa.String(length=64), nullable=True),
        sa.Column("turn_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("telaah", sa.Text(), nullable=True),
        sa.Column("pengkaji_id", sa.Integer(), nullable=True),
        sa.Column("rapat_waktu", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rapat_tempat", sa.String(length=300), nullable=True),
        sa.Column("rapat_acara", sa.String(length=500), nullable=True),
        sa.Column("rapat_peserta", sa.JSON(), nullable=False),
        sa.Column("notulen", sa.Text(), nullable=True),
        sa.Column("kesimpulan", sa.Text(), nullable=True),
        sa.Column("rekomendasi", sa.String(length=16), nullable=True),
        sa.Column("rekomendasi_catatan", sa.Text(), nullable=True),
        sa.Column("keputusan_catatan", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kerja_sama_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["kerja_sama_id"], ["kerja_sama.id"]),
        sa.ForeignKeyConstraint(["pengkaji_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_usulan_status"), "usulan", ["status"], unique=False)
    op.create_index(op.f("ix_usulan_opd_key"), "usulan", ["opd_key"], unique=False)
    op.create_table(
        "usulan_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("usulan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("version_id", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("nomor", sa.String(length=200), nullable=True),
        sa.Column("pdf_key", sa.String(length=512), nullable=True),
        sa.Column("pdf_version_id", sa.String(length=200), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["usulan_id"], ["usulan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_usulan_file_usulan_id"), "usulan_file", ["usulan_id"], unique=False)
    op.create_table(
        "usulan_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("usulan_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("posisi", sa.String(length=64), nullable=True),
        sa.Column("to_posisi", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mutu_baku", sa.String(length=100), nullable=True),
        sa.Column("terlambat", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["usulan_id"], ["usulan.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_usulan_event_usulan_id"), "usulan_event", ["usulan_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_usulan_event_usulan_id"), table_name="usulan_event")
    op.drop_table("usulan_event")
    op.drop_index(op.f("ix_usulan_file_usulan_id"), table_name="usulan_file")
    op.drop_table("usulan_file")
    op.drop_index(op.f("ix_usulan_opd_key"), table_name="usulan")
    op.drop_index(op.f("ix_usulan_status"), table_name="usulan")
    op.drop_table("usulan")
