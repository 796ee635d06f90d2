"""Notifications against a REAL SMTP server (aiosmtpd) in the test process.

The right person gets the right mail at each step of a KB (review, paraf, signing, archive) and nobody
else; the link opens the page for them; a stopped server delays mail without losing it; opting out is
respected; no secret, no document in any mail; the inbox and the monitoring numbers over HTTP.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, SQLModel, col, select

from api.config import Settings
from api.web.security import SESSION_COOKIE
from pipeline.inbox import notifications
from pipeline.models import NaskahEvent, Notifikasi, User
from pipeline.signin import SessionPolicy, start_session
from storage.db import session_scope
from storage.mail import Mailer, SmtpConfig
from tests.test_api import create_case, create_naskah
from tests.test_signing_flow import fully_initialled
from tests.test_workflow import post

SQLITE = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
TWO_DBS = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)
PUBLIC = "https://naskah.paserkab.go.id"
DOMAIN = "paserkab.go.id"


# --- a real SMTP server ---------------------------------------------------------------------------------


@dataclass
class Received:
    to: list[str]
    subject: str
    text: str
    html: str
    attachments: int
    raw: bytes


@dataclass
class SmtpServer:
    """aiosmtpd on a loopback port: ``stop`` and ``start`` it to play an outage; ``take`` what arrived."""

    port: int
    inbox: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        with self.lock:
            self.inbox.append(
                Received(
                    to=list(envelope.rcpt_tos),
                    subject=str(msg["Subject"]),
                    text=text.get_content() if text is not None else "",
                    html=html.get_content() if html is not None else "",
                    attachments=len(list(msg.iter_attachments())),
                    raw=envelope.content,
                )
            )
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def take(self) -> list[Received]:
        with self.lock:
            out, self.inbox[:] = list(self.inbox), []
        return out

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port, sender=f"noreply@{DOMAIN}", timeout=5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(_free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_api(signers_api):
    """The signing API with every user holding an address, and links to the public address."""
    api = signers_api
    api.services.public_url = PUBLIC
    with session_scope(api.services.engine) as session:
        for user in session.exec(select(User)).all():
            user.email = f"{user.username}@{DOMAIN}"
            session.add(user)
    return api


def deliver(api, smtp: SmtpServer, now: dt.datetime | None = None) -> notifications.SendReport:
    svc = api.services
    return notifications.send_due(svc.engine, Mailer(smtp.config), svc.profile, now)


def who(received: list[Received]) -> set[str]:
    return {to.split("@")[0] for m in received for to in m.to}


def rows(api, **where) -> list[Notifikasi]:
    with Session(api.services.engine) as session:
        query = select(Notifikasi).order_by(col(Notifikasi.id))
        for k, v in where.items():
            query = query.where(getattr(Notifikasi, k) == v)
        return list(session.exec(query).all())


def secrets_of(api) -> list[str]:
    """What must never be in a mail: every API token, the PKCS#12 passphrase used, the SMTP password."""
    return [*api.tokens.values(), "Bearer", "passphrase", "k.p12", "rahasia-smtp"]


def check_mail(api, m: Received, kind: str, path: str) -> None:
    """One notification mail: Indonesian, its kind's words, the page's full link, no document, no secret."""
    label = notifications.KIND_LABELS[notifications.Kind(kind)]
    assert label in m.subject, m.subject
    assert m.text.startswith("Yth. ")
    assert f"Buka halamannya: {PUBLIC}{path}" in m.text, m.text
    assert f"href='{PUBLIC}{path}'" in m.html or f'href="{PUBLIC}{path}"' in m.html, m.html
    assert m.attachments == 0 and b"%PDF" not in m.raw and b"application/pdf" not in m.raw
    for secret in secrets_of(api):
        assert secret not in m.raw.decode("utf-8", "replace"), secret


def web_client(api, username: str) -> TestClient:
    with session_scope(api.services.engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        sid, _ = start_session(session, user, policy=SessionPolicy())
    client = TestClient(api.client.app, base_url=str(api.client.base_url))
    client.cookies.set(SESSION_COOKIE, sid)
    return client


def sign(api, nid: int, username: str, pki, nama: str) -> None:
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("k.p12", pki.issue_person(nama).to_pkcs12("k"), "application/x-pkcs12")},
        data={"passphrase": "k"},
        headers=api.auth(username),
    )
    assert r.status_code == 200, r.text


