"""The Usulan kerja sama pages (``/usulan``): the list with what waits on me first, recording an incoming
letter with its attachments, and one usulan with its data, files, timeline and the form of each step the
reader may take now (disposisi, telaah, rapat TKKSD, hasil rapat, rekomendasi, the Kepala Daerah's
decision, the letters).

Thin over ``pipeline.intake.workflow``: each form is parsed into the same input model and handed to the
same function as ``/api/v1/usulan``.  Which forms a page shows is ``workflow.open_actions`` and
``open_letters`` (the table and the profile's positions); a crafted POST from anyone else is refused by
the step itself.  Several forms share one page, so each form's fields have names of their own
(``disposisi_note``, ``jawaban_nomor``): :data:`STEP_FIELDS` maps the pipeline's field names onto them,
so a refusal lands on the field that was typed in.

A counterparty's official sees no usulan (``workflow.usulan_clause``): every page here is a 404 for them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api.deps import Id, ServicesDep, SessionDep
from api.limits import UPLOAD_LIMITS, upload
from api.web.kerjasama import JENIS_KERJA_SAMA, PIHAK_KINDS
from api.web.render import FormErrors, as_naskah_error, form_error, page, page_links
from api.web.security import FormUser, PageUser
from pipeline.drafting import cases
from pipeline.drafting.attachments import check_attachment
from pipeline.errors import DocumentTooLarge, InvalidInput, NaskahError, NotFound, NotPermitted
from pipeline.intake import workflow as wf
from pipeline.models import User, Usulan
from pipeline.services import Services
from pipeline.usulan_lifecycle import ACTION_LABELS, FINAL_STATES, STATUS_LABELS, Action, Letter, Status

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20


async def form_data(request: Request) -> FormData:
    """The submitted form (parsed once; the CSRF check read the same one)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]

JENIS = {"penawaran": "Penawaran", "permohonan": "Permohonan"}
PENGIRIM_KINDS = {
    "pemda": "Pemerintah daerah lain",
    "pihak_ketiga": "Pihak ketiga (badan usaha, perguruan tinggi, organisasi)",
    "instansi_vertikal": "Instansi vertikal",
    "opd": "Perangkat Daerah sendiri (OPD)",
}
FILE_KINDS = {
    "surat": "Pindaian surat",
    "kak": "Kerangka acuan kerja (KAK)",
    "fs": "Studi kelayakan (FS)",
    "telaah": "Berkas telaah",
    "lampiran": "Lampiran lain",
    "undangan": "Undangan rapat TKKSD",
    "berita_acara": "Berita acara rapat TKKSD",
    "jawaban": "Surat jawaban",
    "balasan": "Surat balasan (bersedia bekerja sama)",
    "penawaran": "Surat penawaran kerja sama",
    "permohonan": "Surat permohonan kerja sama",
}
LETTER_LABELS = {
    Letter.UNDANGAN: "Undangan rapat TKKSD",
    Letter.BERITA_ACARA: "Berita acara rapat TKKSD",
    Letter.JAWABAN: "Surat jawaban (penolakan)",
    Letter.BALASAN: "Surat balasan: bersedia bekerja sama",
    Letter.PENAWARAN: "Surat penawaran kerja sama kepada mitra",
    Letter.PERMOHONAN: "Surat permohonan kerja sama kepada mitra",
}
EVENT_LABELS = {
    "catat": "mencatat surat masuk dan meneruskannya",
    **{a.value: label for a, label in ACTION_LABELS.items()},
}
STATUS_FILTER = {s.value: label for s, label in STATUS_LABELS.items()}

#: The kelengkapan fields, as UsulanInput/UsulanUpdate name them (the new-usulan and the lengkapi forms).
MITRA_KEYS = ["instansi", "kind", "alamat", "penandatangan_nama", "penandatangan_jabatan"]
KELENGKAPAN_FIELDS = [
    "objek",
    "manfaat",
    "bentuk",
    "tahun_anggaran_mulai",
    "jangka_waktu_bulan",
    "jenis_kerja_sama",
    "opd_teknis",
    *(f"mitra.{k}" for k in MITRA_KEYS),
]
LETTER_FIELDS = ["surat_nomor", "surat_tanggal", "diterima_at"]
PENGIRIM_FIELDS = ["pengirim_instansi", "pengirim_kind", "pengirim_nama", "pengirim_jabatan", "pengirim_alamat"]
UPLOADS = ["file_surat", "file_kak", "file_fs"]
NEW_FIELDS = ["jenis", "perihal", *LETTER_FIELDS, *PENGIRIM_FIELDS, *KELENGKAPAN_FIELDS, *UPLOADS]

