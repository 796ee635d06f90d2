"""Verify every signature in a PDF against pinned trust roots and say, in one word, whether it holds.

Why our own report around pyHanko's validator: pyHanko answers per signature and leaves
the policy to the caller.  Ours, for agreements that are archived for decades:

* **Pinned roots, revocation required.**  The default validation is soft-fail (a revoked
  signer came out trusted without fetching, SIGNING_NOTES); here the trust roots are the
  caller's and revocation data is ``require``d for every certificate in the chain.
* **Offline by default.**  Revocation data comes from the document's DSS (what PAdES B-LT
  embeds), so an archived file verifies without the network; ``allow_fetching`` adds live
  OCSP/CRL for files that do not carry their validation data (B-B/B-T from a counterparty).
* **Nothing may follow the last signature but validation data or document timestamps.**
  pyHanko reports, per signature, how the later revisions changed the document; annotations
  count as a modification for us, even when no DocMDP forbids them (a comment or a sticker
  added after signing is not part of what was agreed).

* **Read leniently, judge strictly.**  A file another signer wrote (poppler's ``pdfsig``
  re-uses an object number under generation 1) is read with pyHanko's lenient reader when the
  strict one refuses it (``pipeline.pdf.pdfread``); an object re-generated or freed after a
  signature while the document still refers to it then counts as a change after that
  signature, since a viewer that ignores generations would show the new object.
* **A later signer may set ``/SigFlags``.**  pyHanko's default difference analysis calls a
  change of the form's ``/SigFlags`` (1 -> 3, "signatures exist, append only") a modification
  of every earlier signature; poppler's ``pdfsig`` leaves it at 1 and pyHanko (our own
  countersignature) sets 3, so the counterparty's signature would read "modified" for a flag
  no person sees.  :data:`VERIFY_DIFF_POLICY` is pyHanko's default with that one key exempt.
* **Indonesian for people, English for support.**  ``problems`` are Indonesian sentences a
  person can act on; pyHanko's own (English) words about a failure go to ``diagnostic``.

* **Archival mode (``archival=True``) walks the PAdES B-LTA chain.**  Years later the signers'
  certificates have expired and the embedded OCSP responses are stale, so "valid now" is the
  wrong question.  Each proof is checked at the time the next one proves: a signature (and its
  signature timestamp) at the time its signature timestamp proves (the first document
  timestamp's when it has none), with the revocation data embedded for it;
  document timestamp *i* at the time document timestamp *i+1* proves (its validation data was
  embedded just before that one was made); the newest at its own time, and its TSA certificate
  must still be unexpired today — the archive renews (``perbarui-cap-waktu``) before that day.

* **Whose signature is it?**  For a naskah the system knows, the caller passes
  ``expected_signers`` (signature field -> the official printed in that block, found by
  ``pipeline.sign.verification`` from the signature plan); each signature then says whether its
  certificate belongs to that official (``belongs_to_signer``, the one rule of
  ``pipeline.identity``: registered fingerprint, NIP/NIK, name).  A signature in a field the
  plan does not have belongs to no one.  Without expectations (a PDF the system does not
  know) ``belongs_to_signer`` is None: nobody can say.

* **PAdES level.**  B-T needs a timestamp proving when the signature existed: its own
  signature timestamp, or a document timestamp over it (ETSI EN 319 142-1 accepts either;
  ``pipeline.sign.pades`` adds one over a B-B signature from a service).  B-LT adds the
  validation data in the DSS, B-LTA a (further) document timestamp over that.

``bottom_line`` words, worst first: ``invalid`` (bytes or signature do not match),
``modified`` (a disallowed change after signing), ``wrong_signer`` (intact, valid, but the
certificate is not the person printed in the block: the agreement is not signed by the
party's official), ``untrusted`` (chain, revocation or timestamp not acceptable), ``ok``;
the report also says ``unsigned`` when there is no signature at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    FormUpdatingRule,
    GenericFieldModificationRule,
    ModificationLevel,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
)
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import extract_certificate_info
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError, SignatureValidationError
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

from pipeline import asyncrun
from pipeline.errors import InvalidInput
from pipeline.identity import Official, match
from pipeline.pdf.pdfread import hidden_replacements, open_reader, refuse_unreadable
from pipeline.sign.fetch import fetcher_backend

__all__ = [
    "NO_REVOCATION",
    "VERDICTS",
    "SignatureCheck",
    "TimestampCheck",
    "VerificationReport",
    "as_certificates",
    "async_verify_pdf",
    "certificate_expiry",
    "has_signature_timestamp",
    "parsed",
    "refuse_unreadable",
    "signature_level",
    "unanchored_chain",
    "verify_pdf",
]

log = logging.getLogger(__name__)

#: A signer's certificate must allow signing: non-repudiation OR digital signature (PSrE differ).
SIGNER_KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)
#: Modification levels after a signature that we accept (the next parties' signatures, DSS, timestamps).
_ACCEPTED_LEVELS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)
_SEVERITY = {"ok": 0, "untrusted": 1, "wrong_signer": 2, "modified": 3, "invalid": 4}
#: pyHanko's DEFAULT_DIFF_POLICY, except that a later signature may set the form's /SigFlags (module docstring).
VERIFY_DIFF_POLICY = StandardDiffPolicy(
    global_rules=DEFAULT_DIFF_POLICY.global_rules,
    form_rule=FormUpdatingRule(
        field_rules=[SigFieldCreationRule(), SigFieldModificationRule(), GenericFieldModificationRule()],
        ignored_acroform_keys=ACROFORM_EXEMPT_STRICT_COMPARISON | {"/SigFlags"},
    ),
)
#: The problem of a signer whose revocation status (OCSP/CRL) could be had neither from the file nor online.
NO_REVOCATION = "Status pencabutan sertifikat (OCSP/CRL) tidak tersedia di dokumen maupun dari layanan."
#: The problem of a signature after which an object was swapped under another generation or freed.
HIDDEN_REPLACEMENT = (
    "Setelah tanda tangan ini, bagian dokumen diganti secara tersembunyi (nomor objek PDF dipakai ulang "
    "atau dibebaskan padahal masih dipakai dokumen)."
)


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature (not a document timestamp)."""

    field: str
    """Name of the signature field."""

    signer: str
    """Subject CN of the signer's certificate (the name a person recognises)."""

    signing_time: dt.datetime | None
    """Time the signer claims (CMS signing-time / ``/M``): informative, not proof."""

    intact: bool
    """The signed bytes still hash to the value in the signature."""

    valid: bool
    """The cryptographic signature over that hash is correct."""

    trusted: bool
    """The certificate chains to a configured root and is neither expired nor revoked, with revocation data."""

    coverage: str
    """pyHanko's coverage: ``ENTIRE_FILE``, ``ENTIRE_REVISION``, ``CONTIGUOUS_BLOCK_FROM_START``, ``UNCLEAR``."""

    modification_level: str
    """What happened after this signature: ``NONE``, ``LTA_UPDATES``, ``FORM_FILLING``, ``ANNOTATIONS``, ``OTHER``."""

    timestamp: dt.datetime | None
    """Time in the signature timestamp token (PAdES B-T), the proof of when it was signed."""

    timestamp_valid: bool
    """The timestamp token is intact, valid and from a trusted TSA (False when there is none)."""

    pades_level: str
    """``B-B``, ``B-T`` (timestamped), ``B-LT`` (+ validation data in the DSS), ``B-LTA`` (+ document timestamp)."""

    docmdp_ok: bool | None
    """Later changes are within the DocMDP/lock permissions in force (None = not determinable)."""

    reason: str | None
    """``/Reason`` given by the signer."""

    bottom_line: str
    """``ok``, ``invalid``, ``untrusted``, ``wrong_signer`` or ``modified``."""

    problems: list[str] = field(default_factory=list)
    """What is wrong, in Indonesian, for people."""

    signed_revision: int = -1
    """Index of the revision this signature signed (0 = the original file)."""

    validated_at: dt.datetime | None = None
    """The moment the certificates were judged at (None: now)."""

    diagnostic: str | None = None
    """pyHanko's own (English) words about what failed, for support staff; never shown as the message."""

    certificate_subject: str = ""
    """The signer certificate's whole subject (CN, serialNumber with NIK/NIP, O, ...)."""

    certificate_issuer: str = ""
    """The CA that issued the signer's certificate (its subject CN, or the whole subject): people
    ask "who vouches for this name", and a certificate of the BSrE reads differently from a vendor's."""

    belongs_to_signer: bool | None = None
    """The certificate belongs to the official printed in this signature block; None when the
    document is not a naskah the system knows (nobody told us whom to expect)."""

    expected_signer: dict[str, Any] | None = None
    """The official printed in this block (nama, jabatan, nip, nik), for a known naskah."""

    identity_basis: str | None = None
    """What showed the certificate is theirs: ``fingerprint`` (registered), ``nip``, ``nik`` or ``nama``."""


