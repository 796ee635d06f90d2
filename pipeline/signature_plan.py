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
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from pipeline import actions
from pipeline.cases import get_naskah, pihak_of
from pipeline.desk import check_returned, export_for_counterparty
from pipeline.errors import ActionNotAvailable, Conflict, InvalidInput, NotFound, NotPermitted
from pipeline.lifecycle import Action, Role, Status
from pipeline.models import Naskah, NaskahFile, SignaturePlan, SignatureStep, User, utcnow
from pipeline.paraf import field_name, final_file
from pipeline.revisions import PDF_TYPE, derived_file
from pipeline.services import Services
from pipeline.signers import DigestSignerBackend
from pipeline.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context
from pipeline.stamp import lock_signature_field
from storage.db import session_scope

__all__ = [
    "PlanInput",
    "PlanStepInput",
    "create_plan",
    "current_file",
    "export_current",
    "get_plan",
    "import_signed",
    "next_step",
    "sign_step",
    "steps_of",
]

log = logging.getLogger(__name__)


class PlanStepInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pihak_urutan: int = Field(ge=1, description="pihak yang ditandatangani (1 = PIHAK KESATU)")
    username: str | None = Field(default=None, description="pengguna yang menandatangani di server")
    external: bool = Field(default=False, description="desk to desk: pihak ini menandatangani di sistemnya sendiri")


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
    """Fix who signs, in which order and how, once the final PDF exists (status ``signing``)."""
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id)
        if not ({Role.DRAFTER.value, Role.SECRETARIAT.value} & user.role_set):
            raise NotPermitted("Rencana tanda tangan disusun oleh drafter atau sekretariat.")
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
            for s in steps_of(session, existing):
                session.delete(s)
            session.delete(existing)
            session.flush()
        pihak = {p.urutan: p for p in pihak_of(session, naskah.kerja_sama_id)}
        ours = _our_signer(session, svc, naskah)
        steps = data.steps or _default_steps(data.mode, ours)
        if sorted(s.pihak_urutan for s in steps) != sorted(pihak):
            raise InvalidInput(
                "Rencana harus memuat tepat satu penanda tangan untuk setiap pihak.",
                pihak=sorted(pihak),
                given=[s.pihak_urutan for s in steps],
            )
        assert user.id is not None and final.id is not None
        locked = _locked_final(svc, user, final, field_name(steps[-1].pihak_urutan))
        session.add(locked)
        session.flush()
        assert locked.id is not None
        plan = SignaturePlan(naskah_id=naskah_id, mode=data.mode, final_file_id=locked.id, created_by=user.id)
        session.add(plan)
        session.flush()
        for urutan, step in enumerate(steps, start=1):
            party = pihak[step.pihak_urutan]
            signer_user = None
            if step.external:
                if data.mode != "desk":
                    raise InvalidInput("Penanda tangan eksternal hanya untuk mode desk to desk.", urutan=urutan)
            else:
                signer_user = _user_named(session, step.username) if step.username else ours
                if Role.SIGNER.value not in signer_user.role_set:
                    raise InvalidInput(f"Pengguna '{signer_user.username}' tidak berperan signer.", urutan=urutan)
            session.add(
                SignatureStep(
                    plan_id=plan.id or 0,
                    urutan=urutan,
                    pihak_urutan=step.pihak_urutan,
                    field_name=field_name(step.pihak_urutan),
                    nama=party.penandatangan_nama,
                    jabatan=party.penandatangan_jabatan,
                    user_id=signer_user.id if signer_user else None,
                    external=step.external,
                )
            )
        return plan


def _locked_final(svc: Services, user: User, final: NaskahFile, last_field: str) -> NaskahFile:
    """The document everyone signs: the final PDF with the last signer's field locking it."""
    pdf = lock_signature_field(svc.get(final.key, final.version_id, final.sha256), last_field)
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


def _open_step(session: Session, user: User, naskah_id: int) -> tuple[Naskah, SignaturePlan, SignatureStep]:
    naskah = get_naskah(session, user, naskah_id)
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


