"""The HTTP API, on SQLite/PostgreSQL × local/S3, with real LibreOffice conversions."""

from __future__ import annotations

import hashlib
import io
import itertools
import zipfile
from datetime import date, datetime

import pytest
from docx import Document

from api.demo import CASE_FIELDS, demo_case, edit_in_word
from pipeline.drafting.templates import sample_data
from pipeline.sop import load_profile

DAY = date(2026, 11, 23)


def hari_ini() -> date:
    """Today in Tanah Grogot (the Paser profile's WITA): the day a naskah signed today must state."""
    return datetime.now(load_profile("paser").tz).date()


def case_body(jenis: str = "KSDD") -> dict:
    body = demo_case(DAY).model_dump(mode="json")
    body["jenis"] = jenis
    if jenis == "KSIV":
        body["pihak"][1].update(instansi="Kantor Pertanahan Kabupaten Paser", kind="instansi_vertikal")
        body["pihak"][1].update(penandatangan_nama="Andi Pratama, S.H.", penandatangan_jabatan="Kepala Kantor")
    if jenis == "KSDPK":
        body["pihak"][1].update(instansi="PT Energi Hijau Nusantara", kind="pihak_ketiga")
    return body


_SERIAL = itertools.count(11)


def naskah_body(jenis: str, cara: str | None = None, **extra) -> dict:
    """A naskah dated today (it is signed today in these tests), drafted for ``cara`` of signing, with a
    fresh nomor per party (each party's register refuses a nomor it already gave another naskah)."""
    data = {k: v for k, v in sample_data(jenis).items() if k not in CASE_FIELDS}
    data["tanggal"] = hari_ini().isoformat()
    if cara is not None:
        data["cara_penandatanganan"] = cara
    n = next(_SERIAL)
    body = {"jenis": jenis, "nomor": {"1": f"100.3.7.1/{n}/Tapem/2026", "2": f"100.3.7.1/{n}/Pem/2026"}, "data": data}
    body.update(extra)
    return body


