"""What anyone may learn about a naskah without signing in: its public page and the check of a copy.

Two doors, both anonymous (issue 14, "public verification"):

- **The QR code** in every signature block points at the naskah's public page, ``{NASKAH_PUBLIC_URL}/v/<token>``
  (:func:`qr_reference`).  The token is random (``secrets.token_urlsafe``, 144 bits), made once per naskah
  at its first signature and kept in ``public_link`` (:func:`link_token`): the sequential id is never
  published, and a token cannot be guessed from another.  Without ``NASKAH_PUBLIC_URL`` the QR holds
  ``naskah:v:<token>`` (the same token, which the server's ``/v/<token>`` still opens, but no phone can
  follow it as a link): set the address before the first naskah is signed.
- **An uploaded PDF** (``/verifikasi``) is verified by the same pipeline as ``POST /api/v1/verify``
  (``pipeline.sign.verification.verify_known``: the PDF limits, the bounded worker) and its sha256 compared
  with every archived version (:func:`verify_upload`).

Either shows only :class:`PublicSummary`: what is printed on the document itself (jenis, judul, each
party's nomor and instansi, the signers named in the blocks with their jabatan and day, the signing
date) and its status.  Nothing internal: no notes (review notes, date notes), no drafter, no user
name, no audit entry, no database id.

The anonymous upload is braked per client address (:func:`take_rate`, rows of ``rate_hit`` so that every
process of the app counts the same requests): over the limit the request is refused before the file
is analysed, with the time to try again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, delete, func, select

from pipeline.drafting.cases import NASKAH_NAMES, nomor_of, pihak_of
from pipeline.drafting.revisions import latest_complete
from pipeline.errors import ActionNotAvailable, NotFound, RateLimited
from pipeline.lifecycle import STATUS_LABELS, Status
from pipeline.models import (
    Arsip,
    ArsipVersion,
    JenisNaskah,
    KerjaSama,
    Naskah,
    PublicLink,
    RateHit,
    SignaturePlan,
    SignatureStep,
    as_utc,
    utcnow,
)
from pipeline.sign.publiklink import FALLBACK_PREFIX, link_token, qr_reference
from pipeline.sign.verification import find_naskah, verify_known
from pipeline.sign.verify import VerificationReport

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "FALLBACK_PREFIX",
    "PublicSigner",
    "PublicSummary",
    "PublicVerification",
    "RatePolicy",
    "archived_version",
    "link_token",
    "original_of",
    "qr_reference",
    "summary_by_token",
    "summary_of",
    "take_rate",
    "verify_upload",
]

log = logging.getLogger(__name__)

# -- the public summary -------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicSigner:
    """A signature block as printed: who, in which office, for which party; and the day it was signed."""

    pihak: str
    nama: str
    jabatan: str
    tanggal: dt.date | None


@dataclass(frozen=True)
class PublicSummary:
    """What a person holding the document can read on it, and its status: nothing internal."""

    token: str
    jenis: str
    nama_jenis: str
    judul: str
    nomor: list[tuple[str, str]]
    """(instansi, nomor) per party, in the parties' order."""
    pihak: list[str]
    signers: list[PublicSigner]
    tanggal_ttd: dt.date | None
    """The day of the last signature (None while nobody has signed)."""
    status: str
    status_label: str
    archived: bool
    archived_sha256: str | None = None
    """The sha256 of the current archived version (what a downloaded original must hash to)."""
    _arsip_key: tuple[str, str, str] | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def fully_signed(self) -> bool:
        return self.status in (Status.SIGNED.value, Status.ARCHIVED.value)


_PUBLIC_STATUS = {
    Status.SIGNING: "Dalam proses penandatanganan (belum semua pihak menandatangani)",
    Status.SIGNED: "Sudah ditandatangani semua pihak",
    Status.ARCHIVED: "Sudah ditandatangani semua pihak dan diarsipkan",
    Status.CANCELLED: "Dibatalkan: naskah ini tidak berlaku",
}


