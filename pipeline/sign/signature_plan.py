"""The signature plan of a naskah, and carrying it out: tatap muka or desk to desk.

A plan lists the signers in order, each for a party's signature field (created with the
final PDF, so no field is ever added after a signature).  Everyone signs the FINAL PDF
(all paraf); each signature is an incremental update, so earlier ones stay valid.

- tatap muka: every signer signs on the server, in order, with a digest-signing backend
  (PKCS#12 file, PKCS#11 token, CSC service); the secret is given at the moment of signing
  and never stored.
- desk to desk: the counterparty's step is ``external``: we export the current PDF, they
  sign it in their own system with any CA and send it back; ``import_signed`` proves it is
  our document with only their signature added (``desk.check_returned``), then our own
  signature follows as a further incremental update.

Order of writes as elsewhere: the signed PDF is stored first, then the step, the file row
and the lifecycle step commit together under the naskah's optimistic lock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from pypdf import PdfReader
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pipeline import access, actions, audit
from pipeline.approval.paraf import SigningParty, field_name, final_file, signing_parties
from pipeline.approval.stamp import lock_signature_field
from pipeline.drafting.cases import get_naskah, pihak_of
from pipeline.drafting.revisions import PDF_TYPE, derived_file, get_revision
from pipeline.errors import (
    ActionNotAvailable,
    Conflict,
    InvalidInput,
    NotFound,
    NotPermitted,
    ServiceUnavailable,
    SigningRefused,
)
from pipeline.identity import Official, official_for_user, require_belongs, same_person
from pipeline.lifecycle import Action, Role, Status
from pipeline.models import MAX_ID, Naskah, NaskahFile, Pihak, Revision, SignaturePlan, SignatureStep, User, utcnow
from pipeline.pdf.pdflimits import check_pdf
from pipeline.pdf.pdfread import open_reader
from pipeline.sign import signing_date
from pipeline.sign.certpolicy import check_for_signing, static_problems
from pipeline.sign.desk import (
    ImportCheck,
    SignaturePlacement,
    check_returned,
    confirm_trust,
    export_for_counterparty,
)
from pipeline.sign.kuasa import Kuasa, check_certificate, find_kuasa
from pipeline.sign.pades import raise_to_level, require_reachable, require_reached
from pipeline.sign.pdfworker import check_returned_bounded
from pipeline.sign.publiklink import link_token, qr_reference
from pipeline.sign.readiness import Readiness, judge
from pipeline.sign.signer_config import configured_signer
from pipeline.sign.signers import DigestSignerBackend, RemoteSignRequest, WholeFileSignerBackend
from pipeline.sign.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context
from pipeline.sign.signing_date import KonfirmasiTanggal
from pipeline.textcheck import Line
from storage.db import session_scope

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "PlanInput",
    "PlanStepInput",
    "create_plan",
    "current_file",
    "expected_signers",
    "export_current",
    "get_plan",
    "import_signed",
    "my_step",
    "next_step",
    "readiness",
    "sign_configured",
    "sign_step",
    "sign_step_whole_file",
    "steps_of",
]

log = logging.getLogger(__name__)


class PlanStepInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pihak_urutan: int = Field(ge=1, description="pihak yang ditandatangani (1 = PIHAK KESATU)")
    username: Line | None = Field(default=None, max_length=64, description="pengguna yang menandatangani di server")
    external: bool = Field(default=False, description="desk to desk: pihak ini menandatangani di sistemnya sendiri")
    kuasa_naskah_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="PKS: id Surat Kuasa bila Kepala OPD menandatangani atas kuasa Kepala Daerah "
        "(kosong = dicari otomatis bila penanda tangan bukan Kepala Daerah)",
    )


class PlanInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["tatap_muka", "desk"]
    steps: list[PlanStepInput] | None = Field(
        default=None,
        description="urutan penanda tangan; kosong = bawaan (desk: mitra lalu Kepala Daerah)",
    )


def get_plan(session: Session, naskah_id: int) -> SignaturePlan | None:
    return session.exec(select(SignaturePlan).where(SignaturePlan.naskah_id == naskah_id)).first()


def steps_of(session: Session, plan: SignaturePlan) -> list[SignatureStep]:
    return list(
        session.exec(
            select(SignatureStep).where(SignatureStep.plan_id == plan.id).order_by(col(SignatureStep.urutan))
        ).all()
    )


def next_step(session: Session, plan: SignaturePlan) -> SignatureStep | None:
    return next((s for s in steps_of(session, plan) if s.signed_at is None), None)


def current_file(session: Session, plan: SignaturePlan) -> NaskahFile:
    """The newest state of the document: the last signed file, else the final PDF."""
    signed = [s for s in steps_of(session, plan) if s.file_id is not None]
    file_id = signed[-1].file_id if signed else plan.final_file_id
    file = session.get(NaskahFile, file_id)
    assert file is not None
    return file


def _our_signer(session: Session, svc: Services, naskah: Naskah) -> User:
    position = svc.profile.signer(naskah.jenis)
    users = session.exec(select(User).where(User.active == True)).all()  # noqa: E712 - SQL comparison
    for u in users:
        if position.key in u.posisi_set and Role.SIGNER.value in u.role_set:
            return u
    raise InvalidInput(
        f"Belum ada pengguna dengan posisi '{position.key}' ({position.jabatan}) dan peran signer.",
        posisi=position.key,
    )


def create_plan(svc: Services, user: User, naskah_id: int, data: PlanInput) -> SignaturePlan:
    """Fix who signs, in which order and how, once the final PDF exists (status ``signing``).

    Each server signer must be the person printed in that party's signature block; PIHAK
    KESATU is signed by the profile's signer (the Kepala Daerah) or, for a PKS, by the Kepala
    OPD under a valid Surat Kuasa, whose signed PDF is then embedded in the document.
    """
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        if not ({Role.DRAFTER.value, Role.SECRETARIAT.value} & user.role_set):
            raise NotPermitted("Rencana tanda tangan disusun oleh drafter atau sekretariat.")
        if Role.SECRETARIAT.value not in user.role_set:  # a drafter: one of this naskah's
            access.require_naskah_editor(session, user, naskah)
        if naskah.status != Status.SIGNING.value:
            raise ActionNotAvailable(
                "Rencana tanda tangan dibuat setelah semua paraf diberikan (status penandatanganan).",
                status=naskah.status,
            )
        final = final_file(session, naskah_id)
        if final is None:
            raise ActionNotAvailable("PDF final belum ada: rantai paraf belum lengkap.")
        existing = get_plan(session, naskah_id)
        if existing is not None:
            if any(s.signed_at for s in steps_of(session, existing)):
                raise Conflict("Rencana tidak dapat diubah: sudah ada tanda tangan.", naskah_id=naskah_id)
            # the steps before their plan (no ORM relationship orders the deletes); a plan that is gone
            # by now was replaced by a concurrent request
            session.execute(sa.delete(SignatureStep).where(col(SignatureStep.plan_id) == existing.id))
            if session.execute(sa.delete(SignaturePlan).where(col(SignaturePlan.id) == existing.id)).rowcount != 1:
                raise _planned_meanwhile(naskah_id)
        revision = get_revision(session, user, naskah_id, final.revision_number, profile=svc.profile)
        today = dt.datetime.now(svc.profile.tz).date()
        stated = signing_date.stated_signing(session, revision, _declared_fields(svc, naskah))
        signing_date.check_plan(stated, data.mode, today, svc.profile.tz)
        parties = signing_parties(session, naskah, revision)
        ours = _our_signer(session, svc, naskah)
        steps = data.steps or _default_steps(data.mode, ours)
        if sorted(s.pihak_urutan for s in steps) != sorted(parties):
            raise InvalidInput(
                "Rencana harus memuat tepat satu penanda tangan untuk setiap pihak.",
                pihak=sorted(parties),
                given=[s.pihak_urutan for s in steps],
            )
        rows: list[SignatureStep] = []
        attachments: list[tuple[str, bytes]] = []
        for urutan, step in enumerate(steps, start=1):
            party = parties[step.pihak_urutan]
            signer_user, kuasa = None, None
            if step.external:
                if data.mode != "desk":
                    raise InvalidInput("Penanda tangan eksternal hanya untuk mode desk to desk.", urutan=urutan)
                if step.kuasa_naskah_id is not None:
                    raise InvalidInput("Surat Kuasa hanya untuk penanda tangan di server.", urutan=urutan)
            else:
                signer_user = _user_named(session, step.username) if step.username else ours
                kuasa = _check_signer(svc, session, naskah, revision, party, signer_user, step, today)
                if kuasa is not None:
                    attachments.append(_signed_sk(svc, session, kuasa))
            rows.append(
                SignatureStep(
                    plan_id=0,
                    urutan=urutan,
                    pihak_urutan=step.pihak_urutan,
                    field_name=field_name(step.pihak_urutan),
                    nama=party.nama,
                    jabatan=party.jabatan,
                    user_id=signer_user.id if signer_user else None,
                    external=step.external,
                    kuasa_naskah_id=kuasa.naskah_id if kuasa else None,
                )
            )
        if svc.profile.pemisahan_tugas:
            _one_party_each(session, rows)
        assert user.id is not None and final.id is not None
        locked = _locked_final(svc, user, final, field_name(steps[-1].pihak_urutan), attachments)
        session.add(locked)
        session.flush()
        assert locked.id is not None
        plan = SignaturePlan(
            naskah_id=naskah_id,
            mode=data.mode,
            final_file_id=locked.id,
            created_by=user.id,
            tanggal_naskah=stated.tanggal,
        )
        session.add(plan)
        try:
            session.flush()
        except IntegrityError:  # a concurrent request made the plan first (one plan per naskah)
            raise _planned_meanwhile(naskah_id) from None
        for row in rows:
            row.plan_id = plan.id or 0
            session.add(row)
        session.flush()
        svc.after_step(session, naskah, user)  # the first signer's turn (or the export's)
        audit.record(
            session, user, audit.AuditAction.SIGNATURE_PLAN, naskah_id=naskah_id, sha256=locked.sha256, mode=data.mode
        )
        return plan


def _one_party_each(session: Session, rows: list[SignatureStep]) -> None:
    """Separation of duties: one person signs for one party of a naskah, never for two."""
    seen: dict[int, SignatureStep] = {}
    for row in rows:
        if row.user_id is None:
            continue
        earlier = seen.setdefault(row.user_id, row)
        if earlier is not row:
            signer = session.get(User, row.user_id)
            name = signer.username if signer else str(row.user_id)
            raise InvalidInput(
                f"Pemisahan tugas: '{name}' tidak dapat menandatangani untuk dua pihak (pihak "
                f"{earlier.pihak_urutan} dan pihak {row.pihak_urutan}) pada naskah yang sama.",
                reason="separation_of_duties",
                username=name,
                pihak=[earlier.pihak_urutan, row.pihak_urutan],
            )


def _declared_fields(svc: Services, naskah: Naskah) -> set[str]:
    """The fields of the naskah's template (none when the template is no longer registered)."""
    try:
        return {f.name for f in svc.templates.get(naskah.template).fields}
    except NotFound:
        return set()


