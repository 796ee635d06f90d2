"""The monev pages (``/monev``): what waits on me, the alerts, the agreements in force, a round with its
report, files, findings and tindak lanjut, the OPD's report form, and the evaluation report downloads.

Thin over ``pipeline.archival.monev`` and ``pipeline.archival.monev_report`` (the same functions as ``/api/v1/monev``),
for the signed-in user: only what they may see; a counterparty's official is refused (403).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import Id, ServicesDep, SessionDep
from api.limits import upload
from api.web.render import FormErrors, as_naskah_error, form_error, page
from api.web.security import FormUser, PageUser
from pipeline.archival import monev, monev_report
from pipeline.errors import DocumentTooLarge, InvalidInput, NaskahError, NotFound
from pipeline.models import MonevTindakLanjut
from pipeline.monev_lifecycle import ACTION_LABELS, STATUS_LABELS, MonevAction
from pipeline.services import Services
from pipeline.sop import OPD_TEKNIS

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_FIELDS = ["realisasi", "kendala", "manfaat", "rekomendasi", "files"]
TL_ROWS = 5
"""Rows of the Arahan form's rencana tindak lanjut (uraian, penanggung jawab, tenggat); empty rows are skipped."""
TL_PARTS = {"uraian": "uraian", "penanggung_jawab": "pj", "tenggat": "tenggat"}
#: The steps a round page offers as forms (besides the OPD's report) and the fields each has.
STEP_FIELDS: dict[str, list[str]] = {
    MonevAction.JADWALKAN.value: ["bahan", "jadwal", "batas_laporan"],
    MonevAction.KEMBALIKAN.value: ["catatan"],
    MonevAction.OLAH.value: ["hasil_olah"],
    MonevAction.EVALUASI.value: ["temuan", "penilaian", "evaluasi"],
    MonevAction.ARAHKAN.value: ["arahan"]
    + [f"tl_{part}_{n}" for n in range(1, TL_ROWS + 1) for part in ("uraian", "pj", "tenggat")],
    MonevAction.TUTUP.value: ["kesimpulan"],
    MonevAction.BATALKAN.value: ["catatan"],
}
REPORT_LABELS = {
    "realisasi": "Realisasi",
    "kendala": "Kendala",
    "manfaat": "Manfaat",
    "rekomendasi": "Rekomendasi",
    "files": "Lampiran",
    "bahan": "Bahan monitoring",
    "jadwal": "Jadwal monitoring",
    "batas_laporan": "Batas laporan OPD",
    "catatan": "Catatan",
    "hasil_olah": "Hasil olah data",
    "temuan": "Temuan",
    "penilaian": "Penilaian",
    "evaluasi": "Evaluasi",
    "arahan": "Arahan",
    "tindak_lanjut": "Rencana tindak lanjut",
    "kesimpulan": "Kesimpulan dokumen evaluasi",
    **{
        f"tl_{part}_{n}": f"Tindak lanjut {n}, {label}"
        for n in range(1, TL_ROWS + 1)
        for part, label in (("uraian", "uraian"), ("pj", "penanggung jawab"), ("tenggat", "tenggat"))
    },
}
_ACTIONS = {a.value: label for a, label in ACTION_LABELS.items()}


def _period(svc: Services, dari: dt.date | None, sampai: dt.date | None) -> tuple[dt.date, dt.date]:
    today = monev.local_today(svc.profile)
    return dari or today.replace(month=1, day=1), sampai or today


