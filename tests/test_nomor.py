"""Each party numbers a naskah in its own register: the same nomor twice in one register is refused.

The register is the party (its instansi, case and spacing aside), across every kerja sama; a
cancelled naskah gives its nomor back.  A unique index is the real guard: two drafters creating
naskah with the same nomor at the same moment cannot both succeed.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from pipeline.drafting import cases, revisions
from pipeline.errors import Conflict
from pipeline.models import NaskahNomor
from storage.db import session_scope
from tests.test_api import case_body, create_case, create_naskah, naskah_body

PASER, BALIKPAPAN = "100.3.7.1/11/Tapem/2026", "100.3.7.1/27/Pem/2026"


def post_kb(api, case_id: int, nomor: dict[str, str]):
    return api.client.post(
        f"/api/v1/cases/{case_id}/naskah", json=naskah_body("KB", nomor=nomor), headers=api.auth("drafter")
    )


@pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)
def test_a_nomor_already_in_the_same_partys_register_is_refused(api):
    first = create_naskah(api, create_case(api), nomor={"1": PASER, "2": BALIKPAPAN})
    other_case = create_case(api)  # another kerja sama between the same two parties
    # the same nomor of PIHAK KESATU, written with other capitals and spaces
    r = post_kb(api, other_case, {"1": " 100.3.7.1 / 11 / TAPEM / 2026 ", "2": "100.3.7.1/28/Pem/2026"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "conflict" and body["detail"]["reason"] == "nomor_duplicate"
    assert "Pemerintah Kabupaten Paser" in body["message"] and f"naskah {first['id']}" in body["message"]
    [dup] = body["detail"]["duplicates"]
    assert dup["naskah_id"] == first["id"] and dup["pihak_urutan"] == 1 and dup["nomor"] == PASER
    # PIHAK KEDUA's register too
    r = post_kb(api, other_case, {"1": "100.3.7.1/12/Tapem/2026", "2": BALIKPAPAN})
    assert r.status_code == 409 and "Pemerintah Kota Balikpapan" in r.json()["message"], r.text
    # nothing was stored by the refusals
    listing = api.client.get(f"/api/v1/cases/{other_case}", headers=api.auth("drafter")).json()
    assert listing["naskah"] == []


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_the_same_nomor_in_another_partys_register_is_allowed(api):
    create_naskah(api, create_case(api), nomor={"1": PASER, "2": BALIKPAPAN})
    body = case_body()
    body["pihak"][1].update(instansi="Pemerintah Kota Samarinda", penandatangan_jabatan="Wali Kota Samarinda")
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    samarinda = r.json()["id"]
    # Samarinda happens to number it like Balikpapan did: another register, so allowed
    naskah = create_naskah(api, samarinda, nomor={"1": "100.3.7.1/13/Tapem/2026", "2": BALIKPAPAN})
    assert naskah["nomor"]["2"] == BALIKPAPAN


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_a_cancelled_naskah_gives_its_nomor_back(api):
    first = create_naskah(api, create_case(api), nomor={"1": PASER, "2": BALIKPAPAN})
    r = api.client.post(
        f"/api/v1/naskah/{first['id']}/cancel", json={"note": "nomor salah"}, headers=api.auth("drafter")
    )
    assert r.status_code == 200, r.text
    again = create_naskah(api, create_case(api), nomor={"1": PASER, "2": BALIKPAPAN})
    assert again["nomor"] == {"1": PASER, "2": BALIKPAPAN}
    # the cancelled naskah still shows the nomor it had
    assert api.client.get(f"/api/v1/naskah/{first['id']}", headers=api.auth("drafter")).json()["nomor"]["1"] == PASER


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_a_surat_kuasa_and_its_pks_are_no_duplicates_but_reusing_the_pks_nomor_is(api):
    case_id = create_case(api)
    create_naskah(api, case_id, "KB")
    pks = create_naskah(api, case_id, "PKS", nomor={"1": "100.3.7.1/40/DLH/2026", "2": "100.3.7.1/88/DLH/2026"})
    # the Surat Kuasa is numbered by PIHAK KESATU alone; PIHAK KEDUA's PKS nomor is only shown in its text
    sk = create_naskah(api, case_id, "SK", nomor={"1": "100.3.7.1/31/Tapem/2026"}, parent_id=pks["id"])
    assert sk["nomor"] == {"1": "100.3.7.1/31/Tapem/2026"}
    # given again for the Surat Kuasa, the PKS's own PIHAK KEDUA nomor is that PKS's entry: not a duplicate
    nomor = {"1": "100.3.7.1/32/Tapem/2026", "2": "100.3.7.1/88/DLH/2026"}
    sk2 = create_naskah(api, case_id, "SK", nomor=nomor, parent_id=pks["id"])
    assert sk2["nomor"] == {"1": "100.3.7.1/32/Tapem/2026"}
    r = api.client.post(
        f"/api/v1/cases/{case_id}/naskah",
        json=naskah_body("SK", nomor={"1": "100.3.7.1/40/DLH/2026"}, parent_id=pks["id"]),
        headers=api.auth("drafter"),
    )
    assert r.status_code == 409 and r.json()["detail"]["duplicates"][0]["naskah_id"] == pks["id"], r.text


@pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)
def test_the_database_refuses_a_duplicate_that_slips_past_the_check(api, monkeypatch):
    """Two drafters at the same moment both pass the check; the unique index stops the second."""
    create_naskah(api, create_case(api), nomor={"1": PASER, "2": BALIKPAPAN})
    monkeypatch.setattr(cases, "_taken", lambda *_a, **_k: [])  # as if the first were not committed yet
    other_case = create_case(api)
    drafter = api.services
    with session_scope(drafter.engine) as session:
        user = session.exec(select(cases.User).where(cases.User.username == "u-drafter")).one()
    data = cases.NaskahInput.model_validate(naskah_body("KB", nomor={"1": PASER, "2": "100.3.7.1/29/Pem/2026"}))
    with pytest.raises(Conflict) as refused:
        revisions.create_naskah(api.services, user, other_case, data)
    assert refused.value.detail["reason"] == "nomor_duplicate"
    with session_scope(api.services.engine) as session:
        assert len(session.exec(select(NaskahNomor)).all()) == 2  # only the first naskah's two


def test_the_migration_keeps_nomor_given_twice_before_the_rule(tmp_path):
    """Data from before the rule may hold duplicates: the upgrade keeps every row, the oldest holds the key."""
    import sqlalchemy as sa

    from storage.db import make_engine, upgrade

    def insert(conn, table: str, **values) -> None:
        names = ", ".join(values)
        conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + k for k in values)})"), values)

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    upgrade(engine, "0005")
    day = "2026-01-01"
    with engine.begin() as conn:
        insert(
            conn,
            "users",
            id=1,
            username="a",
            nama="A",
            jabatan="A",
            roles="drafter",
            posisi="",
            active=1,
            created_at=day,
        )
        insert(
            conn, "kerja_sama", id=1, jenis="KSDD", judul="j", objek="o", manfaat="m", bentuk="b",
            tahun_anggaran_mulai=2026, mulai=day, selesai="2027-01-01", opd_teknis="DLH", created_by=1,
            created_at=day, updated_at=day,
        )  # fmt: skip
        insert(
            conn, "pihak", id=1, kerja_sama_id=1, urutan=1, instansi="Pemerintah Kabupaten Paser", kind="pemda",
            penandatangan_nama="x", penandatangan_jabatan="y",
        )  # fmt: skip
        for naskah_id, status in ((1, "draft"), (2, "draft"), (3, "cancelled")):
            insert(
                conn, "naskah", id=naskah_id, kerja_sama_id=1, jenis="KB", template="kb/standar", status=status,
                lock_version=1, data="{}", created_by=1, created_at=day, updated_at=day,
            )  # fmt: skip
            insert(conn, "naskah_nomor", naskah_id=naskah_id, pihak_id=1, nomor="100.3.7.1/1/Tapem/2026")
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT naskah_id, nomor, register_key FROM naskah_nomor ORDER BY id")).all()
    engine.dispose()
    assert rows == [
        (1, "100.3.7.1/1/Tapem/2026", "pemerintah kabupaten paser|100.3.7.1/1/tapem/2026"),
        (2, "100.3.7.1/1/Tapem/2026", None),
        (3, "100.3.7.1/1/Tapem/2026", None),
    ]