# --- the walk -------------------------------------------------------------------------------------------


@SQLITE
def test_each_step_of_a_kb_mails_exactly_the_person_whose_turn_it_is(mail_api, smtp, dev_pki, counterparty_pki):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    deliver(api, smtp)
    assert smtp.take() == []  # a draft being written is nobody's turn yet

    def step_mails(kind: str, path: str, expected: set[str]) -> None:
        report = deliver(api, smtp)
        got = smtp.take()
        assert who(got) == expected, (kind, who(got))
        assert len(got) == len(expected) and report.sent == len(expected)  # one mail each, to them only
        for m in got:
            check_mail(api, m, kind, path)

    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    step_mails("telaah", f"/naskah/{nid}", {"u-legal", "kabag_hukum"})  # Bagian Hukum, not the drafter
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    step_mails("paraf", f"/naskah/{nid}/paraf", {"kabag_pemerintahan"})  # the first of the chain only
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    step_mails("paraf", f"/naskah/{nid}/paraf", {"asisten_umum"})
    assert post(api, f"{nid}/paraf", "asisten_umum").status_code == 200
    step_mails("paraf", f"/naskah/{nid}/paraf", {"sekda"})
    assert post(api, f"{nid}/paraf", "sekda").status_code == 200
    step_mails("rencana_ttd", f"/naskah/{nid}", {"u-drafter", "u-secretariat"})
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    step_mails("tanda_tangan", f"/naskah/{nid}/tanda-tangan", {"walikota"})  # not the Bupati before his turn
    sign(api, nid, "walikota", counterparty_pki, "H. Rahmad Mas'ud, S.E., M.E.")
    step_mails("tanda_tangan", f"/naskah/{nid}/tanda-tangan", {"bupati"})
    sign(api, nid, "bupati", dev_pki, "dr. Fahmi Fadli")
    step_mails("arsip", f"/naskah/{nid}", {"u-secretariat"})
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code in (200, 201), r.text
    step_mails("arsip", "", set())  # archived: nobody's turn

    # the same notifications are each person's inbox: the sekda had one, read it, and the badge goes
    r = api.client.get("/api/v1/me/notifications", headers=api.auth("sekda"))
    body = r.json()
    assert r.status_code == 200 and body["count"] == 1 and body["unread"] == 1
    one = body["data"][0]
    assert one["kind"] == "paraf" and one["link"] == f"/naskah/{nid}/paraf" and one["mail_status"] == "terkirim"
    r = api.client.post(f"/api/v1/me/notifications/{one['id']}/read", headers=api.auth("sekda"))
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert api.client.get("/api/v1/me/notifications", headers=api.auth("sekda")).json()["unread"] == 0
    # nobody reads or marks another's: the Bupati's notification does not exist for the Sekda
    bupati_row = rows(api, kind="tanda_tangan")[-1]
    r = api.client.post(f"/api/v1/me/notifications/{bupati_row.id}/read", headers=api.auth("sekda"))
    assert r.status_code == 404
    # the users who were never anyone's turn got nothing at all
    notified = {r.user_id for r in rows(api)}
    with Session(api.services.engine) as session:
        names = {u.username for u in session.exec(select(User).where(col(User.id).in_(notified))).all()}
    assert names == {
        "u-legal",
        "kabag_hukum",
        "kabag_pemerintahan",
        "asisten_umum",
        "sekda",
        "u-drafter",
        "u-secretariat",
        "walikota",
        "bupati",
    }


@SQLITE
def test_the_link_in_the_mail_opens_the_page_for_its_recipient(mail_api, smtp):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    deliver(api, smtp)
    [m] = [m for m in smtp.take() if m.to == [f"kabag_pemerintahan@{DOMAIN}"]]
    link = next(line.split(": ", 1)[1] for line in m.text.splitlines() if line.startswith("Buka halamannya: "))
    assert link.startswith(PUBLIC)
    client = web_client(api, "kabag_pemerintahan")
    r = client.get(link.removeprefix(PUBLIC), follow_redirects=False)
    assert r.status_code == 200 and "paraf" in r.text.lower()
    # and the header says there is one unread notification, the inbox lists it
    assert 'id="notifikasi-jumlah"' in r.text
    r = client.get("/notifikasi")
    assert r.status_code == 200 and f"/notifikasi/{rows(api, kind='paraf')[0].id}/buka" in r.text
    client.close()


