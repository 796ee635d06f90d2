"""The signer configuration as an admin reviews it: who signs with which backend, on which certificate,
and whether that certificate is about to expire.

Read-only, and never a secret: a backend is described by its ``describe()`` facts (no passphrase, PIN,
token or password) with a key file's folder left out (only its name is shown), and a certificate by
what anyone may read in it (subject, issuer, serial, validity, sha256).  Where the certificate comes
from, in order:

1. the backend itself when it can be read without the official's secret: a PKCS#11 token's public
   certificate object (a session without login), a PKCS#12 file whose certificates are not
   encrypted;
2. otherwise the certificates an admin registered for that official (``UserCertificate``,
   ``pipeline.identity``): a PKCS#12 file with encrypted certificates, a CSC or BSrE service (asking
   the service would put the page at the mercy of the network).

:func:`expiry_state` is the warning: ``kedaluwarsa`` (red) once ``not_after`` has passed,
``segera`` (amber) within :data:`WARN_DAYS` days, else ``berlaku``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from sqlmodel import Session, col, select

from pipeline.auth import require
from pipeline.errors import NaskahError
from pipeline.models import User, UserCertificate, as_utc, utcnow
from pipeline.sign.signer_config import configured_signer
from pipeline.sign.signers import Pkcs11Backend, Pkcs12Backend, SignerBackend

__all__ = [
    "FACT_LABELS",
    "WARN_DAYS",
    "CertificateFacts",
    "SignerStatus",
    "expiry_state",
    "registered_certificates",
    "signer_statuses",
]

log = logging.getLogger(__name__)

WARN_DAYS = 30
"""A certificate expiring within this many days is shown with a warning (amber)."""

FACT_LABELS = {
    "source": "Sumber",
    "path": "Nama berkas",
    "module": "Modul PKCS#11",
    "token_label": "Label token",
    "key_label": "Label kunci",
    "cert_label": "Label sertifikat",
    "base_url": "Alamat layanan",
    "credential_id": "ID kredensial",
    "secret_kind": "Jenis rahasia",
    "signatures_per_session": "Tanda tangan per sesi",
    "username": "Nama pengguna aplikasi",
}
"""How a page names the keys of ``SignerBackend.describe()`` (the API keeps the keys)."""
VALUE_LABELS = {"file": "berkas di server", "memory": "dimuat di memori"}

ExpiryState = Literal["berlaku", "segera", "kedaluwarsa", "tidak_diketahui"]
BACKEND_LABELS = {
    "pkcs12": "Berkas PKCS#12 di server",
    "pkcs11": "Token/HSM PKCS#11",
    "csc": "Layanan CSC (tanda tangan jarak jauh)",
    "bsre": "BSrE (esign-client)",
}


def expiry_state(not_after: datetime | None, now: datetime | None = None) -> ExpiryState:
    """``kedaluwarsa`` once ``not_after`` has passed, ``segera`` within :data:`WARN_DAYS` days, else
    ``berlaku``; ``tidak_diketahui`` when the expiry is not known (registered by sha256 alone)."""
    if not_after is None:
        return "tidak_diketahui"
    moment = as_utc(now) if now else utcnow()
    end = as_utc(not_after)
    if end <= moment:
        return "kedaluwarsa"
    return "segera" if end - moment <= timedelta(days=WARN_DAYS) else "berlaku"


@dataclass(frozen=True)
class CertificateFacts:
    """What a person recognises a certificate by, and its expiry warning."""

    subject: str
    issuer: str
    serial: str
    """hex, as certificate viewers show it"""
    not_after: datetime | None
    sha256: str
    source: Literal["backend", "terdaftar"]
    state: ExpiryState
    days_left: int | None
    """whole days until ``not_after`` (negative: since it expired)"""


@dataclass(frozen=True)
class SignerStatus:
    """One configured official: the backend, what it says of itself, and the certificates found."""

    username: str
    nama: str | None
    """the account's name; None when the file names a username that has no account"""
    kind: str
    kind_label: str
    facts: dict[str, str]
    signer_id: str | None
    """BSrE's NIK/e-mail, all but its last four characters hidden"""
    certificates: list[CertificateFacts] = field(default_factory=list)
    note: str = ""
    """why no certificate could be read from the backend, in Indonesian"""

    @property
    def worst(self) -> ExpiryState:
        order: list[ExpiryState] = ["kedaluwarsa", "segera", "tidak_diketahui", "berlaku"]
        states = {c.state for c in self.certificates}
        return next((s for s in order if s in states), "tidak_diketahui")


