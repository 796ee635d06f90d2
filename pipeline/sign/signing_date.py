"""The signing date a naskah states, and signatures made on another day.

A KB, NK or PKS states its signing date in its opening sentence ("Pada hari ini Senin tanggal
tujuh bulan Desember ..."), a Surat Kuasa in "Ditetapkan di ... pada tanggal ..."; a tatap muka
naskah's PENUTUP says PARA PIHAK signed "pada hari dan tanggal sebagaimana tersebut di atas".
So the date is part of what is signed, and:

* the signature plan records it (``SignaturePlan.tanggal_naskah``, from the data of the revision
  everyone signs), and the plan's mode must be the one the text was drafted for
  (``cara_penandatanganan``: a desk-to-desk text claims no place of signing, a tatap muka text
  does);
* tatap muka, a signature on another day than that date is refused: the text would state a
  date that is not true.  Sign on the stated day, or draft a revision with the right date (the
  text changes, so the paraf are given again);
* desk to desk, each party signs in its own office and usually not on the stated day.  A
  signature on another day needs an explicit confirmation with a note (``KonfirmasiTanggal``:
  ``konfirmasi_tanggal=true`` plus ``catatan_tanggal`` over the API).  The note is kept on the
  signature step (``SignatureStep.catatan_tanggal``) and shown wherever the naskah's signatures
  are reported: the plan, the naskah's history, the archive record and its verification report
  (:func:`signing_dates`); our own signature's ``/Reason`` carries it inside the PDF.

The day of a signature, always a calendar day in the SOP profile's zone (WIB/WITA/WIT, the zone
every date of the naskah is read in): our server signature is dated by the moment it is made
(the same moment its visible block prints); a counterparty's signature made in its own system
by its RFC 3161 timestamp (the time a third party proves), else by the signing time its
signature claims, else by the moment of import.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from pipeline.errors import InvalidInput, RuleViolation
from pipeline.models import Revision, RevisionSource, RevisionState, SignaturePlan, SignatureStep
from pipeline.terbilang import HARI, parse_tanggal, tanggal

__all__ = [
    "MODE_FIELD",
    "KonfirmasiTanggal",
    "SigningDate",
    "SigningDates",
    "StatedSigning",
    "check_day",
    "check_plan",
    "day_of_signature",
    "signer_label",
    "signing_dates",
    "stated_signing",
]

log = logging.getLogger(__name__)

MODE_FIELD = "cara_penandatanganan"
"""The template field saying how the naskah is signed: ``tatap_muka`` or ``desk``."""
MODE_NAMES = {"tatap_muka": "tatap muka", "desk": "desk to desk"}
_PIHAK = {1: "PIHAK KESATU", 2: "PIHAK KEDUA", 3: "PIHAK KETIGA", 4: "PIHAK KEEMPAT"}


def _hari(day: dt.date) -> str:
    """ "Senin, 7 Desember 2026"."""
    return f"{HARI[day.weekday()]}, {tanggal(day)}"


def _zone(tz: dt.tzinfo) -> str:
    return tz.tzname(None) or str(tz)


# --- what the text states ---------------------------------------------------------------------


@dataclass(frozen=True)
class StatedSigning:
    """The signing date and mode the naskah's text states."""

    tanggal: dt.date | None
    """The stated signing date; None when the template states none (no day is then checked)."""
    cara: str | None
    """``tatap_muka`` or ``desk`` as drafted; None when the template has no such field."""
    revision_number: int | None
    """The revision whose data states them (an uploaded revision: the rendering it was edited from)."""


def stated_signing(session: Session, revision: Revision, template_fields: Collection[str]) -> StatedSigning:
    """What ``revision`` (the one everyone signs) states about its signing.

    A rendered revision keeps the exact fields it was rendered from.  A revision uploaded from
    Word keeps none; its text was edited from the newest rendered revision before it, whose
    fields are taken (a date changed by hand in Word is not seen: the plan shows the date it
    holds, so a mismatch is visible before anyone signs).  A template that declares
    ``cara_penandatanganan`` and whose data omits it was drafted tatap muka (the default).
    """
    source: Revision | None = revision if revision.data is not None else None
    if source is None:
        source = session.exec(
            select(Revision)
            .where(
                Revision.naskah_id == revision.naskah_id,
                col(Revision.number) < revision.number,
                Revision.source == RevisionSource.RENDERED.value,
                Revision.state == RevisionState.COMPLETE.value,
            )
            .order_by(col(Revision.number).desc())
        ).first()
    data: dict[str, Any] = (source.data or {}) if source is not None else {}
    stated: dt.date | None = None
    if data.get("tanggal"):
        try:
            stated = parse_tanggal(data["tanggal"])
        except ValueError:  # validated when rendered; an unreadable old value states nothing usable
            log.warning("revision %s: unreadable tanggal %r", revision.id, data["tanggal"])
    cara = data.get(MODE_FIELD) or ("tatap_muka" if MODE_FIELD in template_fields else None)
    return StatedSigning(stated, cara, source.number if source is not None else None)


