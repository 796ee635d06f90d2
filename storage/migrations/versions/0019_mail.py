"""notifikasi, users.email: notifications in the web inbox and the mail outbox

Revision ID: 0019_mail
Revises: 0018_bench
Create Date: 2026-12-07 07:30:00

Issue 15 (notifications): whoever's turn it is gets a notification, written in the transaction of the
step (``notifikasi``: the inbox entry and the queued mail, with its attempts and last error), and mailed
to ``users.email`` unless they turned mail off (``users.email_notifikasi``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019_mail"
down_revision: str | Sequence[str] | None = "0018_bench"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # plain ADD COLUMN (SQLite has it): a batch copy of ``users`` drops the table, which SQLite refuses
    # while rows of other tables refer to it (foreign keys are on)
    op.add_column("users", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column("users", sa.Column("email_notifikasi", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "notifikasi",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("kunci", sa.String(length=200), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_to", sa.String(length=254), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["naskah_id"], ["naskah.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notifikasi_naskah_id", "notifikasi", ["naskah_id"], unique=False)
    op.create_index("ix_notifikasi_user_kunci", "notifikasi", ["user_id", "kunci"], unique=False)
    op.create_index("ix_notifikasi_outbox", "notifikasi", ["mail_status", "next_attempt_at"], unique=False)
    op.create_index("ix_notifikasi_unread", "notifikasi", ["user_id", "read_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_notifikasi_unread", table_name="notifikasi")
    op.drop_index("ix_notifikasi_outbox", table_name="notifikasi")
    op.drop_index("ix_notifikasi_user_kunci", table_name="notifikasi")
    op.drop_index("ix_notifikasi_naskah_id", table_name="notifikasi")
    op.drop_table("notifikasi")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_notifikasi")
        batch.drop_column("email")
