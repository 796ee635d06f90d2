"""Sign a PDF with any pyHanko :class:`~pyhanko.sign.signers.Signer`: PAdES B-T, or B-LT with validation data.

Why this wrapper exists rather than a bare ``PdfSigner(...).sign_pdf(...)`` call:

* **Earlier signatures must stay valid.**  Every signature is an incremental update of the
  bytes we were given (the input is never rewritten), into the field that ``stamp.py``
  created up front; creating fields after a signature breaks earlier ones (SIGNING_NOTES).
  The last signature of a plan locks the document (``/Lock`` with ``/P 1``) and a locked
  document is refused here.  Once any signature exists the lock must already be on the
  field (``stamp.py`` creates the last field locked): adding ``/Lock`` to an existing field
  makes pyHanko's difference analysis flag the earlier signatures.
* **Bad certificates are refused before anything is produced.**  An expired certificate is
  refused from its validity dates alone; a revoked or untrusted one by validating the
  signer's chain against the caller's validation context (trust roots pinned, revocation
  ``require``) — pyHanko's default soft-fail would have let a revoked signer through.
* **PDF/A.**  The visible appearance uses an embedded TrueType font (Liberation Sans,
  rescaled once to 1000 units per em, or it renders letter-spaced) and pyHanko's QR stamp
  style; the QR code carries the document's verification reference.
* **Speed** (``bench/sign.py``: ~10 ms for B-B with the appearance, the CLI ~60x slower).
  A naive call re-parses the private key for every raw signature, rebuilds the same
  signing-certificate attribute, makes a dummy signature to size the container, subsets the
  font and recomputes the QR mask every time.  Here a ``SimpleSigner`` is swapped for
  :class:`ParsedKeySigner` (key parsed and constant attributes built once), the space is
  reserved from the certificate and timestamp-token sizes, a compact Latin font is embedded
  whole, and QR drawings are cached per reference.
* **UTC.**  The signing time (``/M`` of the signature; PAdES puts no signing-time in the CMS)
  is UTC, whatever the server's local zone.

B-LT: with ``embed_validation_info`` the OCSP responses / CRLs and certificates collected
while validating the signer (and the TSA) before signing are written to the DSS in a
separate incremental update after the signature, which pyHanko's difference analysis
classifies as LTA updates.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import tempfile
import threading
import time
import weakref
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError, PdfStrictReadError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import init_xobject_dictionary
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.general import SigningError, as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import DSSContentSettings
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko.sign.timestamps.common_utils import extract_ts_certs
from pyhanko.stamp import QRPosition, QRStamp, QRStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from pipeline import asyncrun
from pipeline.errors import InvalidInput, ServiceUnavailable, SigningRefused
from pipeline.pdf.pdfread import refuse_unreadable
from pipeline.sign.certpolicy import check_for_signing
from pipeline.sign.fetch import fetcher_backend
from pipeline.sign.verify import as_certificates, parsed
from pipeline.terbilang import tanggal

__all__ = [
    "ParsedKey",
    "ParsedKeySigner",
    "SignOptions",
    "SignatureAppearance",
    "appearance_font",
    "async_sign_pdf",
    "configure_tsa_timeout",
    "http_timestamper",
    "sign_pdf",
    "validation_context",
]

log = logging.getLogger(__name__)

#: The appearance font: metric-compatible with Arial, shipped by Debian (fonts-liberation).
LIBERATION_SANS = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
#: Key usage pyHanko demands of the signer before signing: none, because pyHanko demands ALL the usages
#: it is given, while a signing certificate needs nonRepudiation OR digitalSignature (PSrE differ; the
#: verifier accepts either).  ``pipeline.sign.certpolicy`` checks that, with a message, before pyHanko runs.
SIGNER_KEY_USAGE: frozenset[str] = frozenset()
#: Room for the CMS besides the certificates: signed attributes, the raw signature (RSA-4096:
#: 512 bytes), ASN.1 overhead.
_CMS_OVERHEAD = 2048
#: Room assumed for the certificates when a (remote) signer does not know its certificate yet.
_UNKNOWN_CERTS_ALLOWANCE = 12288


@dataclass(frozen=True)
class SignatureAppearance:
    """What the visible signature in a party's signature block shows."""

    nama: str
    """The signer's name with academic titles, as in the signature table."""

    jabatan: str
    """Position (with Plt./Plh./Pj. when applicable), e.g. ``BUPATI PASER``."""

    tanggal: dt.date | dt.datetime
    """Date shown under the name (the date of signing as the naskah states it)."""

    reference: str
    """The document's verification reference or URL; the QR code encodes exactly this."""

    text: str = "Ditandatangani secara elektronik"
    """First line of the block."""

    kuasa_line: str | None = None
    """For a signature under a Surat Kuasa, e.g. ``a.n. BUPATI PASER ... berdasarkan Surat Kuasa Nomor ...``."""


