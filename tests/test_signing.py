"""Signing with pyHanko through pipeline.sign.signing, judged by pyHanko's own validator (pipeline.sign.verify).

Real services only: the dev PKI's TSA, OCSP responder and CRLs answer over HTTP on
127.0.0.1; the PDF is the KB template converted by LibreOffice.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from pipeline.drafting.convert import check_pdf
from pipeline.errors import InvalidInput, ServiceUnavailable
from pipeline.sign.devpki import DevPki, IssuedCert
from pipeline.sign.signing import (
    SignatureAppearance,
    SignOptions,
    http_timestamper,
    sign_pdf,
    validation_context,
)
from pipeline.sign.verify import verify_pdf
from tests.fixtures.pki import (
    FIELD_KEDUA,
    FIELD_KESATU,
    add_annotation,
    appearance_xobjects,
    append_page_incremental,
    append_page_rewrite,
    flip_byte_in_stream,
    make_signer,
    page_text,
    replace_page_content,
    with_signature_fields,
)

REFERENCE = "https://naskah.paserkab.go.id/verifikasi/KB-2025-0007"


def appearance(nama: str = "Dr. H. Fahmi Fadli, M.Si.", **extra: object) -> SignatureAppearance:
    return SignatureAppearance(
        nama=nama, jabatan="BUPATI PASER", tanggal=dt.date(2025, 3, 12), reference=REFERENCE, **extra
    )


def sign(
    pdf: bytes,
    pki: DevPki,
    person: IssuedCert,
    field: str = FIELD_KEDUA,
    *,
    level: str = "B-LT",
    lock: bool = False,
    nama: str = "Dr. H. Fahmi Fadli, M.Si.",
    **extra: object,
) -> bytes:
    """Sign at ``level`` (B-B, B-T or B-LT) with the person's key; B-T/B-LT check the signer first."""
    return sign_pdf(
        pdf,
        make_signer(person),
        appearance(nama, **extra),
        SignOptions(field_name=field, lock_document=lock, embed_validation_info=level == "B-LT"),
        timestamper=None if level == "B-B" else http_timestamper(pki.tsa_url),
        validation_context=None if level == "B-B" else validation_context(pki.roots),
    )


@pytest.fixture(scope="module")
def signed_lt(final_pdf: bytes, dev_pki: DevPki, signer_person: IssuedCert) -> bytes:
    return sign(final_pdf, dev_pki, signer_person)


def test_b_t_signature_is_valid_timestamped_and_visible(final_pdf, dev_pki, signer_person):
    signed = sign(final_pdf, dev_pki, signer_person, level="B-T")

    report = verify_pdf(signed, dev_pki.roots, allow_fetching=True)

    assert report.ok, report.to_dict()
    (check,) = report.signatures
    assert (check.field, check.pades_level, check.bottom_line) == (FIELD_KEDUA, "B-T", "ok")
    assert check.timestamp is not None and check.timestamp_valid
    assert check.signer == "Dr. H. Fahmi Fadli, M.Si."
    assert check.reason == "Menyetujui isi naskah kerja sama"
    text = page_text(signed, _last_page(signed))
    assert "Dr. H. Fahmi Fadli, M.Si." in text and "BUPATI PASER" in text and "12 Maret 2025" in text
    assert "Ditandatangani secara elektronik" in text
    assert "/QR" in appearance_xobjects(signed, FIELD_KEDUA)
    assert check_pdf(signed).pdfa == "2B"  # still marked PDF/A-2b after the incremental update


