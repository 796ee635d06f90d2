"""notifikasi.usulan_id, notifikasi.monev_round_id: notifications of the intake and of monev

Revision ID: 0021_notif_more
Revises: 0020_monev
Create Date: 2026-12-07 15:40:00

A notification is about a naskah, an usulan of the intake (a disposisi received, a telaah to write, a
decision to make) or a monev round (a report due, an evaluation to make, a tindak lanjut overdue): the
two new columns say which, so the sender can check at sending time that its recipient may still see it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0021_notif_more"
down_revision: str | Sequence[str] | None = "0020_monev"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # batch mode: SQLite adds a foreign key only by copying the table (nothing refers to notifikasi)
    with op.batch_alter_table("notifikasi") as batch:
        batch.add_column(sa.Column("usulan_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("monev_round_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_notifikasi_usulan_id_usulan", "usulan", ["usulan_id"], ["id"])
        batch.create_foreign_key("fk_notifikasi_monev_round_id_monev_round", "monev_round", ["monev_round_id"], ["id"])
        batch.create_index("ix_notifikasi_usulan_id", ["usulan_id"], unique=False)
        batch.create_index("ix_notifikasi_monev_round_id", ["monev_round_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("notifikasi") as batch:
        batch.drop_index("ix_notifikasi_monev_round_id")
        batch.drop_index("ix_notifikasi_usulan_id")
        batch.drop_constraint("fk_notifikasi_monev_round_id_monev_round", type_="foreignkey")
        batch.drop_constraint("fk_notifikasi_usulan_id_usulan", type_="foreignkey")
        batch.drop_column("monev_round_id")
        batch.drop_column("usulan_id")
