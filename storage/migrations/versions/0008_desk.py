"""where the counterparty's signature sits: field, page, whether it shows

Revision ID: 0008_desk
Revises: 0007_layout
Create Date: 2026-12-07 01:00:00

Desk to desk, the counterparty may sign our prepared field or a field its own software
creates (poppler's ``pdfsig -add-signature``, BSrE v1), visibly or not; the import records
which field and page carry the signature so that the plan, the API and the history can say it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008_desk"
down_revision: str | Sequence[str] | None = "0007_layout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("signature_step", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_field", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("signed_page", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signed_visible", sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("signature_step", schema=None) as batch_op:
        batch_op.drop_column("signed_visible")
        batch_op.drop_column("signed_page")
        batch_op.drop_column("signed_field")