def create_case(api, jenis: str = "KSDD") -> int:
    r = api.client.post("/api/v1/cases", json=case_body(jenis), headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def create_naskah(api, case_id: int, jenis: str = "KB", **extra) -> dict:
    r = api.client.post(
        f"/api/v1/cases/{case_id}/naskah", json=naskah_body(jenis, **extra), headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    return r.json()


def revision_count(api, naskah_id: int) -> int:
    r = api.client.get(f"/api/v1/naskah/{naskah_id}/revisions", headers=api.auth("drafter"))
    return r.json()["count"]


def test_drafting_flow_keeps_every_revision_byte_identical(api):
    case_id = create_case(api)
    naskah = create_naskah(api, case_id, nomor={"1": "100.3.7.1/11/Tapem/2026", "2": "100.3.7.1/27/Pem/2026"})
    nid = naskah["id"]
    assert naskah["status"] == "draft" and naskah["revision_count"] == 1
    assert naskah["nomor"] == {"1": "100.3.7.1/11/Tapem/2026", "2": "100.3.7.1/27/Pem/2026"}
    assert "submit" in naskah["available_actions"]

    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render",
        json={"data": {"tempat": "Tanah Grogot"}, "note": "tempat penandatanganan diubah"},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 201, r.text
    rev2 = r.json()
    assert rev2["number"] == 2 and rev2["source"] == "rendered" and rev2["author"] == "u-drafter"

    docx2 = api.client.get(rev2["docx_url"], headers=api.auth("legal")).content
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/upload",
        files={"file": ("kb.docx", edit_in_word(docx2), "application/octet-stream")},
        data={"note": "disunting di Word"},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "uploaded" and r.json()["number"] == 3

    listing = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("secretariat")).json()
    assert [x["number"] for x in listing["data"]] == [1, 2, 3]
    for rev in listing["data"]:
        for kind in ("docx", "pdf"):
            resp = api.client.get(rev[f"{kind}_url"], headers=api.auth("sekda"))
            assert resp.status_code == 200
            assert hashlib.sha256(resp.content).hexdigest() == rev[f"{kind}_sha256"]
            assert len(resp.content) == rev[f"{kind}_size"]
            assert resp.headers["x-content-sha256"] == rev[f"{kind}_sha256"]
        assert resp.content.startswith(b"%PDF-") and rev["pdf_pages"] >= 2

    d = api.client.get(f"/api/v1/naskah/{nid}/diff", params={"a": 1, "b": 2}, headers=api.auth("drafter")).json()
    assert not d["identical"]
    assert any("Tanah Grogot" in " ".join(h["new"]) for h in d["changes"])
    d = api.client.get(f"/api/v1/naskah/{nid}/diff", params={"a": 2, "b": 3}, headers=api.auth("drafter")).json()
    assert any("Perangkat Daerah terkait" in " ".join(h["new"]) for h in d["changes"])
    same = api.client.get(f"/api/v1/naskah/{nid}/diff", params={"a": 2, "b": 2}, headers=api.auth("drafter")).json()
    assert same["identical"]


def test_kb_is_refused_for_instansi_vertikal_and_nk_for_ksdd(api):
    ksiv = create_case(api, "KSIV")
    r = api.client.post(f"/api/v1/cases/{ksiv}/naskah", json=naskah_body("KB"), headers=api.auth("drafter"))
    assert r.status_code == 422 and r.json()["code"] == "rule_violation"
    assert "KSIV" in r.json()["message"]
    nk = create_naskah(api, ksiv, "NK")
    assert nk["jenis"] == "NK"
    ksdd = create_case(api, "KSDD")
    r = api.client.post(f"/api/v1/cases/{ksdd}/naskah", json=naskah_body("NK"), headers=api.auth("drafter"))
    assert r.status_code == 422 and r.json()["code"] == "rule_violation"


def test_pks_needs_a_kb_and_surat_kuasa_names_its_pks(api):
    case_id = create_case(api, "KSDPK")
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=naskah_body("PKS"), headers=api.auth("drafter"))
    assert r.status_code == 422 and r.json()["code"] == "rule_violation"
    assert "Kesepakatan Bersama" in r.json()["message"]
    kb = create_naskah(api, case_id, "KB")
    pks = create_naskah(api, case_id, "PKS")
    assert pks["parent_id"] == kb["id"]
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=naskah_body("SK"), headers=api.auth("drafter"))
    assert r.status_code == 422 and "parent_id" in r.text
    r = api.client.post(
        f"/api/v1/cases/{case_id}/naskah", json=naskah_body("SK", parent_id=kb["id"]), headers=api.auth("drafter")
    )
    assert r.status_code == 422  # a KB is not a PKS
    sk = create_naskah(api, case_id, "SK", parent_id=pks["id"])
    assert sk["parent_id"] == pks["id"]


def test_missing_or_wrong_token_and_wrong_role_are_refused(api):
    assert api.client.get("/api/v1/cases").status_code == 401
    r = api.client.get("/api/v1/cases", headers={"Authorization": "Bearer nsk_bogus"})
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    r = api.client.post("/api/v1/cases", json=case_body(), headers=api.auth("legal"))
    assert r.status_code == 403 and r.json()["code"] == "not_permitted" and "drafter" in r.json()["message"]
    assert api.client.get("/api/v1/cases", headers=api.auth("admin")).status_code == 403
    case_id = create_case(api)
    nid = create_naskah(api, case_id)["id"]
    r = api.client.post(f"/api/v1/naskah/{nid}/revisions/render", json={}, headers=api.auth("bupati"))
    assert r.status_code == 403  # the Bupati sees the naskah (he signs it) but does not draft
    r = api.client.post(f"/api/v1/naskah/{nid}/revisions/render", json={}, headers=api.auth("signer"))
    assert r.status_code == 404  # a signer with no step on it does not even see it
    assert revision_count(api, nid) == 1


