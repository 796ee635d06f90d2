"""arsip.opd_key: a Kepala OPD's archive search reads their OPD's records by one indexed column

Revision ID: 0022_arsip_fast
Revises: 0021_notif_more
Create Date: 2026-12-07 15:30:00

Least privilege for an official of the Pemda who is not staff includes "every naskah of a kerja sama
whose OPD teknis is their OPD" (``pipeline.access``).  The archive search said so with the ids of
their OPD's kerja sama, read first and sent as one array (~3,000 ids for one OPD at 100,000 records):
~10 ms of the API's CPU per page to read and send them, and a test of every candidate row against the
array.  A record's OPD is its kerja sama's, fixed once a naskah of it is signed
(``access.require_case_editable``): the record now carries it, normalised as ``kerja_sama.opd_key``
(filled here from the kerja sama, at archiving by ``archive.archive_naskah``), indexed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0022_arsip_fast"
down_revision: str | Sequence[str] | None = "0021_notif_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("arsip", sa.Column("opd_key", sa.String(length=200), nullable=False, server_default=""))
    op.execute(
        "UPDATE arsip SET opd_key = "
        "(SELECT kerja_sama.opd_key FROM kerja_sama WHERE kerja_sama.id = arsip.kerja_sama_id)"
    )
    op.create_index(op.f("ix_arsip_opd_key"), "arsip", ["opd_key"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_arsip_opd_key"), table_name="arsip")
    with op.batch_alter_table("arsip") as batch:
        batch.drop_column("opd_key")
