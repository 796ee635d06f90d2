"""signatures bound to the person: NIK of users and of a party's signer, registered certificates

Revision ID: 0009_identity
Revises: 0008_desk
Create Date: 2026-12-07 01:00:00

A Bupati or a company director has a NIK, not a NIP; PSrE certificates carry one of the two in
the subject's serialNumber (``pipeline.identity``).  An admin may register a certificate's
sha256 fingerprint for a user.  (``signature_step.signed_field``, the field a signature really sits
in, came with 0008_desk.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009_identity"
down_revision: str | Sequence[str] | None = "0008_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("users", sa.Column("nik", sa.String(length=32), nullable=True))
    op.add_column("pihak", sa.Column("penandatangan_nik", sa.String(length=32), nullable=True))
    op.create_table(
        "user_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "sha256"),
    )
    op.create_index(op.f("ix_user_certificate_user_id"), "user_certificate", ["user_id"], unique=False)
    op.create_index(op.f("ix_user_certificate_sha256"), "user_certificate", ["sha256"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_user_certificate_sha256"), table_name="user_certificate")
    op.drop_index(op.f("ix_user_certificate_user_id"), table_name="user_certificate")
    op.drop_table("user_certificate")
    with op.batch_alter_table("pihak") as batch:
        batch.drop_column("penandatangan_nik")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("nik")
