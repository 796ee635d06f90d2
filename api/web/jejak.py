"""The audit trail's pages: a naskah's timeline (``/naskah/{id}/jejak``, as ``GET /api/v1/naskah/{id}/audit``),
the whole trail filtered (``/audit``, as ``GET /api/v1/audit``) and "Periksa rantai" (``POST /audit/periksa``,
as ``POST /api/v1/audit/periksa``).

Who sees what is ``pipeline.audit``'s: a naskah's timeline for whoever may see the naskah's internal
material (404 for a naskah they may not see, as for one that does not exist; 403 for a counterparty's
official, as the API); the whole trail and the chain check for ``audit.READERS`` (403 for others).

The chain check is recorded as an entry holding its result (``verify_chain``); the form posts, the
check runs and is recorded, and the browser is sent to ``/audit?periksa=<seq>`` which shows that
entry's result (Post/Redirect/Get: reloading does not check again).  Only when the chain's head is
gone, so nothing can be recorded, the result is the POST's answer itself.
"""

from __future__ import annotations

import math
from datetime import tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import Id, ServicesDep, SessionDep
from api.web.laporan import VERDICTS
from api.web.naskah import waktu
from api.web.render import FormErrors, as_naskah_error, page, page_links
from api.web.security import FormUser, PageUser
from pipeline import audit
from pipeline.auth import allowed
from pipeline.drafting import cases
from pipeline.drafting.templates import NAMA_NASKAH
from pipeline.errors import InvalidInput, NaskahError
from pipeline.lifecycle import STATUS_LABELS
from pipeline.models import AuditEntry, User
from pipeline.sop import Profile

