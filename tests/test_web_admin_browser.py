"""The administration pages in a real browser (Debian's Chromium; tests/fixtures/browser.py): an admin adds
a user whose generated password is shown once, that user signs in with it, is deactivated after a
confirmation and is out at once; the signer page shows the expiry warnings; axe-core finds no serious or
critical violation, the CSP blocks nothing, and a 390-px phone needs no horizontal scrolling.  The
screenshots the README shows: ``NASKAH_SCREENSHOTS=1`` writes docs/img/web-admin-pengguna.png and
docs/img/web-admin-penanda-tangan.png.

The live server is shared by every browser test file of a worker: this file changes only accounts it
creates (``adm-…``) and puts the signer configuration back as it found it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pipeline import accounts
from storage.db import session_scope
from tests.fixtures.browser import PASSWORD, axe_violations, screenshot
from tests.test_web_admin import make_certificate

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def csp_watch(page: Any) -> list[str]:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return blocked


def fits(page: Any) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


def test_an_admin_adds_a_user_shown_the_password_once_then_deactivates_them(live, tmp_path):
    admin = live.sign_in("u-admin", viewport=DESKTOP)
    blocked = csp_watch(admin)
    admin.click('nav a[href="/admin"]')
    admin.wait_for_url(f"{live.url}/admin/pengguna")
    assert admin.locator('tr[data-username="u-drafter"]').count() == 1
    assert axe_violations(admin) == []
    screenshot(admin, "web-admin-pengguna", tmp_path)

    admin.click("text=Tambah pengguna")
    admin.wait_for_url(f"{live.url}/admin/pengguna/baru")
    admin.fill("#f-username", "adm-rina")
    admin.fill("#f-nama", "Rina Marlina, S.H.")
    admin.fill("#f-jabatan", "Analis Hukum")
    admin.check("#f-roles-legal")
    admin.click("main button[type=submit]")  # no password typed: one is generated
    secret = admin.locator("#kata-sandi-baru").inner_text().strip()
    assert len(secret) == 19
    assert axe_violations(admin) == []

    rina = live.sign_in("adm-rina", secret, viewport=DESKTOP)
    assert "Rina Marlina" in rina.content()
    assert rina.locator('nav a[href="/admin"]').count() == 0
    assert rina.goto("/admin/pengguna").status == 403

    admin.click("text=Selesai")
    admin.wait_for_url(f"{live.url}/admin/pengguna/adm-rina")
    assert secret not in admin.content(), "shown once only"
    assert admin.locator("[data-session]").count() == 1
    assert axe_violations(admin) == []
    admin.click("text=Nonaktifkan pengguna")
    admin.wait_for_url(f"{live.url}/admin/pengguna/adm-rina/nonaktifkan")
    assert axe_violations(admin) == []
    admin.click("main button[type=submit]")
    admin.wait_for_url(f"{live.url}/admin/pengguna/adm-rina?pesan=nonaktif")
    assert "langsung tidak berlaku" in admin.locator("[role=status]").first.inner_text()

    rina.reload()
    assert "/masuk" in rina.url, "the open session ended at once"
    admin.goto("/admin/sesi")
    assert admin.locator('tr[data-username="adm-rina"]').count() == 0
    assert axe_violations(admin) == []
    assert blocked == []


@pytest.fixture
def signers(live, tmp_path) -> Iterator[dict[str, Any]]:
    """Two officials of this file configured with PKCS#12 files: one whose certificate ends in 12 days
    (amber), one whose registered certificate expired (red); the configuration put back afterwards."""
    folder = tmp_path / "folder-rahasia-adm"
    folder.mkdir()
    now = dt.datetime.now(dt.UTC)
    key, soon = make_certificate("Ir. Adm Segera, M.T.", now + dt.timedelta(days=12), serial=0xA11CE)
    soon_file = folder / "segera.p12"
    soon_file.write_bytes(pkcs12.serialize_key_and_certificates(b"s", key, soon, None, serialization.NoEncryption()))
    key2, old = make_certificate("Adm Lewat, S.E.", now - dt.timedelta(days=5), serial=0xB0B)
    old_file = folder / "lewat.p12"
    old_file.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"l", key2, old, None, serialization.BestAvailableEncryption(b"rahasia-lewat")
        )
    )
    with session_scope(live.services.engine) as session:
        for username, nama in (("adm-segera", "Ir. Adm Segera, M.T."), ("adm-lewat", "Adm Lewat, S.E.")):
            if accounts.find_users(session, None, q=username) == []:
                accounts.add_web_user(
                    session,
                    None,
                    live.services.profile,
                    password=PASSWORD,
                    username=username,
                    nama=nama,
                    jabatan="Kepala Dinas",
                    roles=["signer"],
                )
        accounts.register(session, None, "adm-lewat", certificate=old.public_bytes(serialization.Encoding.PEM))
    saved = live.services.signer_backends
    live.services.signer_backends = {
        **(saved or {}),
        "adm-segera": {"kind": "pkcs12", "path": str(soon_file)},
        "adm-lewat": {"kind": "pkcs12", "path": str(old_file)},
    }
    try:
        yield {"soon": soon, "old": old}
    finally:
        live.services.signer_backends = saved
        with session_scope(live.services.engine) as session:
            accounts.unregister(session, None, "adm-lewat", old.fingerprint(hashes.SHA256()).hex())


def test_the_signer_page_warns_of_expiry_passes_axe_and_fits_a_phone(live, signers, tmp_path):
    admin = live.sign_in("u-admin", viewport=DESKTOP)
    blocked = csp_watch(admin)
    admin.goto("/admin/penanda-tangan")
    soon = admin.locator('article[data-username="adm-segera"]')
    assert "signer-segera" in soon.get_attribute("class")
    assert "a11ce" in soon.inner_text() and "Berakhir dalam 12 hari" in soon.inner_text()
    assert "Nama berkas\nsegera.p12" in soon.inner_text() and "path" not in soon.inner_text(), "labels in Indonesian"
    late = admin.locator('article[data-username="adm-lewat"]')
    assert "signer-kedaluwarsa" in late.get_attribute("class") and "Kedaluwarsa 5 hari lalu" in late.inner_text()
    assert "rahasia-lewat" not in admin.content() and "folder-rahasia-adm" not in admin.content(), (
        "no passphrase, no folder"
    )
    assert axe_violations(admin) == []
    screenshot(admin, "web-admin-penanda-tangan", tmp_path)
    assert blocked == []

    phone = live.sign_in("u-admin", **PHONE)
    for path in ("/admin/pengguna", "/admin/pengguna/adm-lewat", "/admin/sesi", "/admin/penanda-tangan"):
        phone.goto(path)
        fits(phone)
        assert axe_violations(phone) == [], path
    screenshot(phone, "web-admin-penanda-tangan-390", tmp_path)
