"""preview, preview_page: page images of a PDF rendered once per sha256 and cached

Revision ID: 0013_preview
Revises: 0012_writes
Create Date: 2026-12-08 03:00:00

Issue 13 (web workspace, preview): each revision's and each current file's pages are rendered by
poppler once per PDF sha256 (and rendering variant) and kept in the object store; these rows name
the images (so housekeeping keeps them), hold each page's text for screen readers, and are the
lease that makes concurrent first views render once across API processes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013_preview"
down_revision: str | Sequence[str] | None = "0013_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "preview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("rendered_pages", sa.Integer(), nullable=False),
        sa.Column("render_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pdf_sha256", "variant"),
    )
    op.create_index(op.f("ix_preview_pdf_sha256"), "preview", ["pdf_sha256"], unique=False)
    op.create_table(
        "preview_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preview_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("image_key", sa.String(length=512), nullable=False),
        sa.Column("image_version_id", sa.String(length=200), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("thumb_width", sa.Integer(), nullable=False),
        sa.Column("thumb_height", sa.Integer(), nullable=False),
        sa.Column("thumb_key", sa.String(length=512), nullable=False),
        sa.Column("thumb_version_id", sa.String(length=200), nullable=False),
        sa.Column("thumb_sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["preview_id"], ["preview.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("preview_id", "number"),
    )
    op.create_index(op.f("ix_preview_page_preview_id"), "preview_page", ["preview_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema (the cached images stay in the object store; housekeeping may then remove them)."""
    op.drop_index(op.f("ix_preview_page_preview_id"), table_name="preview_page")
    op.drop_table("preview_page")
    op.drop_index(op.f("ix_preview_pdf_sha256"), table_name="preview")
    op.drop_table("preview")
