"""Refusals speak Indonesian to people: no Python internals in what they read.

Each known way to make the server refuse something — malformed PDFs and DOCX, broken images,
bad certificates and keystores, services that do not answer, bad files to the command line — is
provoked, and every string a person reads (``message``, and every ``detail`` value except
``diagnostic``, which is for support staff) is searched for what only Python says: memory
addresses, object reprs, tracebacks, exception class names.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from docx import Document
from pypdf import PdfReader, PdfWriter
from typer.testing import CliRunner

from api.cli import app
from api.cli_common import DIAGNOSTIC_LABEL
from pipeline.sign.devpki import DevPki
from tests.fixtures.pki import WALIKOTA, flip_byte_in_stream
from tests.test_api import create_case, create_naskah
from tests.test_signer_identity import import_file, plan, upload_sign
from tests.test_signing_backends import one_backend
from tests.test_signing_flow import fully_initialled

#: What only Python says: addresses, reprs, tracebacks, exception classes, source locations.
INTERNALS = re.compile(
    r"0x[0-9a-fA-F]{6,}|<[^<>]*\bobject at\b|Traceback|File \"|\b[A-Z][A-Za-z0-9]*(Error|Exception)\b"
    r"|\bBadZipFile\b|\bStopIteration\b|\bNoneType\b|\b__\w+__\b"
)


def read_by_people(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of an error body or report except support staff's ``diagnostic``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("diagnostic", "diagnostics"):
                yield from read_by_people(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from read_by_people(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def assert_no_internals(body: Any, what: str) -> None:
    leaks = [(path, text) for path, text in read_by_people(body) if INTERNALS.search(text)]
    assert not leaks, f"{what}: {leaks}"


def _docx() -> bytes:
    document = Document()
    document.add_paragraph("Naskah yang disunting di Word")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    dst.writestr(info.filename, replace[info.filename])
            else:
                dst.writestr(info, src.read(info))
    return out.getvalue()


def broken_docx() -> dict[str, bytes]:
    good = _docx()
    crc = bytearray(good)
    at = crc.find(b"word/document.xml") + 200
    crc[at] ^= 0xFF
    return {
        "not_a_zip": b"Ini bukan dokumen Word",
        "truncated": good[: len(good) // 2],
        "no_document_part": _rezip(good, {"word/document.xml": None}),
        "malformed_xml": _rezip(good, {"word/document.xml": b"<w:document><w:body><w:p></w:body>"}),
        "bad_relationships": _rezip(good, {"word/_rels/document.xml.rels": b"<Relationships><x"}),
        "bad_content_types": _rezip(good, {"[Content_Types].xml": b"<Types><Override"}),
        "flipped_byte": bytes(crc),
        "ole_doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
    }


def broken_pdfs(signed: bytes) -> dict[str, bytes]:
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    garbage_cms = signed[:start] + b"30820a" + b"ab" * 200 + signed[start + 406 :]
    no_xref = signed.replace(b"startxref", b"startxraf")
    out = io.BytesIO()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(signed)))
    writer.encrypt("rahasia")
    writer.write(out)
    return {
        "garbage": b"bukan PDF sama sekali",
        "header_only": b"%PDF-1.7\n",
        "truncated": signed[: len(signed) // 2],
        "tail_cut": signed[:-2000],
        "garbage_cms": garbage_cms,
        "broken_xref": no_xref,
        "flipped_stream_byte": flip_byte_in_stream(signed),
        "encrypted": out.getvalue(),
        "nul_run": signed[:1000] + b"\x00" * 5000 + signed[6000:],
    }


@one_backend
def test_broken_uploads_are_refused_without_python_internals(api):
    nid = create_naskah(api, create_case(api))["id"]
    for name, data in broken_docx().items():
        r = api.client.post(
            f"/api/v1/naskah/{nid}/revisions/upload",
            files={"file": (f"{name}.docx", data, "application/octet-stream")},
            headers=api.auth("drafter"),
        )
        assert r.status_code == 422, (name, r.text)
        assert_no_internals(r.json(), name)
    url = f"/api/v1/cases/{create_case(api)}/pihak/2/lambang"
    for name, data in {
        "png_header_only": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "png_truncated": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x02",
        "jpeg_truncated": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 40,
    }.items():
        r = api.client.put(url, files={"file": ("x.png", data, "image/png")}, headers=api.auth("drafter"))
        assert r.status_code == 422, (name, r.text)
        assert_no_internals(r.json(), name)


@one_backend
def test_malformed_pdfs_are_reported_without_python_internals(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    nid = fully_initialled(api, "desk")
    plan(api, nid, "desk")
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    from tests.test_signer_identity import partner_signs

    signed = partner_signs(exported, counterparty_pki, counterparty_pki.issue_person(WALIKOTA))
    for name, data in broken_pdfs(signed).items():
        r = api.client.post(
            "/api/v1/verify", files={"file": ("x.pdf", data, "application/pdf")}, headers=api.auth("secretariat")
        )
        assert r.status_code in (200, 422), (name, r.text)
        assert_no_internals(r.json(), f"verify {name}")
        if name == "flipped_stream_byte":
            continue  # the longest stream is the partner's validation data, which no signature covers
        r = import_file(api, nid, data)
        assert r.status_code == 422, (name, r.text)
        assert_no_internals(r.json(), f"import {name}")


@one_backend
def test_bad_keystores_and_certificates_are_refused_without_python_internals(
    signers_api, dev_pki, counterparty_pki, tmp_path_factory
):
    api = signers_api
    nid = fully_initialled(api)
    plan(api, nid)
    stranger = DevPki.generate(tmp_path_factory.mktemp("pki") / "asing", name="CA Asing")
    import datetime as dt

    expired = counterparty_pki.issue_person(
        WALIKOTA, not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), not_after=dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    )
    keystores = {
        "garbage": (b"bukan pkcs12", "k"),
        "empty_passphrase": (counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k"), ""),
        "wrong_passphrase": (counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k"), "salah"),
        "truncated": (counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")[:300], "k"),
        "untrusted_ca": (stranger.issue_person(WALIKOTA).to_pkcs12("k"), "k"),
        "expired": (expired.to_pkcs12("k"), "k"),
        "someone_else": (counterparty_pki.issue_person("Orang Lain").to_pkcs12("k"), "k"),
    }
    for name, (p12, passphrase) in keystores.items():
        r = api.client.post(
            f"/api/v1/naskah/{nid}/sign",
            files={"p12": ("k.p12", p12, "application/x-pkcs12")},
            data={"passphrase": passphrase},
            headers=api.auth("walikota"),
        )
        assert r.status_code in (401, 403, 422), (name, r.text)
        assert_no_internals(r.json(), name)


@one_backend
def test_services_that_do_not_answer_are_reported_without_python_internals(signers_api, counterparty_pki):
    api = signers_api
    nid = fully_initialled(api)
    plan(api, nid)
    api.services.tsa_url = "http://127.0.0.1:9/tsa"  # nothing listens on the discard port
    r = upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k"))
    assert r.status_code == 503, r.text
    assert_no_internals(r.json(), "tsa down")


def people_lines(output: str) -> str:
    """The command's output without the labelled line for support staff."""
    return "\n".join(line for line in output.splitlines() if not line.startswith(DIAGNOSTIC_LABEL))


