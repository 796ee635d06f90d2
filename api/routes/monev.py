"""Monitoring dan evaluasi of running agreements (``/api/v1/monev``): thin twins of ``pipeline.archival.monev``.

The fixed paths (``/monev/kerja-sama``, ``/monev/peringatan``, ``/monev/laporan.xlsx`` …) come before
``/monev/{round_id}`` so that they are never read as a round id.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from api.deps import CurrentUser, Id, Offset, ServicesDep, SessionDep
from api.limits import upload
from pipeline.archival import monev, monev_report
from pipeline.drafting.cases import LongText, Note
from pipeline.errors import DocumentTooLarge
from pipeline.models import MonevLampiran, MonevRound, MonevTindakLanjut
from pipeline.monev_lifecycle import ACTION_LABELS, STATUS_LABELS, MonevAction, MonevStatus
from pipeline.services import Services

router = APIRouter(prefix="/monev", tags=["monitoring dan evaluasi"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today(svc: Services, tanggal: dt.date | None = None) -> dt.date:
    return tanggal or monev.local_today(svc.profile)


def _files(svc: Services, files: list[UploadFile] | None) -> list[tuple[str | None, bytes]]:
    limit = max(svc.pdf_limits.max_bytes, svc.docx_limits.max_bytes)
    out = []
    for f in files or []:
        data = f.file.read(limit + 1)
        if len(data) > limit:
            raise DocumentTooLarge(
                f"Lampiran '{f.filename}' lebih besar dari batas {limit / 1024 / 1024:.0f} MB.",
                reason="too_large",
                limit=limit,
            )
        out.append((f.filename, data))
    return out


def lampiran_public(row: MonevLampiran) -> dict[str, Any]:
    return {
        "id": row.id,
        "filename": row.filename,
        "content_type": row.content_type,
        "sha256": row.sha256,
        "size": row.size,
        "tindak_lanjut_id": row.tindak_lanjut_id,
        "uploaded_at": row.uploaded_at,
    }


def item_public(item: MonevTindakLanjut, today: dt.date) -> dict[str, Any]:
    return {
        "id": item.id,
        "urutan": item.urutan,
        "uraian": item.uraian,
        "penanggung_jawab": item.penanggung_jawab,
        "tenggat": item.tenggat,
        "selesai": item.selesai_at is not None,
        "selesai_at": item.selesai_at,
        "catatan_selesai": item.catatan_selesai,
        "terlambat": item.selesai_at is None and item.tenggat < today,
    }


def round_summary(round_: MonevRound) -> dict[str, Any]:
    return {
        "id": round_.id,
        "arsip_id": round_.arsip_id,
        "kerja_sama_id": round_.kerja_sama_id,
        "status": round_.status,
        "status_label": STATUS_LABELS[MonevStatus(round_.status)],
        "surat_perintah": round_.surat_perintah,
        "periode_mulai": round_.periode_mulai,
        "periode_selesai": round_.periode_selesai,
        "assigned_at": round_.assigned_at,
        "reported_at": round_.reported_at,
        "closed_at": round_.closed_at,
    }


def round_public(view: monev.RoundView, today: dt.date) -> dict[str, Any]:
    r = view.round
    return {
        **round_summary(r),
        "judul": view.arsip.judul,
        "jenis": view.arsip.jenis,
        "opd_teknis": view.arsip.opd_teknis,
        "ketua_tim": view.name(r.ketua_tim_id),
        "analis": view.name(r.analis_id) if r.analis_id else None,
        "catatan_penugasan": r.catatan_penugasan,
        "bahan": r.bahan,
        "jadwal": r.jadwal,
        "batas_laporan": r.batas_laporan,
        "laporan": {
            "realisasi": r.realisasi,
            "kendala": r.kendala,
            "manfaat": r.manfaat,
            "rekomendasi": r.rekomendasi,
            "oleh": view.name(r.reported_by) if r.reported_by else None,
        },
        "hasil_olah": r.hasil_olah,
        "temuan": r.temuan,
        "penilaian": r.penilaian,
        "penilaian_label": monev.PENILAIAN.get(r.penilaian or ""),
        "evaluasi": r.evaluasi,
        "arahan": r.arahan,
        "kesimpulan": r.kesimpulan,
        "lampiran": [lampiran_public(f) for f in view.lampiran],
        "tindak_lanjut": [item_public(i, today) for i in view.tindak_lanjut],
        "riwayat": [
            {
                "action": e.action,
                "label": ACTION_LABELS[MonevAction(e.action)],
                "from_status": e.from_status,
                "to_status": e.to_status,
                "oleh": view.name(e.actor_id),
                "note": e.note,
                "at": e.created_at,
            }
            for e in view.events
        ],
        "boleh": view.boleh,
        "giliran": view.giliran,
        "tenggat": view.tenggat,
        "terlambat": view.terlambat,
    }


def _view(session: SessionDep, svc: Services, user: CurrentUser, round_id: int) -> dict[str, Any]:
    session.flush()
    view = monev.round_view(session, user, svc.profile, round_id)
    return round_public(view, _today(svc))


# -- fixed paths first -----------------------------------------------------------------------------


@router.get("/kerja-sama", summary="Kerja sama yang sedang berlaku, dengan monev terakhir dan keputusan perpanjangan")
def agreements(
    svc: ServicesDep, session: SessionDep, user: CurrentUser, tanggal: dt.date | None = None
) -> list[dict[str, Any]]:
    today = _today(svc, tanggal)
    rows = monev.agreements_in_force(session, user, svc.profile, today)
    decided = monev.perpanjangan_of(session, [a.id or 0 for a in rows])
    out = []
    for a in rows:
        rounds, _ = monev.list_rounds(session, user, svc.profile, arsip_id=a.id, limit=1)
        d = decided.get(a.id or 0)
        out.append(
            {
                "arsip_id": a.id,
                "judul": a.judul,
                "jenis": a.jenis,
                "opd_teknis": a.opd_teknis,
                "mulai": a.mulai,
                "selesai": a.selesai,
                "monev_terakhir": round_summary(rounds[0]) if rounds else None,
                "perpanjangan": {"keputusan": d.keputusan, "catatan": d.catatan, "decided_at": d.decided_at}
                if d
                else None,
            }
        )
    return out


@router.get(
    "/peringatan", summary="Peringatan monev: tanpa laporan, segera berakhir tanpa keputusan, tindak lanjut lewat"
)
def alerts(
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    tanggal: Annotated[dt.date | None, Query(description="Keadaan pada tanggal ini (bawaan: hari ini)")] = None,
    saya: Annotated[bool, Query(description="Hanya yang menjadi giliran saya")] = False,
) -> list[dict[str, Any]]:
    found = monev.alerts(session, user, svc.profile, _today(svc, tanggal), mine=saya)
    return [a.to_dict() for a in found]


@router.get("/saya", summary="Monev yang menunggu saya: langkah ronde dan peringatan yang menjadi giliran saya")
def mine(svc: ServicesDep, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    monev.require_pemda(user)
    steps = monev.my_steps(session, user, svc.profile)
    found = monev.alerts(session, user, svc.profile, _today(svc), mine=True)
    return {"langkah": [s.to_dict() for s in steps], "peringatan": [a.to_dict() for a in found]}


@router.get(
    "/laporan.xlsx",
    summary="Laporan evaluasi kerja sama per periode (XLSX)",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "Lembar kerja Excel"}},
)
def report_xlsx(dari: dt.date, sampai: dt.date, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Response:
    report = monev_report.build(session, user, svc.profile, dari, sampai, _today(svc))
    name = f"evaluasi-kerja-sama-{dari.isoformat()}-{sampai.isoformat()}.xlsx"
    return Response(
        monev_report.to_xlsx(report),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/laporan.pdf",
    summary="Laporan evaluasi kerja sama per periode (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF/A"}},
)
def report_pdf(dari: dt.date, sampai: dt.date, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Response:
    report = monev_report.build(session, user, svc.profile, dari, sampai, _today(svc))
    name = f"evaluasi-kerja-sama-{dari.isoformat()}-{sampai.isoformat()}.pdf"
    return Response(
        monev_report.to_pdf(svc, report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/kerja-sama/{arsip_id}/tugaskan",
    status_code=status.HTTP_201_CREATED,
    summary="Kabag menugaskan tim monev (langkah 1)",
)
def assign(
    arsip_id: Id, body: monev.Penugasan, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    round_ = monev.tugaskan(session, user, svc.profile, arsip_id, body)
    return _view(session, svc, user, round_.id or 0)


@router.post("/kerja-sama/{arsip_id}/perpanjangan", summary="Kabag mencatat keputusan perpanjangan kerja sama")
def decide(
    arsip_id: Id, body: monev.Perpanjangan, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    row = monev.putuskan_perpanjangan(session, user, svc.profile, arsip_id, body)
    return {
        "arsip_id": row.arsip_id,
        "keputusan": row.keputusan,
        "label": monev.KEPUTUSAN[row.keputusan],
        "catatan": row.catatan,
        "decided_at": row.decided_at,
    }


@router.post(
    "/tindak-lanjut/{tindak_lanjut_id}/selesai",
    openapi_extra=upload("monev"),
    summary="Tindak lanjut selesai, dengan catatan dan bukti (langkah 9)",
)
def finish_item(
    tindak_lanjut_id: Id,
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    catatan: Annotated[Note, Form()],
    files: Annotated[list[UploadFile] | None, File(description="Bukti: PDF, DOCX, PNG atau JPEG")] = None,
) -> dict[str, Any]:
    item = monev.selesaikan_tindak_lanjut(session, svc, user, tindak_lanjut_id, catatan, _files(svc, files))
    return _view(session, svc, user, item.round_id)


@router.get("/lampiran/{lampiran_id}", response_class=Response, summary="Unduh lampiran monev")
def download(lampiran_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Response:
    row, data = monev.read_lampiran(session, svc, user, lampiran_id)
    return Response(
        data, media_type=row.content_type, headers={"Content-Disposition": f'attachment; filename="{row.filename}"'}
    )


@router.get("", summary="Daftar monitoring dan evaluasi yang boleh dilihat")
def list_rounds(
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    arsip_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    rows, count = monev.list_rounds(
        session, user, svc.profile, arsip_id=arsip_id, status=status_, offset=offset, limit=limit
    )
    return {"data": [round_summary(r) for r in rows], "count": count}


# -- one round ---------------------------------------------------------------------------------------


@router.get("/{round_id}", summary="Rincian monitoring dan evaluasi")
def get_round(round_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return _view(session, svc, user, round_id)


@router.post("/{round_id}/jadwal", summary="Tim menetapkan bahan dan jadwal monitoring (langkah 2-3)")
def schedule(
    round_id: Id, body: monev.Jadwal, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    monev.jadwalkan(session, user, svc.profile, round_id, body)
    return _view(session, svc, user, round_id)


@router.post(
    "/{round_id}/laporan",
    openapi_extra=upload("monev"),
    summary="OPD teknis menyampaikan laporan monitoring (langkah 4)",
)
def report(
    round_id: Id,
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    realisasi: Annotated[LongText, Form()],
    kendala: Annotated[LongText, Form()],
    manfaat: Annotated[LongText, Form()],
    rekomendasi: Annotated[LongText, Form()],
    files: Annotated[list[UploadFile] | None, File(description="Lampiran: PDF, DOCX, PNG atau JPEG")] = None,
) -> dict[str, Any]:
    data = monev.Laporan(realisasi=realisasi, kendala=kendala, manfaat=manfaat, rekomendasi=rekomendasi)
    monev.lapor(session, svc, user, round_id, data, _files(svc, files))
    return _view(session, svc, user, round_id)


class _Catatan(monev._Input):
    catatan: Note = ""


class _Olah(monev._Input):
    hasil_olah: LongText


class _Tutup(monev._Input):
    kesimpulan: LongText


@router.post("/{round_id}/kembalikan", summary="Tim mengembalikan laporan kepada OPD (wajib catatan)")
def send_back(round_id: Id, body: _Catatan, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    monev.kembalikan(session, user, svc.profile, round_id, body.catatan)
    return _view(session, svc, user, round_id)


@router.post("/{round_id}/olah", summary="Tim menyerahkan hasil olah data kepada Kabag (langkah 5-6)")
def process(round_id: Id, body: _Olah, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    monev.olah(session, user, svc.profile, round_id, body.hasil_olah)
    return _view(session, svc, user, round_id)


@router.post("/{round_id}/evaluasi", summary="Kabag mencatat temuan dan evaluasi (langkah 7)")
def evaluate(
    round_id: Id, body: monev.Evaluasi, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    monev.evaluasi(session, user, svc.profile, round_id, body)
    return _view(session, svc, user, round_id)


@router.post("/{round_id}/arahan", summary="Kabag memberi arahan dan rencana tindak lanjut (langkah 8)")
def direct(
    round_id: Id, body: monev.Arahan, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    monev.arahkan(session, user, svc.profile, round_id, body)
    return _view(session, svc, user, round_id)


@router.post("/{round_id}/tutup", summary="Menutup monev dengan dokumen evaluasi (langkah 9)")
def close(round_id: Id, body: _Tutup, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    monev.tutup(session, user, svc.profile, round_id, body.kesimpulan)
    return _view(session, svc, user, round_id)


@router.post("/{round_id}/batalkan", summary="Kabag membatalkan monev (wajib catatan)")
def cancel(round_id: Id, body: _Catatan, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    monev.batalkan(session, user, svc.profile, round_id, body.catatan)
    return _view(session, svc, user, round_id)
