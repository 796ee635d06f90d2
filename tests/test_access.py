"""Least privilege (issue 12): who sees which kerja sama, naskah and arsip, on every read endpoint and
list, and who edits — as a matrix of users × endpoints, on SQLite and PostgreSQL.

The world: kerja sama A (KSDD with Balikpapan, OPD Dinas Lingkungan Hidup) with a Kesepakatan Bersama
signed desk to desk by the Wali Kota (a counterparty official with an account, not named by it in the
plan) and the Bupati, then archived; and its PKS in drafting.  Kerja sama B (KSIV with the Kantor
Pertanahan, OPD BPKAD) with a Nota Kesepakatan whose tatap-muka plan names the Kepala Kantor's account.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.auth import create_user, issue_token
from storage.db import session_scope
from tests.test_api import case_body, create_naskah, edit_in_word, naskah_body
from tests.test_signing_flow import counterparty_signs, fully_initialled
from tests.test_workflow import post

WALIKOTA = "H. Rahmad Mas'ud, S.E., M.E."
KAKANTAH = "Andi Pratama, S.H."
OPD_A = "Dinas Lingkungan Hidup Kabupaten Paser"
OPD_B = "Badan Pengelolaan Keuangan dan Aset Daerah Kabupaten Paser"

OWNER, OTHER = "drafter", "drafter.lain"
STAFF = [OWNER, OTHER, "legal", "secretariat", "kabag_pemerintahan", "asisten_umum", "sekda", "bupati"]
USERS = [*STAFF, "kadis.dlh", "kadis.hub", "walikota.bpp", "kakantah", "admin"]
EXTERNAL = {"walikota.bpp", "kakantah"}  # counterparty officials: no internal drafting material
SEES_KB_A = {*STAFF, "kadis.dlh", "walikota.bpp"}  # the Kepala DLH by OPD; the Wali Kota signs it
SEES_PKS_A = {*STAFF, "kadis.dlh"}  # no plan yet: the Wali Kota sees nothing of it
SEES_NK_B = {*STAFF, "kakantah"}  # the Kepala Kantor signs it; no Kepala OPD has it

TWO_DBS = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)


def add_users(api) -> None:
    """The people of the matrix besides the fixture's (drafter, legal, ..., the Paser officials)."""
    with session_scope(api.services.engine) as session:
        for username, fields in {
            OTHER: {"nama": "Budi Hartono", "jabatan": "Analis Kerja Sama", "roles": ["drafter"]},
            "kadis.dlh": {"nama": "Ir. Budi Santoso", "jabatan": "Kepala DLH", "roles": ["signer"], "opd": OPD_A},
            "kadis.hub": {
                "nama": "Drs. Joko Widodo",
                "jabatan": "Kepala Dinas Perhubungan",
                "roles": ["signer"],
                "opd": "Dinas Perhubungan Kabupaten Paser",
            },
            "walikota.bpp": {
                "nama": WALIKOTA,
                "jabatan": "Wali Kota Balikpapan",
                "roles": ["signer"],
                "pihak_luar": True,
                "instansi": "Pemerintah Kota Balikpapan",
            },
            "kakantah": {
                "nama": KAKANTAH,
                "jabatan": "Kepala Kantor Pertanahan",
                "roles": ["signer"],
                "pihak_luar": True,
                "instansi": "Kantor Pertanahan Kabupaten Paser",
            },
        }.items():
            user = create_user(session, username=username, **fields)
            api.tokens[username] = issue_token(session, user)


def p12(pki, nama: str) -> dict[str, Any]:
    return {"p12": ("k.p12", pki.issue_person(nama).to_pkcs12("k"), "application/x-pkcs12")}


@dataclass
class World:
    case_a: int
    case_b: int
    kb: int
    pks: int
    nk: int
    arsip: int
    original: bytes


