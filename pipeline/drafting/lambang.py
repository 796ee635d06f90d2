"""Each party's lambang: the emblem printed at the head of its naskah.

Given with the case (an upload per pihak), checked like every upload: size, type by magic
number (PNG or JPEG only), and decoded by Pillow so a file that merely starts like an image,
a decompression bomb or a 1-pixel placeholder is refused with a reason.  The image is kept in
the object store (versioned, sha256 checked on every read) and referenced from the pihak row.

Rendering stays sandboxed: ``pipeline.drafting.revisions`` reads the bytes and passes them to
``pipeline.drafting.templates.render_docx`` as "image" fields (``lambang_pihak_kesatu``,
``lambang_pihak_kedua``); template code never opens a file.  A party without a lambang gets
no image, not a broken one.
"""

from __future__ import annotations

import io
import logging
import warnings
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from pipeline import access, audit
from pipeline.auth import require
from pipeline.drafting.cases import get_case, pihak_of
from pipeline.drafting.templates import image_type
from pipeline.errors import DocumentRejected, DocumentTooLarge, NotFound
from pipeline.models import KerjaSama, Pihak, User
from storage.db import session_scope

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = ["MAX_LAMBANG_BYTES", "check_lambang", "upload_lambang"]

log = logging.getLogger(__name__)

MAX_LAMBANG_BYTES = 2 * 1024 * 1024
"""A lambang printed 2 cm high needs far less; anything bigger is a mistake (a scan, a photo)."""
MIN_SIDE, MAX_SIDE = 32, 4000
"""Pixels: smaller prints as a blur, larger is no lambang (and a decompression bomb past Pillow's limit)."""


def _reject(message: str, reason: str, **detail: object) -> DocumentRejected:
    return DocumentRejected(message, reason=reason, **detail)


def check_lambang(data: bytes) -> str:
    """The MIME type of an acceptable lambang (image/png or image/jpeg); raises with ``detail.reason`` otherwise."""
    if len(data) > MAX_LAMBANG_BYTES:
        raise DocumentTooLarge(
            f"Berkas lambang berukuran {len(data) / 1024 / 1024:.1f} MB, melebihi batas "
            f"{MAX_LAMBANG_BYTES / 1024 / 1024:.0f} MB.",
            reason="too_large",
            size=len(data),
            limit=MAX_LAMBANG_BYTES,
        )
    if not data:
        raise _reject("Berkas lambang kosong.", "empty")
    mime = image_type(data)
    if mime is None:
        raise _reject("Lambang harus berupa gambar PNG atau JPEG.", "not_an_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                    raise _reject(
                        f"Ukuran lambang {width} x {height} piksel; yang dapat dipakai antara {MIN_SIDE} dan "
                        f"{MAX_SIDE} piksel per sisi.",
                        "bad_size",
                        width=width,
                        height=height,
                    )
                image.load()  # decodes the whole image: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _reject(
            "Berkas lambang rusak dan tidak dapat dibaca; simpan ulang sebagai PNG atau JPEG.",
            "unreadable",
            diagnostic=f"{type(exc).__name__}: {exc}",
        ) from None
    except Image.DecompressionBombWarning:
        raise _reject("Ukuran gambar lambang tidak wajar.", "bad_size") from None
    return mime


def upload_lambang(svc: Services, user: User, case_id: int, urutan: int, data: bytes) -> Pihak:
    """Store ``data`` as the lambang of party ``urutan`` of the case (a new version replaces the old).

    Used by the next revision rendered; revisions already made keep the lambang they were rendered with.
    Only the case's drafters, and not once a naskah made from the case is signed (``pipeline.access``).
    """
    require(user, "edit_case")
    with session_scope(svc.engine) as session:
        case = get_case(session, user, case_id, profile=svc.profile)
        access.require_case_editor(session, user, case)
        access.require_case_editable(session, case)
        pihak = _pihak(session, case_id, urutan)
    mime = check_lambang(data)
    ext = "png" if mime == "image/png" else "jpg"
    stored = svc.put(f"kerja_sama/{case_id}/pihak/{urutan}/lambang.{ext}", data, mime)
    with session_scope(svc.engine) as session:
        frozen = session.get(KerjaSama, case_id)
        assert frozen is not None
        access.require_case_editable(session, frozen)  # signed while the image was being stored
        row = session.get(Pihak, pihak.id)
        assert row is not None
        row.lambang_key, row.lambang_version_id = stored.key, stored.version_id
        row.lambang_sha256, row.lambang_type = stored.sha256, mime
        session.add(row)
        audit.record(
            session,
            user,
            audit.AuditAction.EDIT_CASE,
            kerja_sama_id=case_id,
            fields=[f"pihak[{urutan}].lambang"],
            sha256=stored.sha256,
        )
        session.flush()
        session.refresh(row)
        session.expunge(row)
    log.info("lambang of pihak %s of case %s stored (%s, %s)", urutan, case_id, mime, stored.sha256[:12])
    return row


def _pihak(session: Session, case_id: int, urutan: int) -> Pihak:
    for p in pihak_of(session, case_id):
        if p.urutan == urutan:
            return p
    raise NotFound(f"Kerja sama {case_id} tidak memiliki pihak ke-{urutan}.", kerja_sama_id=case_id, urutan=urutan)