def test_the_command_line_reports_bad_files_without_python_internals(tmp_path, monkeypatch, dev_pki):
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    runner = CliRunner()
    garbage = tmp_path / "rusak.pdf"
    garbage.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>")
    data = tmp_path / "data.json"
    for content in ("{bukan json", "\xff\xfe".encode("latin-1").decode("latin-1"), json.dumps([1, 2])):
        data.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode())
        r = runner.invoke(app, ["render", "kb/standar", "--data", str(data), "--out", str(tmp_path / "out")])
        assert r.exit_code == 2, r.output
        assert not INTERNALS.search(people_lines(r.output)), r.output
    r = runner.invoke(app, ["verify", str(garbage), "--trust", str(dev_pki.roots_pem)])
    assert r.exit_code != 0 and not INTERNALS.search(people_lines(r.output)), r.output
    r = runner.invoke(app, ["verify", str(garbage), "--trust", str(garbage)])
    assert r.exit_code != 0 and not INTERNALS.search(people_lines(r.output)), r.output


@pytest.mark.parametrize(
    ("expression", "data"),
    [
        ("{{ x.append(1) }}", {"x": [1, 2]}),  # the sandbox's words: "<built-in method append of list object at 0x…>"
        ("{{ x.nama.panjang }}", {"x": {"nama": "a"}}),
        ("{{ x < 3 }}", {"x": "teks"}),
    ],
)
def test_a_template_failing_at_render_time_says_so_without_python_internals(tmp_path, expression, data):
    from pipeline.drafting.templates import load_template, render_docx
    from pipeline.errors import TemplateError
    from tests.test_templates import make_docx

    info = load_template(make_docx(tmp_path / "uji.docx", expression))
    with pytest.raises(TemplateError) as caught:
        render_docx(info, data)
    assert_no_internals(caught.value.to_dict(), expression)
    assert caught.value.detail.get("diagnostic")


@pytest.mark.parametrize(
    "text",
    [
        "Galat <pyhanko.sign.validation.EmbeddedPdfSignature object at 0x7f3a2c1d9e80>",
        "Traceback (most recent call last):",
        "PdfReadError: Illegal character",
        "KeyError: '/Root'",
    ],
)
def test_the_internals_pattern_recognises_what_it_must(text):
    assert INTERNALS.search(text)


def test_the_internals_pattern_lets_indonesian_through():
    assert not INTERNALS.search(
        "Berkas bukan PDF yang dapat dibaca (rusak atau terpotong). Sertifikat penanda tangan tidak berantai ke CA "
        "yang dipercaya; status OCSP/CRL tidak tersedia. Nomor 100.3.7.1/12/Tapem/2026, Rp1.250.000,00."
    )