@dataclass(frozen=True)
class SignOptions:
    """Where and how one signature is made."""

    field_name: str
    """An existing, empty signature field (``stamp.py`` creates them before the first signature)."""

    box: tuple[int, float, float, float, float] | None = None
    """``(page, x1, y1, x2, y2)`` in PDF points, page 1-based (-1 = last page): used only when the
    field does not exist yet, to create it there.  Without it a missing field is an error."""

    reason: str = "Menyetujui isi naskah kerja sama"
    """``/Reason`` of the signature."""

    location: str = ""
    """``/Location`` of the signature (the place of signing); empty = not recorded."""

    lock_document: bool = False
    """Last signature of the plan: lock the document (``/P 1``) so that afterwards only validation
    data and document timestamps may be added."""

    embed_validation_info: bool = True
    """PAdES B-LT: write the certificates and OCSP responses/CRLs to the DSS (needs a validation context)."""

    bytes_reserved: int | None = None
    """Hex characters reserved for the CMS; ``None`` = computed from the sizes of the signer's
    certificates and of the TSA's (cached) token, with margins — never a dummy signature."""


# -- the signer speed fix ------------------------------------------------------------------


#: The private keys :class:`ParsedKeySigner` signs with, without re-parsing.
ParsedKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey

#: What signing with a :class:`ParsedKeySigner` raises after :meth:`~ParsedKeySigner.forget_key`.
_KEY_DROPPED = "The signing session is closed; its key was dropped."


class ParsedKeySigner(signers.SimpleSigner):
    """A ``SimpleSigner`` that keeps the private key parsed and its constant CMS attributes built.

    pyHanko's ``SimpleSigner.sign_raw`` re-parses the DER key (with RSA consistency checks,
    ~27 ms for RSA-2048) on every raw signature, twice per PDF signature; and every
    signature rebuilds the same signing-certificate-v2 attribute (~12 ms, see
    :meth:`signed_attrs`).

    The one signer for a key held in our memory: test and bench keys, a plain ``SimpleSigner``
    swapped in by :func:`sign_pdf`, and a PKCS#12 sitting (``signers.Pkcs12Backend.open``),
    which calls :meth:`forget_key` when the sitting closes.
    """

    def __init__(
        self,
        signing_cert: asn1_x509.Certificate,
        private_key: ParsedKey,
        cert_registry: Iterable[asn1_x509.Certificate] = (),
        *,
        signature_mechanism: Any = None,
        prefer_pss: bool = False,
        embed_roots: bool = True,
        attribute_certs: Iterable[Any] | None = None,
    ) -> None:
        der = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        super().__init__(
            signing_cert=parsed(signing_cert),  # kept across requests: parsed before threads share it
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs([parsed(cert) for cert in cert_registry]),
            signature_mechanism=signature_mechanism,
            prefer_pss=prefer_pss,
            embed_roots=embed_roots,
            attribute_certs=attribute_certs,
        )
        self._private_key: ParsedKey | None = private_key
        self._constant_attrs: tuple[bytes, bytes] | None = None

    @classmethod
    def from_simple_signer(cls, signer: signers.SimpleSigner) -> ParsedKeySigner:
        """Parse the key of a plain ``SimpleSigner`` once and carry over its settings."""
        key = serialization.load_der_private_key(signer.signing_key.dump(), password=None)
        if not isinstance(key, ParsedKey):
            raise TypeError(f"unsupported key type for ParsedKeySigner: {type(key).__name__}")
        return cls(
            signer.signing_cert,
            key,
            list(signer.cert_registry),
            signature_mechanism=signer.signature_mechanism,
            prefer_pss=signer.prefer_pss,
            embed_roots=signer.embed_roots,
            attribute_certs=list(signer.attribute_certs),
        )

    def forget_key(self) -> None:
        """Drop the key, parsed and PKCS#8 alike, at the end of a sitting; idempotent.

        Signing afterwards raises pyHanko's ``SigningError`` (the certificate stays, so a
        closed session can still say who it was for).
        """
        self._private_key = None
        self.signing_key = asn1_keys.PrivateKeyInfo()

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type: str = "data",
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        dry_run: bool = False,
        is_pdf_sig: bool = True,
    ) -> cms.CMSAttributes:
        """The PAdES signed attributes from cached parts; anything unusual goes to pyHanko.

        Building ``signing-certificate-v2`` from the certificate with asn1crypto costs
        ~12 ms per signature — more than everything else in a B-B signature together —
        while its value never changes for a signer.  The attributes are exactly pyHanko's
        (content-type, message-digest, signing-certificate-v2), only built once.
        """
        simple = (
            use_pades
            and is_pdf_sig
            and content_type == "data"
            and self.signed_attr_prov_spec is None
            and (
                attr_settings is None
                or (attr_settings.cades_signed_attrs is None and attr_settings.adobe_revinfo_attr is None)
            )
        )
        if not simple:
            return await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=attr_settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
        if self._constant_attrs is None:
            self._constant_attrs = (
                simple_cms_attribute("content_type", "data").dump(),
                simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(self.signing_cert)).dump(),
            )
        content_type_attr, signing_cert_attr = self._constant_attrs
        return cms.CMSAttributes(
            [
                cms.CMSAttribute.load(content_type_attr),
                simple_cms_attribute("message_digest", data_digest),
                cms.CMSAttribute.load(signing_cert_attr),
            ]
        )

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Same mechanisms as pyHanko's ``SimpleSigner.sign_raw``, with the key already parsed."""
        key = self._private_key
        if key is None:
            raise SigningError(_KEY_DROPPED)
        mechanism_obj = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            mechanism = mechanism_obj.signature_algo
        except ValueError:
            mechanism = mechanism_obj["algorithm"].native
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            pss, hash_algo = process_pss_params(mechanism_obj["parameters"])
            return key.sign(data, pss, hash_algo)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if mechanism in ("ed25519", "ed448") and isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
            return key.sign(data)
        if mechanism in ("rsassa_pkcs1v15", "rsassa_pss", "ecdsa", "ed25519", "ed448"):
            raise SigningError(f"Signature mechanism {mechanism} does not fit a {type(key).__name__}.")
        return super().sign_raw(data, digest_algorithm)


