"""Beranda · Tugas saya over plain HTTP (no browser): the counters and the list are exactly what
``GET /api/v1/me/tasks`` answers the same person, at every step of a naskah's life; the filter by kind;
late first and marked in words; the return note for the drafter; nothing of a naskah one may not see.

The browser's view (axe, a phone's width, the screenshot) is tests/test_web_beranda_browser.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import event
from sqlmodel import select

from api.web import render
from api.web.tugas import PER_PAGE
from pipeline.auth import create_user, issue_token
from pipeline.inbox.tasks import KIND_LABELS, Kind, kinds_of
from pipeline.models import User
from storage.db import session_scope
from tests.fixtures.app import session_jars
from tests.test_api import case_body, create_case, create_naskah
from tests.test_signing_flow import counterparty_signs
from tests.test_tasks import PEOPLE, add_counterparty_official, backdate, inbox
from tests.test_workflow import approved_kb, post

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)


# --- a browser per person, and reading the page -------------------------------------------------------


@pytest.fixture
def browsers(api) -> Iterator[dict[str, TestClient]]:
    """A cookie jar per person (a session started as sign-in would), all on the API fixture's app; a
    person is named as ``api.tokens`` names them (``drafter`` is the user ``u-drafter``)."""
    yield from session_jars(api)


def beranda(browsers, who: str, query: str = "") -> lxml_html.HtmlElement:
    r = browsers[who].get("/" + query, follow_redirects=False)
    assert r.status_code == 200, (who, r.status_code, r.text[:500])
    return lxml_html.fromstring(r.text)


def text(node) -> str:
    return " ".join(node.text_content().split())


def tiles(doc) -> dict[str, tuple[int, int, bool]]:
    """kind -> (count, late, shown muted) of each counter on the page."""
    out = {}
    for a in doc.xpath('//a[contains(concat(" ", @class, " "), " tile ")]'):
        kind = a.get("id").removeprefix("ubin-")
        count = int(text(a.xpath('.//*[@class="tile-count"]')[0]))
        note = text(a.xpath('.//*[contains(@class, "tile-note")]')[0])
        late = int(m.group(1)) if (m := re.match(r"(\d+) terlambat", note)) else 0
        out[kind] = (count, late, "tile-empty" in a.get("class"))
    return out


def tasks_on(doc) -> list[dict]:
    """Each task of the list: its naskah (from its one action link), kind, link, late mark, words."""
    out = []
    for li in doc.xpath('//ol[contains(@class, "task-list")]/li'):
        links = li.xpath(".//a")
        assert len(links) == 1, "one action link per task"
        href = links[0].get("href")
        out.append(
            {
                "naskah_id": int(re.match(r"/naskah/(\d+)", href).group(1)),
                "label": text(li.xpath('.//*[@class="task-kind"]')[0]),
                "href": href,
                "late": "task-late" in li.get("class"),
                "text": text(li),
            }
        )
    return out


def same_as_api(api, browsers, who: str) -> tuple[lxml_html.HtmlElement, dict]:
    """The page's counters and list are the API's answer for the same person: every counter with tasks
    shown, each shown counter's count and late count, the tasks in the same order with the same kind."""
    doc = beranda(browsers, who)
    body = inbox(api, who)
    shown = tiles(doc)
    for c in body["ringkasan"]:
        if c["jumlah"]:
            assert c["tugas"] in shown, (who, c)
        if c["tugas"] in shown:
            assert shown[c["tugas"]] == (c["jumlah"], c["terlambat"], c["jumlah"] == 0), (who, c)
    listed = tasks_on(doc)
    assert [(t["naskah_id"], t["label"]) for t in listed] == [(t["naskah_id"], t["tugas_label"]) for t in body["data"]]
    assert [t["late"] for t in listed] == [t["terlambat"] for t in body["data"]]
    if not body["data"]:
        assert "Tidak ada yang menunggu Anda." in text(doc.get_element_by_id("tugas-saya"))
    return doc, body


