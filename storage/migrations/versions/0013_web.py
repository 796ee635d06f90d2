"""web sign-in: users.password_hash, web_session, signin_failure

Revision ID: 0013_web
Revises: 0012_writes
Create Date: 2026-12-07 04:00:00

The browser pages (issue 13) sign people in with a username and password: the password is kept as
an argon2id hash on the user; each signed-in browser is a ``web_session`` row holding only the
sha256 of its session id (revocable: deleting the row signs it out); failed sign-ins are rows of
``signin_failure`` counted per username and per address, shared by every process.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013_web"
down_revision: str | Sequence[str] | None = "0012_writes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_web_session_id_hash"), "web_session", ["id_hash"], unique=True)
    op.create_index(op.f("ix_web_session_user_id"), "web_session", ["user_id"], unique=False)
    op.create_table(
        "signin_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signin_failure_key_at", "signin_failure", ["key", "at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_signin_failure_key_at", table_name="signin_failure")
    op.drop_table("signin_failure")
    op.drop_index(op.f("ix_web_session_user_id"), table_name="web_session")
    op.drop_index(op.f("ix_web_session_id_hash"), table_name="web_session")
    op.drop_table("web_session")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_hash")
