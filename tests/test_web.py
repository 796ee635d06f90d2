"""The web foundation over HTTP (no browser): sign-in, sessions, CSRF, origins, headers, error pages.

The browser's view of the same (axe, screenshots, a phone's width) is tests/test_web_browser.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.config import Settings
from api.main import create_app
from api.web.pages import safe_next
from api.web.security import CSP, SESSION_COOKIE
from pipeline import accounts
from pipeline.auth import create_user
from pipeline.drafting import cases
from pipeline.errors import TooManyAttempts, Unauthenticated
from pipeline.models import SignInFailure, User, WebSession, utcnow
from pipeline.signin import SessionPolicy, hash_password, resume_session, set_password, sign_in, start_session
from storage.db import session_scope
from tests.test_api import case_body

PASSWORD = "kata-sandi-yang-panjang"
SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)


def settings(**changes: object) -> Settings:
    return Settings(
        database_url="sqlite://",
        storage_url="file:/nonexistent",
        migrate_on_start=False,
        cleanup_on_start=False,
        **changes,  # type: ignore[arg-type]
    )


@pytest.fixture
def web(api) -> Iterator[TestClient]:
    """A browser-like client (no cookies yet) on the API fixture's app; every user has ``PASSWORD``."""
    with session_scope(api.services.engine) as session:
        for user in session.exec(select(User)).all():
            user.password_hash = _hash_of_password()
            session.add(user)
    yield api.client
    api.client.cookies.clear()


@functools.cache
def _hash_of_password() -> str:
    return hash_password(PASSWORD)  # once: argon2id is slow on purpose