def _planned_meanwhile(naskah_id: int) -> Conflict:
    return Conflict(
        "Rencana tanda tangan baru saja disusun oleh permintaan lain. Muat ulang lalu periksa.", naskah_id=naskah_id
    )


def _check_signer(
    svc: Services,
    session: Session,
    naskah: Naskah,
    revision: Revision,
    party: SigningParty,
    signer: User,
    step: PlanStepInput,
    today: dt.date,
) -> Kuasa | None:
    """May ``signer`` sign for ``party`` on the server?  Returns the Surat Kuasa a delegate acts under."""
    if Role.SIGNER.value not in signer.role_set:
        raise InvalidInput(f"Pengguna '{signer.username}' tidak berperan signer.", username=signer.username)
    position = svc.profile.signer(naskah.jenis)
    delegate = (
        party.urutan == 1
        and naskah.jenis == "PKS"
        and (step.kuasa_naskah_id is not None or position.key not in signer.posisi_set)
    )
    if delegate:
        return find_kuasa(session, naskah, revision.data or {}, signer, step.kuasa_naskah_id, today)
    if step.kuasa_naskah_id is not None:
        raise InvalidInput(
            "Surat Kuasa hanya berlaku untuk penanda tangan PIHAK KESATU sebuah Perjanjian Kerja Sama.",
            field="kuasa_naskah_id",
        )
    if party.urutan == 1 and position.key not in signer.posisi_set:
        raise InvalidInput(
            f"PIHAK KESATU ditandatangani oleh {position.jabatan}; '{signer.username}' tidak memegang jabatan itu.",
            username=signer.username,
            posisi=position.key,
            reason="not_the_signer",
        )
    if not same_person(signer.nama, party.nama):
        raise InvalidInput(
            f"Blok tanda tangan pihak {party.urutan} mencantumkan {party.nama}; '{signer.username}' "
            f"({signer.nama}) tidak dapat menandatangani untuk pihak ini.",
            username=signer.username,
            pihak_urutan=party.urutan,
            reason="not_the_printed_signer",
        )
    return None


