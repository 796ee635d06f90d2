"""The audit trail's pages over plain HTTP (no browser): a naskah's timeline (newest first, who with their
jabatan, what in Indonesian, when in the profile's zone, the revision, the file's sha256 prefix, the reason
of a refusal) is ``GET /api/v1/naskah/{id}/audit`` reversed; the whole trail's filters and counts are
``GET /api/v1/audit``'s; only who may see the naskah sees its timeline (404 otherwise, as the API), only
admin, the secretariat and Bagian Hukum the whole trail (403 otherwise); "Periksa rantai" reports the
chain intact, then the first broken entry once a row is edited in the database, and each check is
itself an entry.

The browser's view (timeline, filtering, the button, axe, a phone's width) is
tests/test_web_audit_browser.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from lxml import html as lxml_html
from sqlmodel import select

from pipeline import audit
from pipeline.models import AuditEntry, User
from storage.db import session_scope
from tests.test_access import add_users
from tests.test_api import create_case, create_naskah
from tests.test_web import page_csrf
from tests.test_web_beranda import browsers
from tests.test_workflow import post

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
# the filters are SQL (LIKE on the JSON detail, dates in the profile's zone): the same answers on PostgreSQL
BOTH_DATABASES = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)

__all__ = ["browsers"]

NOTE = "Pasal 4 belum memuat jangka waktu; lengkapi."


def doc_of(client, path: str, status: int = 200, **params):
    r = client.get(path, params=params or None, follow_redirects=False)
    assert r.status_code == status, (path, r.status_code, r.text[:500])
    return lxml_html.fromstring(r.text)


def text(node) -> str:
    return " ".join(" ".join(node.itertext()).split())


def entry_seqs(doc) -> list[int]:
    return [int(i.removeprefix("entri-")) for i in doc.xpath("//ol[contains(@class,'jejak')]/li/@id")]


def api_trail(api, nid: int, who: str = "drafter") -> list[dict]:
    r = api.client.get(f"/api/v1/naskah/{nid}/audit", params={"limit": 200}, headers=api.auth(who))
    assert r.status_code == 200, r.text
    return r.json()["data"]


def api_list(api, who: str = "secretariat", **params) -> tuple[list[int], int]:
    r = api.client.get("/api/v1/audit", params={"limit": 200, **params}, headers=api.auth(who))
    assert r.status_code == 200, r.text
    return [e["seq"] for e in r.json()["data"]], r.json()["count"]


def returned_naskah(api) -> dict:
    """A KB drafted, submitted and returned by Bagian Hukum with a note."""
    naskah = create_naskah(api, create_case(api))
    assert post(api, f"{naskah['id']}/submit", "drafter").status_code == 200
    assert post(api, f"{naskah['id']}/return", "legal", NOTE).status_code == 200
    return naskah


def downloads(api, nid: int | None, n: int, who: str = "u-drafter", at: dt.datetime | None = None) -> None:
    with session_scope(api.services.engine) as session:
        user = session.exec(select(User).where(User.username == who)).one()
        for i in range(n):
            audit.record(session, user, audit.AuditAction.DOWNLOAD, naskah_id=nid, at=at, file=f"unduhan-{i}.pdf")


# --- a naskah's timeline --------------------------------------------------------------------------


@SERVICES
def test_the_timeline_is_the_naskahs_trail_newest_first_with_who_what_when_and_the_reason(api, browsers):
    naskah = returned_naskah(api)
    nid = naskah["id"]
    trail = api_trail(api, nid)
    doc = doc_of(browsers["drafter"], f"/naskah/{nid}/jejak")
    assert entry_seqs(doc) == [e["seq"] for e in reversed(trail)]
    assert f"{len(trail)} entri" in text(doc.xpath("//p[contains(@class,'result-count')]")[0])

    items = {int(li.get("id").removeprefix("entri-")): li for li in doc.xpath("//ol[contains(@class,'jejak')]/li")}
    by_action = {e["action"]: e for e in trail}
    revise = text(items[by_action["revise"]["seq"]])
    assert "Pengguna drafter membuat revisi" in revise and "Pejabat" in revise  # name, then jabatan
    assert "Revisi 1" in revise and by_action["revise"]["sha256"][:12] in revise
    assert "WITA" in revise  # the Paser profile's zone
    at = dt.datetime.fromisoformat(by_action["revise"]["at"]).astimezone(api.services.profile.tz)
    assert f"{at:%H.%M}" in revise
    back = items[by_action["return"]["seq"]]
    assert "Pengguna legal mengembalikan rancangan" in text(back)
    assert f"Alasan: {NOTE}" in text(back) and "Telaah Bagian Hukum → Dikembalikan untuk perbaikan" in text(back)
    assert "riwayat-kembali" in back.get("class")
    assert "membuat naskah" in text(items[by_action["create_naskah"]["seq"]])

    # linked from the naskah page
    page = doc_of(browsers["drafter"], f"/naskah/{nid}")
    assert page.xpath(f"//a[@href='/naskah/{nid}/jejak']")


@SERVICES
def test_the_timeline_is_paginated_with_counts(api, browsers):
    nid = create_naskah(api, create_case(api))["id"]
    downloads(api, nid, 30)
    total = len(api_trail(api, nid))
    assert total > 30
    first = doc_of(browsers["drafter"], f"/naskah/{nid}/jejak")
    second = doc_of(browsers["drafter"], f"/naskah/{nid}/jejak", halaman="2")
    assert len(entry_seqs(first)) == 25 and len(entry_seqs(second)) == total - 25
    assert entry_seqs(first) + entry_seqs(second) == sorted((e["seq"] for e in api_trail(api, nid)), reverse=True)
    assert f"{total} entri · menampilkan 1–25 · halaman 1 dari 2" in text(first.xpath("//p[@role='status']")[0])
    assert first.xpath(f"//a[@rel='next'][@href='/naskah/{nid}/jejak?halaman=2']")
    assert "menampilkan 26–" in text(second.xpath("//p[@role='status']")[0])


@SERVICES
def test_only_who_may_see_the_naskah_sees_its_timeline_as_the_api_answers(api, browsers):
    add_users(api)  # kadis.dlh: the case's OPD; kadis.hub: another OPD
    nid = create_naskah(api, create_case(api))["id"]
    with session_scope(api.services.engine) as session:
        from pipeline.auth import issue_token

        for username in ("kadis.dlh", "kadis.hub", "walikota.bpp"):
            api.tokens[username] = issue_token(
                session, session.exec(select(User).where(User.username == username)).one()
            )
    for who, status in (("kadis.dlh", 200), ("kadis.hub", 404), ("u-signer", 404), ("walikota.bpp", 404)):
        r = browsers[who].get(f"/naskah/{nid}/jejak", follow_redirects=False)
        api_status = api.client.get(f"/api/v1/naskah/{nid}/audit", headers=api.auth(who.removeprefix("u-"))).status_code
        assert (r.status_code, api_status) == (status, status), who
    missing = browsers["kadis.hub"].get("/naskah/999999/jejak")
    hidden = browsers["kadis.hub"].get(f"/naskah/{nid}/jejak")
    assert missing.status_code == hidden.status_code == 404
    assert re.sub(r"\d+", "N", text(lxml_html.fromstring(missing.text).xpath("//main")[0])) == re.sub(
        r"\d+", "N", text(lxml_html.fromstring(hidden.text).xpath("//main")[0])
    )


# --- the whole trail --------------------------------------------------------------------------------


@SERVICES
def test_only_admin_secretariat_and_bagian_hukum_read_the_whole_trail_and_see_it_in_the_menu(api, browsers):
    add_users(api)
    returned_naskah(api)
    for who in ("secretariat", "legal", "kabag_hukum", "admin"):
        doc = doc_of(browsers[who], "/audit")
        assert doc.xpath("//nav//a[@href='/audit']"), who
        assert entry_seqs(doc), who
    for who in ("drafter", "paraf", "signer", "kadis.dlh", "walikota.bpp", "kabag_pemerintahan"):
        r = browsers[who].get("/audit", follow_redirects=False)
        assert r.status_code == 403, (who, r.status_code)
        assert "Bagian Hukum" in r.text
        assert not doc_of(browsers[who], "/").xpath("//nav//a[@href='/audit']"), who
    for who in ("drafter", "signer", "paraf"):
        assert api.client.get("/api/v1/audit", headers=api.auth(who)).status_code == 403
        r = api.client.post("/api/v1/audit/periksa", headers=api.auth(who))
        assert r.status_code == 403 and r.json()["detail"]["reason"] == "audit_readers_only"
    token = page_csrf(browsers["drafter"], "/")
    r = browsers["drafter"].post("/audit/periksa", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403


@BOTH_DATABASES
def test_the_whole_trails_filters_and_counts_are_the_apis(api, browsers):
    naskah = returned_naskah(api)
    nid = naskah["id"]
    other = create_naskah(api, create_case(api))["id"]
    # an entry late on 10 January UTC is 11 January in WITA: the date filters are the profile's days
    downloads(api, other, 2, who="u-secretariat", at=dt.datetime(2026, 1, 10, 23, 30, tzinfo=dt.UTC))
    nomor_part = naskah["nomor"]["1"].split("/")[1] + "/Tapem"
    cases = (
        {},
        {"action": "download"},
        {"action": "return"},
        {"actor": "u-legal"},
        {"actor": "u-secretariat", "action": "download"},
        {"naskah": str(nid)},
        {"naskah": nomor_part},
        {"dari": "2026-01-11", "sampai": "2026-01-11"},
        {"sampai": "2026-01-10"},
        {"q": "unduhan-1"},
        {"q": "jangka waktu"},
        {"q": naskah_sha(api, nid)[:10]},
    )
    for params in cases:
        doc = doc_of(browsers["secretariat"], "/audit", **params)
        seqs, count = api_list(api, **params)
        assert entry_seqs(doc) == seqs, params
        shown = text(doc.xpath("//p[@role='status']")[0])
        assert shown.startswith(f"{count} entri"), (params, shown)
    assert api_list(api, dari="2026-01-11", sampai="2026-01-11")[1] == 2
    assert api_list(api, sampai="2026-01-10")[1] == 0
    assert api_list(api, action="return")[1] == 1
    returned = api_list(api, q="jangka waktu")[0]
    assert len(returned) == 1
    seqs, count = api_list(api, naskah=nomor_part)
    assert count and all(e["seq"] in seqs for e in api_trail(api, nid))
    assert not set(seqs) & {e["seq"] for e in api_trail(api, other)}

    # a bad filter is said on the form (422), as the API refuses it
    doc = doc_of(browsers["secretariat"], "/audit", status=422, dari="2026-02-01", sampai="2026-01-01")
    assert "Ada masalah" in text(doc) and "sesudah" in text(doc)
    r = api.client.get("/api/v1/audit", params={"action": "hapus"}, headers=api.auth("secretariat"))
    assert r.status_code == 422 and "tidak dikenal" in r.text


def naskah_sha(api, nid: int) -> str:
    return next(e["sha256"] for e in api_trail(api, nid) if e["action"] == "revise")


@SERVICES
def test_the_whole_trail_is_paginated_newest_first_with_counts(api, browsers):
    nid = create_naskah(api, create_case(api))["id"]
    downloads(api, nid, 60)
    seqs, count = api_list(api)
    assert seqs == sorted(seqs, reverse=True) and count == len(seqs) > 60
    pages = -(-count // 25)
    seen: list[int] = []
    for n in range(1, pages + 1):
        doc = doc_of(browsers["secretariat"], "/audit", halaman=str(n))
        seen += entry_seqs(doc)
        assert f"halaman {n} dari {pages}" in text(doc.xpath("//p[@role='status']")[0])
    assert seen == seqs
    doc = doc_of(browsers["secretariat"], "/audit", action="download", halaman="2")
    assert doc.xpath("//a[@rel='next'][@href='/audit?action=download&halaman=3']")
    assert doc.xpath("//a[@rel='prev'][@href='/audit?action=download&halaman=1']")
    assert "60 entri cocok dengan saringan · menampilkan 26–50 · halaman 2 dari 3" in text(
        doc.xpath("//p[@role='status']")[0]
    )


# --- Periksa rantai -----------------------------------------------------------------------------------


def periksa(client) -> lxml_html.HtmlElement:
    token = page_csrf(client, "/audit")
    r = client.post("/audit/periksa", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert re.fullmatch(r"/audit\?periksa=\d+#rantai", r.headers["location"])
    return doc_of(client, r.headers["location"].split("#")[0])


@SERVICES
def test_periksa_rantai_reports_the_chain_intact_then_the_first_edited_entry_and_each_check_is_recorded(api, browsers):
    returned_naskah(api)
    doc = periksa(browsers["secretariat"])
    result = text(doc.xpath("//*[@id='hasil-rantai']")[0])
    with session_scope(api.services.engine) as session:
        count = session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()
    assert f"Rantai utuh: {count - 1} entri diperiksa" in result  # the check's own entry came after it
    assert "Pengguna secretariat" in result and f"entri {count}" in result
    check = api.client.get("/api/v1/audit", params={"action": "verify_chain"}, headers=api.auth("admin")).json()
    assert check["count"] == 1 and check["data"][0]["actor"] == "u-secretariat"
    assert check["data"][0]["detail"]["ok"] is True and check["data"][0]["detail"]["count"] == count - 1

    # someone edits an entry in the database: the next check names it, in words
    with session_scope(api.services.engine) as session:
        session.execute(sa.text("UPDATE audit_entry SET actor = 'penyusup' WHERE seq = 3"))
    doc = periksa(browsers["legal"])
    result = text(doc.xpath("//*[@id='hasil-rantai']")[0])
    assert "Rantai rusak pada entri 3." in result and "Entri 3 diubah" in result
    assert "2 entri sebelum itu utuh" in result
    assert "alert-danger" in doc.xpath("//*[@id='hasil-rantai']")[0].get("class")

    r = api.client.post("/api/v1/audit/periksa", headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False and body["bottom_line"] == "broken" and body["count"] == 2
    assert body["broken"] == {"seq": 3, "problem": "edited", "message": body["broken"]["message"]}
    assert "Entri 3 diubah" in body["broken"]["message"] and body["entry_seq"] > count
    # reloading the result page shows the recorded check; it does not check again
    before = api_list(api, action="verify_chain")[1]
    doc_of(browsers["legal"], "/audit", periksa=str(body["entry_seq"]))
    assert api_list(api, action="verify_chain")[1] == before == 3


@SERVICES
def test_periksa_rantai_needs_the_forms_csrf_token(api, browsers):
    r = browsers["secretariat"].post("/audit/periksa", data={}, follow_redirects=False)
    assert r.status_code == 403
    assert api_list(api, action="verify_chain")[1] == 0
