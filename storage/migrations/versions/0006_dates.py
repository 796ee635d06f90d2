"""signing date stated by the naskah on the plan; day and date note of each signature

Revision ID: 0006_dates
Revises: 0005
Create Date: 2026-12-07 09:00:00

``signature_plan.tanggal_naskah``: the date the naskah's text states (tatap muka is signed on it;
desk to desk on another day needs a confirmation with a note).  ``signature_step.tanggal_ttd``:
the day a signature was made, in the SOP profile's zone; ``signature_step.catatan_tanggal``: the
note confirming a signature made on another day than the stated one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006_dates"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("signature_plan") as batch:
        batch.add_column(sa.Column("tanggal_naskah", sa.Date(), nullable=True))
    with op.batch_alter_table("signature_step") as batch:
        batch.add_column(sa.Column("tanggal_ttd", sa.Date(), nullable=True))
        batch.add_column(sa.Column("catatan_tanggal", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("signature_step") as batch:
        batch.drop_column("catatan_tanggal")
        batch.drop_column("tanggal_ttd")
    with op.batch_alter_table("signature_plan") as batch:
        batch.drop_column("tanggal_naskah")
