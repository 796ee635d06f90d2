"""Is this certificate fit to sign a naskah?  Checked on the certificate itself, before anything is signed.

pyHanko validates the chain (trust, revocation, validity) when it is given a validation
context; what it does not judge, or judges with an English exception that used to escape as
an HTTP 500, is checked here first, each with an Indonesian message and a ``detail.reason``:

=============================== ======================================================================
``certificate_key_usage``        key usage must allow signing: nonRepudiation OR digitalSignature (PSrE
                                 differ; the verifier accepts either, so signing does too).  A
                                 certificate without a key-usage extension is refused as well: every
                                 PSrE signing certificate carries one (ETSI EN 319 412-2).
``certificate_wrong_eku``        an extended key usage, when present, must allow document signing:
                                 anyExtendedKeyUsage, emailProtection, Adobe's documentSigning
                                 (1.2.840.113583.1.1.5), id-kp-documentSigning (1.3.6.1.5.5.7.3.36) or
                                 Microsoft document signing (1.3.6.1.4.1.311.10.3.12).  A TLS-server or
                                 code-signing certificate is not for signing agreements.
``certificate_weak_key``         RSA below 2048 bits; EC on a curve other than P-256, P-384, P-521; DSA.
``certificate_weak_signature``   the certificate (or an intermediate the signer sends) is signed with
                                 SHA-1 or MD5: collisions make such a certificate forgeable.
``certificate_is_ca``            a CA certificate does not sign documents.
``certificate_not_yet_valid``    before its notBefore.
``certificate_expired``          after its notAfter.
=============================== ======================================================================

Revoked and unknown-CA certificates are refused by the chain validation in
``pipeline.sign.signing`` (``certificate_revoked``, ``certificate_untrusted``).  A counterparty's
certificate at import is held to :func:`static_problems` (everything above but the dates:
those are judged at the time it signed, by verification).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509

from pipeline.errors import SigningRefused
from pipeline.identity import as_asn1

__all__ = ["DOCUMENT_SIGNING_EKUS", "PolicyProblem", "check_for_signing", "static_problems"]

#: Extended key usages that allow signing a document (dotted OIDs).
DOCUMENT_SIGNING_EKUS = frozenset(
    {
        "2.5.29.37.0",  # anyExtendedKeyUsage
        "1.3.6.1.5.5.7.3.4",  # id-kp-emailProtection (S/MIME and document signing certificates of PSrE)
        "1.2.840.113583.1.1.5",  # Adobe Authentic Documents Trust (documentSigning)
        "1.3.6.1.5.5.7.3.36",  # id-kp-documentSigning (RFC 9336)
        "1.3.6.1.4.1.311.10.3.12",  # Microsoft document signing
    }
)
SIGNING_KEY_USAGES = frozenset({"non_repudiation", "digital_signature"})
MIN_RSA_BITS = 2048
STRONG_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
WEAK_HASHES = frozenset({"sha1", "md5", "md2"})


@dataclass(frozen=True)
class PolicyProblem:
    """One reason a certificate may not sign."""

    reason: str
    message: str


def _key_problem(cert: asn1_x509.Certificate) -> PolicyProblem | None:
    key = cert.public_key
    algorithm = key.algorithm
    if algorithm == "rsa":
        bits = key.bit_size
        if bits < MIN_RSA_BITS:
            return PolicyProblem(
                "certificate_weak_key",
                f"Kunci RSA sertifikat hanya {bits} bit; minimal {MIN_RSA_BITS} bit. "
                "Minta sertifikat baru kepada PSrE.",
            )
        return None
    if algorithm == "ec":
        kind, curve = key.curve
        if kind != "named" or curve not in STRONG_CURVES:
            return PolicyProblem(
                "certificate_weak_key",
                f"Kurva kunci EC sertifikat ({curve}) tidak diterima; gunakan P-256, P-384 atau P-521.",
            )
        return None
    if algorithm in ("ed25519", "ed448"):
        return None
    return PolicyProblem(
        "certificate_weak_key",
        f"Jenis kunci sertifikat ({algorithm.upper()}) tidak diterima untuk tanda tangan; gunakan RSA atau EC.",
    )


def _hash_of(cert: asn1_x509.Certificate) -> str | None:
    try:
        return str(cert["signature_algorithm"].hash_algo)
    except (ValueError, KeyError):  # ed25519/ed448: no separate hash, fine
        return None


def static_problems(
    certificate: asn1_x509.Certificate | pyca_x509.Certificate,
    chain: Iterable[asn1_x509.Certificate | pyca_x509.Certificate] = (),
) -> list[PolicyProblem]:
    """Everything wrong with the certificate itself (not its dates); empty when fit to sign."""
    cert = as_asn1(certificate)
    problems: list[PolicyProblem] = []
    if cert.ca:
        problems.append(PolicyProblem("certificate_is_ca", "Sertifikat CA tidak dapat dipakai menandatangani naskah."))
    usage = cert.key_usage_value
    if usage is None:
        problems.append(
            PolicyProblem(
                "certificate_key_usage",
                "Sertifikat tidak mencantumkan penggunaan kunci (key usage), sehingga tidak dapat dipakai untuk "
                "tanda tangan elektronik. Minta sertifikat penandatanganan kepada PSrE.",
            )
        )
    elif not (set(usage.native) & SIGNING_KEY_USAGES):
        problems.append(
            PolicyProblem(
                "certificate_key_usage",
                "Penggunaan kunci (key usage) sertifikat tidak mencakup tanda tangan (nonRepudiation atau "
                "digitalSignature). Minta sertifikat penandatanganan kepada PSrE.",
            )
        )
    eku = cert.extended_key_usage_value
    if eku is not None:
        dotted = {purpose.dotted for purpose in eku}
        if not dotted & DOCUMENT_SIGNING_EKUS:
            named = ", ".join(sorted(str(purpose.native) for purpose in eku))
            problems.append(
                PolicyProblem(
                    "certificate_wrong_eku",
                    f"Sertifikat ini diterbitkan untuk keperluan lain ({named}), bukan untuk menandatangani dokumen. "
                    "Minta sertifikat penandatanganan dokumen kepada PSrE.",
                )
            )
    key = _key_problem(cert)
    if key is not None:
        problems.append(key)
    for issued in [cert, *(as_asn1(c) for c in chain)]:
        if issued.self_signed == "yes" and issued is not cert:
            continue  # a root's signature on itself proves nothing either way
        algo = _hash_of(issued)
        if algo in WEAK_HASHES:
            who = "Sertifikat penanda tangan" if issued is cert else f"Sertifikat CA {issued.subject.human_friendly}"
            problems.append(
                PolicyProblem(
                    "certificate_weak_signature",
                    f"{who} ditandatangani dengan {algo.upper()}, algoritme yang sudah tidak aman. "
                    "Minta sertifikat baru kepada PSrE.",
                )
            )
            break
    return problems


def check_for_signing(
    certificate: asn1_x509.Certificate | pyca_x509.Certificate,
    chain: Iterable[asn1_x509.Certificate | pyca_x509.Certificate] = (),
    *,
    now: dt.datetime | None = None,
) -> None:
    """Refuse (``SigningRefused``) a certificate that may not sign now; the first problem is the reason,
    all of them are in ``detail.problems``."""
    cert = as_asn1(certificate)
    now = now or dt.datetime.now(dt.UTC)
    problems = static_problems(cert, chain)
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    dates: dict[str, str] = {}
    if now > not_after:
        problems.insert(
            0,
            PolicyProblem(
                "certificate_expired",
                f"Sertifikat penanda tangan sudah kedaluwarsa sejak {not_after:%Y-%m-%d}; minta sertifikat baru "
                "kepada PSrE.",
            ),
        )
        dates["not_after"] = not_after.isoformat()
    elif now < not_before:
        problems.insert(
            0,
            PolicyProblem(
                "certificate_not_yet_valid",
                f"Sertifikat penanda tangan belum berlaku (mulai {not_before:%Y-%m-%d %H:%M} UTC).",
            ),
        )
        dates["not_before"] = not_before.isoformat()
    if problems:
        first = problems[0]
        raise SigningRefused(
            first.message,
            reason=first.reason,
            subject=cert.subject.human_friendly,
            problems=[{"reason": p.reason, "message": p.message} for p in problems],
            **dates,
        )