LABELS = {
    "jenis": "Jenis usulan",
    "perihal": "Perihal",
    "surat_nomor": "Nomor surat",
    "surat_tanggal": "Tanggal surat",
    "diterima_at": "Diterima",
    "pengirim_instansi": "Instansi pengirim",
    "pengirim_kind": "Jenis pengirim",
    "pengirim_nama": "Nama penanda tangan surat",
    "pengirim_jabatan": "Jabatan penanda tangan surat",
    "pengirim_alamat": "Alamat pengirim",
    "objek": "Objek kerja sama",
    "manfaat": "Manfaat",
    "bentuk": "Bentuk kerja sama",
    "tahun_anggaran_mulai": "Tahun anggaran mulai",
    "jangka_waktu_bulan": "Jangka waktu (bulan)",
    "jenis_kerja_sama": "Jenis kerja sama",
    "opd_teknis": "OPD teknis",
    "mitra.instansi": "Mitra: nama instansi",
    "mitra.kind": "Mitra: jenis",
    "mitra.alamat": "Mitra: alamat",
    "mitra.penandatangan_nama": "Mitra: nama penanda tangan",
    "mitra.penandatangan_jabatan": "Mitra: jabatan penanda tangan",
    "file_surat": "Pindaian surat",
    "file_kak": "KAK",
    "file_fs": "Studi kelayakan",
    "disposisi_note": "Catatan disposisi",
    "telaah": "Telaah",
    "telaah_file": "Berkas telaah",
    "waktu": "Waktu rapat",
    "tempat": "Tempat rapat",
    "acara": "Acara",
    "peserta": "Undangan lain",
    "notulen": "Notulen",
    "kesimpulan": "Kesimpulan",
    "rekomendasi": "Rekomendasi TKKSD",
    "rekomendasi_catatan": "Catatan rekomendasi",
    "rekomendasi_note": "Catatan untuk Kepala Daerah",
    "keputusan": "Keputusan",
    "keputusan_note": "Catatan keputusan",
    "mulai": "Kerja sama mulai",
    "jawaban_nomor": "Nomor surat jawaban",
    "jawaban_tempat": "Tempat surat jawaban",
    "batal_note": "Alasan pembatalan",
    "berkas_kind": "Jenis berkas",
    "berkas_file": "Berkas",
    "surat_jenis": "Surat",
    "surat_nomor_keluar": "Nomor surat keluar",
    "surat_tempat": "Tempat surat dibuat",
}

#: Each step form: its fields (unique on the page), and the pipeline's name -> the form's name.
STEP_FIELDS: dict[str, list[str]] = {
    "lengkapi": ["perihal", *KELENGKAPAN_FIELDS],
    "disposisi": ["disposisi_note"],
    "telaah": ["telaah", "telaah_file"],
    "jadwalkan_rapat": ["waktu", "tempat", "acara", "peserta"],
    "catat_rapat": ["notulen", "kesimpulan", "rekomendasi", "rekomendasi_catatan"],
    "rekomendasi": ["rekomendasi_note"],
    "keputusan": ["keputusan", "keputusan_note", "mulai", "jawaban_nomor", "jawaban_tempat"],
    "batalkan": ["batal_note"],
    "berkas": ["berkas_kind", "berkas_file"],
}
RENAMED: dict[str, dict[str, str]] = {
    "disposisi": {"note": "disposisi_note"},
    "telaah": {"file": "telaah_file"},
    "rekomendasi": {"note": "rekomendasi_note"},
    "keputusan": {
        "setuju": "keputusan",
        "note": "keputusan_note",
        "surat": "jawaban_nomor",
        "surat.nomor": "jawaban_nomor",
        "surat.tempat": "jawaban_tempat",
    },
    "batalkan": {"note": "batal_note"},
    "berkas": {"kind": "berkas_kind", "file": "berkas_file"},
    "surat": {"nomor": "surat_nomor_keluar", "tempat": "surat_tempat"},
}
LETTER_FORM_FIELDS = ["surat_jenis", "surat_nomor_keluar", "surat_tempat"]
#: The step of the table each form takes (keputusan: SETUJUI or TOLAK, as chosen).
STEP_OF = {
    Action.LENGKAPI: "lengkapi",
    Action.DISPOSISI: "disposisi",
    Action.TELAAH: "telaah",
    Action.JADWALKAN_RAPAT: "jadwalkan_rapat",
    Action.CATAT_RAPAT: "catat_rapat",
    Action.REKOMENDASI: "rekomendasi",
    Action.SETUJUI: "keputusan",
    Action.TOLAK: "keputusan",
    Action.BATALKAN: "batalkan",
}
DONE = {
    "baru": "Usulan tercatat.",
    "lengkapi": "Data usulan diperbarui.",
    "disposisi": "Usulan didisposisikan.",
    "telaah": "Telaah tersimpan.",
    "jadwalkan_rapat": "Rapat TKKSD dijadwalkan.",
    "catat_rapat": "Hasil rapat tercatat.",
    "rekomendasi": "Rekomendasi disampaikan kepada Kepala Daerah.",
    "keputusan": "Keputusan tercatat.",
    "batalkan": "Usulan dibatalkan.",
    "berkas": "Berkas ditambahkan.",
    "surat": "Surat disusun; unduh di bagian Berkas.",
}