def _last_page(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def test_b_lt_signature_verifies_offline_from_embedded_validation_data(signed_lt, dev_pki):
    report = verify_pdf(signed_lt, dev_pki.roots)  # allow_fetching=False: only what the file carries

    assert report.ok, report.to_dict()
    (check,) = report.signatures
    assert check.pades_level == "B-LT"
    assert report.after_last_signature == "validation data"
    assert check.modification_level == "LTA_UPDATES"


def test_b_t_file_without_validation_data_is_untrusted_offline(final_pdf, dev_pki, signer_person):
    signed = sign(final_pdf, dev_pki, signer_person, level="B-T")

    report = verify_pdf(signed, dev_pki.roots)  # no fetching, revocation required: nothing to go on

    assert not report.ok
    assert report.bottom_line == "untrusted"
    assert any("pencabutan" in p for p in report.signatures[0].problems)


def test_signing_only_appends_to_the_original_bytes(final_pdf, signed_lt):
    assert signed_lt[: len(final_pdf)] == final_pdf
    assert len(signed_lt) > len(final_pdf)


def test_signing_time_is_recorded_in_utc(signed_lt, dev_pki):
    (check,) = verify_pdf(signed_lt, dev_pki.roots).signatures

    assert check.signing_time is not None
    assert check.signing_time.utcoffset() == dt.timedelta(0)
    assert abs(check.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_two_parties_sign_in_turn_and_both_signatures_stay_valid(final_pdf, dev_pki, signer_person):
    kedua = dev_pki.issue_person("Ir. Siti Rahmawati, M.T.")
    once = sign(final_pdf, dev_pki, kedua, FIELD_KEDUA, nama="Ir. Siti Rahmawati, M.T.")
    twice = sign(once, dev_pki, signer_person, FIELD_KESATU, lock=True)

    report = verify_pdf(twice, dev_pki.roots)

    assert report.ok, report.to_dict()
    assert [c.field for c in report.signatures] == [FIELD_KEDUA, FIELD_KESATU]
    assert all(c.bottom_line == "ok" and c.pades_level == "B-LT" for c in report.signatures)
    assert report.signatures[0].modification_level == "FORM_FILLING"


@pytest.fixture(scope="module")
def locked(final_pdf: bytes, dev_pki: DevPki, signer_person: IssuedCert) -> bytes:
    kedua = dev_pki.issue_person("Ir. Siti Rahmawati, M.T.")
    once = sign(final_pdf, dev_pki, kedua, FIELD_KEDUA, nama="Ir. Siti Rahmawati, M.T.")
    return sign(once, dev_pki, signer_person, FIELD_KESATU, lock=True)


def test_a_locked_document_is_refused_for_another_signature(locked, dev_pki, signer_person):
    with pytest.raises(InvalidInput) as err:
        sign_pdf(
            locked,
            make_signer(signer_person),
            appearance(),
            SignOptions(field_name="ttd_saksi", box=(1, 50, 600, 250, 680), embed_validation_info=False),
            timestamper=None,
            validation_context=None,
        )

    assert err.value.detail["reason"] == "document_locked"
    assert "dikunci" in err.value.message


def test_a_signature_added_after_the_lock_by_other_software_fails_verification(locked, dev_pki, signer_person):
    writer = IncrementalPdfFileWriter(BytesIO(locked))
    out = signers.sign_pdf(  # pyHanko 0.38 does not refuse: a /Lock on an approval signature is advisory to it
        writer,
        signers.PdfSignatureMetadata(field_name="ttd_saksi"),
        signer=make_signer(signer_person),
        new_field_spec=fields.SigFieldSpec("ttd_saksi", on_page=0, box=(50, 600, 250, 680)),
    )
    report = verify_pdf(out.getvalue(), dev_pki.roots, allow_fetching=True)

    assert not report.ok
    locker = next(c for c in report.signatures if c.field == FIELD_KESATU)
    assert locker.bottom_line == "modified"
    assert locker.docmdp_ok is False


def test_content_added_after_the_lock_fails_verification(locked, dev_pki):
    report = verify_pdf(replace_page_content(locked, overlay=True), dev_pki.roots)

    assert not report.ok
    assert report.bottom_line == "modified"
    assert report.after_last_signature == "changes"


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda pdf, base: flip_byte_in_stream(pdf, limit=len(base)), {"invalid"}),
        (lambda pdf, base: append_page_incremental(pdf), {"modified"}),
        (lambda pdf, base: append_page_rewrite(pdf), {"invalid", "modified"}),
        (lambda pdf, base: replace_page_content(pdf), {"modified"}),
        (lambda pdf, base: replace_page_content(pdf, overlay=True), {"modified"}),
        (lambda pdf, base: add_annotation(pdf), {"modified"}),
    ],
    ids=["one-byte", "page-appended-incremental", "page-appended-rewrite", "content-replaced", "overlay", "annotation"],
)
def test_any_change_after_signing_fails_verification(signed_lt, final_pdf, dev_pki, tamper, expected):
    tampered = tamper(signed_lt, final_pdf)

    report = verify_pdf(tampered, dev_pki.roots)

    assert not report.ok
    assert report.bottom_line in expected, report.to_dict()
    assert report.signatures and report.signatures[-1].problems


def test_expired_signer_certificate_is_refused_before_signing(final_pdf, dev_pki):
    now = dt.datetime.now(dt.UTC)
    expired = dev_pki.issue_person(
        "Pejabat Lama", not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=30)
    )

    with pytest.raises(InvalidInput) as err:
        sign(final_pdf, dev_pki, expired)

    assert err.value.detail["reason"] == "certificate_expired"
    assert err.value.message.startswith("Sertifikat penanda tangan sudah kedaluwarsa")