def build_world(api, dev_pki, counterparty_pki, counterparty_person) -> World:
    add_users(api)
    # A: the KB, desk to desk, archived
    kb = fully_initialled(api, "desk")
    case_a = api.client.get(f"/api/v1/naskah/{kb}", headers=api.auth(OWNER)).json()["kerja_sama_id"]
    r = api.client.post(f"/api/v1/naskah/{kb}/signature-plan", json={"mode": "desk"}, headers=api.auth(OWNER))
    assert r.status_code == 201, r.text
    exported = api.client.get(f"/api/v1/naskah/{kb}/export", headers=api.auth(OWNER)).content
    returned = counterparty_signs(exported, counterparty_pki, counterparty_person)
    files = {"file": ("balik.pdf", returned, "application/pdf")}
    assert api.client.post(f"/api/v1/naskah/{kb}/import", files=files, headers=api.auth(OWNER)).status_code == 200
    r = api.client.post(
        f"/api/v1/naskah/{kb}/sign",
        files=p12(dev_pki, "dr. Fahmi Fadli"),
        data={"passphrase": "k"},
        headers=api.auth("bupati"),
    )
    assert r.status_code == 200, r.text
    r = api.client.post(f"/api/v1/naskah/{kb}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    arsip = r.json()["id"]
    original = api.client.get(f"/api/v1/arsip/{arsip}/original.pdf", headers=api.auth("secretariat")).content
    # A: its PKS, being drafted
    pks = create_naskah(api, case_a, "PKS")["id"]
    # B: the NK, initialled, its plan naming the Kepala Kantor's account
    body = case_body("KSIV")
    body["opd_teknis"] = OPD_B
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth(OWNER))
    assert r.status_code == 201, r.text
    case_b = r.json()["id"]
    nk = create_naskah(api, case_b, "NK")["id"]
    assert post(api, f"{nk}/submit", OWNER).status_code == 200
    assert post(api, f"{nk}/approve", "legal").status_code == 200
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nk}/paraf", who).status_code == 200
    steps = [{"pihak_urutan": 2, "username": "kakantah"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nk}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth(OWNER)
    )
    assert r.status_code == 201, r.text
    return World(case_a, case_b, kb, pks, nk, arsip, original)


def expect(user: str, sees: set[str], *, internal: bool = False, ok: int = 200) -> int:
    """What ``user`` gets from a read: 403 without the read role (admin, whatever the object), 404 for
    what they may not see (as for what does not exist), 403 for internal material of a counterparty
    official, else ``ok``."""
    if user == "admin":
        return 403
    if user not in sees:
        return 404
    if internal and user in EXTERNAL:
        return 403
    return ok


Endpoint = tuple[str, int, str, set[str], bool, int]


def read_endpoints(w: World) -> list[Endpoint]:
    """(kind, object id, rest of the path, who sees it, internal material?, status for those who do)
    of every GET on one object."""
    kb, nk, pks = ("naskah", w.kb), ("naskah", w.nk), ("naskah", w.pks)
    return [
        ("cases", w.case_a, "", SEES_KB_A, False, 200),
        (*kb, "", SEES_KB_A, False, 200),
        (*kb, "/paraf", SEES_KB_A, False, 200),
        (*kb, "/final.pdf", SEES_KB_A, False, 200),
        (*kb, "/signature-plan", SEES_KB_A, False, 200),
        (*kb, "/signed.pdf", SEES_KB_A, False, 200),
        (*kb, "/export", SEES_KB_A, False, 409),  # seen, but every signature is on it: nothing to export
        (*kb, "/drafters", SEES_KB_A, True, 200),
        (*kb, "/revisions", SEES_KB_A, True, 200),
        (*kb, "/revisions/1", SEES_KB_A, True, 200),
        (*kb, "/revisions/1/pdf", SEES_KB_A, True, 200),
        (*kb, "/revisions/1/docx", SEES_KB_A, True, 200),
        (*kb, "/diff?a=1&b=1", SEES_KB_A, True, 200),
        (*kb, "/history", SEES_KB_A, True, 200),
        (*kb, "/audit", SEES_KB_A, True, 200),
        ("arsip", w.arsip, "", SEES_KB_A, False, 200),
        ("arsip", w.arsip, "/original.pdf", SEES_KB_A, False, 200),
        ("arsip", w.arsip, "/verify", SEES_KB_A, False, 200),
        (*pks, "", SEES_PKS_A, False, 200),
        (*pks, "/revisions/1/pdf", SEES_PKS_A, True, 200),
        (*pks, "/history", SEES_PKS_A, True, 200),
        (*pks, "/final.pdf", SEES_PKS_A, False, 404),  # seen, no paraf yet: no final PDF
        ("cases", w.case_b, "", SEES_NK_B, False, 200),
        (*nk, "", SEES_NK_B, False, 200),
        (*nk, "/paraf", SEES_NK_B, False, 200),
        (*nk, "/final.pdf", SEES_NK_B, False, 200),
        (*nk, "/signature-plan", SEES_NK_B, False, 200),
        (*nk, "/signed.pdf", SEES_NK_B, False, 200),
        (*nk, "/revisions", SEES_NK_B, True, 200),
        (*nk, "/audit", SEES_NK_B, True, 200),
    ]


