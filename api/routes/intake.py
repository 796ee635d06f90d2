"""Usulan kerja sama (intake): the incoming letter, its disposisi, telaah, rapat TKKSD and the decision.

Thin: every route calls the same function of ``pipeline.intake.workflow`` as the CLI does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from api.deps import CurrentUser, Id, Offset, ServicesDep, SessionDep
from api.limits import UPLOAD_LIMITS, upload
from api.schemas import Page
from pipeline.drafting.cases import Note
from pipeline.errors import DocumentTooLarge
from pipeline.intake import workflow as wf
from pipeline.models import User, Usulan
from pipeline.services import Services
from pipeline.usulan_lifecycle import ACTION_LABELS, STATUS_LABELS, Letter, Status, available

router = APIRouter(prefix="/usulan", tags=["usulan kerja sama"])


class FilePublic(BaseModel):
    id: int
    kind: str
    filename: str
    content_type: str
    sha256: str
    size: int
    generated: bool
    nomor: str | None
    pdf_sha256: str | None
    created_at: datetime


class EventPublic(BaseModel):
    action: str
    from_status: str
    to_status: str
    actor: str | None
    posisi: str | None
    to_posisi: str | None
    note: str
    started_at: datetime
    at: datetime
    lama_detik: int
    mutu_baku: str | None
    terlambat: bool | None


class UsulanSummary(BaseModel):
    id: int
    jenis: str
    status: str
    status_label: str
    perihal: str
    pengirim_instansi: str
    surat_nomor: str
    surat_tanggal: date
    diterima_at: datetime
    posisi: str | None
    tenggat: datetime | None
    kerja_sama_id: int | None


class UsulanPublic(UsulanSummary):
    model_config = ConfigDict(extra="forbid")

    lock_version: int
    jenis_kerja_sama: str | None
    pengirim_kind: str
    pengirim_nama: str | None
    pengirim_jabatan: str | None
    pengirim_alamat: str | None
    mitra: dict[str, Any] | None
    objek: str | None
    manfaat: str | None
    bentuk: str | None
    tahun_anggaran_mulai: int | None
    jangka_waktu_bulan: int | None
    opd_teknis: str | None
    kelengkapan: dict[str, Any]
    giliran: list[str]
    tindakan: list[str]
    telaah: str | None
    rapat_waktu: datetime | None
    rapat_tempat: str | None
    rapat_acara: str | None
    rapat_peserta: list[dict[str, Any]]
    notulen: str | None
    kesimpulan: str | None
    rekomendasi: str | None
    rekomendasi_catatan: str | None
    keputusan_catatan: str | None
    decided_at: datetime | None
    berkas: list[FilePublic]
    riwayat: list[EventPublic]


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note = ""
    expected_version: int | None = None


class TelaahBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    telaah: wf.LongText


def _summary(svc: Services, u: Usulan) -> dict[str, Any]:
    return {
        "id": u.id,
        "jenis": u.jenis,
        "status": u.status,
        "status_label": STATUS_LABELS[Status(u.status)],
        "perihal": u.perihal,
        "pengirim_instansi": u.pengirim_instansi,
        "surat_nomor": u.surat_nomor,
        "surat_tanggal": u.surat_tanggal,
        "diterima_at": u.diterima_at,
        "posisi": u.posisi,
        "tenggat": wf.deadline_of(svc.profile, u),
        "kerja_sama_id": u.kerja_sama_id,
    }


def usulan_public(session: Session, svc: Services, user: User, u: Usulan) -> UsulanPublic:
    assert u.id is not None
    users: dict[int, str] = {}

    def name(uid: int | None) -> str | None:
        if uid is None:
            return None
        if uid not in users:
            row = session.get(User, uid)
            users[uid] = row.username if row else str(uid)
        return users[uid]

    events = [
        EventPublic(
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            actor=name(e.actor_id),
            posisi=e.posisi,
            to_posisi=e.to_posisi,
            note=e.note,
            started_at=e.started_at,
            at=e.at,
            lama_detik=max(0, int((e.at - e.started_at).total_seconds())),
            mutu_baku=e.mutu_baku,
            terlambat=e.terlambat,
        )
        for e in wf.events_of(session, u.id)
    ]
    files = [FilePublic.model_validate(f, from_attributes=True) for f in wf.files_of(session, u.id)]
    roles = wf._roles(user)
    return UsulanPublic(
        **_summary(svc, u),
        lock_version=u.lock_version,
        jenis_kerja_sama=u.jenis_kerja_sama,
        pengirim_kind=u.pengirim_kind,
        pengirim_nama=u.pengirim_nama,
        pengirim_jabatan=u.pengirim_jabatan,
        pengirim_alamat=u.pengirim_alamat,
        mitra=u.mitra,
        objek=u.objek,
        manfaat=u.manfaat,
        bentuk=u.bentuk,
        tahun_anggaran_mulai=u.tahun_anggaran_mulai,
        jangka_waktu_bulan=u.jangka_waktu_bulan,
        opd_teknis=u.opd_teknis,
        kelengkapan=wf.kelengkapan(session, u).public(),
        giliran=[x.username for x in wf.turn_of(session, svc.profile, u)],
        tindakan=[ACTION_LABELS[a] for a in available(Status(u.status), roles)],
        telaah=u.telaah,
        rapat_waktu=u.rapat_waktu,
        rapat_tempat=u.rapat_tempat,
        rapat_acara=u.rapat_acara,
        rapat_peserta=u.rapat_peserta,
        notulen=u.notulen,
        kesimpulan=u.kesimpulan,
        rekomendasi=u.rekomendasi,
        rekomendasi_catatan=u.rekomendasi_catatan,
        keputusan_catatan=u.keputusan_catatan,
        decided_at=u.decided_at,
        berkas=files,
        riwayat=events,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Catat surat penawaran/permohonan yang masuk")
def create(body: wf.UsulanInput, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> UsulanPublic:
    u = wf.create_usulan(session, user, body, profile=svc.profile)
    return usulan_public(session, svc, user, u)


@router.get("", summary="Daftar usulan kerja sama yang boleh Anda lihat")
def list_usulan(
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    jenis: Annotated[Literal["penawaran", "permohonan"] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="kata dalam perihal, pengirim atau nomor surat")] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[UsulanSummary]:
    rows, total = wf.list_usulan(
        session, user, profile=svc.profile, status=status_, jenis=jenis, q=q, offset=offset, limit=limit
    )
    return Page(data=[UsulanSummary(**_summary(svc, u)) for u in rows], count=total)


@router.get("/{usulan_id}", summary="Rincian usulan: kelengkapan, giliran, riwayat disposisi, berkas")
def get(usulan_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> UsulanPublic:
    return usulan_public(session, svc, user, wf.get_usulan(session, user, usulan_id, profile=svc.profile))


@router.patch("/{usulan_id}", summary="Lengkapi atau perbaiki data usulan (kelengkapan)")
def update(
    usulan_id: Id, body: wf.UsulanUpdate, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> UsulanPublic:
    return usulan_public(session, svc, user, wf.lengkapi(session, user, usulan_id, body, profile=svc.profile))


@router.post(
    "/{usulan_id}/berkas",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=upload("lampiran"),
    summary="Unggah lampiran: pindaian surat, KAK, studi kelayakan (FS), berkas telaah (PDF, DOCX, PNG, JPEG)",
)
def add_file(
    usulan_id: Id,
    file: Annotated[UploadFile, File(description="PDF, DOCX, PNG atau JPEG")],
    kind: Annotated[Literal["surat", "kak", "fs", "telaah", "lampiran"], Form()],
    svc: ServicesDep,
    user: CurrentUser,
) -> FilePublic:
    limit = UPLOAD_LIMITS["lampiran"][1](svc)
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(
            f"Lampiran lebih besar dari batas {limit / 1024 / 1024:.0f} MB.", reason="too_large", limit=limit
        )
    row = wf.add_file(svc, user, usulan_id, kind, data, file.filename)
    return FilePublic.model_validate(row, from_attributes=True)


@router.get(
    "/{usulan_id}/berkas/{file_id}",
    summary="Unduh berkas usulan, sama persis byte demi byte (pdf=true: PDF surat yang disusun)",
    response_class=Response,
)
def download(
    usulan_id: Id, file_id: Id, svc: ServicesDep, user: CurrentUser, pdf: Annotated[bool, Query()] = False
) -> Response:
    row, data = wf.read_file(svc, user, usulan_id, file_id, pdf=pdf)
    media = "application/pdf" if pdf else row.content_type
    name = row.filename.rsplit(".", 1)[0] + ".pdf" if pdf else row.filename
    sha = row.pdf_sha256 if pdf else row.sha256
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": sha or ""},
    )


@router.post("/{usulan_id}/disposisi", summary="Disposisikan usulan ke pejabat berikutnya, dengan catatan")
def disposisi(usulan_id: Id, body: NoteBody, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> UsulanPublic:
    u = wf.disposisi(session, user, usulan_id, body.note, profile=svc.profile, expected_version=body.expected_version)
    return usulan_public(session, svc, user, u)


@router.put("/{usulan_id}/telaah", summary="Telaah analis atas usulan")
def telaah(usulan_id: Id, body: TelaahBody, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> UsulanPublic:
    return usulan_public(session, svc, user, wf.telaah(session, user, usulan_id, body.telaah, profile=svc.profile))


@router.put("/{usulan_id}/rapat", summary="Jadwalkan (atau pindahkan) rapat TKKSD")
def rapat(usulan_id: Id, body: wf.RapatInput, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> UsulanPublic:
    u = wf.jadwalkan_rapat(session, user, usulan_id, body, profile=svc.profile)
    return usulan_public(session, svc, user, u)


@router.put("/{usulan_id}/rapat/hasil", summary="Catat hasil rapat TKKSD: notulen, kesimpulan, rekomendasi")
def hasil_rapat(
    usulan_id: Id, body: wf.RapatHasil, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> UsulanPublic:
    return usulan_public(session, svc, user, wf.catat_rapat(session, user, usulan_id, body, profile=svc.profile))


@router.post("/{usulan_id}/rekomendasi", summary="Sampaikan rekomendasi TKKSD kepada Kepala Daerah")
def rekomendasi(
    usulan_id: Id, body: NoteBody, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> UsulanPublic:
    return usulan_public(session, svc, user, wf.rekomendasi(session, user, usulan_id, body.note, profile=svc.profile))


@router.post("/{usulan_id}/keputusan", summary="Keputusan Kepala Daerah: setujui (kerja sama dibuka) atau tolak")
def keputusan(
    usulan_id: Id, body: wf.KeputusanInput, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> UsulanPublic:
    wf.decide(svc, user, usulan_id, body)
    return usulan_public(session, svc, user, wf.get_usulan(session, user, usulan_id, profile=svc.profile))


@router.post("/{usulan_id}/batal", summary="Batalkan usulan (wajib catatan)")
def batal(usulan_id: Id, body: NoteBody, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> UsulanPublic:
    return usulan_public(session, svc, user, wf.batalkan(session, user, usulan_id, body.note, profile=svc.profile))


@router.post(
    "/{usulan_id}/surat/{jenis}",
    status_code=status.HTTP_201_CREATED,
    summary="Susun surat dari templat: undangan, berita_acara, jawaban, balasan, penawaran, permohonan",
)
def surat(usulan_id: Id, jenis: Letter, body: wf.SuratInput, svc: ServicesDep, user: CurrentUser) -> FilePublic:
    return FilePublic.model_validate(wf.draft_letter(svc, user, usulan_id, jenis, body), from_attributes=True)