def test_revoked_signer_certificate_is_refused_before_signing(final_pdf, dev_pki):
    person = dev_pki.issue_person("Pejabat Dicabut")
    dev_pki.revoke(person)

    with pytest.raises(InvalidInput) as err:
        sign(final_pdf, dev_pki, person)

    assert err.value.detail["reason"] == "certificate_revoked"
    assert "dicabut" in err.value.message


def test_signer_from_another_ca_is_refused_when_its_root_is_not_trusted(final_pdf, dev_pki, counterparty_person):
    with pytest.raises(InvalidInput) as err:
        sign_pdf(
            final_pdf,
            make_signer(counterparty_person),
            appearance(),
            SignOptions(field_name=FIELD_KEDUA),
            timestamper=http_timestamper(dev_pki.tsa_url),
            validation_context=validation_context(dev_pki.roots),
        )

    assert err.value.detail["reason"] == "certificate_untrusted"


def test_signature_under_an_untrusted_root_does_not_verify(signed_lt, counterparty_pki):
    report = verify_pdf(signed_lt, counterparty_pki.roots)

    assert not report.ok
    assert report.bottom_line == "untrusted"
    assert any("dipercaya" in p for p in report.signatures[0].problems)


def test_missing_field_without_position_is_refused(final_pdf, signer_person):
    with pytest.raises(InvalidInput) as err:
        sign_pdf(
            final_pdf,
            make_signer(signer_person),
            appearance(),
            SignOptions(field_name="ttd_tidak_ada", embed_validation_info=False),
            timestamper=None,
            validation_context=None,
        )

    assert err.value.detail["reason"] == "field_missing"


def test_missing_field_with_position_is_created_there(naskah_pdf, dev_pki, signer_person):
    signed = sign_pdf(
        naskah_pdf,
        make_signer(signer_person),
        appearance(),
        SignOptions(field_name="ttd_baru", box=(1, 300, 50, 560, 130), embed_validation_info=False),
        timestamper=None,
        validation_context=None,
    )

    report = verify_pdf(signed, dev_pki.roots, allow_fetching=True)

    assert report.ok, report.to_dict()
    assert report.signatures[0].field == "ttd_baru"
    assert "Dr. H. Fahmi Fadli, M.Si." in page_text(signed, 1)


def test_an_already_signed_field_is_refused(signed_lt, signer_person):
    with pytest.raises(InvalidInput) as err:
        sign_pdf(
            signed_lt,
            make_signer(signer_person),
            appearance(),
            SignOptions(field_name=FIELD_KEDUA, embed_validation_info=False),
            timestamper=None,
            validation_context=None,
        )

    assert err.value.detail["reason"] == "field_already_signed"


def test_kuasa_line_and_names_outside_latin_1_are_drawn(final_pdf, dev_pki, signer_person):
    kuasa = "a.n. BUPATI PASER, Sekretaris Daerah, berdasarkan Surat Kuasa Nomor 180/12/Huk"
    signed = sign(final_pdf, dev_pki, signer_person, level="B-B", nama="Dr. Katsul Wijaya, M.Si. ǅ", kuasa_line=kuasa)

    text = page_text(signed, _last_page(signed))

    assert kuasa in text
    assert "Katsul Wijaya" in text and "ǅ" in text


def test_a_plain_pyhanko_simple_signer_from_pkcs12_is_accepted(final_pdf, dev_pki, signer_person):
    signer = signers.SimpleSigner.load_pkcs12_data(
        signer_person.to_pkcs12("rahasia-123"), other_certs=[], passphrase=b"rahasia-123"
    )

    signed = sign_pdf(
        final_pdf,
        signer,
        appearance(),
        SignOptions(field_name=FIELD_KEDUA),
        timestamper=http_timestamper(dev_pki.tsa_url),
        validation_context=validation_context(dev_pki.roots),
    )

    assert verify_pdf(signed, dev_pki.roots).ok


def test_lock_on_a_field_made_without_lock_is_refused_once_someone_signed(naskah_pdf, dev_pki, signer_person):
    unlocked = with_signature_fields(naskah_pdf, locked=None)
    once = sign(unlocked, dev_pki, signer_person, FIELD_KEDUA)

    with pytest.raises(InvalidInput) as err:
        sign(once, dev_pki, signer_person, FIELD_KESATU, lock=True)

    assert err.value.detail["reason"] == "field_not_lockable"


