"""Least privilege (issue 12), the rest: tokens that expire and can be revoked (WWW-Authenticate on
401), the admin API for users and tokens, separation of duties, case data frozen once signed, and
the visibility rules' edges (a counterparty before the plan, OPD names, pihak luar accounts)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app
from api.demo import lambang_png
from pipeline import access
from pipeline.auth import authenticate, create_user, issue_token, new_token
from pipeline.errors import InvalidInput, Unauthenticated
from pipeline.models import ApiToken, AuditEntry, KerjaSama, User
from pipeline.sop import PROFILE_DIR, load_profile
from storage.db import make_engine, session_scope
from tests.test_access import WALIKOTA, add_users
from tests.test_api import case_body, create_case, create_naskah, naskah_body
from tests.test_archive import signed_kb
from tests.test_signing_flow import counterparty_signs, fully_initialled
from tests.test_workflow import approved_kb, post

SQLITE = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
TWO_DBS = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- an unrelated signer ----------------------------------------------------------------------


@TWO_DBS
def test_an_unrelated_signer_sees_no_case_naskah_history_or_audit(api):
    """The issue's finding: a signer with no step on a naskah got 200 on all of it."""
    nid = create_naskah(api, create_case(api))["id"]
    for path in ("/api/v1/cases", "/api/v1/arsip"):
        r = api.client.get(path, headers=api.auth("signer"))
        assert r.status_code == 200 and r.json() == {"data": [], "count": 0}
    for path in (f"naskah/{nid}", f"naskah/{nid}/history", f"naskah/{nid}/audit", f"naskah/{nid}/revisions/1/pdf"):
        r = api.client.get(f"/api/v1/{path}", headers=api.auth("signer"))
        assert r.status_code == 404 and r.json()["code"] == "not_found", path


# -- tokens -------------------------------------------------------------------------------------


@TWO_DBS
def test_a_missing_expired_or_revoked_token_is_401_with_www_authenticate(api):
    r = api.client.get("/api/v1/me")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="naskah"'
    assert r.json()["detail"]["reason"] == "missing_token" and "Bearer" in r.json()["message"]
    r = api.client.get("/api/v1/me", headers=bearer("nsk_tidak-ada"))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="naskah", error="invalid_token"'

    engine = api.services.engine
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == "u-drafter")).one()
        soon, row = new_token(session, user, "sebentar", days=1)
        old, old_row = new_token(session, user, "lama", now=dt.datetime.now(dt.UTC) - dt.timedelta(days=91))
        assert old_row.expires_at - old_row.created_at == dt.timedelta(days=90)  # the default lifetime
        with pytest.raises(InvalidInput):
            new_token(session, user, "terlalu lama", lifetime_days=90, days=91)
    assert api.client.get("/api/v1/me", headers=bearer(soon)).status_code == 200
    r = api.client.get("/api/v1/me", headers=bearer(old))
    assert r.status_code == 401 and r.json()["detail"]["reason"] == "token_expired"
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="naskah", error="invalid_token"'
    assert "kedaluwarsa" in r.json()["message"]
    with Session(engine) as session:  # expiry is decided by authenticate, the one function for every request
        assert authenticate(session, soon, now=row.expires_at - dt.timedelta(seconds=1)).username == "u-drafter"
        with pytest.raises(Unauthenticated):
            authenticate(session, soon, now=row.expires_at)

    r = api.client.delete(f"/api/v1/admin/users/u-drafter/tokens/{row.id}", headers=api.auth("admin"))
    assert r.status_code == 200 and r.json()["status"] == "dicabut"
    r = api.client.get("/api/v1/me", headers=bearer(soon))
    assert r.status_code == 401 and r.json()["detail"]["reason"] == "token_revoked"
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="naskah", error="invalid_token"'