def check_plan(stated: StatedSigning, mode: str, today: dt.date, tz: dt.tzinfo) -> None:
    """A plan must be signed the way the text was drafted; tatap muka not after the stated day."""
    if stated.cara is not None and stated.cara != mode:
        drafted, planned = MODE_NAMES.get(stated.cara, stated.cara), MODE_NAMES.get(mode, mode)
        claim = (
            "menyebut satu tempat penandatanganan dan menyatakan PARA PIHAK menandatanganinya pada hari dan "
            "tanggal yang tertulis"
            if stated.cara == "tatap_muka"
            else "menyatakan setiap pihak menandatangani secara elektronik di tempatnya masing-masing"
        )
        raise RuleViolation(
            f"Naskah ini disusun untuk penandatanganan {drafted} (teksnya {claim}); rencana {planned} tidak "
            f"sesuai dengan teksnya. Susun revisi baru dengan {MODE_FIELD} '{mode}' (paraf diberikan ulang atas "
            f"revisi itu), atau susun rencana {drafted}.",
            reason="signing_mode_mismatch",
            mode=mode,
            cara_penandatanganan=stated.cara,
        )
    if mode == "tatap_muka" and stated.tanggal is not None and stated.tanggal < today:
        raise RuleViolation(
            f"Naskah ini menyatakan ditandatangani pada hari {_hari(stated.tanggal)}, dan tanggal itu sudah lewat "
            f"(hari ini {_hari(today)} {_zone(tz)}). Penandatanganan tatap muka hanya pada tanggal yang tertulis: "
            "susun revisi baru dengan tanggal penandatanganan yang benar (paraf diberikan ulang atas revisi itu).",
            reason="signing_date_passed",
            tanggal_naskah=stated.tanggal.isoformat(),
            hari_ini=today.isoformat(),
            zona_waktu=_zone(tz),
        )


# --- a signature on another day ------------------------------------------------------------------


@dataclass(frozen=True)
class KonfirmasiTanggal:
    """Desk to desk: the signer or secretariat confirms that a signature is dated on another day
    than the naskah states, and says so in a note the verification report shows."""

    konfirmasi: bool = False
    """True: "yes, this signature is made/dated on another day than the naskah's date"."""
    catatan: str = ""
    """E.g. "Ditandatangani PIHAK KEDUA pada 9 Desember 2026 secara desk to desk"."""


def signer_label(pihak_urutan: int, nama: str) -> str:
    return f"{_PIHAK.get(pihak_urutan, f'pihak ke-{pihak_urutan}')} ({nama})"