def sign_step(
    svc: Services, user: User, naskah_id: int, backend: DigestSignerBackend, secret: str, *, location: str = ""
) -> SignatureStep:
    """The signer whose turn it is signs on the server (tatap muka, or our step of desk to desk)."""
    with session_scope(svc.engine) as session:
        naskah, plan, step = _open_step(session, user, naskah_id)
        guards = _guards(session, plan, step)
        actions.check(naskah, user, Action.SIGN, guards)
        if step.external:
            raise ActionNotAvailable(
                f"Giliran tanda tangan {step.nama} ({step.jabatan}) di sistemnya sendiri: impor berkas yang "
                "dikembalikan mitra.",
                reason="waiting_for_counterparty",
            )
        if step.user_id != user.id:
            raise NotPermitted(f"Bukan giliran Anda. Giliran tanda tangan: {step.nama} ({step.jabatan}).")
        expected_version = naskah.lock_version
        source = current_file(session, plan)
        final = session.get(NaskahFile, plan.final_file_id)
        assert final is not None
        step_id, urutan, field = step.id, step.urutan, step.field_name
        nama, jabatan = step.nama, step.jabatan
    current = svc.get(source.key, source.version_id, source.sha256)
    appearance = SignatureAppearance(
        nama=nama,
        jabatan=jabatan,
        tanggal=dt.datetime.now(svc.profile.tz),
        reference=f"naskah:{naskah_id}:{final.sha256[:16]}",
    )
    options = SignOptions(field_name=field, lock_document=guards["plan_complete"], location=location)
    with backend.open(secret) as signing:
        signed = sign_pdf(
            current,
            signing.signer,
            appearance,
            options,
            timestamper=http_timestamper(svc.tsa_url) if svc.tsa_url else None,
            validation_context=validation_context(svc.trust_roots) if svc.trust_roots else None,
        )
        subject = signing.certificate.subject.human_friendly
    return _record(svc, user, naskah_id, step_id, urutan, signed, "signed", subject, Action.SIGN, expected_version)


def export_current(svc: Services, user: User, naskah_id: int) -> bytes:
    """The bytes to send to the counterparty for its signature (desk to desk)."""
    with session_scope(svc.engine) as session:
        _naskah, plan, step = _open_step(session, user, naskah_id)
        if not step.external:
            raise ActionNotAvailable("Giliran berikutnya bukan tanda tangan mitra; tidak ada yang perlu dikirim.")
        source = current_file(session, plan)
    return export_for_counterparty(svc.get(source.key, source.version_id, source.sha256))


def import_signed(svc: Services, user: User, naskah_id: int, returned: bytes) -> SignatureStep:
    """Accept the counterparty's signed file only if it is our document plus their signature."""
    with session_scope(svc.engine) as session:
        naskah, plan, step = _open_step(session, user, naskah_id)
        guards = _guards(session, plan, step)
        actions.check(naskah, user, Action.IMPORT_SIGNED, guards)
        if not step.external:
            raise ActionNotAvailable(
                f"Giliran tanda tangan {step.nama} di server, bukan impor berkas mitra.", reason="not_external"
            )
        expected_version = naskah.lock_version
        source = current_file(session, plan)
        step_id, urutan, field = step.id, step.urutan, step.field_name
    ours = svc.get(source.key, source.version_id, source.sha256)
    result = check_returned(ours, returned, svc.trust_roots, expected_fields=[field])
    if not result.ok:
        raise InvalidInput(
            f"Berkas dari mitra ditolak: {result.reason}",
            reason="returned_file_rejected",
            problems=list(result.report.to_dict().get("problems", [])) if result.report else [],
        )
    subject = result.new_signatures[0].signer if result.new_signatures else None
    return _record(
        svc, user, naskah_id, step_id, urutan, returned, "imported", subject, Action.IMPORT_SIGNED, expected_version
    )


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
) -> SignatureStep:
    stored = svc.put(f"naskah/{naskah_id}/ttd-{urutan}-{kind}.pdf", pdf, PDF_TYPE)
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id)
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
        step.file_id = file.id
        session.add(step)
        actions.perform(
            session, naskah, user, action, guards=_guards(session, plan, step), expected_version=expected_version
        )
        log.info("naskah %s: signature %s recorded (%s, %s)", naskah_id, urutan, kind, stored.sha256[:12])
        return step
