"""a party's lambang (the emblem printed at the head of its naskah)

Revision ID: 0007_layout
Revises: 0006_dates
Create Date: 2026-12-07 01:00:00

The image itself lives in the object store; the pihak row keeps where (key, version id),
its sha256 (checked on every read) and its type (image/png or image/jpeg).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007_layout"
down_revision: str | Sequence[str] | None = "0006_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("pihak") as batch:
        batch.add_column(sa.Column("lambang_key", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("lambang_version_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lambang_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lambang_type", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("pihak") as batch:
        batch.drop_column("lambang_type")
        batch.drop_column("lambang_sha256")
        batch.drop_column("lambang_version_id")
        batch.drop_column("lambang_key")
