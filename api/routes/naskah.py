"""Naskah, their revisions (render / upload), downloads and diffs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, File, Form, Path, Query, Response, UploadFile, status

from api.deps import CurrentUser, Id, ServicesDep, SessionDep
from api.limits import upload
from api.present import naskah_public, revision_public
from api.schemas import DiffPublic, DrafterPublic, DrafterRequest, NaskahPublic, Page, RenderRequest, RevisionPublic
from pipeline import access, audit
from pipeline.drafting import cases, revisions
from pipeline.drafting.cases import Note
from pipeline.errors import DocumentTooLarge
from pipeline.models import MAX_ID, Naskah

router = APIRouter(prefix="/naskah", tags=["naskah"])

MEDIA = {"docx": revisions.DOCX_TYPE, "pdf": revisions.PDF_TYPE}


@router.get("/{naskah_id}", summary="Rincian naskah, status, dan tindakan yang tersedia")
def get_naskah(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> NaskahPublic:
    return naskah_public(session, user, cases.get_naskah(session, user, naskah_id, profile=svc.profile), svc.profile)


@router.get("/{naskah_id}/revisions", summary="Semua revisi naskah, terlama dahulu")
def list_revisions(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Page[RevisionPublic]:
    rows = revisions.list_revisions(session, user, naskah_id, profile=svc.profile)
    return Page(data=[revision_public(session, r) for r in rows], count=len(rows))


@router.post(
    "/{naskah_id}/revisions/render",
    status_code=status.HTTP_201_CREATED,
    summary="Revisi baru dirender dari data kerja sama terkini dan isian yang diubah",
)
def render_revision(
    naskah_id: Id,
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    body: Annotated[RenderRequest | None, Body()] = None,
) -> RevisionPublic:
    body = body or RenderRequest()  # no body: render again from the case data as it is now
    rev = revisions.render_revision(
        svc, user, naskah_id, body.data, body.note, discard_word_edits_through=body.buang_suntingan_word
    )
    return revision_public(session, rev)


@router.post(
    "/{naskah_id}/revisions/upload",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=upload("docx"),
    summary="Revisi baru dari berkas .docx yang disunting di Word",
)
def upload_revision(
    naskah_id: Id,
    file: Annotated[UploadFile, File(description="Dokumen Word (.docx) tanpa makro")],
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    note: Annotated[Note, Form(max_length=2000)] = "",
) -> RevisionPublic:
    limit = svc.docx_limits.max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(
            f"Berkas lebih besar dari batas {limit / 1024 / 1024:.0f} MB.", limit=limit, size_at_least=len(data)
        )
    rev = revisions.upload_revision(svc, user, naskah_id, data, note)
    return revision_public(session, rev)


# ``{number:int}``: only digits reach these two routes, so ``GET …/revisions/render`` (or ``/upload``) is the
# 405 of the POST route beside them, not a 422 for a revision number "render".
@router.get("/{naskah_id}/revisions/{number:int}", summary="Rincian satu revisi")
def get_revision(naskah_id: Id, number: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> RevisionPublic:
    return revision_public(session, revisions.get_revision(session, user, naskah_id, number, profile=svc.profile))


@router.get(
    "/{naskah_id}/revisions/{number:int}/{kind}",
    summary="Unduh DOCX atau PDF/A sebuah revisi, sama persis byte demi byte",
    response_class=Response,
    responses={200: {"content": {MEDIA["docx"]: {}, MEDIA["pdf"]: {}}, "description": "Berkas revisi"}},
)
def download(
    naskah_id: Id, number: Id, kind: Literal["docx", "pdf"], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Response:
    rev = revisions.get_revision(session, user, naskah_id, number, profile=svc.profile)
    data = revisions.read_revision_file(svc, rev, kind)
    sha = rev.docx_sha256 if kind == "docx" else rev.pdf_sha256
    audit.record_now(
        svc.engine, user, audit.AuditAction.DOWNLOAD, naskah_id=naskah_id, sha256=sha, file=f"r{number}.{kind}"
    )
    filename = f"naskah-{naskah_id}-r{number:03d}.{kind}"
    return Response(
        data,
        media_type=MEDIA[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "ETag": f'"{sha}"',
            "X-Content-SHA256": sha,
        },
    )


@router.get("/{naskah_id}/diff", summary="Bandingkan teks dua revisi per paragraf")
def diff(
    naskah_id: Id,
    svc: ServicesDep,
    user: CurrentUser,
    a: Annotated[int, Query(ge=1, le=MAX_ID, description="nomor revisi lama")],
    b: Annotated[int, Query(ge=1, le=MAX_ID, description="nomor revisi baru")],
    tampilan: Annotated[
        Literal["ringkas", "berdampingan"],
        Query(description="berdampingan: juga baris-baris sejajar (rows) untuk tampilan dua kolom"),
    ] = "ringkas",
) -> DiffPublic:
    result = revisions.diff_revisions(svc, user, naskah_id, a, b, berdampingan=tampilan == "berdampingan")
    return DiffPublic.model_validate(result)


def _drafters(session: SessionDep, naskah_id: int) -> Page[DrafterPublic]:
    naskah = session.get(Naskah, naskah_id)
    assert naskah is not None
    rows = [
        DrafterPublic(username=u.username, nama=u.nama, peran=peran) for u, peran in access.drafters_of(session, naskah)
    ]
    return Page(data=rows, count=len(rows))


@router.get(
    "/{naskah_id}/drafters", summary="Penyusun naskah: pemiliknya dan yang ditugaskan Kepala Bagian Pemerintahan"
)
def list_drafters(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Page[DrafterPublic]:
    cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    access.require_internal(user, naskah_id)  # who drafts is the Pemda's own business
    return _drafters(session, naskah_id)


@router.post(
    "/{naskah_id}/drafters",
    status_code=status.HTTP_201_CREATED,
    summary="Tugaskan penyusun naskah (Kepala Bagian Pemerintahan atau admin)",
)
def assign_drafter(
    naskah_id: Id, body: DrafterRequest, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Page[DrafterPublic]:
    cases.assign_drafter(session, user, naskah_id, body.username, profile=svc.profile)
    return _drafters(session, naskah_id)


@router.delete(
    "/{naskah_id}/drafters/{username}",
    summary="Akhiri penugasan penyusun naskah (Kepala Bagian Pemerintahan atau admin)",
)
def remove_drafter(
    naskah_id: Id,
    username: Annotated[str, Path(min_length=2, max_length=64)],
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
) -> Page[DrafterPublic]:
    cases.remove_drafter(session, user, naskah_id, username, profile=svc.profile)
    return _drafters(session, naskah_id)
