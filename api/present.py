"""Turning rows into the API's response shapes (one place, shared by the routes)."""

from __future__ import annotations

from sqlmodel import Session, func, select

from api.schemas import CasePublic, CaseSummary, NaskahPublic, PihakPublic, RevisionPublic, TemplatePublic, UserPublic
from pipeline.cases import list_naskah, nomor_of, pihak_of
from pipeline.lifecycle import STATUS_LABELS, Role, Status, available
from pipeline.models import KerjaSama, Naskah, Revision, RevisionState, User
from pipeline.revisions import latest_revision
from pipeline.templates import TemplateInfo

PREFIX = "/api/v1"


def user_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id or 0,
        username=user.username,
        nama=user.nama,
        jabatan=user.jabatan,
        nip=user.nip,
        nik=user.nik,
        roles=sorted(user.role_set),
    )


def revision_public(session: Session, rev: Revision) -> RevisionPublic:
    author = session.get(User, rev.author_id)
    base = f"{PREFIX}/naskah/{rev.naskah_id}/revisions/{rev.number}"
    return RevisionPublic(
        number=rev.number,
        source=rev.source,
        note=rev.note,
        author=author.username if author else str(rev.author_id),
        created_at=rev.created_at,
        docx_sha256=rev.docx_sha256,
        docx_size=rev.docx_size,
        docx_version_id=rev.docx_version_id,
        pdf_sha256=rev.pdf_sha256,
        pdf_size=rev.pdf_size,
        pdf_pages=rev.pdf_pages,
        pdf_version_id=rev.pdf_version_id,
        template_sha256=rev.template_sha256,
        docx_url=f"{base}/docx",
        pdf_url=f"{base}/pdf",
    )


def naskah_public(session: Session, user: User, naskah: Naskah) -> NaskahPublic:
    latest = latest_revision(session, user, naskah.id or 0)
    count = session.exec(
        select(func.count())
        .select_from(Revision)
        .where(Revision.naskah_id == naskah.id, Revision.state == RevisionState.COMPLETE.value)
    ).one()
    status = Status(naskah.status)
    return NaskahPublic(
        id=naskah.id or 0,
        kerja_sama_id=naskah.kerja_sama_id,
        jenis=naskah.jenis,
        template=naskah.template,
        status=status.value,
        status_label=STATUS_LABELS[status],
        lock_version=naskah.lock_version,
        parent_id=naskah.parent_id,
        nomor=nomor_of(session, naskah.id or 0),
        data=naskah.data,
        revision_count=count,
        latest_revision=revision_public(session, latest) if latest else None,
        available_actions=[a.value for a in available(status, [Role(r) for r in user.role_set])],
    )


def case_public(session: Session, user: User, case: KerjaSama) -> CasePublic:
    return CasePublic(
        id=case.id or 0,
        jenis=case.jenis,
        judul=case.judul,
        objek=case.objek,
        manfaat=case.manfaat,
        bentuk=case.bentuk,
        tahun_anggaran_mulai=case.tahun_anggaran_mulai,
        mulai=case.mulai,
        selesai=case.selesai,
        opd_teknis=case.opd_teknis,
        created_at=case.created_at,
        pihak=[PihakPublic.model_validate(p, from_attributes=True) for p in pihak_of(session, case.id or 0)],
        naskah=[naskah_public(session, user, n) for n in list_naskah(session, case.id or 0)],
    )


def case_summary(case: KerjaSama) -> CaseSummary:
    return CaseSummary.model_validate(case, from_attributes=True)


def template_public(info: TemplateInfo) -> TemplatePublic:
    return TemplatePublic.model_validate(info.public())
