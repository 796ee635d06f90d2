"""The administration pages over HTTP (no browser): adding a user who then signs in, resetting a password
(the old one stops, the sessions end), deactivating (an open session and the API tokens stop at once),
sessions and tokens listed and ended, the signer configuration with expiry warnings, every refusal of a
non-admin, bad input marked on its field, and no secret on any page.  Their API twins too.

The browser's view (a walk through the pages, axe, a phone's width) is tests/test_web_admin_browser.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlmodel import col, select

from api.web.security import SESSION_COOKIE
from pipeline import accounts
from pipeline.errors import InvalidInput
from pipeline.models import AuditEntry, User, WebSession
from storage.db import session_scope
from tests.fixtures.app import OFFICIALS
from tests.test_web import PASSWORD, _hash_of_password, signin_token

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
pytestmark = SERVICES

NEW_PASSWORD = "sandi-baru-yang-cukup-panjang"
ADMIN_PAGES = [
    "/admin/pengguna",
    "/admin/pengguna/baru",
    "/admin/pengguna/u-drafter",
    "/admin/sesi",
    "/admin/penanda-tangan",
]


@pytest.fixture
def people(api) -> Iterator[Any]:
    """A signed-in browser per person (through the sign-in form), every user's password ``PASSWORD``."""
    with session_scope(api.services.engine) as session:
        for user in session.exec(select(User)).all():
            user.password_hash = _hash_of_password()
            session.add(user)
    made: list[TestClient] = []

    def sign_in(username: str, password: str = PASSWORD) -> TestClient:
        client = TestClient(api.client.app, base_url=str(api.client.base_url))
        made.append(client)
        r = _sign_in(client, username, password)
        assert r.status_code == 303, (username, r.status_code, r.text[:300])
        return client

    yield sign_in
    for client in made:
        client.close()


def _sign_in(client: TestClient, username: str, password: str) -> Any:
    token = signin_token(client)
    return client.post(
        "/masuk",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def csrf_of(client: TestClient, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs (a field may repeat: roles, posisi) as httpx takes them."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def post(client: TestClient, path: str, data: dict[str, Any] | list[tuple[str, str]], csrf_from: str) -> Any:
    token = csrf_of(client, csrf_from)
    body = as_form([*data, ("csrf_token", token)]) if isinstance(data, list) else {**data, "csrf_token": token}
    return client.post(path, data=body, follow_redirects=False)


def signed_in(client: TestClient) -> bool:
    r = client.get("/", follow_redirects=False)
    return r.status_code == 200


def doc(response: Any) -> Any:
    return lxml_html.fromstring(response.text)


def new_user_form(**changes: Any) -> list[tuple[str, str]]:
    fields: dict[str, Any] = {
        "username": "andi.saputra",
        "nama": "Andi Saputra, S.STP.",
        "jabatan": "Analis Kerja Sama",
        "roles": ["drafter"],
        "posisi": [],
        "nip": "198001012005011001",
        "nik": "",
        "opd": "Bagian Pemerintahan",
        "instansi": "",
        "password": NEW_PASSWORD,
        **changes,
    }
    out: list[tuple[str, str]] = []
    for key, value in fields.items():
        if isinstance(value, list):
            out += [(key, v) for v in value]
        elif value is True:
            out.append((key, "1"))
        elif value is not False:
            out.append((key, value))
    return out


def invalid_fields(response: Any) -> set[str]:
    return {el.get("name") for el in doc(response).xpath('//*[contains(@class, "is-invalid")]')} | {
        el.get("id")[2:]
        for el in doc(response).xpath('//fieldset[.//*[contains(@class, "is-invalid")]]')
        if el.get("id")
    }


# --- users -----------------------------------------------------------------------------------------


def test_an_admin_adds_a_user_who_then_signs_in_with_the_password_given(api, people):
    admin = people("u-admin")
    r = post(admin, "/admin/pengguna/baru", new_user_form(), "/admin/pengguna/baru")
    assert r.status_code == 303 and r.headers["location"] == "/admin/pengguna/andi.saputra?pesan=dibuat"
    detail = admin.get(r.headers["location"])
    assert "Pengguna ditambahkan" in detail.text and "Andi Saputra, S.STP." in detail.text
    with session_scope(api.services.engine) as session:
        user = session.exec(select(User).where(User.username == "andi.saputra")).one()
        assert user.role_set == {"drafter"} and user.opd == "Bagian Pemerintahan" and user.nip == "198001012005011001"
        assert user.password_hash.startswith("$argon2id$") and NEW_PASSWORD not in user.password_hash
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()]
        assert actions[-2:] == ["user_add", "user_password"]
        assert not accounts.valid_tokens(session, None, username="andi.saputra"), "no API token nobody was shown"
    andi = people("andi.saputra", NEW_PASSWORD)
    assert "Andi Saputra" in andi.get("/").text


def test_a_generated_password_is_shown_once_not_cached_and_works(api, people):
    admin = people("u-admin")
    r = post(admin, "/admin/pengguna/baru", new_user_form(password="", roles=["paraf"]), "/admin/pengguna/baru")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    shown = doc(r).get_element_by_id("kata-sandi-baru").text_content().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}", shown)
    assert shown not in admin.get("/admin/pengguna/andi.saputra").text, "shown once only"
    people("andi.saputra", shown)


