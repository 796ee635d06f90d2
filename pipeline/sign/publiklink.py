"""The public token of a naskah and what its QR code encodes (``pipeline.archival.publik`` says why).

Kept apart from ``pipeline.archival.publik`` so that signing (``pipeline.sign.signature_plan``) can ask for the QR
reference without importing verification.
"""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pipeline.models import PublicLink

__all__ = ["FALLBACK_PREFIX", "link_token", "qr_reference"]

#: What the QR code holds when no public address is configured: ``naskah:v:<token>``.
FALLBACK_PREFIX = "naskah:v:"
_TOKEN_BYTES = 18  # 144 random bits, 24 URL-safe characters


# -- the token and the QR code ------------------------------------------------------------------


def link_token(session: Session, naskah_id: int) -> str:
    """The naskah's public token, made (random) the first time it is asked for.  Two requests making it
    at once: the unique index keeps one, and the loser reads the winner's."""
    row = session.exec(select(PublicLink).where(PublicLink.naskah_id == naskah_id)).first()
    if row is not None:
        return row.token
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    try:
        with session.begin_nested():
            session.add(PublicLink(naskah_id=naskah_id, token=token))
    except IntegrityError:
        row = session.exec(select(PublicLink).where(PublicLink.naskah_id == naskah_id)).one()
        return row.token
    return token


def qr_reference(public_url: str, token: str) -> str:
    """What the QR code of a signature block encodes: the public page's address, or without a
    configured ``NASKAH_PUBLIC_URL`` the fallback ``naskah:v:<token>``."""
    base = public_url.strip().rstrip("/")
    return f"{base}/v/{token}" if base else f"{FALLBACK_PREFIX}{token}"