def signin_token(client: TestClient, path: str = "/masuk") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in_as(client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/", **headers: str):
    token = signin_token(client)
    return client.post(
        "/masuk",
        data={"username": username, "password": password, "csrf_token": token, "next": next_path},
        headers=headers,
        follow_redirects=False,
    )


def page_csrf(client: TestClient, path: str = "/") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


# --- passwords and the CLI ------------------------------------------------------------------------


@SERVICES
def test_a_password_is_stored_only_as_an_argon2id_hash(api):
    with session_scope(api.services.engine) as session:
        set_password(session, None, "u-drafter", PASSWORD)
    with Session(api.services.engine) as session:
        stored = session.exec(select(User).where(User.username == "u-drafter")).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@SERVICES
@pytest.mark.parametrize(
    ("password", "reason"),
    [("pendek", "paling sedikit 10"), ("u-drafter", "paling sedikit 10"), ("          x", None), ("U-DRAFTER1", None)],
)
def test_a_weak_password_is_refused_with_the_reason(api, password, reason):
    with session_scope(api.services.engine) as session:
        if reason is None:
            set_password(session, None, "u-drafter", password)
            return
        with pytest.raises(Exception, match=reason):
            set_password(session, None, "u-drafter", password)


def test_cli_user_add_with_password_stdin_then_user_password_ends_sessions(tmp_path, monkeypatch):
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    runner = CliRunner()
    add = ["user", "add", "analis.baru", "--nama", "Rina", "--jabatan", "Analis", "--role", "drafter"]
    result = runner.invoke(cli_app, [*add, "--password-stdin"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "Kata sandi web disimpan" in result.output
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    policy = SessionPolicy()
    with session_scope(engine) as session:
        user = sign_in(session, "analis.baru", PASSWORD, "127.0.0.1", policy=policy, tz=utcnow().tzinfo)
        sid, _ = start_session(session, user, policy=policy)
    result = runner.invoke(cli_app, ["user", "password", "analis.baru"], input="kalimat-baru-sekali\n" * 2)
    assert result.exit_code == 0, result.output
    assert "1 sesi web-nya diakhiri" in result.output
    with session_scope(engine) as session, pytest.raises(Unauthenticated):
        resume_session(session, sid, policy=policy)
    weak = runner.invoke(cli_app, ["user", "password", "analis.baru", "--password-stdin"], input="pendek\n")
    assert weak.exit_code == 2 and "paling sedikit 10 karakter" in weak.output
    engine.dispose()


# --- sign-in, sign-out, sessions ------------------------------------------------------------------


@SERVICES
def test_a_page_without_a_session_redirects_to_sign_in_with_the_page_asked_for(web):
    r = web.get("/akun/kata-sandi?x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/masuk?next=/akun/kata-sandi%3Fx%3D1"
    htmx = web.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/masuk"


@SERVICES
def test_sign_in_sets_an_httponly_samesite_cookie_and_goes_to_the_page_asked_for(web):
    r = sign_in_as(web, "u-drafter", next_path="/akun/kata-sandi")
    assert r.status_code == 303 and r.headers["location"] == "/akun/kata-sandi"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    home = web.get("/")
    assert home.status_code == 200 and "Pengguna drafter" in home.text and "Pejabat" in home.text


@SERVICES
def test_only_the_hash_of_the_session_id_is_stored(web, api):
    sign_in_as(web, "u-drafter")
    sid = web.cookies[SESSION_COOKIE]
    with Session(api.services.engine) as session:
        row = session.exec(select(WebSession)).one()
    assert sid not in (row.id_hash, row.csrf_token) and len(row.id_hash) == 64


@SERVICES
def test_the_cookie_is_secure_when_the_public_url_is_https(api, services):
    app = create_app(settings(public_url="https://naskah.paserkab.go.id"), services)
    with TestClient(app, base_url="https://naskah.paserkab.go.id") as client:
        with session_scope(services.engine) as session:
            set_password(session, None, "u-drafter", PASSWORD)
        r = sign_in_as(client, "u-drafter", Origin="https://naskah.paserkab.go.id")
        assert r.status_code == 303, r.text
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
        assert "Secure" in cookie


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/akun/kata-sandi", "/akun/kata-sandi"),
        ("/kerja-sama?q=sampah", "/kerja-sama?q=sampah"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/masuk", "/"),
        ("", "/"),
    ],
)
def test_after_sign_in_only_a_local_path_is_followed(asked, goes):
    assert safe_next(asked) == goes


@SERVICES
def test_a_wrong_password_is_refused_the_field_marked_and_the_username_kept(web):
    r = sign_in_as(web, "u-drafter", password="salah-sekali-ini")
    assert r.status_code == 401
    assert "Ada masalah" in r.text and 'href="#f-password"' in r.text
    field = re.search(r"<input[^>]*id=\"f-password\"[^>]*>", r.text).group(0)
    assert "is-invalid" in field and 'aria-describedby="f-password-galat"' in field and "value=" not in field
    assert re.search(r'id="f-username"[^>]*value="u-drafter"', r.text)
    assert SESSION_COOKIE not in web.cookies
    unknown = sign_in_as(web, "tidak.ada", password="salah-sekali-ini")
    assert unknown.status_code == 401 and "Nama pengguna atau kata sandi salah" in unknown.text


@SERVICES
def test_failed_sign_ins_are_braked_per_username_with_the_time_to_try_again(web, api):
    for _ in range(5):
        assert sign_in_as(web, "u-legal", password="bukan-ini-sandinya").status_code == 401
    r = sign_in_as(web, "u-legal")  # even the right password, while braked
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert re.search(r"coba lagi pukul \d\d\.\d\d \(sekitar 1[45] menit lagi\)", r.text), r.text
    assert sign_in_as(web, "u-drafter").status_code == 303  # another username is not braked
    with session_scope(api.services.engine) as session:  # the window passes: the brake lifts
        for row in session.exec(select(SignInFailure)).all():
            row.at -= timedelta(minutes=16)
            session.add(row)
    web.cookies.clear()
    assert sign_in_as(web, "u-legal").status_code == 303


@SERVICES
def test_failed_sign_ins_are_braked_per_address_across_usernames(api):
    policy = SessionPolicy(failures_per_address=4)
    tz = utcnow().tzinfo
    with session_scope(api.services.engine) as session:
        for i in range(4):
            with pytest.raises(Unauthenticated):
                sign_in(session, f"orang{i}", "salah-salah-salah", "10.1.2.3", policy=policy, tz=tz)
    with session_scope(api.services.engine) as session:  # another session, as another process would
        with pytest.raises(TooManyAttempts) as refused:
            sign_in(session, "u-drafter", PASSWORD, "10.1.2.3", policy=policy, tz=tz)
        assert refused.value.detail["reason"] == "too_many_attempts"


@SERVICES
def test_sign_out_deletes_the_session_so_the_old_cookie_no_longer_works(web, api):
    sign_in_as(web, "u-drafter")
    sid = web.cookies[SESSION_COOKIE]
    r = web.post("/keluar", data={"csrf_token": page_csrf(web)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/masuk?keluar=1"
    assert "Anda sudah keluar" in web.get("/masuk?keluar=1").text
    with Session(api.services.engine) as session:
        assert session.exec(select(WebSession)).all() == []
    web.cookies.set(SESSION_COOKIE, sid)  # the cookie kept by someone
    assert web.get("/", follow_redirects=False).status_code == 303


@SERVICES
@pytest.mark.parametrize("kind", ["idle", "absolute"])
def test_a_session_ends_after_the_idle_timeout_and_the_absolute_lifetime(web, api, kind):
    sign_in_as(web, "u-drafter")
    with session_scope(api.services.engine) as session:
        row = session.exec(select(WebSession)).one()
        if kind == "idle":
            row.last_seen_at -= timedelta(minutes=31)  # idle 31 minutes (NASKAH_SESSION_IDLE_MINUTES=30)
        else:
            row.expires_at = utcnow() - timedelta(seconds=1)  # past NASKAH_SESSION_MAX_HOURS, though active
        session.add(row)
    assert web.get("/", follow_redirects=False).headers["location"] == "/masuk"
    with Session(api.services.engine) as session:
        assert session.exec(select(WebSession)).all() == []


@SERVICES
def test_session_lifetimes_come_from_the_settings(api):
    policy = settings(session_idle_minutes=5, session_max_hours=1).session_policy
    now = utcnow()
    with session_scope(api.services.engine) as session:
        user = session.exec(select(User).where(User.username == "u-drafter")).one()
        sid, row = start_session(session, user, policy=policy, now=now)
        assert row.expires_at == now + timedelta(hours=1)
        resume_session(session, sid, policy=policy, now=now + timedelta(minutes=4))
        with pytest.raises(Unauthenticated, match="lama tidak ada kegiatan"):
            resume_session(session, sid, policy=policy, now=now + timedelta(minutes=10))
        sid, _ = start_session(session, user, policy=policy, now=now)
        for minutes in (4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56):  # active all along
            resume_session(session, sid, policy=policy, now=now + timedelta(minutes=minutes))
        with pytest.raises(Unauthenticated, match="batas waktunya"):
            resume_session(session, sid, policy=policy, now=now + timedelta(minutes=60))


@SERVICES
def test_deactivating_a_user_ends_their_sessions(web, api):
    sign_in_as(web, "u-drafter")
    with session_scope(api.services.engine) as session:
        accounts.set_user_active(session, None, "u-drafter", False)
    assert web.get("/", follow_redirects=False).status_code == 303
    with Session(api.services.engine) as session:
        assert session.exec(select(WebSession)).all() == []
    web.cookies.clear()
    assert sign_in_as(web, "u-drafter").status_code == 401  # nor can they sign in again


@SERVICES
def test_a_session_cookie_never_authorises_the_api(web):
    sign_in_as(web, "u-drafter")
    assert web.get("/").status_code == 200
    r = web.get("/api/v1/cases")
    assert r.status_code == 401 and r.json()["detail"]["reason"] == "missing_token"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    post = web.post("/api/v1/cases", json=case_body(), headers={"X-CSRF-Token": page_csrf(web)})
    assert post.status_code == 401


# --- CSRF and origins --------------------------------------------------------------------------------


@SERVICES
def test_a_post_without_the_csrf_token_is_refused_with_the_reason(web):
    sign_in_as(web, "u-drafter")
    r = web.post("/keluar", data={})
    assert r.status_code == 403 and "<h1" in r.text and "token keamanannya (CSRF)" in r.text
    assert "csrf_token_missing" in r.text
    wrong = web.post("/keluar", data={"csrf_token": "bukan-token"})
    assert wrong.status_code == 403 and "csrf_token_invalid" in wrong.text
    assert web.get("/").status_code == 200  # still signed in
    header = web.post("/keluar", headers={"X-CSRF-Token": page_csrf(web)}, follow_redirects=False)
    assert header.status_code == 303  # htmx sends it as a header (hx-headers on <body>)


@SERVICES
def test_the_csrf_token_is_per_session(web, api):
    sign_in_as(web, "u-drafter")
    first = page_csrf(web)
    web.cookies.clear()
    sign_in_as(web, "u-drafter")
    assert web.post("/keluar", data={"csrf_token": first}).status_code == 403


@SERVICES
@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}],
)
def test_a_cross_site_post_is_refused_even_with_the_token(web, headers):
    sign_in_as(web, "u-drafter")
    r = web.post("/keluar", data={"csrf_token": page_csrf(web)}, headers=headers)
    assert r.status_code == 403 and "cross_site_request" in r.text and "dikirim dari situs lain" in r.text
    signin = sign_in_as(web, "u-legal", **headers)
    assert signin.status_code == 403


@SERVICES
def test_a_same_origin_post_is_accepted(web):
    sign_in_as(web, "u-drafter", Origin="http://testserver", **{"Sec-Fetch-Site": "same-origin"})
    r = web.post(
        "/keluar",
        data={"csrf_token": page_csrf(web)},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert r.status_code == 303


@SERVICES
def test_the_sign_in_form_needs_its_own_token(web):
    r = web.post("/masuk", data={"username": "u-drafter", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "csrf_token_missing" in r.text


# --- headers and error pages -------------------------------------------------------------------------


@SERVICES
@pytest.mark.parametrize("path", ["/masuk", "/", "/tidak-ada", "/static/app.css", "/api/v1/cases"])
def test_security_headers_are_on_every_response(web, path):
    r = web.get(path, follow_redirects=False)
    assert r.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "frame-ancestors 'self'" in CSP and "default-src 'self'" in CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Referrer-Policy"] == "same-origin"


@SERVICES
def test_pages_have_no_inline_script_or_style(web):
    sign_in_as(web, "u-drafter")
    for path in ("/", "/masuk?next=/", "/akun/kata-sandi", "/tidak-ada"):
        html = web.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html and " on" + "click=" not in html, path
        assert re.search(r'<html lang="id">', html)
        assert 'hx-headers=\'{"X-CSRF-Token"' in html or path.startswith("/masuk")


@SERVICES
def test_docs_keep_working_under_their_own_policy(web):
    for path in ("/docs", "/redoc"):
        r = web.get(path)
        assert r.status_code == 200 and "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"


@SERVICES
def test_an_unknown_page_is_a_404_page_in_the_layout(web):
    sign_in_as(web, "u-drafter")
    r = web.get("/tidak-ada")
    assert r.status_code == 404 and "Halaman tidak ditemukan" in r.text and "Alamat tidak ditemukan." in r.text
    assert "Pengguna drafter" in r.text  # the layout, signed in
    assert web.get("/api/v1/tidak-ada").json()["code"] == "http_404"  # the API stays JSON


@SERVICES
def test_a_server_error_page_shows_the_error_id_and_never_a_trace(api, services, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    with session_scope(services.engine) as session:
        set_password(session, None, "u-drafter", PASSWORD)
    with TestClient(create_app(settings(), services), raise_server_exceptions=False) as client:
        sign_in_as(client, "u-drafter")
        monkeypatch.setattr(cases, "list_cases", broken)
        r = client.get("/")
    assert r.status_code == 500 and "Terjadi kesalahan di server" in r.text
    error_id = re.search(r"Kode galat: <code>([0-9a-f]{12})</code>", r.text).group(1)
    assert error_id and "secret internals" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    assert r.headers["Content-Security-Policy"] == CSP


# --- Beranda and the model form -------------------------------------------------------------------


@SERVICES
def test_beranda_greets_the_user_and_lists_only_the_kerja_sama_they_may_see(web, api):
    created = web.post("/api/v1/cases", json=case_body(), headers=api.auth("drafter"))
    assert created.status_code == 201, created.text
    with session_scope(api.services.engine) as session:
        create_user(
            session,
            username="mitra",
            nama="Pejabat Mitra",
            jabatan="Wali Kota",
            roles=["signer"],
            pihak_luar=True,
            instansi="Pemerintah Kota Balikpapan",
        )
        set_password(session, None, "mitra", PASSWORD)
    sign_in_as(web, "u-drafter")
    home = web.get("/")
    assert re.search(r"Selamat (pagi|siang|sore|malam), Pengguna drafter", home.text)
    assert created.json()["judul"] in home.text and "1 kerja sama" in home.text and 'id="tugas-saya"' in home.text
    web.cookies.clear()
    sign_in_as(web, "mitra")
    theirs = web.get("/")
    assert created.json()["judul"] not in theirs.text and "0 kerja sama" in theirs.text


@SERVICES
def test_change_password_shows_each_problem_on_its_field(web):
    sign_in_as(web, "u-drafter")
    token = page_csrf(web, "/akun/kata-sandi")
    cases_ = [
        ({"password_lama": "salah-salah-salah"}, "password_lama", "Kata sandi sekarang salah."),
        ({"password_lama": PASSWORD, "password_baru": "pendek"}, "password_baru", "paling sedikit 10"),
        (
            {"password_lama": PASSWORD, "password_baru": "kalimat-baru-ku", "konfirmasi": "kalimat-lain-ku"},
            "konfirmasi",
            "Ulangan kata sandi baru tidak sama",
        ),
    ]
    for data, field, message in cases_:
        r = web.post("/akun/kata-sandi", data={"csrf_token": token, **data})
        assert r.status_code == 422 and "Ada masalah" in r.text and f'href="#f-{field}"' in r.text
        marked = re.search(rf'<input[^>]*id="f-{field}"[^>]*>', r.text).group(0)
        assert "is-invalid" in marked and f"f-{field}-galat" in marked and message in r.text
        assert "salah-salah-salah" not in r.text and "kalimat-baru-ku" not in r.text  # passwords never echoed


@SERVICES
def test_change_password_signs_out_other_browsers_and_keeps_this_one(web, api, services):
    with TestClient(create_app(settings(), services)) as other:
        sign_in_as(other, "u-drafter")
        sign_in_as(web, "u-drafter")
        token = page_csrf(web, "/akun/kata-sandi")
        new = "kalimat-baru-yang-panjang"
        r = web.post(
            "/akun/kata-sandi",
            data={"csrf_token": token, "password_lama": PASSWORD, "password_baru": new, "konfirmasi": new},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/akun/kata-sandi?diubah=1"
        assert "Kata sandi Anda sudah diubah" in web.get(r.headers["location"]).text  # this browser: still in
        assert other.get("/", follow_redirects=False).status_code == 303  # the other: signed out
        with Session(api.services.engine) as session:
            assert len(session.exec(select(WebSession)).all()) == 1
        other.cookies.clear()
        assert sign_in_as(other, "u-drafter", password=new).status_code == 303


def test_a_pydantic_error_marks_each_field_it_names_and_the_rest_goes_to_the_summary():
    from pydantic import BaseModel, Field, ValidationError

    from api.web.render import FormErrors, as_naskah_error
    from pipeline.errors import Conflict

    class Form(BaseModel):
        judul: str = Field(min_length=1)
        tahun: int

    with pytest.raises(ValidationError) as caught:
        Form(judul="", tahun="dua ribu")
    errors = FormErrors.from_error(as_naskah_error(caught.value), ["tahun", "judul"])
    assert errors.fields == {"tahun": "harus berupa bilangan bulat", "judul": "tidak boleh kosong"}
    assert errors.summary(["tahun", "judul"])[0] == ("f-tahun", "harus berupa bilangan bulat")
    other = FormErrors.from_error(Conflict("Sudah diubah orang lain."), ["judul"])
    assert other.general == ["Sudah diubah orang lain."] and other.summary(["judul"]) == [
        ("f-judul", "Sudah diubah orang lain.")
    ]