def everyone_as_api(api, browsers) -> dict[str, list[dict]]:
    return {who: tasks_on(same_as_api(api, browsers, who)[0]) for who in PEOPLE}


def case_titled(api, judul: str) -> int:
    body = case_body()
    body["judul"] = judul
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


# --- the tests -----------------------------------------------------------------------------------------


@SERVICES
def test_every_persons_counters_and_list_are_the_apis_at_each_step_of_a_kb(
    api, browsers, dev_pki, counterparty_pki, counterparty_person
):
    """A KB from drafting to the archive (returned once, three paraf, desk to desk, the Bupati): at every
    step each person's Beranda shows what GET /me/tasks answers them, and each task links to the page
    where its step is done."""
    api.services.trust_roots = [*dev_pki.roots, *counterparty_pki.roots]
    api.services.tsa_url = dev_pki.tsa_url
    add_counterparty_official(api)
    nid = create_naskah(api, create_case(api), cara="desk")["id"]

    seen = everyone_as_api(api, browsers)  # drafting: the drafter's own draft is not a task
    assert all(v == [] for v in seen.values())

    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    seen = everyone_as_api(api, browsers)
    assert [t["href"] for t in seen["kabag_hukum"]] == [f"/naskah/{nid}"]
    assert "Telaah naskah" in seen["kabag_hukum"][0]["text"]

    note = "Pasal 5 ayat (2): sebutkan mekanisme perpanjangan."
    assert post(api, f"{nid}/return", "kabag_hukum", note).status_code == 200
    seen = everyone_as_api(api, browsers)
    (returned,) = seen["drafter"]
    assert returned["href"] == f"/naskah/{nid}" and "Perbaiki rancangan" in returned["text"]
    assert "Dikembalikan oleh Hj. Nurul Hidayah" in returned["text"] and note in returned["text"]

    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render", json={"note": "perbaikan Pasal 5"}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "kabag_hukum").status_code == 200

    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        seen = everyone_as_api(api, browsers)
        assert [t["href"] for t in seen[who]] == [f"/naskah/{nid}/paraf"], who
        waiting = [w for w in ("kabag_pemerintahan", "asisten_umum", "sekda") if w != who]
        for other in waiting:  # an official whose turn it is not: nothing, and a muted zero for paraf
            assert seen[other] == [], other
            assert tiles(beranda(browsers, other))["paraf"] == (0, 0, True)
        assert post(api, f"{nid}/paraf", who).status_code == 200

    seen = everyone_as_api(api, browsers)
    assert seen["drafter"][0]["href"] == seen["secretariat"][0]["href"] == f"/naskah/{nid}"
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "desk"}, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text

    seen = everyone_as_api(api, browsers)  # desk to desk: our side sends, their official signs at home
    assert seen["secretariat"][0]["href"] == f"/naskah/{nid}/tanda-tangan"
    (theirs,) = seen["walikota_bpp"]
    assert theirs["href"] == f"/naskah/{nid}/tanda-tangan" and "Unduh dan tanda tangani" in theirs["text"]
    assert tiles(beranda(browsers, "walikota_bpp")) == {"tanda_tangan": (1, 0, False)}  # all he ever does
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    seen = everyone_as_api(api, browsers)
    assert "Impor berkas dari mitra" in seen["drafter"][0]["text"]

    returned_pdf = counterparty_signs(exported, counterparty_pki, counterparty_person)
    r = api.client.post(
        f"/api/v1/naskah/{nid}/import",
        files={"file": ("balik.pdf", returned_pdf, "application/pdf")},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 200, r.text
    seen = everyone_as_api(api, browsers)
    assert [t["href"] for t in seen["bupati"]] == [f"/naskah/{nid}/tanda-tangan"]
    assert "Tanda tangani" in seen["bupati"][0]["text"]

    p12 = dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("k")
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("b.p12", p12, "application/x-pkcs12")},
        data={"passphrase": "k"},
        headers=api.auth("bupati"),
    )
    assert r.status_code == 200, r.text
    seen = everyone_as_api(api, browsers)
    assert [t["href"] for t in seen["secretariat"]] == [f"/naskah/{nid}/tanda-tangan"] and "Arsipkan" in seen[
        "secretariat"
    ][0]["text"]
    assert api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).status_code == 201
    assert all(v == [] for v in everyone_as_api(api, browsers).values())


