"""The lifecycle of one monev round (monitoring dan evaluasi of a running agreement), as ONE table.

Read the table top to bottom and you have Kota Tangerang's monev SOP (seed 001): the Kepala Bagian
assigns a ketua tim with a Surat Perintah (step 1: the round is created in ``persiapan``); the team
collects the data and prepares the bahan and jadwal (steps 2-3: ``jadwalkan``); the OPD teknis
reports (step 4, the Laporan Monitoring: realisasi, kendala, manfaat, rekomendasi and attachments);
the team hands over and processes the data for the Kabag (steps 5-6, or returns an incomplete report
to the OPD); the Kabag discusses it with the team: temuan and evaluasi (step 7); the Kabag gives the
arahan and the rencana tindak lanjut, each item with who answers for it and a due date (step 8,
disposisi); the items are carried out and the round is closed with its dokumen evaluasi (step 9).
The Kabag may cancel a round that is not finished, with a note.

Roles are the round's, not the naskah's: ``kabag`` (the profile's ``monev.kabag`` position), ``tim``
(the ketua tim and analis the Kabag assigned to THIS round) and ``opd`` (an official of the
agreement's OPD teknis).  ``pipeline.archival.monev`` decides which a user holds for a given round and
evaluates the guard; this module is pure data plus look-ups, so it is testable and the README's
table is generated from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from pipeline import statetable

__all__ = [
    "ACTION_LABELS",
    "CREATE_ROLES",
    "FINAL_STATES",
    "INITIAL_STATE",
    "STATE_STEPS",
    "STATUS_LABELS",
    "TRANSITIONS",
    "MonevAction",
    "MonevRole",
    "MonevStatus",
    "Transition",
    "available",
    "markdown_table",
    "resolve",
]


class MonevStatus(StrEnum):
    PERSIAPAN = "persiapan"  # steps 2-3: data collected, bahan and jadwal prepared
    MONITORING = "monitoring"  # step 4: the OPD teknis fills in the Laporan Monitoring
    PENGOLAHAN = "pengolahan"  # steps 5-6: the data handed over and processed for the Kabag
    PEMBAHASAN = "pembahasan"  # step 7: temuan and evaluasi
    ARAHAN = "arahan"  # step 8: arahan and rencana tindak lanjut (disposisi)
    TINDAK_LANJUT = "tindak_lanjut"  # step 9: the items carried out
    SELESAI = "selesai"  # closed with its dokumen evaluasi
    DIBATALKAN = "dibatalkan"  # cancelled by the Kabag; kept for the record


class MonevAction(StrEnum):
    TUGASKAN = "monev_tugaskan"  # step 1: the Kabag assigns a ketua tim (creates the round)
    JADWALKAN = "monev_jadwalkan"  # steps 2-3: bahan and jadwal; the OPD is asked to report
    LAPOR = "monev_lapor"  # step 4: the OPD's Laporan Monitoring
    KEMBALIKAN = "monev_kembalikan"  # the team returns an incomplete report to the OPD, with a note
    OLAH = "monev_olah"  # steps 5-6: hasil olah data, handed to the Kabag
    EVALUASI = "monev_evaluasi"  # step 7: temuan and evaluasi
    ARAHKAN = "monev_arahkan"  # step 8: arahan and the tindak lanjut items
    TUTUP = "monev_tutup"  # step 9: every item done; the dokumen evaluasi
    BATALKAN = "monev_batalkan"  # the Kabag cancels the round, with a note


class MonevRole(StrEnum):
    KABAG = "kabag"  # the profile's monev.kabag position (Kepala Bagian Tata Pemerintahan)
    TIM = "tim"  # the ketua tim and analis assigned to the round
    OPD = "opd"  # an official of the agreement's OPD teknis


@dataclass(frozen=True)
class Transition:
    source: MonevStatus
    action: MonevAction
    target: MonevStatus
    roles: frozenset[MonevRole]
    guard: str | None = None  # name of a condition the caller evaluates; None means always
    note_required: bool = False


def T(  # a short name: it reads as a table row
    source: MonevStatus,
    action: MonevAction,
    target: MonevStatus,
    roles: Iterable[MonevRole],
    guard: str | None = None,
    *,
    note: bool = False,
) -> Transition:
    return Transition(source, action, target, frozenset(roles), guard, note)


S, A, R = MonevStatus, MonevAction, MonevRole
K, TIM, OPD = R.KABAG, R.TIM, R.OPD

# Guards (evaluated by pipeline.archival.monev):
#   "tindak_lanjut_selesai"  every tindak lanjut item of the round is done
TRANSITIONS: tuple[Transition, ...] = (
    # from               action        to                who        guard
    T(S.PERSIAPAN,       A.JADWALKAN,  S.MONITORING,     {TIM}),
    T(S.MONITORING,      A.LAPOR,      S.PENGOLAHAN,     {OPD}),
    T(S.PENGOLAHAN,      A.KEMBALIKAN, S.MONITORING,     {TIM}, note=True),
    T(S.PENGOLAHAN,      A.OLAH,       S.PEMBAHASAN,     {TIM}),
    T(S.PEMBAHASAN,      A.EVALUASI,   S.ARAHAN,         {K}),
    T(S.ARAHAN,          A.ARAHKAN,    S.TINDAK_LANJUT,  {K}),
    T(S.TINDAK_LANJUT,   A.TUTUP,      S.SELESAI,        {K, TIM},  "tindak_lanjut_selesai"),
    T(S.PERSIAPAN,       A.BATALKAN,   S.DIBATALKAN,     {K}, note=True),
    T(S.MONITORING,      A.BATALKAN,   S.DIBATALKAN,     {K}, note=True),
    T(S.PENGOLAHAN,      A.BATALKAN,   S.DIBATALKAN,     {K}, note=True),
    T(S.PEMBAHASAN,      A.BATALKAN,   S.DIBATALKAN,     {K}, note=True),
    T(S.ARAHAN,          A.BATALKAN,   S.DIBATALKAN,     {K}, note=True),
    T(S.TINDAK_LANJUT,   A.BATALKAN,   S.DIBATALKAN,     {K}, note=True),
)  # fmt: skip

INITIAL_STATE = MonevStatus.PERSIAPAN
"""Where a round starts: the Kabag's assignment (:data:`CREATE_ROLES`) creates it here."""
CREATE_ROLES = frozenset({MonevRole.KABAG})
FINAL_STATES = frozenset({MonevStatus.SELESAI, MonevStatus.DIBATALKAN})