@TWO_DBS
def test_a_stopped_smtp_server_delays_mail_without_losing_it(mail_api, smtp):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    smtp.stop()
    # the step succeeds at once with the server down: nothing of it waits on mail
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    report = deliver(api, smtp)
    assert report.sent == 0 and report.deferred >= 1 and report.error
    queued = rows(api, kind="telaah")
    assert len(queued) == 2 and all(r.mail_status == "antre" and r.last_error for r in queued)
    # the monitoring page and its API twin show the dead server
    r = api.client.get("/api/v1/monitoring/ringkasan", headers=api.auth("secretariat"))
    surel = r.json()["surel"]
    assert surel["antre"] == 2 and surel["bermasalah"] and surel["galat_terakhir"] and surel["tertua"]
    page = web_client(api, "u-secretariat").get("/monitoring")
    assert page.status_code == 200 and 'id="surel-masalah"' in page.text and "Surel tertunda" in page.text
    # the outbox (the SMTP server's address, its errors) is the secretariat's: not every reader's
    for reader, web_reader in (("drafter", "u-drafter"), ("walikota", "walikota")):
        r = api.client.get("/api/v1/monitoring/ringkasan", headers=api.auth(reader))
        assert r.status_code == 200 and r.json()["surel"] is None
        page = web_client(api, web_reader).get("/monitoring")
        assert page.status_code == 200 and 'id="surel"' not in page.text and "SMTP" not in page.text
    # a retry before the backoff is over does not hammer the server
    assert deliver(api, smtp).sent == 0
    # the server is back: after the backoff, every mail arrives once
    smtp.start()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    report = deliver(api, smtp, later)
    got = smtp.take()
    assert report.sent == 2 and who(got) == {"u-legal", "kabag_hukum"} and len(got) == 2
    sent = rows(api, kind="telaah")
    assert all(r.mail_status == "terkirim" and r.sent_at and r.last_error is None for r in sent)
    # the one tried while the server was down counts that try; the others were held back untried
    assert sorted(r.attempts for r in sent) == [1, 2]
    assert deliver(api, smtp, later + dt.timedelta(hours=1)).sent == 0 and smtp.take() == []
    assert api.client.get("/api/v1/monitoring/ringkasan", headers=api.auth("secretariat")).json()["surel"]["antre"] == 0


@SQLITE
def test_opting_out_stops_mail_but_keeps_the_inbox(mail_api, smtp):
    api = mail_api
    r = api.client.put(
        "/api/v1/me/notification-settings", json={"email_notifikasi": False}, headers=api.auth("kabag_hukum")
    )
    assert r.status_code == 200 and r.json() == {"email": f"kabag_hukum@{DOMAIN}", "email_notifikasi": False}
    # the other one opts out on the web page (the checkbox unticked)
    client = web_client(api, "u-legal")
    token = client.get("/akun/notifikasi").text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/akun/notifikasi", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    deliver(api, smtp)
    assert smtp.take() == []
    assert all(r.mail_status == "tidak_dikirim" for r in rows(api, kind="telaah"))
    assert api.client.get("/api/v1/me/notifications", headers=api.auth("kabag_hukum")).json()["unread"] == 1
    assert 'id="notifikasi-jumlah"' in client.get("/notifikasi").text
    # turning mail on again: the next occasion is mailed
    token = client.get("/akun/notifikasi").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/akun/notifikasi", data={"csrf_token": token, "email_notifikasi": "ya"})
    assert post(api, f"{nid}/return", "kabag_hukum", note="Perbaiki pasal 3").status_code == 200
    nid2 = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid2}/submit", "drafter").status_code == 200
    deliver(api, smtp)
    got = smtp.take()
    assert who(got) == {"u-legal", "u-drafter"}  # u-legal again; the drafter for the return of nid
    returned = next(m for m in got if m.to == [f"u-drafter@{DOMAIN}"])
    assert "Perbaiki pasal 3" not in returned.raw.decode()  # a note's text is not mailed: the page shows it
    client.close()