@SERVICES
def test_a_late_task_comes_first_marked_in_words_with_its_wait_standard_and_margin(api, browsers):
    """Paser's legal review has 30 menit: the draft submitted two hours ago is first, says "Terlambat"
    (not only a colour), how long it waited, the standard and by how much it is late."""
    fresh = create_naskah(api, create_case(api))["id"]
    old = create_naskah(api, create_case(api))["id"]
    for nid in (fresh, old):
        assert post(api, f"{nid}/submit", "drafter").status_code == 200
    backdate(api, old, "submit", dt.timedelta(hours=2))
    doc, _ = same_as_api(api, browsers, "kabag_hukum")
    first, second = tasks_on(doc)
    assert (first["naskah_id"], first["late"], second["naskah_id"], second["late"]) == (old, True, fresh, False)
    assert "Terlambat 1 jam 30 menit" in first["text"] or "Terlambat 1 jam 29 menit" in first["text"]
    assert "Menunggu 2 jam" in first["text"] and "Mutu baku 30 menit" in first["text"]
    assert "(terlewat 1 jam" in first["text"] and re.search(
        r"tenggat \d+ \w+ \d{4} pukul \d\d\.\d\d WITA", first["text"]
    )
    assert "Terlambat" not in second["text"] and "terlewat" not in second["text"] and "Baru masuk" in second["text"]
    assert tiles(doc)["telaah"] == (2, 1, False)
    assert "2 naskah menunggu Anda, 1 terlambat" in text(doc.get_element_by_id("ringkasan-tugas"))


@SERVICES
def test_a_counter_links_to_the_list_of_its_kind_and_zero_counters_stay_visible(api, browsers):
    """``/?tugas=telaah`` (a plain GET: bookmarkable, works without JavaScript) lists that kind only; every
    counter the person can hold is shown, a zero one muted; an unknown kind is a 422 page, not a 500."""
    with session_scope(api.services.engine) as session:
        both = create_user(
            session, username="rangkap", nama="Rangkap Jabatan", jabatan="Analis", roles=["drafter", "legal"]
        )
        api.tokens["rangkap"] = issue_token(session, both)
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    mine = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{mine}/submit", "drafter").status_code == 200
    assert post(api, f"{mine}/return", "legal", "Lengkapi lampiran.").status_code == 200
    r = api.client.post(f"/api/v1/naskah/{mine}/drafters", json={"username": "rangkap"}, headers=api.auth("admin"))
    assert r.status_code in (200, 201), r.text

    doc, _ = same_as_api(api, browsers, "rangkap")
    assert {t["naskah_id"] for t in tasks_on(doc)} == {nid, mine}
    shown = tiles(doc)
    assert list(shown) == ["telaah", "rencana_ttd", "kirim_mitra", "impor", "dikembalikan"]  # what he can hold
    assert shown["impor"] == (0, 0, True) and shown["telaah"] == (1, 0, False)
    link = doc.get_element_by_id("ubin-telaah")
    assert link.get("href").startswith("/?tugas=telaah") and link.get("hx-get") == "/?tugas=telaah"

    only = beranda(browsers, "rangkap", "?tugas=telaah")
    assert [t["naskah_id"] for t in tasks_on(only)] == [nid]
    assert only.get_element_by_id("ubin-telaah").get("aria-current") == "true"
    assert tiles(only) == shown  # the counters stay whole under a filter
    assert "Tampilkan semua tugas" in text(only.get_element_by_id("tugas-saya"))
    none = beranda(browsers, "rangkap", "?tugas=arsip")
    assert tasks_on(none) == [] and "Tidak ada tugas “Arsipkan” yang menunggu Anda." in text(none)

    bad = browsers["rangkap"].get("/?tugas=%3Cscript%3E")
    assert bad.status_code == 422 and "Jenis tugas" in bad.text and "<script>" not in bad.text
    for query in ("?halaman=abc", "?halaman=0", "?tugas=" + "x" * 500):
        assert browsers["rangkap"].get("/" + query).status_code == 422, query
    assert tasks_on(beranda(browsers, "rangkap", "?halaman=99")) == tasks_on(doc)  # past the end: the last page


