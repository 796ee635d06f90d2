"""Does this certificate belong to this official?  The one rule, for every place that asks.

A signature binds the person printed in its signature block only if the certificate that made
it names that person.  The question is asked when our officials sign on the server (every
backend), when a counterparty's signed file is imported, when a Surat Kuasa delegate signs,
and when any PDF of a naskah the system knows is verified: all of them call :func:`match`
(or :func:`require_belongs`), so the answer cannot differ between signing and verifying.

What a PSrE certificate carries about its holder: the subject's common name (the name as
enrolled — usually without titles, often in capitals) and, for Indonesian PSrE/BSrE, a
``serialNumber`` with the NIK (16 digits) or, for civil servants, the NIP (18 digits), often
prefixed (``NIK:3520…``, ``PNSID1972…``): only the digits count.  What we know about the
official: the printed name with titles, the NIP (civil servants), the NIK (officials who are
not civil servants: a Bupati, a company director, a university's rector), and the
certificates an admin registered for the account (sha256 fingerprints).

The rule, in order:

1. **A registered fingerprint wins.**  The admin said "this certificate is this person's";
   it covers a certificate whose subject says nothing usable.  A certificate that is not
   registered goes on to the next rules (registering is an addition, not a pin).
2. **NIP/NIK decide when both sides have one of the same kind.**  Equal digits: it belongs,
   whatever spelling the name has.  Different digits: it does NOT belong, even when the
   name matches (two people may share a name; their NIP/NIK do not).
3. **Otherwise the name,** without academic and religious titles (:func:`same_person`).

Refusals are :class:`~pipeline.errors.SigningRefused` with ``detail.reason``
``certificate_not_signer`` (or the caller's own reason, e.g. ``certificate_not_penerima_kuasa``),
the certificate's subject, and the official expected (``detail.expected``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from sqlmodel import Session, col, select

from pipeline.errors import InvalidInput, NotFound, SigningRefused
from pipeline.models import User, UserCertificate, utcnow

__all__ = [
    "CertificateIdentity",
    "IdentityCheck",
    "Official",
    "as_asn1",
    "certificate_identity",
    "digits",
    "fingerprint",
    "list_certificates",
    "match",
    "normalise_fingerprint",
    "official_for_user",
    "register_certificate",
    "registered_fingerprints",
    "remove_certificate",
    "require_belongs",
    "same_person",
]

NIP_DIGITS = 18
NIK_DIGITS = 16

_TITLE = re.compile(r"^[^\W\d_]{1,4}\.$")  # Ir., dr., Drs., H., Hj., Dr.


def same_person(a: str, b: str) -> bool:
    """Do two written names denote the same person, ignoring academic and religious titles?

    "Ir. Budi Santoso, M.Si." and "BUDI SANTOSO" (a certificate's CN) are the same; the
    degrees after the first comma and the short titles ending in a dot are left out.
    """

    def core(name: str) -> tuple[str, ...]:
        words = name.split(",")[0].replace("\u00a0", " ").split()
        return tuple(w.casefold() for w in words if not _TITLE.match(w))

    ca, cb = core(a), core(b)
    return bool(ca) and ca == cb


def digits(text: str | None) -> str:
    """Only the digits of ``text`` ("NIP. 19661211 198609 1 002" -> "196612111986091002")."""
    return "".join(ch for ch in text or "" if ch.isdigit())


def as_asn1(certificate: asn1_x509.Certificate | pyca_x509.Certificate) -> asn1_x509.Certificate:
    """pyHanko's (asn1crypto) certificate from either library's object."""
    if isinstance(certificate, pyca_x509.Certificate):
        return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    return certificate


def fingerprint(certificate: asn1_x509.Certificate | pyca_x509.Certificate | bytes) -> str:
    """The sha256 fingerprint of a certificate's DER, lower-case hex (what an admin registers)."""
    if isinstance(certificate, bytes):
        return as_asn1(pyca_x509.load_pem_x509_certificate(certificate)).sha256.hex()
    return as_asn1(certificate).sha256.hex()


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as people copy it ("AB:CD:…", "ab cd …") in the form we store; refuses anything else."""
    value = re.sub(r"[\s:]", "", text).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise InvalidInput(
            "Sidik sertifikat harus SHA-256: 64 digit heksadesimal (boleh dipisah titik dua).",
            reason="fingerprint_invalid",
            field="sha256",
        )
    return value


@dataclass(frozen=True)
class Official:
    """The person a signature block names: who the certificate must belong to."""

    nama: str
    """The name as printed (titles included; they are ignored when compared)."""

    jabatan: str = ""
    """The position printed under the name (shown in messages, not compared)."""

    nip: str | None = None
    """NIP of a civil servant (18 digits; spaces allowed)."""

    nik: str | None = None
    """NIK (16 digits) of an official who is not a civil servant (a Bupati, a company director)."""

    fingerprints: frozenset[str] = frozenset()
    """sha256 fingerprints of certificates an admin registered for this person's account."""

    def describe(self) -> str:
        """``nama (jabatan)`` for messages."""
        return f"{self.nama} ({self.jabatan})" if self.jabatan else self.nama

    def to_dict(self) -> dict[str, Any]:
        """What a report or an error detail shows about the expected official (no fingerprints)."""
        return {"nama": self.nama, "jabatan": self.jabatan, "nip": self.nip or None, "nik": self.nik or None}


@dataclass(frozen=True)
class CertificateIdentity:
    """What a certificate says about its holder."""

    subject: str
    """The whole subject, as people read it (``Common Name: …, Serial Number: …``)."""

    names: tuple[str, ...]
    """The subject's common names."""

    nip: tuple[str, ...]
    """NIP-shaped numbers (18 digits) in the subject's serialNumber attributes."""

    nik: tuple[str, ...]
    """NIK-shaped numbers (16 digits) in the subject's serialNumber attributes."""

    fingerprint: str
    """sha256 of the certificate's DER."""

    @property
    def shown(self) -> str:
        """The name to show: the CN, else the whole subject."""
        return self.names[0] if self.names else self.subject


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def certificate_identity(certificate: asn1_x509.Certificate | pyca_x509.Certificate) -> CertificateIdentity:
    """Read names, NIP/NIK and fingerprint from a certificate (see the module docstring)."""
    cert = as_asn1(certificate)
    subject = cert.subject.native
    serials = [digits(s) for s in _values(subject.get("serial_number"))]
    return CertificateIdentity(
        subject=cert.subject.human_friendly,
        names=tuple(_values(subject.get("common_name"))),
        nip=tuple(s for s in serials if len(s) == NIP_DIGITS),
        nik=tuple(s for s in serials if len(s) == NIK_DIGITS),
        fingerprint=cert.sha256.hex(),
    )


Basis = Literal["fingerprint", "nip", "nik", "nama"]


@dataclass(frozen=True)
class IdentityCheck:
    """The answer for one certificate and one official."""

    belongs: bool
    """The certificate is the official's."""

    basis: Basis | None
    """What decided: a registered ``fingerprint``, the ``nip``, the ``nik`` or the ``nama``
    (None: nothing matched at all)."""

    certificate: CertificateIdentity
    expected: Official

    problem: str | None = None
    """Why not, in Indonesian (None when it belongs)."""

    mismatch: str | None = field(default=None)
    """Which fact disagreed: ``nip``, ``nik`` or ``nama``."""

    def detail(self) -> dict[str, Any]:
        """Facts for an error's ``detail`` or a report."""
        return {
            "subject": self.certificate.subject,
            "certificate_sha256": self.certificate.fingerprint,
            "expected": self.expected.to_dict(),
            "mismatch": self.mismatch,
        }


def _ids(certificate: CertificateIdentity) -> str:
    parts = [f"NIP {n}" for n in certificate.nip] + [f"NIK {n}" for n in certificate.nik]
    return f" ({', '.join(parts)})" if parts else ""


def match(certificate: asn1_x509.Certificate | pyca_x509.Certificate, official: Official) -> IdentityCheck:
    """Does ``certificate`` belong to ``official``?  The rule of the module docstring."""
    ident = certificate_identity(certificate)
    if ident.fingerprint in official.fingerprints:
        return IdentityCheck(True, "fingerprint", ident, official)
    held = f"Sertifikat atas nama {ident.shown}{_ids(ident)}"
    matched: Basis | None = None
    for kind, mine, theirs in (("nip", digits(official.nip), ident.nip), ("nik", digits(official.nik), ident.nik)):
        if not (mine and theirs):
            continue
        if mine not in theirs:
            label = kind.upper()
            return IdentityCheck(
                False,
                None,
                ident,
                official,
                f"{held} bukan milik {official.describe()}: {label} pada sertifikat berbeda dengan {label} "
                f"{official.nama} ({mine}).",
                kind,
            )
        matched = kind  # type: ignore[assignment]
    if matched is not None:
        return IdentityCheck(True, matched, ident, official)
    if any(same_person(name, official.nama) for name in ident.names):
        return IdentityCheck(True, "nama", ident, official)
    return IdentityCheck(
        False,
        None,
        ident,
        official,
        f"{held} bukan milik {official.describe()}, penanda tangan yang tercantum pada blok tanda tangan ini.",
        "nama",
    )


def require_belongs(
    certificate: asn1_x509.Certificate | pyca_x509.Certificate,
    official: Official,
    *,
    reason: str = "certificate_not_signer",
    context: str = "",
) -> IdentityCheck:
    """:func:`match`, refusing (``SigningRefused``, nothing signed or recorded) when it does not belong.

    ``context`` is appended to the message (e.g. which Surat Kuasa the delegate acts under).
    """
    check = match(certificate, official)
    if not check.belongs:
        message = f"{check.problem} Penandatanganan ditolak." + (f" {context}" if context else "")
        raise SigningRefused(message, reason=reason, **check.detail())
    return check


# -- the officials the database knows -----------------------------------------------------------


def registered_fingerprints(session: Session, user_id: int | None) -> frozenset[str]:
    """The certificate fingerprints an admin registered for a user (none for None)."""
    if user_id is None:
        return frozenset()
    rows = session.exec(
        select(UserCertificate.sha256).where(
            UserCertificate.user_id == user_id,
            col(UserCertificate.removed_at).is_(None),
        )
    ).all()
    return frozenset(rows)


def official_for_user(
    session: Session,
    user: User,
    *,
    nama: str | None = None,
    jabatan: str | None = None,
    nip: str | None = None,
    nik: str | None = None,
) -> Official:
    """The official a server signer is: the printed ``nama``/``jabatan`` (else the account's), the
    account's NIP/NIK (else the printed ones) and the account's registered certificates."""
    return Official(
        nama=nama or user.nama,
        jabatan=jabatan or user.jabatan,
        nip=user.nip or nip or None,
        nik=user.nik or nik or None,
        fingerprints=registered_fingerprints(session, user.id),
    )


def register_certificate(
    session: Session, user: User, certificate: bytes | None = None, sha256: str | None = None
) -> UserCertificate:
    """Register a certificate (PEM/DER bytes, or only its sha256 fingerprint) as ``user``'s: from then
    on it belongs to that official whatever its subject says.  Registering it again is a no-op
    (a removed one is registered anew)."""
    subject, issuer, serial, not_after = "", "", "", None
    if certificate is not None:
        try:
            cert = as_asn1(
                pyca_x509.load_pem_x509_certificate(certificate)
                if b"-----BEGIN" in certificate
                else pyca_x509.load_der_x509_certificate(certificate)
            )
        except ValueError:
            raise InvalidInput(
                "Berkas bukan sertifikat X.509 (PEM atau DER).", reason="certificate_unreadable", field="pem"
            ) from None
        value = cert.sha256.hex()
        subject = cert.subject.human_friendly[:500]
        issuer = cert.issuer.human_friendly[:500]
        serial = format(cert.serial_number, "x")[:80]
        not_after = cert["tbs_certificate"]["validity"]["not_after"].native
    elif sha256:
        value = normalise_fingerprint(sha256)
    else:
        raise InvalidInput("Berikan sertifikat (PEM/DER) atau sidik SHA-256-nya.", field="pem")
    assert user.id is not None
    row = session.exec(
        select(UserCertificate).where(UserCertificate.user_id == user.id, UserCertificate.sha256 == value)
    ).first()
    if row is None:
        row = UserCertificate(
            user_id=user.id, sha256=value, subject=subject, issuer=issuer, serial=serial, not_after=not_after
        )
    else:
        row.removed_at = None
        row.subject = subject or row.subject
        row.issuer = issuer or row.issuer
        row.serial = serial or row.serial
        row.not_after = not_after or row.not_after
    session.add(row)
    session.flush()
    return row


def remove_certificate(session: Session, user: User, sha256: str) -> UserCertificate:
    """Stop treating a registered certificate as ``user``'s (the row stays, with ``removed_at``)."""
    value = normalise_fingerprint(sha256)
    row = session.exec(
        select(UserCertificate).where(
            UserCertificate.user_id == user.id,
            UserCertificate.sha256 == value,
            col(UserCertificate.removed_at).is_(None),
        )
    ).first()
    if row is None:
        raise NotFound(f"Sertifikat {value[:16]}… tidak terdaftar untuk pengguna '{user.username}'.", sha256=value)
    row.removed_at = utcnow()
    session.add(row)
    return row


def list_certificates(session: Session, user: User) -> list[UserCertificate]:
    """The certificates registered for ``user`` (removed ones excluded), oldest first."""
    return list(
        session.exec(
            select(UserCertificate)
            .where(UserCertificate.user_id == user.id, col(UserCertificate.removed_at).is_(None))
            .order_by(col(UserCertificate.id))
        ).all()
    )
