"""The one rule "does this certificate belong to this official?" (pipeline.identity), on real certificates."""

from __future__ import annotations

import pytest

from pipeline.errors import SigningRefused
from pipeline.identity import Official, fingerprint, match, require_belongs, same_person
from pipeline.sign.devpki import DevPki

NIP_KADIS = "19661211 198609 1 002"
NIK_BUPATI = "6401011203800001"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Ir. Budi Santoso, M.Si.", "BUDI SANTOSO", True),
        ("dr. Fahmi Fadli", "Fahmi Fadli", True),
        ("H. Rahmad Mas'ud, S.E., M.E.", "RAHMAD MAS'UD", True),
        ("dr. Fahmi Fadli", "Fahmi Fadly", False),
        ("Budi Santoso", "Budi Santoso Wijaya", False),
        ("", "", False),
    ],
)
def test_names_are_compared_without_titles(a: str, b: str, same: bool):
    assert same_person(a, b) is same


def test_a_certificate_naming_someone_else_does_not_belong(dev_pki: DevPki):
    other = dev_pki.issue_person("Orang Lain")
    check = match(other.certificate, Official("dr. Fahmi Fadli", "Bupati Paser"))
    assert not check.belongs and check.mismatch == "nama"
    assert "Orang Lain" in check.problem and "dr. Fahmi Fadli (Bupati Paser)" in check.problem


def test_the_name_without_titles_is_enough_when_no_nip_or_nik_can_be_compared(dev_pki: DevPki):
    cert = dev_pki.issue_person("FAHMI FADLI", serial_number=f"NIK:{NIK_BUPATI}")
    check = match(cert.certificate, Official("dr. Fahmi Fadli", "Bupati Paser", nip="197201011998031005"))
    assert check.belongs and check.basis == "nama"  # the certificate has a NIK, the official only a NIP


def test_a_prefixed_nik_in_the_serial_number_is_compared_by_its_digits(dev_pki: DevPki):
    cert = dev_pki.issue_person("F. FADLI", serial_number=f"NIK:{NIK_BUPATI}")
    check = match(cert.certificate, Official("dr. Fahmi Fadli", "Bupati Paser", nik=NIK_BUPATI))
    assert check.belongs and check.basis == "nik"  # the NIK decides, whatever spelling the name has


def test_a_nip_that_contradicts_the_official_is_refused_even_when_the_name_matches(dev_pki: DevPki):
    namesake = dev_pki.issue_person("Ir. Budi Santoso, M.Si.", serial_number="PNSID197001011995031001")
    official = Official("Ir. Budi Santoso, M.Si.", "Kepala Dinas", nip=NIP_KADIS)
    check = match(namesake.certificate, official)
    assert not check.belongs and check.mismatch == "nip"
    with pytest.raises(SigningRefused) as refused:
        require_belongs(namesake.certificate, official)
    detail = refused.value.detail
    assert detail["reason"] == "certificate_not_signer" and detail["mismatch"] == "nip"
    assert detail["expected"]["nama"] == "Ir. Budi Santoso, M.Si." and "Budi Santoso" in detail["subject"]
    assert "NIP" in refused.value.message and "ditolak" in refused.value.message
    same = dev_pki.issue_person("BUDI SANTOSO", nip=NIP_KADIS.replace(" ", ""))
    assert match(same.certificate, official).basis == "nip"


def test_a_registered_fingerprint_wins_over_what_the_subject_says(dev_pki: DevPki):
    cert = dev_pki.issue_person("Pemegang Sertifikat 0042")
    official = Official("dr. Fahmi Fadli", "Bupati Paser")
    assert not match(cert.certificate, official).belongs
    registered = Official("dr. Fahmi Fadli", "Bupati Paser", fingerprints=frozenset({fingerprint(cert.certificate)}))
    check = match(cert.certificate, registered)
    assert check.belongs and check.basis == "fingerprint"