def test_unknown_ids_give_404_with_a_message(api):
    r = api.client.get("/api/v1/cases/999999", headers=api.auth("drafter"))
    assert r.status_code == 404 and r.json()["code"] == "not_found" and "999999" in r.json()["message"]
    r = api.client.post("/api/v1/cases/999999/naskah", json=naskah_body("KB"), headers=api.auth("drafter"))
    assert r.status_code == 404
    r = api.client.get("/api/v1/naskah/999999/revisions/1/pdf", headers=api.auth("drafter"))
    assert r.status_code == 404


def test_bad_case_data_is_explained(api):
    body = case_body()
    body["selesai"] = "2040-01-01"  # more than five years
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 422 and "5 tahun" in r.json()["message"]
    body = case_body()
    body["tahun_anggaran_mulai"] = "dua ribu"
    del body["judul"]
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["detail"]["fields"]}
    assert {"judul", "tahun_anggaran_mulai"} <= fields
    body = case_body("KSDPK")
    body["pihak"][1]["kind"] = "pemda"
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 422 and r.json()["code"] == "rule_violation"


def test_template_data_with_wrong_types_or_missing_fields_is_refused_and_stores_nothing(api):
    case_id = create_case(api)
    nid = create_naskah(api, case_id)["id"]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render",
        json={"data": {"tanggal": "kemarin sore"}},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 422 and r.json()["code"] == "template_data_invalid"
    assert "tanggal" in r.text
    body = naskah_body("KB")
    body["data"] = {}
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=body, headers=api.auth("drafter"))
    assert r.status_code == 422 and r.json()["code"] == "template_data_invalid"
    assert r.json()["detail"]["missing"]
    assert revision_count(api, nid) == 1
    cases = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).json()
    assert len(cases["naskah"]) == 1  # the refused naskah left no row


def _docm(docx: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                    b"application/vnd.ms-word.document.macroEnabledMain+xml",
                )
            z.writestr(item, data)
        z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 512)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        with z.open("word/document.xml", "w") as member:  # 300 MiB of zeros, 1 MiB at a time (not all in memory)
            zeros = b"\0" * (1024 * 1024)
            for _ in range(300):
                member.write(zeros)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _zip_bomb()


def test_bad_uploads_are_refused_and_store_nothing(api, bomb):
    case_id = create_case(api)
    nid = create_naskah(api, case_id)["id"]
    good = Document()
    good.add_paragraph("Naskah")
    buf = io.BytesIO()
    good.save(buf)
    cases = {
        "pdf": (b"%PDF-1.7\n%...\n", "document_rejected"),
        "text": (b"Ini bukan dokumen Word", "document_rejected"),
        "docm": (_docm(buf.getvalue()), "document_rejected"),
        "bomb": (bomb, "document_rejected"),
        "big": (b"PK" + b"\0" * (3 * 1024 * 1024), "document_too_large"),
    }
    for name, (payload, code) in cases.items():
        r = api.client.post(
            f"/api/v1/naskah/{nid}/revisions/upload",
            files={"file": (f"{name}.docx", payload, "application/octet-stream")},
            headers=api.auth("drafter"),
        )
        assert r.status_code in (413, 422), (name, r.text)
        assert r.json()["code"] == code, (name, r.json())
        assert r.json()["message"]
    assert revision_count(api, nid) == 1
    assert len(api.services.store.versions(f"naskah/{nid}/r002.docx")) == 0


def test_openapi_document_is_complete(api):
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/cases", "/api/v1/naskah/{naskah_id}/revisions/upload", "/api/v1/naskah/{naskah_id}/diff"):
        assert path in paths
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            if path.startswith("/api/v1"):
                assert "401" in op["responses"] and "422" in op["responses"], (method, path)


def test_templates_are_listed(api):
    r = api.client.get("/api/v1/templates", headers=api.auth("drafter")).json()
    assert {t["jenis"] for t in r["data"]} >= {"KB", "NK", "PKS", "SK"}
    kb = api.client.get("/api/v1/templates/kb/standar", headers=api.auth("drafter")).json()
    assert any(f["name"] == "tanggal" for f in kb["fields"])
    assert api.client.get("/api/v1/templates/kb/tidakada", headers=api.auth("drafter")).status_code == 404


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (24, 110, 56)).save(out, "PNG")
    return out.getvalue()


