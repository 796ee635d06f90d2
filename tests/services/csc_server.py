"""A small Cloud Signature Consortium (CSC API v1) signing service, for tests.

Run as ``python -m tests.services.csc_server --port P --keys DIR --token T``.  It implements the
subset of CSC API 1.0.4.0 that pyHanko's ``CSCSigner`` calls, plus ``info`` and
``credentials/list``:

====================================  =====================================================================
``POST /csc/v1/info``                 service description (no auth)
``POST /csc/v1/credentials/list``     ``{"credentialIDs": [...]}``
``POST /csc/v1/credentials/info``     ``credentialID`` -> ``key`` (status, algo OIDs, len), ``cert``
                                      (status, base64 DER chain, signer first), ``authMode``, ``PIN``,
                                      ``OTP``, ``multisign``, ``SCAL``
``POST /csc/v1/credentials/authorize`` ``credentialID``, ``numSignatures``, ``hash`` (required when SCAL 2),
                                      ``PIN`` or ``OTP`` -> ``{"SAD", "expiresIn"}``; a wrong PIN gives
                                      400 ``invalid_pin`` (``invalid_otp`` for an OTP credential)
``POST /csc/v1/signatures/signHash``  ``credentialID``, ``SAD``, ``hash`` (base64 digests), ``hashAlgo``,
                                      ``signAlgo`` (OID), ``signAlgoParams`` -> ``{"signatures": [...]}``
====================================  =====================================================================

Every call but ``info`` needs ``Authorization: Bearer <token>``.  ``DIR/credentials.json`` lists
the credentials: ``{id: {"key": file, "chain": [files], "pin": hash record, "auth": "PIN"|"OTP",
"scal": 1|2}}``; PINs are stored only as salted scrypt hashes.  The key files never leave this
process; only digests come in and raw signatures go out.  Every request's path and body size (never
its body) is appended to ``DIR/requests.jsonl`` so tests can show that no document crossed the wire.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from asn1crypto import algos
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509 import load_pem_x509_certificate

from tests.services import check_secret, log_request

API = "/csc/v1"
SAD_LIFETIME = 300
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_RSA_SIGN_ALGOS = {"sha256_rsa", "sha384_rsa", "sha512_rsa", "rsassa_pkcs1v15", "rsassa_pss"}
_EC_SIGN_ALGOS = {"sha256_ecdsa", "sha384_ecdsa", "sha512_ecdsa"}

logger = logging.getLogger("csc_server")


@dataclass(frozen=True)
class Credential:
    """One signing key with its certificate chain and its PIN's hash."""

    credential_id: str
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    chain_der: list[bytes]
    pin: dict[str, str]
    auth: str
    scal: int

    @property
    def sign_algos(self) -> set[str]:
        return _RSA_SIGN_ALGOS if isinstance(self.key, rsa.RSAPrivateKey) else _EC_SIGN_ALGOS


@dataclass
class Authorisation:
    """What a SAD stands for: which credential, how many signatures are left, which hashes (SCAL 2)."""

    credential_id: str
    remaining: int
    hashes: frozenset[str] | None
    expires_at: float


@dataclass
class State:
    keys_dir: Path
    token: str
    credentials: dict[str, Credential]
    sads: dict[str, Authorisation] = field(default_factory=dict)