def test_an_admin_changes_roles_jabatan_and_sop_position(api, people):
    admin = people("u-admin")
    form = new_user_form(roles=["paraf", "signer"], posisi=["sekda"], jabatan="Sekretaris Daerah")
    form = [(k, v) for k, v in form if k not in ("username", "password")]
    r = post(admin, "/admin/pengguna/u-drafter", form, "/admin/pengguna/u-drafter")
    assert r.status_code == 303 and r.headers["location"].endswith("pesan=disimpan")
    with session_scope(api.services.engine) as session:
        user = session.exec(select(User).where(User.username == "u-drafter")).one()
        assert (
            user.role_set == {"paraf", "signer"}
            and user.posisi_set == {"sekda"}
            and user.jabatan == "Sekretaris Daerah"
        )
        entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc())).first()
        assert entry.action == "user_update" and "roles" in entry.detail["fields"]
    page = doc(admin.get("/admin/pengguna/u-drafter"))
    assert page.get_element_by_id("f-roles-signer").get("checked") is not None
    assert page.get_element_by_id("f-posisi-sekda").get("checked") is not None


def test_reset_password_the_new_one_works_the_old_one_no_longer_and_sessions_end(api, people):
    admin = people("u-admin")
    drafter = people("u-drafter")
    r = post(admin, "/admin/pengguna/u-drafter/kata-sandi", {"password": NEW_PASSWORD}, "/admin/pengguna/u-drafter")
    assert r.status_code == 303 and r.headers["location"].endswith("pesan=sandi")
    assert not signed_in(drafter), "the open session ended with the reset"
    fresh = TestClient(api.client.app, base_url=str(api.client.base_url))
    refused = _sign_in(fresh, "u-drafter", PASSWORD)
    assert refused.status_code == 401 and "wrong_credentials" not in refused.text  # said in Indonesian
    assert "Nama pengguna atau kata sandi salah" in refused.text
    people("u-drafter", NEW_PASSWORD)
    fresh.close()


def test_a_generated_reset_password_is_shown_once_and_works(api, people):
    admin = people("u-admin")
    r = post(admin, "/admin/pengguna/u-legal/kata-sandi", {"password": ""}, "/admin/pengguna/u-legal")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    shown = doc(r).get_element_by_id("kata-sandi-baru").text_content().strip()
    people("u-legal", shown)


def test_deactivating_asks_first_then_kills_an_open_session_and_the_api_tokens_at_once(api, people):
    admin = people("u-admin")
    drafter = people("u-drafter")
    assert api.client.get("/api/v1/cases", headers=api.auth("drafter")).status_code == 200
    confirm = admin.get("/admin/pengguna/u-drafter/nonaktifkan")
    assert confirm.status_code == 200 and "Nonaktifkan" in confirm.text
    form = doc(confirm).xpath('//main//form[@method="post"]')[0]
    assert form.get("action") == "/admin/pengguna/u-drafter/nonaktifkan"
    with session_scope(api.services.engine) as session:  # looking at the confirmation changed nothing
        assert session.exec(select(User).where(User.username == "u-drafter")).one().active
    r = post(admin, "/admin/pengguna/u-drafter/nonaktifkan", {}, "/admin/pengguna/u-drafter")
    assert r.status_code == 303 and r.headers["location"].endswith("pesan=nonaktif")
    assert not signed_in(drafter)
    assert api.client.get("/api/v1/cases", headers=api.auth("drafter")).status_code == 401
    fresh = TestClient(api.client.app, base_url=str(api.client.base_url))
    assert _sign_in(fresh, "u-drafter", PASSWORD).status_code == 401
    r = post(admin, "/admin/pengguna/u-drafter/aktifkan", {}, "/admin/pengguna/u-drafter")
    assert r.status_code == 303
    assert _sign_in(fresh, "u-drafter", PASSWORD).status_code == 303
    fresh.close()