_parsed_signers: weakref.WeakKeyDictionary[signers.SimpleSigner, ParsedKeySigner] = weakref.WeakKeyDictionary()


def _fast_signer(signer: signers.Signer) -> signers.Signer:
    """Swap a plain ``SimpleSigner`` for a cached :class:`ParsedKeySigner`; other signers pass through."""
    if type(signer) is not signers.SimpleSigner:
        return signer
    fast = _parsed_signers.get(signer)
    if fast is None:
        try:
            fast = ParsedKeySigner.from_simple_signer(signer)
        except (TypeError, ValueError):
            return signer
        _parsed_signers[signer] = fast
    return fast


# -- timestamper and validation context ----------------------------------------------------


#: Seconds a TSA may take to answer one request (``NASKAH_TSA_TIMEOUT``; set by the entry point).
_tsa_timeout: float = 10.0


def configure_tsa_timeout(seconds: float) -> None:
    """Set the process's TSA timeout (the entry point does it from the settings)."""
    global _tsa_timeout
    _tsa_timeout = float(seconds)


#: Seconds after which a timestamper asks its TSA again which certificates it signs with.
TSA_RELEARN_S = 3600.0


class LearningTimestamper(HTTPTimeStamper):
    """pyHanko's HTTP timestamper, kept per URL, that does not hold on to a TSA's old certificate.

    pyHanko learns the TSA's certificates once, from a dummy token, and validates (and embeds the
    validation data of) those before every signature.  Kept for the life of the process, a renewed
    TSA certificate (or another TSA answering at the same address) would refuse every signature as
    ``certificate_untrusted`` until a restart, or embed the old certificate's validation data.  So
    the dummy is re-learned after :data:`TSA_RELEARN_S`, and once more at once when the learned
    certificates no longer validate.
    """

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(url, timeout=timeout)
        self._learned_at: float | None = None
        self._lock = threading.Lock()

    def _forget(self) -> None:
        with self._lock:
            self._dummy_response_cache = {}
            self._certs = {}
            self.cert_registry = SimpleCertificateStore()
            self._learned_at = None

    def _register_dummy(self, md_algorithm: str, dummy: cms.ContentInfo) -> None:
        # One timestamper serves every request thread: its certificates are parsed before they are
        # shared (see ``verify.parsed``), and what it learned is swapped in whole, never mutated
        # while another thread iterates it.
        for wrapped in dummy["content"]["certificates"]:
            parsed(wrapped.chosen)
        with self._lock:
            registry = SimpleCertificateStore.from_certs(list(self.cert_registry))
            certs = dict(self._certs)
            for cert in extract_ts_certs(dummy, registry):
                certs[cert.issuer_serial] = cert
            self._dummy_response_cache = {**self._dummy_response_cache, md_algorithm: dummy}
            self.cert_registry, self._certs = registry, certs
            self._learned_at = time.monotonic()

    async def async_dummy_response(self, md_algorithm: str) -> cms.ContentInfo:
        if self._learned_at is not None and time.monotonic() - self._learned_at > TSA_RELEARN_S:
            log.info("re-learning the certificates of the TSA at %s", self.url)
            self._forget()
        return await super().async_dummy_response(md_algorithm)

    async def validation_paths(self, validation_context: ValidationContext) -> AsyncIterator[Any]:
        learned_before = self._learned_at is not None
        try:
            paths = [path async for path in super().validation_paths(validation_context)]
        except (PathBuildingError, ValidationError) as exc:
            if not learned_before:
                raise
            log.warning(
                "the TSA at %s no longer validates with its learned certificates (%s); re-learning", self.url, exc
            )
            self._forget()
            paths = [path async for path in super().validation_paths(validation_context)]
        for path in paths:
            yield path