@SQLITE
def test_a_step_past_its_mutu_baku_is_reminded_once(mail_api, smtp):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    deliver(api, smtp)
    smtp.take()
    now = dt.datetime.now(dt.UTC)
    with session_scope(api.services.engine) as session:
        assert notifications.remind(session, api.services.profile, now, public_url=PUBLIC) == 0  # not late yet
    backdate_all(api, nid, dt.timedelta(days=30))
    with session_scope(api.services.engine) as session:
        assert notifications.remind(session, api.services.profile, now, public_url=PUBLIC) == 1
    with session_scope(api.services.engine) as session:
        assert notifications.remind(session, api.services.profile, now, public_url=PUBLIC) == 0  # once per step
    deliver(api, smtp)
    [m] = smtp.take()
    assert m.to == [f"kabag_pemerintahan@{DOMAIN}"] and "Pengingat" in m.subject and "Terlambat:" in m.text
    check_mail(api, m, "pengingat", f"/naskah/{nid}/paraf")


@SQLITE
def test_the_daily_digest_lists_each_persons_tasks_once_a_day(mail_api, smtp):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    deliver(api, smtp)
    smtp.take()
    svc = api.services
    now = dt.datetime.now(dt.UTC)
    with session_scope(svc.engine) as session:
        assert notifications.digest(session, svc.profile, now, public_url=PUBLIC) == 2  # both of Bagian Hukum
    with session_scope(svc.engine) as session:
        assert notifications.digest(session, svc.profile, now, public_url=PUBLIC) == 0
    deliver(api, smtp)
    got = smtp.take()
    assert who(got) == {"u-legal", "kabag_hukum"}
    assert all("Ringkasan harian" in m.subject and f"{PUBLIC}/naskah/{nid}" in m.text for m in got)
    # a digest is not an unread notification (its tasks were notified already)
    assert api.client.get("/api/v1/me/notifications", headers=api.auth("legal")).json()["unread"] == 1


@SQLITE
def test_the_sender_never_mails_someone_who_may_no_longer_see_the_naskah(mail_api, smtp):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    with session_scope(api.services.engine) as session:  # Bagian Hukum's second account loses its role
        user = session.exec(select(User).where(User.username == "kabag_hukum")).one()
        user.roles = "paraf"
        session.add(user)
    deliver(api, smtp)
    assert who(smtp.take()) == {"u-legal"}
    [row] = [r for r in rows(api, kind="telaah") if r.mail_status == "tidak_dikirim"]
    assert row.last_error == "tidak lagi berhak melihat naskah"


@SQLITE
def test_without_an_smtp_host_mail_stays_queued_and_the_inbox_has_it(mail_api):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    svc = api.services
    report = notifications.send_due(svc.engine, Mailer(SmtpConfig()), svc.profile)
    assert report.sent == report.deferred == 0
    assert all(r.mail_status == "antre" and r.attempts == 0 for r in rows(api, kind="telaah"))
    assert api.client.get("/api/v1/me/notifications", headers=api.auth("legal")).json()["unread"] == 1


@SQLITE
def test_a_broken_notification_never_fails_the_step(mail_api, monkeypatch):
    api = mail_api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(notifications, "turn_holders", broken)
    nid = create_naskah(api, create_case(api))["id"]
    r = post(api, f"{nid}/submit", "drafter")
    assert r.status_code == 200 and r.json()["status"] == "legal_review"
    assert rows(api) == []


@SQLITE
def test_the_intake_hook_notifies_the_named_recipients_once(mail_api, smtp):
    api = mail_api
    with session_scope(api.services.engine) as session:
        sekda = session.exec(select(User).where(User.username == "sekda")).one()
        ctx = notifications.Context(
            judul="Penawaran Kota Balikpapan",
            pesan="Disposisi dari Bupati: telaah dan sampaikan saran.",
            link="/penawaran/1",
            kunci="disposisi:1:1",
        )
        assert len(notifications.notify(session, "disposisi", [sekda], ctx, public_url=PUBLIC)) == 1
        assert notifications.notify(session, "disposisi", [sekda], ctx, public_url=PUBLIC) == []
    deliver(api, smtp)
    [m] = smtp.take()
    assert m.to == [f"sekda@{DOMAIN}"] and "Disposisi diterima" in m.subject
    assert f"{PUBLIC}/penawaran/1" in m.text


@SQLITE
def test_fully_initialled_desk_plan_tells_the_importers_after_the_export(mail_api, smtp):
    api = mail_api
    nid = fully_initialled(api, "desk")
    deliver(api, smtp)
    smtp.take()
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "desk"}, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    deliver(api, smtp)
    first = smtp.take()
    # the partner signs first, in its own system: the secretariat is told to send it (the drafter made the plan)
    assert who(first) == {"u-secretariat"} and "Kirim ke mitra" in first[0].subject
    assert api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("secretariat")).status_code == 200
    deliver(api, smtp)
    got = smtp.take()
    assert who(got) == {"u-drafter"} and "Impor berkas" in got[0].subject  # not the one who exported
    check_mail(api, got[0], "impor", f"/naskah/{nid}/tanda-tangan")


