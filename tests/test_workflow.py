"""Legal review and ordered paraf over the API (SQLite/PostgreSQL × local/S3, real LibreOffice)."""

from __future__ import annotations

import hashlib
import io
import threading

from pypdf import PdfReader

from tests.test_api import create_case, create_naskah

CHAIN = ["kabag_pemerintahan", "asisten_umum", "sekda"]


def post(api, path: str, who: str, note: str | None = None):
    body = {"note": note} if note is not None else {}
    return api.client.post(f"/api/v1/naskah/{path}", json=body, headers=api.auth(who))


def approved_kb(api, cara: str | None = None) -> int:
    nid = create_naskah(api, create_case(api), cara=cara)["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    r = post(api, f"{nid}/approve", "legal")
    assert r.status_code == 200 and r.json()["status"] == "paraf", r.text
    return nid


def test_legal_review_returns_with_a_note_and_needs_a_new_revision(api):
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/approve", "legal").status_code == 409  # not submitted yet
    assert post(api, f"{nid}/submit", "legal").status_code == 403  # only the drafter submits
    assert post(api, f"{nid}/submit", "drafter").json()["status"] == "legal_review"
    r = post(api, f"{nid}/return", "legal")
    assert r.status_code == 422 and "Catatan wajib" in r.json()["message"]
    r = post(api, f"{nid}/return", "legal", "Pasal 5 ayat (2): sebutkan mekanisme perpanjangan.")
    assert r.json()["status"] == "returned"
    r = post(api, f"{nid}/submit", "drafter")
    assert r.status_code == 409 and r.json()["code"] == "action_not_available"
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render", json={"note": "perbaikan Pasal 5"}, headers=api.auth("drafter")
    )
    assert r.status_code == 201
    assert post(api, f"{nid}/submit", "drafter").json()["status"] == "legal_review"
    assert post(api, f"{nid}/approve", "legal").json()["status"] == "paraf"
    events = api.client.get(f"/api/v1/naskah/{nid}/history", headers=api.auth("secretariat")).json()["data"]
    # revision 1 (the creation) is itself a "revise" step of the lifecycle
    assert [e["action"] for e in events] == ["revise", "submit", "return", "revise", "submit", "approve"]
    assert events[2]["note"].startswith("Pasal 5") and events[2]["actor"] == "u-legal"


def test_paraf_follow_the_profile_order_and_mark_every_page(api):
    nid = approved_kb(api)
    r = post(api, f"{nid}/paraf", "sekda")
    assert r.status_code == 403 and "Belum giliran" in r.json()["message"] and "Kepala Bagian" in r.json()["message"]
    assert post(api, f"{nid}/paraf", "drafter").status_code == 403
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    r = post(api, f"{nid}/paraf", "kabag_pemerintahan")
    assert r.status_code == 409 and "sudah memberi paraf" in r.json()["message"]
    assert post(api, f"{nid}/paraf", "asisten_umum").status_code == 200
    last = post(api, f"{nid}/paraf", "sekda")
    assert last.status_code == 200, last.text

    chain = api.client.get(f"/api/v1/naskah/{nid}/paraf", headers=api.auth("drafter")).json()
    assert chain["status"] == "signing"
    assert [s["posisi"] for s in chain["steps"]] == CHAIN and all(s["status"] == "sudah" for s in chain["steps"])
    revs = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("drafter")).json()["data"]
    assert {s["paraf"]["revision_sha256"] for s in chain["steps"]} == {revs[-1]["pdf_sha256"]}

    final = api.client.get(f"/api/v1/naskah/{nid}/final.pdf", headers=api.auth("secretariat"))
    assert final.status_code == 200
    assert hashlib.sha256(final.content).hexdigest() == chain["final_pdf_sha256"] == last.json()["file_sha256"]
    reader = PdfReader(io.BytesIO(final.content))
    initials = [s["paraf"]["inisial"] for s in chain["steps"]]
    for page in reader.pages:
        text = page.extract_text()
        for inisial in initials:
            assert inisial in text
    fields = {f for f in (reader.get_fields() or {})}
    assert {"ttd_pihak_1", "ttd_pihak_2"} <= fields
    # the clean revision is untouched: stamps live only in derived files
    clean = api.client.get(revs[-1]["pdf_url"], headers=api.auth("drafter")).content
    assert hashlib.sha256(clean).hexdigest() == revs[-1]["pdf_sha256"]


def test_a_new_revision_voids_every_paraf(api):
    nid = approved_kb(api)
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render", json={"data": {"tempat": "Tanah Grogot"}}, headers=api.auth("drafter")
    )
    assert r.status_code == 201
    chain = api.client.get(f"/api/v1/naskah/{nid}/paraf", headers=api.auth("drafter")).json()
    assert chain["status"] == "draft" and all(s["status"] == "menunggu" for s in chain["steps"])
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 409  # back in drafting


def test_refused_paraf_returns_the_naskah_to_drafting_with_the_note(api):
    nid = approved_kb(api)
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    assert post(api, f"{nid}/paraf/refuse", "asisten_umum").status_code == 422  # a note is required
    r = post(api, f"{nid}/paraf/refuse", "asisten_umum", "Nama jabatan PIHAK KEDUA keliru.")
    assert r.status_code == 200 and r.json()["status"] == "draft"
    events = api.client.get(f"/api/v1/naskah/{nid}/history", headers=api.auth("drafter")).json()["data"]
    assert events[-1]["action"] == "refuse_paraf" and "PIHAK KEDUA" in events[-1]["note"]
    chain = api.client.get(f"/api/v1/naskah/{nid}/paraf", headers=api.auth("drafter")).json()
    assert all(s["status"] == "menunggu" for s in chain["steps"])


def test_only_the_official_whose_turn_it_is_may_refuse_the_paraf(api):
    """The Sekda (not yet asked) and the Kabag (who passed it on) may not send the draft back; the Asisten,
    whose turn it is, may."""
    nid = approved_kb(api)
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    for who, reason, says in (("sekda", "not_your_turn", "Asisten"), ("kabag_pemerintahan", "already_given", "sudah")):
        r = post(api, f"{nid}/paraf/refuse", who, "Keberatan.")
        assert r.status_code == 403 and r.json()["detail"]["reason"] == reason, (who, r.text)
        assert says in r.json()["message"], r.text
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()["status"] == "paraf"
    assert post(api, f"{nid}/paraf/refuse", "asisten_umum", "Keberatan.").status_code == 200


def test_two_requests_racing_for_the_same_paraf_exactly_one_succeeds(api):
    nid = approved_kb(api)
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def go():
        barrier.wait()
        codes.append(post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    chain = api.client.get(f"/api/v1/naskah/{nid}/paraf", headers=api.auth("drafter")).json()
    assert [s["status"] for s in chain["steps"]] == ["sudah", "menunggu", "menunggu"]
