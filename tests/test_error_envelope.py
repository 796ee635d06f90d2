"""Every error is the JSON envelope ``{code, message, detail}`` in Indonesian, whatever raised it;
action endpoints whose body has no required field take an empty body.

The walk below sends broken requests to every operation of the OpenAPI document (bad JSON, a JSON
array, unknown fields, wrong path and query types, wrong methods, a multipart body that does not
parse) and checks each 4xx answer: the envelope, and none of pydantic's, Starlette's or the JSON
decoder's English phrases in ``message``.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from pipeline.auth import create_user, issue_token
from storage.db import session_scope
from tests.test_api import create_case, create_naskah

pytestmark = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)

#: What leaked before: pydantic's messages, Starlette's reason phrases, the JSON decoder's.
ENGLISH = re.compile(
    r"Field required|Value error|Input should|value is not a valid|Extra inputs|String should|"
    r"Not Found|Method Not Allowed|Internal Server Error|Unprocessable|Expecting value|JSON decode|"
    r"There was an error|Missing boundary|Expected UploadFile|should have at (least|most)|Assertion failed",
)


def assert_envelope(response, where: str = "") -> dict:
    """``response``: an httpx response, or schemathesis' (whose headers map to lists)."""
    content_type = response.headers.get("content-type") or ""
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), (where, response.text[:300])
    body = response.json()
    assert set(body) == {"code", "message", "detail"}, (where, body)
    assert isinstance(body["code"], str) and body["code"], (where, body)
    assert isinstance(body["message"], str) and body["message"], (where, body)
    assert isinstance(body["detail"], dict), (where, body)
    assert not ENGLISH.search(body["message"]), (where, body["message"])
    for field in body["detail"].get("fields", []):
        assert not ENGLISH.search(field["message"]), (where, field)
    return body


# --- empty bodies ---------------------------------------------------------------------------


def test_action_endpoints_take_an_empty_body_without_content_type(api):
    nid = create_naskah(api, create_case(api))["id"]
    raw = api.client.post(f"/api/v1/naskah/{nid}/revisions/render", headers=api.auth("drafter"))
    assert raw.status_code == 201, raw.text
    r = api.client.post(f"/api/v1/naskah/{nid}/submit", headers=api.auth("drafter"))  # no body, no Content-Type
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "legal_review"
    r = api.client.post(f"/api/v1/naskah/{nid}/return", headers=api.auth("legal"))  # a return needs a note
    body = assert_envelope(r)
    assert r.status_code == 422 and "Catatan wajib diisi" in body["message"]
    r = api.client.post(f"/api/v1/naskah/{nid}/approve", json={}, headers=api.auth("legal"))  # {} is fine too
    assert r.status_code == 200 and r.json()["status"] == "paraf", r.text
    with session_scope(api.services.engine) as session:
        kabag = create_user(
            session, username="kabag", nama="Kabag", jabatan="Kabag", roles=["paraf"], posisi=["kabag_pemerintahan"]
        )
        token = {"Authorization": f"Bearer {issue_token(session, kabag)}"}
    r = api.client.post(f"/api/v1/naskah/{nid}/paraf/refuse", content=b"", headers=token)
    body = assert_envelope(r)
    assert r.status_code == 422 and "Catatan wajib diisi" in body["message"], body
    r = api.client.post(f"/api/v1/naskah/{nid}/paraf", headers=token)  # no body at all
    assert r.status_code == 200, r.text