def http_timestamper(url: str) -> TimeStamper:
    """An RFC 3161 client for ``url``, one per URL (and timeout): it caches the TSA's certificate path
    (pyHanko asks the TSA for a dummy token to learn it) across signatures, see
    :class:`LearningTimestamper`."""
    return _http_timestamper(url, _tsa_timeout)


@functools.lru_cache(maxsize=32)
def _http_timestamper(url: str, timeout: float) -> TimeStamper:
    return LearningTimestamper(url, timeout)


def validation_context(
    trust_roots: Sequence[Any],
    *,
    allow_fetching: bool = True,
    revocation_mode: str = "require",
    moment: dt.datetime | None = None,
    other_certs: Iterable[Any] = (),
    crls: Iterable[bytes | asn1_crl.CertificateList] = (),
    ocsps: Iterable[bytes | asn1_ocsp.OCSPResponse] = (),
) -> ValidationContext:
    """A validation context with PINNED trust roots (never the OS store) and hard revocation checks.

    Pass every root that anchors a signer OR a TSA: pyHanko validates the timestamp with
    the same context (pyHanko #144).  Use one context per signing operation: it collects
    the OCSP responses and CRLs that B-LT then embeds, and its network session is closed
    when the signing ends.  ``trust_roots`` may be asn1crypto or cryptography certificates,
    DER or PEM bytes, or PEM file paths.  With a ``moment`` nothing is fetched (pyHanko
    cannot fetch for a past time): pass the ``crls``/``ocsps`` to use.  What is fetched goes
    through :mod:`pipeline.sign.fetch` (public addresses or the allowlist, bounded in time and size).
    """
    roots = as_certificates(trust_roots)
    if not roots:
        raise InvalidInput("Tidak ada sertifikat akar (trust root) yang dikonfigurasi.", reason="no_trust_roots")
    fetching = allow_fetching and moment is None
    return ValidationContext(
        trust_roots=roots,
        other_certs=as_certificates(other_certs),
        allow_fetching=fetching,
        revocation_mode=revocation_mode,
        moment=moment,
        crls=list(crls),
        ocsps=list(ocsps),
        fetcher_backend=fetcher_backend() if fetching else None,  # public addresses only (pipeline.sign.fetch)
    )


# -- appearance ------------------------------------------------------------------------------


def _cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"naskah-cache-{os.getuid()}" / "fonts"


#: Characters of the compact appearance font: ASCII, Latin-1, Latin Extended-A, common punctuation.
#: Covers Indonesian names and titles; any other character switches to the full font.
LATIN_CHARSET = frozenset(
    [*range(0x20, 0x7F), *range(0xA0, 0x180), 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026]
)


