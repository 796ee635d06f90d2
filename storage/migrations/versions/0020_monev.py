"""monev_round, monev_event, monev_lampiran, monev_tindak_lanjut, monev_perpanjangan: monitoring and evaluation

Revision ID: 0020_monev
Revises: 0019_mail
Create Date: 2026-12-07 13:00:00

Issue 15 (monitoring dan evaluasi of running agreements, Kota Tangerang's monev SOP): rounds on an
archived agreement in force with their history, the OPD's report attachments and tindak lanjut
proofs (object store, sha256), the tindak lanjut items, and the decision to extend per agreement.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0020_monev"
down_revision: str | Sequence[str] | None = "0019_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "monev_perpanjangan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arsip_id", sa.Integer(), nullable=False),
        sa.Column("keputusan", sa.String(length=32), nullable=False),
        sa.Column("catatan", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["arsip_id"],
            ["arsip.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("arsip_id"),
    )
    op.create_table(
        "monev_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arsip_id", sa.Integer(), nullable=False),
        sa.Column("kerja_sama_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("surat_perintah", sa.String(length=200), nullable=False),
        sa.Column("ketua_tim_id", sa.Integer(), nullable=False),
        sa.Column("analis_id", sa.Integer(), nullable=True),
        sa.Column("periode_mulai", sa.Date(), nullable=False),
        sa.Column("periode_selesai", sa.Date(), nullable=False),
        sa.Column("catatan_penugasan", sa.Text(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bahan", sa.Text(), nullable=False),
        sa.Column("jadwal", sa.Date(), nullable=True),
        sa.Column("batas_laporan", sa.Date(), nullable=True),
        sa.Column("realisasi", sa.Text(), nullable=False),
        sa.Column("kendala", sa.Text(), nullable=False),
        sa.Column("manfaat", sa.Text(), nullable=False),
        sa.Column("rekomendasi", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hasil_olah", sa.Text(), nullable=False),
        sa.Column("temuan", sa.JSON(), nullable=False),
        sa.Column("penilaian", sa.String(length=32), nullable=True),
        sa.Column("evaluasi", sa.Text(), nullable=False),
        sa.Column("arahan", sa.Text(), nullable=False),
        sa.Column("kesimpulan", sa.Text(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["analis_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["arsip_id"],
            ["arsip.id"],
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["kerja_sama_id"],
            ["kerja_sama.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ketua_tim_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_monev_round_analis_id", "monev_round", ["analis_id"], unique=False)
    op.create_index("ix_monev_round_arsip_id", "monev_round", ["arsip_id"], unique=False)
    op.create_index("ix_monev_round_assigned_at", "monev_round", ["assigned_at"], unique=False)
    op.create_index("ix_monev_round_kerja_sama_id", "monev_round", ["kerja_sama_id"], unique=False)
    op.create_index("ix_monev_round_ketua_tim_id", "monev_round", ["ketua_tim_id"], unique=False)
    op.create_index("ix_monev_round_reported_at", "monev_round", ["reported_at"], unique=False)
    op.create_index("ix_monev_round_status", "monev_round", ["status"], unique=False)
    op.create_table(
        "monev_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["monev_round.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_monev_event_round_id", "monev_event", ["round_id"], unique=False)
    op.create_table(
        "monev_tindak_lanjut",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("arsip_id", sa.Integer(), nullable=False),
        sa.Column("urutan", sa.Integer(), nullable=False),
        sa.Column("uraian", sa.Text(), nullable=False),
        sa.Column("penanggung_jawab_id", sa.Integer(), nullable=True),
        sa.Column("penanggung_jawab_opd", sa.String(length=200), nullable=True),
        sa.Column("penanggung_jawab", sa.String(length=300), nullable=False),
        sa.Column("tenggat", sa.Date(), nullable=False),
        sa.Column("selesai_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("selesai_by", sa.Integer(), nullable=True),
        sa.Column("catatan_selesai", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arsip_id"],
            ["arsip.id"],
        ),
        sa.ForeignKeyConstraint(
            ["penanggung_jawab_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["monev_round.id"],
        ),
        sa.ForeignKeyConstraint(
            ["selesai_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_monev_tindak_lanjut_arsip_id", "monev_tindak_lanjut", ["arsip_id"], unique=False)
    op.create_index(
        "ix_monev_tindak_lanjut_penanggung_jawab_id", "monev_tindak_lanjut", ["penanggung_jawab_id"], unique=False
    )
    op.create_index("ix_monev_tindak_lanjut_round_id", "monev_tindak_lanjut", ["round_id"], unique=False)
    op.create_index("ix_monev_tindak_lanjut_tenggat", "monev_tindak_lanjut", ["tenggat"], unique=False)
    op.create_table(
        "monev_lampiran",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("tindak_lanjut_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=250), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("version_id", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["monev_round.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tindak_lanjut_id"],
            ["monev_tindak_lanjut.id"],
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_monev_lampiran_round_id", "monev_lampiran", ["round_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_monev_lampiran_round_id", table_name="monev_lampiran")
    op.drop_table("monev_lampiran")
    op.drop_index("ix_monev_tindak_lanjut_tenggat", table_name="monev_tindak_lanjut")
    op.drop_index("ix_monev_tindak_lanjut_round_id", table_name="monev_tindak_lanjut")
    op.drop_index("ix_monev_tindak_lanjut_penanggung_jawab_id", table_name="monev_tindak_lanjut")
    op.drop_index("ix_monev_tindak_lanjut_arsip_id", table_name="monev_tindak_lanjut")
    op.drop_table("monev_tindak_lanjut")
    op.drop_index("ix_monev_event_round_id", table_name="monev_event")
    op.drop_table("monev_event")
    op.drop_index("ix_monev_round_status", table_name="monev_round")
    op.drop_index("ix_monev_round_reported_at", table_name="monev_round")
    op.drop_index("ix_monev_round_ketua_tim_id", table_name="monev_round")
    op.drop_index("ix_monev_round_kerja_sama_id", table_name="monev_round")
    op.drop_index("ix_monev_round_assigned_at", table_name="monev_round")
    op.drop_index("ix_monev_round_arsip_id", table_name="monev_round")
    op.drop_index("ix_monev_round_analis_id", table_name="monev_round")
    op.drop_table("monev_round")
    op.drop_table("monev_perpanjangan")
