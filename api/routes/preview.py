"""Page previews: a revision's pages, or the naskah's current file's, as PNG images with their text.

Included before ``api.routes.naskah``: ``…/revisions/{number}/pages`` must not reach the download
route ``…/revisions/{number}/{kind}`` (where "pages" is not a kind: a 422).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response

from api.deps import CurrentUser, Id, ServicesDep, SessionDep
from api.present import PREFIX
from api.schemas import PreviewPagePublic, PreviewPublic
from pipeline import audit
from pipeline.models import MAX_ID, User
from pipeline.services import Services
from pipeline.workspace import preview
from pipeline.workspace.preview import PreviewDocument, PreviewSource

router = APIRouter(prefix="/naskah", tags=["pratinjau"])

PageNumber = Annotated[int, Path(ge=1, le=MAX_ID, description="nomor halaman, mulai 1")]
Ukuran = Annotated[
    Literal["besar", "kecil"], Query(description="besar: halaman untuk dibaca; kecil: gambar mini (thumbnail)")
]
IfNoneMatch = Annotated[str | None, Header(description="ETag yang sudah dimiliki klien (jawaban 304)")]

#: A revision's PDF never changes: its page images may be kept a day.  The current file changes when
#: a paraf or signature is added, under the same URL: the browser asks again each time (a 304 is cheap).
CACHE_REVISION = "private, max-age=86400"
CACHE_CURRENT = "private, no-cache"

IMAGE_RESPONSES: dict[int | str, dict] = {
    200: {"content": {preview.PAGE_TYPE: {}}, "description": "Gambar PNG halaman"},
    304: {"description": "Gambar tidak berubah sejak ETag yang dikirim (If-None-Match)"},
}


def _base(source: PreviewSource) -> str:
    if source.kind == "revisi":
        return f"{PREFIX}/naskah/{source.naskah_id}/revisions/{source.revision_number}"
    return f"{PREFIX}/naskah/{source.naskah_id}/file"


def _public(doc: PreviewDocument) -> PreviewPublic:
    source = doc.source
    base = _base(source)
    pdf_url = f"{base}/pdf" if source.kind == "revisi" else f"{PREFIX}/naskah/{source.naskah_id}/file.pdf"
    return PreviewPublic(
        naskah_id=source.naskah_id,
        kind=source.kind,
        label=source.label,
        revision_number=source.revision_number,
        step=source.step,
        sha256=source.sha256,
        pdf_url=pdf_url,
        count=doc.page_count,
        rendered=len(doc.pages),
        truncated=doc.truncated,
        dpi=doc.dpi,
        pages=[
            PreviewPagePublic(
                number=p.number,
                width=p.width,
                height=p.height,
                thumb_width=p.thumb_width,
                thumb_height=p.thumb_height,
                text=p.text,
                image_url=f"{base}/pages/{p.number}.png",
                thumb_url=f"{base}/pages/{p.number}.png?ukuran=kecil",
                etag=p.etag,
            )
            for p in doc.pages
        ],
    )


def _listing(svc: Services, user: User, source: PreviewSource) -> PreviewPublic:
    doc = preview.document(svc, source)
    # the page texts are the naskah's content: a view is recorded as a download is
    audit.record_now(
        svc.engine,
        user,
        audit.AuditAction.DOWNLOAD,
        naskah_id=source.naskah_id,
        sha256=source.sha256,
        file=f"pratinjau:{source.kind}:r{source.revision_number}:{source.step}",
    )
    return _public(doc)


def _known(if_none_match: str | None) -> set[str]:
    """The entity tags of an ``If-None-Match`` header (weak ones compared as strong: images are byte-exact)."""
    if not if_none_match:
        return set()
    return {tag.strip().removeprefix("W/") for tag in if_none_match.split(",") if tag.strip()}


def _image(
    svc: Services, source: PreviewSource, page: int, ukuran: str, if_none_match: str | None, cache: str
) -> Response:
    image = preview.page_image(svc, source, page, thumb=ukuran == "kecil", known=_known(if_none_match))
    headers = {"ETag": image.etag, "Cache-Control": cache}
    if image.data is None:
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=preview.PAGE_TYPE, headers={**headers, "X-Content-SHA256": image.sha256})


@router.get(
    "/{naskah_id}/revisions/{number:int}/pages",
    summary="Pratinjau revisi: halaman-halaman PDF-nya sebagai gambar, dengan teks setiap halaman",
)
def revision_pages(
    naskah_id: Id, number: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> PreviewPublic:
    source = preview.revision_source(session, user, naskah_id, number, profile=svc.profile)
    return _listing(svc, user, source)


@router.get(
    "/{naskah_id}/revisions/{number:int}/pages/{page:int}.png",
    summary="Gambar satu halaman revisi (PNG)",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def revision_page_image(
    naskah_id: Id,
    number: Id,
    page: PageNumber,
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    ukuran: Ukuran = "besar",
    if_none_match: IfNoneMatch = None,
) -> Response:
    source = preview.revision_source(session, user, naskah_id, number, profile=svc.profile)
    return _image(svc, source, page, ukuran, if_none_match, CACHE_REVISION)


@router.get(
    "/{naskah_id}/file/pages",
    summary="Pratinjau naskah saat ini (bertanda tangan, final, atau dengan paraf sejauh ini), dengan teks halaman",
)
def current_pages(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> PreviewPublic:
    source = preview.current_source(session, user, naskah_id, profile=svc.profile)
    return _listing(svc, user, source)


@router.get(
    "/{naskah_id}/file/pages/{page:int}.png",
    summary="Gambar satu halaman naskah saat ini (PNG)",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def current_page_image(
    naskah_id: Id,
    page: PageNumber,
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    ukuran: Ukuran = "besar",
    if_none_match: IfNoneMatch = None,
) -> Response:
    source = preview.current_source(session, user, naskah_id, profile=svc.profile)
    return _image(svc, source, page, ukuran, if_none_match, CACHE_CURRENT)


@router.get(
    "/{naskah_id}/file.pdf",
    summary="PDF naskah saat ini: bertanda tangan, final, atau dengan paraf sejauh ini (yang dipratinjau)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF naskah saat ini"}},
)
def current_pdf(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Response:
    source = preview.current_source(session, user, naskah_id, profile=svc.profile)
    data = svc.get(source.key, source.version_id, source.sha256)
    audit.record_now(
        svc.engine, user, audit.AuditAction.DOWNLOAD, naskah_id=naskah_id, sha256=source.sha256, file="file.pdf"
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="naskah-{naskah_id}-{source.kind}.pdf"',
            "ETag": f'"{source.sha256}"',
            "X-Content-SHA256": source.sha256,
        },
    )
