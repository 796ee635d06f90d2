"""A small BSrE esign-client look-alike (API v1: whole PDF in, signed PDF out), for tests.

Run as ``python -m tests.services.bsre_server --port P --keys DIR --basic-user U --basic-pass W``.

``POST /api/sign/pdf`` (multipart): ``file`` (the PDF), ``nik`` (or ``email``), ``passphrase``,
``tampilan`` (``visible``/``invisible``), ``page`` (1-based), ``xAxis``, ``yAxis``, ``width``, ``height``
(PDF points from the page's lower-left corner), ``reason``, ``location``.  200 with the signed PDF
(``application/pdf``), signed here with pyHanko (one incremental update, one new signature field).

``GET /api/user/status/{nik}``: 200 ``{"status_code": 1111, "status": "ISSUE", "message": ...}`` for a
user with a certificate, 200 ``{"status_code": 1110, "status": "NOT_ISSUED", ...}`` for a registered
user without one, 404 for an unknown NIK.

Errors are JSON with a 4xx status, ``{"status_code": ..., "error": ...}``: 401 for bad Basic auth,
400 ``"user not registered"`` (2011), ``"no certificate"`` (2021), ``"wrong passphrase"`` (2031),
400 for a malformed request (2000).  The numeric codes are this stand-in's own; the real service's
codes were not checked, so clients must classify errors by their text.

``DIR/users.json``: ``{nik: {"email", "passphrase": hash record, "key": file|null, "chain": [files],
"fail_with": status|null, "delay": seconds, "misbehave": mode|null}}`` (``fail_with`` and ``delay`` let
tests provoke a server error or a time-out; ``misbehave`` makes a sign call return a bad file with 200:
``"tamper"`` paints over page 1 in the signing update, ``"foreign"`` signs another document instead,
``"double"`` adds two signatures).  Passphrases are stored only as salted scrypt hashes and never logged.  Every
request's path and body size goes to ``DIR/requests.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import io
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfWriter

from tests.services import check_secret, log_request

logger = logging.getLogger("bsre_server")


@dataclass(frozen=True)
class User:
    nik: str
    email: str
    passphrase: dict[str, str]
    signer: signers.SimpleSigner | None
    fail_with: int | None
    delay: float
    misbehave: str | None = None


class BsreError(Exception):
    def __init__(self, http_status: int, status_code: int, error: str) -> None:
        super().__init__(error)
        self.http_status = http_status
        self.status_code = status_code
        self.error = error


def load_users(keys_dir: Path) -> dict[str, User]:
    spec = json.loads((keys_dir / "users.json").read_text(encoding="utf-8"))
    users: dict[str, User] = {}
    for nik, entry in spec.items():
        signer = None
        if entry.get("key"):
            registry = SimpleCertificateStore()
            registry.register_multiple([load_cert_from_pemder(keys_dir / name) for name in entry["chain"][1:]])
            signer = signers.SimpleSigner(
                signing_cert=load_cert_from_pemder(keys_dir / entry["chain"][0]),
                signing_key=load_private_key_from_pemder(keys_dir / entry["key"], passphrase=None),
                cert_registry=registry,
            )
        users[nik] = User(
            nik=nik,
            email=entry.get("email", ""),
            passphrase=entry["passphrase"],
            signer=signer,
            fail_with=entry.get("fail_with"),
            delay=float(entry.get("delay", 0)),
            misbehave=entry.get("misbehave"),
        )
    return users


def _find_user(users: dict[str, User], nik: str | None, email: str | None) -> User:
    if nik and nik in users:
        return users[nik]
    if email:
        for user in users.values():
            if user.email and user.email == email:
                return user
    raise BsreError(400, 2011, "user not registered")


def _number(form: dict[str, Any], name: str) -> float:
    try:
        return float(form[name])
    except (KeyError, TypeError, ValueError) as exc:
        raise BsreError(400, 2000, f"invalid or missing field {name}") from exc


async def _sign(user: User, pdf: bytes, form: dict[str, Any]) -> bytes:
    assert user.signer is not None
    visible = form.get("tampilan", "invisible") == "visible"
    field_name = f"BSrE_{secrets.token_hex(4)}"
    new_field_spec = None
    if visible:
        page = int(_number(form, "page"))
        x, y = _number(form, "xAxis"), _number(form, "yAxis")
        width, height = _number(form, "width"), _number(form, "height")
        new_field_spec = fields.SigFieldSpec(field_name, on_page=page - 1, box=(x, y, x + width, y + height))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=form.get("reason") or None,
        location=form.get("location") or None,
    )
    if user.misbehave == "foreign":
        pdf, new_field_spec = _blank_pdf(), None
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    except Exception as exc:
        raise BsreError(400, 2000, "file is not a readable PDF") from exc
    if user.misbehave == "tamper":
        page_ref, _ = writer.find_page_for_modification(0)
        first_page = page_ref.get_object()
        first_page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 0 0 600 800 re f Q"))
        writer.update_container(first_page)
    pdf_signer = signers.PdfSigner(meta, signer=user.signer, new_field_spec=new_field_spec)
    out = (await pdf_signer.async_sign_pdf(writer)).getvalue()
    if user.misbehave == "double":
        again = signers.PdfSignatureMetadata(field_name=f"BSrE_{secrets.token_hex(4)}")
        out = (
            await signers.PdfSigner(again, signer=user.signer).async_sign_pdf(IncrementalPdfFileWriter(io.BytesIO(out)))
        ).getvalue()
    return out


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_app(keys_dir: Path, basic_user: str, basic_pass: str, users: dict[str, User]) -> web.Application:
    expected_auth = "Basic " + base64.b64encode(f"{basic_user}:{basic_pass}".encode()).decode("ascii")

    def authorised(request: web.Request) -> bool:
        return secrets.compare_digest(request.headers.get("Authorization", ""), expected_auth)

    def error_response(exc: BsreError) -> web.Response:
        return web.json_response({"status_code": exc.status_code, "error": exc.error}, status=exc.http_status)

    async def sign_pdf(request: web.Request) -> web.StreamResponse:
        size = request.content_length or 0
        try:
            if not authorised(request):
                raise BsreError(401, 401, "unauthorized")
            form: dict[str, Any] = {}
            pdf = b""
            async for part in await request.multipart():
                if part.name == "file":
                    pdf = await part.read()
                elif part.name:
                    form[part.name] = await part.text()
            user = _find_user(users, form.get("nik"), form.get("email"))
            if user.signer is None:
                raise BsreError(400, 2021, "no certificate")
            if not check_secret(form.get("passphrase", ""), user.passphrase):
                raise BsreError(400, 2031, "wrong passphrase")
            if user.delay:
                await asyncio.sleep(user.delay)
            if user.fail_with:
                raise BsreError(user.fail_with, 5000, "internal error")
            if not pdf.startswith(b"%PDF"):
                raise BsreError(400, 2000, "file is not a PDF")
            response: web.Response = web.Response(body=await _sign(user, pdf, form), content_type="application/pdf")
        except BsreError as exc:
            response = error_response(exc)
        except (ValueError, binascii.Error) as exc:
            response = error_response(BsreError(400, 2000, f"bad request: {type(exc).__name__}"))
        log_request(keys_dir, request.method, request.path, size, response.status)
        return response

    async def user_status(request: web.Request) -> web.Response:
        nik = request.match_info["nik"]
        if not authorised(request):
            response = error_response(BsreError(401, 401, "unauthorized"))
        elif nik not in users:
            response = error_response(BsreError(404, 2011, "user not registered"))
        elif users[nik].signer is None:
            response = web.json_response({"status_code": 1110, "status": "NOT_ISSUED", "message": "no certificate"})
        else:
            response = web.json_response({"status_code": 1111, "status": "ISSUE", "message": "certificate active"})
        log_request(keys_dir, request.method, request.path, 0, response.status)
        return response

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/api/sign/pdf", sign_pdf)
    app.router.add_get("/api/user/status/{nik}", user_status)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, required=True, help="directory with users.json and PEM files")
    parser.add_argument("--basic-user", required=True)
    parser.add_argument("--basic-pass", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    users = load_users(args.keys)
    app = make_app(args.keys, args.basic_user, args.basic_pass, users)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
