"""A development and test PKI with live TSA, OCSP and CRL services on 127.0.0.1.

Why it exists: signatures are only worth testing against the real thing — a chain of
trust, a timestamp authority that answers RFC 3161 requests over HTTP, an OCSP responder
and CRLs that know which certificates were revoked.  BSrE and the other PSrE cannot be
used in tests or in ``naskah demo``, so this module builds a small but complete PKI with
``cryptography`` and serves it from one HTTP server in a thread:

    root CA ─ intermediate CA ─┬─ persons (signers)      CDP + AIA/OCSP baked in
                               ├─ TSA (EKU timeStamping)
                               └─ OCSP responder (EKU OCSPSigning, id-pkix-ocsp-nocheck)

The intermediate's own status comes from the root's CRL.  The URLs baked into the
certificates point at ``http://127.0.0.1:<port>``; the port is reserved when the PKI is
generated and stored with it, so :meth:`DevPki.serve` binds the same port every time (also
after :meth:`DevPki.load` in another process).  Two PKIs use two ports and coexist, which
is how the tests model a counterparty "with a different CA".

Certificates are handed out as ``asn1crypto`` objects (what pyHanko and its validator
consume); private keys of persons as parsed ``cryptography`` keys (parsing an RSA key costs
~27 ms, so it is done once).  The keys of the CA and of the services are written only
inside the PKI directory, mode 0600; persons' keys are never written anywhere.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import unquote

from asn1crypto import cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from pipeline.errors import InvalidInput, ServiceUnavailable

__all__ = ["DevPki", "DevPkiServer", "IssuedCert", "iter_pem_certificates"]

log = logging.getLogger(__name__)

_STATE_FILE = "pki.json"
_ROOTS_FILE = "roots.pem"
#: CA and service material kept in the PKI directory (certificate PEM, key PEM 0600).
_SERVICE_ROLES = ("root", "intermediate", "tsa", "ocsp")
#: CA certificates are back-dated so that already-expired persons can be issued for tests.
_CA_BACKDATE = dt.timedelta(days=5 * 365)
_CA_VALIDITY = dt.timedelta(days=15 * 365)
#: Revocation data claims to be a little older than "now": a validation context fixes its
#: validation time when it is created, and revocation info issued after that time is not used.
_REVINFO_BACKDATE = dt.timedelta(minutes=5)
_REVINFO_VALIDITY = dt.timedelta(days=7)


#: The keys a person's certificate may be issued for.
PersonKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by the owner only (0600) before any byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _reserve_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class IssuedCert:
    """A person's certificate with its key, as a PSrE would hand it out (minus the smart card)."""

    certificate: asn1_x509.Certificate
    """The end-entity certificate, as ``asn1crypto`` (the type pyHanko's signers and validator use)."""

    key: PersonKey = field(repr=False)
    """The private key, already parsed (``cryptography``): signers keep it to avoid re-parsing per signature."""

    chain: tuple[asn1_x509.Certificate, ...]
    """Issuer chain, nearest first: the intermediate CA, then the root."""

    @property
    def common_name(self) -> str:
        """Subject CN, which verification reports show as the signer."""
        return str(self.certificate.subject.native.get("common_name", ""))

    @property
    def serial_number(self) -> int:
        """Serial number, the key for revocation."""
        return int(self.certificate.serial_number)

    @property
    def key_info(self) -> asn1_keys.PrivateKeyInfo:
        """The key as ``asn1crypto`` PrivateKeyInfo, for APIs such as pyHanko's ``SimpleSigner``."""
        der = self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return asn1_keys.PrivateKeyInfo.load(der)

    def to_pkcs12(self, passphrase: str) -> bytes:
        """The key, certificate and chain as an encrypted PKCS#12 file (what a PSrE hands out)."""
        if not passphrase:
            raise InvalidInput("Passphrase PKCS#12 tidak boleh kosong.", field="passphrase")
        cert = x509.load_der_x509_certificate(self.certificate.dump())
        cas = [x509.load_der_x509_certificate(c.dump()) for c in self.chain]
        return pkcs12.serialize_key_and_certificates(
            name=self.common_name.encode("utf-8"),
            key=self.key,
            cert=cert,
            cas=cas,
            encryption_algorithm=serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
        )


