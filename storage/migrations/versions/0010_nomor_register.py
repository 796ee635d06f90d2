"""naskah_nomor.register_key: one nomor per party's register (unique)

Revision ID: 0010_nomor_register
Revises: 0009_identity
Create Date: 2026-12-07 01:00:00

Each party numbers a naskah in its own register, so the same nomor of the same party on two
naskah is a mistake (issue 11 §5).  ``register_key`` is the party's instansi and the nomor,
normalised (``pipeline.drafting.cases.register_key``), with a unique index: the database, not only the
check before the insert, refuses the second one, also when two drafters race.  NULL for the nomor
of a cancelled naskah (its nomor is free again).

Existing rows get their key in id order; a row whose key an older live naskah already holds keeps
NULL (logged), so the upgrade never fails on data that predates the rule.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010_nomor_register"
down_revision: str | Sequence[str] | None = "0009_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _key(instansi: str, nomor: str) -> str:
    # the same normalisation as pipeline.drafting.cases.register_key (a migration must not import the app)
    return " ".join(instansi.split()).casefold() + "|" + "".join(nomor.split()).casefold()


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("naskah_nomor", sa.Column("register_key", sa.String(length=510), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT naskah_nomor.id, pihak.instansi, naskah_nomor.nomor FROM naskah_nomor "
            "JOIN pihak ON pihak.id = naskah_nomor.pihak_id JOIN naskah ON naskah.id = naskah_nomor.naskah_id "
            "WHERE naskah.status <> 'cancelled' ORDER BY naskah_nomor.id"
        )
    ).all()
    seen: set[str] = set()
    for row_id, instansi, nomor in rows:
        key = _key(instansi, nomor)
        if key in seen:
            log.warning(
                "naskah_nomor %s: nomor %r of %r is already used; left without register_key", row_id, nomor, instansi
            )
            continue
        seen.add(key)
        bind.execute(sa.text("UPDATE naskah_nomor SET register_key = :key WHERE id = :id"), {"key": key, "id": row_id})
    op.create_index("ux_naskah_nomor_register_key", "naskah_nomor", ["register_key"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ux_naskah_nomor_register_key", table_name="naskah_nomor")
    with op.batch_alter_table("naskah_nomor") as batch:
        batch.drop_column("register_key")