@router.get("/monev", response_class=HTMLResponse)
def index(request: Request, signed: PageUser, svc: ServicesDep, session: SessionDep) -> HTMLResponse:
    """What waits on me, every alert I may see, the agreements in force with their last monev."""
    user = signed.user
    today = monev.local_today(svc.profile)
    steps = monev.my_steps(session, user, svc.profile)
    alerts = monev.alerts(session, user, svc.profile, today)
    agreements = monev.agreements_in_force(session, user, svc.profile, today)
    decided = monev.perpanjangan_of(session, [a.id or 0 for a in agreements])
    last = {}
    for a in agreements:
        rounds, _ = monev.list_rounds(session, user, svc.profile, arsip_id=a.id, limit=1)
        last[a.id] = rounds[0] if rounds else None
    dari, sampai = _period(svc, None, None)
    ctx = {
        "today": today,
        "steps": steps,
        # an alert on a round already listed as my step says the same thing: shown once
        "mine": [a for a in alerts if a.giliran_saya and a.round_id not in {s.round_id for s in steps}],
        "alerts": alerts,
        "agreements": agreements,
        "decided": decided,
        "keputusan": monev.KEPUTUSAN,
        "last": last,
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "dari": dari,
        "sampai": sampai,
        "tz": svc.profile.tz,
    }
    return page(request, "monev/index.html", ctx)


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/monev/laporan.xlsx")
def report_xlsx(
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    dari: Annotated[dt.date | None, Query()] = None,
    sampai: Annotated[dt.date | None, Query()] = None,
) -> Response:
    start, end = _period(svc, dari, sampai)
    built = monev_report.build(session, signed.user, svc.profile, start, end, monev.local_today(svc.profile))
    return _download(monev_report.to_xlsx(built), XLSX_TYPE, f"evaluasi-kerja-sama-{start}-{end}.xlsx")


@router.get("/monev/laporan.pdf")
def report_pdf(
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    dari: Annotated[dt.date | None, Query()] = None,
    sampai: Annotated[dt.date | None, Query()] = None,
) -> Response:
    start, end = _period(svc, dari, sampai)
    built = monev_report.build(session, signed.user, svc.profile, start, end, monev.local_today(svc.profile))
    return _download(monev_report.to_pdf(svc, built), "application/pdf", f"evaluasi-kerja-sama-{start}-{end}.pdf")


@router.get("/monev/lampiran/{lampiran_id}")
def lampiran(lampiran_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep) -> Response:
    row, data = monev.read_lampiran(session, svc, signed.user, lampiran_id)
    return _download(data, row.content_type, row.filename)


def _pj_choices(session: SessionDep, svc: Services, view: monev.RoundView) -> list[tuple[str, str]]:
    """Who the Arahan may name for a tindak lanjut: the OPD teknis, or an official of the monev team."""
    team = monev.team_candidates(session, svc.profile)
    return [(OPD_TEKNIS, f"OPD teknis: {view.arsip.opd_teknis}")] + [
        (u.username, f"{u.nama} ({u.jabatan})") for u in team
    ]


def _round_context(svc: Services, session: SessionDep, signed: PageUser | FormUser, round_id: int) -> dict:
    view = monev.round_view(session, signed.user, svc.profile, round_id)
    return {
        "v": view,
        "r": view.round,
        "a": view.arsip,
        "actions": _ACTIONS,
        "penilaian": monev.PENILAIAN,
        "today": monev.local_today(svc.profile),
        "tz": svc.profile.tz,
        "labels": REPORT_LABELS,
        "may_report": MonevAction.LAPOR.value in view.boleh,
        "steps": [a for a in view.boleh if a in STEP_FIELDS],
        "finishable": [
            i.id
            for i in view.tindak_lanjut
            if i.selesai_at is None
            and view.round.status == "tindak_lanjut"
            and monev.may_finish(signed.user, svc.profile, view.arsip, view.round, i)
        ],
        "penilaian_choices": list(monev.PENILAIAN.items()),
        "tl_rows": range(1, TL_ROWS + 1),
        "pj_choices": _pj_choices(session, svc, view) if MonevAction.ARAHKAN.value in view.boleh else [],
        "selesai": "",
        "open_step": "",
        "empty": FormErrors(),
    }


