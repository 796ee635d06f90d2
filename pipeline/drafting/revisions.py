"""Revisions of a naskah: rendered from case data or uploaded from Word, never lost.

Write order, so that a crash anywhere leaves nothing half-visible:

1. the revision row is inserted as ``pending`` and committed (it holds the number it is
   a candidate for, the object keys and the sha256 of both files, computed before
   anything is stored);
2. the DOCX and the PDF/A are put into the versioned object store;
3. in one transaction the row becomes ``complete`` (with the version ids) and the
   naskah moves along the lifecycle (``revise``) under its optimistic lock.

The number is the newest complete one + 1: renders racing each other (in this process or
another) may hold the same candidate, and the first to complete takes it; the others lose on
the optimistic lock (409) and their number was never used, so the numbers of a naskah's
revisions stay 1, 2, 3, ... without gaps (unique among complete rows, by a partial index).

Only complete rows are ever listed or served.  ``reconcile`` finds pending rows left by
a crash and completes them (when both objects are in the store with the recorded hashes
and the naskah may still be revised) or discards them.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from pipeline import access, actions, audit
from pipeline.auth import require
from pipeline.drafting.cases import (
    NaskahInput,
    check_naskah_allowed,
    get_case,
    get_naskah,
    new_naskah,
    nomor_of,
    pihak_of,
)
from pipeline.drafting.convert import check_pdf
from pipeline.drafting.diff import SideBySide, diff_paragraphs, docx_paragraphs, side_by_side
from pipeline.drafting.docxcheck import check_docx
from pipeline.drafting.templates import (
    FieldSpec,
    TemplateInfo,
    dasar_hukum_baku,
    naskah_properties,
    render_docx,
    set_properties,
)
from pipeline.errors import Conflict, InvalidInput, NotFound, RuleViolation
from pipeline.lifecycle import Action
from pipeline.models import (
    JenisNaskah,
    KerjaSama,
    Naskah,
    NaskahFile,
    Paraf,
    Pihak,
    Revision,
    RevisionSource,
    RevisionState,
    User,
    utcnow,
)
from pipeline.sop import Profile
from storage.db import session_scope
from storage.objects import StoredObject

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "DOCX_TYPE",
    "PDF_TYPE",
    "NaskahPlan",
    "build_context",
    "create_naskah",
    "current_fields",
    "derived_file",
    "diff_revisions",
    "get_revision",
    "list_revisions",
    "plan_naskah",
    "read_revision_file",
    "reconcile",
    "render_revision",
    "side_by_side_revisions",
    "upload_revision",
]

log = logging.getLogger(__name__)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- template context ---------------------------------------------------------------


#: Template key of each party by its order (1 = PIHAK KESATU).
ORDINAL = {1: "pihak_kesatu", 2: "pihak_kedua", 3: "pihak_ketiga", 4: "pihak_keempat"}


def build_context(session: Session, case: KerjaSama, naskah: Naskah, data: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a template may use: the case, its parties (with this naskah's nomor), the
    parent naskah's nomor (the KB of a PKS, the PKS of a Surat Kuasa), then the drafter's
    own fields, which win over the derived ones.  A naskah cites at least one dasar hukum:
    when the drafter lists none, the defaults of the case's jenis kerja sama
    (``pipeline.drafting.templates.DASAR_HUKUM_BAKU``)."""
    pihak = pihak_of(session, case.id or 0)
    nomor = nomor_of(session, naskah.id or 0)
    ctx: dict[str, Any] = {
        "jenis_kerja_sama": case.jenis,
        "judul": case.judul,
        "objek": case.objek,
        "manfaat": case.manfaat,
        "bentuk": case.bentuk,
        "tahun_anggaran_mulai": case.tahun_anggaran_mulai,
        "mulai": case.mulai,
        "selesai": case.selesai,
        "opd_teknis": case.opd_teknis,
        "nomor": nomor.get(1, ""),
    }
    parent = session.get(Naskah, naskah.parent_id) if naskah.parent_id else None
    parent_nomor = nomor_of(session, parent.id or 0) if parent is not None else {}
    for p in pihak:
        key = ORDINAL.get(p.urutan)
        if key is None:
            continue
        ctx[key] = {
            "instansi": p.instansi,
            "nama": p.penandatangan_nama,
            "jabatan": p.penandatangan_jabatan,
            "nip": p.penandatangan_nip or "",
            "alamat": p.alamat or "",
            # A Surat Kuasa is numbered by PIHAK KESATU alone; the others keep the PKS's number.
            "nomor": nomor.get(p.urutan) or parent_nomor.get(p.urutan, ""),
        }
    if parent is not None:
        prefix = {JenisNaskah.KB.value: "kb", JenisNaskah.PKS.value: "pks"}.get(parent.jenis)
        if prefix:
            ctx[f"{prefix}_nomor_pihak_kesatu"] = parent_nomor.get(1, "")
            ctx[f"{prefix}_nomor_pihak_kedua"] = parent_nomor.get(2, "")
            ctx[f"{prefix}_judul"] = parent.data.get("judul", case.judul)
            if parent.data.get("tanggal"):
                ctx[f"{prefix}_tanggal"] = parent.data["tanggal"]
    ctx.update(data)
    if not ctx.get("dasar_hukum"):
        ctx["dasar_hukum"] = dasar_hukum_baku(case.jenis)
    return ctx