def _signed_sk(svc: Services, session: Session, kuasa: Kuasa) -> tuple[str, bytes]:
    """The signed Surat Kuasa PDF to embed (its newest signed state, sha256 checked on read)."""
    plan = get_plan(session, kuasa.naskah_id)
    if plan is None:  # a signed SK always has one; belt and braces
        raise ActionNotAvailable(f"{kuasa.describe()} tidak memiliki berkas bertanda tangan.")
    file = current_file(session, plan)
    safe = "".join(ch if ch.isalnum() else "-" for ch in kuasa.nomor).strip("-") or str(kuasa.naskah_id)
    return f"surat-kuasa-{safe}.pdf", svc.get(file.key, file.version_id, file.sha256)


def _locked_final(
    svc: Services, user: User, final: NaskahFile, last_field: str, attachments: list[tuple[str, bytes]]
) -> NaskahFile:
    """The document everyone signs: the final PDF with the last signer's field locking it, and
    any signed Surat Kuasa embedded (all before the first signature)."""
    pdf = lock_signature_field(svc.get(final.key, final.version_id, final.sha256), last_field, attachments)
    stored = svc.put(f"naskah/{final.naskah_id}/r{final.revision_number:03d}-final-{last_field}.pdf", pdf, PDF_TYPE)
    assert user.id is not None
    return derived_file(final.naskah_id, "final", final.revision_number, final.step, stored, user.id)


def _default_steps(mode: str, ours: User) -> list[PlanStepInput]:
    if mode == "desk":  # the counterparty signs first in its own system, then our Kepala Daerah
        return [PlanStepInput(pihak_urutan=2, external=True), PlanStepInput(pihak_urutan=1, username=ours.username)]
    raise InvalidInput("Untuk tatap muka, sebutkan penanda tangan setiap pihak (steps).", field="steps")