def test_the_list_searches_and_filters_by_role_and_status(api, people):
    admin = people("u-admin")
    with session_scope(api.services.engine) as session:
        accounts.set_user_active(session, None, "u-legal", False)

    def names(query: str) -> set[str]:
        r = admin.get("/admin/pengguna" + query)
        assert r.status_code == 200
        return {tr.get("data-username") for tr in doc(r).xpath("//tr[@data-username]")}

    assert {"u-admin", "u-drafter", "sekda", "bupati"} <= names("")
    assert names("?q=katsul") == {"sekda"}
    assert names("?peran=signer") == {"u-signer", "bupati"}
    assert names("?status=nonaktif") == {"u-legal"}
    assert "u-legal" not in names("?status=aktif&peran=legal")


def test_every_admin_page_and_action_is_refused_to_anyone_not_admin(api, people):
    drafter = people("u-drafter")
    for path in [
        *ADMIN_PAGES,
        "/admin",
        "/admin/pengguna/u-signer/nonaktifkan",
        "/admin/pengguna/u-signer/sesi/akhiri",
    ]:
        r = drafter.get(path, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
        assert "memerlukan peran: admin" in r.text
    assert "Administrasi" not in drafter.get("/").text
    token = csrf_of(drafter, "/")
    for path, data in [
        ("/admin/pengguna/baru", new_user_form()),
        ("/admin/pengguna/u-signer/kata-sandi", [("password", NEW_PASSWORD)]),
        ("/admin/pengguna/u-signer/nonaktifkan", []),
        ("/admin/pengguna/u-signer/sesi/akhiri", []),
    ]:
        r = drafter.post(path, data=as_form([*data, ("csrf_token", token)]), follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
    with session_scope(api.services.engine) as session:
        assert session.exec(select(User).where(User.username == "andi.saputra")).first() is None
        assert session.exec(select(User).where(User.username == "u-signer")).one().active
    people("u-signer")  # its password unchanged
    assert "Administrasi" in people("u-admin").get("/").text


def test_an_admin_post_without_the_csrf_token_is_refused(api, people):
    admin = people("u-admin")
    r = admin.post("/admin/pengguna/u-drafter/nonaktifkan", data={}, follow_redirects=False)
    assert r.status_code == 403 and "csrf_token_missing" in r.text


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"username": "Andi Saputra!"}, "username", "huruf kecil"),
        ({"username": "u-drafter"}, "username", "sudah ada"),
        ({"roles": []}, "roles", "Peran: paling sedikit 1"),
        ({"posisi": ["wakil_presiden"]}, "posisi", "tidak ada di profil SOP"),
        ({"nik": "12345"}, "nik", "16 digit"),
        ({"password": "pendek"}, "password", "paling sedikit 10"),
        ({"nama": ""}, "nama", "Nama lengkap: tidak boleh kosong"),
    ],
)
def test_bad_input_is_marked_on_its_field_the_rest_kept_and_nothing_saved(api, people, changes, field, says):
    admin = people("u-admin")
    r = post(admin, "/admin/pengguna/baru", new_user_form(**changes), "/admin/pengguna/baru")
    assert r.status_code == 422, r.text[:500]
    assert field in invalid_fields(r), invalid_fields(r)
    summary = doc(r).xpath('//*[contains(@class, "error-summary")]')[0].text_content()
    assert says in summary
    page = doc(r)
    assert page.get_element_by_id("f-jabatan").get("value") == "Analis Kerja Sama", "input kept"
    assert page.get_element_by_id("f-password").get("value") is None, "a password is never sent back"
    with session_scope(api.services.engine) as session:
        assert session.exec(select(User).where(User.username == "andi.saputra")).first() is None


def test_bad_edits_and_a_weak_reset_password_are_marked_on_their_fields(api, people):
    admin = people("u-admin")
    form = [(k, v) for k, v in new_user_form(roles=[]) if k not in ("username", "password")]
    r = post(admin, "/admin/pengguna/u-drafter", form, "/admin/pengguna/u-drafter")
    assert r.status_code == 422 and "roles" in invalid_fields(r)
    r = post(admin, "/admin/pengguna/u-drafter/kata-sandi", {"password": "pendek"}, "/admin/pengguna/u-drafter")
    assert r.status_code == 422 and "password" in invalid_fields(r) and "paling sedikit 10" in r.text
    r = post(
        admin,
        "/admin/pengguna/u-admin",
        [(k, v) for k, v in form if k != "roles"] + [("roles", "drafter")],
        "/admin/pengguna/u-admin",
    )
    assert r.status_code == 422 and "mencabut peran admin dari dirinya sendiri" in r.text
    people("u-drafter")  # the password is unchanged