__all__ = ["describe", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
QUERY_FIELDS = ["action", "actor", "naskah", "dari", "sampai", "q"]
SHA_SHOWN = 12
"""How much of a sha256 a person is shown (the whole one is in the title and the API)."""

_STATUS = {s.value: label for s, label in STATUS_LABELS.items()}
_MODES = {"tatap_muka": "tatap muka (di server)", "desk": "desk to desk (mitra menandatangani di sistemnya)"}
_CHAIN = {True: "utuh", False: "rusak"}
_SOURCES = {"rendered": "disusun dari templat", "uploaded": "diunggah dari Word"}
_FIELDS = {
    "username": "Akun",
    "jenis": "Jenis",
    "judul": "Judul",
    "label": "Label token",
    "token_id": "Token",
    "subject": "Subjek sertifikat",
    "tokens_revoked": "Token dicabut",
    "sessions_ended": "Sesi diakhiri",
    "signer": "Penanda tangan (sertifikat)",
    "field": "Kolom tanda tangan",
    "page": "Halaman",
    "tanggal_ttd": "Tanggal tanda tangan",
    "count": "Entri diperiksa",
    "template": "Templat",
    "parent_id": "Naskah induk",
    "opd": "OPD",
    "pihak_luar": "Pejabat pihak mitra",
    "instansi": "Instansi",
    "discarded_word_edits": "Suntingan Word yang dibuang (revisi)",
    "nama": "Nama",
    "jabatan": "Jabatan",
    "nip": "NIP",
    "nik": "NIK",
    "active": "Aktif",
}
_HIDDEN = {"from_status", "to_status", "revision_number", "note", "urutan", "posisi", "kind", "docx_sha256", "key"}
_HIDDEN |= {"version_id", "reconciled", "ok", "head_seq", "head_hash", "broken_seq", "problem", "message"}


def _short(sha: str | None) -> str:
    return (sha or "")[:SHA_SHOWN]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def describe(entry: AuditEntry, profile: Profile) -> list[tuple[str, str]]:
    """The entry's detail as a person reads it: (label, value) in Indonesian, the facts that matter first
    (revision, status change, paraf step, signer, verdict), then any other fact as recorded."""
    d = entry.detail or {}
    out: list[tuple[str, str]] = []
    if d.get("revision_number"):
        out.append(("Revisi", str(d["revision_number"])))
    if d.get("from_status") and d.get("to_status") and d["from_status"] != d["to_status"]:
        out.append(
            (
                "Status",
                f"{_STATUS.get(d['from_status'], d['from_status'])} → {_STATUS.get(d['to_status'], d['to_status'])}",
            )
        )
    if "urutan" in d and entry.action in ("paraf", "refuse_paraf"):
        position = profile.positions.get(str(d.get("posisi", "")))
        step = f"ke-{d['urutan']}" + (f", sebagai {position.jabatan}" if position else "")
        out.append(("Paraf", step))
    elif "urutan" in d:
        out.append(("Urutan tanda tangan", str(d["urutan"])))
    if "verdict" in d:
        out.append(("Hasil", VERDICTS.get(str(d["verdict"]), str(d["verdict"]))))
    if entry.action == audit.AuditAction.VERIFY_CHAIN.value:
        out.append(("Rantai", _CHAIN[bool(d.get("ok"))]))
        if not d.get("ok") and d.get("message"):
            out.append(("Putus pada", f"entri {d.get('broken_seq')}: {d['message']}"))
    if "mode" in d:
        out.append(("Cara", _MODES.get(str(d["mode"]), str(d["mode"]))))
    if "what" in d:
        out.append(("Berkas", "naskah asli di arsip" if d["what"] == "arsip" else str(d["what"])))
    if "file" in d:
        out.append(("Berkas", str(d["file"])))
    if "source" in d:
        out.append(("Asal revisi", _SOURCES.get(str(d["source"]), str(d["source"]))))
    if "fields" in d:
        out.append(("Isian diubah", _shown(d["fields"])))
    if "previous_sha256" in d:
        out.append(("Sidik sebelumnya", _short(str(d["previous_sha256"]))))
    done = {"verdict", "mode", "what", "file", "source", "fields", "previous_sha256"}
    for key, value in d.items():
        if value in (None, "", []) or key in done:
            continue
        if key in ("roles", "posisi") and isinstance(value, list):
            out.append(("Peran" if key == "roles" else "Posisi", _shown(value)))
            continue
        if key in _HIDDEN:
            continue
        out.append((_FIELDS.get(key, key), _shown(value)))
    return out


def _entries(rows: list[AuditEntry], people: dict[int, User], profile: Profile, tz: tzinfo) -> list[dict[str, Any]]:
    """What the timeline and the list show of each entry."""
    out = []
    for r in rows:
        who = people.get(r.actor_id) if r.actor_id is not None else None
        note = str((r.detail or {}).get("note") or "")
        out.append(
            {
                "seq": r.seq,
                "action": r.action,
                "label": audit.ACTION_LABELS.get(r.action, r.action),
                "nama": who.nama if who else ("Sistem" if r.actor == "system" else r.actor),
                "jabatan": who.jabatan if who else ("proses otomatis" if r.actor == "system" else ""),
                "username": r.actor,
                "waktu": waktu(r.at, tz),
                "iso": r.at.isoformat(),
                "sha": r.object_sha256,
                "sha_short": _short(r.object_sha256),
                "facts": describe(r, profile),
                "note": note,
                "refusal": r.action in ("return", "refuse_paraf"),
                "naskah_id": r.naskah_id,
                "kerja_sama_id": r.kerja_sama_id,
            }
        )
    return out


def _page_no(halaman: str) -> int:
    return int(halaman) if halaman.isdigit() and 0 < int(halaman) < 100_000 else 1


@router.get("/naskah/{naskah_id}/jejak", response_class=HTMLResponse)
def timeline(
    request: Request, naskah_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep, halaman: str = "1"
) -> HTMLResponse:
    """The naskah's timeline, newest first (``audit.trail``, as ``GET /api/v1/naskah/{id}/audit``)."""
    user = signed.user
    page_no = _page_no(halaman)
    rows, count = audit.trail(
        session,
        user,
        naskah_id,
        profile=svc.profile,
        offset=(page_no - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
        newest_first=True,
    )
    naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    pages = max(1, math.ceil(count / PAGE_SIZE))

    def link(n: int) -> str:
        return f"/naskah/{naskah_id}/jejak?halaman={n}"

    nama = NAMA_NASKAH.get(naskah.jenis, naskah.jenis)
    ctx = {
        "title": f"Jejak audit {nama} {naskah.id}",
        "naskah": naskah,
        "nama_naskah": nama,
        "entries": _entries(rows, audit.people_of(session, rows), svc.profile, svc.profile.tz),
        "count": count,
        **page_links(page_no, pages, link),
        "first": (page_no - 1) * PAGE_SIZE + 1,
        "last": (page_no - 1) * PAGE_SIZE + len(rows),
        "reads_all": audit.may_read_all(user),
    }
    return page(request, "jejak/naskah.html", ctx)


def _list_context(
    request: Request, signed: Any, svc: Any, session: Any, values: dict[str, str], page_no: int
) -> tuple[dict[str, Any], FormErrors]:
    """The whole trail's list for the page's filters (``audit.search``, as ``GET /api/v1/audit``)."""
    user = signed.user
    audit.require_reader(user)
    given = {k: v.strip() for k, v in values.items() if v.strip()}
    rows: list[AuditEntry] = []
    count = 0
    errors = FormErrors()
    try:
        query = audit.AuditQuery(**given, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        rows, count = audit.search(session, user, query, profile=svc.profile)
    except (ValidationError, NaskahError) as exc:
        error = as_naskah_error(exc)
        if not isinstance(error, InvalidInput):
            raise error from None
        errors = FormErrors.from_error(error, QUERY_FIELDS)
    pages = max(1, math.ceil(count / PAGE_SIZE))

    def link(n: int) -> str:
        return "/audit?" + urlencode({**given, "halaman": n})

    naskah = audit.naskah_of(session, rows)
    ctx = {
        "title": "Jejak audit",
        "entries": _entries(rows, audit.people_of(session, rows), svc.profile, svc.profile.tz),
        "naskah_names": {i: f"{NAMA_NASKAH.get(n.jenis, n.jenis)} {i}" for i, n in naskah.items()},
        "count": count,
        **page_links(page_no, pages, link),
        "first": (page_no - 1) * PAGE_SIZE + 1,
        "last": (page_no - 1) * PAGE_SIZE + len(rows),
        "values": values,
        "errors": errors,
        "form_fields": QUERY_FIELDS,
        "filtered": bool(given),
        "action_choices": audit.ACTION_LABELS,
        "actor_choices": audit.actors(session),
        "opens_naskah": allowed(user, "read"),
        "check": None,
    }
    return ctx, errors


def _check_context(entry: AuditEntry | None, report: audit.ChainReport, session: Any, tz: tzinfo) -> dict[str, Any]:
    people = audit.people_of(session, [entry]) if entry is not None else {}
    who = people.get(entry.actor_id) if entry is not None and entry.actor_id is not None else None
    return {
        "report": report,
        "seq": entry.seq if entry is not None else None,
        "oleh": who.nama if who else (entry.actor if entry is not None else ""),
        "waktu": waktu(entry.at, tz) if entry is not None else "",
        "head_short": _short(report.head_hash),
    }


@router.get("/audit", response_class=HTMLResponse)
def daftar(
    request: Request,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    action: str = "",
    actor: str = "",
    naskah: str = "",
    dari: str = "",
    sampai: str = "",
    q: str = "",
    halaman: str = "1",
    periksa: str = "",
) -> HTMLResponse:
    """The whole trail, filtered, newest first; ``periksa``: a chain check's recorded result shown on top."""
    values = {"action": action, "actor": actor, "naskah": naskah, "dari": dari, "sampai": sampai, "q": q}
    ctx, errors = _list_context(request, signed, svc, session, values, _page_no(halaman))
    if periksa.isdigit() and 0 < int(periksa) < 2**62:
        entry, report = audit.chain_result(session, signed.user, int(periksa))
        ctx["check"] = _check_context(entry, report, session, svc.profile.tz)
    return page(request, "jejak/daftar.html", ctx, status_code=422 if errors else 200)


@router.post("/audit/periksa", response_class=HTMLResponse)
def periksa(request: Request, signed: FormUser, svc: ServicesDep, session: SessionDep) -> Response:
    """Check the chain (``audit.check_chain``, as ``POST /api/v1/audit/periksa``), recorded with its result,
    then show it (303 to the list with the result on top)."""
    report, entry = audit.check_chain(session, signed.user)
    if entry is not None:
        return RedirectResponse(f"/audit?periksa={entry.seq}#rantai", status_code=303)
    values = dict.fromkeys(QUERY_FIELDS, "")
    ctx, _ = _list_context(request, signed, svc, session, values, 1)
    ctx["check"] = _check_context(None, report, session, svc.profile.tz)
    return page(request, "jejak/daftar.html", ctx)