@router.get("/monev/{round_id}", response_class=HTMLResponse)
def detail(
    request: Request,
    round_id: Id,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    selesai: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """A round: where it is, whose turn, its report, files, findings, tindak lanjut and history."""
    ctx = {**_round_context(svc, session, signed, round_id), "selesai": selesai}
    return page(request, "monev/ronde.html", ctx)


@router.post("/monev/{round_id}/laporan", response_class=HTMLResponse, openapi_extra=upload("monev"))
def report(
    request: Request,
    round_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    realisasi: Annotated[str, Form(max_length=6000)] = "",
    kendala: Annotated[str, Form(max_length=6000)] = "",
    manfaat: Annotated[str, Form(max_length=6000)] = "",
    rekomendasi: Annotated[str, Form(max_length=6000)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """The OPD's Laporan Monitoring (``monev.lapor``); refusals on the form, input kept."""
    values = {"realisasi": realisasi, "kendala": kendala, "manfaat": manfaat, "rekomendasi": rekomendasi}
    try:
        data = monev.Laporan.model_validate(values)
        limit = max(svc.pdf_limits.max_bytes, svc.docx_limits.max_bytes)
        read: list[tuple[str | None, bytes]] = []
        for f in files or []:
            if not f.filename:
                continue  # the empty file input of a form sent without a file
            content = f.file.read(limit + 1)
            if len(content) > limit:
                raise DocumentTooLarge(
                    f"Lampiran '{f.filename}' lebih besar dari batas {limit / 1024 / 1024:.0f} MB.",
                    reason="too_large",
                    field="files",
                )
            read.append((f.filename, content))
        monev.lapor(session, svc, signed.user, round_id, data, read)
    except (NaskahError, ValidationError) as exc:
        error = as_naskah_error(exc)
        if error.detail.get("filename") or error.detail.get("reason") == "too_many_files":
            error = type(error)(error.message, **{**error.detail, "field": "files"})
        ctx = _round_context(svc, session, signed, round_id)
        return form_error(request, "monev/ronde.html", error, form_fields=REPORT_FIELDS, values=values, context=ctx)
    return RedirectResponse(f"/monev/{round_id}?selesai=laporan", status_code=303)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _items(form: dict[str, str]) -> tuple[list[dict[str, str]], list[int]]:
    """The Arahan form's filled rows as tindak lanjut items, and the row number of each (to mark a field
    the pipeline names by the item's index); a row partly filled is refused on its empty field."""
    items, rows, missing = [], [], []
    what = {"uraian": "uraiannya", "penanggung_jawab": "penanggung jawabnya", "tenggat": "tenggatnya"}
    for n in range(1, TL_ROWS + 1):
        row = {part: form.get(f"tl_{short}_{n}", "").strip() for part, short in TL_PARTS.items()}
        if not any(row.values()):
            continue
        missing += [
            {"field": f"tl_{short}_{n}", "message": f"isi juga {what[part]}, atau kosongkan seluruh baris"}
            for part, short in TL_PARTS.items()
            if not row[part]
        ]
        items.append(row)
        rows.append(n)
    if missing:
        raise InvalidInput(
            "Ada baris rencana tindak lanjut yang baru sebagian diisi: lengkapi atau kosongkan.",
            reason="bad_item",
            fields=missing,
        )
    return items, rows


_ITEM_FIELD = re.compile(r"^tindak_lanjut\[(\d+)\]\.(uraian|penanggung_jawab|tenggat)$")


def _on_row(exc: NaskahError, rows: list[int]) -> NaskahError:
    """An error the pipeline or pydantic named ``tindak_lanjut[i].tenggat`` put on the form's row field."""

    def rename(name: object) -> object:
        m = _ITEM_FIELD.match(str(name))
        if m is None or int(m.group(1)) >= len(rows):
            return name
        return f"tl_{TL_PARTS[m.group(2)]}_{rows[int(m.group(1))]}"

    detail = dict(exc.detail)
    if "field" in detail:
        detail["field"] = rename(detail["field"])
    if isinstance(detail.get("fields"), list):
        detail["fields"] = [
            {**f, "field": rename(f.get("field"))} if isinstance(f, dict) else f for f in detail["fields"]
        ]
    return type(exc)(exc.message, **detail)


def _take(session: SessionDep, svc: Services, user: Any, round_id: int, action: str, form: dict[str, str]) -> None:
    """One step of the round from its form: the same pipeline call as its API route."""
    profile = svc.profile
    if action == MonevAction.JADWALKAN.value:
        data = monev.Jadwal.model_validate(
            {"bahan": form["bahan"], "jadwal": form["jadwal"] or None, "batas_laporan": form["batas_laporan"] or None}
        )
        monev.jadwalkan(session, user, profile, round_id, data)
    elif action == MonevAction.KEMBALIKAN.value:
        monev.kembalikan(session, user, profile, round_id, form["catatan"])
    elif action == MonevAction.OLAH.value:
        monev.olah(session, user, profile, round_id, form["hasil_olah"])
    elif action == MonevAction.EVALUASI.value:
        data = monev.Evaluasi.model_validate(
            {"temuan": _lines(form["temuan"]), "penilaian": form["penilaian"], "evaluasi": form["evaluasi"]}
        )
        monev.evaluasi(session, user, profile, round_id, data)
    elif action == MonevAction.ARAHKAN.value:
        items, rows = _items(form)
        try:
            data = monev.Arahan.model_validate({"arahan": form["arahan"], "tindak_lanjut": items})
            monev.arahkan(session, user, profile, round_id, data)
        except (NaskahError, ValidationError) as exc:
            raise _on_row(as_naskah_error(exc), rows) from exc
    elif action == MonevAction.TUTUP.value:
        monev.tutup(session, user, profile, round_id, form["kesimpulan"])
    else:
        monev.batalkan(session, user, profile, round_id, form["catatan"])


@router.post("/monev/{round_id}/langkah/{action}", response_class=HTMLResponse)
async def step(
    request: Request, round_id: Id, action: str, signed: FormUser, svc: ServicesDep, session: SessionDep
) -> Response:
    """A step of the round taken from the page (jadwal, kembalikan, olah, evaluasi, arahan, tutup,
    batalkan); refusals on the form, input kept; Post/Redirect/Get."""
    if action not in STEP_FIELDS:
        raise NotFound("Langkah ini tidak dikenal.", action=action)
    raw = await request.form()
    form = {name: str(raw.get(name) or "")[:6000] for name in STEP_FIELDS[action]}
    try:
        await run_in_threadpool(_take, session, svc, signed.user, round_id, action, form)
    except (NaskahError, ValidationError) as exc:
        ctx = await run_in_threadpool(_round_context, svc, session, signed, round_id)
        ctx["open_step"] = action
        return form_error(
            request, "monev/ronde.html", as_naskah_error(exc), form_fields=STEP_FIELDS[action], values=form, context=ctx
        )
    return RedirectResponse(f"/monev/{round_id}?selesai={action}", status_code=303)


@router.post("/monev/tindak-lanjut/{item_id}/selesai", response_class=HTMLResponse, openapi_extra=upload("monev"))
def finish_item(
    request: Request,
    item_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    catatan: Annotated[str, Form(max_length=2000)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """A tindak lanjut item done, with a note and its proof (``monev.selesaikan_tindak_lanjut``)."""
    item = session.get(MonevTindakLanjut, item_id)
    if item is None:
        raise NotFound(f"Tindak lanjut {item_id} tidak ditemukan.")
    round_id = item.round_id
    try:
        read = [(f.filename, f.file.read()) for f in files or [] if f.filename]
        monev.selesaikan_tindak_lanjut(session, svc, signed.user, item_id, catatan, read)
    except (NaskahError, ValidationError) as exc:
        ctx = _round_context(svc, session, signed, round_id)
        ctx["open_step"] = f"tl-{item_id}"
        return form_error(
            request,
            "monev/ronde.html",
            as_naskah_error(exc),
            form_fields=["catatan"],
            values={"catatan": catatan},
            context=ctx,
        )
    return RedirectResponse(f"/monev/{round_id}?selesai=tindak_lanjut", status_code=303)


# -- one agreement: its rounds, the Kabag's assignment and decision to extend ------------------------

ASSIGN_FIELDS = ["surat_perintah", "ketua_tim", "analis", "periode_mulai", "periode_selesai", "catatan"]
DECISION_FIELDS = ["keputusan", "catatan_keputusan"]
AGREEMENT_LABELS = {
    "surat_perintah": "Nomor Surat Perintah",
    "ketua_tim": "Ketua tim",
    "analis": "Analis",
    "periode_mulai": "Periode dari",
    "periode_selesai": "Periode sampai",
    "catatan": "Catatan",
    "keputusan": "Keputusan",
    "catatan_keputusan": "Catatan keputusan",
}


def _agreement_context(svc: Services, session: SessionDep, signed: PageUser | FormUser, arsip_id: int) -> dict:
    user = signed.user
    arsip = monev.visible_agreement(session, user, svc.profile, arsip_id)
    rounds, _ = monev.list_rounds(session, user, svc.profile, arsip_id=arsip_id, limit=200)
    today = monev.local_today(svc.profile)
    kabag = monev.is_kabag(user, svc.profile)
    team = monev.team_candidates(session, svc.profile) if kabag else []
    return {
        "a": arsip,
        "rounds": rounds,
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "decision": monev.perpanjangan_of(session, [arsip_id]).get(arsip_id),
        "keputusan": monev.KEPUTUSAN,
        "keputusan_choices": list(monev.KEPUTUSAN.items()),
        "kabag": kabag,
        "in_force": monev.in_force(arsip, today),
        "open_round": next((r for r in rounds if r.status not in ("selesai", "dibatalkan")), None),
        "team": [(u.username, f"{u.nama} ({u.jabatan})") for u in team],
        "labels": AGREEMENT_LABELS,
        "default_values": {
            "periode_mulai": max(arsip.mulai, today - dt.timedelta(days=180)).isoformat(),
            "periode_selesai": today.isoformat(),
        },
        "tz": svc.profile.tz,
        "open_form": "",
        "empty": FormErrors(),
        "selesai": "",
    }


@router.get("/monev/kerja-sama/{arsip_id}", response_class=HTMLResponse)
def agreement(
    request: Request,
    arsip_id: Id,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    selesai: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """An agreement's monev: its rounds, the decision to extend; the Kabag's forms to assign a team and
    to record the decision."""
    ctx = {**_agreement_context(svc, session, signed, arsip_id), "selesai": selesai}
    ctx["values"] = ctx["default_values"]
    return page(request, "monev/kerja_sama.html", ctx)


@router.post("/monev/kerja-sama/{arsip_id}/tugaskan", response_class=HTMLResponse)
def assign(
    request: Request,
    arsip_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    surat_perintah: Annotated[str, Form(max_length=400)] = "",
    ketua_tim: Annotated[str, Form(max_length=64)] = "",
    analis: Annotated[str, Form(max_length=64)] = "",
    periode_mulai: Annotated[str, Form(max_length=20)] = "",
    periode_selesai: Annotated[str, Form(max_length=20)] = "",
    catatan: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Step 1 from the page: the Kabag assigns a team (``monev.tugaskan``)."""
    values = {
        "surat_perintah": surat_perintah,
        "ketua_tim": ketua_tim,
        "analis": analis,
        "periode_mulai": periode_mulai,
        "periode_selesai": periode_selesai,
        "catatan": catatan,
    }
    try:
        data = monev.Penugasan.model_validate({**values, "analis": analis or None})
        round_ = monev.tugaskan(session, signed.user, svc.profile, arsip_id, data)
        session.flush()
    except (NaskahError, ValidationError) as exc:
        ctx = {**_agreement_context(svc, session, signed, arsip_id), "open_form": "tugaskan"}
        return form_error(
            request,
            "monev/kerja_sama.html",
            as_naskah_error(exc),
            form_fields=ASSIGN_FIELDS,
            values=values,
            context=ctx,
        )
    return RedirectResponse(f"/monev/{round_.id}?selesai=monev_tugaskan", status_code=303)


@router.post("/monev/kerja-sama/{arsip_id}/perpanjangan", response_class=HTMLResponse)
def decide(
    request: Request,
    arsip_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    keputusan: Annotated[str, Form(max_length=32)] = "",
    catatan_keputusan: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The Kabag's decision whether the agreement is extended (``monev.putuskan_perpanjangan``)."""
    values = {"keputusan": keputusan, "catatan_keputusan": catatan_keputusan}
    try:
        data = monev.Perpanjangan.model_validate({"keputusan": keputusan, "catatan": catatan_keputusan})
        monev.putuskan_perpanjangan(session, signed.user, svc.profile, arsip_id, data)
    except (NaskahError, ValidationError) as exc:
        error = as_naskah_error(exc)
        if isinstance(exc, ValidationError):
            error = type(error)(error.message, **{**error.detail, "field": "keputusan"})
        ctx = {**_agreement_context(svc, session, signed, arsip_id), "open_form": "perpanjangan"}
        return form_error(
            request, "monev/kerja_sama.html", error, form_fields=DECISION_FIELDS, values=values, context=ctx
        )
    return RedirectResponse(f"/monev/kerja-sama/{arsip_id}?selesai=perpanjangan", status_code=303)