# --- sessions and tokens ------------------------------------------------------------------------------


def test_sessions_are_listed_without_secrets_and_one_or_all_can_be_ended(api, people):
    admin = people("u-admin")
    first, second, third = people("u-drafter"), people("u-drafter"), people("u-drafter")
    page = admin.get("/admin/sesi")
    rows = doc(page).xpath('//tr[@data-username="u-drafter"]')
    assert len(rows) == 3
    for client in (first, second, third):
        assert client.cookies.get(SESSION_COOKIE) not in page.text
    own_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    with session_scope(api.services.engine) as session:
        for row in session.exec(select(WebSession)).all():
            assert row.id_hash not in page.text
            assert row.csrf_token == own_csrf or row.csrf_token not in page.text, "only the admin's own form token"
    ids = sorted(int(r.get("data-session")) for r in rows)
    confirm = admin.get(f"/admin/sesi/{ids[0]}/akhiri")
    assert confirm.status_code == 200 and "Akhiri sesi" in confirm.text
    r = post(admin, f"/admin/sesi/{ids[0]}/akhiri?kembali=/admin/sesi", {}, "/admin/sesi")
    assert r.status_code == 303 and r.headers["location"] == "/admin/sesi?pesan=sesi"
    assert [signed_in(c) for c in (first, second, third)] == [False, True, True]
    assert post(admin, f"/admin/sesi/{ids[0]}/akhiri", {}, "/admin/sesi").status_code == 404
    r = post(admin, "/admin/pengguna/u-drafter/sesi/akhiri", {}, "/admin/pengguna/u-drafter")
    assert r.status_code == 303
    assert not signed_in(second) and not signed_in(third) and signed_in(admin)
    with session_scope(api.services.engine) as session:
        ends = [e for e in session.exec(select(AuditEntry)).all() if e.action == "session_end"]
        assert [e.detail.get("session_id") for e in ends] == [ids[0], None]


def test_a_token_is_listed_without_its_value_and_revoked_after_confirming(api, people):
    admin = people("u-admin")
    page = admin.get("/admin/sesi")
    assert api.tokens["drafter"] not in page.text
    with session_scope(api.services.engine) as session:
        (_user, token), *_ = accounts.valid_tokens(session, None, username="u-drafter")
        token_id = token.id
    assert doc(page).xpath(f'//tr[@data-token="{token_id}"]')
    confirm = admin.get(f"/admin/pengguna/u-drafter/token/{token_id}/cabut?kembali=/admin/sesi")
    assert confirm.status_code == 200 and "Cabut token" in confirm.text
    r = post(admin, f"/admin/pengguna/u-drafter/token/{token_id}/cabut?kembali=/admin/sesi", {}, "/admin/sesi")
    assert r.status_code == 303 and r.headers["location"] == "/admin/sesi?pesan=token"
    assert api.client.get("/api/v1/cases", headers=api.auth("drafter")).status_code == 401
    assert not doc(admin.get("/admin/sesi")).xpath(f'//tr[@data-token="{token_id}"]')


def test_a_return_address_elsewhere_is_not_followed(api, people):
    admin = people("u-admin")
    drafter_session = people("u-drafter")
    sid = int(doc(admin.get("/admin/sesi")).xpath('//tr[@data-username="u-drafter"]')[0].get("data-session"))
    r = post(admin, f"/admin/sesi/{sid}/akhiri?kembali=https://jahat.example/", {}, "/admin/sesi")
    assert r.headers["location"] == "/admin/sesi?pesan=sesi"
    assert not signed_in(drafter_session)


# --- the signer configuration -----------------------------------------------------------------------