def _not_for_counterparty(user: User) -> None:
    if user.pihak_luar:  # sees no usulan (workflow.usulan_clause): as a page that does not exist
        raise NotFound("Halaman ini tidak ditemukan.", reason="not_found")


def _texts(form: FormData) -> dict[str, str]:
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and k not in ("csrf_token", "aksi")}


def _renamed(error: NaskahError, mapping: dict[str, str]) -> NaskahError:
    """The error with the pipeline's field names replaced by the form's (``note`` -> ``disposisi_note``)."""
    if not mapping:
        return error
    detail = dict(error.detail)
    if isinstance(detail.get("field"), str):
        detail["field"] = mapping.get(detail["field"], detail["field"])
    if isinstance(detail.get("fields"), list):
        detail["fields"] = [
            {**f, "field": mapping.get(str(f.get("field")), f.get("field"))} if isinstance(f, dict) else f
            for f in detail["fields"]
        ]
    return type(error)(error.message, **detail)


def _lama(seconds: float) -> str:
    """How long, as people say it: "kurang dari 1 menit", "45 menit", "2 jam 5 menit", "3 hari 4 jam"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "kurang dari 1 menit"
    if minutes < 60:
        return f"{minutes} menit"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} jam" + (f" {rest} menit" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} hari" + (f" {hours} jam" if hours else "")


def _read_upload(svc: Services, item: Any, field: str) -> tuple[str, bytes] | None:
    """An uploaded file of a form (None when the input was left empty), read up to the limit and checked
    by its bytes (``pipeline.drafting.attachments``) before anything is stored; a refusal names the form's field."""
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    limit = UPLOAD_LIMITS["lampiran"][1](svc)
    data = item.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(
            f"Berkas '{item.filename}' lebih besar dari batas {limit / 1024 / 1024:.0f} MB.",
            reason="too_large",
            field=field,
        )
    try:
        check_attachment(data, item.filename, docx_limits=svc.docx_limits, pdf_limits=svc.pdf_limits)
    except NaskahError as exc:
        raise type(exc)(exc.message, **{**exc.detail, "field": field}) from None
    return item.filename, data


# --- the list ---------------------------------------------------------------------------------------


def _turn_text(session: Session, svc: Services, u: Usulan) -> str:
    if Status(u.status) in FINAL_STATES:
        return ""
    holders = wf.turn_of(session, svc.profile, u)
    return ", ".join(f"{h.nama} ({h.jabatan})" for h in holders) or "-"


