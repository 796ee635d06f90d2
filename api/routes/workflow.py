"""Lifecycle steps on a naskah: legal review, paraf, cancel, and its history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from api.deps import CurrentUser, Id, Offset, ServicesDep, SessionDep
from api.present import audit_entry_public, naskah_public
from api.schemas import (
    AuditEntryPublic,
    EventPublic,
    NaskahPublic,
    NoteRequest,
    Page,
    ParafChainPublic,
    ParafPublic,
    ParafStepPublic,
)
from pipeline import audit
from pipeline.approval import paraf, review
from pipeline.drafting import cases
from pipeline.models import NaskahFile, Paraf, User
from pipeline.services import Services

router = APIRouter(prefix="/naskah", tags=["telaah dan paraf"])

#: The body of a step is optional: no body, an empty one or ``{}`` all mean "no note" (a step that
#: needs a note then says so, in Indonesian, from the pipeline).
OptionalNote = Annotated[NoteRequest | None, Body()]


def _naskah(svc: Services, session: SessionDep, user: User, naskah_id: int) -> NaskahPublic:
    return naskah_public(session, user, cases.get_naskah(session, user, naskah_id, profile=svc.profile), svc.profile)


def _add_step(path: str, step: Callable[[Services, User, int, str], object], summary: str) -> None:
    """One POST route per review step; they differ only in the pipeline function they call."""

    def endpoint(
        naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser, body: OptionalNote = None
    ) -> NaskahPublic:
        step(svc, user, naskah_id, body.note if body else "")
        return _naskah(svc, session, user, naskah_id)

    endpoint.__name__ = f"{path}_naskah"
    router.add_api_route(f"/{{naskah_id}}/{path}", endpoint, methods=["POST"], summary=summary)


for _path, _step, _summary in (
    ("submit", review.submit, "Ajukan revisi terakhir ke Bagian Hukum (drafter)"),
    ("approve", review.approve, "Setujui rancangan final (Bagian Hukum); paraf dimulai"),
    ("return", review.return_for_revision, "Kembalikan rancangan dengan catatan (Bagian Hukum)"),
    ("cancel", review.cancel, "Batalkan naskah dengan catatan (drafter)"),
):
    _add_step(_path, _step, _summary)


def _paraf_public(session: SessionDep, row: Paraf) -> ParafPublic:
    file = session.get(NaskahFile, row.file_id) if row.file_id else None
    return ParafPublic(
        urutan=row.urutan,
        posisi=row.posisi,
        nama=row.nama,
        jabatan=row.jabatan,
        singkatan=row.singkatan,
        inisial=row.inisial,
        waktu=row.waktu,
        revision_number=row.revision_number,
        revision_sha256=row.revision_sha256,
        file_sha256=file.sha256 if file else None,
    )


@router.get("/{naskah_id}/paraf", summary="Rantai paraf: siapa sudah, siapa berikutnya")
def paraf_chain(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> ParafChainPublic:
    naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    steps = [
        ParafStepPublic(
            urutan=s.urutan,
            posisi=s.posisi,
            jabatan=s.jabatan,
            singkatan=s.singkatan,
            status="sudah" if s.given else "menunggu",
            paraf=_paraf_public(session, s.given) if s.given else None,
        )
        for s in paraf.chain(svc, session, naskah)
    ]
    final = paraf.final_file(session, naskah_id)
    return ParafChainPublic(
        naskah_id=naskah_id, status=naskah.status, steps=steps, final_pdf_sha256=final.sha256 if final else None
    )


@router.post("/{naskah_id}/paraf", summary="Beri paraf (pejabat yang mendapat giliran); dibubuhkan di setiap halaman")
def give_paraf(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> ParafPublic:
    row = paraf.give_paraf(svc, user, naskah_id)
    return _paraf_public(session, row)


@router.post("/{naskah_id}/paraf/refuse", summary="Tolak memberi paraf dengan catatan; naskah kembali ke penyusunan")
def refuse_paraf(
    naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser, body: OptionalNote = None
) -> NaskahPublic:
    paraf.refuse_paraf(svc, user, naskah_id, body.note if body else "")
    return _naskah(svc, session, user, naskah_id)


@router.get(
    "/{naskah_id}/final.pdf",
    summary="PDF final (semua paraf, kolom tanda tangan siap) yang ditandatangani para pihak",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF final"}},
)
def final_pdf(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Response:
    from pipeline.errors import NotFound

    cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    final = paraf.final_file(session, naskah_id)
    if final is None:
        raise NotFound("Naskah ini belum memiliki PDF final: rantai paraf belum lengkap.", naskah_id=naskah_id)
    data = svc.get(final.key, final.version_id, final.sha256)
    audit.record_now(
        svc.engine, user, audit.AuditAction.DOWNLOAD, naskah_id=naskah_id, sha256=final.sha256, file="final.pdf"
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="naskah-{naskah_id}-final.pdf"',
            "X-Content-SHA256": final.sha256,
        },
    )


@router.get("/{naskah_id}/history", summary="Riwayat langkah naskah dengan catatannya")
def history(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Page[EventPublic]:
    rows = review.history(session, user, naskah_id, profile=svc.profile)
    names = {u.id: u.username for u in [session.get(User, r.actor_id) for r in rows] if u}
    data = [
        EventPublic(
            action=r.action,
            from_status=r.from_status,
            to_status=r.to_status,
            actor=names.get(r.actor_id, str(r.actor_id)),
            note=r.note,
            revision_number=r.revision_number,
            created_at=r.created_at,
        )
        for r in rows
    ]
    return Page(data=data, count=len(data))


@router.get("/{naskah_id}/audit", summary="Jejak audit naskah (rantai hash), terlama dahulu")
def audit_trail(
    naskah_id: Id,
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AuditEntryPublic]:
    rows, count = audit.trail(session, user, naskah_id, profile=svc.profile, offset=offset, limit=limit)
    data = [audit_entry_public(r) for r in rows]
    return Page(data=data, count=count)
