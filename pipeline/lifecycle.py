"""The lifecycle of one naskah, as ONE table: states, transitions, and who may make each.

Read the table top to bottom and you know the whole process (seed SOPs 002 Magetan and
004 Paser): a naskah is drafted and revised, goes to Bagian Hukum for legal review
(approved, or returned with a note), is initialled (paraf) up the hierarchy, signed by
both parties, and archived.  Any state before archive can be cancelled.

The table says which ROLE may act; the SOP profile (later) says which PERSON and in
what order.  A guard is the name of a condition that the caller evaluates (e.g. "is
this the last paraf of the chain?"); this module stays pure data plus two look-ups, so
it is trivially testable and the README's table is generated from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from pipeline import statetable

__all__ = [
    "FINAL_STATES",
    "INITIAL_STATE",
    "TRANSITIONS",
    "Action",
    "Role",
    "Status",
    "Transition",
    "available",
    "markdown_table",
    "resolve",
]


class Status(StrEnum):
    DRAFT = "draft"  # being drafted and revised
    LEGAL_REVIEW = "legal_review"  # with Bagian Hukum
    RETURNED = "returned"  # sent back by Bagian Hukum; needs a new revision
    PARAF = "paraf"  # approved; collecting paraf in the profile's order
    SIGNING = "signing"  # fully initialled; collecting signatures per the plan
    SIGNED = "signed"  # every signature of the plan is on it
    ARCHIVED = "archived"  # immutable original in the archive
    CANCELLED = "cancelled"  # abandoned; kept for the record


class Action(StrEnum):
    REVISE = "revise"  # a new revision (rendered or uploaded)
    SUBMIT = "submit"  # send the draft to legal review
    APPROVE = "approve"  # Bagian Hukum approves the final draft
    RETURN = "return"  # Bagian Hukum returns it with a note
    PARAF = "paraf"  # the official whose turn it is initials every page
    REFUSE_PARAF = "refuse_paraf"  # an official refuses, with a note
    SIGN = "sign"  # a signer of the plan signs (on the server)
    IMPORT_SIGNED = "import_signed"  # desk to desk: the counterparty's signed file comes back
    ARCHIVE = "archive"  # the secretariat archives the signed original
    CANCEL = "cancel"  # abandon the naskah


class Role(StrEnum):
    DRAFTER = "drafter"  # Bagian Pemerintahan / Analis Kerja Sama
    LEGAL = "legal"  # Bagian Hukum
    PARAF = "paraf"  # officials who give paraf (Kabag, Asisten, Sekda)
    SIGNER = "signer"  # Kepala Daerah, Kepala OPD under a surat kuasa
    SECRETARIAT = "secretariat"  # Sekretariat TKKSD, keeps the archive
    ADMIN = "admin"  # manages users; may not act on naskah


@dataclass(frozen=True)
class Transition:
    source: Status
    action: Action
    target: Status
    roles: frozenset[Role]
    guard: str | None = None  # name of a condition; None means always
    note_required: bool = False  # the action must carry a note (returns, refusals)


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


D, L, P, S, SEC = Role.DRAFTER, Role.LEGAL, Role.PARAF, Role.SIGNER, Role.SECRETARIAT

# Guards (evaluated by the caller, see pipeline.actions):
#   "paraf_remaining"    the chain still has officials after this paraf
#   "paraf_complete"     this paraf is the last of the chain
#   "signatures_remain"  the signature plan still has signers after this one
#   "plan_complete"      this signature completes the plan
TRANSITIONS: tuple[Transition, ...] = (
    # from                 action                 to                    who          guard
    T(Status.DRAFT,        Action.REVISE,         Status.DRAFT,         {D}),
    T(Status.DRAFT,        Action.SUBMIT,         Status.LEGAL_REVIEW,  {D}),
    T(Status.LEGAL_REVIEW, Action.APPROVE,        Status.PARAF,         {L}),
    T(Status.LEGAL_REVIEW, Action.RETURN,         Status.RETURNED,      {L}, note=True),
    T(Status.RETURNED,     Action.REVISE,         Status.DRAFT,         {D}),
    T(Status.PARAF,        Action.PARAF,          Status.PARAF,         {P},         "paraf_remaining"),
    T(Status.PARAF,        Action.PARAF,          Status.SIGNING,       {P},         "paraf_complete"),
    T(Status.PARAF,        Action.REFUSE_PARAF,   Status.DRAFT,         {P}, note=True),
    T(Status.PARAF,        Action.REVISE,         Status.DRAFT,         {D}),  # voids every paraf
    T(Status.SIGNING,      Action.SIGN,           Status.SIGNING,       {S},         "signatures_remain"),
    T(Status.SIGNING,      Action.SIGN,           Status.SIGNED,        {S},         "plan_complete"),
    T(Status.SIGNING,      Action.IMPORT_SIGNED,  Status.SIGNING,       {D, SEC},    "signatures_remain"),
    T(Status.SIGNING,      Action.IMPORT_SIGNED,  Status.SIGNED,        {D, SEC},    "plan_complete"),
    T(Status.SIGNED,       Action.ARCHIVE,        Status.ARCHIVED,      {SEC}),
    T(Status.DRAFT,        Action.CANCEL,         Status.CANCELLED,     {D}, note=True),
    T(Status.LEGAL_REVIEW, Action.CANCEL,         Status.CANCELLED,     {D}, note=True),
    T(Status.RETURNED,     Action.CANCEL,         Status.CANCELLED,     {D}, note=True),
    T(Status.PARAF,        Action.CANCEL,         Status.CANCELLED,     {D}, note=True),
    T(Status.SIGNING,      Action.CANCEL,         Status.CANCELLED,     {D}, note=True),
)  # fmt: skip

INITIAL_STATE = Status.DRAFT
FINAL_STATES = frozenset({Status.ARCHIVED, Status.CANCELLED})

STATUS_LABELS: Mapping[Status, str] = {
    Status.DRAFT: "Penyusunan",
    Status.LEGAL_REVIEW: "Telaah Bagian Hukum",
    Status.RETURNED: "Dikembalikan untuk perbaikan",
    Status.PARAF: "Pengumpulan paraf",
    Status.SIGNING: "Penandatanganan",
    Status.SIGNED: "Sudah ditandatangani",
    Status.ARCHIVED: "Diarsipkan",
    Status.CANCELLED: "Dibatalkan",
}

ACTION_LABELS: Mapping[Action, str] = {
    Action.REVISE: "membuat revisi",
    Action.SUBMIT: "mengajukan ke Bagian Hukum",
    Action.APPROVE: "menyetujui rancangan",
    Action.RETURN: "mengembalikan rancangan",
    Action.PARAF: "memberi paraf",
    Action.REFUSE_PARAF: "menolak memberi paraf",
    Action.SIGN: "menandatangani",
    Action.IMPORT_SIGNED: "mengimpor naskah yang ditandatangani mitra",
    Action.ARCHIVE: "mengarsipkan",
    Action.CANCEL: "membatalkan",
}


def available(status: Status, roles: Iterable[Role]) -> list[Action]:
    """Actions a user holding ``roles`` may attempt on a naskah in ``status`` (table order)."""
    return statetable.available(TRANSITIONS, status, roles)


def resolve(status: Status, action: Action, guards: Mapping[str, bool] | None = None) -> Transition:
    """The row that applies: the first whose source and action match and whose guard holds (LookupError
    when none does; callers name the state in an ActionNotAvailable)."""
    return statetable.resolve(TRANSITIONS, status, action, guards)


def markdown_table() -> str:
    """The table as Markdown, for README.md (kept in step by a test)."""
    return "\n".join([*statetable.HEADER, *statetable.markdown_rows(TRANSITIONS)])
