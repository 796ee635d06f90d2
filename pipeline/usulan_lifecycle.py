"""The lifecycle of one usulan kerja sama (an incoming penawaran or permohonan), as ONE table.

Read top to bottom (seeds 000 Kota Tangerang, 002 Magetan, 003 Bangka Belitung, 004 Paser steps
1-7): a letter is recorded with its attachments (``diterima``), disposed down the chain the SOP
profile names (``disposisi``: Bupati -> Sekda -> Kabag Pemerintahan -> Analis), studied by the
analis (``telaah``), discussed in a TKKSD meeting (``rapat``), and decided by the Kepala Daerah
(``keputusan``): approved, a kerja sama case opens for drafting (``disetujui``); refused, a surat
jawaban is drafted (``ditolak``).  Anything before the decision may be withdrawn (``dibatalkan``).

Like ``pipeline.lifecycle`` (the naskah's table) it says which ROLE may act; the profile's
``intake`` section says which PERSON (the position whose turn it is).  Guards are names the caller
evaluates (``pipeline.intake.workflow``).  Outgoing letters (undangan, surat jawaban, balasan,
penawaran, permohonan) are documents of a step, not steps: :data:`LETTER_STATES` says when each
may be drafted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from pipeline import statetable
from pipeline.lifecycle import Role

__all__ = [
    "ACTION_LABELS",
    "FINAL_STATES",
    "GUARDS",
    "INITIAL_STATE",
    "LETTER_STATES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Action",
    "Letter",
    "Status",
    "Transition",
    "available",
    "markdown_table",
    "resolve",
]


class Status(StrEnum):
    DITERIMA = "diterima"  # the letter is recorded; waits for the first disposisi
    DISPOSISI = "disposisi"  # travelling down the profile's chain
    TELAAH = "telaah"  # with the analis (the last of the chain), who studies it
    RAPAT = "rapat"  # a TKKSD meeting is scheduled / held
    KEPUTUSAN = "keputusan"  # the recommendation is with the Kepala Daerah
    DISETUJUI = "disetujui"  # approved: a kerja sama case is open for drafting
    DITOLAK = "ditolak"  # refused: a surat jawaban is drafted
    DIBATALKAN = "dibatalkan"  # withdrawn (by the sender, or recorded twice)


class Action(StrEnum):
    LENGKAPI = "lengkapi"  # complete the data or attachments (kelengkapan)
    DISPOSISI = "disposisi"  # the holder of the current position disposes it to the next
    TELAAH = "telaah"  # the analis writes (or rewrites) the telaah
    JADWALKAN_RAPAT = "jadwalkan_rapat"  # schedule the TKKSD meeting (date, place, invitees)
    CATAT_RAPAT = "catat_rapat"  # notulen / berita acara of the meeting
    REKOMENDASI = "rekomendasi"  # the meeting's recommendation goes to the Kepala Daerah
    SETUJUI = "setujui"  # the Kepala Daerah approves: a kerja sama case opens
    TOLAK = "tolak"  # the Kepala Daerah refuses: a surat jawaban is drafted
    BATALKAN = "batalkan"


class Letter(StrEnum):
    """Letters drafted from ``templates/naskah/surat`` and the berita acara from ``templates/naskah/ba``."""

    UNDANGAN = "undangan"  # invitation to the TKKSD meeting
    BERITA_ACARA = "berita_acara"  # berita acara / notulen of the meeting
    JAWABAN = "jawaban"  # written answer to a refused usulan
    BALASAN = "balasan"  # answer to an accepted penawaran: bersedia bekerja sama
    PENAWARAN = "penawaran"  # our own offer to a third party (an approved KAK)
    PERMOHONAN = "permohonan"  # our own request to the counterparty (an approved permohonan of an OPD)


@dataclass(frozen=True)
class Transition:
    source: Status
    action: Action
    target: Status
    roles: frozenset[Role]
    guard: str | None = None
    note_required: bool = False


def T(  # a short name: it reads as a table row
    source: Status,
    action: Action,
    target: Status,
    roles: Iterable[Role],
    guard: str | None = None,
    *,
    note: bool = False,
) -> Transition:
    return Transition(source, action, target, frozenset(roles), guard, note)


D, P, S, SEC = Role.DRAFTER, Role.PARAF, Role.SIGNER, Role.SECRETARIAT
# Who disposes: whoever holds the chain's current position (a Kepala Daerah signs, a Sekda and a
# Kabag give paraf, a Ketua Tim/Kasubbag drafts); the profile names the position, the role is its role.
CHAIN = (S, P, D)

# Guards (evaluated by pipeline.intake.workflow):
#   "chain_remaining"  the chain still has positions after the one disposing now
#   "chain_complete"   the position disposing now is the chain's last but one (the analis gets it)
#   "lengkap"          every kelengkapan item is present (the missing ones are named otherwise)
#   "notulen"          the meeting's notulen / berita acara is recorded
GUARDS = frozenset({"chain_remaining", "chain_complete", "lengkap", "notulen"})

TRANSITIONS: tuple[Transition, ...] = (
    # from               action                  to                   who           guard
    T(Status.DITERIMA,   Action.LENGKAPI,        Status.DITERIMA,     {SEC, D}),
    T(Status.DITERIMA,   Action.DISPOSISI,       Status.DISPOSISI,    CHAIN,        "chain_remaining"),
    T(Status.DITERIMA,   Action.DISPOSISI,       Status.TELAAH,       CHAIN,        "chain_complete"),
    T(Status.DISPOSISI,  Action.LENGKAPI,        Status.DISPOSISI,    {SEC, D}),
    T(Status.DISPOSISI,  Action.DISPOSISI,       Status.DISPOSISI,    CHAIN,        "chain_remaining"),
    T(Status.DISPOSISI,  Action.DISPOSISI,       Status.TELAAH,       CHAIN,        "chain_complete"),
    T(Status.TELAAH,     Action.LENGKAPI,        Status.TELAAH,       {D}),
    T(Status.TELAAH,     Action.TELAAH,          Status.TELAAH,       {D}),
    T(Status.TELAAH,     Action.JADWALKAN_RAPAT, Status.RAPAT,        {D},          "lengkap"),
    T(Status.RAPAT,      Action.JADWALKAN_RAPAT, Status.RAPAT,        {D}),  # moved to another day
    T(Status.RAPAT,      Action.CATAT_RAPAT,     Status.RAPAT,        {D}),
    T(Status.RAPAT,      Action.REKOMENDASI,     Status.KEPUTUSAN,    {D},          "notulen"),
    T(Status.KEPUTUSAN,  Action.SETUJUI,         Status.DISETUJUI,    {S},          "lengkap"),
    T(Status.KEPUTUSAN,  Action.TOLAK,           Status.DITOLAK,      {S}, note=True),
    T(Status.DITERIMA,   Action.BATALKAN,        Status.DIBATALKAN,   {SEC, D}, note=True),
    T(Status.DISPOSISI,  Action.BATALKAN,        Status.DIBATALKAN,   {SEC, D}, note=True),
    T(Status.TELAAH,     Action.BATALKAN,        Status.DIBATALKAN,   {D}, note=True),
    T(Status.RAPAT,      Action.BATALKAN,        Status.DIBATALKAN,   {D}, note=True),
)  # fmt: skip

INITIAL_STATE = Status.DITERIMA
FINAL_STATES = frozenset({Status.DISETUJUI, Status.DITOLAK, Status.DIBATALKAN})

#: When each letter may be drafted (by a drafter): the undangan while the meeting is ahead, the berita
#: acara once it is held, the answers once the Kepala Daerah has decided.
LETTER_STATES: Mapping[Letter, frozenset[Status]] = {
    Letter.UNDANGAN: frozenset({Status.RAPAT}),
    Letter.BERITA_ACARA: frozenset({Status.RAPAT, Status.KEPUTUSAN}),
    Letter.JAWABAN: frozenset({Status.DITOLAK}),
    Letter.BALASAN: frozenset({Status.DISETUJUI}),
    Letter.PENAWARAN: frozenset({Status.DISETUJUI}),
    Letter.PERMOHONAN: frozenset({Status.DISETUJUI}),
}

STATUS_LABELS: Mapping[Status, str] = {
    Status.DITERIMA: "Surat diterima",
    Status.DISPOSISI: "Dalam disposisi",
    Status.TELAAH: "Ditelaah analis",
    Status.RAPAT: "Rapat TKKSD",
    Status.KEPUTUSAN: "Menunggu keputusan Kepala Daerah",
    Status.DISETUJUI: "Disetujui",
    Status.DITOLAK: "Ditolak",
    Status.DIBATALKAN: "Dibatalkan",
}

ACTION_LABELS: Mapping[Action, str] = {
    Action.LENGKAPI: "melengkapi data atau lampiran",
    Action.DISPOSISI: "mendisposisikan",
    Action.TELAAH: "menyusun telaah",
    Action.JADWALKAN_RAPAT: "menjadwalkan rapat TKKSD",
    Action.CATAT_RAPAT: "mencatat hasil rapat (notulen/berita acara)",
    Action.REKOMENDASI: "menyampaikan rekomendasi kepada Kepala Daerah",
    Action.SETUJUI: "menyetujui usulan",
    Action.TOLAK: "menolak usulan",
    Action.BATALKAN: "membatalkan usulan",
}


def available(status: Status, roles: Iterable[Role]) -> list[Action]:
    """Actions a user holding ``roles`` may attempt on an usulan in ``status`` (table order)."""
    return statetable.available(TRANSITIONS, status, roles)


def resolve(status: Status, action: Action, guards: Mapping[str, bool] | None = None) -> Transition:
    """The row that applies: the first whose source and action match and whose guard holds (LookupError
    when none does; callers name the state in an ActionNotAvailable)."""
    return statetable.resolve(TRANSITIONS, status, action, guards)


def markdown_table() -> str:
    """The table as Markdown, for README.md (kept in step by a test)."""
    return "\n".join([*statetable.HEADER, *statetable.markdown_rows(TRANSITIONS)])
