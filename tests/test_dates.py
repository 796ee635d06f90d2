"""Dates, times and time zones (issue 11 §3): stored times keep their zone on both databases, dates
are printed on the SOP profile's clock (Paser: WITA, UTC+8), the signature plan holds the date the
naskah states, and the jangka waktu rule agrees with the text."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import col, select

from pipeline.auth import create_user
from pipeline.models import Paraf, User
from storage.db import make_engine, session_scope, upgrade

WITA = dt.timezone(dt.timedelta(hours=8), "WITA")
UTC = dt.UTC


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path}/naskah.db")
        upgrade(eng)
    else:
        pg = request.getfixturevalue("pg_server")
        eng = make_engine(pg.url(pg.new_database(request.getfixturevalue("pg_template"))))
    yield eng
    eng.dispose()


# --- stored times --------------------------------------------------------------------------


def test_stored_times_come_back_timezone_aware_in_utc_on_both_databases(engine):
    # 23:59:59 in Tanah Grogot is 15:59:59 UTC: the instant must survive, whatever zone it was given in
    given = dt.datetime(2026, 12, 6, 23, 59, 59, 250000, tzinfo=WITA)
    with session_scope(engine) as session:
        user = create_user(session, username="a.b", nama="A B", jabatan="Analis", roles=["drafter"])
        user.created_at = given
        session.add(user)
    with session_scope(engine) as session:
        back = session.exec(select(User).where(User.username == "a.b")).one()
        assert back.created_at.tzinfo is not None and back.created_at.utcoffset() == dt.timedelta(0)
        assert back.created_at == given
        assert back.created_at.astimezone(WITA).date() == dt.date(2026, 12, 6)
        # comparisons in SQL see the same instant
        found = session.exec(
            select(User).where(col(User.created_at) > dt.datetime(2026, 12, 6, 15, 59, 59, tzinfo=UTC))
        ).all()
        assert [u.username for u in found] == ["a.b"]


def test_a_naive_datetime_is_refused_on_the_way_in(engine):
    with pytest.raises(StatementError, match="zona waktu"), session_scope(engine) as session:
        user = create_user(session, username="c.d", nama="C D", jabatan="Analis", roles=["drafter"])
        user.created_at = dt.datetime(2026, 12, 6, 23, 59, 59)
        session.add(user)
        session.flush()


# --- paraf marks around midnight -----------------------------------------------------------


def _dates_on_pages(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "paraf.pdf"
    path.write_bytes(pdf)
    pages = int(
        re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout)[1]
    )
    out = []
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        out.append(sorted(re.findall(r"\b\d\d/\d\d/\d{4}\b", text)))
    return out


@pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)
def test_paraf_given_around_midnight_carry_their_own_day_on_every_page(api, monkeypatch, tmp_path):
    """Three paraf within two seconds of midnight WITA (15:59:59-16:00:01 UTC): the first is still
    6 December in Tanah Grogot, the other two are 7 December, on every page, whatever the database."""
    from pipeline.approval import paraf as paraf_module
    from tests.test_workflow import approved_kb, post

    nid = approved_kb(api)
    given = iter(
        [
            dt.datetime(2026, 12, 6, 15, 59, 59, 400000, tzinfo=UTC),
            dt.datetime(2026, 12, 6, 16, 0, 0, 100000, tzinfo=UTC),
            dt.datetime(2026, 12, 6, 16, 0, 0, 900000, tzinfo=UTC),
        ]
    )
    monkeypatch.setattr(paraf_module, "utcnow", lambda: next(given))
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200
    final = api.client.get(f"/api/v1/naskah/{nid}/final.pdf", headers=api.auth("drafter"))
    assert final.status_code == 200
    pages = _dates_on_pages(final.content, tmp_path)
    assert len(pages) > 1
    for i, dates in enumerate(pages, start=1):
        # every page: the margin box; the last page also its Paraf table
        expected = ["06/12/2026", "07/12/2026", "07/12/2026"]
        assert dates in (expected, sorted(expected * 2)), f"halaman {i}: {dates}"
    with session_scope(api.services.engine) as session:
        rows = session.exec(select(Paraf).where(Paraf.naskah_id == nid).order_by(col(Paraf.urutan))).all()
        assert [r.waktu.astimezone(WITA).day for r in rows] == [6, 7, 7]


# --- jangka waktu ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mulai", "last_allowed"),
    [
        ("2026-12-06", "2031-12-05"),
        ("2026-11-23", "2031-11-22"),
        ("2028-02-29", "2033-02-28"),  # a leap day start
        ("2027-02-28", "2032-02-27"),
        ("2027-03-01", "2032-02-29"),  # ends on a leap day
    ],
)
def test_a_kerja_sama_runs_at_most_five_years_ending_the_day_before_the_same_date(mulai: str, last_allowed: str):
    from pipeline.drafting.cases import check_jangka_waktu
    from pipeline.terbilang import jangka_waktu

    start, last = dt.date.fromisoformat(mulai), dt.date.fromisoformat(last_allowed)
    check_jangka_waktu(start, last)  # exactly five years
    assert jangka_waktu(start, last) == "5 (lima) tahun"  # and the text says so
    with pytest.raises(ValueError) as caught:
        check_jangka_waktu(start, last + dt.timedelta(days=1))  # five years and a day
    from pipeline.terbilang import tanggal

    assert "5 tahun" in str(caught.value) and tanggal(last) in str(caught.value)


def test_the_demo_case_is_a_valid_five_year_kerja_sama_on_any_day():
    from api.demo import demo_case
    from pipeline.terbilang import jangka_waktu

    for day in (dt.date(2026, 12, 6), dt.date(2028, 2, 29), dt.date(2027, 3, 1), dt.date(2026, 1, 1)):
        case = demo_case(day)
        assert case.mulai == day and jangka_waktu(case.mulai, case.selesai) == "5 (lima) tahun"


def test_a_naskah_whose_own_jangka_waktu_exceeds_five_years_is_refused(registry):
    from pipeline.drafting.templates import sample_data, validate_data
    from pipeline.errors import TemplateDataError

    info = registry.get("pks/standar")
    data = sample_data("PKS")
    data.update(mulai="2027-03-01", selesai="2032-02-29")
    validate_data(info, data)  # five years exactly
    data["selesai"] = "2032-03-01"
    with pytest.raises(TemplateDataError) as caught:
        validate_data(info, data)
    assert caught.value.detail["invalid"][0]["field"] == "selesai"
    assert "29 Februari 2032" in caught.value.message


# --- the text of a desk-to-desk naskah -------------------------------------------------------


def _pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())  # lines joined: sentences wrap


@pytest.mark.parametrize("jenis", ["KB", "NK", "PKS"])
def test_a_desk_to_desk_naskah_claims_no_single_place_and_says_how_it_is_signed(jenis, registry, converter, tmp_path):
    from pipeline.drafting.templates import render_docx, sample_data

    info = registry.get(f"{jenis.lower()}/standar")
    data = sample_data(jenis)
    data.update(tanggal="2026-12-07", mulai="2026-12-07", selesai="2027-12-06")
    tatap = _pdf_text(converter.to_pdf(render_docx(info, data)), tmp_path, "tatap")
    data["cara_penandatanganan"] = "desk"
    data.pop("tempat")  # not needed desk to desk
    desk = _pdf_text(converter.to_pdf(render_docx(info, data)), tmp_path, "desk")
    hari = "Senin tanggal tujuh bulan Desember tahun dua ribu dua puluh enam"

    assert f"Pada hari ini {hari}, bertempat di {sample_data(jenis)['tempat']}, yang bertanda tangan" in tatap
    assert "pada hari dan tanggal sebagaimana tersebut di atas" in tatap
    assert f"Pada hari ini {hari}, yang bertanda tangan di bawah ini" in desk
    assert "bertempat di" not in desk
    assert "pada hari dan tanggal sebagaimana tersebut di atas" not in desk
    assert "ditandatangani secara elektronik oleh PARA PIHAK di tempat kedudukan masing-masing" in desk
    assert "dengan hari dan tanggal sebagaimana tersebut di atas sebagai tanggal" in desk
    # the jangka waktu sentence agrees with its dates
    assert "1 (satu) tahun terhitung sejak tanggal 7 Desember 2026 sampai dengan tanggal 6 Desember 2027" in tatap


def test_a_tatap_muka_naskah_needs_its_place_and_the_mode_is_one_of_two(registry):
    from pipeline.drafting.templates import sample_data, validate_data
    from pipeline.errors import TemplateDataError

    info = registry.get("kb/standar")
    data = sample_data("KB")
    del data["tempat"]
    with pytest.raises(TemplateDataError) as caught:
        validate_data(info, data)  # tatap muka by default
    assert caught.value.detail["missing"] == ["tempat"]
    assert validate_data(info, {**data, "cara_penandatanganan": "desk"})["tempat"] == ""
    with pytest.raises(TemplateDataError) as caught:
        validate_data(info, {**data, "cara_penandatanganan": "desk to desk"})
    assert caught.value.detail["invalid"][0]["field"] == "cara_penandatanganan"
    assert "tatap_muka, desk" in caught.value.detail["invalid"][0]["message"]
    field = next(f for f in info.public()["fields"] if f["name"] == "cara_penandatanganan")
    assert field["type"] == "choice" and field["choices"] == ["tatap_muka", "desk"] and not field["required"]


def test_a_choice_field_needs_its_choices_in_the_manifest(tmp_path: Path):
    from pipeline.drafting.templates import load_template
    from pipeline.errors import TemplateError
    from tests.test_templates import make_docx, write_manifest

    path = make_docx(tmp_path / "kb" / "pilih.docx", "{% if cara == 'desk' %}desk{% endif %}")
    for bad in ("", "choices = []\n", 'choices = ["a", "a"]\n'):
        write_manifest(
            tmp_path / "kb" / "pilih.toml",
            f'[[fields]]\nname = "cara"\ntype = "choice"\nrequired = false\ndescription = "c"\n{bad}',
        )
        with pytest.raises(TemplateError, match="memerlukan 'choices'"):
            load_template(path)
    write_manifest(
        tmp_path / "kb" / "pilih.toml",
        '[[fields]]\nname = "cara"\ntype = "text"\nrequired = false\ndescription = "c"\nchoices = ["a"]\n',
    )
    with pytest.raises(TemplateError, match="hanya untuk tipe choice"):
        load_template(path)


# --- the signing date the naskah states --------------------------------------------------------


def kb_dated(api, day: dt.date, cara: str | None = None) -> int:
    """A KB stating ``day`` as its signing date, drafted for ``cara``, reviewed and fully initialled."""
    from tests.test_api import create_case, naskah_body
    from tests.test_workflow import post

    body = naskah_body("KB", cara=cara)
    body["data"]["tanggal"] = day.isoformat()
    r = api.client.post(f"/api/v1/cases/{create_case(api)}/naskah", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    nid = r.json()["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200
    return nid


def plan_of(api, nid: int, mode: str, steps: list[dict] | None = None):
    body: dict = {"mode": mode, **({"steps": steps} if steps else {})}
    return api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json=body, headers=api.auth("drafter"))


def sign_as(api, nid: int, who: str, pki, nama: str, **form):
    return api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("k.p12", pki.issue_person(nama).to_pkcs12("k"), "application/x-pkcs12")},
        data={"passphrase": "k", **form},
        headers=api.auth(who),
    )


TATAP_MUKA = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_a_tatap_muka_signature_on_another_day_than_the_naskah_states_is_refused(
    signers_api, dev_pki, counterparty_pki
):
    from tests.test_api import hari_ini

    api = signers_api
    today = hari_ini()
    tomorrow = today + dt.timedelta(days=1)
    nid = kb_dated(api, tomorrow)
    r = plan_of(api, nid, "tatap_muka", TATAP_MUKA)
    assert r.status_code == 201, r.text
    assert r.json()["tanggal_naskah"] == tomorrow.isoformat()  # the plan holds the date the text states

    r = sign_as(api, nid, "walikota", counterparty_pki, "H. Rahmad Mas'ud, S.E., M.E.")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"]["reason"] == "signing_date_mismatch"
    assert body["detail"]["tanggal_naskah"] == tomorrow.isoformat() and body["detail"]["hari_ini"] == today.isoformat()
    assert body["detail"]["zona_waktu"] == "WITA"
    assert "tatap muka" in body["message"] and "revisi baru" in body["message"]
    # a confirmation does not make a tatap muka signature on another day true
    r = sign_as(
        api,
        nid,
        "walikota",
        counterparty_pki,
        "H. Rahmad Mas'ud, S.E., M.E.",
        konfirmasi_tanggal="true",
        catatan_tanggal="Ditandatangani lebih awal",
    )
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "signing_date_mismatch"
    plan = api.client.get(f"/api/v1/naskah/{nid}/signature-plan", headers=api.auth("drafter")).json()
    assert [s["status"] for s in plan["steps"]] == ["menunggu", "menunggu"]

    # a naskah whose stated day has passed cannot get a tatap muka plan at all
    yesterday = kb_dated(api, today - dt.timedelta(days=1))
    r = plan_of(api, yesterday, "tatap_muka", TATAP_MUKA)
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "signing_date_passed", r.text

    # on the stated day it signs, and every signature records that day and no note
    same_day = kb_dated(api, today)
    assert plan_of(api, same_day, "tatap_muka", TATAP_MUKA).status_code == 201
    assert sign_as(api, same_day, "walikota", counterparty_pki, "H. Rahmad Mas'ud, S.E., M.E.").status_code == 200
    r = sign_as(api, same_day, "bupati", dev_pki, "dr. Fahmi Fadli")
    assert r.status_code == 200, r.text
    assert [(s["tanggal_ttd"], s["catatan_tanggal"]) for s in r.json()["steps"]] == [(today.isoformat(), None)] * 2


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_the_plan_must_be_signed_the_way_the_text_was_drafted(signers_api):
    from tests.test_api import hari_ini

    api = signers_api
    tatap = kb_dated(api, hari_ini())
    r = plan_of(api, tatap, "desk")
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "signing_mode_mismatch", r.text
    assert "cara_penandatanganan 'desk'" in r.json()["message"] and "revisi baru" in r.json()["message"]
    desk = kb_dated(api, hari_ini(), "desk")
    r = plan_of(api, desk, "tatap_muka", TATAP_MUKA)
    assert r.status_code == 422 and r.json()["detail"]["cara_penandatanganan"] == "desk", r.text
    assert plan_of(api, desk, "desk").status_code == 201


@pytest.mark.parametrize("services", ["sqlite-local", "postgres-s3"], indirect=True)
def test_desk_to_desk_on_another_day_needs_a_confirmation_that_every_report_shows(
    signers_api, dev_pki, counterparty_pki, counterparty_person
):
    import io

    from pypdf import PdfReader

    from pipeline.sign.signing_date import signing_dates
    from tests.test_api import hari_ini
    from tests.test_signing_flow import counterparty_signs

    api = signers_api
    today = hari_ini()
    stated = today - dt.timedelta(days=2)  # the text's date; both parties sign later, each in its office
    nid = kb_dated(api, stated, "desk")
    r = plan_of(api, nid, "desk")
    assert r.status_code == 201 and r.json()["tanggal_naskah"] == stated.isoformat(), r.text
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    returned = counterparty_signs(exported, counterparty_pki, counterparty_person)

    def import_(**form):
        return api.client.post(
            f"/api/v1/naskah/{nid}/import",
            files={"file": ("balik.pdf", returned, "application/pdf")},
            data=form,
            headers=api.auth("drafter"),
        )

    r = import_()
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail["reason"] == "signing_date_confirmation_required"
    assert (detail["tanggal_naskah"], detail["tanggal_ttd"]) == (stated.isoformat(), today.isoformat())
    assert detail["saran_catatan"].startswith("Ditandatangani PIHAK KEDUA (H. Rahmad Mas'ud")
    assert "konfirmasi_tanggal" in r.json()["message"]
    r = import_(konfirmasi_tanggal="true")
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "catatan_tanggal_missing"
    mitra_note = f"Ditandatangani PIHAK KEDUA pada {_tanggal(today)} secara desk to desk"
    r = import_(konfirmasi_tanggal="true", catatan_tanggal=mitra_note)
    assert r.status_code == 200, r.text
    assert (r.json()["steps"][0]["tanggal_ttd"], r.json()["steps"][0]["catatan_tanggal"]) == (
        today.isoformat(),
        mitra_note,
    )

    # our countersignature on another day too
    r = sign_as(api, nid, "bupati", dev_pki, "dr. Fahmi Fadli")
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "signing_date_confirmation_required"
    our_note = f"Ditandatangani PIHAK KESATU pada {_tanggal(today)} secara desk to desk"
    r = sign_as(api, nid, "bupati", dev_pki, "dr. Fahmi Fadli", konfirmasi_tanggal="true", catatan_tanggal=our_note)
    assert r.status_code == 200, r.text
    assert [s["catatan_tanggal"] for s in r.json()["steps"]] == [mitra_note, our_note]

    # the PDF carries our note in the signature's /Reason
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    fields = {
        f.get_object()["/T"]: f.get_object()
        for f in PdfReader(io.BytesIO(signed)).trailer["/Root"]["/AcroForm"]["/Fields"]
    }
    assert fields["ttd_pihak_1"]["/V"]["/Reason"].endswith(our_note)
    # the naskah's history
    events = api.client.get(f"/api/v1/naskah/{nid}/history", headers=api.auth("secretariat")).json()["data"]
    assert [e["action"] for e in events[-2:]] == ["import_signed", "sign"]
    assert (
        events[-2]["note"].endswith(mitra_note) and events[-1]["note"] == our_note
    )  # after where their signature sits
    # the archive record and its verification report
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    arsip = r.json()
    assert arsip["tanggal_ttd"] == today.isoformat()
    assert sorted((p["urutan"], p["catatan_tanggal"]) for p in arsip["pihak"]) == [(1, our_note), (2, mitra_note)]
    report = api.client.get(f"/api/v1/arsip/{arsip['id']}/verify", headers=api.auth("secretariat")).json()
    assert report["ok"] is True
    dates = report["tanggal_penandatanganan"]
    assert dates["tanggal_naskah"] == stated.isoformat() and dates["catatan_tanggal"] == [mitra_note, our_note]
    assert [s["tanggal_ttd"] for s in dates["tanda_tangan"]] == [today.isoformat()] * 2
    # POST /verify of the signed file: the system knows the naskah and shows the same dates and notes
    r = api.client.post(
        "/api/v1/verify", files={"file": ("ttd.pdf", signed, "application/pdf")}, headers=api.auth("secretariat")
    )
    assert r.status_code == 200, r.text
    assert r.json()["naskah_id"] == nid
    dates = r.json()["tanggal_penandatanganan"]
    assert dates["tanggal_naskah"] == stated.isoformat() and dates["catatan_tanggal"] == [mitra_note, our_note]
    with session_scope(api.services.engine) as session:
        known = signing_dates(session, nid)
    assert known is not None and known.mode == "desk" and known.to_dict() == dates


def _tanggal(day: dt.date) -> str:
    from pipeline.terbilang import tanggal

    return tanggal(day)


@pytest.mark.parametrize("services", ["postgres-local"], indirect=True)
def test_a_naskah_last_edited_in_word_states_the_date_of_the_rendering_it_was_edited_from(signers_api):
    from api.demo import edit_in_word
    from tests.test_api import create_case, hari_ini, naskah_body
    from tests.test_workflow import post

    api = signers_api
    tomorrow = hari_ini() + dt.timedelta(days=1)
    body = naskah_body("KB")
    body["data"]["tanggal"] = tomorrow.isoformat()
    r = api.client.post(f"/api/v1/cases/{create_case(api)}/naskah", json=body, headers=api.auth("drafter"))
    nid = r.json()["id"]
    docx = api.client.get(f"/api/v1/naskah/{nid}/revisions/1/docx", headers=api.auth("drafter")).content
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/upload",
        files={"file": ("kb.docx", edit_in_word(docx), "application/octet-stream")},
        data={"note": "disunting di Word"},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 201, r.text  # revision 2, the final text, carries no data of its own
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200
    r = plan_of(api, nid, "tatap_muka", TATAP_MUKA)
    assert r.status_code == 201, r.text
    assert r.json()["tanggal_naskah"] == tomorrow.isoformat()