@TWO_DBS
def test_every_read_endpoint_as_a_matrix_of_users(signers_api, dev_pki, counterparty_pki, counterparty_person):
    api = signers_api
    w = build_world(api, dev_pki, counterparty_pki, counterparty_person)
    wrong: list[str] = []
    for kind, object_id, rest, sees, internal, ok in read_endpoints(w):
        path = f"/api/v1/{kind}/{object_id}{rest}"
        for user in USERS:
            r = api.client.get(path, headers=api.auth(user))
            want = expect(user, sees, internal=internal, ok=ok)
            if r.status_code != want:
                wrong.append(f"{user:<20} GET {path:<45} {r.status_code} (expected {want}) {r.text[:120]}")
            elif want == 404 and user not in sees:  # exactly the answer for one that does not exist
                missing = api.client.get(f"/api/v1/{kind}/999999{rest}", headers=api.auth(user)).json()
                if r.json()["message"].replace(str(object_id), "999999") != missing["message"]:
                    wrong.append(f"{user:<20} GET {path}: not like a missing one: {r.json()['message']}")
    assert not wrong, "\n" + "\n".join(wrong)


@TWO_DBS
def test_lists_and_counts_show_exactly_what_each_user_may_see(
    signers_api, dev_pki, counterparty_pki, counterparty_person
):
    api = signers_api
    w = build_world(api, dev_pki, counterparty_pki, counterparty_person)

    def get(user: str, path: str, **params: Any) -> Any:
        r = api.client.get(path, params=params, headers=api.auth(user))
        if r.status_code != 200:
            return r.status_code
        if path.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
            return sorted(row[1] for row in rows[1:] if row and row[0].isdigit())  # kategori (jenis kerja sama)
        return r.json()

    def ids(body: Any, key: str = "id") -> Any:
        return body if isinstance(body, int) else (sorted(d[key] for d in body["data"]), body["count"])

    cases = {user: ids(get(user, "/api/v1/cases")) for user in USERS}
    arsip = {user: ids(get(user, "/api/v1/arsip", q="sampah")) for user in USERS}
    proses = {user: ids(get(user, "/api/v1/monitoring/proses"), "naskah_id") for user in USERS}
    cap = {user: ids(get(user, "/api/v1/monitoring/cap-waktu", dalam_hari=36500), "arsip_id") for user in USERS}
    ending = {user: ids(get(user, "/api/v1/monitoring/kedaluwarsa", dalam_hari=3650), "arsip_id") for user in USERS}
    rekap = {user: get(user, "/api/v1/arsip/rekap.csv") for user in USERS}
    both, only_a, only_b = sorted([w.case_a, w.case_b]), [w.case_a], [w.case_b]
    in_progress = sorted([w.pks, w.nk])
    for user in USERS:
        if user == "admin":
            want = {k: 403 for k in ("cases", "arsip", "proses", "cap", "ending", "rekap")}
        else:
            sees_a, sees_pks, sees_b = user in SEES_KB_A, user in SEES_PKS_A, user in SEES_NK_B
            want = {
                "cases": (both if sees_a and sees_b else only_a if sees_a else only_b if sees_b else [], 0),
                "arsip": ([w.arsip] if sees_a else [], 0),
                "proses": (sorted([*([w.pks] if sees_pks else []), *([w.nk] if sees_b else [])]), 0),
                "cap": ([w.arsip] if sees_a else [], 0),
                "ending": ([w.arsip] if sees_a else [], 0),
                "rekap": ["KSDD"] if sees_a else [],
            }
            for key in ("cases", "arsip", "proses", "cap", "ending"):
                want[key] = (want[key][0], len(want[key][0]))  # the count is the rows they see, no more
        got = {
            "cases": cases[user],
            "arsip": arsip[user],
            "proses": proses[user],
            "cap": cap[user],
            "ending": ending[user],
            "rekap": rekap[user],
        }
        assert got == want, user
    assert proses["secretariat"][0] == in_progress

    # a case shows only the naskah of it the user may see
    def naskah_of(user: str, case_id: int) -> list[int]:
        return [n["id"] for n in api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth(user)).json()["naskah"]]

    assert naskah_of(OWNER, w.case_a) == [w.kb, w.pks]
    assert naskah_of("kadis.dlh", w.case_a) == [w.kb, w.pks]
    assert naskah_of("walikota.bpp", w.case_a) == [w.kb]
    # a counterparty official's view of the naskah carries no internal drafting material
    seen = api.client.get(f"/api/v1/naskah/{w.kb}", headers=api.auth("walikota.bpp")).json()
    assert seen["latest_revision"] is None and seen["status"] == "archived"
    assert api.client.get(f"/api/v1/naskah/{w.kb}", headers=api.auth(OWNER)).json()["latest_revision"] is not None

    # verifying a copy tells the naskah only to those who may see it
    for user in USERS:
        r = api.client.post(
            "/api/v1/verify", files={"file": ("a.pdf", w.original, "application/pdf")}, headers=api.auth(user)
        )
        if user == "admin":
            assert r.status_code == 403
            continue
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is True  # the signatures are judged for everyone
        if user in SEES_KB_A:
            assert body["naskah_id"] == w.kb and body["tanggal_penandatanganan"], user
            assert {s["belongs_to_signer"] for s in body["signatures"]} == {True}
        else:
            assert body["naskah_id"] is None and body["tanggal_penandatanganan"] is None, user
            assert {s["belongs_to_signer"] for s in body["signatures"]} == {None}