@functools.cache
def appearance_font(source: Path = LIBERATION_SANS, *, compact: bool = True) -> Path:
    """``source`` rescaled to 1000 units per em, made once and cached on disk.

    pyHanko's stamp layout assumes 1000 units/em; Liberation and DejaVu use 2048 and come out
    letter-spaced, silently (SIGNING_NOTES).  ``compact`` also cuts the font down to
    :data:`LATIN_CHARSET` without hinting and OpenType layout tables (the legacy ``kern``
    table stays): pyHanko subsets the font again for every signature, and on the full
    font that costs ~20 ms of a ~35 ms signature.  The cache file name carries the
    source's hash, so a changed system font is picked up.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    data = source.read_bytes()
    variant = "latin" if compact else "full"
    target = _cache_dir() / f"{source.stem}-{variant}-upem1000-{hashlib.sha256(data).hexdigest()[:16]}.ttf"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    font = TTFont(BytesIO(data))
    for table in ("FFTM", "DSIG"):  # timestamps/signatures that fontTools cannot subset (and warns about)
        if table in font:
            del font[table]
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    if compact:
        options = subset.Options()
        options.hinting = False
        options.legacy_kern = True
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "gasp"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(LATIN_CHARSET))
        subsetter.subset(font)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    font.save(str(tmp))
    os.replace(tmp, target)
    log.info("prepared appearance font %s (%s) in %s", source.name, variant, target)
    return target


@functools.cache
def _font_bytes(path: Path) -> bytes:
    return path.read_bytes()


@functools.lru_cache(maxsize=4)
def _deflated(data: bytes) -> bytes:
    return zlib.compress(data, 9)


class _WholeFontFile(CIDFontType2):
    """The font program embedded as the bytes of the (already compact) font file."""

    def __init__(self, tt: Any, base_ps_name: str, subset_prefix: str, data: bytes) -> None:
        super().__init__(tt, base_ps_name, subset_prefix)
        self._data = data

    def set_font_file(self, writer: Any) -> generic.IndirectObject:
        stream = generic.StreamObject(
            {
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
                pdf_name("/Length1"): generic.NumberObject(len(self._data)),
            },
            encoded_data=_deflated(self._data),
        )
        ref = writer.add_object(stream)
        self._font_descriptor[pdf_name("/FontFile2")] = ref
        return ref


class _WholeFontAccumulator(GlyphAccumulator):
    """pyHanko's glyph accumulator without the per-signature subsetting of the font.

    The compact font (:func:`appearance_font`) is already a Latin subset of ~24 kB; embedding
    it whole costs ~15 kB per signature and saves the fontTools subset-and-recompile (~5 ms).
    """

    def __init__(self, writer: Any, data: bytes, font_size: int, obj_stream: Any = None) -> None:
        super().__init__(writer, BytesIO(data), font_size, obj_stream=obj_stream)
        base_ps_name = self.cidfont_obj.name.split("+", 1)[1]
        self.cidfont_obj = _WholeFontFile(self.tt, base_ps_name, self.subset_prefix, data)

    def _extract_subset(self, options: Any = None) -> None:
        return None


@dataclass(frozen=True)
class _AppearanceFontFactory(GlyphAccumulatorFactory):
    """Font engines from the cached font bytes (pyHanko's factory opens the file for every
    signature and never closes it); the compact font is embedded whole, the full one subset."""

    whole: bool = True

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        data = _font_bytes(Path(self.font_file))
        if self.whole:
            return _WholeFontAccumulator(writer, data, self.font_size, obj_stream=obj_stream)
        return GlyphAccumulator(
            writer=writer, font_handle=BytesIO(data), font_size=self.font_size, obj_stream=obj_stream
        )


def format_tanggal(value: dt.date | dt.datetime) -> str:
    """``12 Maret 2025``: the date as Indonesian official documents write it."""
    return tanggal(value.date() if isinstance(value, dt.datetime) else value)


@functools.lru_cache(maxsize=256)
def _qr_drawing(url: str) -> tuple[bytes, int]:
    """Content stream and size of the QR code for ``url``: choosing the QR mask pattern costs
    ~4 ms, and the same reference is signed by every party of a naskah."""
    import qrcode
    from pyhanko.pdf_utils.qr import PdfStreamQRImage

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make()
    img = qr.make_image(image_factory=PdfStreamQRImage)
    return img.render_command_stream(), (qr.modules_count + 2 * qr.border) * qr.box_size


class _CachedQRStamp(QRStamp):
    def _qr_xobject(self) -> tuple[generic.IndirectObject, int]:
        # Same drawing as pyHanko's QRStamp._qr_xobject (plain QR, no inner content), cached per URL.
        command_stream, size = _qr_drawing(self.url)
        xobj = init_xobject_dictionary(command_stream, size, size)
        xobj.compress()
        return self.writer.add_object(xobj), size


@dataclass(frozen=True)
class _NaskahQRStampStyle(QRStampStyle):
    def create_stamp(self, writer: Any, box: Any, text_params: dict[str, Any]) -> QRStamp:
        url = text_params.pop("url")
        return _CachedQRStamp(writer, style=self, url=url, text_params=text_params, box=box)


@functools.cache
def _stamp_style(with_kuasa: bool, compact_font: bool) -> QRStampStyle:
    lines = ["%(text)s"]
    if with_kuasa:
        lines.append("%(kuasa)s")
    lines += ["%(jabatan)s", "%(nama)s", "%(tanggal)s"]
    font = _AppearanceFontFactory(str(appearance_font(compact=compact_font)), font_size=9, whole=compact_font)
    return _NaskahQRStampStyle(
        stamp_text="\n".join(lines),
        text_box_style=TextBoxStyle(font=font, font_size=9, leading=11),
        qr_position=QRPosition.LEFT_OF_TEXT,
        border_width=1,
        background=None,
        innsep=3,
    )


def _fits_compact_font(params: dict[str, str]) -> bool:
    shown = (v for k, v in params.items() if k != "url")
    return all(ord(ch) in LATIN_CHARSET for text in shown for ch in text if ch != "\n")


def _text_params(appearance: SignatureAppearance) -> dict[str, str]:
    if not appearance.reference.strip():
        raise InvalidInput("Referensi verifikasi (isi kode QR) tidak boleh kosong.", field="reference")
    params = {
        "url": appearance.reference,
        "text": appearance.text,
        "jabatan": appearance.jabatan,
        "nama": appearance.nama,
        "tanggal": format_tanggal(appearance.tanggal),
    }
    if appearance.kuasa_line:
        params["kuasa"] = appearance.kuasa_line
    return params


# -- signing ------------------------------------------------------------------------------------


def _refuse(message: str, reason: str, **detail: Any) -> SigningRefused:
    return SigningRefused(message, reason=reason, **detail)


def _check_certificate(signer: signers.Signer, now: dt.datetime) -> None:
    """The certificate policy (``pipeline.sign.certpolicy``): key usage, EKU, key strength, hash, dates."""
    cert = signer.signing_cert
    if cert is None:  # a remote signer that learns its certificate later: checked when it comes back
        return
    check_for_signing(cert, signer.cert_registry, now=now)


def _translate_signing_error(exc: BaseException, signer: signers.Signer) -> Exception | None:
    """Map the causes pyHanko wraps in SigningError to our errors; ``None`` = not ours to map."""
    subject = signer.signing_cert.subject.human_friendly if signer.signing_cert is not None else None
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, RevokedError):
            return _refuse(
                "Sertifikat penanda tangan sudah dicabut (revoked) oleh penerbitnya; penandatanganan ditolak.",
                "certificate_revoked",
                subject=subject,
            )
        if isinstance(cause, ExpiredError):
            return _refuse(
                "Sertifikat penanda tangan sudah kedaluwarsa; minta sertifikat baru kepada PSrE.",
                "certificate_expired",
                subject=subject,
            )
        if isinstance(cause, NotYetValidError):
            return _refuse("Sertifikat penanda tangan belum berlaku.", "certificate_not_yet_valid", subject=subject)
        if isinstance(cause, InsufficientRevinfoError):
            return ServiceUnavailable(
                "Status pencabutan sertifikat (OCSP/CRL) tidak dapat diperoleh. Coba lagi beberapa saat lagi.",
                reason="revocation_unavailable",
                subject=subject,
            )
        if isinstance(cause, PathBuildingError):
            return _refuse(
                "Sertifikat penanda tangan tidak diterbitkan oleh CA yang dipercaya.",
                "certificate_untrusted",
                subject=subject,
                diagnostic=str(cause),
            )
        if isinstance(cause, DisallowedAlgorithmError):
            return _refuse(
                "Rantai sertifikat penanda tangan memakai algoritme yang sudah tidak aman (mis. SHA-1).",
                "certificate_weak_signature",
                subject=subject,
                diagnostic=str(cause),
            )
        if isinstance(cause, InvalidCertificateError) and "self-signed" in str(cause):
            return _refuse(
                "Sertifikat penanda tangan ditandatangani sendiri (self-signed), bukan diterbitkan oleh CA yang "
                "dipercaya.",
                "certificate_untrusted",
                subject=subject,
                diagnostic=str(cause),
            )
        if isinstance(cause, ValidationError):
            return _refuse(
                "Sertifikat penanda tangan tidak dapat divalidasi untuk tanda tangan elektronik.",
                "certificate_invalid",
                subject=subject,
                diagnostic=str(cause),
            )
        if isinstance(cause, TimestampRequestError):
            return ServiceUnavailable(
                "Layanan cap waktu (TSA) tidak dapat dihubungi. Coba lagi beberapa saat lagi.",
                reason="tsa_unavailable",
            )
        cause = cause.__cause__ or cause.__context__
    return None


async def _reservation(signer: signers.Signer, timestamper: TimeStamper | None) -> int:
    """Hex characters to reserve for the CMS, from what will really be in it, without a dummy signature.

    The certificates the signer embeds are known; the timestamp token's size is taken from
    the timestamper's cached dummy token (pyHanko asks the TSA once per timestamper and
    digest; :func:`http_timestamper` keeps one per URL) plus a margin, because tokens
    vary a little (pyHanko #515).  Not over-reserving matters: validators read the whole
    hex string character by character (~0.5 ms per kB).
    """
    if signer.signing_cert is None:
        der = _UNKNOWN_CERTS_ALLOWANCE
    else:
        der = len(signer.signing_cert.dump()) + sum(len(c.dump()) for c in signer.cert_registry)
    der += _CMS_OVERHEAD
    if timestamper is not None:
        token = await timestamper.async_dummy_response("sha256")
        der += len(token.dump()) * 5 // 4 + 512
    hex_chars = 2 * der
    return max(8192, -(-hex_chars // 2048) * 2048)


def _open_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer on ``pdf``: strict when the file allows it, else lenient.

    The counterparty's signer may write its update in a way pyHanko's strict reader refuses
    (poppler's generation-1 objects, ``pipeline.pdf.pdfread``); the import has judged that update
    already, so our signature is appended to it as to any other file.
    """
    if b"%PDF-" not in pdf[:1024]:
        raise refuse_unreadable(ValueError("no %PDF- header"))
    try:
        try:
            writer = IncrementalPdfFileWriter(BytesIO(pdf))
        except PdfStrictReadError as strict_exc:
            log.info("PDF not writable strictly (%s); appending to it leniently", strict_exc)
            writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    except Exception as exc:  # whatever a damaged file makes the parser raise is bad input, never a 500
        raise refuse_unreadable(exc) from exc
    if writer.prev.encrypted:
        raise refuse_unreadable(None, encrypted=True)
    return writer


def _locked_by(writer: IncrementalPdfFileWriter) -> str | None:
    """Name of a signature that forbids any further change (DocMDP/Lock ``/P 1``), if any."""
    for emb in writer.prev.embedded_regular_signatures:
        if emb.docmdp_level == MDPPerm.NO_CHANGES:
            return str(emb.field_name)
    return None


def _field_lock_level(sig_field: generic.DictionaryObject) -> MDPPerm | None:
    try:
        return MDPPerm(int(sig_field["/Lock"]["/P"]))
    except (KeyError, ValueError, TypeError):
        return None


def _prepare_field(
    writer: IncrementalPdfFileWriter, options: SignOptions
) -> tuple[SigFieldSpec | None, MDPPerm | None]:
    """Check the target field; return a spec when it has to be created at ``options.box``, and
    the DocMDP level the signature will impose (None = no lock)."""
    found = list(fields.enumerate_sig_fields(writer, with_name=options.field_name))
    if found:
        _, value, field_ref = found[0]
        if value is not None:
            raise _refuse(
                f"Kolom tanda tangan '{options.field_name}' sudah berisi tanda tangan.",
                "field_already_signed",
                field=options.field_name,
            )
        sig_field = field_ref.get_object()
        level = _field_lock_level(sig_field)
        if not options.lock_document or level == MDPPerm.NO_CHANGES:
            return None, level
        if writer.prev.embedded_signatures:
            # Adding /Lock to a field once a signature exists makes pyHanko's difference analysis
            # flag the earlier signature ("dict keys differ"): the lock must come with the field.
            raise _refuse(
                f"Kolom tanda tangan '{options.field_name}' tidak dibuat dengan kunci dokumen, padahal tanda "
                "tangan terakhir harus mengunci naskah. Kolom terakhir harus dibuat terkunci (/Lock /P 1) "
                "sebelum tanda tangan pertama.",
                "field_not_lockable",
                field=options.field_name,
            )
        # No signature yet: locking in the revision that fills the field is safe (SIGNING_NOTES).
        sig_field[pdf_name("/Lock")] = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/SigFieldLock"),
                pdf_name("/Action"): pdf_name("/All"),
                pdf_name("/P"): generic.NumberObject(MDPPerm.NO_CHANGES.value),
            }
        )
        writer.mark_update(field_ref)
        return None, MDPPerm.NO_CHANGES
    if options.box is None:
        raise _refuse(
            f"Kolom tanda tangan '{options.field_name}' tidak ada di dokumen dan posisinya tidak diberikan.",
            "field_missing",
            field=options.field_name,
        )
    page, x1, y1, x2, y2 = options.box
    pages = int(writer.root["/Pages"]["/Count"])
    if page == 0 or abs(page) > pages or (page < 0 and page != -1):
        raise _refuse(f"Halaman {page} tidak ada (dokumen {pages} halaman).", "field_page_missing", page=page)
    lock = fields.FieldMDPSpec(fields.FieldMDPAction.ALL) if options.lock_document else None
    spec = SigFieldSpec(
        sig_field_name=options.field_name,
        on_page=page - 1 if page > 0 else page,
        box=(round(x1), round(y1), round(x2), round(y2)),
        field_mdp_spec=lock,
        doc_mdp_update_value=MDPPerm.NO_CHANGES if options.lock_document else None,
    )
    return spec, MDPPerm.NO_CHANGES if options.lock_document else None


