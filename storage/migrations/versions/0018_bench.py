"""arsip: indexes the archive search page and the public verification need at 100,000 records

Revision ID: 0018_bench
Revises: 0017_admin
Create Date: 2026-12-07 12:45:00

Issue 14 (benchmark, ``bench/web.py``): with 100,000 archived records

* sorting the search by judul (``/arsip?sort=judul``) read and sorted every matching row: a btree
  index on ``arsip.judul`` lets it read the first page in order (as ``tanggal_ttd`` and ``selesai``
  already do);
* ``/verifikasi`` looks an uploaded PDF's sha256 up among the archived originals and their
  renewals (``pipeline.archival.publik.archived_version``): without an index each upload scanned both tables;
* least privilege for an official who is not staff (``pipeline.access.arsip_clause``) first reads the
  naskah they made, initialled or sign: ``naskah.created_by``, ``paraf.user_id`` and
  ``signature_step.user_id`` are indexed so that this does not scan every naskah.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018_bench"
down_revision: str | Sequence[str] | None = "0017_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(op.f("ix_arsip_judul"), "arsip", ["judul"], unique=False)
    op.create_index(op.f("ix_arsip_sha256"), "arsip", ["sha256"], unique=False)
    op.create_index(op.f("ix_arsip_version_sha256"), "arsip_version", ["sha256"], unique=False)
    op.create_index(op.f("ix_naskah_created_by"), "naskah", ["created_by"], unique=False)
    op.create_index(op.f("ix_paraf_user_id"), "paraf", ["user_id"], unique=False)
    op.create_index(op.f("ix_signature_step_user_id"), "signature_step", ["user_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_signature_step_user_id"), table_name="signature_step")
    op.drop_index(op.f("ix_paraf_user_id"), table_name="paraf")
    op.drop_index(op.f("ix_naskah_created_by"), table_name="naskah")
    op.drop_index(op.f("ix_arsip_version_sha256"), table_name="arsip_version")
    op.drop_index(op.f("ix_arsip_sha256"), table_name="arsip")
    op.drop_index(op.f("ix_arsip_judul"), table_name="arsip")
