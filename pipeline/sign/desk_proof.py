"""The proof of a desk-to-desk import: what the secretariat shows that the partner's file is what we sent.

``signature_plan.import_signed`` accepts a returned file only when every check of ``pipeline.sign.desk``
holds, and refuses it with the reason otherwise.  This module re-reads an accepted step's stored
file and says, point by point, why it was accepted, so a person can see it rather than trust it:

- the bytes we sent are, unchanged, the start of the file kept (their sha256 and length);
- who signed (the certificate's name and whole subject) and which CA issued the certificate;
- when (the timestamp token's time, else the signing time the signer claims);
- the signature is intact, valid and trusted (``pipeline.sign.verification``, with the plan's officials);
- the certificate belongs to the official printed in that party's block, and on what basis;
- where the signature sits (field, page, visible or not).

Everything is computed from the stored bytes each time (no proof is kept that could go stale); only the
verification of a file is read again from ``svc.report_cache`` (``pipeline.sign.reportcache``) while its
bytes, the trust roots, the expected officials and the time bucket are the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlmodel import Session

from pipeline import access
from pipeline.drafting.cases import get_naskah
from pipeline.models import NaskahFile, SignatureStep, User
from pipeline.pdf.pdfread import open_reader
from pipeline.sign.signature_plan import get_plan, steps_of
from pipeline.sign.verification import verify_known
from pipeline.sign.verify import SignatureCheck

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = ["ImportProof", "import_proofs"]


@dataclass(frozen=True)
class ImportProof:
    """Why one counterparty's returned file was accepted."""

    urutan: int
    pihak_urutan: int
    nama: str
    """The official printed in that party's block."""
    jabatan: str
    base_sha256: str
    """sha256 of the bytes we sent (the state before their signature)."""
    base_length: int
    base_identical: bool
    """The file kept begins with exactly those bytes."""
    field: str
    page: int | None
    visible: bool | None
    imported_at: dt.datetime | None
    check: SignatureCheck | None
    """The verifier's verdict on their signature in the file kept (None: it could not be found)."""
    issuer: str = ""
    """The CA that issued their certificate."""
    problems: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Every point of the proof holds."""
        c = self.check
        return bool(
            self.base_identical and c and c.intact and c.valid and c.trusted and c.belongs_to_signer is not False
        )


def _issuer(pdf: bytes, field_name: str) -> str:
    for emb in open_reader(pdf).embedded_regular_signatures:
        if str(emb.field_name) == field_name:
            issuer = emb.signer_cert.issuer
            return str(issuer.native.get("common_name") or issuer.human_friendly)
    return ""


def _base_of(session: Session, steps: list[SignatureStep], step: SignatureStep, final: NaskahFile) -> NaskahFile:
    """The state the partner signed: the previous signed step's file, else the plan's final PDF."""
    earlier = [s for s in steps if s.urutan < step.urutan and s.file_id is not None]
    if earlier:
        found = session.get(NaskahFile, earlier[-1].file_id)
        if found is not None:
            return found
    return final


def import_proofs(svc: Services, user: User, naskah_id: int) -> list[ImportProof]:
    """The proof of every counterparty file imported into the naskah's plan, in signing order
    (empty without a plan or an import).  Only for a user who may see the naskah (404 otherwise)."""
    with Session(svc.engine) as session:
        get_naskah(session, user, naskah_id, profile=svc.profile)
        plan = get_plan(session, naskah_id)
        if plan is None:
            return []
        steps = steps_of(session, plan)
        final = session.get(NaskahFile, plan.final_file_id)
        assert final is not None
        todo = []
        for step in steps:
            if not (step.external and step.file_id is not None):
                continue
            kept = session.get(NaskahFile, step.file_id)
            assert kept is not None
            todo.append((step, kept, _base_of(session, steps, step, final)))
    out = []
    for step, kept, base in todo:
        data = svc.get(kept.key, kept.version_id, kept.sha256)
        sent = svc.get(base.key, base.version_id, base.sha256)
        name = step.signed_field or step.field_name
        report = verify_known(
            svc.engine,
            data,
            svc.trust_roots,
            may_see=lambda s, nid: access.may_see_naskah(s, user, svc.profile, nid),
            limits=svc.pdf_limits,
            worker=svc.pdf_worker,
            cache=svc.report_cache,
        )
        check = next((c for c in report.signatures if c.field == name), None)
        out.append(
            ImportProof(
                urutan=step.urutan,
                pihak_urutan=step.pihak_urutan,
                nama=step.nama,
                jabatan=step.jabatan,
                base_sha256=hashlib.sha256(sent).hexdigest(),
                base_length=len(sent),
                base_identical=data[: len(sent)] == sent,
                field=name,
                page=step.signed_page,
                visible=step.signed_visible,
                imported_at=step.signed_at,
                check=check,
                issuer=(check.certificate_issuer if check else "") or _issuer(data, name),
                problems=list(check.problems) if check else ["Tanda tangan mitra tidak ditemukan pada berkas."],
            )
        )
    return out