def make_certificate(common_name: str, not_after: dt.datetime, *, serial: int = 0x5A17) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "CA Uji Naskah"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "BSrE Uji"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_after - dt.timedelta(days=700))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def configure_signers(services: Any, folder: Path) -> dict[str, Any]:
    """Three configured officials: Sekda's PKCS#12 with readable certificates expiring in 10 days (amber),
    the Bupati's encrypted PKCS#12 with a registered certificate that expired (red), and a BSrE official
    with an application password (never shown)."""
    now = dt.datetime.now(dt.UTC)
    key, soon = make_certificate("Dr. Katsul Wijaya", now + dt.timedelta(days=10), serial=0xABCDEF)
    sekda = folder / "rahasia-folder" / "sekda.p12"
    sekda.parent.mkdir()
    sekda.write_bytes(pkcs12.serialize_key_and_certificates(b"sekda", key, soon, None, serialization.NoEncryption()))
    key2, old = make_certificate("dr. Fahmi Fadli", now - dt.timedelta(days=3), serial=0x1234)
    bupati = folder / "rahasia-folder" / "bupati.p12"
    bupati.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"bupati", key2, old, None, serialization.BestAvailableEncryption(b"passphrase-bupati")
        )
    )
    services.signer_backends = {
        "sekda": {"kind": "pkcs12", "path": str(sekda)},
        "bupati": {"kind": "pkcs12", "path": str(bupati)},
        "kabag_hukum": {
            "kind": "bsre",
            "base_url": "https://esign.paserkab.go.id",
            "username": "naskah-app",
            "password": "sandi-aplikasi-bsre",
            "signer_id": "6401011203800001",
        },
    }
    with session_scope(services.engine) as session:
        accounts.register(session, None, "bupati", certificate=old.public_bytes(serialization.Encoding.PEM))
    return {"soon": soon, "old": old}


def test_the_signer_page_shows_backends_certificates_and_expiry_warnings_without_secrets(api, people, tmp_path):
    certs = configure_signers(api.services, tmp_path)
    admin = people("u-admin")
    r = admin.get("/admin/penanda-tangan")
    assert r.status_code == 200
    page = doc(r)
    sekda = page.xpath('//article[@data-username="sekda"]')[0]
    assert "signer-segera" in sekda.get("class")
    box = sekda.xpath('.//*[@data-state="segera"]')[0].text_content()
    assert "Katsul Wijaya" in box and "CA Uji Naskah" in box and "abcdef" in box and "Berakhir dalam" in box
    bupati = page.xpath('//article[@data-username="bupati"]')[0]
    assert "signer-kedaluwarsa" in bupati.get("class")
    assert "Kedaluwarsa" in bupati.xpath('.//*[@data-state="kedaluwarsa"]')[0].text_content()
    assert "terenkripsi" in bupati.text_content()
    hukum = page.xpath('//article[@data-username="kabag_hukum"]')[0].text_content()
    assert "BSrE" in hukum and "************0001" in hukum
    registered = page.xpath('//table[@id="daftar-sertifikat"]//tr[@data-username="bupati"]')[0]
    assert registered.get("data-state") == "kedaluwarsa" and "1234" in registered.text_content()
    for secret in ("sandi-aplikasi-bsre", "6401011203800001", "passphrase-bupati", str(tmp_path), "rahasia-folder"):
        assert secret not in r.text, secret
    assert certs["soon"].serial_number == 0xABCDEF


def test_the_signer_page_with_no_configuration_says_so(api, people):
    r = people("u-admin").get("/admin/penanda-tangan")
    assert r.status_code == 200 and "Belum ada penanda tangan yang dikonfigurasi" in r.text


def test_no_secret_is_on_any_admin_page(api, people, tmp_path):
    configure_signers(api.services, tmp_path)
    admin = people("u-admin")
    drafter = people("u-drafter")
    with session_scope(api.services.engine) as session:
        hashes_ = [u.password_hash for u in session.exec(select(User)).all() if u.password_hash]
        sessions = [(s.id_hash, s.csrf_token) for s in session.exec(select(WebSession)).all()]
    secrets = [
        *api.tokens.values(),
        PASSWORD,
        drafter.cookies.get(SESSION_COOKIE),
        admin.cookies.get(SESSION_COOKIE),
        *hashes_,
        *[h for h, _c in sessions],
        "sandi-aplikasi-bsre",
        "passphrase-bupati",
        "$argon2id$",
    ]
    own_csrf = csrf_of(admin, "/admin/sesi")
    for path in [*ADMIN_PAGES, "/admin/pengguna/bupati", "/admin/pengguna/u-drafter/nonaktifkan"]:
        text = admin.get(path).text
        for secret in secrets:
            assert secret not in text, (path, secret[:12])
        for _h, csrf in sessions:
            assert csrf == own_csrf or csrf not in text, path  # only the page's own form token


# --- the API twins ------------------------------------------------------------------------------------