def _user_named(session: Session, username: str) -> User:
    found = session.exec(select(User).where(User.username == username)).first()
    if found is None:
        raise NotFound(f"Pengguna '{username}' tidak ditemukan.", username=username)
    return found


def _open_step(
    svc: Services, session: Session, user: User, naskah_id: int
) -> tuple[Naskah, SignaturePlan, SignatureStep]:
    naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
    plan = get_plan(session, naskah_id)
    if plan is None:
        raise ActionNotAvailable("Naskah ini belum memiliki rencana tanda tangan.", naskah_id=naskah_id)
    step = next_step(session, plan)
    if step is None:
        raise ActionNotAvailable("Semua tanda tangan dalam rencana sudah lengkap.", naskah_id=naskah_id)
    return naskah, plan, step


def _guards(session: Session, plan: SignaturePlan, step: SignatureStep) -> dict[str, bool]:
    """Lifecycle guards for signing ``step``: does it complete the plan?  The same answer before
    and after the step is recorded, since ``step`` itself never counts as remaining."""
    remaining = [s for s in steps_of(session, plan) if s.signed_at is None and s.id != step.id]
    return {"plan_complete": not remaining, "signatures_remain": bool(remaining)}


@dataclass(frozen=True)
class StepContext:
    """What one server-side signature needs, read under the naskah's lock."""

    step_id: int
    urutan: int
    field_name: str
    expected_version: int
    source: NaskahFile
    """The newest state of the document, which this signature extends."""
    appearance: SignatureAppearance
    reason: str
    lock_document: bool
    kuasa: Kuasa | None
    """The Surat Kuasa a delegate signs under (checked again at this moment), else None."""
    official: Official
    """The person printed in this signature block: the certificate must be theirs (``pipeline.identity``)."""
    tanggal_ttd: dt.date | None = None
    """The day of this signature in the profile's zone (the date its visible block prints)."""
    catatan_tanggal: str | None = None
    """Desk to desk on another day than the naskah states: the confirmed note (also in ``reason``)."""


def _server_step(svc: Services, user: User, naskah_id: int, konfirmasi: KonfirmasiTanggal | None = None) -> StepContext:
    """Check that ``user`` may sign now, on the server; everything the signature needs."""
    with session_scope(svc.engine) as session:
        naskah, plan, step = _open_step(svc, session, user, naskah_id)
        guards = _guards(session, plan, step)
        actions.check(naskah, user, Action.SIGN, guards)
        require_reachable(svc.pades_level, tsa_url=svc.tsa_url, trust_roots=svc.trust_roots)
        if step.external:
            raise ActionNotAvailable(
                f"Giliran tanda tangan {step.nama} ({step.jabatan}) di sistemnya sendiri: impor berkas yang "
                "dikembalikan mitra.",
                reason="waiting_for_counterparty",
            )
        if step.user_id != user.id:
            raise NotPermitted(f"Bukan giliran Anda. Giliran tanda tangan: {step.nama} ({step.jabatan}).")
        final = session.get(NaskahFile, plan.final_file_id)
        assert final is not None and step.id is not None
        now = dt.datetime.now(svc.profile.tz)
        label = signing_date.signer_label(step.pihak_urutan, step.nama)
        catatan = signing_date.check_day(plan.tanggal_naskah, now.date(), plan.mode, label, svc.profile.tz, konfirmasi)
        kuasa = None
        if step.kuasa_naskah_id is not None:  # validity is checked on the day of signing, not of planning
            data = get_revision(session, user, naskah_id, final.revision_number, profile=svc.profile).data or {}
            kuasa = find_kuasa(session, naskah, data, user, step.kuasa_naskah_id, now.date())
        return StepContext(
            step_id=step.id,
            urutan=step.urutan,
            field_name=step.field_name,
            expected_version=naskah.lock_version,
            source=current_file(session, plan),
            appearance=SignatureAppearance(
                nama=step.nama,
                jabatan=step.jabatan,
                tanggal=now,
                reference=qr_reference(svc.public_url, link_token(session, naskah_id)),
                kuasa_line=kuasa.kuasa_line if kuasa else None,
            ),
            reason=_with_note(kuasa.reason if kuasa else SignOptions.reason, catatan),
            lock_document=guards["plan_complete"],
            kuasa=kuasa,
            official=_step_official(session, naskah, step, kuasa),
            tanggal_ttd=now.date(),
            catatan_tanggal=catatan,
        )


def _with_note(reason: str, catatan: str | None) -> str:
    """The signature's /Reason, with the date note of a desk-to-desk signature on another day."""
    return f"{reason}; {catatan}" if catatan else reason