def check_day(
    tanggal_naskah: dt.date | None,
    day: dt.date,
    mode: str,
    signer: str,
    tz: dt.tzinfo,
    konfirmasi: KonfirmasiTanggal | None = None,
) -> str | None:
    """May a signature dated ``day`` (profile zone) be made on a naskah stating ``tanggal_naskah``?

    Returns the date note to keep with the signature (None: same day, nothing to note).  Tatap
    muka on another day is refused; desk to desk it needs ``konfirmasi`` with a note.
    """
    if tanggal_naskah is None or day == tanggal_naskah:
        return None
    dates = {"tanggal_naskah": tanggal_naskah.isoformat(), "zona_waktu": _zone(tz)}
    if mode != "desk":
        if tanggal_naskah > day:
            advice = f"Tanda tangan pada hari {_hari(tanggal_naskah)}, atau susun revisi baru dengan tanggal yang benar"
        else:
            advice = "Tanggal itu sudah lewat: susun revisi baru dengan tanggal penandatanganan yang benar"
        raise RuleViolation(
            f"Naskah ini menyatakan ditandatangani pada hari {_hari(tanggal_naskah)}, sedangkan hari ini "
            f"{_hari(day)} ({_zone(tz)}). Penandatanganan tatap muka hanya pada tanggal yang tertulis dalam naskah. "
            f"{advice} (paraf diberikan ulang atas revisi itu).",
            reason="signing_date_mismatch",
            hari_ini=day.isoformat(),
            **dates,
        )
    suggestion = f"Ditandatangani {signer} pada {tanggal(day)} secara desk to desk"
    if konfirmasi is None or not konfirmasi.konfirmasi:
        raise RuleViolation(
            f"Tanda tangan {signer} bertanggal {_hari(day)} ({_zone(tz)}), sedangkan naskah menyatakan tanggal "
            f"{_hari(tanggal_naskah)}. Desk to desk hal itu dapat diterima bila dikonfirmasi: kirim ulang dengan "
            f'konfirmasi_tanggal=true dan catatan_tanggal, mis. "{suggestion}". Catatan itu dicantumkan pada '
            "riwayat naskah, arsip, dan laporan verifikasinya.",
            reason="signing_date_confirmation_required",
            tanggal_ttd=day.isoformat(),
            saran_catatan=suggestion,
            **dates,
        )
    note = " ".join(konfirmasi.catatan.split())
    if not note:
        raise InvalidInput(
            f'Konfirmasi tanggal memerlukan catatan_tanggal, mis. "{suggestion}".',
            reason="catatan_tanggal_missing",
            field="catatan_tanggal",
            tanggal_ttd=day.isoformat(),
            saran_catatan=suggestion,
            **dates,
        )
    return note


def day_of_signature(
    timestamp: dt.datetime | None, signing_time: dt.datetime | None, tz: dt.tzinfo, fallback: dt.datetime
) -> dt.date:
    """The calendar day (in ``tz``) of a signature made elsewhere: its timestamp's time, else the
    signing time it claims, else ``fallback`` (the moment of import).  A time without a zone (a
    malformed signing time) is read as UTC, the zone PDF and CMS times are written in."""
    moment = timestamp or signing_time or fallback
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(tz).date()


# --- for reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningDate:
    """One signature of a naskah: its day and the note confirming it, if it is not the stated day."""

    urutan: int
    pihak_urutan: int
    nama: str
    tanggal_ttd: dt.date | None
    catatan_tanggal: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "urutan": self.urutan,
            "pihak_urutan": self.pihak_urutan,
            "nama": self.nama,
            "tanggal_ttd": self.tanggal_ttd.isoformat() if self.tanggal_ttd else None,
            "catatan_tanggal": self.catatan_tanggal,
        }


@dataclass(frozen=True)
class SigningDates:
    """The date a naskah states and the day of each of its signatures (for verification reports)."""

    naskah_id: int
    mode: str
    tanggal_naskah: dt.date | None
    signatures: list[SigningDate] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [s.catatan_tanggal for s in self.signatures if s.catatan_tanggal]

    def to_dict(self) -> dict[str, Any]:
        return {
            "naskah_id": self.naskah_id,
            "mode": self.mode,
            "tanggal_naskah": self.tanggal_naskah.isoformat() if self.tanggal_naskah else None,
            "tanda_tangan": [s.to_dict() for s in self.signatures],
            "catatan_tanggal": self.notes,
        }


def signing_dates(session: Session, naskah_id: int) -> SigningDates | None:
    """For a naskah the system knows: the stated date and, per signature step, its day and date
    note (None when the naskah has no signature plan).  Verification reports join this in."""
    plan = session.exec(select(SignaturePlan).where(SignaturePlan.naskah_id == naskah_id)).first()
    if plan is None:
        return None
    steps = session.exec(
        select(SignatureStep).where(SignatureStep.plan_id == plan.id).order_by(col(SignatureStep.urutan))
    ).all()
    return SigningDates(
        naskah_id=naskah_id,
        mode=plan.mode,
        tanggal_naskah=plan.tanggal_naskah,
        signatures=[
            SigningDate(s.urutan, s.pihak_urutan, s.nama, s.tanggal_ttd, s.catatan_tanggal)
            for s in steps
            if s.signed_at is not None
        ],
    )