def test_admin_api_resets_a_password_lists_and_ends_sessions_and_shows_signers(api, people, tmp_path):
    configure_signers(api.services, tmp_path)
    drafter = people("u-drafter")
    auth = api.auth("admin")
    listed = api.client.get("/api/v1/admin/sessions", params={"username": "u-drafter"}, headers=auth).json()
    assert listed["count"] == 1 and set(listed["data"][0]) == {
        "id",
        "username",
        "nama",
        "created_at",
        "last_seen_at",
        "ends_at",
    }
    ended = api.client.delete(f"/api/v1/admin/sessions/{listed['data'][0]['id']}", headers=auth)
    assert ended.status_code == 200 and ended.json() == {"username": "u-drafter", "sesi_berakhir": 1}
    assert not signed_in(drafter)
    again = people("u-drafter")
    r = api.client.post("/api/v1/admin/users/u-drafter/password", json={}, headers=auth)
    assert r.status_code == 200 and r.json()["password"] and r.json()["sesi_berakhir"] == 1
    assert not signed_in(again), "a reset by the API ends the sessions too"
    people("u-drafter", r.json()["password"])
    assert api.client.delete("/api/v1/admin/users/u-drafter/sessions", headers=auth).json()["sesi_berakhir"] == 1
    last = people("u-drafter", r.json()["password"])
    assert api.client.post("/api/v1/admin/users/u-drafter/deactivate", headers=auth).status_code == 200
    assert not signed_in(last), "deactivated by the API: the browser is out at once"
    weak = api.client.post("/api/v1/admin/users/u-drafter/password", json={"password": "pendek"}, headers=auth)
    assert weak.status_code == 422 and weak.json()["detail"]["field"] == "password"
    signers = api.client.get("/api/v1/admin/signers", headers=auth)
    assert signers.status_code == 200 and "sandi-aplikasi-bsre" not in signers.text
    states = {s["username"]: [c["state"] for c in s["certificates"]] for s in signers.json()["data"]}
    assert states == {"bupati": ["kedaluwarsa"], "kabag_hukum": [], "sekda": ["segera"]}
    for path in ("/api/v1/admin/sessions", "/api/v1/admin/signers"):
        assert api.client.get(path, headers=api.auth("legal")).status_code == 403


# --- no lock-out: oneself, the last admin ---------------------------------------------------------------


def test_an_admin_cannot_deactivate_themselves_and_is_told_why(api, people):
    admin = people("u-admin")
    confirm = admin.get("/admin/pengguna/u-admin/nonaktifkan")
    assert confirm.status_code == 422 and "tidak dapat menonaktifkan akunnya sendiri" in confirm.text
    assert not doc(confirm).xpath('//main//form[@method="post"]'), "no button that can only fail"
    r = post(admin, "/admin/pengguna/u-admin/nonaktifkan", {}, "/admin/pengguna/u-admin")
    assert r.status_code == 422 and "tidak dapat menonaktifkan akunnya sendiri" in r.text
    assert "Minta admin lain" in r.text
    api_refusal = api.client.post("/api/v1/admin/users/u-admin/deactivate", headers=api.auth("admin"))
    assert api_refusal.status_code == 422 and api_refusal.json()["detail"]["reason"] == "self_lockout"
    assert signed_in(admin)
    assert api.client.get("/api/v1/admin/users", headers=api.auth("admin")).status_code == 200
    with session_scope(api.services.engine) as session:
        assert session.exec(select(User).where(User.username == "u-admin")).one().active


