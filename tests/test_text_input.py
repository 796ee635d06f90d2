"""Text with control or bidi characters is refused as input: 422 naming the field, never a 500.

PostgreSQL refuses a NUL byte in text (the request died as a plain-text 500 before), XML 1.0
forbids most control characters in the DOCX, and a bidi override (U+202E) makes a name display
differently from the characters that are signed.  Every field type that carries user text is
sent over the API with such characters, on SQLite and PostgreSQL: the answer is 422 naming the
field, the character and its position, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from pipeline.auth import create_user
from pipeline.errors import InvalidInput
from pipeline.textcheck import text_problem
from tests.test_api import case_body, create_case, naskah_body

on_both_databases = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)

NUL, ESC, DEL, RLO, LRI, ALM = "\x00", "\x1b", "\x7f", "\u202e", "\u2066", "\u061c"


def refused_field(r: Any, field: str, char: str, position: int) -> dict[str, Any]:
    """The 422 envelope names ``field``, the character's code point and its position."""
    assert r.status_code == 422, r.text
    body = r.json()
    fields = body["detail"].get("fields") or body["detail"].get("invalid") or []
    named = [f for f in fields if f["field"] == field]
    assert named, body
    code = f"U+{ord(char):04X}"
    assert code in named[0]["message"] and f"posisi {position}" in named[0]["message"], named
    assert field in body["message"] and code in body["message"]
    return body


def put(body: dict, path: str, value: Any) -> dict:
    """``body`` with the field at ``path`` (``pihak[1].penandatangan_nama``) set to ``value``."""
    target: Any = body
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if last.isdigit() and isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return body


def cases_count(api) -> int:
    return api.client.get("/api/v1/cases", headers=api.auth("drafter")).json()["count"]


@on_both_databases
@pytest.mark.parametrize(
    ("field", "char"),
    [
        ("judul", NUL),
        ("judul", RLO),
        ("objek", NUL),
        ("manfaat", LRI),
        ("bentuk", ESC),
        ("opd_teknis", DEL),
        ("pihak[1].penandatangan_nama", RLO),
        ("pihak[1].instansi", NUL),
        ("pihak[0].penandatangan_jabatan", ALM),
    ],
)
def test_case_text_with_a_control_or_bidi_character_is_refused_naming_the_field(api, field, char):
    body = case_body()
    put(body, field, f"Kota{char}Balikpapan")
    before = cases_count(api)

    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))

    refused_field(r, field, char, 5)
    assert cases_count(api) == before


@on_both_databases
def test_correcting_a_case_with_a_nul_is_refused(api):
    case_id = create_case(api)
    r = api.client.patch(f"/api/v1/cases/{case_id}", json={"judul": f"Sampah{NUL}"}, headers=api.auth("drafter"))
    refused_field(r, "judul", NUL, 7)
    judul = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).json()["judul"]
    assert NUL not in judul


@on_both_databases
def test_text_over_several_lines_keeps_its_lines_and_tabs_and_other_scripts_pass(api):
    body = case_body()
    body["objek"] = "pengelolaan sampah:\n\t1. pengangkutan;\r\n\t2. pemrosesan"
    body["judul"] = "Kerja Sama Pendidikan Madrasah (مدرسة) Regional"
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    assert r.json()["judul"] == body["judul"] and "\n\t1." in r.json()["objek"]
    one_line = put(case_body(), "judul", "Dua\nbaris")
    refused_field(api.client.post("/api/v1/cases", json=one_line, headers=api.auth("drafter")), "judul", "\n", 4)


@on_both_databases
@pytest.mark.parametrize(
    ("jenis", "field", "path", "char"),
    [
        ("KB", "nomor.2", ["nomor", "2"], RLO),
        ("KB", "tempat", ["data", "tempat"], NUL),
        ("KB", "ruang_lingkup[1]", ["data", "ruang_lingkup", 1], LRI),
        ("KB", "note", ["note"], NUL),
        ("NK", "rencana_kerja[0].lokasi", ["data", "rencana_kerja", 0, "lokasi"], RLO),
    ],
)
def test_naskah_fields_nomor_data_and_note_refuse_control_and_bidi_characters(api, jenis, field, path, char):
    case_id = create_case(api, "KSIV" if jenis == "NK" else "KSDD")
    body = naskah_body(jenis)
    body.setdefault("note", "")
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    if isinstance(target, list):
        while len(target) <= path[-1]:
            target.append("butir")
    target[path[-1]] = f"abcd{char}"

    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=body, headers=api.auth("drafter"))

    refused_field(r, field, char, 5)
    listed = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).json()
    assert not listed.get("naskah"), listed