@dataclass(frozen=True)
class TimestampCheck:
    """The verdict on one document timestamp (PAdES B-LTA), oldest first."""

    field: str
    """Name of the signature field holding the timestamp."""

    tsa: str
    """Subject CN of the TSA certificate."""

    time: dt.datetime | None
    """The time the timestamp proves (``genTime``)."""

    tsa_valid_until: dt.datetime | None
    """When the TSA certificate expires: the last timestamp must be renewed before then."""

    validated_at: dt.datetime | None
    """The moment the TSA's certificate was judged at (None: now)."""

    ok: bool
    """Intact, valid and from a TSA trusted at ``validated_at``."""

    problems: list[str] = field(default_factory=list)
    """What is wrong, in Indonesian."""

    diagnostic: str | None = None
    """pyHanko's own (English) words about what failed, for support staff."""


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on a whole document."""

    signatures: list[SignatureCheck]
    """Every signature, in signing order."""

    document_timestamps: int
    """Number of document timestamps (PAdES B-LTA)."""

    after_last_signature: str
    """What follows the last signature: ``nothing``, ``validation data``, ``document timestamp`` or ``changes``."""

    ok: bool
    """At least one signature, all ``ok``, and only validation data/document timestamps after the last one."""

    bottom_line: str
    """``ok``, ``unsigned``, ``invalid``, ``modified``, ``wrong_signer`` or ``untrusted`` (the worst finding)."""

    problems: list[str] = field(default_factory=list)
    """Document-level problems, in Indonesian (per-signature ones are in each check)."""

    revisions: int = 0
    """Number of revisions (incremental updates + 1) in the file."""

    timestamps: list[TimestampCheck] = field(default_factory=list)
    """Every document timestamp, oldest first."""

    def all_problems(self) -> list[str]:
        """Every problem found, in Indonesian: each signature's (naming its field and signer), then the
        document's.  Never empty for a report that is not ``ok``."""
        found: list[str] = []
        for check in self.signatures:
            who = f"'{check.field}'" + (f" ({check.signer})" if check.signer else "")
            found.extend(f"Tanda tangan {who}: {problem}" for problem in check.problems)
            if check.bottom_line != "ok" and not check.problems:
                found.append(f"Tanda tangan {who}: {_VERDICT[check.bottom_line]}")
        found.extend(self.problems)
        if not self.ok and not found:
            found.append(f"Verifikasi gagal: {_VERDICT.get(self.bottom_line, self.bottom_line)}.")
        return found

    def diagnostics(self) -> list[str]:
        """pyHanko's English diagnostics of every failing signature and timestamp (for ``detail.diagnostic``)."""
        items = [f"{c.field}: {c.diagnostic}" for c in self.signatures if c.diagnostic]
        items.extend(f"{t.field}: {t.diagnostic}" for t in self.timestamps if t.diagnostic)
        return items

    naskah_id: int | None = None
    """The naskah this file is a state of, when the system knows it (``pipeline.sign.verification``)."""

    tanggal_penandatanganan: dict[str, Any] | None = None
    """For a naskah the system knows: the date its text states and each signature's day with the note
    confirming a desk-to-desk signature on another day (``pipeline.sign.signing_date.SigningDates.to_dict``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 strings."""

        def convert(value: Any) -> Any:
            if isinstance(value, dt.datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if isinstance(value, list):
                return [convert(v) for v in value]
            return value

        return convert(asdict(self))


#: The one-word verdicts in Indonesian, for a problem list that would otherwise say nothing.
_VERDICT = {
    "ok": "sah",
    "untrusted": "tidak dipercaya",
    "wrong_signer": "sertifikat bukan milik penanda tangan yang tercantum pada blok tanda tangan",
    "modified": "dokumen diubah setelah ditandatangani",
    "invalid": "tidak sah (isi atau nilai tanda tangan tidak cocok)",
    "unsigned": "dokumen tidak bertanda tangan",
}
VERDICTS = _VERDICT
"""A ``bottom_line`` in Indonesian words (pages show a verification result with them)."""


# -- inputs --------------------------------------------------------------------------------


#: What pyHanko's modification levels mean, in the words of the person reading the report.
_CHANGE_WORDS = {
    "FORM_FILLING": "isian formulir diubah",
    "ANNOTATIONS": "komentar, coretan atau stiker ditambahkan",
    "OTHER": "isi halaman atau susunan dokumen diubah",
}


def as_certificates(items: Iterable[Any]) -> list[asn1_x509.Certificate]:
    """Normalise certificates given as asn1crypto or cryptography objects, DER/PEM bytes or PEM file paths."""
    result: list[asn1_x509.Certificate] = []
    for item in items:
        if isinstance(item, asn1_x509.Certificate):
            result.append(item)
        elif isinstance(item, pyca_x509.Certificate):
            result.append(asn1_x509.Certificate.load(item.public_bytes(serialization.Encoding.DER)))
        elif isinstance(item, Path):
            result.extend(as_certificates([item.read_bytes()]))
        elif isinstance(item, bytes | bytearray):
            data = bytes(item)
            if b"-----BEGIN" in data:
                for cert in pyca_x509.load_pem_x509_certificates(data):
                    result.append(asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)))
            else:
                result.append(asn1_x509.Certificate.load(data))
        else:
            raise TypeError(f"not a certificate: {type(item).__name__}")
    return [parsed(cert) for cert in result]