def test_the_token_lifetime_comes_from_settings_and_the_cli_issues_shorter_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    monkeypatch.setenv("NASKAH_TOKEN_LIFETIME_DAYS", "30")
    runner = CliRunner()
    add = ["user", "add", "analis", "--nama", "Rina", "--jabatan", "Analis", "--role", "drafter"]
    assert runner.invoke(app, add).exit_code == 0
    short = runner.invoke(app, ["user", "token", "analis", "--label", "rapat", "--hari", "7"])
    assert short.exit_code == 0 and "berlaku sampai" in short.output, short.output
    too_long = runner.invoke(app, ["user", "token", "analis", "--hari", "31"])
    assert too_long.exit_code == 2 and "NASKAH_TOKEN_LIFETIME_DAYS" in too_long.output
    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    with Session(engine) as session:
        rows = session.exec(select(ApiToken).order_by(ApiToken.id)).all()
        assert [(r.label, (r.expires_at - r.created_at).days) for r in rows] == [("cli", 30), ("rapat", 7)]
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()]
        assert actions == ["user_add", "token_issue"]  # the command line's user administration is audited too
    listing = runner.invoke(app, ["user", "revoke", "analis"])
    assert "berlaku sampai" in listing.output and "rapat" in listing.output
    engine.dispose()


# -- the admin API ------------------------------------------------------------------------------


@TWO_DBS
def test_admin_api_manages_users_tokens_and_certificates_and_audits_each_change(api, dev_pki):
    admin = api.auth("admin")
    for who in ("drafter", "secretariat"):
        assert api.client.get("/api/v1/admin/users", headers=api.auth(who)).status_code == 403
    body = {
        "username": "kadis.dlh",
        "nama": "Ir. Budi Santoso, M.Si.",
        "jabatan": "Kepala Dinas Lingkungan Hidup",
        "roles": ["signer"],
        "nip": "19661211 198609 1 002",
        "opd": "Dinas Lingkungan Hidup Kabupaten Paser",
        "token_label": "kantor",
        "token_hari": 30,
    }
    r = api.client.post("/api/v1/admin/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["user"]["opd"] == body["opd"] and created["user"]["token_berlaku"] == 1
    assert created["token"]["token"].startswith("nsk_") and created["token"]["status"] == "berlaku"
    token = created["token"]["token"]
    me = api.client.get("/api/v1/me", headers=bearer(token)).json()
    assert me["username"] == "kadis.dlh" and me["opd"] == body["opd"] and me["pihak_luar"] is False
    assert api.client.post("/api/v1/admin/users", json=body, headers=admin).status_code == 409

    users = api.client.get("/api/v1/admin/users", headers=admin).json()
    assert "kadis.dlh" in [u["username"] for u in users["data"]] and users["count"] == len(users["data"])
    r = api.client.patch(
        "/api/v1/admin/users/kadis.dlh", json={"roles": ["signer", "paraf"], "posisi": ["sekda"]}, headers=admin
    )
    assert r.status_code == 200 and r.json()["roles"] == ["paraf", "signer"] and r.json()["posisi"] == ["sekda"]
    r = api.client.patch("/api/v1/admin/users/kadis.dlh", json={"nama": None, "opd": None}, headers=admin)
    assert r.json()["nama"] == body["nama"] and r.json()["opd"] is None  # null keeps a name, clears an OPD
    r = api.client.patch("/api/v1/admin/users/kadis.dlh", json={"opd": body["opd"]}, headers=admin)
    assert r.json()["opd"] == body["opd"]
    r = api.client.patch("/api/v1/admin/users/kadis.dlh", json={"posisi": ["gubernur"]}, headers=admin)
    assert r.status_code == 422 and "gubernur" in r.json()["message"]  # not a position of the profile
    r = api.client.patch("/api/v1/admin/users/kadis.dlh", json={"pihak_luar": True}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "pihak_luar_invalid"

    r = api.client.post("/api/v1/admin/users/kadis.dlh/tokens", json={"label": "ponsel", "hari": 7}, headers=admin)
    assert r.status_code == 201 and r.json()["label"] == "ponsel"
    second = r.json()["token"]
    tokens = api.client.get("/api/v1/admin/users/kadis.dlh/tokens", headers=admin).json()
    assert [t["label"] for t in tokens["data"]] == ["kantor", "ponsel"] and "token" not in tokens["data"][0]
    r = api.client.post("/api/v1/admin/users/kadis.dlh/tokens", json={"hari": 99999}, headers=admin)
    assert r.status_code == 422

    der = dev_pki.issue_person("Ir. Budi Santoso, M.Si.").certificate.dump()  # DER, as a PSrE hands it out
    r = api.client.post(
        "/api/v1/admin/users/kadis.dlh/certificates",
        files={"file": ("ttd.cer", der, "application/pkix-cert")},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    listed = api.client.get("/api/v1/admin/users/kadis.dlh/certificates", headers=admin).json()
    assert [c["sha256"] for c in listed["data"]] == [sha]
    assert api.client.delete(f"/api/v1/admin/users/kadis.dlh/certificates/{sha}", headers=admin).status_code == 200
    assert api.client.get("/api/v1/admin/users/kadis.dlh/certificates", headers=admin).json()["count"] == 0

    # deactivating makes every token fail at once, and they stay revoked after a reactivation
    r = api.client.post("/api/v1/admin/users/kadis.dlh/deactivate", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["token_berlaku"] == 0
    for t in (token, second):
        r = api.client.get("/api/v1/me", headers=bearer(t))
        assert r.status_code == 401 and r.json()["detail"]["reason"] in ("token_revoked", "user_inactive")
    assert api.client.post("/api/v1/admin/users/kadis.dlh/reactivate", headers=admin).json()["active"] is True
    assert api.client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    r = api.client.post("/api/v1/admin/users/u-admin/deactivate", headers=admin)
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "self_lockout"
    assert api.client.get("/api/v1/admin/users/tidak.ada", headers=admin).status_code == 404

    with session_scope(api.services.engine) as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
        trail = [(e.action, e.actor, e.detail.get("username")) for e in entries]
        assert not any("nsk_" in str(e.detail) for e in entries)  # never a token in the trail
    assert trail == [
        ("user_add", "u-admin", "kadis.dlh"),
        ("user_update", "u-admin", "kadis.dlh"),
        ("user_update", "u-admin", "kadis.dlh"),
        ("user_update", "u-admin", "kadis.dlh"),
        ("token_issue", "u-admin", "kadis.dlh"),
        ("certificate_register", "u-admin", "kadis.dlh"),
        ("certificate_remove", "u-admin", "kadis.dlh"),
        ("user_deactivate", "u-admin", "kadis.dlh"),
        ("user_reactivate", "u-admin", "kadis.dlh"),
    ]


def test_a_counterparty_account_is_a_signer_of_its_instansi_only(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/u.db")
    from storage.db import upgrade

    upgrade(engine)
    with session_scope(engine) as session:
        for wrong in (
            {"roles": ["signer", "drafter"], "instansi": "Pemerintah Kota Balikpapan"},
            {"roles": ["signer"]},  # no instansi
            {"roles": ["signer"], "instansi": "Pemerintah Kota Balikpapan", "opd": "Dinas Lingkungan Hidup"},
        ):
            with pytest.raises(InvalidInput) as err:
                create_user(session, username="mitra", nama="X", jabatan="Y", pihak_luar=True, **wrong)
            assert err.value.detail["reason"] == "pihak_luar_invalid"
        with pytest.raises(InvalidInput):  # an instansi is for a counterparty's official
            create_user(session, username="x", nama="X", jabatan="Y", roles=["signer"], instansi="Pemkot")
    engine.dispose()


# -- visibility edges ---------------------------------------------------------------------------


def test_opd_names_are_compared_whatever_their_case_spacing_and_punctuation():
    assert access.opd_key("Dinas Lingkungan Hidup,  Kabupaten Paser") == access.opd_key(
        "dinas lingkungan hidup kabupaten paser."
    )
    assert access.opd_key("Dinas Perhubungan") != access.opd_key("Dinas Lingkungan Hidup")


@SQLITE
def test_a_kepala_opd_sees_the_kerja_sama_of_his_opd_written_any_way(api):
    case_id = create_case(api)  # OPD teknis "Dinas Lingkungan Hidup Kabupaten Paser"
    nid = create_naskah(api, case_id)["id"]
    with session_scope(api.services.engine) as session:
        for username, opd in (("kadis", "DINAS LINGKUNGAN HIDUP, Kabupaten Paser"), ("kadishub", "Dinas Perhubungan")):
            user = create_user(session, username=username, nama="X", jabatan="Kepala", roles=["signer"], opd=opd)
            api.tokens[username] = issue_token(session, user)
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("kadis")).status_code == 200
    assert api.client.get("/api/v1/cases", headers=api.auth("kadis")).json()["count"] == 1
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("kadishub")).status_code == 404
    # the case's OPD corrected: the match follows it
    r = api.client.patch(
        f"/api/v1/cases/{case_id}", json={"opd_teknis": "Dinas Perhubungan"}, headers=api.auth("drafter")
    )
    assert r.status_code == 200
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("kadis")).status_code == 404
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("kadishub")).status_code == 200


@SQLITE
def test_a_counterparty_official_sees_the_naskah_only_once_the_plan_names_his_party(
    signers_api, counterparty_pki, counterparty_person
):
    api = signers_api
    add_users(api)
    nid = fully_initialled(api, "desk")
    url = f"/api/v1/naskah/{nid}"
    assert api.client.get(url, headers=api.auth("walikota.bpp")).status_code == 404  # no plan yet
    assert api.client.get("/api/v1/cases", headers=api.auth("walikota.bpp")).json()["count"] == 0
    assert (
        api.client.post(f"{url}/signature-plan", json={"mode": "desk"}, headers=api.auth("drafter")).status_code == 201
    )
    assert api.client.get(url, headers=api.auth("walikota.bpp")).status_code == 200  # his party's step, his name
    # he may fetch the file to sign in his own system, not the Pemda's drafts
    exported = api.client.get(f"{url}/export", headers=api.auth("walikota.bpp"))
    assert exported.status_code == 200 and exported.content.startswith(b"%PDF")
    r = api.client.get(f"{url}/history", headers=api.auth("walikota.bpp"))
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "internal_only"
    # another official of the same instansi, not printed in the block, sees nothing
    with session_scope(api.services.engine) as session:
        wakil = create_user(
            session,
            username="wawali.bpp",
            nama="Dr. H. Bagus Susetyo, M.M.",
            jabatan="Wakil Wali Kota Balikpapan",
            roles=["signer"],
            pihak_luar=True,
            instansi="Pemerintah Kota Balikpapan",
        )
        api.tokens["wawali.bpp"] = issue_token(session, wakil)
    assert api.client.get(url, headers=api.auth("wawali.bpp")).status_code == 404
    returned = counterparty_signs(exported.content, counterparty_pki, counterparty_person)
    # importing is the drafter's or the secretariat's, not the counterparty's own
    r = api.client.post(
        f"{url}/import", files={"file": ("b.pdf", returned, "application/pdf")}, headers=api.auth("walikota.bpp")
    )
    assert r.status_code == 403
    assert WALIKOTA in api.client.get(f"{url}/signature-plan", headers=api.auth("walikota.bpp")).text


# -- separation of duties -----------------------------------------------------------------------


def _two_hats(api, username: str, roles: list[str], posisi: list[str] = ()) -> None:
    with session_scope(api.services.engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        user.roles = ",".join(sorted(roles))
        user.posisi = ",".join(sorted(posisi))
        session.add(user)


@TWO_DBS
def test_one_person_may_not_submit_and_approve_the_same_naskah(api):
    _two_hats(api, "u-drafter", ["drafter", "legal"])
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    r = post(api, f"{nid}/approve", "drafter")
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "separation_of_duties"
    assert r.json()["detail"]["conflict"] == "submitted" and "Pemisahan tugas" in r.json()["message"]
    assert post(api, f"{nid}/approve", "legal").status_code == 200  # another official of Bagian Hukum


@TWO_DBS
def test_one_person_holding_two_positions_gives_one_paraf(api):
    _two_hats(api, "asisten_umum", ["paraf"], ["asisten_umum", "sekda"])  # the Asisten is also Plh. Sekda
    nid = approved_kb(api)
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    assert post(api, f"{nid}/paraf", "asisten_umum").status_code == 200
    r = post(api, f"{nid}/paraf", "asisten_umum")
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "separation_of_duties"
    assert r.json()["detail"]["given_as"] == "asisten_umum" and r.json()["detail"]["expected"] == "sekda"
    assert post(api, f"{nid}/paraf", "sekda").status_code == 200


@SQLITE
def test_one_person_may_not_sign_for_two_parties(signers_api):
    api = signers_api
    body = case_body()
    body["pihak"][1].update(penandatangan_nama="dr. Fahmi Fadli", penandatangan_jabatan="Bupati Paser")
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    case_id = r.json()["id"]
    nid = create_naskah(api, case_id)["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200
    steps = [{"pihak_urutan": 2, "username": "bupati"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "separation_of_duties", r.text
    assert r.json()["detail"]["pihak"] == [2, 1]


@pytest.fixture
def relaxed(tmp_path: Path):
    """The Paser profile with ``pemisahan_tugas: false`` (a small office where one official holds two posts)."""
    raw = yaml.safe_load((PROFILE_DIR / "paser.yaml").read_text(encoding="utf-8"))
    raw["pemisahan_tugas"] = False
    path = tmp_path / "kecil.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_profile(str(path))


@SQLITE
def test_a_profile_may_relax_separation_of_duties(api, relaxed):
    assert load_profile("paser").pemisahan_tugas is True  # on by default
    api.services.profile = relaxed
    _two_hats(api, "u-drafter", ["drafter", "legal"])
    _two_hats(api, "asisten_umum", ["paraf"], ["asisten_umum", "sekda"])
    nid = create_naskah(api, create_case(api))["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "drafter").status_code == 200
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    assert post(api, f"{nid}/paraf", "asisten_umum").status_code == 200
    r = post(api, f"{nid}/paraf", "asisten_umum")
    assert r.status_code == 200 and r.json()["posisi"] == "sekda"


def test_a_profile_names_a_kabag_pemerintahan_it_has(tmp_path: Path):
    raw = yaml.safe_load((PROFILE_DIR / "magetan.yaml").read_text(encoding="utf-8"))
    assert load_profile("magetan").drafter_assigner.key == "kabag_tapem"
    raw["kabag_pemerintahan"] = "kabag_entah"
    path = tmp_path / "salah.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_profile(str(path))
    assert "kabag_pemerintahan" in err.value.message


# -- frozen case data ---------------------------------------------------------------------------


@SQLITE
def test_case_data_of_a_signed_naskah_cannot_change_a_change_needs_an_addendum(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    case_id = api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()["kerja_sama_id"]
    before = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).json()
    r = api.client.patch(f"/api/v1/cases/{case_id}", json={"manfaat": "Lain"}, headers=api.auth("drafter"))
    assert r.status_code == 409 and r.json()["detail"]["reason"] == "case_frozen", r.text
    assert r.json()["detail"]["advice"] == "addendum" and "addendum" in r.json()["message"]
    assert r.json()["detail"]["naskah"] == [{"id": nid, "jenis": "KB", "status": "signed"}]
    r = api.client.put(
        f"/api/v1/cases/{case_id}/pihak/1/lambang",
        files={"file": ("l.png", lambang_png("PSR", (0, 90, 0)), "image/png")},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 409 and r.json()["detail"]["reason"] == "case_frozen"
    assert api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).json() == before
    # the PKS that follows the KB is still drafted from the same case
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=naskah_body("PKS"), headers=api.auth("drafter"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_upgrade_gives_old_tokens_an_expiry_and_old_cases_their_opd_key(kind, tmp_path, request):
    """Tokens from before expiry existed keep working for the default lifetime, then expire; a case's
    OPD is matched from the upgrade on."""
    import sqlalchemy as sa

    from pipeline.auth import hash_token
    from storage.db import upgrade

    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    else:
        pg = request.getfixturevalue("pg_server")
        engine = make_engine(pg.url(pg.new_database()))
    upgrade(engine, "0010_nomor_register")
    day = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, username, nama, jabatan, roles, posisi, active, created_at) "
                "VALUES (1, 'kadis', 'K', 'Kepala DLH', 'signer', '', :t, :day)"
            ),
            {"t": True, "day": day},
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES (1, 1, :h, 'lama', :day)"
            ),
            {"h": hash_token("nsk_lama"), "day": day},
        )
        conn.execute(
            sa.text(
                "INSERT INTO kerja_sama (id, jenis, judul, objek, manfaat, bentuk, tahun_anggaran_mulai, mulai, "
                "selesai, opd_teknis, created_by, created_at, updated_at) VALUES (1, 'KSDD', 'j', 'o', 'm', 'b', "
                "2026, '2026-01-01', '2027-01-01', 'Dinas Lingkungan Hidup,  Kabupaten Paser', 1, :day, :day)"
            ),
            {"day": day},
        )
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        assert authenticate(session, "nsk_lama").username == "kadis"
        with pytest.raises(Unauthenticated) as err:
            authenticate(session, "nsk_lama", now=now + dt.timedelta(days=91))
        assert err.value.detail["reason"] == "token_expired"
        case = session.exec(select(KerjaSama)).one()
        assert case.opd_key == access.opd_key("Dinas Lingkungan Hidup Kabupaten Paser")
    engine.dispose()
