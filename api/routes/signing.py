"""Signature plan, signing on the server, desk-to-desk export/import, and verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile

from api.deps import CurrentUser, ServicesDep, SessionDep
from api.schemas import SignaturePlanPublic, SignatureStepPublic
from pipeline import cases, signature_plan
from pipeline.errors import DocumentTooLarge, InvalidInput, NotFound
from pipeline.models import NaskahFile, SignaturePlan, User
from pipeline.signers import Pkcs12Backend
from pipeline.verify import verify_pdf

router = APIRouter(tags=["tanda tangan"])

MAX_PDF = 50 * 1024 * 1024


def _read(upload: UploadFile, limit: int = MAX_PDF) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(f"Berkas lebih besar dari {limit // 1024 // 1024} MB.", limit=limit)
    return data


def _plan_public(session: SessionDep, plan: SignaturePlan) -> SignaturePlanPublic:
    steps = signature_plan.steps_of(session, plan)
    final = session.get(NaskahFile, plan.final_file_id)
    out = []
    for s in steps:
        user = session.get(User, s.user_id) if s.user_id else None
        file = session.get(NaskahFile, s.file_id) if s.file_id else None
        out.append(
            SignatureStepPublic(
                urutan=s.urutan,
                pihak_urutan=s.pihak_urutan,
                field_name=s.field_name,
                nama=s.nama,
                jabatan=s.jabatan,
                signer=user.username if user else None,
                external=s.external,
                status="sudah" if s.signed_at else "menunggu",
                signed_at=s.signed_at,
                signer_subject=s.signer_subject,
                file_sha256=file.sha256 if file else None,
            )
        )
    pending = [s.urutan for s in steps if s.signed_at is None]
    return SignaturePlanPublic(
        naskah_id=plan.naskah_id,
        mode=plan.mode,
        final_pdf_sha256=final.sha256 if final else "",
        steps=out,
        next=pending[0] if pending else None,
    )


def _plan_or_404(session: SessionDep, user: User, naskah_id: int) -> SignaturePlan:
    cases.get_naskah(session, user, naskah_id)
    plan = signature_plan.get_plan(session, naskah_id)
    if plan is None:
        raise NotFound("Naskah ini belum memiliki rencana tanda tangan.", naskah_id=naskah_id)
    return plan


@router.post("/naskah/{naskah_id}/signature-plan", status_code=201, summary="Susun rencana tanda tangan")
def create_plan(
    naskah_id: int, body: signature_plan.PlanInput, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> SignaturePlanPublic:
    signature_plan.create_plan(svc, user, naskah_id, body)
    return _plan_public(session, _plan_or_404(session, user, naskah_id))


@router.get("/naskah/{naskah_id}/signature-plan", summary="Rencana tanda tangan dan kemajuannya")
def get_plan(naskah_id: int, session: SessionDep, user: CurrentUser) -> SignaturePlanPublic:
    return _plan_public(session, _plan_or_404(session, user, naskah_id))


@router.post("/naskah/{naskah_id}/sign", summary="Tanda tangani di server dengan PKCS#12 (kata sandi tidak disimpan)")
def sign(
    naskah_id: int,
    p12: Annotated[UploadFile, File(description="berkas PKCS#12 (.p12/.pfx) penanda tangan")],
    passphrase: Annotated[str, Form(description="kata sandi PKCS#12; tidak disimpan dan tidak dicatat")],
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    location: Annotated[str, Form(max_length=200)] = "",
) -> SignaturePlanPublic:
    backend = Pkcs12Backend(data=_read(p12, 1024 * 1024))
    signature_plan.sign_step(svc, user, naskah_id, backend, passphrase, location=location)
    return _plan_public(session, _plan_or_404(session, user, naskah_id))


@router.get(
    "/naskah/{naskah_id}/export",
    summary="Desk to desk: PDF untuk ditandatangani mitra di sistemnya",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF untuk mitra"}},
)
def export(naskah_id: int, svc: ServicesDep, user: CurrentUser) -> Response:
    data = signature_plan.export_current(svc, user, naskah_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="naskah-{naskah_id}-untuk-mitra.pdf"'},
    )


@router.post("/naskah/{naskah_id}/import", summary="Desk to desk: impor PDF yang ditandatangani mitra")
def import_signed(
    naskah_id: int,
    file: Annotated[UploadFile, File(description="PDF yang dikembalikan mitra")],
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
) -> SignaturePlanPublic:
    signature_plan.import_signed(svc, user, naskah_id, _read(file))
    return _plan_public(session, _plan_or_404(session, user, naskah_id))


@router.get(
    "/naskah/{naskah_id}/signed.pdf",
    summary="PDF terkini dengan semua tanda tangan yang sudah dibubuhkan",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF bertanda tangan"}},
)
def signed_pdf(naskah_id: int, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Response:
    plan = _plan_or_404(session, user, naskah_id)
    file = signature_plan.current_file(session, plan)
    data = svc.get(file.key, file.version_id, file.sha256)
    return Response(data, media_type="application/pdf", headers={"X-Content-SHA256": file.sha256})


@router.post("/verify", summary="Periksa semua tanda tangan sebuah PDF (utuh, sah, tepercaya)")
def verify(
    file: Annotated[UploadFile, File(description="PDF yang diperiksa")], svc: ServicesDep, user: CurrentUser
) -> dict[str, Any]:
    from pipeline.auth import require

    require(user, "read")
    if not svc.trust_roots:
        raise InvalidInput("Server belum dikonfigurasi dengan akar tepercaya (NASKAH_TRUST_ROOTS).")
    return verify_pdf(_read(file), svc.trust_roots).to_dict()