def sign_step(
    svc: Services,
    user: User,
    naskah_id: int,
    backend: DigestSignerBackend,
    secret: str,
    *,
    location: str = "",
    konfirmasi: KonfirmasiTanggal | None = None,
) -> SignatureStep:
    """The signer whose turn it is signs on the server (tatap muka, or our step of desk to desk).

    ``konfirmasi``: desk to desk on another day than the naskah states (``pipeline.sign.signing_date``)."""
    ctx = _server_step(svc, user, naskah_id, konfirmasi)
    current = svc.get(ctx.source.key, ctx.source.version_id, ctx.source.sha256)
    options = SignOptions(
        field_name=ctx.field_name, lock_document=ctx.lock_document, location=location, reason=ctx.reason
    )
    with backend.open(secret) as signing:
        check_for_signing(signing.certificate, signing.signer.cert_registry)
        _check_identity(ctx, signing.certificate)
        signed = sign_pdf(
            current,
            signing.signer,
            ctx.appearance,
            options,
            timestamper=http_timestamper(svc.tsa_url) if svc.tsa_url else None,
            validation_context=validation_context(svc.trust_roots) if svc.trust_roots else None,
        )
        subject = signing.certificate.subject.human_friendly
    require_reached(signed, ctx.field_name, svc.pades_level, svc.trust_roots)
    return _record(
        svc,
        user,
        naskah_id,
        ctx.step_id,
        ctx.urutan,
        signed,
        "signed",
        subject,
        Action.SIGN,
        ctx.expected_version,
        tanggal_ttd=ctx.tanggal_ttd,
        catatan_tanggal=ctx.catatan_tanggal,
    )


def _check_identity(ctx: StepContext, certificate: Any) -> None:
    """The certificate must be the printed official's; a delegate's, the penerima kuasa's."""
    if ctx.kuasa is not None:
        check_certificate(ctx.kuasa, certificate, fingerprints=ctx.official.fingerprints)
    else:
        require_belongs(certificate, ctx.official)


def _step_official(session: Session, naskah: Naskah, step: SignatureStep, kuasa: Kuasa | None = None) -> Official:
    """The official printed in ``step``'s block, with the NIP/NIK and registered certificates the
    system knows: a server signer's account (and the case's pihak), a counterparty's case data."""
    pihak = _pihak(session, naskah, step.pihak_urutan)
    nip = pihak.penandatangan_nip if pihak else None
    nik = pihak.penandatangan_nik if pihak else None
    if kuasa is not None:
        nip, nik = kuasa.penerima_nip or None, None
    user = session.get(User, step.user_id) if step.user_id is not None else None
    if user is not None:
        return official_for_user(session, user, nama=step.nama, jabatan=step.jabatan, nip=nip, nik=nik)
    return Official(nama=step.nama, jabatan=step.jabatan, nip=nip or None, nik=nik or None)


def _pihak(session: Session, naskah: Naskah, urutan: int) -> Pihak | None:
    """The case's party ``urutan`` whose official signs this block (a Surat Kuasa's blocks are
    the pemberi and the penerima kuasa, not the case's parties)."""
    if naskah.jenis == "SK":
        return None
    return next((p for p in pihak_of(session, naskah.kerja_sama_id) if p.urutan == urutan), None)


def expected_signers(session: Session, naskah_id: int) -> dict[str, Official]:
    """Signature field -> the official printed in that block, for every step of the naskah's plan
    (the field a service really signed in, when it named its own).  Empty without a plan."""
    naskah = session.get(Naskah, naskah_id)
    plan = get_plan(session, naskah_id)
    if naskah is None or plan is None:
        return {}
    out: dict[str, Official] = {}
    for step in steps_of(session, plan):
        kuasa = _recorded_kuasa(session, step)
        out[step.signed_field or step.field_name] = _step_official(session, naskah, step, kuasa)
    return out


def _recorded_kuasa(session: Session, step: SignatureStep) -> Kuasa | None:
    """The Surat Kuasa a delegate's step was planned under, read without today's validity checks
    (verification asks whose certificate it is, not whether the kuasa is valid today)."""
    if step.kuasa_naskah_id is None:
        return None
    from pipeline.sign.kuasa import read_kuasa

    return read_kuasa(session, step.kuasa_naskah_id)


def my_step(session: Session, plan: SignaturePlan, user: User) -> SignatureStep | None:
    """The step of the plan ``user`` signs on the server and has not signed yet (None: none)."""
    return next((s for s in steps_of(session, plan) if s.user_id == user.id and s.signed_at is None), None)


_BACKEND_LABELS = {
    "pkcs12": "Berkas sertifikat PKCS#12",
    "pkcs11": "Token PKCS#11",
    "csc": "Layanan tanda tangan jarak jauh (CSC)",
    "bsre": "BSrE (esign-client)",
}


def readiness(
    svc: Services, user: User, naskah_id: int, backend: DigestSignerBackend, secret: str, *, configured: bool = False
) -> Readiness:
    """Signer readiness: open ``backend`` with ``secret`` (nothing signed, nothing kept) and judge its
    certificate for the official printed in ``user``'s block of the plan (``pipeline.sign.readiness``): the
    same certificate rules and identity check as :func:`sign_step`; a delegate's as the penerima kuasa."""
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        plan = get_plan(session, naskah_id)
        if plan is None:
            raise ActionNotAvailable("Naskah ini belum memiliki rencana tanda tangan.", naskah_id=naskah_id)
        step = my_step(session, plan, user)
        if step is None:
            raise NotPermitted(
                "Anda tidak menandatangani naskah ini di server (atau tanda tangan Anda sudah tercatat).",
                reason="not_a_signer",
            )
        official = _step_official(session, naskah, step, _recorded_kuasa(session, step))
    label = _BACKEND_LABELS.get(backend.kind, backend.kind)
    label = f"{label} ({'dikonfigurasi admin' if configured else 'diunggah'})"
    with backend.open(secret) as signing:
        return judge(signing.certificate, signing.signer.cert_registry, official, backend=label)