#: The SOP steps (``monev.langkah`` keys) a state spans: its deadline is their standard times in turn.
STATE_STEPS: Mapping[MonevStatus, tuple[str, ...]] = {
    MonevStatus.PERSIAPAN: ("pengumpulan_data", "bahan"),
    MonevStatus.MONITORING: ("monitoring",),
    MonevStatus.PENGOLAHAN: ("penyerahan", "pengolahan"),
    MonevStatus.PEMBAHASAN: ("pembahasan",),
    MonevStatus.ARAHAN: ("arahan",),
    MonevStatus.TINDAK_LANJUT: ("tindak_lanjut",),
}

STATUS_LABELS: Mapping[MonevStatus, str] = {
    MonevStatus.PERSIAPAN: "Persiapan (data, bahan dan jadwal)",
    MonevStatus.MONITORING: "Menunggu laporan monitoring OPD",
    MonevStatus.PENGOLAHAN: "Pengolahan data hasil monitoring",
    MonevStatus.PEMBAHASAN: "Pembahasan temuan dan evaluasi",
    MonevStatus.ARAHAN: "Menunggu arahan Kepala Bagian",
    MonevStatus.TINDAK_LANJUT: "Tindak lanjut",
    MonevStatus.SELESAI: "Selesai",
    MonevStatus.DIBATALKAN: "Dibatalkan",
}

ACTION_LABELS: Mapping[MonevAction, str] = {
    MonevAction.TUGASKAN: "menugaskan tim monitoring dan evaluasi",
    MonevAction.JADWALKAN: "menetapkan bahan dan jadwal monitoring",
    MonevAction.LAPOR: "menyampaikan laporan monitoring",
    MonevAction.KEMBALIKAN: "mengembalikan laporan monitoring",
    MonevAction.OLAH: "menyerahkan hasil olah data monitoring",
    MonevAction.EVALUASI: "mencatat temuan dan evaluasi",
    MonevAction.ARAHKAN: "memberikan arahan dan rencana tindak lanjut",
    MonevAction.TUTUP: "menutup monitoring dan evaluasi",
    MonevAction.BATALKAN: "membatalkan monitoring dan evaluasi",
}


def available(status: MonevStatus, roles: Iterable[MonevRole]) -> list[MonevAction]:
    """Actions a user holding ``roles`` may attempt on a round in ``status`` (table order)."""
    return statetable.available(TRANSITIONS, status, roles)


def resolve(status: MonevStatus, action: MonevAction, guards: Mapping[str, bool] | None = None) -> Transition:
    """The row that applies: the first whose source and action match and whose guard holds (LookupError
    when none does; callers name the state in an ActionNotAvailable)."""
    return statetable.resolve(TRANSITIONS, status, action, guards)


def markdown_table() -> str:
    """The table as Markdown, for README.md (kept in step by a test)."""
    lines = list(statetable.HEADER)
    lines.append(f"| (baru) | {MonevAction.TUGASKAN} | {INITIAL_STATE} | {', '.join(sorted(CREATE_ROLES))} |  |")
    return "\n".join([*lines, *statetable.markdown_rows(TRANSITIONS)])
