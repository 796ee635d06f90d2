"""Turning rows into the API's response shapes (one place, shared by the routes)."""

from __future__ import annotations

from sqlmodel import Session, func, select

from api.schemas import (
    AuditEntryPublic,
    AuditListEntryPublic,
    CasePublic,
    CaseSummary,
    NaskahPublic,
    PihakPublic,
    RevisionPublic,
    TemplatePublic,
    TokenPublic,
    UserAdminPublic,
    UserPublic,
)
from pipeline import access
from pipeline.actions import DRAFTING_ACTIONS
from pipeline.auth import token_status
from pipeline.drafting.cases import list_naskah, nomor_of, pihak_of
from pipeline.drafting.revisions import latest_revision
from pipeline.drafting.templates import TemplateInfo
from pipeline.lifecycle import STATUS_LABELS, Action, Role, Status, available
from pipeline.models import ApiToken, AuditEntry, KerjaSama, Naskah, Revision, RevisionState, User
from pipeline.sop import Profile

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
        posisi=sorted(user.posisi_set),
        opd=user.opd,
        pihak_luar=user.pihak_luar,
        instansi=user.instansi,
        active=user.active,
    )


def user_admin_public(user: User, tokens: int) -> UserAdminPublic:
    return UserAdminPublic(
        **user_public(user).model_dump(),
        token_berlaku=tokens,
        created_at=user.created_at,
        email=user.email,
        email_notifikasi=user.email_notifikasi,
    )


def token_public(token: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id or 0,
        label=token.label,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        status=token_status(token),
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


def naskah_public(session: Session, user: User, naskah: Naskah, profile: Profile) -> NaskahPublic:
    """A naskah as ``user`` sees it: the drafting actions only for its drafters, and for a counterparty's
    official no internal drafting material (the latest revision's note and files: ``access``)."""
    internal = not user.pihak_luar
    latest = latest_revision(session, user, naskah.id or 0, profile=profile) if internal else None
    count = session.exec(
        select(func.count())
        .select_from(Revision)
        .where(Revision.naskah_id == naskah.id, Revision.state == RevisionState.COMPLETE.value)
    ).one()
    status = Status(naskah.status)
    actions = available(status, [Role(r) for r in user.role_set])
    if not access.is_naskah_drafter(session, user, naskah):
        as_secretariat = Role.SECRETARIAT.value in user.role_set
        actions = [a for a in actions if a not in DRAFTING_ACTIONS and (a != Action.IMPORT_SIGNED or as_secretariat)]
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
        available_actions=[a.value for a in actions],
        drafters=[u.username for u, _ in access.drafters_of(session, naskah)] if internal else [],
    )


def case_public(session: Session, user: User, case: KerjaSama, profile: Profile) -> CasePublic:
    """A case with the naskah of it ``user`` may see (``pipeline.access``)."""
    naskah = list_naskah(session, case.id or 0)
    shown = access.visible_naskah_ids(session, user, profile, [n.id or 0 for n in naskah])
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
        naskah=[naskah_public(session, user, n, profile) for n in naskah if n.id in shown],
    )


def case_summary(case: KerjaSama) -> CaseSummary:
    return CaseSummary.model_validate(case, from_attributes=True)


def template_public(info: TemplateInfo) -> TemplatePublic:
    return TemplatePublic.model_validate(info.public())


def audit_entry_public(r: AuditEntry) -> AuditEntryPublic:
    """An entry of a naskah's trail (``GET /naskah/{id}/audit``)."""
    return AuditEntryPublic(
        seq=r.seq,
        at=r.at,
        actor=r.actor,
        action=r.action,
        sha256=r.object_sha256,
        detail=r.detail,
        prev_hash=r.prev_hash,
        entry_hash=r.entry_hash,
    )


def audit_list_entry_public(r: AuditEntry) -> AuditListEntryPublic:
    """An entry of the whole trail (``GET /audit``): also the naskah or kerja sama it belongs to."""
    return AuditListEntryPublic(
        **audit_entry_public(r).model_dump(), naskah_id=r.naskah_id, kerja_sama_id=r.kerja_sama_id
    )