class _TsaSigner(DummyTimeStamper):
    """pyHanko's in-process TSA, server side, with the TSA key parsed once instead of per token."""

    def __init__(self, tsa_cert: asn1_x509.Certificate, key: rsa.RSAPrivateKey, chain: list[asn1_x509.Certificate]):
        der = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        super().__init__(tsa_cert=tsa_cert, tsa_key=asn1_keys.PrivateKeyInfo.load(der), certs_to_embed=chain)
        self._key = key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, when: dt.datetime) -> tuple[bytes, Any]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(when)})),
                simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self._key.sign(signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


class DevPki:
    """A generated PKI on disk plus its revocation state; see the module docstring.

    Thread-safe: the HTTP server thread reads the revocation state while tests revoke.
    """

    def __init__(self, directory: Path, state: dict[str, Any], material: dict[str, tuple[Any, Any]]) -> None:
        self.directory = directory
        self._state = state
        self._lock = threading.Lock()
        self._certs: dict[str, x509.Certificate] = {role: cert for role, (cert, _) in material.items()}
        self._keys: dict[str, rsa.RSAPrivateKey] = {role: key for role, (_, key) in material.items()}
        self._crl_cache: dict[str, tuple[int, bytes]] = {}
        self._tsa = _TsaSigner(self._asn1("tsa"), self._keys["tsa"], [self._asn1("intermediate")])
        #: Further TSAs by name (:meth:`issue_tsa`), kept in memory only: a test's successor TSA.
        self._extra_tsas: dict[str, _TsaSigner] = {}
        #: mtime of pki.json as last read or written here (see :meth:`_refresh`).
        self._state_mtime: int | None = self._stat()

    # -- creation and loading -------------------------------------------------------------

    @classmethod
    def generate(
        cls, directory: Path, *, name: str = "Naskah Dev", rsa_bits: int = 2048, port: int | None = None
    ) -> Self:
        """Create a new PKI in ``directory`` (must not hold one yet) and reserve its service port.

        ``port`` fixes the port instead (e.g. a demo behind a known address); the URLs in every
        certificate point there, so it cannot change afterwards.  ``rsa_bits`` applies to the
        CA and service keys and is the default for persons.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / _STATE_FILE).exists():
            raise InvalidInput(f"Folder '{directory}' sudah berisi PKI; gunakan DevPki.load().", path=str(directory))
        port = port or _reserve_port()
        base = f"http://127.0.0.1:{port}"
        now = _now()
        ca_start, ca_end = now - _CA_BACKDATE, now - _CA_BACKDATE + _CA_VALIDITY

        def key() -> rsa.RSAPrivateKey:
            return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)

        root_key, inter_key, tsa_key, ocsp_key = key(), key(), key(), key()
        root_name = _subject(f"{name} Root CA", name)
        root = (
            _builder(root_name, root_name, root_key.public_key(), ca_start, ca_end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        inter = (
            _issued(_subject(f"{name} Intermediate CA", name), inter_key, root, ca_start, ca_end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(_cdp(f"{base}/crl/root.crl"), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        tsa = _tsa_certificate(
            _subject(f"{name} TSA", name), tsa_key, inter, inter_key, now - dt.timedelta(days=1), ca_end, base
        )
        responder = (
            _issued(_subject(f"{name} OCSP Responder", name), ocsp_key, inter, now - dt.timedelta(days=1), ca_end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
            .add_extension(x509.OCSPNoCheck(), critical=False)
            .sign(inter_key, hashes.SHA256())
        )
        material = {"root": (root, root_key), "intermediate": (inter, inter_key), "tsa": (tsa, tsa_key)}
        material["ocsp"] = (responder, ocsp_key)
        for role, (cert, private) in material.items():
            (directory / f"{role}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            _write_private(directory / f"{role}.key.pem", _key_pem(private))
        (directory / _ROOTS_FILE).write_bytes(root.public_bytes(serialization.Encoding.PEM))
        state: dict[str, Any] = {"name": name, "port": port, "rsa_bits": rsa_bits, "issued": {}, "revoked": {}}
        for cert in (tsa, responder):
            state["issued"][str(cert.serial_number)] = cert.subject.rfc4514_string()
        pki = cls(directory, state, material)
        pki._save()
        log.info("generated dev PKI %r in %s (services on port %d)", name, directory, port)
        return pki

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Reopen a PKI written by :meth:`generate` (same keys, same port, same revocations)."""
        directory = Path(directory)
        try:
            state = json.loads((directory / _STATE_FILE).read_text())
            material = {}
            for role in _SERVICE_ROLES:
                cert = x509.load_pem_x509_certificate((directory / f"{role}.pem").read_bytes())
                key = serialization.load_pem_private_key((directory / f"{role}.key.pem").read_bytes(), password=None)
                material[role] = (cert, key)
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                f"Folder '{directory}' tidak berisi PKI pengembangan yang utuh.", path=str(directory)
            ) from exc
        return cls(directory, state, material)

    def _save(self) -> None:
        tmp = self.directory / f".{_STATE_FILE}.tmp"
        tmp.write_text(json.dumps(self._state, indent=1, sort_keys=True))
        os.replace(tmp, self.directory / _STATE_FILE)
        self._state_mtime = self._stat()

    def _stat(self) -> int | None:
        try:
            return (self.directory / _STATE_FILE).stat().st_mtime_ns
        except OSError:
            return None

    def _refresh(self) -> None:
        """Take in what another process issued or revoked since this one loaded the PKI.

        ``naskah dev-pki serve`` answers OCSP and CRL requests while ``naskah dev-pki p12`` issues
        certificates in another process: without this, a certificate issued after the server
        started would be "unknown" to its OCSP responder.
        """
        mtime = self._stat()
        if mtime is None or mtime == self._state_mtime:
            return
        try:
            disk = json.loads((self.directory / _STATE_FILE).read_text())
        except (OSError, ValueError):
            return
        with self._lock:
            self._state["issued"].update(disk.get("issued", {}))
            self._state["revoked"].update(disk.get("revoked", {}))
            self._crl_cache.clear()
            self._state_mtime = mtime

    # -- facts ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self._state["name"])

    @property
    def port(self) -> int:
        return int(self._state["port"])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def fetch_allow(self) -> str:
        """The ``NASKAH_FETCH_ALLOW`` entry that lets a server fetch this PKI's OCSP/CRL (``pipeline.sign.fetch``:
        loopback addresses are refused unless allowlisted)."""
        return f"127.0.0.1:{self.port}"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    @property
    def crl_url(self) -> str:
        """The intermediate CA's CRL (the one that lists revoked persons)."""
        return f"{self.base_url}/crl/intermediate.crl"

    @property
    def roots_pem(self) -> Path:
        """File with the trust root(s) to configure in verifiers."""
        return self.directory / _ROOTS_FILE

    @property
    def root(self) -> asn1_x509.Certificate:
        """The trust root (it also anchors the TSA, so one root covers signatures and timestamps)."""
        return self._asn1("root")

    @property
    def roots(self) -> list[asn1_x509.Certificate]:
        return [self.root]

    @property
    def intermediate(self) -> asn1_x509.Certificate:
        return self._asn1("intermediate")

    @property
    def tsa_certificate(self) -> asn1_x509.Certificate:
        return self._asn1("tsa")

    def _asn1(self, role: str) -> asn1_x509.Certificate:
        return _to_asn1(self._certs[role])

    # -- issuing and revoking ---------------------------------------------------------------

    def issue_person(
        self,
        common_name: str,
        *,
        nip: str | None = None,
        email: str | None = None,
        valid_days: int = 365,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        rsa_bits: int | None = None,
        serial_number: str | None = None,
        key: PersonKey | None = None,
        key_usage: x509.KeyUsage | Literal["default"] | None = "default",
        extended_key_usage: Sequence[x509.ObjectIdentifier] | None = None,
        signature_hash: Literal["sha256", "sha384", "sha512", "sha1"] = "sha256",
        ocsp_url: str | None = None,
        crl_url: str | None = None,
        ca_issuers_url: str | None = None,
    ) -> IssuedCert:
        """Issue a signing certificate (KeyUsage digitalSignature + nonRepudiation, no EKU).

        ``not_before``/``not_after`` override ``valid_days``; pass a ``not_after`` in the past
        for an already-expired certificate.  The NIP goes into the subject's serialNumber;
        ``serial_number`` puts any text there instead (a PSrE's ``NIK:3520…``).

        The other options make the shapes of certificate a PSrE or a careless CA hands out, for
        trying what signing accepts: ``key`` (an EC key, a short RSA key), ``key_usage`` (None:
        no extension at all), ``extended_key_usage``, and ``signature_hash="sha1"`` (a
        certificate signed with SHA-1, which ``cryptography`` no longer makes: re-signed here).
        ``ocsp_url``/``crl_url`` replace this PKI's service addresses and ``ca_issuers_url`` adds an
        AIA caIssuers address: a certificate pointing wherever its CA chose (the hostile-input tests).
        """
        start = not_before or _now() - dt.timedelta(minutes=10)
        end = not_after or start + dt.timedelta(days=valid_days)
        if end <= start:
            raise InvalidInput("Masa berlaku sertifikat tidak valid (berakhir sebelum mulai).")
        if key is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits or int(self._state["rsa_bits"]))
        attrs = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.name),
        ]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        if serial_number or nip:
            attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number or nip or ""))
        builder = (
            _issued(x509.Name(attrs), key, self._certs["intermediate"], start, end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_cdp(crl_url or self.crl_url), critical=False)
            .add_extension(_aia(ocsp_url or self.ocsp_url, ca_issuers_url), critical=False)
        )
        usage = _ee_key_usage() if key_usage == "default" else key_usage
        if usage is not None:
            builder = builder.add_extension(usage, critical=True)
        if extended_key_usage:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(extended_key_usage)), critical=False)
        if email:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        issuer_key = self._keys["intermediate"]
        if signature_hash == "sha1":
            cert = _resigned_sha1(builder.sign(issuer_key, hashes.SHA256()), issuer_key)
        else:
            algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}
            cert = builder.sign(issuer_key, algorithm[signature_hash])
        with self._lock:
            self._state["issued"][str(cert.serial_number)] = cert.subject.rfc4514_string()
            self._save()
        return IssuedCert(certificate=_to_asn1(cert), key=key, chain=(self.intermediate, self.root))

    def issue_tsa(
        self, name: str, *, not_before: dt.datetime | None = None, not_after: dt.datetime | None = None
    ) -> str:
        """Another TSA under the intermediate CA, served at ``/tsa/<name>``; returns its URL.

        How the archive tests model time: a TSA whose certificate ends in seconds (the archive
        must renew before it does), or a successor TSA whose certificate was issued *after* the
        first document timestamp.  Its key lives in memory only (not written, not reloaded by
        :meth:`load`); OCSP and CRL answer for its certificate like for any other.
        """
        if not name.isidentifier():
            raise InvalidInput("Nama TSA hanya huruf, angka dan garis bawah.", name=name)
        start = not_before or _now() - dt.timedelta(minutes=10)
        end = not_after or start + dt.timedelta(days=365)
        if end <= start:
            raise InvalidInput("Masa berlaku sertifikat tidak valid (berakhir sebelum mulai).")
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(self._state["rsa_bits"]))
        subject = _subject(f"{self.name} TSA {name}", self.name)
        issuer, issuer_key = self._certs["intermediate"], self._keys["intermediate"]
        cert = _tsa_certificate(subject, key, issuer, issuer_key, start, end, self.base_url)
        with self._lock:
            self._extra_tsas[name] = _TsaSigner(_to_asn1(cert), key, [self._asn1("intermediate")])
            self._state["issued"][str(cert.serial_number)] = cert.subject.rfc4514_string()
            self._save()
        return f"{self.tsa_url}/{name}"

    def revoke(self, cert: IssuedCert | asn1_x509.Certificate | int, *, when: dt.datetime | None = None) -> None:
        """Revoke a person's (or the TSA's) certificate: the CRL and OCSP report it from now on."""
        serial = cert if isinstance(cert, int) else int(cert.serial_number)
        with self._lock:
            if str(serial) not in self._state["issued"]:
                raise InvalidInput("Sertifikat ini tidak diterbitkan oleh PKI ini.", serial=serial)
            self._state["revoked"][str(serial)] = (when or _now() - dt.timedelta(seconds=1)).isoformat()
            self._crl_cache.clear()
            self._save()

    def is_revoked(self, serial: int) -> dt.datetime | None:
        with self._lock:
            when = self._state["revoked"].get(str(serial))
        return dt.datetime.fromisoformat(when) if when else None

    # -- the services' answers (also usable without HTTP) ----------------------------------

    def crl(self, which: str = "intermediate") -> bytes:
        """DER CRL of ``root`` (lists revoked intermediates: none) or ``intermediate`` (persons, TSA)."""
        if which not in ("root", "intermediate"):
            raise InvalidInput("CRL tidak dikenal.", crl=which)
        self._refresh()
        with self._lock:
            revoked = dict(self._state["revoked"]) if which == "intermediate" else {}
            number = len(revoked) + 1
            cached = self._crl_cache.get(which)
            if cached and cached[0] == number:
                return cached[1]
        issuer, key = self._certs[which], self._keys[which]
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(now - _REVINFO_BACKDATE)
            .next_update(now + _REVINFO_VALIDITY)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        )
        for serial, when in revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(dt.datetime.fromisoformat(when))
                .build()
            )
        der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        with self._lock:
            self._crl_cache[which] = (number, der)
        return der

    def ocsp_response(self, request_der: bytes) -> bytes:
        """Answer a DER OCSP request: good, revoked or unknown, signed by the delegated responder."""
        try:
            req = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER
            )
        inter = self._certs["intermediate"]
        algo = req.hash_algorithm
        name_hash = _digest(algo, inter.subject.public_bytes())
        key_hash = _digest(algo, _public_key_bits(inter))
        if (req.issuer_name_hash, req.issuer_key_hash) != (name_hash, key_hash):
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER
            )
        now = _now()
        self._refresh()
        with self._lock:
            issued = str(req.serial_number) in self._state["issued"]
        revoked_at = self.is_revoked(req.serial_number)
        this_update = now - _REVINFO_BACKDATE
        if revoked_at is not None:
            status, this_update = ocsp.OCSPCertStatus.REVOKED, max(this_update, revoked_at)
        elif issued:
            status = ocsp.OCSPCertStatus.GOOD
        else:
            status = ocsp.OCSPCertStatus.UNKNOWN
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=req.issuer_name_hash,
                issuer_key_hash=req.issuer_key_hash,
                serial_number=req.serial_number,
                algorithm=algo,
                cert_status=status,
                this_update=this_update,
                next_update=now + _REVINFO_VALIDITY,
                revocation_time=revoked_at,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self._certs["ocsp"])
            .certificates([self._certs["ocsp"]])
        )
        with contextlib.suppress(x509.ExtensionNotFound):
            nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value
            builder = builder.add_extension(nonce, critical=False)
        return builder.sign(self._keys["ocsp"], hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def timestamp_response(self, request_der: bytes, tsa: str | None = None) -> bytes:
        """Answer an RFC 3161 TimeStampReq with a token signed by the TSA key (time in UTC);
        ``tsa`` names one of :meth:`issue_tsa`'s TSAs instead (KeyError when unknown)."""
        signer = self._tsa if tsa is None else self._extra_tsas[tsa]
        try:
            req = tsp.TimeStampReq.load(request_der)
            req.native  # noqa: B018 - forces a full parse so garbage fails here
        except ValueError:
            return tsp.TimeStampResp(
                {"status": tsp.PKIStatusInfo({"status": "rejection", "fail_info": {"bad_data_format"}})}
            ).dump()
        with self._lock:
            signer.fixed_dt = dt.datetime.now(dt.UTC)
            return signer.request_tsa_response(req).dump()

    # -- serving ---------------------------------------------------------------------------

    def serve(self) -> DevPkiServer:
        """Start the TSA/OCSP/CRL HTTP server on the reserved port (use as a context manager)."""
        return DevPkiServer(self)


class DevPkiServer:
    """One threaded HTTP server on 127.0.0.1 answering TSA (POST /tsa, /tsa/<name>), OCSP (POST /ocsp, GET
    /ocsp/<base64>) and CRL (GET /crl/root.crl, /crl/intermediate.crl) requests for one PKI."""

    def __init__(self, pki: DevPki) -> None:
        self.pki = pki
        handler = type("_Handler", (_Handler,), {"pki": pki})
        try:
            self._httpd = ThreadingHTTPServer(("127.0.0.1", pki.port), handler)
        except OSError as exc:
            raise ServiceUnavailable(
                f"Port {pki.port} untuk layanan PKI pengembangan sedang dipakai proses lain.", port=pki.port
            ) from exc
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"devpki-{pki.port}", daemon=True)
        self._thread.start()
        log.info("dev PKI %r serving on %s", pki.name, pki.base_url)

    @property
    def tsa_url(self) -> str:
        return self.pki.tsa_url

    @property
    def ocsp_url(self) -> str:
        return self.pki.ocsp_url

    @property
    def crl_url(self) -> str:
        return self.pki.crl_url

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    pki: DevPki
    protocol_version = "HTTP/1.1"

    def _reply(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, 1 << 20))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/tsa":
            self._reply(self.pki.timestamp_response(self._body()), "application/timestamp-reply")
        elif path.startswith("/tsa/"):
            try:
                reply = self.pki.timestamp_response(self._body(), path.removeprefix("/tsa/"))
            except KeyError:
                self._reply(b"no such TSA", "text/plain", HTTPStatus.NOT_FOUND)
            else:
                self._reply(reply, "application/timestamp-reply")
        elif path == "/ocsp":
            self._reply(self.pki.ocsp_response(self._body()), "application/ocsp-response")
        else:
            self._reply(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/crl/root.crl", "/crl/intermediate.crl"):
            self._reply(self.pki.crl(path.rsplit("/", 1)[1].removesuffix(".crl")), "application/pkix-crl")
        elif path.startswith("/ocsp/"):
            try:
                der = base64.b64decode(unquote(path.removeprefix("/ocsp/")))
            except ValueError:
                der = b""
            self._reply(self.pki.ocsp_response(der), "application/ocsp-response")
        else:
            self._reply(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("devpki %s: " + format, self.pki.name, *args)


# -- certificate building helpers ----------------------------------------------------------


def _subject(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: Any, start: dt.datetime, end: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
        .not_valid_before(start)
        .not_valid_after(end)
    )


def _issued(
    subject: x509.Name, key: rsa.RSAPrivateKey, issuer: x509.Certificate, start: dt.datetime, end: dt.datetime
) -> x509.CertificateBuilder:
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        _builder(subject, issuer.subject, key.public_key(), start, end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(False, False, False, False, False, True, True, False, False)


def _ee_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(True, True, False, False, False, False, False, False, False)


def _tsa_certificate(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate,
    issuer_key: rsa.RSAPrivateKey,
    start: dt.datetime,
    end: dt.datetime,
    base_url: str,
) -> x509.Certificate:
    """A TSA certificate (EKU timeStamping) under the intermediate, with its CRL and OCSP URLs."""
    return (
        _issued(subject, key, issuer, start, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_ee_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_cdp(f"{base_url}/crl/intermediate.crl"), critical=False)
        .add_extension(_aia(f"{base_url}/ocsp"), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def _resigned_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """The same certificate signed with sha1WithRSAEncryption (``cryptography`` refuses to make one)."""
    from asn1crypto import algos

    parsed = _to_asn1(cert)
    tbs = parsed["tbs_certificate"]
    algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha1_rsa"})
    tbs["signature"] = algorithm
    signature = issuer_key.sign(tbs.dump(force=True), PKCS1v15(), hashes.SHA1())
    der = asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
    ).dump()
    return x509.load_der_x509_certificate(der)


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)])


def _aia(ocsp_url: str, ca_issuers_url: str | None = None) -> x509.AuthorityInformationAccess:
    access = [x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]
    if ca_issuers_url:
        access.append(
            x509.AccessDescription(
                x509.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(ca_issuers_url)
            )
        )
    return x509.AuthorityInformationAccess(access)


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def _public_key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING contents, which OCSP's issuerKeyHash is computed over."""
    spki = asn1_keys.PublicKeyInfo.load(
        cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return bytes(spki["public_key"].contents[1:])


def iter_pem_certificates(data: bytes) -> Iterator[asn1_x509.Certificate]:
    """Parse every certificate in a PEM bundle (e.g. ``roots.pem``)."""
    for cert in x509.load_pem_x509_certificates(data):
        yield _to_asn1(cert)
