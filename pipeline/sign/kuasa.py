"""Surat kuasa: may this delegate sign this PKS for the Kepala Daerah, today?

A Kepala Daerah can empower the Kepala OPD teknis to sign a Perjanjian Kerja Sama by a
Surat Kuasa (SK), itself a naskah of the same case whose ``parent_id`` is that PKS, drafted,
initialled and signed like any other.  Before a delegate signs, the system checks that the
SK is signed, is valid on the day of signing, covers this PKS, was given by the official who
signs for PIHAK KESATU, and names this delegate — the user, and the certificate's subject.
Each refusal says which of these failed (``detail.reason``).

The delegate's signature then follows the convention for signing under a kuasa: the
signature block shows "a.n. <pemberi kuasa>" with the SK's number, the signature's
``/Reason`` says "Untuk dan atas nama … berdasarkan Surat Kuasa Nomor … tanggal …", and the
signed SK is embedded in the PKS (``signature_plan`` attaches it with the final PDF).
The printed block heading reads "a.n. BUPATI PASER" above the delegate's jabatan (the PKS
template's ``kuasa`` field).

The counterparty may sign under a kuasa of its own (the PKS template's ``kuasa_pihak_kedua``:
nomor, tanggal, pemberi jabatan, from the naskah data): it is only CITED, in PIHAK KEDUA's
identity paragraph and block heading.  Nothing here verifies it: their Surat Kuasa is their
register's document, which we neither hold nor can check; the counterparty answers for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from sqlmodel import Session, col, select

from pipeline.drafting.cases import pihak_of
from pipeline.drafting.revisions import latest_complete
from pipeline.errors import NotPermitted
from pipeline.identity import Official, digits, require_belongs, same_person
from pipeline.lifecycle import Status
from pipeline.models import Naskah, User
from pipeline.terbilang import parse_tanggal, tanggal

__all__ = ["Kuasa", "check_certificate", "find_kuasa", "read_kuasa", "same_person"]

#: An SK counts once its own signature plan is complete.
SIGNED_STATES = frozenset({Status.SIGNED.value, Status.ARCHIVED.value})


@dataclass(frozen=True)
class Kuasa:
    """A signed Surat Kuasa, as the checks and the signature need it."""

    naskah_id: int
    nomor: str
    tanggal: date
    berlaku_sampai: date | None
    pemberi_nama: str
    pemberi_jabatan: str
    penerima_nama: str
    penerima_nip: str

    @property
    def kuasa_line(self) -> str:
        """The lines above the delegate's jabatan in the visible signature."""
        return f"a.n. {self.pemberi_jabatan}\nSurat Kuasa Nomor {self.nomor}"

    @property
    def reason(self) -> str:
        """The signature's ``/Reason``."""
        return (
            f"Untuk dan atas nama {self.pemberi_jabatan} berdasarkan Surat Kuasa Nomor {self.nomor} "
            f"tanggal {tanggal(self.tanggal)}: menyetujui isi naskah kerja sama"
        )

    def describe(self) -> str:
        return f"Surat Kuasa Nomor {self.nomor}"


def _refuse(message: str, reason: str, **detail: Any) -> NotPermitted:
    return NotPermitted(message, reason=reason, **detail)


def _sk_data(session: Session, sk: Naskah) -> dict[str, Any]:
    revision = latest_complete(session, sk.id or 0)
    return dict(revision.data or {}) if revision is not None else {}


def _penerima(session: Session, sk: Naskah) -> str:
    penerima = _sk_data(session, sk).get("penerima_kuasa")
    return str(penerima.get("nama", "")) if isinstance(penerima, dict) else ""


def _candidates(session: Session, pks: Naskah) -> list[Naskah]:
    return list(
        session.exec(
            select(Naskah).where(Naskah.jenis == "SK", Naskah.parent_id == pks.id).order_by(col(Naskah.id).desc())
        ).all()
    )


