"""user_certificate.issuer, .serial: what the admin's signer overview shows of a registered certificate

Revision ID: 0017_admin
Revises: 0016_intake
Create Date: 2026-12-07 07:20:00

Issue 14 (administration): the page "Penanda tangan" lists every registered certificate with its
subject, issuer, serial and expiry.  The issuer and serial are kept when the certificate itself is
registered (empty for one registered by its sha256 alone, and for rows registered before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017_admin"
down_revision: str | Sequence[str] | None = "0016_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("user_certificate") as batch:
        batch.add_column(sa.Column("issuer", sa.String(length=500), nullable=False, server_default=""))
        batch.add_column(sa.Column("serial", sa.String(length=80), nullable=False, server_default=""))
    with op.batch_alter_table("user_certificate") as batch:
        batch.alter_column("issuer", server_default=None)
        batch.alter_column("serial", server_default=None)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("user_certificate") as batch:
        batch.drop_column("serial")
        batch.drop_column("issuer")