def _pdf_info(pdf: bytes) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return {**{k: str(v) for k, v in reader.metadata.items()}, "/Lang": str(reader.trailer["/Root"].get("/Lang"))}


def test_a_partys_lambang_is_uploaded_checked_and_heads_its_naskah(api):
    case_id = create_case(api)
    url = f"/api/v1/cases/{case_id}/pihak/%d/lambang"
    lambang = _png(120, 140)
    r = api.client.put(url % 1, files={"file": ("paser.png", lambang, "image/png")}, headers=api.auth("drafter"))
    assert r.status_code == 200, r.text
    assert r.json()["urutan"] == 1 and r.json()["lambang_type"] == "image/png"
    assert r.json()["lambang_sha256"] == hashlib.sha256(lambang).hexdigest()
    refused = {
        "not_an_image": b"%PDF-1.7 bukan gambar",
        "unreadable": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "bad_size": _png(8, 8),
        "too_large": b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 1),
    }
    for reason, data in refused.items():
        r = api.client.put(url % 2, files={"file": ("x.png", data, "image/png")}, headers=api.auth("drafter"))
        assert r.status_code in (413, 422) and r.json()["detail"]["reason"] == reason, (reason, r.text)
        assert r.json()["message"] and "Error" not in r.json()["message"]
    r = api.client.put(url % 7, files={"file": ("x.png", lambang, "image/png")}, headers=api.auth("drafter"))
    assert r.status_code == 404
    r = api.client.put(url % 1, files={"file": ("x.png", lambang, "image/png")}, headers=api.auth("legal"))
    assert r.status_code == 403
    pihak = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).json()["pihak"]
    assert [p["lambang_type"] for p in pihak] == ["image/png", None]

    # the naskah: PIHAK KESATU's lambang at its head, none for PIHAK KEDUA (no broken image); the
    # dasar hukum left empty are the defaults of the jenis kerja sama
    body = naskah_body("KB")
    body["data"].pop("dasar_hukum")
    naskah = create_naskah(api, case_id, **{"data": body["data"], "nomor": body["nomor"]})
    rev = api.client.get(f"/api/v1/naskah/{naskah['id']}/revisions/1", headers=api.auth("drafter")).json()
    docx = api.client.get(rev["docx_url"], headers=api.auth("drafter")).content
    doc = Document(io.BytesIO(docx))
    assert [p.blob for p in doc.part.package.image_parts] == [lambang]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Peraturan Menteri Dalam Negeri Nomor 22 Tahun 2020" in text
    pdf = api.client.get(rev["pdf_url"], headers=api.auth("drafter")).content
    info = _pdf_info(pdf)
    assert info["/Title"] == case_body()["judul"] and info["/Author"] == "Pemerintah Kabupaten Paser"
    assert info["/Subject"] == f"Kesepakatan Bersama Nomor {body['nomor']['1']} dan {body['nomor']['2']}"
    assert info["/Lang"] == "id-ID"

    # a Word upload whose own properties say something else: the PDF still names the naskah
    doc.core_properties.title, doc.core_properties.author = "Dokumen1", "Operator"
    out = io.BytesIO()
    doc.save(out)
    r = api.client.post(
        f"/api/v1/naskah/{naskah['id']}/revisions/upload",
        files={"file": ("kb.docx", out.getvalue(), "application/octet-stream")},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 201, r.text
    uploaded = api.client.get(r.json()["docx_url"], headers=api.auth("drafter")).content
    assert uploaded == out.getvalue()  # stored exactly as uploaded
    info = _pdf_info(api.client.get(r.json()["pdf_url"], headers=api.auth("drafter")).content)
    assert info["/Title"] == case_body()["judul"] and info["/Author"] == "Pemerintah Kabupaten Paser"


def test_templates_api_shows_the_default_dasar_hukum_per_jenis(api):
    r = api.client.get("/api/v1/templates/kb/standar", headers=api.auth("drafter"))
    baku = r.json()["dasar_hukum_baku"]
    assert set(baku) == {"KSDD", "KSDPK"}
    assert any("Nomor 22 Tahun 2020" in law for law in baku["KSDD"])
