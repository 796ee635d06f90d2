"""paraf, signature plan, events, derived files

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:55:47.362420

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "naskah_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["naskah_id"],
            ["naskah.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("naskah_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_naskah_event_naskah_id"), ["naskah_id"], unique=False)

    op.create_table(
        "naskah_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("version_id", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["naskah_id"],
            ["naskah.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("naskah_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_naskah_file_naskah_id"), ["naskah_id"], unique=False)

    op.create_table(
        "paraf",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("revision_sha256", sa.String(length=64), nullable=False),
        sa.Column("urutan", sa.Integer(), nullable=False),
        sa.Column("posisi", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nama", sa.String(length=200), nullable=False),
        sa.Column("jabatan", sa.String(length=200), nullable=False),
        sa.Column("singkatan", sa.String(length=64), nullable=False),
        sa.Column("inisial", sa.String(length=16), nullable=False),
        sa.Column("waktu", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["naskah_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["naskah_id"],
            ["naskah.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("paraf", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paraf_naskah_id"), ["naskah_id"], unique=False)

    op.create_table(
        "signature_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("naskah_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("final_file_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["final_file_id"],
            ["naskah_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["naskah_id"],
            ["naskah.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("naskah_id"),
    )
    op.create_table(
        "signature_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("urutan", sa.Integer(), nullable=False),
        sa.Column("pihak_urutan", sa.Integer(), nullable=False),
        sa.Column("field_name", sa.String(length=64), nullable=False),
        sa.Column("nama", sa.String(length=200), nullable=False),
        sa.Column("jabatan", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("kuasa_naskah_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signer_subject", sa.String(length=300), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["naskah_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["kuasa_naskah_id"],
            ["naskah.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["signature_plan.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "urutan"),
    )
    with op.batch_alter_table("signature_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signature_step_plan_id"), ["plan_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posisi", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("posisi")

    with op.batch_alter_table("signature_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signature_step_plan_id"))

    op.drop_table("signature_step")
    op.drop_table("signature_plan")
    with op.batch_alter_table("paraf", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paraf_naskah_id"))

    op.drop_table("paraf")
    with op.batch_alter_table("naskah_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_naskah_file_naskah_id"))

    op.drop_table("naskah_file")
    with op.batch_alter_table("naskah_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_naskah_event_naskah_id"))

    op.drop_table("naskah_event")