@TWO_DBS
def test_editing_is_for_the_drafters_of_the_naskah(signers_api, dev_pki, counterparty_pki, counterparty_person):
    api = signers_api
    w = build_world(api, dev_pki, counterparty_pki, counterparty_person)
    pks = f"/api/v1/naskah/{w.pks}"
    docx = api.client.get(f"{pks}/revisions/1/docx", headers=api.auth(OWNER)).content
    edited = edit_in_word(docx)

    def render(user: str) -> int:
        return api.client.post(f"{pks}/revisions/render", json={}, headers=api.auth(user)).status_code

    def upload(user: str) -> int:
        files = {"file": ("pks.docx", edited, "application/octet-stream")}
        return api.client.post(f"{pks}/revisions/upload", files=files, headers=api.auth(user)).status_code

    def cancel(user: str) -> int:
        return post(api, f"{w.pks}/cancel", user, "tidak jadi").status_code

    def submit(user: str) -> int:
        return post(api, f"{w.pks}/submit", user).status_code

    def patch_b(user: str) -> int:
        return api.client.patch(
            f"/api/v1/cases/{w.case_b}", json={"manfaat": "Kepastian hukum"}, headers=api.auth(user)
        ).status_code

    def new_naskah_on_a(user: str) -> int:
        body = naskah_body("PKS")
        return api.client.post(f"/api/v1/cases/{w.case_a}/naskah", json=body, headers=api.auth(user)).status_code

    edits: dict[str, Callable[[str], int]] = {
        "render": render,
        "upload": upload,
        "cancel": cancel,
        "submit": submit,
        "patch_b": patch_b,
        "new_naskah_on_a": new_naskah_on_a,
    }
    wrong = []
    for user in [u for u in USERS if u != OWNER]:
        for name, edit in edits.items():
            if name == "patch_b":
                want = 403  # the drafter role comes first, for every case alike; another drafter: not theirs
            elif user == "admin":
                want = 403
            elif user not in (SEES_KB_A if name == "new_naskah_on_a" else SEES_PKS_A):
                want = 404
            else:
                want = 403  # sees it (another drafter too), may not edit it
            got = edit(user)
            if got != want:
                wrong.append(f"{user:<20} {name:<16} {got} (expected {want})")
    assert not wrong, "\n" + "\n".join(wrong)
    assert revision_numbers(api, w.pks) == [1]  # nothing was written by anyone of them
    r = api.client.post(f"{pks}/revisions/render", json={}, headers=api.auth(OTHER))
    assert r.json()["detail"]["reason"] == "not_a_drafter" and r.json()["detail"]["drafters"] == [f"u-{OWNER}"]
    # the owner edits; then the Kabag Pemerintahan assigns a second drafter, who may too
    assert render(OWNER) == 201 and patch_b(OWNER) == 200
    for who in (OWNER, "legal", "sekda", OTHER):
        r = api.client.post(f"{pks}/drafters", json={"username": OTHER}, headers=api.auth(who))
        assert r.status_code == 403 and r.json()["detail"]["reason"] == "not_the_assigner", who
    r = api.client.post(f"{pks}/drafters", json={"username": OTHER}, headers=api.auth("kabag_pemerintahan"))
    assert r.status_code == 201, r.text
    assert [(d["username"], d["peran"]) for d in r.json()["data"]] == [(f"u-{OWNER}", "pemilik"), (OTHER, "ditugaskan")]
    r = api.client.post(f"{pks}/drafters", json={"username": "legal"}, headers=api.auth("kabag_pemerintahan"))
    assert r.status_code == 404  # no such user; u-legal is not a drafter:
    r = api.client.post(f"{pks}/drafters", json={"username": "u-legal"}, headers=api.auth("kabag_pemerintahan"))
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "not_a_drafter"
    assert render(OTHER) == 201 and "revise" in naskah(api, w.pks, OTHER)["available_actions"]
    assert naskah(api, w.pks, OTHER)["drafters"] == [f"u-{OWNER}", OTHER]
    r = api.client.delete(f"{pks}/drafters/{OTHER}", headers=api.auth("admin"))  # an admin may too
    assert r.status_code == 200 and [d["username"] for d in r.json()["data"]] == [f"u-{OWNER}"]
    assert render(OTHER) == 403 and "revise" not in naskah(api, w.pks, OTHER)["available_actions"]
    assert revision_numbers(api, w.pks) == [1, 2, 3]
    trail = api.client.get(f"{pks}/audit", params={"limit": 200}, headers=api.auth("secretariat")).json()["data"]
    assert [(e["action"], e["actor"], e["detail"]["username"]) for e in trail if "drafter" in e["action"]] == [
        ("assign_drafter", "kabag_pemerintahan", OTHER),
        ("remove_drafter", "u-admin", OTHER),
    ]


def naskah(api, nid: int, user: str) -> dict[str, Any]:
    return api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth(user)).json()


def revision_numbers(api, nid: int) -> list[int]:
    body = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("secretariat")).json()
    return [r["number"] for r in body["data"]]
