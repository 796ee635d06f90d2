"""Notifications of the intake and of monev against a REAL SMTP server (aiosmtpd) in the test process.

At each step of an usulan (recorded, disposed down the chain, to the analis, the meeting held, the
decision) and of a monev round (assigned, report due, returned, to process, to evaluate, tindak lanjut
items, ready to close, the alerts) the right person gets the right mail and nobody else; the link is the
usulan's or the round's page, opened with the public address filled in at sending time; no note's text,
no document, no token; a stopped server delays without losing; reminders and alerts come once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select

from pipeline.inbox import flows as notify_flows
from pipeline.inbox import notifications
from pipeline.models import MonevRound, Notifikasi, User, Usulan
from storage.db import session_scope
from storage.mail import Mailer
from tests.test_intake import a_docx, hasil, intake, penawaran, upload  # noqa: F401 (intake: a fixture)
from tests.test_intake import post as intake_post
from tests.test_monev import LAPORAN, _agreement, _penugasan, _people, _today
from tests.test_notifications import DOMAIN, PUBLIC, Received, SmtpServer, _free_port, csrf_of, web_client, who

SQLITE = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
INTAKE_SQLITE = pytest.mark.parametrize("intake", ["sqlite-local"], indirect=True)
M = "/api/v1/monev"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(_free_port())
    server.start()
    yield server
    server.stop()


def with_mail(api) -> None:
    api.services.public_url = PUBLIC
    with session_scope(api.services.engine) as session:
        for user in session.exec(select(User)).all():
            user.email = f"{user.username}@{DOMAIN}"
            session.add(user)


def deliver(api, smtp: SmtpServer, now: dt.datetime | None = None) -> notifications.SendReport:
    svc = api.services
    return notifications.send_due(svc.engine, Mailer(smtp.config), svc.profile, now, public_url=PUBLIC)


def rows(api, **where) -> list[Notifikasi]:
    with Session(api.services.engine) as session:
        query = select(Notifikasi).order_by(col(Notifikasi.id))
        for k, v in where.items():
            query = query.where(getattr(Notifikasi, k) == v)
        return list(session.exec(query).all())


def check(api, got: list[Received], kind: str, path: str, expected: set[str], *, forbidden: tuple[str, ...] = ()):
    """Exactly ``expected`` got one mail each of ``kind``, linking ``path`` at the public address, with
    nothing secret or attached; ``forbidden``: texts (notes) that must not be in it."""
    assert who(got) == expected, (kind, who(got))
    assert len(got) == len(expected), [m.subject for m in got]
    label = notifications.KIND_LABELS[notifications.Kind(kind)]
    for m in got:
        assert label in m.subject, m.subject
        assert m.text.startswith("Yth. ") and f"Buka halamannya: {PUBLIC}{path}" in m.text.splitlines(), m.text
        assert f"href='{PUBLIC}{path}'" in m.html
        assert notifications.BASE_MARK not in m.raw.decode("utf-8", "replace")
        assert m.attachments == 0 and b"%PDF" not in m.raw
        raw = m.raw.decode("utf-8", "replace")
        for secret in (*api.tokens.values(), *forbidden):
            assert secret not in raw, secret


def step(api, smtp: SmtpServer, kind: str, path: str, expected: set[str], now: dt.datetime | None = None, **kw) -> None:
    report = deliver(api, smtp, now)
    got = smtp.take()
    if not expected:
        assert got == [] and report.sent == 0, [m.subject for m in got]
        return
    check(api, got, kind, path, expected, **kw)
    assert report.sent == len(expected)


# --- the intake -------------------------------------------------------------------------------------------


def _record(api, pdf: bytes) -> int:
    created = intake_post(api, "tu", "", penawaran())
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    assert upload(api, "tu", uid, "surat", "surat.pdf", pdf).status_code == 201
    assert upload(api, "tu", uid, "kak", "kak.docx", a_docx()).status_code == 201
    return uid


@INTAKE_SQLITE
def test_each_intake_step_mails_exactly_whose_turn_it_is(intake, smtp):  # noqa: F811
    api = intake
    with_mail(api)
    uid = _record(api, api.services.converter.to_pdf(a_docx("Surat penawaran")))
    page = f"/usulan/{uid}"
    step(api, smtp, "disposisi", page, {"bupati"})  # recorded by Tata Usaha: the Bupati's disposisi
    notes = []
    for actor, nxt in (("bupati", "sekda"), ("sekda", "kabag")):
        note = f"Catatan rahasia {actor}: kaji bersama TKKSD"
        notes.append(note)
        assert intake_post(api, actor, f"/{uid}/disposisi", {"note": note}).status_code == 200
        step(api, smtp, "disposisi", page, {nxt}, forbidden=tuple(notes))
    assert intake_post(api, "kabag", f"/{uid}/disposisi", {"note": "Analis: telaah"}).status_code == 200
    step(api, smtp, "usulan_telaah", page, {"analis"}, forbidden=(*notes, "Analis: telaah"))

    # the analis's own steps are nobody else's turn: no mail
    assert intake_post(api, "analis", f"/{uid}/telaah", {"telaah": "Telaah: layak."}, "PUT").status_code == 200
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert (
        intake_post(api, "analis", f"/{uid}/rapat", {"waktu": when, "tempat": "Ruang Rapat"}, "PUT").status_code == 200
    )
    step(api, smtp, "usulan_rapat", page, set())
    # the meeting was held an hour ago and its berita acara is not recorded: the analis is told, once
    svc = api.services
    now = dt.datetime.now(dt.UTC)
    with session_scope(svc.engine) as session:
        assert notifications.remind(session, svc.profile, now) == 1
    with session_scope(svc.engine) as session:
        assert notifications.remind(session, svc.profile, now) == 0
    step(api, smtp, "usulan_rapat", page, {"analis"})

    hasil(api, uid, "setuju")
    with session_scope(svc.engine) as session:  # recorded: no further berita acara reminder
        assert notifications.remind(session, svc.profile, now + dt.timedelta(minutes=1)) == 0
    assert intake_post(api, "analis", f"/{uid}/rekomendasi", {"note": "TKKSD: setuju"}).status_code == 200
    step(api, smtp, "keputusan", page, {"bupati"}, forbidden=("TKKSD: setuju",))
    r = intake_post(api, "bupati", f"/{uid}/keputusan", {"setuju": True, "note": "Setuju"})
    assert r.status_code == 200, r.text
    step(api, smtp, "keputusan", page, set())  # decided: nobody's turn

    # every notification is about the usulan, each recipient may open it, and nobody else was told
    told = rows(api)
    assert told and all(r.usulan_id == uid and r.naskah_id is None and r.link == page for r in told)
    with Session(svc.engine) as session:
        names = {u.username for u in session.exec(select(User).where(col(User.id).in_({r.user_id for r in told})))}
    assert names == {"bupati", "sekda", "kabag", "analis"}
    for name in names:
        assert api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth(name)).status_code == 200
    body = api.client.get("/api/v1/me/notifications", headers=api.auth("bupati")).json()
    assert [(n["kind"], n["usulan_id"], n["link"]) for n in body["data"]] == [
        ("keputusan", uid, page),
        ("disposisi", uid, page),
    ]
    assert notifications.BASE_MARK not in body["data"][0]["body_text"]
    assert f"{PUBLIC}{page}" in body["data"][0]["body_text"]


@INTAKE_SQLITE
def test_an_intake_turn_past_its_mutu_baku_is_reminded_once_and_the_digest_lists_it(intake, smtp):  # noqa: F811
    api = intake
    with_mail(api)
    svc = api.services
    uid = _record(api, api.services.converter.to_pdf(a_docx("Surat penawaran")))
    deliver(api, smtp)
    smtp.take()
    now = dt.datetime.now(dt.UTC)
    with session_scope(svc.engine) as session:
        assert notifications.remind(session, svc.profile, now) == 0  # 60 menit: not late yet
    with session_scope(svc.engine) as session:  # two hours later, the Bupati has not disposed it
        usulan = session.get(Usulan, uid)
        assert usulan is not None
        usulan.turn_since -= dt.timedelta(hours=2)
        session.add(usulan)
    for expected in (1, 0):
        with session_scope(svc.engine) as session:
            assert notifications.remind(session, svc.profile, now) == expected
    report = deliver(api, smtp)
    got = smtp.take()
    check(api, got, "pengingat", f"/usulan/{uid}", {"bupati"})
    assert report.sent == 1 and "Terlambat:" in got[0].text and "melewati mutu baku" in got[0].text

    with session_scope(svc.engine) as session:
        assert notifications.digest(session, svc.profile, now, public_url=PUBLIC) == 1  # the Bupati alone
    with session_scope(svc.engine) as session:
        assert notifications.digest(session, svc.profile, now, public_url=PUBLIC) == 0
    deliver(api, smtp)
    [m] = smtp.take()
    assert m.to == [f"bupati@{DOMAIN}"] and "Ringkasan harian" in m.subject
    assert "1 usulan kerja sama" in m.text and "(TERLAMBAT)" in m.text and f"{PUBLIC}/usulan/{uid}" in m.text


@INTAKE_SQLITE
def test_a_stopped_smtp_server_delays_intake_mail_without_losing_it(intake, smtp):  # noqa: F811
    api = intake
    with_mail(api)
    smtp.stop()
    uid = _record(api, api.services.converter.to_pdf(a_docx("Surat penawaran")))  # the step does not wait
    assert intake_post(api, "bupati", f"/{uid}/disposisi", {"note": "Sekda: kaji"}).status_code == 200
    report = deliver(api, smtp)
    assert report.sent == 0 and report.deferred >= 1 and report.error
    assert all(r.mail_status == "antre" and r.last_error for r in rows(api))
    smtp.start()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    report = deliver(api, smtp, later)
    got = smtp.take()
    assert report.sent == 2 and sorted(who(got)) == ["bupati", "sekda"] and len(got) == 2
    assert deliver(api, smtp, later + dt.timedelta(hours=1)).sent == 0 and smtp.take() == []


@INTAKE_SQLITE
def test_who_may_no_longer_see_the_usulan_is_not_mailed(intake, smtp):  # noqa: F811
    api = intake
    with_mail(api)
    _record(api, api.services.converter.to_pdf(a_docx("Surat penawaran")))
    with session_scope(api.services.engine) as session:  # the Bupati's account moves to another post
        user = session.exec(select(User).where(User.username == "bupati")).one()
        user.posisi, user.roles = "", "paraf"
        session.add(user)
    assert deliver(api, smtp).skipped == 1 and smtp.take() == []
    [row] = rows(api)
    assert row.mail_status == "tidak_dikirim" and row.last_error == "tidak lagi berhak melihat usulan"


# --- monev ------------------------------------------------------------------------------------------------


def _post(api, who_: str, path: str, json: dict | None = None, **kw):
    r = api.client.post(f"{M}{path}", json=json, headers=api.auth(who_), **kw)
    assert r.status_code in (200, 201), r.text
    return r.json()


@SQLITE
def test_each_monev_step_mails_exactly_whoever_acts_next(api, smtp):
    _people(api)
    with_mail(api)
    svc = api.services
    arsip_id = _agreement(api)
    today = _today(api)
    rid = _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api))["id"]
    page = f"/monev/{rid}"
    step(api, smtp, "monev_tugas", page, {"katim", "analis"})
    _post(api, "katim", f"/{rid}/jadwal", {"bahan": "Data", "jadwal": today.isoformat()})
    step(api, smtp, "monev_laporan", page, {"opd-dlh"})  # the OPD teknis: not another OPD, not the mitra
    report = api.client.post(f"{M}/{rid}/laporan", data=LAPORAN, headers=api.auth("opd-dlh"))
    assert report.status_code == 200, report.text
    step(api, smtp, "monev_olah", page, {"katim", "analis"}, forbidden=(LAPORAN["kendala"],))
    _post(api, "analis", f"/{rid}/kembalikan", {"catatan": "Lampirkan foto armada rahasia."})
    step(api, smtp, "monev_laporan", page, {"opd-dlh"}, forbidden=("foto armada rahasia",))
    assert api.client.post(f"{M}/{rid}/laporan", data=LAPORAN, headers=api.auth("opd-dlh")).status_code == 200
    step(api, smtp, "monev_olah", page, {"katim", "analis"})
    _post(api, "katim", f"/{rid}/olah", {"hasil_olah": "Rekap"})
    step(api, smtp, "monev_evaluasi", page, {"kabag_pemerintahan"})
    _post(api, "kabag_pemerintahan", f"/{rid}/evaluasi", {"temuan": ["x"], "penilaian": "cukup", "evaluasi": "y"})
    step(api, smtp, "monev_arahan", page, set())  # the Kabag's own next step: not told of it
    arahan = {
        "arahan": "Tambah armada.",
        "tindak_lanjut": [
            {"uraian": "Usulan truk", "penanggung_jawab": "opd_teknis", "tenggat": today.isoformat()},
            {"uraian": "Surat mitra", "penanggung_jawab": "analis", "tenggat": today.isoformat()},
        ],
    }
    items = _post(api, "kabag_pemerintahan", f"/{rid}/arahan", arahan)["tindak_lanjut"]
    deliver(api, smtp)
    got = smtp.take()
    check(api, got, "monev_tindak_lanjut", page, {"opd-dlh", "analis"})
    [to_opd] = [m for m in got if m.to == [f"opd-dlh@{DOMAIN}"]]
    assert "OPD Anda bertanggung jawab atas tindak lanjut nomor 1" in to_opd.text

    # two days on both items are overdue: each answerer gets the alert once, nobody else
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    for expected in (2, 0):
        with session_scope(svc.engine) as session:
            assert notify_flows.monev_alerts(session, svc.profile, later) == expected
    step(api, smtp, "monev_tl_terlambat", page, {"opd-dlh", "analis"}, later)

    done = {"catatan": "Sudah."}
    r = api.client.post(f"{M}/tindak-lanjut/{items[0]['id']}/selesai", data=done, headers=api.auth("opd-dlh"))
    assert r.status_code == 200, r.text
    step(api, smtp, "monev_tutup", page, set())  # one item is still open
    r = api.client.post(f"{M}/tindak-lanjut/{items[1]['id']}/selesai", data=done, headers=api.auth("analis"))
    assert r.status_code == 200, r.text
    step(api, smtp, "monev_tutup", page, {"kabag_pemerintahan", "katim"})  # not the analis who finished
    _post(api, "katim", f"/{rid}/tutup", {"kesimpulan": "Selesai."})
    step(api, smtp, "monev_tutup", page, set())

    told = [r for r in rows(api) if r.kind.startswith("monev")]
    assert all(r.monev_round_id == rid and r.link == page for r in told)
    with Session(svc.engine) as session:
        names = {u.username for u in session.exec(select(User).where(col(User.id).in_({r.user_id for r in told})))}
    assert names == {"kabag_pemerintahan", "katim", "analis", "opd-dlh"}  # never opd-lain, the mitra, others
    body = api.client.get("/api/v1/me/notifications", headers=api.auth("opd-dlh")).json()
    assert {n["monev_round_id"] for n in body["data"]} == {rid} and body["unread"] == len(body["data"])


@SQLITE
def test_monev_alerts_reach_the_kabag_once_with_the_agreements_page(api, smtp):
    _people(api)
    with_mail(api)
    svc = api.services
    quiet = _agreement(api, judul="Tanpa Laporan")  # began 400 days ago, never reported
    ending = _agreement(api, mulai_ago=10, ends_in=30, judul="Segera Berakhir")
    now = dt.datetime.now(dt.UTC)
    for expected in (2, 0):
        with session_scope(svc.engine) as session:
            assert notify_flows.monev_alerts(session, svc.profile, now) == expected
    deliver(api, smtp)
    got = smtp.take()
    assert who(got) == {"kabag_pemerintahan"} and len(got) == 2
    kabag = {"kabag_pemerintahan"}
    quiet_mail = [m for m in got if "belum ada laporan" in m.subject]
    check(api, quiet_mail, "monev_tanpa_laporan", f"/monev/kerja-sama/{quiet}", kabag)
    check(
        api, [m for m in got if "perpanjangan" in m.subject], "monev_perpanjangan", f"/monev/kerja-sama/{ending}", kabag
    )
    # once a round is open and waits on the OPD, the no-report alert is the OPD's
    rid = _post(api, "kabag_pemerintahan", f"/kerja-sama/{quiet}/tugaskan", _penugasan(api))["id"]
    _post(api, "katim", f"/{rid}/jadwal", {"bahan": "Data", "jadwal": _today(api).isoformat()})
    deliver(api, smtp)
    smtp.take()
    with session_scope(svc.engine) as session:
        assert notify_flows.monev_alerts(session, svc.profile, now) == 1
    deliver(api, smtp)
    got = smtp.take()
    check(api, got, "monev_tanpa_laporan", f"/monev/{rid}", {"opd-dlh"})


@SQLITE
def test_the_mail_worker_looks_for_monev_alerts_once_a_day(api):
    """The worker's round every minute reads every agreement in force only on its first round of a day
    (``alerts_done``): the alerts are occasions of a day; on the next day it looks again."""
    _people(api)
    svc = api.services
    _agreement(api, judul="Tanpa Laporan")  # began 400 days ago, never reported: the Kabag's alert
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(svc.profile.tz).date()

    first = notifications.cycle(svc.engine, svc.profile, None, now, digest_hour=0)
    assert (first.peringatan, first.peringatan_hari) == (1, today)
    _agreement(api, judul="Kedua Tanpa Laporan")
    again = notifications.cycle(svc.engine, svc.profile, None, now, digest_hour=0, alerts_done=today)
    assert (again.peringatan, again.peringatan_hari) == (0, None)  # looked for once today: not read again
    unknown = notifications.cycle(svc.engine, svc.profile, None, now, digest_hour=0, alerts_done=None)
    assert (unknown.peringatan, unknown.peringatan_hari) == (1, today)  # the CLI (cron) always looks

    tomorrow = now + dt.timedelta(days=1)
    _agreement(api, judul="Ketiga Tanpa Laporan")
    later = notifications.cycle(svc.engine, svc.profile, None, tomorrow, digest_hour=0, alerts_done=today)
    assert later.peringatan_hari == today + dt.timedelta(days=1) and later.peringatan >= 1
    with Session(svc.engine) as session:
        monev = session.exec(select(Notifikasi).where(col(Notifikasi.kunci).like("monev%"))).all()
        subjects = {n.subject for n in monev}
    assert any("Ketiga" in s for s in subjects), subjects


@SQLITE
def test_a_monev_step_past_its_sop_time_is_reminded_once_and_in_the_digest(api, smtp):
    _people(api)
    with_mail(api)
    svc = api.services
    arsip_id = _agreement(api, mulai_ago=10)
    rid = _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api))["id"]
    deliver(api, smtp)
    smtp.take()
    now = dt.datetime.now(dt.UTC)
    with session_scope(svc.engine) as session:
        assert notifications.remind(session, svc.profile, now) == 0
        round_ = session.get(MonevRound, rid)
        assert round_ is not None
        round_.status_since -= dt.timedelta(days=5)  # persiapan: 1 + 1 hari
        session.add(round_)
    for expected in (2, 0):
        with session_scope(svc.engine) as session:
            assert notifications.remind(session, svc.profile, now) == expected
    deliver(api, smtp)
    check(api, smtp.take(), "pengingat", f"/monev/{rid}", {"katim", "analis"})
    with session_scope(svc.engine) as session:
        notifications.digest(session, svc.profile, now, public_url=PUBLIC)
    deliver(api, smtp)
    [m] = [m for m in smtp.take() if m.to == [f"katim@{DOMAIN}"]]
    assert "monitoring dan evaluasi" in m.text and "(TERLAMBAT)" in m.text and f"{PUBLIC}/monev/{rid}" in m.text


@SQLITE
def test_who_may_no_longer_see_the_round_is_not_mailed(api, smtp):
    _people(api)
    with_mail(api)
    arsip_id = _agreement(api)
    rid = _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api))["id"]
    _post(api, "katim", f"/{rid}/jadwal", {"bahan": "Data", "jadwal": _today(api).isoformat()})
    with session_scope(api.services.engine) as session:  # the OPD official moves to another OPD
        user = session.exec(select(User).where(User.username == "opd-dlh")).one()
        user.opd = "Dinas Pendidikan"
        session.add(user)
    deliver(api, smtp)
    assert "opd-dlh" not in who(smtp.take())
    [row] = rows(api, kind="monev_laporan")
    assert row.mail_status == "tidak_dikirim" and row.last_error == "tidak lagi berhak melihat monitoring dan evaluasi"


@SQLITE
def test_the_inbox_page_lists_a_monev_turn_and_opens_the_rounds_page(api, smtp):
    _people(api)
    arsip_id = _agreement(api)
    rid = _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api))["id"]
    _post(api, "katim", f"/{rid}/jadwal", {"bahan": "Data", "jadwal": _today(api).isoformat()})
    [row] = rows(api, kind="monev_laporan")
    client = web_client(api, "opd-dlh")
    page = client.get("/notifikasi")
    assert page.status_code == 200 and 'id="notifikasi-jumlah">1<' in page.text
    assert "Laporan monitoring diminta" in page.text and "KB Pengelolaan Sampah Regional" in page.text
    assert f"/notifikasi/{row.id}/buka" in page.text
    opened = client.post(f"/notifikasi/{row.id}/buka", data={"csrf_token": csrf_of(client, "/notifikasi")})
    assert opened.status_code == 200 and str(opened.url).endswith(f"/monev/{rid}")
    assert 'id="judul-form">Sampaikan laporan monitoring<' in opened.text  # the form of the turn it told of
    assert 'id="notifikasi-jumlah"' not in opened.text
    client.close()
    # another OPD's official has nothing and cannot open it
    other = web_client(api, "opd-lain")
    assert f"/notifikasi/{row.id}/buka" not in other.get("/notifikasi?semua=1").text
    r = other.post(f"/notifikasi/{row.id}/buka", data={"csrf_token": csrf_of(other, "/notifikasi")})
    assert r.status_code == 404
    other.close()


@SQLITE
def test_a_broken_notifier_never_fails_a_monev_step(api, monkeypatch):
    _people(api)
    arsip_id = _agreement(api)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(notify_flows, "_round_occasions", broken)
    created = api.client.post(
        f"{M}/kerja-sama/{arsip_id}/tugaskan", json=_penugasan(api), headers=api.auth("kabag_pemerintahan")
    )
    assert created.status_code == 201 and created.json()["status"] == "persiapan"
    assert rows(api) == []


@INTAKE_SQLITE
def test_a_broken_notifier_never_fails_an_intake_step(intake, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(notify_flows, "_usulan_holders", broken)
    created = intake_post(intake, "tu", "", penawaran())
    assert created.status_code == 201 and created.json()["status"] == "diterima"
    assert rows(intake) == []
