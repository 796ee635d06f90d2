"""Page previews: a revision's PDF (or the naskah's current file) as page images with their text.

Officials read the naskah before they act: Bagian Hukum a revision, the official whose turn it is
the page as stamped so far before "Beri paraf", everyone the signed file after signing.  Browsers
on phones do not show PDFs inline, and screen readers get nothing from an image, so each page comes
as a PNG (and a thumbnail) with the page's text beside it.

Rendered once per PDF, cached for every process.  The cache is keyed by the PDF's sha256 and the
rendering variant (``PreviewLimits.variant``: resolution and thumbnail size), so two revisions
(or a revision and a file) with the same bytes share it, and a changed setting makes a new one.
Its images live in the object store (``preview/<sha256>/<variant>/p0001.png``, ``…/t0001.png``),
shared by every API process behind a load balancer like every other object, and each is named by
a ``preview_page`` row, so the orphan cleanup (``pipeline.archival.cleanup``) keeps them.  The ``preview``
row is the lock: the request that inserts it renders (holding a lease it renews while it works),
every other request for that PDF, in this process or another, waits until the row is complete;
a lease whose holder died expires and is taken over.  So two first views render once.

Reading a cached image checks its sha256 like every stored object; a cached image that is missing
or damaged is not an error for the reader: the cache of that PDF is dropped and rendered again.
The PDF itself missing or damaged in the store is ``StorageUnavailable`` (503) saying so, with the
integrity alarm in the log (``pipeline.errors.store_errors``).

Who sees what is :mod:`pipeline.access`'s: a revision's pages are internal drafting material (as
the revision's PDF is: a counterparty official gets 403 ``internal_only``), the current file is
what is put before the signers; a naskah the user may not see is 404.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pipeline import access
from pipeline.approval.paraf import active_paraf
from pipeline.drafting.cases import get_naskah
from pipeline.drafting.revisions import get_revision, latest_complete
from pipeline.errors import IntegrityAlarm, NotFound, ServiceUnavailable, StorageUnavailable
from pipeline.models import NaskahFile, Preview, PreviewPage, Revision, User, utcnow
from pipeline.pdf.pagerender import RenderedDocument
from pipeline.sign.signature_plan import current_file, get_plan
from pipeline.sop import Profile
from storage.db import session_scope

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "PAGE_TYPE",
    "PageImage",
    "PageInfo",
    "PreviewDocument",
    "PreviewSource",
    "current_source",
    "document",
    "ensure_rendered",
    "page_etag",
    "page_image",
    "revision_source",
]

log = logging.getLogger(__name__)

PAGE_TYPE = "image/png"
COMPLETE, RENDERING = "complete", "rendering"
POLL_S = (0.05, 0.1, 0.2, 0.3, 0.5)  # a waiter's pauses between looks at the lease row, then 0.5 s

#: What each kind of file is called where a person reads it.
FILE_LABEL = {
    "paraf": "PDF setelah paraf ke-{step}",
    "final": "PDF final (semua paraf)",
    "signed": "PDF bertanda tangan (tanda tangan ke-{step})",
    "imported": "PDF bertanda tangan mitra (tanda tangan ke-{step})",
}


@dataclass(frozen=True)
class PreviewSource:
    """The PDF a preview shows: where it is stored and what it is."""

    naskah_id: int
    kind: str
    """``revisi`` (a revision's PDF/A) or the ``naskah_file`` kind: ``paraf``, ``final``, ``signed``, ``imported``."""
    revision_number: int
    step: int
    """The paraf or signature urutan a derived file was made by (0 for a revision)."""
    key: str
    version_id: str
    sha256: str
    label: str
    """What it is, in Indonesian ("Revisi 3", "PDF setelah paraf ke-2", "PDF final (semua paraf)")."""


@dataclass(frozen=True)
class PageInfo:
    """One rendered page as a page builder shows it."""

    number: int
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    text: str
    etag: str
    """The image's entity tag (quoted), the same as the image response's ``ETag``."""
    thumb_etag: str


@dataclass(frozen=True)
class PreviewDocument:
    source: PreviewSource
    page_count: int
    """Pages of the PDF, all of them."""
    pages: list[PageInfo]
    """The rendered ones: the first ``NASKAH_PREVIEW_MAX_PAGES``."""
    dpi: int
    variant: str

    @property
    def truncated(self) -> bool:
        """Whether the PDF has more pages than were rendered (open the PDF itself for the rest)."""
        return self.page_count > len(self.pages)


@dataclass(frozen=True)
class PageImage:
    """A page's PNG (or thumbnail); ``data`` is None when the caller already has it (``etag`` matched)."""

    data: bytes | None
    etag: str
    sha256: str
    width: int
    height: int

    @property
    def not_modified(self) -> bool:
        return self.data is None


# -- which PDF ---------------------------------------------------------------------------------------


def revision_source(session: Session, user: User, naskah_id: int, number: int, *, profile: Profile) -> PreviewSource:
    """A revision's PDF/A: internal drafting material, seen as its download is (``revisions.get_revision``)."""
    rev = get_revision(session, user, naskah_id, number, profile=profile)
    return _revision(rev)


def _revision(rev: Revision) -> PreviewSource:
    assert rev.pdf_version_id is not None  # a complete revision has both objects
    return PreviewSource(
        naskah_id=rev.naskah_id,
        kind="revisi",
        revision_number=rev.number,
        step=0,
        key=rev.pdf_key,
        version_id=rev.pdf_version_id,
        sha256=rev.pdf_sha256,
        label=f"Revisi {rev.number}",
    )


def current_source(session: Session, user: User, naskah_id: int, *, profile: Profile) -> PreviewSource:
    """The naskah as it stands now: the newest signed file once there is a signature plan (else its
    final PDF), during paraf the PDF stamped with the paraf given so far, before that the latest
    revision's PDF (internal: a counterparty official sees a naskah only once it has a plan)."""
    get_naskah(session, user, naskah_id, profile=profile)
    plan = get_plan(session, naskah_id)
    file: NaskahFile | None = None
    if plan is not None:
        file = current_file(session, plan)
    else:
        given = active_paraf(session, naskah_id)
        if given and given[-1].file_id is not None:
            file = session.get(NaskahFile, given[-1].file_id)
    if file is not None:
        return PreviewSource(
            naskah_id=naskah_id,
            kind=file.kind,
            revision_number=file.revision_number,
            step=file.step,
            key=file.key,
            version_id=file.version_id,
            sha256=file.sha256,
            label=FILE_LABEL.get(file.kind, "PDF {kind}").format(step=file.step, kind=file.kind),
        )
    access.require_internal(user, naskah_id)
    rev = latest_complete(session, naskah_id)
    if rev is None:
        raise NotFound(f"Naskah {naskah_id} belum memiliki revisi untuk ditampilkan.", naskah_id=naskah_id)
    return _revision(rev)


# -- the cache -----------------------------------------------------------------------------------


def page_etag(sha256: str, variant: str, number: int, *, thumb: bool = False) -> str:
    """The entity tag of one page image: which PDF, how rendered, which page (quoted, as HTTP sends it)."""
    return f'"{sha256}-{variant}-{"t" if thumb else "p"}{number}"'


def _key(sha256: str, variant: str, number: int, *, thumb: bool) -> str:
    return f"preview/{sha256}/{variant}/{'t' if thumb else 'p'}{number:04d}.png"


def _lease(svc: Services) -> timedelta:
    """How long a render may hold the lock before another request takes it over: three poppler runs
    at their time limit and the encoding, renewed before the puts and while they go on."""
    timeout = svc.page_renderer.limits.timeout_s
    return timedelta(seconds=3 * timeout + min(60.0, timeout))


def _find(session: Session, sha256: str, variant: str) -> Preview | None:
    return session.exec(select(Preview).where(Preview.pdf_sha256 == sha256, Preview.variant == variant)).first()


def _pages(session: Session, preview_id: int) -> list[PreviewPage]:
    return list(
        session.exec(
            select(PreviewPage).where(PreviewPage.preview_id == preview_id).order_by(col(PreviewPage.number))
        ).all()
    )


def _take(svc: Services, source: PreviewSource, variant: str, me: str) -> tuple[Preview | None, int | None]:
    """One look at the lock row: (the complete preview, None), or (None, id of the row now ours to
    render), or (None, None) when another request is rendering it."""
    now = utcnow()
    with session_scope(svc.engine) as session:
        row = _find(session, source.sha256, variant)
        if row is not None and row.state == COMPLETE:
            return row, None
        if row is not None:
            if row.lease_until > now:
                return None, None
            taken = session.execute(
                update(Preview)
                .where(
                    col(Preview.id) == row.id,
                    col(Preview.owner) == row.owner,
                    col(Preview.state) == RENDERING,
                )
                .values(owner=me, lease_until=now + _lease(svc))
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                log.warning("preview of %s: lease of %s expired, taken over", source.sha256[:12], row.owner)
                return None, row.id
            return None, None
    try:
        with session_scope(svc.engine) as session:
            row = Preview(pdf_sha256=source.sha256, variant=variant, owner=me, lease_until=now + _lease(svc))
            session.add(row)
            session.flush()
            return None, row.id
    except IntegrityError:  # another request (in any process) inserted it first: it renders
        return None, None


def _renew(svc: Services, preview_id: int, me: str) -> None:
    with session_scope(svc.engine) as session:
        session.execute(
            update(Preview)
            .where(col(Preview.id) == preview_id, col(Preview.owner) == me)
            .values(lease_until=utcnow() + _lease(svc))
        )


def _release(svc: Services, preview_id: int, me: str) -> None:
    """Give the lock up after a failed render, so that the next request tries again (best effort)."""
    try:
        with session_scope(svc.engine) as session:
            session.execute(
                delete(Preview).where(
                    col(Preview.id) == preview_id, col(Preview.owner) == me, col(Preview.state) == RENDERING
                )
            )
    except Exception:  # the database may be what failed; the lease expires by itself
        log.exception("could not release the preview lease %s", preview_id)


def _read_source(svc: Services, source: PreviewSource) -> bytes:
    """The PDF's bytes; missing or damaged in the store is a storage error that says so (503)."""
    try:
        return svc.get(source.key, source.version_id, source.sha256)
    except NotFound as exc:
        raise StorageUnavailable(
            f"Pratinjau tidak dapat dibuat: berkas {source.label} naskah {source.naskah_id} tidak ada di "
            "penyimpanan. Laporkan kepada admin.",
            reason="source_missing",
            key=source.key,
        ) from exc
    except IntegrityAlarm as exc:
        raise StorageUnavailable(
            f"Pratinjau tidak dapat dibuat: berkas {source.label} naskah {source.naskah_id} di penyimpanan tidak "
            "sama lagi dengan yang tercatat (sha256 berbeda), maka tidak ditampilkan. Laporkan kepada admin.",
            reason="source_damaged",
            key=source.key,
            sha256=source.sha256,
        ) from exc


def _render_and_store(svc: Services, source: PreviewSource, preview_id: int, me: str, variant: str) -> bool:
    """Render the PDF, store every page, and complete the row if the lease is still ours (True)."""
    rendered: RenderedDocument = svc.page_renderer.render(_read_source(svc, source))
    _renew(svc, preview_id, me)
    rows: list[PreviewPage] = []
    for i, page in enumerate(rendered.pages, start=1):
        image = svc.put(_key(source.sha256, variant, page.number, thumb=False), page.png, PAGE_TYPE)
        thumb = svc.put(_key(source.sha256, variant, page.number, thumb=True), page.thumb_png, PAGE_TYPE)
        rows.append(
            PreviewPage(
                preview_id=preview_id,
                number=page.number,
                width=page.width,
                height=page.height,
                image_key=image.key,
                image_version_id=image.version_id,
                image_sha256=image.sha256,
                thumb_width=page.thumb_width,
                thumb_height=page.thumb_height,
                thumb_key=thumb.key,
                thumb_version_id=thumb.version_id,
                thumb_sha256=thumb.sha256,
                text=page.text,
            )
        )
        if i % 20 == 0:
            _renew(svc, preview_id, me)
    with session_scope(svc.engine) as session:
        done = session.execute(
            update(Preview)
            .where(col(Preview.id) == preview_id, col(Preview.owner) == me, col(Preview.state) == RENDERING)
            .values(
                state=COMPLETE,
                page_count=rendered.page_count,
                rendered_pages=len(rows),
                render_ms=rendered.elapsed_ms,
                completed_at=utcnow(),
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            # our lease expired and another request took over: its render counts, ours is left to the cleanup
            session.rollback()
            log.warning("preview of %s: lease lost while rendering; the other render is kept", source.sha256[:12])
            return False
        session.add_all(rows)
    return True


def ensure_rendered(svc: Services, source: PreviewSource) -> tuple[Preview, list[PreviewPage]]:
    """The cached preview of ``source``'s PDF, rendered first if no process has done it yet.

    Renders at most once per sha256 and variant across processes (see the module docstring); a
    request that waits longer than a render may take is told to try again (503 ``preview_busy``).
    """
    variant = svc.page_renderer.limits.variant
    me = secrets.token_hex(16)
    deadline = time.monotonic() + _lease(svc).total_seconds()
    pause = iter(POLL_S)
    while True:
        complete, mine = _take(svc, source, variant, me)
        if complete is not None:
            with session_scope(svc.engine) as session:
                return complete, _pages(session, complete.id or 0)
        if mine is not None:
            try:
                finished = _render_and_store(svc, source, mine, me, variant)
            except BaseException:
                _release(svc, mine, me)
                raise
            if finished:
                continue  # read it back like everyone else
        if time.monotonic() > deadline:
            raise ServiceUnavailable(
                "Pratinjau naskah ini sedang dibuat dan belum selesai. Coba lagi beberapa saat lagi.",
                reason="preview_busy",
                sha256=source.sha256,
            )
        time.sleep(next(pause, POLL_S[-1]))


def _drop(svc: Services, preview_id: int) -> None:
    """Forget a cache whose image is missing or damaged, so that it is rendered again (its other
    images are then unreferenced versions, for the cleanup)."""
    with session_scope(svc.engine) as session:
        session.execute(delete(PreviewPage).where(col(PreviewPage.preview_id) == preview_id))
        session.execute(delete(Preview).where(col(Preview.id) == preview_id))


def _document(svc: Services, source: PreviewSource, preview: Preview, rows: list[PreviewPage]) -> PreviewDocument:
    limits = svc.page_renderer.limits
    pages = [
        PageInfo(
            number=r.number,
            width=r.width,
            height=r.height,
            thumb_width=r.thumb_width,
            thumb_height=r.thumb_height,
            text=r.text,
            etag=page_etag(source.sha256, preview.variant, r.number),
            thumb_etag=page_etag(source.sha256, preview.variant, r.number, thumb=True),
        )
        for r in rows
    ]
    return PreviewDocument(
        source=source, page_count=preview.page_count, pages=pages, dpi=limits.dpi, variant=preview.variant
    )


def document(svc: Services, source: PreviewSource) -> PreviewDocument:
    """Every rendered page of ``source`` with its size and text (rendering it first if need be)."""
    preview, rows = ensure_rendered(svc, source)
    return _document(svc, source, preview, rows)


def page_image(
    svc: Services, source: PreviewSource, number: int, *, thumb: bool = False, known: Collection[str] = ()
) -> PageImage:
    """One page's PNG (``thumb``: its thumbnail), or only its entity tag when it is in ``known``
    (the client's ``If-None-Match``).  A page the PDF does not have, or that was not rendered
    (past ``NASKAH_PREVIEW_MAX_PAGES``), is NotFound saying how many there are."""
    for attempt in (1, 2):
        preview, rows = ensure_rendered(svc, source)
        row = next((r for r in rows if r.number == number), None)
        if row is None:
            if number <= preview.page_count:
                raise NotFound(
                    f"Pratinjau hanya memuat {len(rows)} halaman pertama dari {preview.page_count}; buka berkas "
                    "PDF-nya untuk halaman berikutnya.",
                    reason="page_not_rendered",
                    page=number,
                    rendered_pages=len(rows),
                    page_count=preview.page_count,
                )
            raise NotFound(
                f"Halaman {number} tidak ada: {source.label} memiliki {preview.page_count} halaman.",
                reason="no_such_page",
                page=number,
                page_count=preview.page_count,
            )
        etag = page_etag(source.sha256, preview.variant, number, thumb=thumb)
        key, version, sha = (
            (row.thumb_key, row.thumb_version_id, row.thumb_sha256)
            if thumb
            else (row.image_key, row.image_version_id, row.image_sha256)
        )
        size = (row.thumb_width, row.thumb_height) if thumb else (row.width, row.height)
        if etag in known or "*" in known:
            return PageImage(None, etag, sha, *size)
        try:
            data = svc.get(key, version, sha)
        except (NotFound, IntegrityAlarm) as exc:
            if attempt == 2:
                raise StorageUnavailable(
                    "Gambar pratinjau tidak dapat dibaca dari penyimpanan. Laporkan kepada admin.",
                    reason="preview_image_unreadable",
                    key=key,
                ) from exc
            log.warning(
                "cached preview image %s@%s missing or damaged: rendering %s again", key, version, source.sha256
            )
            _drop(svc, preview.id or 0)
            continue
        return PageImage(data, etag, sha, *size)
    raise AssertionError("unreachable")