def _status_label(status: str) -> str:
    try:
        known = Status(status)
    except ValueError:
        return status
    return _PUBLIC_STATUS.get(known, STATUS_LABELS.get(known, status))


def _judul(session: Session, naskah: Naskah, case: KerjaSama) -> str:
    """The title the naskah prints (as ``pipeline.archival.archive`` records it)."""
    revision = latest_complete(session, naskah.id or 0)
    data: dict[str, Any] = (revision.data if revision is not None else None) or naskah.data or {}
    if naskah.jenis == "SK":
        return f"Surat Kuasa penandatanganan Perjanjian Kerja Sama {data.get('pks_judul') or case.judul}"
    return str(data.get("judul") or case.judul)


def summary_of(session: Session, naskah_id: int, token: str | None = None) -> PublicSummary:
    """The public summary of a naskah: from its archive record when archived (what was archived is what
    was signed), else from the naskah, its parties and its signature plan."""
    naskah = session.get(Naskah, naskah_id)
    if naskah is None:
        raise NotFound("Naskah tidak ditemukan.", reason="not_found")
    token = token or link_token(session, naskah_id)
    case = session.get(KerjaSama, naskah.kerja_sama_id)
    assert case is not None
    parties = pihak_of(session, case.id or 0)
    instansi = {p.urutan: p.instansi for p in parties}
    nomor = nomor_of(session, naskah_id)
    plan = session.exec(select(SignaturePlan).where(SignaturePlan.naskah_id == naskah_id)).first()
    steps = (
        list(
            session.exec(
                select(SignatureStep).where(SignatureStep.plan_id == plan.id).order_by(col(SignatureStep.urutan))
            ).all()
        )
        if plan is not None
        else []
    )
    signers = [
        PublicSigner(
            pihak=instansi.get(s.pihak_urutan, ""),
            nama=s.nama,
            jabatan=s.jabatan,
            tanggal=s.tanggal_ttd or (s.signed_at.date() if s.signed_at else None),
        )
        for s in steps
        if s.signed_at is not None
    ]
    arsip = session.exec(select(Arsip).where(Arsip.naskah_id == naskah_id)).first()
    days = [s.tanggal for s in signers if s.tanggal is not None]
    return PublicSummary(
        token=token,
        jenis=naskah.jenis,
        nama_jenis=NASKAH_NAMES.get(JenisNaskah(naskah.jenis), naskah.jenis),
        judul=arsip.judul if arsip is not None else _judul(session, naskah, case),
        nomor=[(instansi.get(u, ""), n) for u, n in sorted(nomor.items())],
        pihak=[p.instansi for p in parties],
        signers=signers,
        tanggal_ttd=arsip.tanggal_ttd if arsip is not None else (max(days) if days else None),
        status=naskah.status,
        status_label=_status_label(naskah.status),
        archived=arsip is not None,
        archived_sha256=arsip.sha256 if arsip is not None else None,
        _arsip_key=(arsip.key, arsip.version_id, arsip.sha256) if arsip is not None else None,
    )


def summary_by_token(session: Session, token: str) -> PublicSummary:
    """The summary behind a QR code's token; an unknown token is simply not found (nothing else said)."""
    row = (
        session.exec(select(PublicLink).where(PublicLink.token == token)).first()
        if 16 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()
        else None
    )
    if row is None:
        raise NotFound(
            "Naskah dengan kode ini tidak ditemukan. Periksa alamatnya, atau unggah berkas PDF-nya di "
            "halaman Verifikasi.",
            reason="unknown_token",
        )
    return summary_of(session, row.naskah_id, row.token)


def original_of(svc: Services, summary: PublicSummary) -> bytes:
    """The archived original behind a public page, byte for byte (sha256 checked by the store)."""
    if summary._arsip_key is None:
        raise NotFound("Naskah ini belum diarsipkan, sehingga belum ada naskah asli untuk diunduh.")
    key, version_id, sha256 = summary._arsip_key
    return svc.get_archive(key, version_id, sha256)