def export_current(svc: Services, user: User, naskah_id: int) -> bytes:
    """The bytes to send to the counterparty for its signature (desk to desk)."""
    with session_scope(svc.engine) as session:
        _naskah, plan, step = _open_step(svc, session, user, naskah_id)
        if not step.external:
            raise ActionNotAvailable("Giliran berikutnya bukan tanda tangan mitra; tidak ada yang perlu dikirim.")
        source = current_file(session, plan)
    return export_for_counterparty(svc.get(source.key, source.version_id, source.sha256))


def import_signed(
    svc: Services, user: User, naskah_id: int, returned: bytes, *, konfirmasi: KonfirmasiTanggal | None = None
) -> SignatureStep:
    """Accept the counterparty's signed file only if it is our document plus their signature.

    Its day is its timestamp's (else its claimed signing time's) in the profile's zone; on another
    day than the naskah states it needs ``konfirmasi`` with a note (``pipeline.sign.signing_date``)."""
    with session_scope(svc.engine) as session:
        naskah, plan, step = _open_step(svc, session, user, naskah_id)
        guards = _guards(session, plan, step)
        actions.check(naskah, user, Action.IMPORT_SIGNED, guards)
        if not step.external:
            raise ActionNotAvailable(
                f"Giliran tanda tangan {step.nama} di server, bukan impor berkas mitra.", reason="not_external"
            )
        expected_version = naskah.lock_version
        source = current_file(session, plan)
        step_id, urutan, field = step.id, step.urutan, step.field_name
        tanggal_naskah, mode = plan.tanggal_naskah, plan.mode
        label = signing_date.signer_label(step.pihak_urutan, step.nama)
        official = _step_official(session, naskah, step)
    ours = svc.get(source.key, source.version_id, source.sha256)
    # What the file alone tells comes first, nothing fetched (desk module docstring): our document plus one
    # intact, valid signature whose chain ends at our roots, in our prepared field or one its software
    # created; then who signed and on which day.  Only then is its revocation status asked for.  The file
    # is judged within limits (pipeline.pdf.pdflimits), in the bounded worker when there is one.
    check_pdf(returned, svc.pdf_limits)
    run = svc.pdf_worker.run if svc.pdf_worker is not None else _in_process
    offline = run(
        check_returned_bounded,
        ours,
        returned,
        list(svc.trust_roots),
        svc.pdf_limits,
        expected_fields=[field],
        allow_new_fields=True,
    )
    if not offline.ok or offline.placement is None or not offline.new_signatures:
        raise _refused_import(offline)
    placement, theirs = offline.placement, offline.new_signatures[0]
    day = signing_date.day_of_signature(theirs.timestamp, theirs.signing_time, svc.profile.tz, dt.datetime.now(dt.UTC))
    _check_imported_signer(returned, placement.field, official)
    catatan = signing_date.check_day(tanggal_naskah, day, mode, label, svc.profile.tz, konfirmasi)
    result = confirm_trust(returned, svc.trust_roots, offline)  # may fetch OCSP/CRL (pipeline.sign.fetch)
    if not result.ok:
        raise _refused_import(result)
    subject = result.new_signatures[0].signer if result.new_signatures else theirs.signer
    completed = _raised_to_level(svc, returned, placement.field)  # validation data (fetched) and the level
    return _record(
        svc,
        user,
        naskah_id,
        step_id,
        urutan,
        completed,
        "imported",
        subject,
        Action.IMPORT_SIGNED,
        expected_version,
        tanggal_ttd=day,
        catatan_tanggal=catatan,
        placement=placement,
        note=placement.describe(field),
        signed_field=placement.field,
    )


T = TypeVar("T")