def test_a_body_sent_as_a_form_says_to_send_json(api):
    nid = create_naskah(api, create_case(api))["id"]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/cancel",
        content=b'{"note": "x"',  # what curl -d sends, with a typo
        headers={**api.auth("drafter"), "Content-Type": "application/json"},
    )
    body = assert_envelope(r)
    assert r.status_code == 422 and "JSON" in body["message"]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/cancel",
        content=b'{"note": "batal"}',
        headers={**api.auth("drafter"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    body = assert_envelope(r)
    assert r.status_code == 422 and "application/json" in body["message"]


# --- translated validation messages -----------------------------------------------------------


def test_validation_messages_are_indonesian_per_error_type(api):
    cid = create_case(api)
    bad_case = {
        "jenis": "KSXX",  # enum
        "judul": "x" * 600,  # string_too_long
        "objek": "",  # string_too_short
        "tahun_anggaran_mulai": "dua ribu",  # int_parsing
        "mulai": "2026-13-45",  # date_parsing
        "pihak": [],  # too_short
        "warna": "merah",  # extra_forbidden
    }  # manfaat, bentuk, selesai, opd_teknis: missing
    r = api.client.post("/api/v1/cases", json=bad_case, headers=api.auth("drafter"))
    body = assert_envelope(r)
    message = body["message"]
    assert r.status_code == 422
    assert "wajib diisi: manfaat, bentuk, selesai, opd_teknis" in message
    assert "harus salah satu dari 'KSDD', 'KSDPK' atau 'KSIV'" in message
    assert "paling banyak 500 karakter" in message
    assert "tidak boleh kosong" in message
    assert "harus berupa bilangan bulat" in message
    assert "harus berupa tanggal TTTT-BB-HH" in message
    assert "paling sedikit 2 butir" in message
    assert "warna (isian tidak dikenal)" in message
    by_field = {f["field"]: f for f in body["detail"]["fields"]}
    assert by_field["judul"]["type"] == "string_too_long"
    # our own validators: their Indonesian text without pydantic's "Value error, " prefix
    case = api.client.get(f"/api/v1/cases/{cid}", headers=api.auth("drafter")).json()
    reversed_dates = {k: case[k] for k in ("jenis", "judul", "objek", "manfaat", "bentuk", "opd_teknis")}
    reversed_dates.update(
        tahun_anggaran_mulai=2027,
        mulai="2026-11-23",
        selesai="2026-11-01",
        pihak=[
            {k: v for k, v in p.items() if k not in ("id", "urutan", "lambang_type", "lambang_sha256")}
            for p in case["pihak"]
        ],
    )
    r = api.client.post("/api/v1/cases", json=reversed_dates, headers=api.auth("drafter"))
    body = assert_envelope(r)
    assert r.status_code == 422 and "tanggal selesai harus sesudah tanggal mulai" in body["message"], body
    r = api.client.get("/api/v1/arsip", params={"limit": 0, "sort": "acak"}, headers=api.auth("drafter"))
    body = assert_envelope(r)
    assert "limit (paling kecil 1)" in body["message"] and "sort (harus salah satu dari" in body["message"]


def test_http_errors_of_the_framework_are_envelopes(api):
    r = api.client.get("/api/v1/tidak-ada", headers=api.auth("drafter"))
    assert r.status_code == 404 and assert_envelope(r)["message"] == "Alamat tidak ditemukan."
    r = api.client.put("/api/v1/cases", headers=api.auth("drafter"))
    assert r.status_code == 405 and "Metode HTTP" in assert_envelope(r)["message"]
    r = api.client.post(
        "/api/v1/verify",
        content=b"--x\r\nsampah",
        headers={**api.auth("drafter"), "Content-Type": "multipart/form-data"},  # no boundary
    )
    assert 400 <= r.status_code < 500
    body = assert_envelope(r)
    assert "multipart" in body["message"] and body["detail"].get("diagnostic"), body


def test_an_unexpected_exception_is_a_500_envelope_without_a_stack_trace(api, monkeypatch):
    from pipeline.drafting import cases

    def boom(*_a, **_k):
        raise RuntimeError("secret internals /usr/lib/python3 Traceback")

    monkeypatch.setattr(cases, "list_cases", boom)
    client = TestClient(api.client.app, raise_server_exceptions=False)
    r = client.get("/api/v1/cases", headers=api.auth("drafter"))
    assert r.status_code == 500
    body = assert_envelope(r)
    assert body["code"] == "internal_error" and "RuntimeError" not in r.text and "Traceback" not in r.text
    assert body["detail"]["error_id"] in body["message"]


# --- the walk over the OpenAPI document ---------------------------------------------------------

BROKEN_JSON_BODIES = [b'{"', b"[]", b'"teks"', b'{"isian_tidak_dikenal": 1}', b"null", b"{}", b""]


def _path(template: str, params: dict[str, dict], broken: str | None) -> str:
    def value(name: str) -> str:
        schema = params.get(name, {}).get("schema", {})
        if name == broken:
            return "bukan-angka" if schema.get("type") == "integer" else "tidak-ada"
        if "enum" in schema:
            return schema["enum"][0]
        if schema.get("type") == "integer":
            return "1"
        return "kb" if name == "jenis" else "standar" if name == "variant" else "1"

    return re.sub(r"\{(\w+)\}", lambda m: value(m.group(1)), template)


def _bad_query_value(schema: dict) -> str | None:
    options = schema.get("anyOf", [schema])
    types = {o.get("type") for o in options}
    if "integer" in types:
        return "bukan-angka"
    if "boolean" in types:
        return "mungkin"
    if any("enum" in o for o in options):
        return "bukan-pilihan"
    if any(o.get("format") == "date" for o in options):
        return "2026-13-45"
    return None


def test_every_operation_answers_broken_input_with_an_indonesian_envelope(api):
    create_naskah(api, create_case(api))  # naskah 1 exists, so requests reach the pipeline too
    schema = api.client.get("/openapi.json").json()
    headers = api.auth("drafter")
    checked = 0
    methods_seen: set[str] = set()

    def check(method: str, url: str, **kw) -> None:
        nonlocal checked
        r = api.client.request(method, url, headers={**headers, **kw.pop("headers", {})}, **kw)
        where = f"{method} {url} {kw}"
        assert r.status_code < 500, (where, r.status_code, r.text[:300])
        if r.status_code >= 400:
            assert_envelope(r, where)
            checked += 1

    for template, item in schema["paths"].items():
        for method, op in item.items():
            methods_seen.add(method)
            params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
            url = _path(template, params, None)
            for name in params:
                check(method, _path(template, params, name))
            for p in op.get("parameters", []):
                if p["in"] == "query" and (bad := _bad_query_value(p.get("schema", {}))) is not None:
                    check(method, url, params={p["name"]: bad})
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for raw in BROKEN_JSON_BODIES:
                    check(method, url, content=raw, headers={"Content-Type": "application/json"})
                check(method, url, content=b'{"note": 1}', headers={"Content-Type": "text/plain"})
            if "multipart/form-data" in content:
                check(method, url, json={"passphrase": "x"})
                check(method, url, data={"passphrase": ["a", "b"]}, files={"file": ("a.txt", b"x", "text/plain")})
                check(method, url, content=b"--x\r\nrusak", headers={"Content-Type": "multipart/form-data; boundary=x"})
                check(method, url, files={"p12": ("", b"", "application/octet-stream"), "file": "teks"})
        for wrong in sorted({"put", "delete"} - set(item)):
            check(wrong.upper(), _path(template, {}, None))
    assert checked > 150, checked