# --- the inbox page ---------------------------------------------------------------------------------------


def backdate_all(api, nid: int, by: dt.timedelta) -> None:
    """The naskah's whole history moved back in time (what the clock would have done): its current step
    starts at its newest event, so moving one event alone would not make it late."""
    with session_scope(api.services.engine) as session:
        for row in session.exec(select(NaskahEvent).where(NaskahEvent.naskah_id == nid)).all():
            row.created_at -= by
            session.add(row)


def csrf_of(client: TestClient, path: str) -> str:
    return client.get(path).text.split('name="csrf_token" value="')[1].split('"')[0]


@SQLITE
def test_the_inbox_page_lists_unread_marks_read_and_opens_the_page(mail_api):
    api = mail_api
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    client = web_client(api, "kabag_hukum")
    page = client.get("/notifikasi")
    assert page.status_code == 200
    assert '<span class="badge rounded-pill text-bg-warning" id="notifikasi-jumlah">1<' in page.text
    [row] = rows(api, kind="telaah", user_id=_id(api, "kabag_hukum"))
    # listed by its kind and what it is about (the mail's subject without the application's name)
    shown = page.text.replace("&#34;", '"').replace("&#39;", "'")
    about = row.subject.split(": ", 1)[1]
    assert "Telaah Bagian Hukum" in shown and f'<p class="mb-2 notif-subject">{about}</p>' in shown
    assert f"[{notifications.APP_NAME}]" not in shown
    # opening it marks it read and leads to the naskah
    r = client.post(f"/notifikasi/{row.id}/buka", data={"csrf_token": csrf_of(client, "/notifikasi")})
    assert r.status_code == 200 and str(r.url).endswith(f"/naskah/{nid}")
    page = client.get("/notifikasi")
    assert 'id="notifikasi-jumlah"' not in page.text and "Semua notifikasi sudah dibaca" in page.text
    assert about in client.get("/notifikasi?semua=1").text.replace("&#34;", '"').replace("&#39;", "'")
    # another's notification is not found; a POST without the CSRF token is refused
    other = rows(api, kind="telaah", user_id=_id(api, "u-legal"))[0]
    r = client.post(f"/notifikasi/{other.id}/baca", data={"csrf_token": csrf_of(client, "/notifikasi")})
    assert r.status_code == 404
    assert client.post("/notifikasi/baca-semua", data={}, follow_redirects=False).status_code == 403
    client.close()


@SQLITE
def test_mark_all_read_on_the_page(mail_api):
    api = mail_api
    for _ in range(2):
        nid = create_naskah(api, create_case(api))["id"]
        assert post(api, f"{nid}/submit", "drafter").status_code == 200
    client = web_client(api, "u-legal")
    assert '"notifikasi-jumlah">2<' in client.get("/notifikasi").text
    r = client.post("/notifikasi/baca-semua", data={"csrf_token": csrf_of(client, "/notifikasi")})
    assert r.status_code == 200 and 'id="notifikasi-jumlah"' not in r.text
    assert api.client.get("/api/v1/me/notifications", headers=api.auth("legal")).json()["unread"] == 0
    client.close()


def _id(api, username: str) -> int:
    with Session(api.services.engine) as session:
        return session.exec(select(User.id).where(User.username == username)).one()


# --- the SMTP password ------------------------------------------------------------------------------------

SMTP_USER = "naskah-relay"
SMTP_PASSWORD = "Rahasia-SMTP-7f3q"


@dataclass
class AuthSmtpServer(SmtpServer):
    """An SMTP server that wants a login (AUTH PLAIN/LOGIN, over loopback without TLS for the test)."""

    logins: list[tuple[str, bool]] = field(default_factory=list)

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535 itself

    def start(self) -> None:
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.authenticate,
            auth_required=True,
            auth_require_tls=False,  # loopback only; production sets NASKAH_SMTP_TLS
        )
        self.controller.start()


@pytest.fixture
def auth_smtp() -> Iterator[AuthSmtpServer]:
    server = AuthSmtpServer(_free_port())
    server.start()
    yield server
    server.stop()