def test_the_first_signature_may_lock_a_field_made_without_lock(naskah_pdf, dev_pki, signer_person):
    unlocked = with_signature_fields(naskah_pdf, locked=None)
    signed = sign(unlocked, dev_pki, signer_person, FIELD_KESATU, lock=True)

    report = verify_pdf(signed, dev_pki.roots)

    assert report.ok, report.to_dict()
    with pytest.raises(InvalidInput) as err:
        sign(signed, dev_pki, signer_person, FIELD_KEDUA)
    assert err.value.detail["reason"] == "document_locked"


def test_too_little_reserved_space_is_refused_without_output(final_pdf, signer_person):
    with pytest.raises(InvalidInput) as err:
        sign_pdf(
            final_pdf,
            make_signer(signer_person),
            appearance(),
            SignOptions(field_name=FIELD_KEDUA, embed_validation_info=False, bytes_reserved=1024),
            timestamper=None,
            validation_context=None,
        )

    assert err.value.detail["reason"] == "signature_too_large"


@pytest.fixture(scope="module")
def unserved_pki(tmp_path_factory) -> DevPki:
    """A PKI whose TSA, OCSP responder and CRLs are down (never served)."""
    return DevPki.generate(tmp_path_factory.mktemp("pki") / "down", name="PKI Mati")


def test_an_unreachable_tsa_is_a_service_problem_not_a_signature(final_pdf, unserved_pki, signer_person):
    with pytest.raises(ServiceUnavailable) as err:
        sign_pdf(
            final_pdf,
            make_signer(signer_person),
            appearance(),
            SignOptions(field_name=FIELD_KEDUA, embed_validation_info=False),
            timestamper=http_timestamper(unserved_pki.tsa_url),
            validation_context=None,
        )

    assert err.value.detail["reason"] == "tsa_unavailable"


def test_unreachable_revocation_services_refuse_signing_as_a_service_problem(final_pdf, unserved_pki):
    person = unserved_pki.issue_person("Pejabat Tanpa OCSP")

    with pytest.raises(ServiceUnavailable) as err:
        sign_pdf(
            final_pdf,
            make_signer(person),
            appearance(),
            SignOptions(field_name=FIELD_KEDUA),
            timestamper=None,
            validation_context=validation_context(unserved_pki.roots),
        )

    assert err.value.detail["reason"] == "revocation_unavailable"


def test_a_reloaded_dev_pki_keeps_keys_port_and_revocations(tmp_path):
    from cryptography import x509 as pyca_x509

    pki = DevPki.generate(tmp_path / "pki", name="PKI Demo", rsa_bits=2048)
    person = pki.issue_person("Pegawai Dicabut", nip="198001012005011001")
    pki.revoke(person)

    again = DevPki.load(tmp_path / "pki")

    assert (again.port, again.root.dump()) == (pki.port, pki.root.dump())
    assert again.is_revoked(person.serial_number) is not None
    crl = pyca_x509.load_der_x509_crl(again.crl())
    assert crl.get_revoked_certificate_by_serial_number(person.serial_number) is not None
    assert oct((tmp_path / "pki" / "intermediate.key.pem").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(InvalidInput):
        DevPki.generate(tmp_path / "pki")


def test_a_tsa_whose_certificate_changed_is_learned_again_without_a_restart(
    final_pdf, dev_pki, counterparty_pki, counterparty_person
):
    """The process keeps one timestamper per TSA address.  When the TSA behind that address now signs
    with another certificate (renewed, or another TSA answering there), the next signature re-learns
    it instead of being refused as untrusted until a restart."""
    from tests.fixtures.gate import HttpGate

    gate = HttpGate(dev_pki.tsa_url)  # one address; the TSA behind it changes below
    try:

        def sign_via_gate(roots: list) -> bytes:
            return sign_pdf(
                final_pdf,
                make_signer(counterparty_person),
                appearance(),
                SignOptions(field_name=FIELD_KEDUA, embed_validation_info=True),
                timestamper=http_timestamper(gate.url),
                validation_context=validation_context(roots),
            )

        first = sign_via_gate([*counterparty_pki.roots, *dev_pki.roots])
        assert verify_pdf(first, [*counterparty_pki.roots, *dev_pki.roots]).ok
        before = gate.forwarded

        gate.upstream = counterparty_pki.tsa_url  # the old TSA certificate is no longer trusted below
        second = sign_via_gate(counterparty_pki.roots)

        report = verify_pdf(second, counterparty_pki.roots)
        assert report.ok, report
        assert report.signatures[0].timestamp_valid
        assert gate.forwarded >= before + 2  # a new dummy token (re-learning) and the signature's own
    finally:
        gate.shutdown()