def parsed(cert: asn1_x509.Certificate) -> asn1_x509.Certificate:
    """``cert`` with every part parsed, so that threads may share it.

    asn1crypto parses lazily and writes what it parsed into the object as it goes: two threads
    reading the same fresh certificate at once (two archive requests validating with the same trust
    roots) can see a half-parsed extension list (``KeyError: No field numbered 2 ...``).
    Certificates kept across requests (trust roots, the TSA's, a signer's chain) go through here
    (:func:`as_certificates` does it), under a lock the first time, cheaply afterwards.
    """
    if getattr(cert, "_naskah_parsed", False):
        return cert
    with _PARSE_LOCK:
        if not getattr(cert, "_naskah_parsed", False):
            cert.native  # noqa: B018 - parses every field
            cert.key_identifier  # noqa: B018 - and the extension summary pyHanko reads (one pass sets all)
            cert.issuer_serial  # noqa: B018
            cert.sha256  # noqa: B018
            cert._naskah_parsed = True  # type: ignore[attr-defined]
    return cert


_PARSE_LOCK = threading.Lock()


def _open(data: bytes) -> PdfFileReader:
    """Strictly when the file allows it, else leniently (``pipeline.pdf.pdfread``)."""
    return open_reader(data)


def _dss_material(reader: PdfFileReader) -> tuple[list[asn1_x509.Certificate], list[Any], list[Any]]:
    """Certificates, OCSP responses and CRLs embedded in the document security store."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return [], [], []
    vc = dss.as_validation_context({"trust_roots": [], "allow_fetching": False, "revocation_mode": "soft-fail"})
    certs = list(dss.load_certs())
    return certs, list(vc.ocsps), list(vc.crls)


# -- per signature ---------------------------------------------------------------------------


def _cn(cert: asn1_x509.Certificate | None) -> str:
    if cert is None:
        return ""
    cn = cert.subject.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[-1]
    return str(cn) if cn else cert.subject.human_friendly


def _issuer_name(cert: asn1_x509.Certificate | None) -> str:
    """The issuing CA's common name (its whole subject when it has none); empty without a certificate."""
    if cert is None:
        return ""
    cn = cert.issuer.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[-1]
    return str(cn) if cn else cert.issuer.human_friendly


def _trust_problem(status: PdfSignatureStatus) -> str:
    indic = status.trust_problem_indic
    if status.revoked or indic in (AdESFailure.REVOKED, AdESIndeterminate.REVOKED_NO_POE):
        return "Sertifikat penanda tangan telah dicabut (revoked)."
    if indic == AdESIndeterminate.REVOKED_CA_NO_POE:
        return "Sertifikat CA penerbit telah dicabut."
    if indic in (AdESIndeterminate.EXPIRED, AdESIndeterminate.OUT_OF_BOUNDS_NO_POE):
        return "Sertifikat penanda tangan sudah kedaluwarsa pada waktu pemeriksaan."
    if indic in (AdESFailure.NOT_YET_VALID, AdESIndeterminate.NOT_YET_VALID):
        return "Sertifikat penanda tangan belum berlaku pada waktu pemeriksaan."
    if indic in (AdESIndeterminate.TRY_LATER, AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE):
        return NO_REVOCATION
    if indic == AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND or status.validation_path is None:
        return "Sertifikat penanda tangan tidak berantai ke CA yang dipercaya."
    if indic == AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE:
        return "Sertifikat penanda tangan tidak boleh dipakai untuk tanda tangan (key usage)."
    return "Sertifikat penanda tangan tidak dipercaya."


def _is_vague(status: PdfSignatureStatus) -> bool:
    return (
        status.intact
        and status.valid
        and status.trust_problem_indic
        in (
            AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            AdESIndeterminate.GENERIC,
            None,
        )
    )


async def _diagnose(emb: EmbeddedPdfSignature, vc: ValidationContext) -> tuple[str, str | None]:
    """pyHanko folds missing revocation data, an expired CA and more into one AdES
    indication; rerun the path validation to tell people which one it is (and support staff
    pyHanko's words)."""
    validator = CertificateValidator(
        emb.signer_cert, intermediate_certs=emb.other_embedded_certs, validation_context=vc
    )
    try:
        await validator.async_validate_usage(set())
    except InsufficientRevinfoError as exc:
        return NO_REVOCATION, str(exc)
    except RevokedError as exc:
        return "Sertifikat dalam rantai penanda tangan telah dicabut (revoked).", str(exc)
    except ExpiredError as exc:
        return "Sertifikat dalam rantai penanda tangan sudah kedaluwarsa pada waktu pemeriksaan.", str(exc)
    except PathBuildingError as exc:
        return "Sertifikat penanda tangan tidak berantai ke CA yang dipercaya.", str(exc)
    except (PathValidationError, ValidationError) as exc:
        return "Sertifikat penanda tangan tidak dapat divalidasi terhadap CA yang dipercaya.", str(exc)
    return "Sertifikat penanda tangan tidak memenuhi syarat penggunaan kunci (key usage) untuk tanda tangan.", None


def _broken(name: str, problem: str, revision: int = -1, diagnostic: str | None = None) -> SignatureCheck:
    return SignatureCheck(
        field=name,
        signer="",
        signing_time=None,
        intact=False,
        valid=False,
        trusted=False,
        coverage="UNCLEAR",
        modification_level="OTHER",
        timestamp=None,
        timestamp_valid=False,
        pades_level="B-B",
        docmdp_ok=None,
        reason=None,
        bottom_line="invalid",
        problems=[problem],
        signed_revision=revision,
        diagnostic=diagnostic,
    )


async def _has_ltv_data(
    emb: EmbeddedPdfSignature,
    roots: list[asn1_x509.Certificate],
    dss: tuple[list[Any], list[Any], list[Any]],
    moment: dt.datetime | None = None,
) -> bool:
    """Does the DSS alone (no network) carry what validating the signer's chain (at ``moment``) needs?"""
    certs, ocsps, crls = dss
    if not (ocsps or crls):
        return False
    material = (certs + emb.other_embedded_certs, ocsps, crls)
    vc = _context(roots, material, moment=moment, revocation_mode="require", allow_fetching=False)
    validator = CertificateValidator(
        emb.signer_cert, intermediate_certs=emb.other_embedded_certs, validation_context=vc
    )
    try:
        await validator.async_validate_usage(set())
    except (PathBuildingError, PathValidationError, ValidationError):
        return False
    return True


async def _check_signature(
    emb: EmbeddedPdfSignature,
    vc: ValidationContext,
    *,
    offline_require: bool,
    roots: list[asn1_x509.Certificate],
    dss: tuple[list[Any], list[Any], list[Any]],
    doc_ts_revisions: list[int],
    moment: dt.datetime | None = None,
    known: bool = False,
    expected: Official | None = None,
) -> SignatureCheck:
    """One signature's verdict; with ``known`` (a naskah the system knows) also whether its
    certificate belongs to ``expected``, the official printed in its block (None: the plan has
    no signer for this field)."""
    name = str(emb.field_name)
    try:
        status = await async_validate_pdf_signature(
            emb, vc, vc, diff_policy=VERIFY_DIFF_POLICY, key_usage_settings=SIGNER_KEY_USAGE
        )
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        log.info("signature %s could not be validated: %s", name, exc)
        return _broken(
            name,
            "Tanda tangan tidak dapat diperiksa: strukturnya rusak atau tidak didukung.",
            emb.signed_revision,
            f"{type(exc).__name__}: {exc}",
        )

    problems: list[str] = []
    diagnostic: str | None = None
    coverage = status.coverage or SignatureCoverageLevel.UNCLEAR
    level = status.modification_level or ModificationLevel.OTHER
    tst = status.timestamp_validity
    timestamp_valid = bool(tst is not None and tst.intact and tst.valid and tst.trusted)

    if not status.intact:
        problems.append("Isi dokumen yang ditandatangani telah berubah (hash tidak cocok).")
    if not status.valid:
        problems.append("Nilai tanda tangan kriptografis tidak valid.")
    modified = False
    if coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        modified = True
        problems.append("Tanda tangan tidak mencakup seluruh revisi dokumen yang ditandatanganinya.")
    if level not in _ACCEPTED_LEVELS:
        modified = True
        change = _CHANGE_WORDS.get(level.name, _CHANGE_WORDS["OTHER"])
        problems.append(f"Dokumen diubah setelah tanda tangan ini: {change}.")
    if status.docmdp_ok is False:
        modified = True
        problems.append("Perubahan setelah tanda tangan ini dilarang oleh kunci yang dipasang saat penandatanganan.")
    if not status.trusted:
        if _is_vague(status):
            problem, diagnostic = await _diagnose(emb, vc)
        else:
            problem, diagnostic = _trust_problem(status), getattr(status.trust_problem_indic, "name", None)
        problems.append(problem)
    if tst is not None and not timestamp_valid:
        problems.append("Cap waktu (timestamp) tanda tangan tidak valid atau TSA-nya tidak dipercaya.")

    belongs, basis, expected_dict = None, None, None
    if known:
        belongs, basis, expected_dict, identity_problem = _identity(status.signing_cert, expected, name)
        if identity_problem:
            problems.append(identity_problem)

    if not (status.intact and status.valid):
        bottom_line = "invalid"
    elif modified:
        bottom_line = "modified"
    elif belongs is False:
        bottom_line = "wrong_signer"
    elif not status.trusted or (tst is not None and not timestamp_valid):
        bottom_line = "untrusted"
    else:
        bottom_line = "ok"

    # B-T: a signature timestamp, or else a document timestamp made after this signature
    later_doc_ts = sorted(rev for rev in doc_ts_revisions if rev > emb.signed_revision)
    if tst is None and later_doc_ts:
        later_doc_ts = later_doc_ts[1:]  # the first one stands in for the signature timestamp
        timestamped = True
    else:
        timestamped = tst is not None
    pades = "B-B"
    if timestamped:
        pades = "B-T"
        ltv = status.trusted if offline_require else await _has_ltv_data(emb, roots, dss, moment)
        if ltv and (dss[1] or dss[2]):
            pades = "B-LT"
            if later_doc_ts:
                pades = "B-LTA"

    reason = emb.sig_object.get("/Reason")
    return SignatureCheck(
        field=name,
        signer=_cn(status.signing_cert),
        signing_time=status.signer_reported_dt,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        coverage=coverage.name,
        modification_level=level.name,
        timestamp=tst.timestamp if tst is not None else None,
        timestamp_valid=timestamp_valid,
        pades_level=pades,
        docmdp_ok=status.docmdp_ok,
        reason=str(reason) if reason is not None else None,
        bottom_line=bottom_line,
        problems=problems,
        signed_revision=emb.signed_revision,
        validated_at=moment,
        diagnostic=diagnostic,
        certificate_subject=status.signing_cert.subject.human_friendly if status.signing_cert is not None else "",
        certificate_issuer=_issuer_name(status.signing_cert),
        belongs_to_signer=belongs,
        expected_signer=expected_dict,
        identity_basis=basis,
    )


def _identity(
    cert: asn1_x509.Certificate | None, expected: Official | None, field_name: str
) -> tuple[bool, str | None, dict[str, Any] | None, str | None]:
    """(belongs, basis, expected official, problem) for a signature of a known naskah."""
    if expected is None:
        return (
            False,
            None,
            None,
            f"Kolom tanda tangan '{field_name}' tidak ada dalam rencana tanda tangan naskah ini: tanda tangan ini "
            "bukan tanda tangan pejabat salah satu pihak.",
        )
    if cert is None:
        return False, None, expected.to_dict(), "Sertifikat penanda tangan tidak ada pada tanda tangan ini."
    check = match(cert, expected)
    return check.belongs, check.basis, expected.to_dict(), check.problem


# -- the document ------------------------------------------------------------------------------


def _embedded(reader: PdfFileReader) -> tuple[list[EmbeddedPdfSignature], list[SignatureCheck]]:
    """Every filled signature field; a field whose signature cannot even be parsed becomes an
    ``invalid`` check instead of failing the whole report (a flipped byte in /Contents)."""
    found: list[EmbeddedPdfSignature] = []
    broken: list[SignatureCheck] = []
    for name, _value, field_ref in enumerate_sig_fields(reader, filled_status=True):
        try:
            found.append(EmbeddedPdfSignature(reader, field_ref, name))
        except (PdfError, ValueError, KeyError, TypeError) as exc:
            broken.append(
                _broken(
                    str(name),
                    f"Data tanda tangan pada kolom '{name}' rusak.",
                    diagnostic=f"{type(exc).__name__}: {exc}",
                )
            )
    found.sort(key=lambda emb: emb.signed_revision)
    return found, broken


def _context(
    roots: list[asn1_x509.Certificate],
    dss: tuple[list[Any], list[Any], list[Any]],
    *,
    moment: dt.datetime | None,
    revocation_mode: str,
    allow_fetching: bool,
) -> ValidationContext:
    fetching = allow_fetching and moment is None
    return ValidationContext(
        trust_roots=roots,
        other_certs=dss[0],
        ocsps=dss[1],
        crls=dss[2],
        allow_fetching=fetching,
        fetcher_backend=fetcher_backend() if fetching else None,  # public addresses only (pipeline.sign.fetch)
        revocation_mode=revocation_mode,
        moment=moment,
        # Validating at a past moment (the time a later timestamp proves) uses the OCSP/CRL
        # embedded for it, which may have been issued a little after that moment.
        retroactive_revinfo=moment is not None,
    )


def _token_time(signed_data: Any) -> dt.datetime | None:
    try:
        value = signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return value if isinstance(value, dt.datetime) else None


def _signature_timestamp_time(emb: EmbeddedPdfSignature) -> dt.datetime | None:
    """The time the signature's own RFC 3161 timestamp (PAdES B-T) proves, without validating it."""
    try:
        attrs = emb.signer_info["unsigned_attrs"]
        for attr in attrs if attrs.native is not None else []:
            if attr["type"].native == "signature_time_stamp_token":
                return _token_time(attr["values"][0]["content"])
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return None


def certificate_expiry(cert: asn1_x509.Certificate | None) -> dt.datetime | None:
    """The certificate's notAfter (None for no certificate)."""
    if cert is None:
        return None
    value = cert["tbs_certificate"]["validity"]["not_after"].native
    return value if isinstance(value, dt.datetime) else None


async def _check_timestamp(
    emb: EmbeddedPdfSignature, vc: ValidationContext, moment: dt.datetime | None, *, newest: bool, now: dt.datetime
) -> TimestampCheck:
    name = str(emb.field_name)
    problems: list[str] = []
    diagnostic: str | None = None
    try:
        status = await async_validate_pdf_timestamp(emb, vc)
        good = bool(status.intact and status.valid and status.trusted)
        if not (status.intact and status.valid):
            problems.append(f"Cap waktu dokumen '{name}' rusak atau tidak cocok dengan isi dokumen.")
        elif not status.trusted:
            problems.append(f"Sertifikat TSA cap waktu dokumen '{name}' tidak dipercaya pada waktu pemeriksaan.")
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError) as exc:
        log.info("document timestamp %s could not be validated: %s", name, exc)
        good = False
        problems.append(f"Cap waktu dokumen '{name}' tidak dapat diperiksa: strukturnya rusak atau tidak didukung.")
        diagnostic = f"{type(exc).__name__}: {exc}"
    try:
        cert: asn1_x509.Certificate | None = emb.signer_cert
    except (KeyError, ValueError, TypeError, AttributeError):
        cert = None
    expiry = certificate_expiry(cert)
    if newest and moment is not None and expiry is not None and expiry <= now:
        good = False
        problems.append(
            f"Sertifikat TSA cap waktu dokumen terakhir berakhir pada {expiry:%Y-%m-%d}: rantai bukti arsip "
            "terputus karena cap waktu tidak diperbarui sebelum tanggal itu (naskah arsip perbarui-cap-waktu)."
        )
    return TimestampCheck(
        field=name,
        tsa=_cn(cert),
        time=_token_time(emb.signed_data),
        tsa_valid_until=expiry,
        validated_at=moment,
        ok=good,
        problems=problems,
        diagnostic=diagnostic,
    )


async def async_verify_pdf(
    data: bytes,
    trust_roots: Sequence[Any],
    *,
    revocation_mode: str = "require",
    allow_fetching: bool = False,
    moment: dt.datetime | None = None,
    archival: bool = False,
    now: dt.datetime | None = None,
    expected_signers: Mapping[str, Official] | None = None,
) -> VerificationReport:
    """:func:`verify_pdf` for callers inside an event loop."""
    reader = _open(data)
    roots = as_certificates(trust_roots)
    if not roots:
        raise InvalidInput("Tidak ada sertifikat akar (trust root) yang dikonfigurasi.", reason="no_trust_roots")
    try:
        embedded, broken = _embedded(reader)
        dss = _dss_material(reader)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc
    regular = [e for e in embedded if e.sig_object_type == "/Sig"]
    timestamps = [e for e in embedded if e.sig_object_type == "/DocTimeStamp"]
    now = now or dt.datetime.now(dt.UTC)
    archival = archival and bool(timestamps)  # without a document timestamp nothing carries the proof on
    ts_times = [_token_time(e.signed_data) for e in timestamps]

    # The moment each signature / document timestamp is judged at (see the module docstring).
    def signature_moment(emb: EmbeddedPdfSignature) -> dt.datetime | None:
        if not archival:
            return moment
        later = [t for e, t in zip(timestamps, ts_times, strict=True) if e.signed_revision > emb.signed_revision]
        return _signature_timestamp_time(emb) or (later[0] if later else ts_times[-1])

    def timestamp_moment(index: int) -> dt.datetime | None:
        if not archival:
            return moment
        return ts_times[index + 1] if index + 1 < len(ts_times) else ts_times[index]

    contexts: dict[dt.datetime | None, ValidationContext] = {}

    def context(at: dt.datetime | None) -> ValidationContext:
        if at not in contexts:
            contexts[at] = _context(
                roots, dss, moment=at, revocation_mode=revocation_mode, allow_fetching=allow_fetching
            )
        return contexts[at]

    problems: list[str] = []
    try:
        ts_revisions = [e.signed_revision for e in timestamps]
        checks = []
        for emb in regular:
            at = signature_moment(emb)
            checks.append(
                await _check_signature(
                    emb,
                    context(at),
                    offline_require=not allow_fetching and revocation_mode == "require" and at is None,
                    roots=roots,
                    dss=dss,
                    doc_ts_revisions=ts_revisions,
                    moment=at,
                    known=expected_signers is not None,
                    expected=(expected_signers or {}).get(str(emb.field_name)),
                )
            )
        ts_checks = [
            await _check_timestamp(
                emb, context(timestamp_moment(i)), timestamp_moment(i), newest=i == len(timestamps) - 1, now=now
            )
            for i, emb in enumerate(timestamps)
        ]
    finally:
        for vc in contexts.values():
            await vc.aclose()
    timestamps_ok = all(t.ok for t in ts_checks)
    for t in ts_checks:
        problems.extend(t.problems)

    checks = sorted(checks + broken, key=lambda c: c.signed_revision)
    revisions = reader.xrefs.total_revisions
    if not reader.strict:
        checks = _with_hidden_replacements(reader, checks, revisions)
    after = _after_last_signature(regular, checks, timestamps, revisions)
    if after == "changes":
        problems.append("Ada perubahan pada dokumen setelah tanda tangan terakhir.")
    if not checks:
        problems.append("Dokumen tidak memiliki tanda tangan elektronik.")
        bottom_line = "unsigned"
    else:
        worst = max(checks, key=lambda c: _SEVERITY[c.bottom_line]).bottom_line
        if after == "changes" and _SEVERITY[worst] < _SEVERITY["modified"]:
            worst = "modified"
        if not timestamps_ok and worst == "ok":
            worst = "untrusted"
        bottom_line = worst
    ok = bottom_line == "ok" and after in ("nothing", "validation data", "document timestamp")
    return VerificationReport(
        signatures=checks,
        document_timestamps=len(timestamps),
        after_last_signature=after,
        ok=ok,
        bottom_line=bottom_line,
        problems=problems,
        revisions=revisions,
        timestamps=ts_checks,
    )


def _with_hidden_replacements(
    reader: PdfFileReader, checks: list[SignatureCheck], revisions: int
) -> list[SignatureCheck]:
    """A leniently read file: every signature followed by a revision that swaps an object the
    document still uses (``pdfread.hidden_replacements``) counts as modified."""
    signed = [c.signed_revision for c in checks if c.signed_revision >= 0]
    if not signed:
        return checks
    try:
        hiding = [r for r in range(min(signed) + 1, revisions) if hidden_replacements(reader, r)]
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc
    if not hiding:
        return checks
    log.info("revisions %s swap objects the document still uses", hiding)
    out = []
    for check in checks:
        if check.signed_revision >= 0 and any(r > check.signed_revision for r in hiding):
            worse = "invalid" if check.bottom_line == "invalid" else "modified"
            check = replace(
                check,
                bottom_line=worse,
                modification_level="OTHER",
                problems=[*check.problems, HIDDEN_REPLACEMENT],
                diagnostic=check.diagnostic or f"object re-generated or freed while in use in revisions {hiding}",
            )
        out.append(check)
    return out


def _after_last_signature(
    regular: list[EmbeddedPdfSignature],
    checks: list[SignatureCheck],
    timestamps: list[EmbeddedPdfSignature],
    revisions: int,
) -> str:
    if not regular:
        return "nothing"
    last = regular[-1]
    if last.signed_revision >= revisions - 1:
        return "nothing"
    last_check = next((c for c in checks if c.field == str(last.field_name)), None)
    if last_check is None or last_check.modification_level not in ("NONE", "LTA_UPDATES"):
        return "changes"
    if any(ts.signed_revision > last.signed_revision for ts in timestamps):
        return "document timestamp"
    return "validation data"


def signature_level(data: bytes, field_name: str, trust_roots: Sequence[Any]) -> str:
    """The PAdES level the signature in ``field_name`` reaches, offline, without the rest of the report.

    The same definition as :class:`SignatureCheck` ``pades_level`` (a signature or document
    timestamp for B-T, the DSS validating the signer's chain with revocation required for B-LT,
    a further document timestamp for B-LTA), but neither the signature bytes nor the changes after
    it are checked: for reading back a signature just made (``pipeline.sign.pades``), where the full
    verification's difference analysis would cost ten times more.
    """
    return asyncrun.run(_signature_level(data, field_name, as_certificates(trust_roots)))


async def _signature_level(data: bytes, field_name: str, roots: list[asn1_x509.Certificate]) -> str:
    try:  # read leniently: the file was already judged (or just made); this only reads what it carries
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded, _broken_fields = _embedded(reader)
        dss = _dss_material(reader)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc
    emb = next((e for e in embedded if e.sig_object_type == "/Sig" and str(e.field_name) == field_name), None)
    if emb is None:
        return "B-B"
    later_doc_ts = [
        e.signed_revision
        for e in embedded
        if e.sig_object_type == "/DocTimeStamp" and e.signed_revision > emb.signed_revision
    ]
    if not has_signature_timestamp(emb):
        if not later_doc_ts:
            return "B-B"
        later_doc_ts = later_doc_ts[1:]
    if not roots or not (dss[1] or dss[2]) or not await _has_ltv_data(emb, roots, dss):
        return "B-T"
    return "B-LTA" if later_doc_ts else "B-LT"


async def unanchored_chain(data: bytes, field_name: str, trust_roots: Sequence[Any]) -> tuple[str, str] | None:
    """Which certificate of the signature in ``field_name`` does not chain to one of ``trust_roots``
    with only the certificates the file carries, offline: ``("signer" | "timestamp", diagnostic)``,
    or None when the signer's certificate and its signature timestamp's TSA both do.

    The gate before anything is fetched for a counterparty's signature (``pipeline.sign.desk``): the
    addresses pyHanko fetches from (AIA caIssuers, OCSP, CRL) are written in the certificates, so
    only a chain that ends at a root we trust, with the intermediates embedded in the signature,
    its timestamp token or the DSS, may lead to a request; a partner who left out its CA's
    certificate is asked to include it rather than have it looked up.
    """
    roots = as_certificates(trust_roots)
    try:
        reader = _open(data)
        emb = next(e for e in reader.embedded_regular_signatures if str(e.field_name) == field_name)
        certs = [*_dss_material(reader)[0], *emb.other_embedded_certs]
        signer = emb.signer_cert
        token = _signature_timestamp_token(emb)
        tsa = extract_certificate_info(token) if token is not None else None
    except (StopIteration, PdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return "signer", f"signature data unreadable: {type(exc).__name__}"
    vc = ValidationContext(trust_roots=roots, other_certs=certs, allow_fetching=False)
    try:
        await vc.path_builder.async_build_paths(signer)
    except PathBuildingError as exc:
        return "signer", str(exc)
    if tsa is not None:
        vc = ValidationContext(trust_roots=roots, other_certs=[*certs, *tsa.other_certs], allow_fetching=False)
        try:
            await vc.path_builder.async_build_paths(tsa.signer_cert)
        except PathBuildingError as exc:
            return "timestamp", str(exc)
    return None


def _signature_timestamp_token(emb: EmbeddedPdfSignature) -> Any:
    """The SignedData of the signature's own RFC 3161 timestamp token (None without one)."""
    attrs = emb.signer_info["unsigned_attrs"]
    for attr in attrs if attrs.native is not None else []:
        if attr["type"].native == "signature_time_stamp_token":
            return attr["values"][0]["content"]
    return None


def has_signature_timestamp(emb: EmbeddedPdfSignature) -> bool:
    """Does the signature carry its own RFC 3161 signature timestamp (PAdES B-T)?"""
    try:
        attrs = emb.signer_info["unsigned_attrs"]
        return any(attr["type"].native == "signature_time_stamp_token" for attr in attrs or [])
    except (KeyError, ValueError, TypeError, AttributeError):
        return False


def verify_pdf(
    data: bytes,
    trust_roots: Sequence[Any],
    *,
    revocation_mode: str = "require",
    allow_fetching: bool = False,
    moment: dt.datetime | None = None,
    archival: bool = False,
    now: dt.datetime | None = None,
    expected_signers: Mapping[str, Official] | None = None,
) -> VerificationReport:
    """Check every signature of ``data`` against ``trust_roots`` (see the module docstring).

    Unparsable bytes raise :class:`InvalidInput` ("Berkas bukan PDF yang dapat dibaca"),
    an encrypted PDF too ("... terenkripsi ...").

    ``moment`` validates at another time, with the embedded revocation data treated as
    valid for it and nothing fetched.  For an archived file pass the time its signature
    timestamp proves: embedded OCSP responses expire (nextUpdate, days), so validating
    years later "now" reports stale revocation data (untrusted) although the signature
    was fine when it was made; B-LTA document timestamps are what carries that proof on.

    ``archival`` walks that chain instead, each proof at the time the next one proves (the
    module docstring); ``moment`` is then ignored and ``now`` (default: the clock) is the day
    the newest TSA certificate must outlive.  A file without document timestamps is checked as
    without ``archival``.

    ``expected_signers`` (signature field -> the official printed in that block) is given for a
    naskah the system knows: each signature then says whether its certificate belongs to that
    official, and one that does not makes the bottom line ``wrong_signer``.
    """
    return asyncrun.run(
        async_verify_pdf(
            data,
            trust_roots,
            revocation_mode=revocation_mode,
            allow_fetching=allow_fetching,
            moment=moment,
            archival=archival,
            now=now,
            expected_signers=expected_signers,
        )
    )