def archived_version(session: Session, sha256: str) -> Arsip | None:
    """The archive record one of whose stored versions (the first, or a renewal) has this sha256."""
    found = session.exec(select(Arsip).where(Arsip.sha256 == sha256)).first()
    if found is not None:
        return found
    version = session.exec(select(ArsipVersion).where(ArsipVersion.sha256 == sha256)).first()
    return session.get(Arsip, version.arsip_id) if version is not None else None


# -- checking an uploaded copy --------------------------------------------------------------------


@dataclass(frozen=True)
class PublicVerification:
    """The verdict on an uploaded PDF: the signatures' report, its sha256, whether it is byte for byte an
    archived original of this Pemda, and the summary of the naskah it is a state of (when known)."""

    report: VerificationReport
    sha256: str
    archived: bool
    summary: PublicSummary | None


def verify_upload(svc: Services, pdf: bytes) -> PublicVerification:
    """Verify a PDF from anyone (``verify_known``: the PDF limits first, then the bounded worker).  An
    archived original is judged along its B-LTA chain, as the Arsip page judges it.  A server without
    trusted roots could only call every signature untrusted: it says that it cannot verify yet."""
    if not svc.trust_roots:
        raise ActionNotAvailable(
            "Verifikasi belum tersedia: server ini belum dikonfigurasi dengan akar tepercaya (NASKAH_TRUST_ROOTS). "
            "Hubungi Bagian Pemerintahan Pemda.",
            reason="no_trust_roots",
        )
    sha256 = hashlib.sha256(pdf).hexdigest()
    with Session(svc.engine) as session:
        arsip = archived_version(session, sha256)
    report = verify_known(
        svc.engine,
        pdf,
        svc.trust_roots,
        archival=arsip is not None,
        limits=svc.pdf_limits,
        worker=svc.pdf_worker,
    )
    summary = None
    with Session(svc.engine, expire_on_commit=False) as session:
        naskah_id = arsip.naskah_id if arsip is not None else find_naskah(session, pdf)
        if naskah_id is not None:
            summary = summary_of(session, naskah_id)
        session.commit()  # a token made for the summary is kept
    return PublicVerification(report=report, sha256=sha256, archived=arsip is not None, summary=summary)


# -- the rate limit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatePolicy:
    """At most ``limit`` requests per key within ``window``."""

    limit: int
    window: dt.timedelta


def take_rate(session: Session, key: str, policy: RatePolicy, *, tz: dt.tzinfo, now: dt.datetime | None = None) -> None:
    """Count one request under ``key``, or refuse it (:class:`RateLimited`, saying at what time, in ``tz``,
    to try again) when ``policy.limit`` were counted within the window.  The caller commits."""
    moment = as_utc(now) if now else utcnow()
    since = moment - policy.window
    recent = session.exec(
        select(func.count(), func.min(RateHit.at)).where(RateHit.key == key, col(RateHit.at) > since)
    ).one()
    count, oldest = int(recent[0] or 0), recent[1]
    if count >= policy.limit and oldest is not None:
        until = as_utc(oldest) + policy.window
        wait = max(1, int((until - moment).total_seconds()))
        minutes = max(1, -(-wait // 60))
        raise RateLimited(
            f"Terlalu banyak pemeriksaan dari alamat Anda dalam waktu singkat (batas {policy.limit} per "
            f"{_window_words(policy.window)}). Coba lagi pukul {until.astimezone(tz):%H.%M} "
            f"(sekitar {minutes} menit lagi).",
            reason="rate_limited",
            retry_after=wait,
            retry_at=until.isoformat(),
        )
    session.add(RateHit(key=key[:120], at=moment))
    session.execute(delete(RateHit).where(RateHit.key == key, col(RateHit.at) <= since))
    session.flush()


def _window_words(window: dt.timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % 60 == 0:
        return f"{minutes // 60} jam" if minutes != 60 else "jam"
    return f"{minutes} menit"