@router.get("/usulan", response_class=HTMLResponse)
def daftar(
    request: Request,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    jenis: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    halaman: Annotated[str, Query(max_length=8)] = "1",
) -> HTMLResponse:
    """What waits on me (the longest waiting first), then every usulan I may see, searched and filtered
    by a GET form (a bookmarkable URL)."""
    user = signed.user
    _not_for_counterparty(user)
    values = {"q": q, "jenis": jenis, "status": status}
    errors = FormErrors()
    if jenis and jenis not in JENIS:
        errors.fields["jenis"] = "Pilih penawaran atau permohonan."
    if status and status not in STATUS_FILTER:
        errors.fields["status"] = "Pilih salah satu status dari daftar."
    page_no = int(halaman) if halaman.isdigit() and 0 < int(halaman) < 100_000 else 1
    rows: list[Usulan] = []
    count = 0
    if not errors:
        rows, count = wf.list_usulan(
            session,
            user,
            profile=svc.profile,
            status=Status(status) if status else None,
            jenis=jenis or None,
            q=q or None,
            offset=(page_no - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    pages = max(1, math.ceil(count / PAGE_SIZE))
    given = {k: v for k, v in values.items() if v}

    def link(n: int) -> str:
        return "/usulan?" + urlencode({**given, "halaman": n})

    now = dt.datetime.now(dt.UTC)
    mine = wf.waiting_on(session, user, svc.profile)
    deadlines = {u.id: wf.deadline_of(svc.profile, u) for u in [*mine, *rows]}
    ctx = {
        "mine": mine,
        "rows": rows,
        "turns": {u.id: _turn_text(session, svc, u) for u in rows},
        "deadlines": deadlines,
        "late": {i for i, d in deadlines.items() if d is not None and d < now},
        "waited": {u.id: _lama((now - u.turn_since).total_seconds()) for u in mine},
        "count": count,
        **page_links(page_no, pages, link),
        "values": values,
        "errors": errors,
        "form_fields": list(values),
        "filtered": bool(given),
        "jenis_choices": JENIS,
        "status_filter": STATUS_FILTER,
        "may_record": wf.may_record(user),
        "tz": svc.profile.tz,
    }
    return page(request, "usulan/daftar.html", ctx, status_code=422 if errors else 200)


# --- a new usulan -----------------------------------------------------------------------------------


def _new_context() -> dict[str, Any]:
    return {
        "jenis_choices": JENIS,
        "pengirim_kinds": PENGIRIM_KINDS,
        "jenis_kerja_sama": JENIS_KERJA_SAMA,
        "pihak_kinds": PIHAK_KINDS,
        "labels": LABELS,
        "form_fields": NEW_FIELDS,
    }


def _kelengkapan_body(values: dict[str, str]) -> dict[str, Any]:
    """The kelengkapan part of UsulanInput from the form: empty fields are left out (missing kelengkapan
    is listed, not refused); the mitra as a whole when any of its fields is filled."""
    body: dict[str, Any] = {
        name: values[name] for name in KELENGKAPAN_FIELDS if "." not in name and values.get(name, "")
    }
    mitra = {k: values[f"mitra.{k}"] for k in MITRA_KEYS if values.get(f"mitra.{k}", "")}
    if mitra:
        body["mitra"] = mitra
    return body


def _with_zone(value: str, svc: Services) -> str:
    """A ``datetime-local`` value (no zone: the region's clock) with the profile's zone."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value  # pydantic names the field and says what is wrong
    return (moment.replace(tzinfo=svc.profile.tz) if moment.tzinfo is None else moment).isoformat()


@router.get("/usulan/baru", response_class=HTMLResponse)
def baru_form(request: Request, signed: PageUser, svc: ServicesDep) -> HTMLResponse:
    """The form the Tata Usaha (or Bagian Pemerintahan) records an incoming letter with."""
    _not_for_counterparty(signed.user)
    if not wf.may_record(signed.user):
        raise NotPermitted("Usulan kerja sama dicatat oleh Tata Usaha atau Bagian Pemerintahan.", action="catat")
    today = dt.datetime.now(svc.profile.tz)
    values = {"jenis": "penawaran", "diterima_at": today.strftime("%Y-%m-%dT%H:%M")}
    return page(request, "usulan/baru.html", {**_new_context(), "values": values})


@router.post("/usulan/baru", response_class=HTMLResponse, openapi_extra=upload("lampiran"))
def baru(request: Request, signed: FormUser, svc: ServicesDep, session: SessionDep, form: Form) -> Response:
    """Record the letter (``workflow.create_usulan``, as ``POST /api/v1/usulan``) and attach its files
    (``workflow.add_file``); every file is checked first, so a refused file stores nothing."""
    _not_for_counterparty(signed.user)
    values = _texts(form)
    try:
        files = [(name.removeprefix("file_"), _read_upload(svc, form.get(name), name)) for name in UPLOADS]
        body: dict[str, Any] = {
            name: values[name]
            for name in ["jenis", "perihal", "surat_nomor", "surat_tanggal", *PENGIRIM_FIELDS]
            if values.get(name, "")
        }
        if values.get("diterima_at"):
            body["diterima_at"] = _with_zone(values["diterima_at"], svc)
        body.update(_kelengkapan_body(values))
        data = wf.UsulanInput.model_validate(body)
        usulan = wf.create_usulan(session, signed.user, data, profile=svc.profile)
        session.commit()
    except (ValidationError, NaskahError) as exc:
        return form_error(
            request, "usulan/baru.html", as_naskah_error(exc), form_fields=NEW_FIELDS, values=values,
            context=_new_context(),
        )  # fmt: skip
    assert usulan.id is not None
    for kind, item in files:
        if item is not None:
            wf.add_file(svc, signed.user, usulan.id, kind, item[1], item[0])
    return RedirectResponse(f"/usulan/{usulan.id}?selesai=baru", status_code=303)


# --- one usulan -------------------------------------------------------------------------------------


def _jabatan(svc: Services, posisi: str | None) -> str:
    if not posisi:
        return ""
    position = svc.profile.positions.get(posisi)
    return position.jabatan if position else posisi


def _detail_context(svc: Services, session: Session, user: User, usulan_id: int) -> dict[str, Any]:
    u = wf.get_usulan(session, user, usulan_id, profile=svc.profile)
    assert u.id is not None
    names: dict[int, str] = {}

    def name(uid: int | None) -> str:
        if uid is None:
            return "-"
        if uid not in names:
            row = session.get(User, uid)
            names[uid] = f"{row.nama} ({row.jabatan})" if row else str(uid)
        return names[uid]

    now = dt.datetime.now(dt.UTC)
    events = [
        {
            "e": e,
            "label": EVENT_LABELS.get(e.action, e.action),
            "actor": name(e.actor_id),
            "dari": _jabatan(svc, e.posisi),
            "ke": _jabatan(svc, e.to_posisi) if e.action == "disposisi" or e.action == "catat" else "",
            "lama": _lama((e.at - e.started_at).total_seconds()),
        }
        for e in wf.events_of(session, u.id)
    ]
    actions = wf.open_actions(svc.profile, u, user)
    steps: list[str] = []
    for action in actions:
        step = STEP_OF[action]
        if step not in steps:
            steps.append(step)
    letters = wf.open_letters(svc.profile, u, user)
    case_visible = False
    if u.kerja_sama_id is not None:
        try:  # the case opened is its analis's; others see it as pipeline.access says
            cases.get_case(session, user, u.kerja_sama_id, profile=svc.profile)
            case_visible = True
        except NotFound:
            pass
    deadline = wf.deadline_of(svc.profile, u)
    final = Status(u.status) in FINAL_STATES
    holders = wf.turn_of(session, svc.profile, u)
    upload_kinds = [k for k in ("surat", "kak", "fs", "lampiran") if not final and u.status != Status.KEPUTUSAN.value]
    return {
        "u": u,
        "status_label": STATUS_LABELS[Status(u.status)],
        "final": final,
        "jenis_label": JENIS.get(u.jenis, u.jenis),
        "pengirim_kind_label": PENGIRIM_KINDS.get(u.pengirim_kind, u.pengirim_kind),
        "kelengkapan": wf.kelengkapan(session, u),
        "files": wf.files_of(session, u.id),
        "file_kinds": FILE_KINDS,
        "events": events,
        "giliran": ", ".join(f"{h.nama} ({h.jabatan})" for h in holders),
        "giliran_saya": any(h.id == user.id for h in holders),
        "menunggu": _lama((now - u.turn_since).total_seconds()),
        "tenggat": deadline,
        "terlambat": deadline is not None and deadline < now,
        "steps": steps,
        "letters": letters,
        "case_visible": case_visible,
        "letter_choices": [(x.value, LETTER_LABELS[x]) for x in letters],
        "letter_labels": LETTER_LABELS,
        "upload_kinds": [(k, FILE_KINDS[k]) for k in upload_kinds] if wf.may_record(user) else [],
        "jenis_kerja_sama": JENIS_KERJA_SAMA,
        "pihak_kinds": PIHAK_KINDS,
        "labels": LABELS,
        "pengkaji": name(u.pengkaji_id) if u.pengkaji_id else "",
        "decided_by": name(u.decided_by) if u.decided_by else "",
        "posisi_jabatan": _jabatan(svc, u.posisi),
        "tz": svc.profile.tz,
        "open_step": "",
        "selesai": "",
        "done": DONE,
        "empty": FormErrors(),
        "lengkapi_values": _current_kelengkapan(u),
        "defaults": _step_defaults(svc, u),
        "rekomendasi_choices": [("setuju", "Disetujui"), ("tolak", "Ditolak")],
        "today": now.astimezone(svc.profile.tz).date(),
    }


def _step_defaults(svc: Services, u: Usulan) -> dict[str, dict[str, str]]:
    """What a step's form shows before anything is typed: what was recorded before (moving the meeting,
    correcting the notulen, rewriting the telaah)."""
    local = u.rapat_waktu.astimezone(svc.profile.tz) if u.rapat_waktu else None
    return {
        "telaah": {"telaah": u.telaah or ""},
        "jadwalkan_rapat": {
            "waktu": local.strftime("%Y-%m-%dT%H:%M") if local else "",
            "tempat": u.rapat_tempat or "",
            "acara": u.rapat_acara or "",
            "peserta": "\n".join(p["nama"] for p in u.rapat_peserta if p.get("peran") == "undangan"),
        },
        "catat_rapat": {
            "notulen": u.notulen or "",
            "kesimpulan": u.kesimpulan or "",
            "rekomendasi": u.rekomendasi or "",
            "rekomendasi_catatan": u.rekomendasi_catatan or "",
        },
    }


def _current_kelengkapan(u: Usulan) -> dict[str, str]:
    values = {name: "" if getattr(u, name) is None else str(getattr(u, name)) for name in STEP_FIELDS["lengkapi"]
              if "." not in name}  # fmt: skip
    for key in MITRA_KEYS:
        values[f"mitra.{key}"] = str((u.mitra or {}).get(key) or "")
    return values


@router.get("/usulan/{usulan_id}", response_class=HTMLResponse)
def rincian(
    request: Request,
    usulan_id: Id,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    selesai: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """One usulan: its data and kelengkapan, files, timeline, and the forms of the steps the reader may take."""
    _not_for_counterparty(signed.user)
    ctx = {**_detail_context(svc, session, signed.user, usulan_id), "selesai": selesai if selesai in DONE else ""}
    return page(request, "usulan/rincian.html", ctx)


@router.get("/usulan/{usulan_id}/berkas/{file_id}")
def unduh(
    usulan_id: Id,
    file_id: Id,
    signed: PageUser,
    svc: ServicesDep,
    pdf: Annotated[bool, Query()] = False,
) -> Response:
    """A file of the usulan, byte for byte (``pdf=true``: a drafted letter's PDF), as the API's download."""
    _not_for_counterparty(signed.user)
    row, data = wf.read_file(svc, signed.user, usulan_id, file_id, pdf=pdf)
    media = "application/pdf" if pdf else row.content_type
    name = row.filename.rsplit(".", 1)[0] + ".pdf" if pdf else row.filename
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _take(svc: Services, session: Session, user: User, usulan_id: int, step: str, values: dict[str, str],
          form: FormData) -> None:  # fmt: skip
    """One step from its form: the same pipeline call as its API route."""
    profile = svc.profile
    if step == "lengkapi":
        current = _current_kelengkapan(wf.get_usulan(session, user, usulan_id, profile=profile))
        changed = {k: v for k, v in values.items() if k in STEP_FIELDS["lengkapi"] and v and v != current.get(k)}
        body = {k: v for k, v in changed.items() if "." not in k}
        if any(k.startswith("mitra.") for k in changed):
            body["mitra"] = {k: values[f"mitra.{k}"] for k in MITRA_KEYS if values.get(f"mitra.{k}")}
        wf.lengkapi(session, user, usulan_id, wf.UsulanUpdate.model_validate(body), profile=profile)
    elif step == "disposisi":
        wf.disposisi(session, user, usulan_id, values.get("disposisi_note", ""), profile=profile)
    elif step == "telaah":
        item = _read_upload(svc, form.get("telaah_file"), "telaah_file")
        wf.telaah(session, user, usulan_id, values.get("telaah", ""), profile=profile)
        session.commit()
        if item is not None:
            wf.add_file(svc, user, usulan_id, "telaah", item[1], item[0])
    elif step == "jadwalkan_rapat":
        data = wf.RapatInput.model_validate(
            {
                "waktu": values.get("waktu", ""),
                "tempat": values.get("tempat", ""),
                "peserta": _lines(values.get("peserta", "")),
                **({"acara": values["acara"]} if values.get("acara") else {}),
            }
        )
        wf.jadwalkan_rapat(session, user, usulan_id, data, profile=profile)
    elif step == "catat_rapat":
        data = wf.RapatHasil.model_validate(
            {k: values.get(k, "") for k in ("notulen", "kesimpulan", "rekomendasi", "rekomendasi_catatan")}
        )
        wf.catat_rapat(session, user, usulan_id, data, profile=profile)
    elif step == "rekomendasi":
        wf.rekomendasi(session, user, usulan_id, values.get("rekomendasi_note", ""), profile=profile)
    elif step == "keputusan":
        choice = values.get("keputusan", "")
        if choice not in ("setuju", "tolak"):
            raise InvalidInput("Pilih setujui atau tolak.", field="keputusan")
        body: dict[str, Any] = {"setuju": choice == "setuju", "note": values.get("keputusan_note", "")}
        if choice == "setuju" and values.get("mulai"):
            body["mulai"] = values["mulai"]
        if choice == "tolak" and (values.get("jawaban_nomor") or values.get("jawaban_tempat")):
            body["surat"] = {"nomor": values.get("jawaban_nomor", ""), "tempat": values.get("jawaban_tempat", "")}
        data = wf.KeputusanInput.model_validate(body)
        session.commit()  # decide works in its own transactions
        wf.decide(svc, user, usulan_id, data)
    elif step == "batalkan":
        wf.batalkan(session, user, usulan_id, values.get("batal_note", ""), profile=profile)
    else:  # berkas
        kind = values.get("berkas_kind", "")
        item = _read_upload(svc, form.get("berkas_file"), "berkas_file")
        if item is None:
            raise InvalidInput("Pilih berkas yang akan diunggah.", field="berkas_file")
        session.commit()
        wf.add_file(svc, user, usulan_id, kind, item[1], item[0])


@router.post("/usulan/{usulan_id}/langkah/{step}", response_class=HTMLResponse, openapi_extra=upload("lampiran"))
def langkah(
    request: Request, usulan_id: Id, step: str, signed: FormUser, svc: ServicesDep, session: SessionDep, form: Form
) -> Response:
    """A step taken from the page; a refusal on its form with the input kept; Post/Redirect/Get."""
    _not_for_counterparty(signed.user)
    if step not in STEP_FIELDS:
        raise NotFound("Langkah ini tidak dikenal.", step=step)
    values = _texts(form)
    try:
        _take(svc, session, signed.user, usulan_id, step, values, form)
    except (ValidationError, NaskahError) as exc:
        session.rollback()
        error = _renamed(as_naskah_error(exc), RENAMED.get(step, {}))
        ctx = {**_detail_context(svc, session, signed.user, usulan_id), "open_step": step}
        if step == "lengkapi":
            ctx["lengkapi_values"] = {**ctx["lengkapi_values"], **values}
        return form_error(
            request, "usulan/rincian.html", error, form_fields=STEP_FIELDS[step], values=values, context=ctx
        )
    return RedirectResponse(f"/usulan/{usulan_id}?selesai={step}", status_code=303)


@router.post("/usulan/{usulan_id}/surat", response_class=HTMLResponse)
def surat(
    request: Request, usulan_id: Id, signed: FormUser, svc: ServicesDep, session: SessionDep, form: Form
) -> Response:
    """Draft a letter (or the berita acara) from its template (``workflow.draft_letter``, as
    ``POST /api/v1/usulan/{id}/surat/{jenis}``)."""
    _not_for_counterparty(signed.user)
    values = _texts(form)
    try:
        if values.get("surat_jenis", "") not in {x.value for x in Letter}:
            raise InvalidInput("Pilih surat yang akan disusun.", field="surat_jenis")
        data = wf.SuratInput.model_validate(
            {"nomor": values.get("surat_nomor_keluar", ""), "tempat": values.get("surat_tempat", "")}
        )
        session.commit()  # draft_letter works in its own transactions
        wf.draft_letter(svc, signed.user, usulan_id, Letter(values["surat_jenis"]), data)
    except (ValidationError, NaskahError) as exc:
        error = _renamed(as_naskah_error(exc), RENAMED["surat"])
        ctx = {**_detail_context(svc, session, signed.user, usulan_id), "open_step": "surat"}
        return form_error(
            request, "usulan/rincian.html", error, form_fields=LETTER_FORM_FIELDS, values=values, context=ctx
        )
    return RedirectResponse(f"/usulan/{usulan_id}?selesai=surat", status_code=303)