def _in_process(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a bounded task here (no worker configured: the CLI, most tests)."""
    return fn(*args, **kwargs)


def _refused_import(result: ImportCheck) -> InvalidInput:
    """The 4xx for a returned file: Indonesian reason, every problem found, pyHanko's words apart."""
    return InvalidInput(
        f"Berkas dari mitra ditolak: {result.reason}",
        reason="revocation_unavailable" if result.code == "revocation_unavailable" else "returned_file_rejected",
        cause=result.code,
        problems=result.problems(),
        diagnostic=result.diagnostics(),
    )


def _check_imported_signer(pdf: bytes, signed_field: str, official: Official) -> None:
    """The counterparty's certificate must be fit to sign and be the official named for that party;
    refused with the reason otherwise."""
    certificate, chain = _signature_certificate(pdf, signed_field)
    problems = static_problems(certificate, chain)
    if problems:
        raise SigningRefused(
            f"Berkas dari mitra ditolak: {problems[0].message}",
            reason=problems[0].reason,
            subject=certificate.subject.human_friendly,
            problems=[{"reason": p.reason, "message": p.message} for p in problems],
        )
    require_belongs(
        certificate,
        official,
        context="Berkas dari mitra tidak diterima; minta pejabat yang namanya tercantum menandatanganinya.",
    )


def _raised_to_level(svc: Services, pdf: bytes, signed_field: str) -> bytes:
    """A signature made elsewhere raised to the level the naskah needs (``pipeline.sign.pades``: its
    validation data, a document timestamp if it has none); refused when it cannot get there."""
    raised = raise_to_level(pdf, signed_field, svc.pades_level, tsa_url=svc.tsa_url, trust_roots=svc.trust_roots)
    try:
        require_reached(raised, signed_field, svc.pades_level, svc.trust_roots)
    except ServiceUnavailable:
        require_reachable(svc.pades_level, tsa_url=svc.tsa_url, trust_roots=svc.trust_roots)  # names the setting
        raise
    return raised


def _signature_certificate(pdf: bytes, field: str) -> tuple[Any, list[Any]]:
    """The signer certificate (and the other certificates) of the signature in ``field``."""
    emb = next((e for e in open_reader(pdf).embedded_regular_signatures if str(e.field_name) == field), None)
    if emb is None:  # the check that found it read the same bytes: belt and braces
        raise InvalidInput(
            f"Tanda tangan pada kolom '{field}' tidak ditemukan.", reason="signature_missing", field=field
        )
    return emb.signer_cert, list(emb.other_embedded_certs)


def _record(
    svc: Services,
    user: User,
    naskah_id: int,
    step_id: int | None,
    urutan: int,
    pdf: bytes,
    kind: str,
    subject: str | None,
    action: Action,
    expected_version: int,
    *,
    tanggal_ttd: dt.date | None = None,
    catatan_tanggal: str | None = None,
    placement: SignaturePlacement | None = None,
    note: str | None = None,
    signed_field: str | None = None,
) -> SignatureStep:
    stored = svc.put(f"naskah/{naskah_id}/ttd-{urutan}-{kind}.pdf", pdf, PDF_TYPE)
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        step = session.get(SignatureStep, step_id)
        assert step is not None and user.id is not None
        if step.signed_at is not None or naskah.lock_version != expected_version:
            raise Conflict("Tanda tangan ini sudah diproses oleh permintaan lain.", naskah_id=naskah_id)
        plan = session.get(SignaturePlan, step.plan_id)
        assert plan is not None
        final = session.get(NaskahFile, plan.final_file_id)
        file = derived_file(naskah_id, kind, final.revision_number if final else 0, urutan, stored, user.id)
        session.add(file)
        session.flush()
        step.signed_at = utcnow()
        step.signer_subject = subject
        step.signed_field = signed_field or step.field_name
        step.file_id = file.id
        step.tanggal_ttd, step.catatan_tanggal = tanggal_ttd, catatan_tanggal
        if placement is not None:
            step.signed_field, step.signed_page, step.signed_visible = (
                placement.field,
                placement.page,
                placement.visible,
            )
        session.add(step)
        actions.perform(
            session,
            naskah,
            user,
            action,
            guards=_guards(session, plan, step),
            # the history shows where a partner's signature sits and why a signature is on another day
            note="\n".join(part for part in (note, catatan_tanggal) if part),
            expected_version=expected_version,
            sha256=stored.sha256,
            detail={
                "urutan": urutan,
                "signer": subject,
                "tanggal_ttd": tanggal_ttd.isoformat() if tanggal_ttd else None,
                **({"field": placement.field, "page": placement.page} if placement is not None else {}),
            },
        )
        log.info("naskah %s: signature %s recorded (%s, %s)", naskah_id, urutan, kind, stored.sha256[:12])
        svc.after_step(session, naskah, user)
        return step


# --------------------------------------------------------------------------------------------------
# Whole-file services (BSrE) and the backend configured for a signer


def _field_box(pdf: bytes, name: str) -> tuple[int, tuple[float, float, float, float]]:
    """The 1-based page and ``(x1, y1, x2, y2)`` rectangle of the EMPTY signature field ``name``."""
    try:
        reader = PdfReader(BytesIO(pdf))
        for index, page in enumerate(reader.pages, start=1):
            annots = page.get("/Annots")
            for ref in annots.get_object() if annots is not None else []:
                widget = ref.get_object()
                parent = widget.get("/Parent")
                owner = widget if "/T" in widget or parent is None else parent.get_object()
                if owner.get("/FT") != "/Sig" or owner.get("/T") != name:
                    continue
                if owner.get("/V") is not None:
                    raise SigningRefused(
                        f"Kolom tanda tangan '{name}' sudah berisi tanda tangan.", reason="field_already_signed"
                    )
                x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
                return index, (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"Kolom tanda tangan '{name}' tidak dapat dibaca dari PDF.", field=name, reason="field_unreadable"
        ) from exc
    raise InvalidInput(f"Kolom tanda tangan '{name}' tidak ada pada PDF.", field=name, reason="field_missing")


def _rejected_return(message: str, backend: WholeFileSignerBackend, **detail: object) -> SigningRefused:
    log.warning("file returned by the %s service refused: %s", backend.kind, detail.get("reason"))
    return SigningRefused(
        f"Berkas yang dikembalikan layanan tanda tangan ditolak; tanda tangan tidak dicatat. {message}",
        backend=backend.kind,
        **detail,
    )


def sign_step_whole_file(
    svc: Services,
    user: User,
    naskah_id: int,
    backend: WholeFileSignerBackend,
    signer_id: str,
    secret: str,
    *,
    location: str = "",
    konfirmasi: KonfirmasiTanggal | None = None,
) -> SignatureStep:
    """The signer whose turn it is signs through a whole-file service (BSrE's esign-client).

    The current PDF goes out with the page and rectangle of the step's empty field; what comes
    back is checked exactly like a desk-to-desk return (``desk.check_returned``): our bytes
    unchanged, then ONE new signature, intact, valid and trusted, and nothing else.  BSrE v1
    names its own field, so the signature may sit in a new field over our (still empty) one,
    or in ours; never in another party's field.  A Surat Kuasa delegate's certificate is
    checked as for the other backends.  The service cannot lock the document: when this is
    the plan's last signature the document stays unlocked (only noted in the log).
    """
    ctx = _server_step(svc, user, naskah_id, konfirmasi)
    current = svc.get(ctx.source.key, ctx.source.version_id, ctx.source.sha256)
    page, box = _field_box(current, ctx.field_name)
    request = RemoteSignRequest(
        signer_id=signer_id,
        field_name=ctx.field_name,
        page=page,
        box=box,
        reason=ctx.reason,
        location=location,
        visible=True,
    )
    returned = backend.sign_file(current, request, secret)
    result = check_returned(current, returned, svc.trust_roots, expected_fields=[ctx.field_name], allow_new_fields=True)
    if not result.ok:
        raise _rejected_return(
            result.reason or "",
            backend,
            reason="unexpected_signature_count" if result.code == "several_signatures" else "returned_file_rejected",
            cause=result.code,
            count=len(result.new_signatures),
            problems=result.problems(),
            diagnostic=result.diagnostics(),
        )
    new_field = result.new_signatures[0].field
    certificate, chain = _signature_certificate(returned, new_field)
    try:
        check_for_signing(certificate, chain)
        _check_identity(ctx, certificate)
    except SigningRefused as exc:
        raise _rejected_return(exc.message, backend, **exc.detail) from exc
    if ctx.lock_document:
        log.info("naskah %s: last signature made by the %s service; document not locked", naskah_id, backend.kind)
    subject = certificate.subject.human_friendly
    # the service's signature comes back B-B: validation data, and a document timestamp over it (pipeline.sign.pades)
    try:
        returned = raise_to_level(
            returned, new_field, svc.pades_level, tsa_url=svc.tsa_url, trust_roots=svc.trust_roots
        )
    except InvalidInput as exc:  # its revocation status cannot be had
        raise _rejected_return(exc.message, backend, **exc.detail) from exc
    require_reached(returned, new_field, svc.pades_level, svc.trust_roots)
    return _record(
        svc,
        user,
        naskah_id,
        ctx.step_id,
        ctx.urutan,
        returned,
        "signed",
        subject,
        Action.SIGN,
        ctx.expected_version,
        tanggal_ttd=ctx.tanggal_ttd,
        catatan_tanggal=ctx.catatan_tanggal,
        signed_field=new_field,
    )


def sign_configured(
    svc: Services,
    user: User,
    naskah_id: int,
    secret: str,
    *,
    location: str = "",
    konfirmasi: KonfirmasiTanggal | None = None,
) -> SignatureStep:
    """Sign the step whose turn it is with the backend configured for ``user`` (``NASKAH_SIGNERS_FILE``).

    ``secret`` is the passphrase, PIN or OTP that backend asks for; it is passed on, never kept.
    """
    configured = configured_signer(svc.signer_backends, user.username)
    if configured is None:
        raise InvalidInput(
            "Belum ada penanda tangan yang dikonfigurasi untuk akun Anda. Unggah berkas sertifikat PKCS#12 "
            "(.p12/.pfx) beserta passphrase-nya, atau minta admin mengonfigurasi penanda tangan (token, layanan "
            "CSC atau BSrE) untuk akun Anda.",
            reason="no_signer_configured",
            field="p12",
        )
    backend = configured.backend
    if isinstance(backend, WholeFileSignerBackend):
        assert configured.signer_id is not None  # checked when the configuration was loaded
        return sign_step_whole_file(
            svc, user, naskah_id, backend, configured.signer_id, secret, location=location, konfirmasi=konfirmasi
        )
    if isinstance(backend, DigestSignerBackend):
        return sign_step(svc, user, naskah_id, backend, secret, location=location, konfirmasi=konfirmasi)
    raise InvalidInput(  # pragma: no cover - every kind open_backend builds is one of the two
        "Jenis penanda tangan yang dikonfigurasi tidak didukung.", reason="invalid_signer_config", kind=backend.kind
    )