@SERVICES
def test_a_long_inbox_is_cut_into_pages_late_first(api, browsers):
    """More than a page of tasks: the first page holds the oldest (the late ones), page two the rest."""
    ids = []
    for _ in range(PER_PAGE + 2):
        nid = create_naskah(api, create_case(api))["id"]
        assert post(api, f"{nid}/submit", "drafter").status_code == 200
        ids.append(nid)
    backdate(api, ids[-1], "submit", dt.timedelta(hours=3))
    first = tasks_on(beranda(browsers, "legal"))
    assert len(first) == PER_PAGE and first[0]["naskah_id"] == ids[-1] and first[0]["late"]
    second = tasks_on(beranda(browsers, "legal", "?halaman=2"))
    api_order = [t["naskah_id"] for t in inbox(api, "legal")["data"]]
    assert [t["naskah_id"] for t in first + second] == api_order


@SERVICES
def test_no_one_sees_anything_of_a_naskah_they_may_not_see(api, browsers):
    """Least privilege: the counterparty's official sees nothing before a signature plan names him, not
    even a title in the kerja sama list; another drafter gets no task and no note of a naskah he does
    not draft; the officials later in the paraf chain see nothing before their turn."""
    add_counterparty_official(api)
    secret_title = "Kerja Sama Rahasia Pengelolaan Tapal Batas"
    note = "Catatan internal: hapus klausul ganti rugi."
    nid = create_naskah(api, case_titled(api, secret_title))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/return", "kabag_hukum", note).status_code == 200
    with session_scope(api.services.engine) as session:
        other = create_user(session, username="analis2", nama="Analis Lain", jabatan="Analis", roles=["drafter"])
        api.tokens["analis2"] = issue_token(session, other)

    page_of_partner = beranda(browsers, "walikota_bpp")
    assert secret_title not in text(page_of_partner) and note not in text(page_of_partner)
    assert tasks_on(page_of_partner) == [] and "0 kerja sama" in text(page_of_partner)
    page_of_other = beranda(browsers, "analis2")
    assert tasks_on(page_of_other) == [] and note not in text(page_of_other)
    (task,) = tasks_on(beranda(browsers, "drafter"))
    assert note in task["text"]

    later = approved_kb(api)  # paraf: the Sekda's turn comes third
    page_of_sekda = beranda(browsers, "sekda")
    assert all(t["naskah_id"] != later for t in tasks_on(page_of_sekda))


@SERVICES
def test_an_administrators_beranda_says_no_task_is_theirs_instead_of_an_error(api, browsers):
    doc = beranda(browsers, "admin")
    section = text(doc.get_element_by_id("tugas-saya"))
    assert "tidak memegang peran dalam alur naskah" in section and tiles(doc) == {}


