"""Signer readiness: can this certificate sign this naskah for this official, and for how long still?

What peer finance apps show before a signing session (green, amber, red), judged with the rules
that will judge the signature itself, so the colour never disagrees with the outcome:

- **merah** (red): :func:`pipeline.sign.certpolicy.check_for_signing` refuses the certificate (expired,
  not yet valid, wrong key usage, weak key ...), or :func:`pipeline.identity.match` says it is not
  the official printed in the signature block.  Each reason is the message signing would give.
- **kuning** (amber): fit to sign, but it expires within :data:`AMBER_DAYS` days: sign now and ask
  the PSrE for a new one.
- **hijau** (green): fit to sign, and the official's.

Chain trust and revocation are judged when signing (they may need the network); readiness says
what the certificate itself and the naskah's data tell.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509

from pipeline.errors import SigningRefused
from pipeline.identity import Official, as_asn1, certificate_identity, match
from pipeline.sign.certpolicy import check_for_signing

__all__ = ["AMBER_DAYS", "Level", "Problem", "Readiness", "judge"]

AMBER_DAYS = 30
"""A certificate ending within this many days is shown amber."""

Level = Literal["hijau", "kuning", "merah"]


@dataclass(frozen=True)
class Problem:
    reason: str
    """Machine reason, the same ``detail.reason`` signing would refuse with."""
    message: str
    """Indonesian, as signing would say it."""


@dataclass(frozen=True)
class Readiness:
    """The verdict on one signer's certificate, before anything is signed."""

    level: Level
    backend: str
    """Where the key is, in words (``Berkas PKCS#12 yang diunggah``, ``Token PKCS#11 …``)."""
    subject: str
    """The certificate's subject as people read it."""
    nama: str
    """The name on the certificate (its CN)."""
    issuer: str
    """The CA that issued it."""
    valid_until: dt.datetime | None
    days_left: int | None
    """Whole days until it ends (negative: ended that many days ago)."""
    expected: str
    """The official it must belong to (``nama (jabatan)``)."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One Indonesian sentence: what the colour means for this signer."""
        if self.level == "merah":
            return self.problems[0].message if self.problems else "Sertifikat tidak dapat dipakai."
        if self.level == "kuning":
            return (
                f"Sertifikat dapat dipakai, tetapi berakhir dalam {self.days_left} hari. Segera ajukan "
                "perpanjangan kepada PSrE."
            )
        return "Sertifikat siap dipakai untuk menandatangani naskah ini."

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "summary": self.summary,
            "backend": self.backend,
            "subject": self.subject,
            "nama": self.nama,
            "issuer": self.issuer,
            "valid_until": self.valid_until,
            "days_left": self.days_left,
            "expected": self.expected,
            "problems": [{"reason": p.reason, "message": p.message} for p in self.problems],
        }


def _days_left(not_after: dt.datetime, now: dt.datetime) -> int:
    """Days until the end, rounded up while it runs (9 days and 23 hours: "10 hari"), down once it ended."""
    return math.ceil((not_after - now) / dt.timedelta(days=1))


def _level(problems: list[Problem], days_left: int | None) -> Level:
    if problems:
        return "merah"
    if days_left is not None and days_left < AMBER_DAYS:
        return "kuning"
    return "hijau"


def judge(
    certificate: asn1_x509.Certificate | pyca_x509.Certificate,
    chain: Iterable[asn1_x509.Certificate | pyca_x509.Certificate],
    official: Official,
    *,
    backend: str,
    now: dt.datetime | None = None,
) -> Readiness:
    """Judge ``certificate`` for ``official`` now: every problem signing would refuse it for, and how
    long it still runs."""
    now = now or dt.datetime.now(dt.UTC)
    cert = as_asn1(certificate)
    problems: list[Problem] = []
    try:
        check_for_signing(cert, list(chain), now=now)
    except SigningRefused as exc:
        listed = exc.detail.get("problems") or [{"reason": exc.detail.get("reason", ""), "message": exc.message}]
        problems.extend(Problem(str(p["reason"]), str(p["message"])) for p in listed)
    identity = match(cert, official)
    if not identity.belongs:
        problems.append(Problem("certificate_not_signer", identity.problem or "Sertifikat bukan milik pejabat ini."))
    not_after = cert["tbs_certificate"]["validity"]["not_after"].native
    days = _days_left(not_after, now)
    return Readiness(
        level=_level(problems, days),
        backend=backend,
        subject=cert.subject.human_friendly,
        nama=certificate_identity(cert).shown,
        issuer=cert.issuer.native.get("common_name") or cert.issuer.human_friendly,
        valid_until=not_after,
        days_left=days,
        expected=official.describe(),
        problems=problems,
    )