def test_the_last_active_admin_can_neither_be_deactivated_nor_lose_the_role(api, people):
    """Two admins: one may remove the other; the one left cannot be removed, by anyone (the command
    line's None actor included), by deactivating or by taking the role away; with a second admin again,
    it can."""
    with session_scope(api.services.engine) as session:
        accounts.add_user(
            session, None, api.services.profile, username="admin2", nama="Admin Dua", jabatan="Pranata", roles=["admin"]
        )
    r = api.client.post("/api/v1/admin/users/admin2/deactivate", headers=api.auth("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    for attempt in (
        lambda s: accounts.set_user_active(s, None, "u-admin", False),
        lambda s: accounts.change_user(s, None, api.services.profile, "u-admin", roles=["drafter"]),
    ):
        with pytest.raises(InvalidInput) as caught, session_scope(api.services.engine) as session:
            attempt(session)
        assert caught.value.detail["reason"] == "last_admin"
        assert "satu-satunya admin aktif" in caught.value.message
    with session_scope(api.services.engine) as session:
        assert session.exec(select(User).where(User.username == "u-admin")).one().role_set == {"admin"}
        accounts.set_user_active(session, None, "admin2", True)
    with session_scope(api.services.engine) as session:  # two admins again: one may go
        accounts.change_user(session, None, api.services.profile, "u-admin", roles=["drafter", "admin"])
        accounts.set_user_active(session, None, "admin2", False)
    with pytest.raises(InvalidInput), session_scope(api.services.engine) as session:
        accounts.set_user_active(session, None, "u-admin", False)


# --- no secret in the database or the logs ---------------------------------------------------------


def _database_text(engine: Any) -> str:
    """Every row of every table as text (what someone holding a copy of the database reads)."""
    from sqlalchemy import MetaData
    from sqlalchemy import select as sa_select

    meta = MetaData()
    meta.reflect(engine)
    out = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            out += [repr(tuple(row)) for row in conn.execute(sa_select(table)).all()]
    return "\n".join(out)


def test_no_password_or_token_is_kept_in_clear_in_the_database_logs_or_later_pages(api, people, caplog):
    caplog.set_level(logging.DEBUG)
    admin = people("u-admin")
    chosen = post(admin, "/admin/pengguna/baru", new_user_form(), "/admin/pengguna/baru")
    assert chosen.status_code == 303
    made = post(admin, "/admin/pengguna/baru", new_user_form(username="budi", password=""), "/admin/pengguna/baru")
    generated = doc(made).get_element_by_id("kata-sandi-baru").text_content().strip()
    reset = post(admin, "/admin/pengguna/u-legal/kata-sandi", {"password": ""}, "/admin/pengguna/u-legal")
    reset_shown = doc(reset).get_element_by_id("kata-sandi-baru").text_content().strip()
    auth = api.auth("admin")
    by_api = api.client.post("/api/v1/admin/users/u-drafter/password", json={}, headers=auth).json()["password"]
    issued = api.client.post("/api/v1/admin/users/budi/tokens", json={"label": "skrip"}, headers=auth).json()
    token = issued["token"]
    budi = people("budi", generated)
    secrets = [NEW_PASSWORD, generated, reset_shown, by_api, token, PASSWORD, *api.tokens.values()]
    secrets += [c.cookies.get(SESSION_COOKIE) for c in (admin, budi)]
    assert len(set(secrets)) == len(secrets)
    stored = _database_text(api.services.engine)
    assert "$argon2id$" in stored and "budi" in stored  # the dump did read the accounts
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in stored, secret[:6]
        assert secret not in logged, secret[:6]
    for path in ("/admin/pengguna", "/admin/pengguna/budi", "/admin/pengguna/u-legal", "/admin/sesi"):
        text = admin.get(path).text
        for secret in secrets:
            assert secret not in text, (path, secret[:6])


# --- the matrix: every admin page and API route, every person who is not admin ---------------------------


def _admin_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route of the admin API and the admin pages, read from their
    routers: a route added later is in the matrix without anyone remembering to add it."""
    from api.routes import admin as admin_api
    from api.web import admin as admin_pages

    out = [(m, "/api/v1" + r.path) for r in admin_api.router.routes for m in sorted(r.methods)]
    out += [(m, r.path) for r in admin_pages.router.routes for m in sorted(r.methods)]
    return out


def _state(engine: Any) -> dict[str, Any]:
    """What an admin action could change: the accounts, their passwords, tokens, sessions, certificates
    and the audit trail's length."""
    from pipeline.models import ApiToken, UserCertificate

    with session_scope(engine) as session:
        return {
            "users": sorted(
                (u.username, u.active, u.roles, u.posisi, u.jabatan, u.password_hash)
                for u in session.exec(select(User)).all()
            ),
            "tokens": sorted((t.id, t.revoked_at) for t in session.exec(select(ApiToken)).all()),
            "sessions": sorted(s.id for s in session.exec(select(WebSession)).all()),
            "certificates": sorted((c.sha256, c.removed_at) for c in session.exec(select(UserCertificate)).all()),
            "audit": len(session.exec(select(AuditEntry)).all()),
        }


NOT_ADMIN = ["u-drafter", "u-legal", "u-paraf", "u-signer", "u-secretariat", *OFFICIALS]


def test_every_admin_page_and_api_route_refuses_everyone_who_is_not_admin(api, people):
    """Each non-admin role and each official of the SOP chain, on every route of both routers, with a
    well-formed request aimed at the admin's own account, token and session: 403 (or 404), nothing
    changed.  Without a sign-in: 401 from the API, the sign-in page for a page (a GET or a POST)."""
    admin = people("u-admin")
    with session_scope(api.services.engine) as session:
        (_u, admin_token), *_ = accounts.valid_tokens(session, None, username="u-admin")
        admin_session = session.exec(select(WebSession)).one().id
        accounts.register(session, None, "u-admin", sha256="ab" * 32)
    values = {"username": "u-admin", "token_id": admin_token.id, "session_id": admin_session, "sha256": "ab" * 32}
    routes = _admin_routes()
    assert len(routes) >= 36 and ("GET", "/admin/penanda-tangan") in routes
    json_bodies = {
        ("POST", "/api/v1/admin/users"): {
            "username": "andi.saputra",
            "nama": "Andi",
            "jabatan": "Analis",
            "roles": ["admin"],
        },
        ("PATCH", "/api/v1/admin/users/{username}"): {"roles": ["drafter"]},
        ("POST", "/api/v1/admin/users/{username}/tokens"): {"label": "curian"},
        ("POST", "/api/v1/admin/users/{username}/certificates/sha256"): {"sha256": "cd" * 32},
        ("POST", "/api/v1/admin/users/{username}/password"): {"password": NEW_PASSWORD},
    }
    form_bodies = {
        "/admin/pengguna/baru": new_user_form(roles=["admin"]),
        "/admin/pengguna/{username}": [(k, v) for k, v in new_user_form(roles=["drafter"]) if k != "username"],
        "/admin/pengguna/{username}/kata-sandi": [("password", NEW_PASSWORD)],
    }
    _key, pem = make_certificate("Penyusup", dt.datetime.now(dt.UTC) + dt.timedelta(days=90))
    clients = {username: people(username) for username in NOT_ADMIN}
    before = _state(api.services.engine)
    tried = 0
    for username, client in clients.items():
        csrf = csrf_of(client, "/")
        bearer = {"Authorization": f"Bearer {api.tokens[username.removeprefix('u-')]}"}
        for method, template in routes:
            path = template.replace("{sha256:fingerprint}", "{sha256}").format(**values)
            if template.startswith("/api/"):
                kwargs: dict[str, Any] = {"headers": bearer}
                if (method, template) in json_bodies:
                    kwargs["json"] = json_bodies[(method, template)]
                elif template.endswith("/certificates") and method == "POST":
                    kwargs["files"] = {"file": ("c.pem", pem.public_bytes(serialization.Encoding.PEM))}
                r = api.client.request(method, path, **kwargs)
            elif method == "POST":
                data = as_form([*form_bodies.get(template, []), ("csrf_token", csrf)])
                r = client.post(path, data=data, follow_redirects=False)
            else:
                r = client.get(path, follow_redirects=False)
            assert r.status_code in (403, 404), (username, method, path, r.status_code, r.text[:200])
            tried += 1
    assert tried == len(routes) * len(NOT_ADMIN)
    assert _state(api.services.engine) == before, "nothing changed"
    assert signed_in(admin) and all(signed_in(c) for c in clients.values())
    anonymous = TestClient(api.client.app, base_url=str(api.client.base_url))
    for method, template in routes:
        path = template.replace("{sha256:fingerprint}", "{sha256}").format(**values)
        r = anonymous.request(method, path, follow_redirects=False)
        if template.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
        else:  # a page, read or form: to the sign-in page, nothing done
            assert r.status_code == 303 and r.headers["location"].startswith("/masuk"), (path, r.status_code)
    anonymous.close()
    assert _state(api.services.engine) == before


def test_two_admins_deactivating_each_other_at_once_on_postgres_leave_one_admin(services, pg_server, pg_template):
    """The race the last-admin rule must survive: each admin deactivates the other in a transaction held
    open a moment.  One succeeds; the other waits for it and is then refused (``last_admin``)."""
    import threading
    import time

    from pipeline.auth import create_user
    from storage.db import make_engine

    engine = make_engine(pg_server.url(pg_server.new_database(pg_template)))
    with session_scope(engine) as session:
        for name in ("admin-a", "admin-b"):
            create_user(session, username=name, nama=name, jabatan="Pranata Komputer", roles=["admin"])
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def deactivate(actor_name: str, target: str) -> None:
        try:
            with session_scope(engine) as session:
                actor = session.exec(select(User).where(User.username == actor_name)).one()
                barrier.wait()
                accounts.set_user_active(session, actor, target, False)
                time.sleep(0.5)  # the other runs meanwhile
            results[actor_name] = "ok"
        except InvalidInput as exc:
            results[actor_name] = exc.detail["reason"]
        except Exception as exc:  # a deadlock, say: what the rule must not end in
            results[actor_name] = type(exc).__name__

    threads = [
        threading.Thread(target=deactivate, args=("admin-a", "admin-b")),
        threading.Thread(target=deactivate, args=("admin-b", "admin-a")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with session_scope(engine) as session:
        active = [u.username for u in session.exec(select(User)).all() if u.active and "admin" in u.role_set]
    engine.dispose()
    assert sorted(results.values()) == ["last_admin", "ok"], results
    assert len(active) == 1
