"""Column types that behave the same on SQLite and PostgreSQL.

``UtcDateTime``: a point in time, stored as ``TIMESTAMP WITH TIME ZONE`` (PostgreSQL) or as
text (SQLite, which has no time zones), and always handed back timezone-aware in UTC.

Why: PostgreSQL returns aware datetimes (in the session's zone), SQLite returns naive ones,
and SQLite's driver also *writes* an aware datetime as its wall-clock digits with the offset
dropped (23:59 WITA was stored as "23:59", read back as 23:59 UTC).  Code that printed
"the date of a paraf" in the region's zone then printed different days for the same instant
depending on whether the value came from memory or from the database.  With this type every
value is converted to UTC on the way in and comes back aware in UTC on both databases.

A naive datetime is refused on the way in (``ValueError``): it does not say which instant it
means, and guessing is exactly how the wrong dates were printed.  Use
``datetime.now(UTC)`` (``pipeline.models.utcnow``) or attach the zone the value was read in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["UtcDateTime"]


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores UTC and returns aware UTC datetimes on every database."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime expects a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: a stored time needs its time zone "
                "(zona waktu), e.g. datetime.now(UTC)"
            )
        value = value.astimezone(UTC)
        # SQLite stores the digits only: write UTC digits, and read them back as UTC below.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: the UTC digits written above
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime
