"""Signers: one interface over PKCS#12 files, PKCS#11 tokens, CSC services and BSrE's esign-client.

Officials sign with whatever their Pemda has: a local PKCS#12 file, a token or HSM (PKCS#11), a
Cloud Signature Consortium service, or BSrE's esign-client (see DOMAIN.md).  They fall in two kinds:

* :class:`DigestSignerBackend` (PKCS#12, PKCS#11, CSC): OUR process builds the CMS signature with
  pyHanko; only a digest (and the raw signature back) crosses the key's boundary.
  ``open(secret)`` returns a :class:`SigningSession` holding the parsed key, the logged-in token
  session or the service's authorisation for ONE sitting; ``session.signer`` is a pyHanko
  ``Signer`` for ``pipeline.sign.signing.sign_pdf``.
* :class:`WholeFileSignerBackend` (BSrE): the service takes the whole PDF and returns it signed.
  The caller must check the returned file like a desk-to-desk return (our bytes plus only a
  signature); this module only hands the bytes back.

The secret (passphrase, PIN or OTP) is given at the moment of signing and is never stored, logged
or put in an error: a session keeps the parsed key or an authorisation, not the secret (the one
exception, a CSC credential that needs hash-bound authorisation, is noted on :class:`CscBackend`).
Sign calls are never retried automatically: a retry could sign twice or spend an OTP.

User-facing messages are Indonesian; ``detail["reason"]`` is a stable code (``wrong_passphrase``,
``wrong_pin``, ``wrong_otp``, ``not_registered``, ``no_certificate``, ...).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Coroutine
from dataclasses import KW_ONLY, dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeVar, runtime_checkable
from urllib.parse import quote

import aiohttp
import httpx
import pkcs11
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
from pyhanko.sign.general import SigningError
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
from pyhanko.sign.signers import Signer
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationInfo,
    CSCAuthorizationManager,
    CSCCredentialInfo,
    CSCServiceSessionInfo,
    CSCSigner,
    fetch_certs_in_csc_credential,
)

from pipeline import asyncrun
from pipeline.errors import InvalidInput, ServiceUnavailable, SigningRefused
from pipeline.sign.signing import ParsedKey, ParsedKeySigner

__all__ = [
    "BsreBackend",
    "BsreUserStatus",
    "CscBackend",
    "DigestSignerBackend",
    "Pkcs11Backend",
    "Pkcs12Backend",
    "RemoteSignRequest",
    "SignerBackend",
    "SigningSession",
    "WholeFileSignerBackend",
    "open_backend",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_SECRET_KEYS = frozenset({"secret", "passphrase", "pin", "user_pin", "otp", "totp"})


# --------------------------------------------------------------------------------------------------
# The interface


@runtime_checkable
class SignerBackend(Protocol):
    """Where a signature comes from. Holds configuration only, never a signer's secret."""

    kind: str
    """``"pkcs12"``, ``"pkcs11"``, ``"csc"`` or ``"bsre"``."""

    def describe(self) -> dict[str, Any]:
        """JSON-able facts for logs and the API; never a secret (no passphrase, PIN, token or password)."""
        ...


@runtime_checkable
class SigningSession(Protocol):
    """One sitting with a key: the parsed key, the token session or the service authorisation.

    Use it as a context manager; ``close()`` drops the key material or logs out, and is idempotent.
    """

    @property
    def signer(self) -> Signer:
        """The pyHanko signer to pass to ``sign_pdf``."""
        ...

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate (to show who signs before the signature is made)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class DigestSignerBackend(SignerBackend, Protocol):
    """A backend where our process builds the CMS and only a digest crosses the key's boundary."""

    def open(self, secret: str) -> SigningSession:
        """Unlock the key with ``secret`` (passphrase, PIN or OTP) for one sitting."""
        ...


@dataclass(frozen=True)
class RemoteSignRequest:
    """What a whole-file service needs to place one signature."""

    signer_id: str
    """The official's NIK, or the e-mail address registered with the service."""
    field_name: str
    """The signature field we would like; BSrE v1 has no such parameter (the service names the field)."""
    page: int
    """1-based page for a visible signature."""
    box: tuple[float, float, float, float] | None
    """``(x1, y1, x2, y2)`` in PDF points from the page's lower-left corner; required when visible."""
    reason: str
    location: str
    visible: bool = True


@runtime_checkable
class WholeFileSignerBackend(SignerBackend, Protocol):
    """A backend that receives the WHOLE PDF and returns it signed (BSrE's esign-client)."""

    def sign_file(self, pdf: bytes, request: RemoteSignRequest, secret: str) -> bytes:
        """Return the signed PDF; the caller must check it like a desk-to-desk return."""
        ...


class _Session:
    """The one :class:`SigningSession` implementation; each backend supplies what to release."""

    def __init__(
        self, backend: SignerBackend, signer: Signer, certificate: x509.Certificate, release: Callable[[], None]
    ) -> None:
        self._backend = backend
        self._signer: Signer | None = signer
        self._certificate = certificate
        self._release: Callable[[], None] | None = release
        logger.info(
            "signing session opened: %s, certificate %s (serial %x)",
            backend.describe(),
            certificate.subject.human_friendly,
            certificate.serial_number,
        )

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            raise RuntimeError("signing session is closed")
        return self._signer

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def closed(self) -> bool:
        return self._signer is None

    def close(self) -> None:
        release, self._release, self._signer = self._release, None, None
        if release is not None:
            release()
            logger.info("signing session closed: %s", self._backend.describe())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _refused(message: str, reason: str, backend: SignerBackend, **detail: Any) -> SigningRefused:
    """A :class:`SigningRefused` with a reason code, logged without any secret."""
    logger.warning("signing refused (%s): %s", reason, backend.describe())
    return SigningRefused(message, reason=reason, backend=backend.kind, **detail)


def _unavailable(message: str, reason: str, backend: SignerBackend, **detail: Any) -> ServiceUnavailable:
    logger.warning("signing backend unavailable (%s): %s %s", reason, backend.describe(), detail)
    return ServiceUnavailable(message, reason=reason, backend=backend.kind, **detail)


# --------------------------------------------------------------------------------------------------
# PKCS#12


@dataclass(frozen=True)
class Pkcs12Backend:
    """A PKCS#12 (.p12/.pfx) file, read at each ``open()``; the passphrase is the secret.

    Give ``path`` (read when a session opens, so a renewed file is picked up) or ``data``.  A
    session's signer is :class:`pipeline.sign.signing.ParsedKeySigner`: the key is parsed once per
    sitting (pyHanko's ``SimpleSigner`` re-parses it at every raw signature) and dropped with
    ``forget_key()`` when the session closes, after which signing raises ``SigningError``.
    """

    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    kind = "pkcs12"

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("Pkcs12Backend needs exactly one of path or data")

    def describe(self) -> dict[str, Any]:
        if self.path is not None:
            return {"kind": self.kind, "source": "file", "path": str(self.path)}
        return {"kind": self.kind, "source": "memory"}

    def _read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise _refused(
                "Berkas sertifikat (PKCS#12) tidak dapat dibaca. Hubungi admin.",
                "keystore_unreadable",
                self,
                diagnostic=type(exc).__name__,
            ) from None

    def open(self, secret: str) -> SigningSession:
        """Decrypt the file with ``secret`` and keep the parsed key for this session only."""
        data = self._read()
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, secret.encode() or None)
        except ValueError:
            if not _is_pfx(data):
                raise _refused(
                    "Berkas sertifikat bukan berkas PKCS#12 yang sah.", "invalid_keystore", self, field="p12"
                ) from None
            raise _refused(
                "Passphrase salah. Dokumen tidak ditandatangani.", "wrong_passphrase", self, field="passphrase"
            ) from None
        if cert is None:
            raise _refused("Berkas PKCS#12 tidak memuat sertifikat penanda tangan.", "no_certificate", self)
        if not isinstance(key, ParsedKey):
            raise _refused(
                "Berkas PKCS#12 tidak memuat kunci privat yang dapat dipakai untuk tanda tangan.",
                "no_private_key",
                self,
            )
        signer = ParsedKeySigner(
            translate_pyca_cryptography_cert_to_asn1(cert),
            key,
            [translate_pyca_cryptography_cert_to_asn1(c) for c in extra],
        )
        return _Session(self, signer, signer.signing_cert, signer.forget_key)


def _is_pfx(data: bytes) -> bool:
    """Whether ``data`` parses as a PFX structure (to tell a wrong passphrase from a broken file)."""
    try:
        asn1_pkcs12.Pfx.load(data).native  # noqa: B018 - parsing is the check
    except (ValueError, TypeError, OSError):
        return False
    return True


# --------------------------------------------------------------------------------------------------
# PKCS#11


@dataclass(frozen=True, kw_only=True)
class Pkcs11Backend:
    """A key on a PKCS#11 token or HSM (found by token label and key label); the user PIN is the secret.

    The key never leaves the token: pyHanko's ``PKCS11Signer`` asks the token to sign.  The session
    stays logged in until ``close()``; PKCS#11 logs in per process and token, so a second sitting on
    the same token while one is open is refused (``token_busy``) rather than riding on its login.
    """

    module: str = "/usr/lib/softhsm/libsofthsm2.so"
    token_label: str
    key_label: str
    cert_label: str | None = None
    kind = "pkcs11"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "module": self.module,
            "token_label": self.token_label,
            "key_label": self.key_label,
            "cert_label": self.cert_label or self.key_label,
        }

    def open(self, secret: str) -> SigningSession:
        """Log in to the token with the PIN ``secret``; check that the key and certificate are there."""
        try:
            session = open_pkcs11_session(
                self.module, token_criteria=TokenCriteria(label=self.token_label), user_pin=secret
            )
        except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinLenRange):
            raise _refused(
                "PIN token salah. Dokumen tidak ditandatangani.", "wrong_pin", self, field="passphrase"
            ) from None
        except pkcs11.exceptions.PinLocked:
            raise _refused("PIN token terblokir. Hubungi admin untuk membukanya.", "pin_locked", self) from None
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # PKCS#11 login state is per process and token: another sitting on this token is still
            # open here.  Never reuse its login (that would skip the PIN check).
            raise _unavailable(
                "Token sedang dipakai untuk penandatanganan lain. Coba lagi setelah selesai.", "token_busy", self
            ) from None
        except pkcs11.PKCS11Error as exc:
            raise _unavailable(
                "Token tanda tangan elektronik tidak ditemukan. Pastikan token terpasang, lalu coba lagi.",
                "token_unavailable",
                self,
                diagnostic=type(exc).__name__,
            ) from exc
        except (OSError, RuntimeError) as exc:
            raise _unavailable("Modul PKCS#11 tidak dapat dimuat. Hubungi admin.", "module_unavailable", self) from exc
        try:
            cert_label = self.cert_label or self.key_label
            if not _has_object(session, pkcs11.ObjectClass.CERTIFICATE, cert_label):
                raise _refused("Token tidak memuat sertifikat penanda tangan.", "no_certificate", self)
            if not _has_object(session, pkcs11.ObjectClass.PRIVATE_KEY, self.key_label):
                raise _refused("Token tidak memuat kunci privat penanda tangan.", "no_private_key", self)
            signer = PKCS11Signer(session, cert_label=cert_label, key_label=self.key_label, other_certs_to_pull=None)
            certificate = signer.signing_cert  # loads the objects now, outside any event loop
        except BaseException:
            session.close()
            raise
        return _Session(self, signer, certificate, session.close)


def _has_object(session: pkcs11.Session, object_class: pkcs11.ObjectClass, label: str) -> bool:
    """Whether the token holds an object of that class and label (to name what is missing)."""
    # exhaust the search: an abandoned one stays active on the session and blocks the next search
    return bool(list(session.get_objects({pkcs11.Attribute.CLASS: object_class, pkcs11.Attribute.LABEL: label})))


# --------------------------------------------------------------------------------------------------
# CSC (Cloud Signature Consortium API v1)


def _run_async(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from synchronous code, even when called inside an event loop."""
    return asyncrun.run(coro)


class _CscAuthorisation(CSCAuthorizationManager):
    """Gets the Signature Activation Data (SAD) with the official's PIN or OTP.

    SCAL 1 credentials are authorised once when the session opens (``numSignatures`` =
    ``signatures_per_session``): a wrong PIN is found at once and the PIN is dropped.  SCAL 2
    credentials bind the SAD to the hashes, which exist only while signing; for them the secret
    is held in memory until the session closes.
    """

    def __init__(
        self,
        session_info: CSCServiceSessionInfo,
        credential_info: CSCCredentialInfo,
        backend: CscBackend,
        secret: str,
    ) -> None:
        super().__init__(session_info, credential_info)
        self._backend = backend
        self._secret: str | None = secret
        self._sad: CSCAuthorizationInfo | None = None
        self._remaining = 0

    async def authorise_now(self, num_signatures: int) -> None:
        self._sad = await self._request(num_signatures, None)
        self._remaining = num_signatures
        self._secret = None

    def forget(self) -> None:
        self._secret = None
        self._sad = None
        self._remaining = 0

    async def authorize_signature(self, hash_b64s: list[str]) -> CSCAuthorizationInfo:
        if self._sad is not None:
            if len(hash_b64s) > self._remaining:
                raise _refused(
                    "Otorisasi sesi tanda tangan ini sudah terpakai. Buka sesi baru dengan PIN.",
                    "authorisation_used_up",
                    self._backend,
                )
            self._remaining -= len(hash_b64s)
            return self._sad
        if self._secret is None:
            raise SigningError("The signing session is closed.")
        return await self._request(len(hash_b64s), hash_b64s)

    async def _request(self, num_signatures: int, hash_b64s: list[str] | None) -> CSCAuthorizationInfo:
        backend = self._backend
        is_pin = backend.secret_kind == "PIN"
        body = self.format_csc_auth_request(
            num_signatures=num_signatures,
            pin=self._secret if is_pin else None,
            otp=None if is_pin else self._secret,
            hash_b64s=hash_b64s,
        )
        url = self.csc_session_info.endpoint_url("credentials/authorize")
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=backend.timeout)) as http,
                http.post(url, headers=self.auth_headers, json=body) as response,
            ):
                status = response.status
                payload = await response.json(content_type=None) if status != 204 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise backend._service_down(exc) from exc
        if status == 200 and isinstance(payload, dict):
            return self.parse_csc_auth_response(payload)
        error = payload.get("error") if isinstance(payload, dict) else None
        if error in ("invalid_pin", "invalid_otp"):
            what = "PIN" if error == "invalid_pin" else "OTP"
            raise _refused(
                f"{what} salah. Dokumen tidak ditandatangani.", f"wrong_{what.lower()}", backend, service_error=error
            )
        raise backend._http_failure(status, error)


class _CscSigner(CSCSigner):
    """pyHanko's ``CSCSigner``, with an HTTP session per commit and errors mapped to ours.

    pyHanko's synchronous ``sign_pdf`` runs each signature in a fresh event loop and an aiohttp
    session cannot cross loops, so each ``signatures/signHash`` call gets its own session.  pyHanko
    logs a failed commit and raises a bare ``SigningError``; the cause is kept here to tell a
    stopped service (``ServiceUnavailable``) from a refusal.
    """

    def __init__(self, auth_manager: _CscAuthorisation, backend: CscBackend) -> None:
        super().__init__(
            session=None,  # type: ignore[arg-type]  # set per commit, see class docstring
            auth_manager=auth_manager,
            sign_timeout=max(1, math.ceil(backend.timeout)),
        )
        self._backend = backend
        self._commit_error: BaseException | None = None

    async def commit(self) -> None:
        async with aiohttp.ClientSession() as http:
            self.session = http
            try:
                await super().commit()
            except SigningError as exc:
                self._commit_error = exc.__cause__ or exc
                raise
            finally:
                self.session = None  # type: ignore[assignment]

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        self._commit_error = None
        try:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=dry_run)
        except (SigningError, aiohttp.ClientError, TimeoutError) as exc:
            cause = self._commit_error or exc
            if isinstance(cause, aiohttp.ClientResponseError):
                raise self._backend._http_failure(cause.status, None) from exc
            if isinstance(cause, aiohttp.ClientError | TimeoutError):
                raise self._backend._service_down(cause) from exc
            raise


@dataclass(frozen=True)
class CscBackend:
    """A credential on a Cloud Signature Consortium (API v1) service; PIN or OTP is the secret.

    Uses pyHanko's ``CSCSigner``: ``credentials/info`` gives the certificate chain,
    ``credentials/authorize`` turns the PIN/OTP into SAD, ``signatures/signHash`` signs the digest
    of the signed attributes.  Only that digest leaves our process, never the document.
    ``signatures_per_session`` is how many signatures one sitting authorises (SCAL 1).
    ``auth_token`` is the service's OAuth bearer token for this application (not the official's
    secret), sent with every call.
    """

    base_url: str
    credential_id: str
    _: KW_ONLY
    auth_token: str | None = field(default=None, repr=False)
    timeout: float = 10
    secret_kind: Literal["PIN", "OTP"] = "PIN"
    signatures_per_session: int = 1
    kind = "csc"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "base_url": self.base_url,
            "credential_id": self.credential_id,
            "secret_kind": self.secret_kind,
            "signatures_per_session": self.signatures_per_session,
        }

    def _service_down(self, exc: BaseException) -> ServiceUnavailable:
        return _unavailable(
            "Layanan tanda tangan elektronik tidak dapat dihubungi. Dokumen tidak ditandatangani; "
            "coba lagi beberapa saat lagi.",
            "service_unavailable",
            self,
            diagnostic=type(exc).__name__,
        )

    def _http_failure(self, status: int, service_error: str | None) -> InvalidInput | ServiceUnavailable:
        """Map an HTTP error status of the service to our errors."""
        if status == 401:
            return _unavailable(
                "Layanan tanda tangan menolak kredensial aplikasi. Hubungi admin.",
                "service_rejected_credentials",
                self,
                http_status=status,
            )
        if 400 <= status < 500:
            return _refused(
                "Layanan tanda tangan menolak permintaan. Dokumen tidak ditandatangani.",
                "refused_by_service",
                self,
                http_status=status,
                service_error=service_error,
            )
        return _unavailable(
            "Layanan tanda tangan elektronik sedang bermasalah. Dokumen tidak ditandatangani; "
            "coba lagi beberapa saat lagi.",
            "service_error",
            self,
            http_status=status,
        )

    def open(self, secret: str) -> SigningSession:
        """Fetch the certificates and authorise this sitting with the PIN/OTP ``secret``."""
        session_info = CSCServiceSessionInfo(self.base_url.rstrip("/"), self.credential_id, oauth_token=self.auth_token)
        manager = _run_async(self._open(session_info, secret))
        signer = _CscSigner(manager, self)
        return _Session(self, signer, manager.credential_info.signing_cert, manager.forget)

    async def _open(self, session_info: CSCServiceSessionInfo, secret: str) -> _CscAuthorisation:
        try:
            async with aiohttp.ClientSession() as http:
                credential_info = await fetch_certs_in_csc_credential(
                    http, session_info, timeout=max(1, math.ceil(self.timeout))
                )
        except SigningError as exc:
            cause = exc.__cause__
            if isinstance(cause, aiohttp.ClientResponseError):
                if cause.status in (400, 404):
                    raise _refused(
                        "Kredensial penanda tangan tidak terdaftar di layanan tanda tangan.",
                        "not_registered",
                        self,
                        http_status=cause.status,
                    ) from exc
                raise self._http_failure(cause.status, None) from exc
            if isinstance(cause, aiohttp.ClientError | TimeoutError):
                raise self._service_down(cause) from exc
            raise _refused(
                "Layanan tanda tangan tidak memberikan sertifikat penanda tangan.", "no_certificate", self
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._service_down(exc) from exc
        manager = _CscAuthorisation(session_info, credential_info, self, secret)
        if not credential_info.hash_pinning_required:
            await manager.authorise_now(self.signatures_per_session)
        return manager


# --------------------------------------------------------------------------------------------------
# BSrE esign-client (whole file)


@dataclass(frozen=True)
class BsreUserStatus:
    """What ``GET /api/user/status/{nik}`` says about an official, asked before the passphrase."""

    signer_id: str
    registered: bool
    has_certificate: bool
    message: str


def _mask(signer_id: str) -> str:
    """A NIK or e-mail shortened for logs (personal data): the last four characters only."""
    return "*" * max(len(signer_id) - 4, 0) + signer_id[-4:]


def _classify_bsre_error(text: str) -> str | None:
    """The reason code for a BSrE error text, or ``None`` when it is none of the documented ones.

    By text, not by numeric code: DOMAIN.md documents the errors ("not registered", "no
    certificate", "wrong passphrase"), not their codes.  Indonesian variants are matched too.
    """
    lowered = text.lower()
    if "passphrase" in lowered or "kata sandi" in lowered:
        return "wrong_passphrase"
    if "not registered" in lowered or "tidak terdaftar" in lowered or "belum terdaftar" in lowered:
        return "not_registered"
    if "certificate" in lowered or "sertifikat" in lowered:
        return "no_certificate"
    return None


_BSRE_MESSAGES = {
    "wrong_passphrase": "Passphrase salah. Dokumen tidak ditandatangani.",
    "not_registered": "Penanda tangan belum terdaftar di layanan BSrE.",
    "no_certificate": "Penanda tangan belum memiliki sertifikat elektronik yang aktif di BSrE.",
}


@dataclass(frozen=True)
class BsreBackend:
    """BSrE's esign-client server, API v1: the WHOLE PDF goes out and comes back signed.

    ``POST {base_url}/api/sign/pdf``, HTTP Basic auth (``username``/``password`` are the
    application's account on the esign-client, not the official's secret), multipart fields:
    ``file``, ``nik`` (``email`` instead when the signer id contains "@"), ``passphrase``,
    ``tampilan`` (``visible``/``invisible``), and for a visible signature ``page`` (1-based),
    ``xAxis``, ``yAxis``, ``width``, ``height``; then ``reason`` and ``location``.

    Assumptions (from DOMAIN.md's outline; check against the region's esign-client before use):
    coordinates are PDF points from the page's lower-left corner; a signed file comes back as 200
    with the PDF bytes; errors come as JSON ``{"status_code", "error"}`` with a 4xx status and are
    told apart by their text (``_classify_bsre_error``); 401 means our Basic credentials are wrong.
    v1 takes no field name: ``RemoteSignRequest.field_name`` is not sent, the service names its
    field.  The v2 JSON API (base64 files) and TOTP are not used.

    A sign call is never retried: after a time-out the document may or may not be signed, so the
    error says to check first.  The connect phase times out after at most 5 s (a stopped service
    fails fast); the whole call after ``timeout`` seconds.
    """

    base_url: str
    username: str
    password: str = field(repr=False)
    _: KW_ONLY
    timeout: float = 60
    kind = "bsre"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "base_url": self.base_url, "username": self.username}

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url.rstrip("/"),
            auth=httpx.BasicAuth(self.username, self.password),
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
        )

    def sign_file(self, pdf: bytes, request: RemoteSignRequest, secret: str) -> bytes:
        """Send ``pdf`` to be signed by ``request.signer_id`` with passphrase ``secret``; return the signed PDF."""
        form: dict[str, str] = {
            ("email" if "@" in request.signer_id else "nik"): request.signer_id,
            "passphrase": secret,
            "tampilan": "visible" if request.visible else "invisible",
            "reason": request.reason,
            "location": request.location,
        }
        if request.visible:
            if request.box is None:
                raise InvalidInput(
                    "Posisi tanda tangan yang tampak belum ditentukan.", reason="missing_signature_box", backend="bsre"
                )
            x1, y1, x2, y2 = request.box
            form.update(
                {
                    "page": str(request.page),
                    "xAxis": f"{min(x1, x2):g}",
                    "yAxis": f"{min(y1, y2):g}",
                    "width": f"{abs(x2 - x1):g}",
                    "height": f"{abs(y2 - y1):g}",
                }
            )
        logger.info("BSrE sign request: signer %s, %d bytes, %s", _mask(request.signer_id), len(pdf), self.describe())
        try:
            with self._client() as client:
                response = client.post(
                    "/api/sign/pdf", data=form, files={"file": ("naskah.pdf", pdf, "application/pdf")}
                )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _unavailable(
                "Layanan tanda tangan elektronik BSrE tidak dapat dihubungi. Dokumen tidak ditandatangani; "
                "coba lagi beberapa saat lagi.",
                "service_unavailable",
                self,
                diagnostic=type(exc).__name__,
            ) from exc
        except httpx.HTTPError as exc:
            raise _unavailable(
                "Layanan BSrE tidak menjawab dengan lengkap. Dokumen mungkin sudah atau belum ditandatangani: "
                "periksa di BSrE sebelum mengulang.",
                "service_timeout" if isinstance(exc, httpx.TimeoutException) else "service_unavailable",
                self,
                diagnostic=type(exc).__name__,
            ) from exc
        body = response.content
        if response.status_code == 200 and body.startswith(b"%PDF"):
            logger.info("BSrE returned a signed file: signer %s, %d bytes", _mask(request.signer_id), len(body))
            return body
        raise self._error(response)

    def _error(self, response: httpx.Response) -> InvalidInput | ServiceUnavailable:
        status = response.status_code
        text, code = "", None
        with contextlib.suppress(ValueError):
            payload = response.json()
            if isinstance(payload, dict):
                text = str(payload.get("error") or payload.get("message") or "")
                code = payload.get("status_code")
        if status == 401:
            return _unavailable(
                "Layanan BSrE menolak kredensial aplikasi. Hubungi admin.",
                "service_rejected_credentials",
                self,
                http_status=status,
            )
        reason = _classify_bsre_error(text) if status < 500 else None
        if reason is not None:
            return _refused(_BSRE_MESSAGES[reason], reason, self, service_code=code)
        if 400 <= status < 500:
            return _refused(
                "Layanan BSrE menolak permintaan tanda tangan. Dokumen tidak ditandatangani.",
                "refused_by_service",
                self,
                http_status=status,
                service_code=code,
                service_error=text[:200],
            )
        return _unavailable(
            "Layanan BSrE sedang bermasalah. Periksa di BSrE apakah dokumen sudah ditandatangani sebelum mengulang.",
            "service_error" if status >= 500 else "bad_response",
            self,
            http_status=status,
            service_code=code,
        )

    def user_status(self, signer_id: str) -> BsreUserStatus:
        """Whether the official is registered and has a certificate (ask before asking the passphrase)."""
        try:
            with self._client() as client:
                response = client.get(f"/api/user/status/{quote(signer_id, safe='')}")
        except httpx.HTTPError as exc:
            raise _unavailable(
                "Layanan tanda tangan elektronik BSrE tidak dapat dihubungi. Coba lagi beberapa saat lagi.",
                "service_unavailable",
                self,
                diagnostic=type(exc).__name__,
            ) from exc
        payload: Any = None
        with contextlib.suppress(ValueError):
            payload = response.json()
        text = str(payload.get("error") or payload.get("message") or "") if isinstance(payload, dict) else ""
        if response.status_code == 404 or _classify_bsre_error(text) == "not_registered":
            return BsreUserStatus(signer_id, registered=False, has_certificate=False, message=text)
        if response.status_code != 200 or not isinstance(payload, dict):
            raise self._error(response)
        active = str(payload.get("status", "")).upper() == "ISSUE"
        return BsreUserStatus(signer_id, registered=True, has_certificate=active, message=text)


# --------------------------------------------------------------------------------------------------
# Configuration

_BACKENDS: dict[str, type[Pkcs12Backend | Pkcs11Backend | CscBackend | BsreBackend]] = {
    "pkcs12": Pkcs12Backend,
    "pkcs11": Pkcs11Backend,
    "csc": CscBackend,
    "bsre": BsreBackend,
}


def open_backend(config: dict[str, Any]) -> SignerBackend:
    """Build a backend from ``{"kind": ..., <constructor arguments>}``.

    A signer's secret (passphrase, PIN, OTP) is refused here: it is asked at the moment of signing.
    Service credentials of the application (CSC ``auth_token``, BSrE ``password``) are accepted.
    """
    params = dict(config)
    kind = params.pop("kind", None)
    if kind not in _BACKENDS:
        raise InvalidInput(
            "Jenis penanda tangan tidak dikenal.", reason="invalid_signer_config", kind=kind, known=sorted(_BACKENDS)
        )
    secrets_given = sorted(_SECRET_KEYS & {key.lower() for key in params})
    if secrets_given:
        raise InvalidInput(
            "Konfigurasi penanda tangan tidak boleh memuat passphrase, PIN atau OTP.",
            reason="secret_in_signer_config",
            fields=secrets_given,
        )
    cls = _BACKENDS[kind]
    allowed = {f.name for f in fields(cls) if f.name != "_"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InvalidInput(
            "Konfigurasi penanda tangan memuat isian yang tidak dikenal.",
            reason="invalid_signer_config",
            fields=unknown,
        )
    if kind == "pkcs12" and params.get("path") is not None:
        params["path"] = Path(params["path"])
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "Konfigurasi penanda tangan tidak lengkap.", reason="invalid_signer_config", kind=kind, diagnostic=str(exc)
        ) from None