def lambang_images(svc: Services, pihak: list[Pihak]) -> dict[str, bytes]:
    """``{"lambang_pihak_kesatu": png, ...}`` for the parties that have a lambang (sha256 checked on read)."""
    images: dict[str, bytes] = {}
    for p in pihak:
        key = ORDINAL.get(p.urutan)
        if key and p.lambang_key and p.lambang_version_id and p.lambang_sha256:
            images[f"lambang_{key}"] = svc.get(p.lambang_key, p.lambang_version_id, p.lambang_sha256)
    return images


def _render(svc: Services, info: TemplateInfo, fields: dict[str, Any], pihak: list[Pihak]) -> bytes:
    """The template rendered with the parties' lambang (only the image fields it declares)."""
    wanted = {f.name for f in info.fields if f.type == "image"}
    images = {k: v for k, v in lambang_images(svc, pihak).items() if k in wanted} if wanted else {}
    return render_docx(info, fields, images=images)


def _template_fields(info: TemplateInfo, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Only the fields the template declares, JSON-ready (dates as ISO strings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    # Images (a lambang) are passed apart: the stored fields stay JSON.
    return {f.name: plain(ctx[f.name]) for f in info.fields if f.name in ctx and f.type != "image"}


# --- creating naskah and revisions ---------------------------------------------------


@dataclass(frozen=True)
class _Files:
    docx: bytes
    pdf: bytes
    pages: int


def _convert(svc: Services, docx: bytes) -> _Files:
    pdf = svc.converter.to_pdf(docx)
    return _Files(docx=docx, pdf=pdf, pages=check_pdf(pdf).pages)


def create_naskah(svc: Services, user: User, case_id: int, data: NaskahInput) -> tuple[Naskah, Revision]:
    """A new naskah from a template, with its first (rendered) revision."""
    with session_scope(svc.engine) as session:
        case = get_case(session, user, case_id, profile=svc.profile)
        parent = check_naskah_allowed(session, case, data.jenis, data.parent_id)
        info = _pick_template(svc, case, data.jenis, data.template)
        naskah = new_naskah(session, user, case, data, info.name, parent)
        fields = _template_fields(info, build_context(session, case, naskah, data.data))
        files = _convert(svc, _render(svc, info, fields, pihak_of(session, case.id or 0)))  # before anything is stored
        naskah_id = naskah.id
    assert naskah_id is not None
    try:
        revision = _store_revision(
            svc, user, naskah_id, files, RevisionSource.RENDERED, data.note or "Rancangan awal", fields, info
        )
    except BaseException:
        with session_scope(svc.engine) as session:  # no naskah without its first revision
            _delete_naskah(session, naskah_id)
        raise
    with session_scope(svc.engine) as session:
        return get_naskah(session, user, naskah_id, profile=svc.profile), revision


#: What ``build_context`` supplies from the case itself, whatever the template: a form for a new naskah
#: does not ask for these (the case's page is where they change).
CASE_KEYS = frozenset(
    {
        "jenis_kerja_sama",
        "judul",
        "objek",
        "manfaat",
        "bentuk",
        "tahun_anggaran_mulai",
        "mulai",
        "selesai",
        "opd_teknis",
        "nomor",
    }
)


@dataclass(frozen=True)
class NaskahPlan:
    """A new naskah before it is made: its template, its induk, and what the drafter still fills."""

    template: TemplateInfo
    parent: Naskah | None
    to_fill: tuple[FieldSpec, ...]
    """The template's fields the case, its parties and the induk do not supply (the lambang are the
    parties' uploads), in the manifest's order."""
    pihak: tuple[Pihak, ...]
    """The case's parties; each gives the naskah a nomor (a Surat Kuasa: PIHAK KESATU only)."""


def plan_naskah(
    svc: Services, user: User, case_id: int, jenis: JenisNaskah, template: str | None, parent_id: int | None
) -> NaskahPlan:
    """The checks of :func:`create_naskah` that come before any input of the naskah's own: the user
    may add a naskah to the case (403), the case may have this jenis and this induk (422), the
    template exists and serves it (404/422).  A form asks this first, then shows only what is left."""
    with session_scope(svc.engine) as session:
        require(user, "create_naskah")
        case = get_case(session, user, case_id, profile=svc.profile)
        access.require_case_editor(session, user, case)
        parent = check_naskah_allowed(session, case, jenis, parent_id)
        info = _pick_template(svc, case, jenis, template)
        pihak = pihak_of(session, case.id or 0)
        supplied = set(CASE_KEYS) | {ORDINAL[p.urutan] for p in pihak if p.urutan in ORDINAL}
        if parent is not None:
            prefix = {JenisNaskah.KB.value: "kb", JenisNaskah.PKS.value: "pks"}.get(parent.jenis, "")
            supplied |= {f"{prefix}_nomor_pihak_kesatu", f"{prefix}_nomor_pihak_kedua", f"{prefix}_judul"}
            if parent.data.get("tanggal"):
                supplied.add(f"{prefix}_tanggal")
        to_fill = tuple(f for f in info.fields if f.name not in supplied and f.type != "image")
        if parent is not None:
            session.expunge(parent)
        for p in pihak:
            session.expunge(p)
    return NaskahPlan(info, parent, to_fill, tuple(pihak))


def _delete_naskah(session: Session, naskah_id: int) -> None:
    from pipeline.models import NaskahNomor

    for row in session.exec(select(NaskahNomor).where(NaskahNomor.naskah_id == naskah_id)).all():
        session.delete(row)
    for rev in session.exec(select(Revision).where(Revision.naskah_id == naskah_id)).all():
        session.delete(rev)
    session.flush()
    naskah = session.get(Naskah, naskah_id)
    if naskah is not None:
        session.delete(naskah)


def _pick_template(svc: Services, case: KerjaSama, jenis: JenisNaskah, name: str | None) -> TemplateInfo:
    if name:
        info = svc.templates.get(name)
        if info.jenis != jenis.value:
            raise RuleViolation(
                f"Templat '{name}' untuk naskah {info.jenis}, bukan {jenis.value}.", template=name, jenis=jenis.value
            )
    else:
        choices = svc.templates.for_jenis(jenis.value)
        if not choices:
            raise NotFound(f"Belum ada templat untuk naskah {jenis.value}.", jenis=jenis.value)
        info = next((t for t in choices if t.name.endswith("/standar")), choices[0])
    if info.serves and case.jenis not in info.serves:
        raise RuleViolation(
            f"Templat '{info.name}' tidak untuk kerja sama {case.jenis}.", template=info.name, serves=list(info.serves)
        )
    return info


def render_revision(
    svc: Services,
    user: User,
    naskah_id: int,
    data: Mapping[str, Any] | None = None,
    note: str = "",
    *,
    discard_word_edits_through: int | None = None,
) -> Revision:
    """A new revision rendered from the case data as it is now, plus updated template fields.

    When the newest revision was uploaded from Word, rendering from data would silently drop the
    Word edits: refused (``Conflict``, ``reason: word_edits_would_be_lost``, with the paragraphs
    that would be lost) unless ``discard_word_edits_through`` names that newest revision, which
    the drafter does knowing what is given up.  Naming the revision, not just saying yes, means a
    confirmation made before someone uploaded again does not discard the newer edits.
    """
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        actions.check(naskah, user, Action.REVISE)
        case = get_case(session, user, naskah.kerja_sama_id, profile=svc.profile)
        info = svc.templates.get(naskah.template)
        merged = {**naskah.data, **(data or {})}
        fields = _template_fields(info, build_context(session, case, naskah, merged))
        pihak = pihak_of(session, case.id or 0)
        history = list_revisions(session, user, naskah_id, profile=svc.profile)
    docx = _render(svc, info, fields, pihak)
    uploads = _word_edits_since_rendered(history)
    if uploads and discard_word_edits_through != uploads[-1].number:
        raise _word_edits_refusal(svc, history, uploads, docx, discard_word_edits_through)
    files = _convert(svc, docx)
    return _store_revision(
        svc,
        user,
        naskah_id,
        files,
        RevisionSource.RENDERED,
        note,
        fields,
        info,
        merged,
        # a Word upload stored since the check above would be lost too (another render is harmless)
        no_uploads_after=history[-1].number if history else 0,
        detail={"discarded_word_edits": [r.number for r in uploads]} if uploads else None,
    )


def current_fields(svc: Services, user: User, naskah_id: int) -> tuple[TemplateInfo, dict[str, Any]]:
    """The naskah's template and the fields a render without changes would use now (its own data over
    the case's, exactly as :func:`render_revision` builds them), for a form that edits them.

    Only for who may revise the naskah now (the same check as :func:`render_revision`): a form shown to
    someone the render would refuse would only lead them into the refusal."""
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        actions.check(naskah, user, Action.REVISE)
        case = get_case(session, user, naskah.kerja_sama_id, profile=svc.profile)
        info = svc.templates.get(naskah.template)
        return info, _template_fields(info, build_context(session, case, naskah, naskah.data))


def _word_edits_since_rendered(history: list[Revision]) -> list[Revision]:
    """The uploaded revisions after the last rendered one (oldest first): the Word edits a render drops."""
    uploads: list[Revision] = []
    for rev in reversed(history):
        if rev.source != RevisionSource.UPLOADED.value:
            break
        uploads.insert(0, rev)
    return uploads


#: How much of the lost text a refusal carries (a whole rewritten naskah would be pages of it).
LOST_PARAGRAPHS_SHOWN = 20
LOST_PARAGRAPH_CHARS = 600


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(a=a.split(), b=b.split(), autojunk=False).ratio() >= 0.6


def _clip(text: str, limit: int = LOST_PARAGRAPH_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _word_edits_refusal(
    svc: Services, history: list[Revision], uploads: list[Revision], rendered: bytes, confirmed: int | None
) -> Conflict:
    """What rendering would do to the Word edits, as a refusal naming revisions and paragraphs.

    Compares (``pipeline.drafting.diff``) the newest uploaded DOCX with what rendering produces: paragraphs
    there that the render drops or changes are lost unless the last rendered revision already had
    them (then the change comes from the data, not from Word); paragraphs deleted in Word that the
    render brings back are listed apart.
    """
    base = next(r for r in reversed(history) if r.number < uploads[0].number)  # revision 1 is always rendered
    base_text = set(docx_paragraphs(read_revision_file(svc, base, "docx")))
    word = docx_paragraphs(read_revision_file(svc, uploads[-1], "docx"))
    word_text = set(word)
    diff = diff_paragraphs(word, docx_paragraphs(rendered))
    lost: list[str] = []
    restored: list[str] = []
    for hunk in diff["changes"]:
        lost += [p for p in hunk["old"] if p not in base_text and p not in lost]
        restored += [p for p in hunk["new"] if p in base_text and p not in word_text and p not in restored]
    # a paragraph edited in Word is reported once, as its lost edited text, not also as "coming back"
    restored = [p for p in restored if not any(_similar(p, edited) for edited in lost)]
    newest = uploads[-1].number
    numbers = ", ".join(str(r.number) for r in uploads)
    what = f"{len(lost)} paragraf suntingan Word hilang" if lost else "suntingan format Word hilang"
    if lost:
        what += f' (antara lain "{_clip(lost[0], 80)}")'
    if restored:
        what += f", {len(restored)} paragraf yang dihapus di Word muncul kembali"
    stale = f" Konfirmasi buang_suntingan_word: {confirmed} sudah usang." if confirmed is not None else ""
    return Conflict(
        f"Revisi {numbers} diunggah dari Word sesudah revisi {base.number} yang dirender dari data. "
        f"Merender dari data akan membuang suntingan Word sejak revisi {base.number}: {what}.{stale} "
        f"Untuk mempertahankannya, sunting revisi {newest} di Word lalu unggah; untuk tetap merender dan "
        f"membuangnya, kirim ulang dengan buang_suntingan_word: {newest}.",
        reason="word_edits_would_be_lost",
        last_rendered=base.number,
        uploaded_revisions=[r.number for r in uploads],
        confirm_with={"buang_suntingan_word": newest},
        lost_paragraphs=[_clip(p) for p in lost[:LOST_PARAGRAPHS_SHOWN]],
        lost_count=len(lost),
        restored_paragraphs=[_clip(p) for p in restored[:LOST_PARAGRAPHS_SHOWN]],
        restored_count=len(restored),
    )


def upload_revision(svc: Services, user: User, naskah_id: int, docx: bytes, note: str = "") -> Revision:
    """A new revision from a DOCX edited in Word; checked (size, macros, zip bombs) before anything else."""
    check_docx(docx, svc.docx_limits)
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        actions.check(naskah, user, Action.REVISE)
        rendered = session.exec(
            select(Revision)
            .where(
                Revision.naskah_id == naskah_id,
                Revision.state == RevisionState.COMPLETE.value,
                col(Revision.data).is_not(None),
            )
            .order_by(col(Revision.number).desc())
        ).first()
        fields = dict(rendered.data or {}) if rendered is not None else {}
        jenis = naskah.jenis
    # The PDF says what the naskah is (title, Pemda, nomor, id-ID), whatever the Word file's own
    # properties say; the DOCX is stored exactly as uploaded.
    pdf_source = docx
    if fields:
        try:
            pdf_source = set_properties(docx, naskah_properties(jenis, fields))
        except Exception:  # python-docx cannot rewrite it: convert it as it is (checked DOCX either way)
            log.warning("naskah %s: properties not applied to the uploaded DOCX", naskah_id, exc_info=True)
    files = _convert(svc, pdf_source)
    files = _Files(docx=docx, pdf=files.pdf, pages=files.pages)
    return _store_revision(svc, user, naskah_id, files, RevisionSource.UPLOADED, note)


def _store_revision(
    svc: Services,
    user: User,
    naskah_id: int,
    files: _Files,
    source: RevisionSource,
    note: str,
    fields: dict[str, Any] | None = None,
    info: TemplateInfo | None = None,
    naskah_data: dict[str, Any] | None = None,
    *,
    no_uploads_after: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Revision:
    """Store a revision in the three write steps (module docstring).  ``no_uploads_after``: the newest
    revision number the caller judged; refused if a Word upload has been stored after it since."""
    assert user.id is not None
    # 1. pending row: a candidate for the next number (the row that completes first takes it)
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        expected_version = naskah.lock_version
        if no_uploads_after is not None:
            _refuse_uploads_after(session, naskah_id, no_uploads_after)
        number = _next_number(session, naskah_id)
        base = f"naskah/{naskah_id}/r{number:03d}"
        row = Revision(
            naskah_id=naskah_id,
            number=number,
            state=RevisionState.PENDING.value,
            source=source.value,
            note=note.strip(),
            author_id=user.id,
            template_sha256=info.sha256 if info else None,
            data=fields,
            docx_key=f"{base}.docx",
            docx_sha256=_sha256(files.docx),
            docx_size=len(files.docx),
            pdf_key=f"{base}.pdf",
            pdf_sha256=_sha256(files.pdf),
            pdf_size=len(files.pdf),
            pdf_pages=files.pages,
        )
        session.add(row)
    # 2. objects
    try:
        docx_obj = svc.put(row.docx_key, files.docx, DOCX_TYPE)
        pdf_obj = svc.put(row.pdf_key, files.pdf, PDF_TYPE)
    except BaseException:
        _discard_pending(svc, row.id)
        raise
    # 3. complete + lifecycle step, atomically
    try:
        with session_scope(svc.engine) as session:
            naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
            if number == 1:  # the naskah exists for good only now, with its first revision
                _record_creation(session, user, naskah)
            actions.perform(
                session,
                naskah,
                user,
                Action.REVISE,
                note=note,
                revision_number=number,
                expected_version=expected_version,
                sha256=row.pdf_sha256,
                detail={"docx_sha256": row.docx_sha256, "source": source.value, **(detail or {})},
            )
            void_paraf(session, naskah_id)  # a new revision voids every paraf collected so far
            if naskah_data is not None:
                naskah.data = naskah_data
                session.add(naskah)
            done = session.get(Revision, row.id)
            assert done is not None
            done.docx_version_id = docx_obj.version_id
            done.pdf_version_id = pdf_obj.version_id
            done.state = RevisionState.COMPLETE.value
            done.completed_at = utcnow()
            session.add(done)
        log.info(
            "naskah %s revision %s stored (%s, docx %s, pdf %s)",
            naskah_id,
            number,
            source.value,
            row.docx_sha256[:12],
            row.pdf_sha256[:12],
        )
        return done
    except IntegrityError:  # another row completed this number first (the optimistic lock should say so)
        _discard_pending(svc, row.id)
        raise Conflict("Revisi lain disimpan bersamaan. Muat ulang lalu coba lagi.", naskah_id=naskah_id) from None
    except Exception:  # refused, or the database failed: the row stays pending only if it could not be dropped
        _discard_pending(svc, row.id)
        raise


def _refuse_uploads_after(session: Session, naskah_id: int, number: int) -> None:
    newer = session.exec(
        select(Revision.number).where(
            Revision.naskah_id == naskah_id,
            Revision.number > number,
            Revision.source == RevisionSource.UPLOADED.value,
        )
    ).first()
    if newer is not None:
        raise Conflict(
            f"Revisi {newer} diunggah dari Word sementara revisi ini dirender; perenderan dibatalkan agar "
            "suntingan itu tidak hilang. Periksa revisi terbaru lalu ulangi.",
            naskah_id=naskah_id,
            reason="newer_revision",
            revision=newer,
        )


def _record_creation(session: Session, user: User | None, naskah: Naskah) -> None:
    audit.record(
        session,
        user,
        audit.AuditAction.CREATE_NASKAH,
        naskah_id=naskah.id,
        kerja_sama_id=naskah.kerja_sama_id,
        jenis=naskah.jenis,
        template=naskah.template,
        parent_id=naskah.parent_id,
    )


def derived_file(
    naskah_id: int, kind: str, revision_number: int, step: int, stored: StoredObject, user_id: int
) -> NaskahFile:
    """The row for a PDF derived from a revision (after a paraf, the final PDF, a signed state)."""
    return NaskahFile(
        naskah_id=naskah_id,
        kind=kind,
        revision_number=revision_number,
        step=step,
        key=stored.key,
        version_id=stored.version_id,
        sha256=stored.sha256,
        size=stored.size,
        created_by=user_id,
    )


def void_paraf(session: Session, naskah_id: int) -> int:
    """Mark every active paraf of the naskah void (they were given on an older text)."""
    rows = session.exec(select(Paraf).where(Paraf.naskah_id == naskah_id, col(Paraf.voided_at).is_(None))).all()
    now = utcnow()
    for row in rows:
        row.voided_at = now
        session.add(row)
    return len(rows)


def _discard_pending(svc: Services, revision_id: int | None) -> None:
    """Drop a pending row whose objects could not be confirmed (best effort; reconcile retries)."""
    try:
        with session_scope(svc.engine) as session:
            row = session.get(Revision, revision_id)
            if row is not None and row.state == RevisionState.PENDING.value:
                session.delete(row)
    except Exception:  # the database may be the thing that is down; reconcile will clean up
        log.exception("could not discard pending revision %s", revision_id)


def _next_number(session: Session, naskah_id: int) -> int:
    """The newest complete revision's number + 1 (pending rows, racing or left by a crash, do not count)."""
    current = session.exec(
        select(func.max(Revision.number)).where(
            Revision.naskah_id == naskah_id, Revision.state == RevisionState.COMPLETE.value
        )
    ).one()
    return (current or 0) + 1


# --- reading ------------------------------------------------------------------------


def list_revisions(session: Session, user: User, naskah_id: int, *, profile: Profile) -> list[Revision]:
    """Every complete revision, oldest first: internal drafting material (``access.require_internal``)."""
    get_naskah(session, user, naskah_id, profile=profile)
    access.require_internal(user, naskah_id)
    return list(
        session.exec(
            select(Revision)
            .where(Revision.naskah_id == naskah_id, Revision.state == RevisionState.COMPLETE.value)
            .order_by(col(Revision.number))
        ).all()
    )


def latest_complete(session: Session, naskah_id: int) -> Revision | None:
    """The newest complete revision of a naskah (no permission check: for the pipeline's own reads)."""
    return session.exec(
        select(Revision)
        .where(Revision.naskah_id == naskah_id, Revision.state == RevisionState.COMPLETE.value)
        .order_by(col(Revision.number).desc())
    ).first()


def get_revision(session: Session, user: User, naskah_id: int, number: int, *, profile: Profile) -> Revision:
    """One complete revision: internal drafting material (``access.require_internal``)."""
    get_naskah(session, user, naskah_id, profile=profile)
    access.require_internal(user, naskah_id)
    row = session.exec(
        select(Revision).where(
            Revision.naskah_id == naskah_id,
            Revision.number == number,
            Revision.state == RevisionState.COMPLETE.value,
        )
    ).first()
    if row is None:
        raise NotFound(f"Revisi {number} dari naskah {naskah_id} tidak ditemukan.", naskah_id=naskah_id, number=number)
    return row


def latest_revision(session: Session, user: User, naskah_id: int, *, profile: Profile) -> Revision | None:
    get_naskah(session, user, naskah_id, profile=profile)
    return latest_complete(session, naskah_id)


def read_revision_file(svc: Services, revision: Revision, kind: str) -> bytes:
    """The stored bytes, byte-identical, with the sha256 checked on the way out."""
    if kind == "docx":
        assert revision.docx_version_id is not None
        return svc.get(revision.docx_key, revision.docx_version_id, revision.docx_sha256)
    if kind == "pdf":
        assert revision.pdf_version_id is not None
        return svc.get(revision.pdf_key, revision.pdf_version_id, revision.pdf_sha256)
    raise InvalidInput("Jenis berkas harus 'docx' atau 'pdf'.", kind=kind)


def _paragraphs(svc: Services, user: User, naskah_id: int, a: int, b: int) -> tuple[list[str], list[str]]:
    """The paragraphs of two revisions a user may compare (internal drafting material)."""
    with session_scope(svc.engine) as session:
        rev_a = get_revision(session, user, naskah_id, a, profile=svc.profile)
        rev_b = get_revision(session, user, naskah_id, b, profile=svc.profile)
    return docx_paragraphs(read_revision_file(svc, rev_a, "docx")), docx_paragraphs(
        read_revision_file(svc, rev_b, "docx")
    )


def diff_revisions(
    svc: Services, user: User, naskah_id: int, a: int, b: int, *, berdampingan: bool = False
) -> dict[str, Any]:
    """Paragraph-level comparison of the text of two revisions; ``berdampingan`` adds the aligned
    rows of the side-by-side view (``rows``, see :func:`pipeline.drafting.diff.side_by_side`)."""
    old, new = _paragraphs(svc, user, naskah_id, a, b)
    result: dict[str, Any] = {"naskah_id": naskah_id, "a": a, "b": b, **diff_paragraphs(old, new)}
    if berdampingan:
        view = side_by_side(old, new)
        result["rows"] = [asdict(row) for row in view.rows]
        result["row_counts"] = view.counts
    return result


def side_by_side_revisions(svc: Services, user: User, naskah_id: int, a: int, b: int) -> SideBySide:
    """Revision ``a`` (left) beside revision ``b`` (right), paragraph by paragraph, for a page that
    loops over ``rows`` and wraps each ``removed``/``added`` span in ``<del>``/``<ins>``."""
    return side_by_side(*_paragraphs(svc, user, naskah_id, a, b))


# --- reconcile ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReconcileResult:
    revision_id: int
    naskah_id: int
    number: int
    outcome: str  # "completed" | "discarded" | "skipped"
    reason: str


def reconcile(
    svc: Services, *, older_than: timedelta = timedelta(minutes=10), dry_run: bool = False
) -> list[ReconcileResult]:
    """Repair pending revision rows left by a crash between the three write steps.

    A pending row is completed when it is the newest row of its naskah, both objects are
    in the store with the recorded sha256, and the naskah may still be revised; any other
    pending row is discarded (its number is freed; its stray object versions are left to
    ``pipeline.archival.cleanup``, since only complete rows point at objects).  ``dry_run``: judge
    each row and say what would be done (outcome ``would complete`` / ``would discard``),
    changing nothing.
    """
    cutoff = utcnow() - older_than
    results: list[ReconcileResult] = []
    with session_scope(svc.engine) as session:
        pending = session.exec(
            select(Revision).where(Revision.state == RevisionState.PENDING.value).order_by(col(Revision.id))
        ).all()
        candidates = [r for r in pending if r.created_at <= cutoff]
    for row in candidates:
        results.append(_reconcile_one(svc, row, dry_run=dry_run))
    return results


def _find_version(svc: Services, key: str, sha256: str) -> str | None:
    from pipeline.errors import store_errors

    with store_errors():
        for obj in reversed(svc.store.versions(key)):
            if obj.sha256 == sha256:
                return obj.version_id
    return None


def _reconcile_one(svc: Services, row: Revision, *, dry_run: bool = False) -> ReconcileResult:
    from pipeline.lifecycle import Status, resolve

    def result(outcome: str, reason: str) -> ReconcileResult:
        log.warning("reconcile revision %s (naskah %s r%s): %s, %s", row.id, row.naskah_id, row.number, outcome, reason)
        return ReconcileResult(row.id or 0, row.naskah_id, row.number, outcome, reason)

    docx_v = _find_version(svc, row.docx_key, row.docx_sha256)
    pdf_v = _find_version(svc, row.pdf_key, row.pdf_sha256)
    with session_scope(svc.engine) as session:
        current = session.get(Revision, row.id)
        if current is None or current.state != RevisionState.PENDING.value:
            return result("skipped", "already handled")
        naskah = session.get(Naskah, row.naskah_id)
        newest = session.exec(select(func.max(Revision.number)).where(Revision.naskah_id == row.naskah_id)).one()
        taken = session.exec(
            select(func.max(Revision.number)).where(
                Revision.naskah_id == row.naskah_id, Revision.state == RevisionState.COMPLETE.value
            )
        ).one()
        reason = ""
        if docx_v is None or pdf_v is None:
            reason = "objects missing from the store"
        elif newest != row.number or (taken or 0) >= row.number:  # a later row, or this number completed already
            reason = "a newer revision exists"
        elif naskah is None:
            reason = "naskah missing"
        else:
            try:
                transition = resolve(Status(naskah.status), Action.REVISE)
            except LookupError:
                reason = f"naskah is now {naskah.status}"
        if dry_run:
            return result("would discard" if reason else "would complete", reason or "both objects found")
        if reason:
            session.delete(current)
            return result("discarded", reason)
        assert naskah is not None
        source = naskah.status
        actions.advance(session, naskah, transition, naskah.lock_version)
        void_paraf(session, row.naskah_id)
        author = session.get(User, current.author_id)
        if current.number == 1:
            _record_creation(session, author, naskah)
        audit.record(
            session,
            author,
            Action.REVISE.value,
            naskah_id=naskah.id,
            sha256=current.pdf_sha256,
            from_status=source,
            to_status=transition.target.value,
            revision_number=current.number,
            docx_sha256=current.docx_sha256,
            source=current.source,
            reconciled=True,
        )
        current.docx_version_id, current.pdf_version_id = docx_v, pdf_v
        current.state = RevisionState.COMPLETE.value
        current.completed_at = utcnow()
        session.add(current)
        return result("completed", "both objects found with matching sha256")