def find_kuasa(
    session: Session, pks: Naskah, pks_data: dict[str, Any], delegate: User, sk_id: int | None, today: date
) -> Kuasa:
    """The Surat Kuasa under which ``delegate`` signs PIHAK KESATU of ``pks`` on ``today``.

    ``sk_id`` names it; None takes the signed SK of this PKS that names the delegate.  Refuses
    (``NotPermitted``, with ``detail.reason``) unless every condition holds.
    """
    if pks.jenis != "PKS":
        raise _refuse(
            "Penandatanganan berdasarkan Surat Kuasa hanya untuk Perjanjian Kerja Sama.", "kuasa_not_for_jenis"
        )
    if sk_id is None:
        signed = [sk for sk in _candidates(session, pks) if sk.status in SIGNED_STATES]
        naming = [sk for sk in signed if same_person(_penerima(session, sk), delegate.nama)]
        if not naming:
            raise _refuse(
                f"{delegate.nama} tidak memiliki Surat Kuasa yang sudah ditandatangani untuk Perjanjian Kerja Sama "
                "ini; hanya Kepala Daerah yang dapat menandatangani.",
                "kuasa_missing",
                naskah_id=pks.id,
            )
        sk = naming[0]
    else:
        found = session.get(Naskah, sk_id)
        if found is None or found.jenis != "SK":
            raise _refuse(f"Naskah {sk_id} bukan Surat Kuasa.", "kuasa_missing", kuasa_naskah_id=sk_id)
        sk = found
    data = _sk_data(session, sk)
    nomor = str(data.get("nomor") or "")
    label = f"Surat Kuasa Nomor {nomor}" if nomor else f"Surat Kuasa (naskah {sk.id})"
    if sk.parent_id != pks.id:
        raise _refuse(
            f"{label} tidak menguasakan penandatanganan Perjanjian Kerja Sama ini.",
            "kuasa_other_pks",
            kuasa_naskah_id=sk.id,
            covers=sk.parent_id,
        )
    if sk.status not in SIGNED_STATES:
        raise _refuse(
            f"{label} belum ditandatangani (status: {sk.status}); kuasa belum berlaku.",
            "kuasa_not_signed",
            kuasa_naskah_id=sk.id,
            status=sk.status,
        )
    kuasa = _kuasa(sk, data)
    if today < kuasa.tanggal:
        raise _refuse(
            f"{label} baru berlaku sejak {tanggal(kuasa.tanggal)}.", "kuasa_not_yet_valid", kuasa_naskah_id=sk.id
        )
    if kuasa.berlaku_sampai is not None and today > kuasa.berlaku_sampai:
        raise _refuse(
            f"{label} sudah tidak berlaku sejak {tanggal(kuasa.berlaku_sampai)} "
            f"(berlaku sampai {tanggal(kuasa.berlaku_sampai)}). Mintakan Surat Kuasa baru.",
            "kuasa_expired",
            kuasa_naskah_id=sk.id,
        )
    pihak_kesatu = next((p for p in pihak_of(session, pks.kerja_sama_id) if p.urutan == 1), None)
    if pihak_kesatu is not None and not same_person(kuasa.pemberi_nama, pihak_kesatu.penandatangan_nama):
        raise _refuse(
            f"Pemberi kuasa dalam {label} ({kuasa.pemberi_nama}) bukan penanda tangan PIHAK KESATU "
            f"({pihak_kesatu.penandatangan_nama}).",
            "kuasa_wrong_pemberi",
            kuasa_naskah_id=sk.id,
        )
    if not same_person(kuasa.penerima_nama, delegate.nama) or (
        kuasa.penerima_nip and delegate.nip and digits(kuasa.penerima_nip) != digits(delegate.nip)
    ):
        raise _refuse(
            f"{label} memberi kuasa kepada {kuasa.penerima_nama}, bukan kepada {delegate.nama}.",
            "kuasa_other_person",
            kuasa_naskah_id=sk.id,
        )
    printed = pks_data.get("pihak_kesatu")
    if isinstance(printed, dict) and printed.get("nama") and not same_person(printed["nama"], kuasa.penerima_nama):
        raise _refuse(
            f"Blok tanda tangan PIHAK KESATU pada naskah mencantumkan {printed['nama']}, bukan penerima kuasa "
            f"{kuasa.penerima_nama}.",
            "kuasa_not_printed",
            kuasa_naskah_id=sk.id,
        )
    cited = pks_data.get("kuasa")
    if isinstance(cited, dict) and cited.get("nomor") and str(cited["nomor"]).strip() != nomor:
        raise _refuse(
            f"Naskah menyebut Surat Kuasa Nomor {cited['nomor']}, sedangkan yang ditandatangani bernomor {nomor}.",
            "kuasa_nomor_mismatch",
            kuasa_naskah_id=sk.id,
        )
    return kuasa


def check_certificate(
    kuasa: Kuasa, certificate: asn1_x509.Certificate | x509.Certificate, *, fingerprints: frozenset[str] = frozenset()
) -> None:
    """The signing certificate must belong to the penerima kuasa: the one rule of ``pipeline.identity``
    (a certificate registered for the delegate's account, else NIP, else the name), refused with
    ``certificate_not_penerima_kuasa``.  Takes pyHanko's (asn1crypto) or a ``cryptography`` certificate."""
    penerima = Official(nama=kuasa.penerima_nama, nip=kuasa.penerima_nip or None, fingerprints=fingerprints)
    require_belongs(
        certificate,
        penerima,
        reason="certificate_not_penerima_kuasa",
        context=f"Penerima kuasa menurut {kuasa.describe()}: {kuasa.penerima_nama}.",
    )


def read_kuasa(session: Session, sk_id: int) -> Kuasa | None:
    """The Surat Kuasa ``sk_id`` as recorded, without the checks of :func:`find_kuasa` (for
    verification, which asks whose certificate signed, not whether the kuasa holds today)."""
    sk = session.get(Naskah, sk_id)
    if sk is None or sk.jenis != "SK":
        return None
    return _kuasa(sk, _sk_data(session, sk))


def _kuasa(sk: Naskah, data: dict[str, Any]) -> Kuasa:
    return Kuasa(
        naskah_id=sk.id or 0,
        nomor=str(data.get("nomor") or ""),
        tanggal=parse_tanggal(data["tanggal"]),
        berlaku_sampai=parse_tanggal(data["berlaku_sampai"]) if data.get("berlaku_sampai") else None,
        pemberi_nama=str(data.get("pihak_kesatu", {}).get("nama", "")),
        pemberi_jabatan=str(data.get("pihak_kesatu", {}).get("jabatan", "")),
        penerima_nama=str(data.get("penerima_kuasa", {}).get("nama", "")),
        penerima_nip=str(data.get("penerima_kuasa", {}).get("nip") or ""),
    )