class CscError(Exception):
    """An error the CSC way: HTTP status plus ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def load_credentials(keys_dir: Path) -> dict[str, Credential]:
    spec = json.loads((keys_dir / "credentials.json").read_text(encoding="utf-8"))
    result: dict[str, Credential] = {}
    for cred_id, entry in spec.items():
        key = serialization.load_pem_private_key((keys_dir / entry["key"]).read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SystemExit(f"credential {cred_id}: only RSA and EC keys are supported")
        chain = [
            load_pem_x509_certificate((keys_dir / name).read_bytes()).public_bytes(serialization.Encoding.DER)
            for name in entry["chain"]
        ]
        result[cred_id] = Credential(
            credential_id=cred_id,
            key=key,
            chain_der=chain,
            pin=entry["pin"],
            auth=entry.get("auth", "PIN"),
            scal=int(entry.get("scal", 1)),
        )
    return result


def _credential(state: State, body: dict[str, Any]) -> Credential:
    cred_id = body.get("credentialID")
    if not isinstance(cred_id, str) or cred_id not in state.credentials:
        raise CscError(400, "invalid_request", "Invalid parameter credentialID")
    return state.credentials[cred_id]


def _sign_digest(cred: Credential, digest: bytes, hash_name: str, sign_algo: str, params_b64: str | None) -> bytes:
    """Sign an already computed digest: the service never sees what was hashed."""
    hash_cls = _HASHES[hash_name]
    if len(digest) != hash_cls.digest_size:
        raise CscError(400, "invalid_request", "Invalid digest length")
    prehashed = utils.Prehashed(hash_cls())
    if sign_algo not in cred.sign_algos:
        raise CscError(400, "invalid_request", f"Unsupported signAlgo {sign_algo}")
    if isinstance(cred.key, ec.EllipticCurvePrivateKey):
        return cred.key.sign(digest, ec.ECDSA(prehashed))
    if sign_algo == "rsassa_pss":
        if params_b64 is None:
            raise CscError(400, "invalid_request", "Missing signAlgoParams for RSASSA-PSS")
        params = algos.RSASSAPSSParams.load(base64.b64decode(params_b64))
        mgf_hash = _HASHES[params["mask_gen_algorithm"]["parameters"]["algorithm"].native]
        pss = padding.PSS(mgf=padding.MGF1(mgf_hash()), salt_length=params["salt_length"].native)
        return cred.key.sign(digest, pss, prehashed)
    return cred.key.sign(digest, padding.PKCS1v15(), prehashed)


async def info(request: web.Request, state: State, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "specs": "1.0.4.0",
        "name": "Layanan tanda tangan uji (CSC)",
        "logo": "",
        "region": "ID",
        "lang": "id-ID",
        "description": "Test CSC service for the naskah pipeline",
        "authType": ["external"],
        "methods": [
            "credentials/list",
            "credentials/info",
            "credentials/authorize",
            "signatures/signHash",
        ],
    }


async def credentials_list(request: web.Request, state: State, body: dict[str, Any]) -> dict[str, Any]:
    return {"credentialIDs": sorted(state.credentials)}


async def credentials_info(request: web.Request, state: State, body: dict[str, Any]) -> dict[str, Any]:
    cred = _credential(state, body)
    which = body.get("certificates", "single")
    chain = {"none": [], "single": cred.chain_der[:1]}.get(which, cred.chain_der)
    key_len = cred.key.key_size if isinstance(cred.key, rsa.RSAPrivateKey) else cred.key.curve.key_size
    return {
        "key": {
            "status": "enabled",
            "algo": sorted(algos.SignedDigestAlgorithmId(name).dotted for name in cred.sign_algos),
            "len": key_len,
        },
        "cert": {"status": "valid", "certificates": [base64.b64encode(der).decode("ascii") for der in chain]},
        "authMode": "explicit",
        "PIN": {"presence": "true" if cred.auth == "PIN" else "false", "format": "N", "label": "PIN"},
        "OTP": {"presence": "true" if cred.auth == "OTP" else "false", "type": "offline"},
        "multisign": 10,
        "SCAL": str(cred.scal),
    }


async def credentials_authorize(request: web.Request, state: State, body: dict[str, Any]) -> dict[str, Any]:
    cred = _credential(state, body)
    num = body.get("numSignatures")
    if not isinstance(num, int) or not 1 <= num <= 10:
        raise CscError(400, "invalid_request", "Invalid parameter numSignatures")
    hash_list = body.get("hash")
    if hash_list is not None and (not isinstance(hash_list, list) or len(hash_list) != num):
        raise CscError(400, "invalid_request", "Invalid parameter hash")
    if cred.scal == 2 and hash_list is None:
        raise CscError(400, "invalid_request", "Missing parameter hash")
    secret = body.get(cred.auth)
    if not isinstance(secret, str) or not check_secret(secret, cred.pin):
        error = "invalid_pin" if cred.auth == "PIN" else "invalid_otp"
        raise CscError(400, error, f"The {cred.auth} is invalid")
    sad = secrets.token_urlsafe(32)
    state.sads[sad] = Authorisation(
        credential_id=cred.credential_id,
        remaining=num,
        hashes=frozenset(hash_list) if hash_list is not None else None,
        expires_at=time.monotonic() + SAD_LIFETIME,
    )
    return {"SAD": sad, "expiresIn": SAD_LIFETIME}


async def signatures_sign_hash(request: web.Request, state: State, body: dict[str, Any]) -> dict[str, Any]:
    cred = _credential(state, body)
    auth = state.sads.get(str(body.get("SAD")))
    if auth is None or auth.credential_id != cred.credential_id or auth.expires_at < time.monotonic():
        raise CscError(400, "invalid_request", "Invalid SAD")
    hash_list = body.get("hash")
    if not isinstance(hash_list, list) or not hash_list:
        raise CscError(400, "invalid_request", "Missing parameter hash")
    if len(hash_list) > auth.remaining:
        raise CscError(400, "invalid_request", "numSignatures exceeded")
    if auth.hashes is not None and not set(hash_list) <= auth.hashes:
        raise CscError(400, "invalid_request", "Hash not authorised by the SAD")
    try:
        hash_name = algos.DigestAlgorithmId(body["hashAlgo"]).native
        sign_algo = algos.SignedDigestAlgorithmId(body["signAlgo"]).native
    except (KeyError, ValueError) as exc:
        raise CscError(400, "invalid_request", "Invalid hashAlgo or signAlgo") from exc
    if hash_name not in _HASHES:
        raise CscError(400, "invalid_request", f"Unsupported hashAlgo {hash_name}")
    signatures = [
        _sign_digest(cred, base64.b64decode(h), hash_name, sign_algo, body.get("signAlgoParams")) for h in hash_list
    ]
    auth.remaining -= len(hash_list)
    if auth.remaining == 0:
        del state.sads[str(body["SAD"])]
    return {"signatures": [base64.b64encode(sig).decode("ascii") for sig in signatures]}


_ROUTES = {
    "info": (info, False),
    "credentials/list": (credentials_list, True),
    "credentials/info": (credentials_info, True),
    "credentials/authorize": (credentials_authorize, True),
    "signatures/signHash": (signatures_sign_hash, True),
}


def make_app(state: State) -> web.Application:
    async def dispatch(request: web.Request) -> web.Response:
        raw = await request.read()
        endpoint = request.match_info["endpoint"]
        try:
            if endpoint not in _ROUTES:
                raise CscError(404, "invalid_request", "Unknown endpoint")
            handler, needs_auth = _ROUTES[endpoint]
            if needs_auth and not secrets.compare_digest(
                request.headers.get("Authorization", ""), f"Bearer {state.token}"
            ):
                raise CscError(401, "invalid_token", "Missing or invalid bearer token")
            try:
                body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise CscError(400, "invalid_request", "Body is not JSON") from exc
            if not isinstance(body, dict):
                raise CscError(400, "invalid_request", "Body is not a JSON object")
            response = web.json_response(await handler(request, state, body))
        except CscError as exc:
            response = web.json_response({"error": exc.error, "error_description": exc.description}, status=exc.status)
        log_request(state.keys_dir, request.method, request.path, len(raw), response.status)
        return response

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post(API + "/{endpoint:.+}", dispatch)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, required=True, help="directory with credentials.json and PEM files")
    parser.add_argument("--token", required=True, help="the bearer token clients must send")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    state = State(keys_dir=args.keys, token=args.token, credentials=load_credentials(args.keys))
    web.run_app(make_app(state), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