def _everything_stored(api) -> str:
    """Every value of every row of every table, as text (what a database dump would hold)."""
    out: list[str] = []
    with api.services.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).all():
                out.extend(str(v) for v in row)
    return "\n".join(out)


@SQLITE
def test_the_smtp_password_never_reaches_logs_the_database_or_a_page(mail_api, auth_smtp, caplog, tmp_path):
    api = mail_api
    caplog.set_level(logging.DEBUG)  # every logger, every level: smtplib, the sender, the app
    wrong = "Salah-SMTP-9k2w"
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=auth_smtp.port,
        smtp_user=SMTP_USER,
        smtp_password=wrong,
        mail_from=f"noreply@{DOMAIN}",
    )
    api.client.app.state.settings = settings  # what the monitoring page and its API twin describe
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.smtp)):
        assert wrong not in shown
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    svc = api.services

    # a wrong password: the login is refused, the mail stays queued with an error that names no password
    report = notifications.send_due(svc.engine, Mailer(settings.smtp), svc.profile)
    assert report.sent == 0 and report.deferred >= 1 and report.error == "SMTP login refused (535)"
    # (smtplib tries each mechanism the server offers: PLAIN, then LOGIN)
    assert auth_smtp.logins and set(auth_smtp.logins) == {(SMTP_USER, False)} and auth_smtp.take() == []
    assert {r.last_error for r in rows(api, kind="telaah")} == {"SMTP login refused (535)"}
    surel = api.client.get("/api/v1/monitoring/ringkasan", headers=api.auth("secretariat")).json()["surel"]
    assert surel["bermasalah"] and surel["server"] == f"127.0.0.1:{auth_smtp.port} (none)"
    page = web_client(api, "u-secretariat").get("/monitoring")
    assert page.status_code == 200 and "SMTP login refused" in page.text

    # the right one: delivered after the backoff
    right = Settings(
        smtp_host="127.0.0.1",
        smtp_port=auth_smtp.port,
        smtp_user=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
        mail_from=f"noreply@{DOMAIN}",
    )
    api.client.app.state.settings = right
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    report = notifications.send_due(svc.engine, Mailer(right.smtp), svc.profile, later)
    assert report.sent == 2 and auth_smtp.logins[-1] == (SMTP_USER, True)
    got = auth_smtp.take()
    assert who(got) == {"u-legal", "kabag_hukum"}
    surel = api.client.get("/api/v1/monitoring/ringkasan", headers=api.auth("secretariat")).json()
    page_text = web_client(api, "u-secretariat").get("/monitoring").text

    stored = _everything_stored(api)
    db_file = Path(svc.engine.url.database or "")
    raw_db = db_file.read_bytes() if db_file.is_file() else b""
    for password in (wrong, SMTP_PASSWORD):
        assert password not in caplog.text, "a password in the logs"
        assert password not in stored and password.encode() not in raw_db, "a password in the database"
        assert password not in json.dumps(surel) and password not in page_text
        assert all(password not in m.raw.decode("utf-8", "replace") for m in got)