@SERVICES
def test_the_counters_are_the_kinds_each_person_can_hold(api):
    """What the page shows a counter for, by role: a Bupati watches his signatures, not the archive."""
    profile = api.services.profile
    with session_scope(api.services.engine) as session:
        people = {u.username.removeprefix("u-"): u for u in session.exec(select(User)).all()}
        for u in people.values():
            session.expunge(u)
    assert kinds_of(people["kabag_hukum"], profile) == [Kind.TELAAH]
    assert kinds_of(people["sekda"], profile) == [Kind.PARAF]
    assert kinds_of(people["bupati"], profile) == [Kind.TANDA_TANGAN]
    assert kinds_of(people["secretariat"], profile) == [Kind.RENCANA_TTD, Kind.KIRIM_MITRA, Kind.IMPOR, Kind.ARSIP]
    assert Kind.DIKEMBALIKAN in kinds_of(people["drafter"], profile)
    assert kinds_of(people["admin"], profile) == []
    assert set(KIND_LABELS) == set(Kind)


@SERVICES
def test_a_page_request_holds_one_database_connection_at_a_time(api, browsers):
    """The layout's header (unread notifications) reads through the route's own session: a page never
    holds two connections at once, or 32 sessions asking together would take a worker's whole pool and
    wait on one another until its timeout (503; bench/web.py's saturated phase did)."""
    engine = api.services.engine
    out = {"now": 0, "peak": 0}

    def checkout(*_args) -> None:
        out["now"] += 1
        out["peak"] = max(out["peak"], out["now"])

    def checkin(*_args) -> None:
        out["now"] -= 1

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        for path in ("/", "/arsip", "/arsip?q=sampah", "/kerja-sama", "/notifikasi"):
            out["peak"] = out["now"] = 0
            r = browsers["drafter"].get(path, follow_redirects=False)
            assert r.status_code == 200, (path, r.status_code)
            assert out["peak"] == 1, (path, out["peak"])
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


@SERVICES
def test_the_header_counts_unread_notifications_after_the_routes_session_ended_or_rolled_back(
    api, browsers, caplog, monkeypatch
):
    """An error page is rendered after the route's session has ended (its dependency ends before the
    response): the header then counts on a short connection of its own, never through the closed
    session.  A form refused after the route rolled its session back counts through that session, in a
    new transaction.  Either way the badge is right and nothing is logged as not counted."""
    from pipeline.models import Notifikasi
    from tests.test_web_admin import new_user_form
    from tests.test_web_admin import post as post_form

    with session_scope(api.services.engine) as session:
        for username in ("u-drafter", "u-admin"):
            user = session.exec(select(User).where(User.username == username)).one()
            session.add(
                Notifikasi(
                    user_id=user.id,
                    kind="info",
                    kunci=f"uji:{username}",
                    subject="Uji",
                    body_text="Uji",
                    body_html="",
                    link="/",
                )
            )
    caplog.set_level(logging.WARNING, logger="api.web.render")
    counted: list[str] = []  # how each page counted: "route" (its session) or "own" (a connection of its own)
    for name, how in (("unread_count", "route"), ("unread_count_now", "own")):
        real = getattr(render, name)
        monkeypatch.setattr(render, name, lambda *a, _real=real, _how=how: counted.append(_how) or _real(*a))

    def badge(html: str) -> str:
        return lxml_html.fromstring(html).get_element_by_id("notifikasi-jumlah").text_content().split()[0]

    for path, status, how in (
        ("/", 200, "route"),
        ("/naskah/999999/tanda-tangan", 404, "own"),  # the error page: rendered after the session ended
        ("/kerja-sama/999999", 404, "own"),
    ):
        counted.clear()
        r = browsers["drafter"].get(path, follow_redirects=False)
        assert r.status_code == status, (path, r.status_code)
        assert badge(r.text) == "1" and counted == [how], (path, counted)
    counted.clear()
    r = post_form(browsers["admin"], "/admin/pengguna/baru", new_user_form(password="pendek"), "/admin/pengguna/baru")
    assert r.status_code == 422 and "Ada masalah" in r.text  # the route rolled back, then rendered the form
    assert badge(r.text) == "1" and counted[-1] == "route"
    assert "not counted" not in caplog.text