@on_both_databases
def test_notes_of_revisions_and_review_refuse_control_and_bidi_characters(api):
    case_id = create_case(api)
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=naskah_body("KB"), headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    nid = r.json()["id"]

    render = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render",
        json={"data": {"tempat": "Tanah Grogot"}, "note": f"koreksi{NUL}"},
        headers=api.auth("drafter"),
    )
    refused_field(render, "note", NUL, 8)
    upload = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/upload",
        files={"file": ("x.docx", b"PK\x03\x04", "application/octet-stream")},
        data={"note": f"dari Word{RLO}"},
        headers=api.auth("drafter"),
    )
    refused_field(upload, "note", RLO, 10)
    assert api.client.post(f"/api/v1/naskah/{nid}/submit", headers=api.auth("drafter")).status_code == 200
    back = api.client.post(f"/api/v1/naskah/{nid}/return", json={"note": f"{ESC}[31m"}, headers=api.auth("legal"))
    refused_field(back, "note", ESC, 1)
    naskah = api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()
    assert naskah["status"] == "legal_review" and naskah["revision_count"] == 1


@on_both_databases
@pytest.mark.parametrize("path", ["/api/v1/arsip", "/api/v1/arsip/rekap.csv"])
@pytest.mark.parametrize(("param", "char"), [("q", NUL), ("opd", NUL), ("q", RLO)])
def test_search_words_with_a_nul_or_bidi_character_are_refused_not_a_500(api, path, param, char):
    r = api.client.get(path, params={param: f"samp{char}ah"}, headers=api.auth("secretariat"))
    refused_field(r, param, char, 5)


@on_both_databases
def test_signature_plan_username_and_signing_form_text_are_checked(api):
    case_id = create_case(api)
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=naskah_body("KB"), headers=api.auth("drafter"))
    nid = r.json()["id"]
    plan = {"mode": "tatap_muka", "steps": [{"pihak_urutan": 2, "username": f"wali{NUL}kota"}]}
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json=plan, headers=api.auth("drafter"))
    refused_field(r, "steps[0].username", NUL, 5)
    form = {"passphrase": "x", "catatan_tanggal": f"Ditandatangani{NUL}", "konfirmasi_tanggal": "true"}
    r = api.client.post(f"/api/v1/naskah/{nid}/sign", data=form, headers=api.auth("signer"))
    refused_field(r, "catatan_tanggal", NUL, 15)
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        data={"passphrase": "x", "location": f"Tanah{RLO}Grogot"},
        headers=api.auth("signer"),
    )
    refused_field(r, "location", RLO, 6)
    r = api.client.post(
        f"/api/v1/naskah/{nid}/import",
        files={"file": ("x.pdf", b"%PDF-1.7", "application/pdf")},
        data={"konfirmasi_tanggal": "true", "catatan_tanggal": f"{LRI}9 Desember"},
        headers=api.auth("drafter"),
    )
    refused_field(r, "catatan_tanggal", LRI, 1)


def test_a_user_whose_name_carries_a_bidi_override_is_refused(services):
    with Session(services.engine) as session, pytest.raises(InvalidInput) as err:
        create_user(session, username="mitra", nama=f"H. Rahmad{RLO}", jabatan="Wali Kota", roles=["signer"])
    assert err.value.detail["field"] == "nama" and "U+202E" in err.value.message and "posisi 10" in err.value.message


@pytest.mark.parametrize(
    ("text", "multiline", "refused"),
    [
        ("Pengelolaan Sampah", False, None),
        ("baris\nbaru", True, None),
        ("tab\there", True, None),
        ("baris\nbaru", False, "U+000A"),
        ("a\x00b", True, "U+0000"),
        ("a\x85b", True, "U+0085"),  # C1 NEL
        ("a\u200fb", False, "U+200F"),
        ("a\u2069b", False, "U+2069"),
        ("a\ud800b", False, "U+D800"),
        ("مدرسة", False, None),
        ("Rp1.250.000,00 — “kutipan”", False, None),
    ],
)
def test_the_text_rule(text, multiline, refused):
    problem = text_problem(text, multiline=multiline)
    assert (problem is None) if refused is None else (refused in str(problem))