_TOO_SMALL = "Final ByteRange payload larger than expected"


async def async_sign_pdf(
    pdf: bytes,
    signer: signers.Signer,
    appearance: SignatureAppearance,
    options: SignOptions,
    *,
    timestamper: TimeStamper | None,
    validation_context: ValidationContext | None,
) -> bytes:
    """:func:`sign_pdf` for callers that already run an event loop (async routes, remote signers).

    Does not close the validation context's network session; :func:`sign_pdf` does.
    """
    now = dt.datetime.now(dt.UTC)
    _check_certificate(signer, now)
    if options.embed_validation_info and validation_context is None:
        raise InvalidInput(
            "Penyematan data validasi (PAdES B-LT) memerlukan konteks validasi.", reason="validation_context_missing"
        )
    signer = _fast_signer(signer)
    text_params = _text_params(appearance)
    try:
        reserved = options.bytes_reserved or await _reservation(signer, timestamper)
        try:
            signed = await _sign_once(
                pdf, signer, appearance, options, text_params, now, reserved, timestamper, validation_context
            )
        except SigningError as exc:
            # The reservation was too small (a TSA token larger than its dummy): once more with
            # double the room, but only for local keys: a remote service would be asked twice.
            local = isinstance(signer, signers.SimpleSigner)
            if not (str(exc).startswith(_TOO_SMALL) and options.bytes_reserved is None and local):
                raise
            log.warning("signature container did not fit in %d hex chars; retrying with %d", reserved, 2 * reserved)
            signed = await _sign_once(
                pdf, signer, appearance, options, text_params, now, 2 * reserved, timestamper, validation_context
            )
    except (SigningError, PathBuildingError, ValidationError, TimestampRequestError) as exc:
        mapped = _translate_signing_error(exc, signer)
        if mapped is None and str(exc).startswith(_TOO_SMALL):
            mapped = _refuse(
                "Ruang tanda tangan di PDF tidak cukup; ulangi dengan SignOptions.bytes_reserved yang lebih besar.",
                "signature_too_large",
            )
        if mapped is None:
            raise
        log.warning("signing refused for field %s: %s (%s)", options.field_name, mapped.detail.get("reason"), exc)
        raise mapped from exc
    except PdfError as exc:
        raise InvalidInput(
            "Dokumen tidak dapat ditandatangani: struktur PDF tidak didukung.", diagnostic=str(exc)
        ) from exc
    if signed[: len(pdf)] != pdf:  # pragma: no cover - pyHanko's incremental writer guarantees this
        raise RuntimeError("signing rewrote earlier bytes of the document")
    return signed