def _days_left(not_after: datetime | None, now: datetime) -> int | None:
    """Days until ``not_after`` as a person counts them: ending in 11 days and 23 hours is "in 12 days",
    ended 5 days and 3 hours ago is "5 days ago" (negative)."""
    if not_after is None:
        return None
    delta = as_utc(not_after) - now
    if delta >= timedelta(0):
        return -(-delta // timedelta(days=1))  # whole days, rounded up
    return -((-delta) // timedelta(days=1))


def _facts_of(cert: pyca_x509.Certificate, now: datetime) -> CertificateFacts:
    parsed = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    not_after = cert.not_valid_after_utc
    return CertificateFacts(
        subject=parsed.subject.human_friendly,
        issuer=parsed.issuer.human_friendly,
        serial=format(cert.serial_number, "x"),
        not_after=not_after,
        sha256=parsed.sha256.hex(),
        source="backend",
        state=expiry_state(not_after, now),
        days_left=_days_left(not_after, now),
    )


def _public_facts(backend: SignerBackend) -> dict[str, str]:
    """``describe()`` without anything a page should not show: a key file's folder (only its name)."""
    out: dict[str, str] = {}
    for key, value in backend.describe().items():
        if key == "kind":
            continue
        if key == "path" and value:
            value = Path(str(value)).name
        out[key] = str(value)
    return out


def _from_backend(backend: SignerBackend) -> tuple[pyca_x509.Certificate | None, str]:
    """The signing certificate when the backend gives it without the official's secret, else why not."""
    if isinstance(backend, Pkcs12Backend):
        try:
            data = backend.data if backend.data is not None else backend.path.read_bytes()  # type: ignore[union-attr]
        except OSError:
            return None, "Berkas PKCS#12 tidak dapat dibaca oleh server."
        try:
            loaded = pkcs12.load_pkcs12(data, None)
        except (ValueError, TypeError):
            return None, "Sertifikat di berkas PKCS#12 terenkripsi; hanya terbaca dengan passphrase pemiliknya."
        if loaded.cert is None:
            return None, "Berkas PKCS#12 tidak memuat sertifikat penanda tangan."
        return loaded.cert.certificate, ""
    if isinstance(backend, Pkcs11Backend):
        return _pkcs11_certificate(backend)
    if backend.kind == "csc":
        return None, "Sertifikat ada di layanan CSC; yang ditampilkan adalah sertifikat yang didaftarkan admin."
    if backend.kind == "bsre":
        return None, "Sertifikat ada di layanan BSrE; yang ditampilkan adalah sertifikat yang didaftarkan admin."
    return None, "Sertifikat tidak dapat dibaca dari konfigurasi ini."


def _pkcs11_certificate(backend: Pkcs11Backend) -> tuple[pyca_x509.Certificate | None, str]:
    """The certificate object of the token, read in a session without login (certificates are public)."""
    import pkcs11
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import open_pkcs11_session

    label = backend.cert_label or backend.key_label
    try:
        token_session = open_pkcs11_session(backend.module, token_criteria=TokenCriteria(label=backend.token_label))
    except (pkcs11.PKCS11Error, OSError, RuntimeError) as exc:
        log.info("pkcs11 token %r not readable for the signer overview: %s", backend.token_label, type(exc).__name__)
        return None, "Token PKCS#11 tidak ditemukan atau modulnya tidak dapat dimuat."
    try:
        objects = list(
            token_session.get_objects(
                {pkcs11.Attribute.CLASS: pkcs11.ObjectClass.CERTIFICATE, pkcs11.Attribute.LABEL: label}
            )
        )
        if not objects:
            return None, f"Token tidak memuat sertifikat berlabel '{label}'."
        return pyca_x509.load_der_x509_certificate(bytes(objects[0][pkcs11.Attribute.VALUE])), ""
    except (pkcs11.PKCS11Error, ValueError) as exc:
        log.info("pkcs11 certificate %r not readable: %s", label, type(exc).__name__)
        return None, "Sertifikat di token tidak dapat dibaca tanpa PIN."
    finally:
        token_session.close()


def _registered(row: UserCertificate, now: datetime) -> CertificateFacts:
    return CertificateFacts(
        subject=row.subject,
        issuer=row.issuer,
        serial=row.serial,
        not_after=row.not_after,
        sha256=row.sha256,
        source="terdaftar",
        state=expiry_state(row.not_after, now),
        days_left=_days_left(row.not_after, now),
    )


def registered_certificates(
    session: Session, actor: User, *, now: datetime | None = None
) -> list[tuple[User, CertificateFacts]]:
    """Every certificate registered for an account (not removed), by username, then oldest first."""
    require(actor, "manage_users")
    moment = as_utc(now) if now else utcnow()
    rows = session.exec(
        select(UserCertificate, User)
        .join(User, col(User.id) == col(UserCertificate.user_id))
        .where(col(UserCertificate.removed_at).is_(None))
        .order_by(col(User.username), col(UserCertificate.id))
    ).all()
    return [(user, _registered(row, moment)) for row, user in rows]


def signer_statuses(
    session: Session, actor: User, configs: Mapping[str, Mapping[str, Any]], *, now: datetime | None = None
) -> list[SignerStatus]:
    """Each configured official (``NASKAH_SIGNERS_FILE``, by username) with the backend's facts and the
    certificates found (the backend's own when readable without a secret, then those registered)."""
    require(actor, "manage_users")
    moment = as_utc(now) if now else utcnow()
    registered: dict[str, list[CertificateFacts]] = {}
    for user, facts in registered_certificates(session, actor, now=moment):
        registered.setdefault(user.username, []).append(facts)
    out = []
    for username in sorted(configs):
        user = session.exec(select(User).where(User.username == username)).first()
        try:
            configured = configured_signer(configs, username)
        except NaskahError as exc:  # checked at start-up; a file changed since then is said, not a 500
            out.append(
                SignerStatus(
                    username, user.nama if user else None, "?", "Konfigurasi tidak sah", {}, None, [], exc.message
                )
            )
            continue
        assert configured is not None
        backend = configured.backend
        cert, note = _from_backend(backend)
        certificates = [_facts_of(cert, moment)] if cert is not None else []
        shown = {c.sha256 for c in certificates}
        certificates += [c for c in registered.get(username, []) if c.sha256 not in shown]
        if cert is None and not registered.get(username):
            note += " Belum ada sertifikat yang didaftarkan untuk pejabat ini."
        out.append(
            SignerStatus(
                username=username,
                nama=user.nama if user else None,
                kind=backend.kind,
                kind_label=BACKEND_LABELS.get(backend.kind, backend.kind),
                facts=_public_facts(backend),
                signer_id=configured.masked_signer_id(),
                certificates=certificates,
                note=note.strip(),
            )
        )
    return out