@SQLITE
def test_the_cli_sends_the_queue_says_why_not_and_never_prints_the_password(mail_api, auth_smtp, monkeypatch):
    """``naskah notifikasi status|kirim`` (cron's way, NASKAH_MAIL_WORKER off): the queue and the server,
    a dead server is exit 1 with the mail kept, back up it delivers; the password is never printed."""
    from typer.testing import CliRunner

    from api.cli import app

    api = mail_api
    svc = api.services
    env = {
        "NASKAH_DATABASE_URL": svc.engine.url.render_as_string(hide_password=False),
        "NASKAH_SMTP_HOST": "127.0.0.1",
        "NASKAH_SMTP_PORT": str(auth_smtp.port),
        "NASKAH_SMTP_USER": SMTP_USER,
        "NASKAH_SMTP_PASSWORD": SMTP_PASSWORD,
        "NASKAH_SMTP_TIMEOUT": "5",
        "NASKAH_MAIL_FROM": f"noreply@{DOMAIN}",
        "NASKAH_PUBLIC_URL": PUBLIC,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()
    outputs: list[str] = []

    def naskah(*args: str) -> Any:
        result = runner.invoke(app, ["notifikasi", *args])
        outputs.append(result.output)
        return result

    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200

    out = naskah("status", "--json")
    assert out.exit_code == 0, out.output
    status = json.loads(out.output)
    assert status["antre"] == 2 and status["server"] == f"127.0.0.1:{auth_smtp.port} (none)"

    auth_smtp.stop()
    out = naskah("kirim")
    assert out.exit_code == 1 and "0 terkirim" in out.output and "ditunda" in out.output, out.output
    assert all(r.mail_status == "antre" for r in rows(api, kind="telaah"))

    auth_smtp.start()
    with session_scope(svc.engine) as session:  # the backoff is over (what the clock would have done)
        for row in session.exec(select(Notifikasi)).all():
            row.next_attempt_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            session.add(row)
    out = naskah("kirim")
    assert out.exit_code == 0 and "2 terkirim" in out.output, out.output
    got = auth_smtp.take()
    assert who(got) == {"u-legal", "kabag_hukum"} and all(f"{PUBLIC}/naskah/{nid}" in m.text for m in got)
    out = naskah("status")
    assert out.exit_code == 0 and "Menunggu dikirim: 0" in out.output
    assert all(SMTP_PASSWORD not in text for text in outputs)


@SQLITE
def test_the_api_processs_background_sender_delivers_while_steps_never_wait_on_smtp(mail_api, smtp):
    """NASKAH_MAIL_WORKER on: the API process mails what the steps queued, within a round or two; with
    the server stopped the step answers as fast as with it up, and the mail follows once it is back."""
    import time

    from api.main import create_app

    api = mail_api
    settings = Settings(
        database_url="sqlite://",
        storage_url="file:/nonexistent",
        migrate_on_start=False,
        cleanup_on_start=False,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_timeout=5,
        mail_from=f"noreply@{DOMAIN}",
        mail_worker=True,
        mail_interval_seconds=1,
    )

    def wait_for(n: int, seconds: float = 30) -> list[Received]:
        got: list[Received] = []
        deadline = time.monotonic() + seconds
        while len(got) < n and time.monotonic() < deadline:
            time.sleep(0.2)
            got += smtp.take()
        return got

    with TestClient(create_app(settings, api.services), base_url=str(api.client.base_url)) as client:
        assert client.app.state.mail_worker is not None
        nid = create_naskah(api, create_case(api))["id"]
        started = time.monotonic()
        r = client.post(f"/api/v1/naskah/{nid}/submit", json={}, headers=api.auth("drafter"))
        up = time.monotonic() - started
        assert r.status_code == 200, r.text
        assert who(wait_for(2)) == {"u-legal", "kabag_hukum"}

        smtp.stop()
        started = time.monotonic()
        r = client.post(f"/api/v1/naskah/{nid}/approve", json={}, headers=api.auth("legal"))
        down = time.monotonic() - started
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(x.last_error for x in rows(api, kind="paraf")):
            time.sleep(0.2)
        [queued] = rows(api, kind="paraf")
        assert queued.mail_status == "antre" and queued.last_error  # tried, failed, kept
        assert down < up + 2, (up, down)  # the step did not wait on the dead server
        smtp.start()
        with session_scope(api.services.engine) as session:  # the backoff is over
            row = session.get(Notifikasi, queued.id)
            row.next_attempt_at = dt.datetime.now(dt.UTC)
            session.add(row)
        got = wait_for(1)
        assert who(got) == {"kabag_pemerintahan"}
    assert not client.app.state.mail_worker.thread.is_alive()  # stopped with the app


def test_an_smtp_login_without_tls_to_another_machine_is_refused_at_start_without_echoing_the_password(
    monkeypatch,
):
    with pytest.raises(ValidationError) as refused:
        Settings(smtp_host="mail.paserkab.go.id", smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD)
    assert "NASKAH_SMTP_TLS" in str(refused.value) and SMTP_PASSWORD not in str(refused.value)
    for tls in ("starttls", "ssl"):
        assert Settings(smtp_host="mail.paserkab.go.id", smtp_user=SMTP_USER, smtp_tls=tls).smtp.configured
    # a relay on this machine, or no login at all, needs no TLS
    assert Settings(smtp_host="127.0.0.1", smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD).smtp.user == SMTP_USER
    assert Settings(smtp_host="mail.paserkab.go.id").smtp.tls == "none"
    # any refused setting at start-up (from the environment) is reported without the values given
    monkeypatch.setenv("NASKAH_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"postgresql+psycopg://naskah:{SMTP_PASSWORD}@db/naskah")
    monkeypatch.setenv("NASKAH_SMTP_PORT", "0")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "smtp_port" in str(refused.value) and SMTP_PASSWORD not in str(refused.value)