async def _sign_once(
    pdf: bytes,
    signer: signers.Signer,
    appearance: SignatureAppearance,
    options: SignOptions,
    text_params: dict[str, str],
    now: dt.datetime,
    reserved: int,
    timestamper: TimeStamper | None,
    validation_context: ValidationContext | None,
) -> bytes:
    """One signing attempt on a fresh writer: pyHanko's ``async_sign_pdf`` step by step, so
    that the signing time can be set (UTC) and the size reserved without a dummy signature."""
    writer = _open_writer(pdf)
    locked = _locked_by(writer)
    if locked is not None:
        raise _refuse(
            f"Dokumen sudah dikunci oleh tanda tangan '{locked}'; tidak dapat ditandatangani lagi.",
            "document_locked",
            field=locked,
        )
    new_field, lock_level = _prepare_field(writer, options)
    meta = signers.PdfSignatureMetadata(
        field_name=options.field_name,
        md_algorithm="sha256",
        reason=options.reason or None,
        location=options.location or None,
        subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=options.embed_validation_info,
        validation_context=validation_context,
        docmdp_permissions=lock_level or MDPPerm.FILL_FORMS,
        signer_key_usage=set(SIGNER_KEY_USAGE),
        dss_settings=DSSContentSettings(include_vri=False),
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer,
        timestamper=timestamper,
        stamp_style=_stamp_style(appearance.kuasa_line is not None, _fits_compact_font(text_params)),
        new_field_spec=new_field,
    )
    session = pdf_signer.init_signing_session(writer, existing_fields_only=new_field is None)
    session.system_time = now
    validation_info = await session.perform_presign_validation(writer)
    tbs = session.prepare_tbs_document(
        validation_info=validation_info, bytes_reserved=reserved, appearance_text_params=dict(text_params)
    )
    prepared, output = tbs.digest_tbs_document()
    signed_attrs = PdfCMSSignedAttributes(
        signing_time=now,
        adobe_revinfo_attr=None if validation_info is None else validation_info.adobe_revinfo_attr,
    )
    post = await tbs.perform_signature(document_digest=prepared.document_digest, pdf_cms_signed_attrs=signed_attrs)
    await post.post_signature_processing(output)
    output.seek(0)
    return output.read()


def sign_pdf(
    pdf: bytes,
    signer: signers.Signer,
    appearance: SignatureAppearance,
    options: SignOptions,
    *,
    timestamper: TimeStamper | None,
    validation_context: ValidationContext | None,
) -> bytes:
    """Sign ``pdf`` in the field ``options.field_name`` and return the new bytes (input + updates).

    ``timestamper`` None = PAdES B-B (no signature timestamp); with one, B-T; with
    ``options.embed_validation_info`` and a ``validation_context``, B-LT.  The validation
    context also checks the signer before signing: expired, revoked or untrusted
    certificates raise :class:`InvalidInput` with ``detail["reason"]`` =
    ``certificate_expired`` / ``certificate_revoked`` / ``certificate_untrusted``; an
    unreachable OCSP/CRL or TSA raises :class:`ServiceUnavailable`.  Without a context only
    the validity dates are checked.
    """

    async def run() -> bytes:
        try:
            return await async_sign_pdf(
                pdf,
                signer,
                appearance,
                options,
                timestamper=timestamper,
                validation_context=validation_context,
            )
        finally:
            if validation_context is not None:
                await validation_context.aclose()

    return asyncrun.run(run())
