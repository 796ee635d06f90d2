"""Signature plan, signing on the server, desk-to-desk export/import, and verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from api.deps import CurrentUser, Id, ServicesDep, SessionDep
from api.limits import MAX_P12_BYTES, upload
from api.schemas import SignaturePlanPublic, SignatureStepPublic, SignerPublic
from pipeline import access, audit
from pipeline.drafting import cases
from pipeline.errors import DocumentTooLarge, InvalidInput, NotFound
from pipeline.models import NaskahFile, SignaturePlan, User
from pipeline.services import Services
from pipeline.sign import signature_plan
from pipeline.sign.signer_config import configured_signer
from pipeline.sign.signers import BsreBackend, Pkcs12Backend
from pipeline.sign.signing_date import KonfirmasiTanggal
from pipeline.sign.verification import verify_known
from pipeline.textcheck import Line, MultiLine

router = APIRouter(tags=["tanda tangan"])


def _read(file: UploadFile, limit: int) -> bytes:
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(
            f"Berkas lebih besar dari batas {limit / 1024 / 1024:.0f} MB.", reason="too_large", limit=limit
        )
    return data


def _plan_public(session: SessionDep, plan: SignaturePlan, pades_level: str) -> SignaturePlanPublic:
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
                tanggal_ttd=s.tanggal_ttd,
                catatan_tanggal=s.catatan_tanggal,
                signed_field=s.signed_field,
                signed_page=s.signed_page,
                signed_visible=s.signed_visible,
            )
        )
    pending = [s.urutan for s in steps if s.signed_at is None]
    return SignaturePlanPublic(
        naskah_id=plan.naskah_id,
        mode=plan.mode,
        tanggal_naskah=plan.tanggal_naskah,
        final_pdf_sha256=final.sha256 if final else "",
        steps=out,
        next=pending[0] if pending else None,
        pades_level=pades_level,
    )


KonfirmasiForm = Annotated[
    bool,
    Form(
        description="desk to desk: konfirmasi bahwa tanda tangan ini bertanggal lain dari tanggal yang dinyatakan "
        "naskah (tatap muka tidak dapat dikonfirmasi)"
    ),
]
CatatanForm = Annotated[
    MultiLine,
    Form(
        max_length=500,
        description="wajib bersama konfirmasi_tanggal, mis. 'Ditandatangani PIHAK KEDUA pada 9 Desember 2026 secara "
        "desk to desk'; tampil pada riwayat, arsip, dan laporan verifikasi",
    ),
]


def _konfirmasi(konfirmasi_tanggal: bool, catatan_tanggal: str) -> KonfirmasiTanggal | None:
    return KonfirmasiTanggal(konfirmasi_tanggal, catatan_tanggal) if konfirmasi_tanggal or catatan_tanggal else None


def _plan_or_404(svc: Services, session: SessionDep, user: User, naskah_id: int) -> SignaturePlan:
    cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    plan = signature_plan.get_plan(session, naskah_id)
    if plan is None:
        raise NotFound("Naskah ini belum memiliki rencana tanda tangan.", naskah_id=naskah_id)
    return plan


@router.post("/naskah/{naskah_id}/signature-plan", status_code=201, summary="Susun rencana tanda tangan")
def create_plan(
    naskah_id: Id, body: signature_plan.PlanInput, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> SignaturePlanPublic:
    signature_plan.create_plan(svc, user, naskah_id, body)
    return _plan_public(session, _plan_or_404(svc, session, user, naskah_id), svc.pades_level)


@router.get("/naskah/{naskah_id}/signature-plan", summary="Rencana tanda tangan dan kemajuannya")
def get_plan(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> SignaturePlanPublic:
    return _plan_public(session, _plan_or_404(svc, session, user, naskah_id), svc.pades_level)


@router.post(
    "/naskah/{naskah_id}/sign",
    summary="Tanda tangani di server: PKCS#12 yang diunggah, atau penanda tangan yang dikonfigurasi admin",
    description="Dengan berkas `p12`: PKCS#12 + passphrase-nya. Tanpa `p12`: penanda tangan yang dikonfigurasi "
    "untuk akun ini (token PKCS#11, layanan CSC, BSrE; lihat `GET /me/signer`), dengan PIN/passphrase/OTP-nya "
    "di `passphrase`. Rahasia tidak disimpan dan tidak dicatat.",
    openapi_extra=upload("p12"),
)
def sign(
    naskah_id: Id,
    passphrase: Annotated[
        str, Form(description="passphrase PKCS#12/BSrE, PIN token/CSC, atau OTP; tidak disimpan dan tidak dicatat")
    ],
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    p12: Annotated[
        UploadFile | None, File(description="berkas PKCS#12 (.p12/.pfx); kosong: yang dikonfigurasi")
    ] = None,
    location: Annotated[Line, Form(max_length=200)] = "",
    konfirmasi_tanggal: KonfirmasiForm = False,
    catatan_tanggal: CatatanForm = "",
) -> SignaturePlanPublic:
    keystore = _read(p12, MAX_P12_BYTES) if p12 is not None else b""  # an empty file input counts as none
    konfirmasi = _konfirmasi(konfirmasi_tanggal, catatan_tanggal)
    if keystore:
        signature_plan.sign_step(
            svc, user, naskah_id, Pkcs12Backend(data=keystore), passphrase, location=location, konfirmasi=konfirmasi
        )
    else:
        signature_plan.sign_configured(svc, user, naskah_id, passphrase, location=location, konfirmasi=konfirmasi)
    return _plan_public(session, _plan_or_404(svc, session, user, naskah_id), svc.pades_level)


@router.get("/me/signer", summary="Penanda tangan yang dikonfigurasi untuk saya, dan rahasia yang diminta")
def my_signer(
    svc: ServicesDep,
    user: CurrentUser,
    check: Annotated[bool, Query(description="BSrE: tanyakan status pendaftaran dan sertifikat ke layanan")] = False,
) -> SignerPublic:
    configured = configured_signer(svc.signer_backends, user.username)
    if configured is None:
        return SignerPublic(configured=False, secret="passphrase")
    out = SignerPublic(
        configured=True,
        kind=configured.backend.kind,
        secret=configured.secret,
        backend=configured.backend.describe(),
        signer_id=configured.masked_signer_id(),
    )
    if check and isinstance(configured.backend, BsreBackend) and configured.signer_id:
        status = configured.backend.user_status(configured.signer_id)
        out.registered, out.has_certificate = status.registered, status.has_certificate
    return out


@router.get(
    "/naskah/{naskah_id}/export",
    summary="Desk to desk: PDF untuk ditandatangani mitra di sistemnya",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF untuk mitra"}},
)
def export(naskah_id: Id, svc: ServicesDep, user: CurrentUser) -> Response:
    data = signature_plan.export_current(svc, user, naskah_id)
    audit.record_now(svc.engine, user, audit.AuditAction.EXPORT, naskah_id=naskah_id, sha256=audit.sha256_of(data))
    svc.after_step_now(naskah_id, user)  # the import of the partner's return is next
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="naskah-{naskah_id}-untuk-mitra.pdf"'},
    )


@router.post(
    "/naskah/{naskah_id}/import",
    summary="Desk to desk: impor PDF yang ditandatangani mitra",
    openapi_extra=upload("pdf"),
)
def import_signed(
    naskah_id: Id,
    file: Annotated[UploadFile, File(description="PDF yang dikembalikan mitra")],
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    konfirmasi_tanggal: KonfirmasiForm = False,
    catatan_tanggal: CatatanForm = "",
) -> SignaturePlanPublic:
    signature_plan.import_signed(
        svc,
        user,
        naskah_id,
        _read(file, svc.pdf_limits.max_bytes),
        konfirmasi=_konfirmasi(konfirmasi_tanggal, catatan_tanggal),
    )
    return _plan_public(session, _plan_or_404(svc, session, user, naskah_id), svc.pades_level)


@router.get(
    "/naskah/{naskah_id}/signed.pdf",
    summary="PDF terkini dengan semua tanda tangan yang sudah dibubuhkan",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF bertanda tangan"}},
)
def signed_pdf(naskah_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Response:
    plan = _plan_or_404(svc, session, user, naskah_id)
    file = signature_plan.current_file(session, plan)
    data = svc.get(file.key, file.version_id, file.sha256)
    audit.record_now(
        svc.engine, user, audit.AuditAction.DOWNLOAD, naskah_id=naskah_id, sha256=file.sha256, file="signed.pdf"
    )
    return Response(data, media_type="application/pdf", headers={"X-Content-SHA256": file.sha256})


@router.post(
    "/verify", summary="Periksa semua tanda tangan sebuah PDF (utuh, sah, tepercaya)", openapi_extra=upload("pdf")
)
def verify(
    file: Annotated[UploadFile, File(description="PDF yang diperiksa")],
    svc: ServicesDep,
    user: CurrentUser,
    arsip: Annotated[
        bool,
        Form(
            description="Naskah arsip (B-LTA): nilai sepanjang rantai cap waktu dengan data validasi tertanam "
            "(setiap tanda tangan pada waktu cap waktunya), bukan pada hari ini"
        ),
    ] = False,
) -> dict[str, Any]:
    from pipeline.auth import require

    require(user, "read")
    if not svc.trust_roots:
        raise InvalidInput("Server belum dikonfigurasi dengan akar tepercaya (NASKAH_TRUST_ROOTS).")
    data = _read(file, svc.pdf_limits.max_bytes)
    report = verify_known(
        svc.engine,
        data,
        svc.trust_roots,
        archival=arsip,
        may_see=lambda session, naskah_id: access.may_see_naskah(session, user, svc.profile, naskah_id),
        limits=svc.pdf_limits,
        worker=svc.pdf_worker,
    )
    audit.record_verification(svc.engine, user, data, report.bottom_line)
    return report.to_dict()
