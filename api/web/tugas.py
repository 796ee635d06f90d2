"""Tugas saya on Beranda: the pipeline's task list (``pipeline.inbox.tasks``) in the words and links of the page.

Nothing here decides who has what to do: :func:`pipeline.inbox.tasks.tasks_for` does, for the page and for
``GET /api/v1/me/tasks`` alike, and the page reads the very dicts the API serves (``Task.to_dict``).
This module only says where each task is done (one link per task, by its ``tindakan``), writes the
times as Indonesians read them (in the region's zone: "7 Desember 2026 pukul 09.15 WITA") and cuts
the list into pages.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from pipeline.errors import InvalidInput
from pipeline.inbox.tasks import KIND_LABELS, Kind, TaskList

__all__ = ["PER_PAGE", "Inbox", "action_of", "inbox", "parse_kind", "waktu"]

PER_PAGE = 25
"""Tasks on one page of the list (late and oldest first, so the first page is what matters most)."""

_BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

#: Where each ``tindakan`` is done, and the words of its link.  The naskah's page holds review,
#: revisions and the signature plan; paraf has its own page; signing (desk to desk too) and archiving
#: the signed naskah are on the signing page, where its verification is shown.
_ACTIONS: dict[str, tuple[str, str]] = {
    "approve": ("", "Telaah naskah"),
    "revise": ("", "Perbaiki rancangan"),
    "signature_plan": ("", "Susun rencana tanda tangan"),
    "archive": ("/tanda-tangan", "Arsipkan naskah"),
    "paraf": ("/paraf", "Beri paraf"),
    "sign": ("/tanda-tangan", "Tanda tangani"),
    "export": ("/tanda-tangan", "Unduh PDF untuk mitra"),
    "import_signed": ("/tanda-tangan", "Impor berkas dari mitra"),
}


def action_of(task: dict[str, Any]) -> tuple[str, str]:
    """The one link of a task: (path, words).  A counterparty's official signing in their own system
    downloads the PDF first: the same page, said as what they will do there."""
    suffix, label = _ACTIONS[task["tindakan"]]
    if task["tindakan"] == "sign" and task["detail"].get("desk"):
        label = "Unduh dan tanda tangani"
    return f"/naskah/{task['naskah_id']}{suffix}", label


def waktu(value: dt.datetime | None, tz: dt.tzinfo) -> str:
    """An instant in the region's zone as people write it: ``7 Desember 2026 pukul 09.15 WITA``."""
    if value is None:
        return "-"
    local = value.astimezone(tz)
    zone = local.tzname() or ""
    return f"{local.day} {_BULAN[local.month - 1]} {local.year} pukul {local:%H.%M} {zone}".rstrip()


@dataclass(frozen=True)
class Inbox:
    """What the Tugas saya block shows: the counters, the (filtered) list page, and how to move on."""

    tiles: list[dict[str, Any]]
    """One per kind this user can hold, in the pipeline's order: tugas, label, jumlah, terlambat, href, aktif."""
    tasks: list[dict[str, Any]]
    """The tasks on this page, as the API serves them, plus ``aksi_url``, ``aksi_label`` and the times in words."""
    total: int
    """All tasks of the user (every kind)."""
    late: int
    """How many of them are late."""
    shown: int
    """Tasks of the kind asked for (all, without a filter)."""
    kind: Kind | None
    kind_label: str | None
    page: int
    pages: int

    def href(self, page: int) -> str:
        """The list's address at ``page`` (the filter kept): GET, bookmarkable."""
        params = [f"tugas={self.kind.value}"] if self.kind else []
        if page > 1:
            params.append(f"halaman={page}")
        return "/?" + "&".join(params) + "#tugas-saya" if params else "/#tugas-saya"


def parse_kind(value: str | None) -> Kind | None:
    """``?tugas=`` as a kind; empty is every kind; anything else is refused in words (a 422 page)."""
    if not value:
        return None
    try:
        return Kind(value)
    except ValueError:
        choices = ", ".join(k.value for k in Kind)
        raise InvalidInput(
            f"Jenis tugas '{value[:40]}' tidak dikenal. Pilih salah satu: {choices}.",
            field="tugas",
            reason="unknown_task_kind",
        ) from None


def inbox(found: TaskList, kinds: list[Kind], *, kind: Kind | None, page: int, tz: dt.tzinfo) -> Inbox:
    """The block's data from the pipeline's answer.  ``kinds``: the counters to show (``tasks.kinds_of``);
    a kind with tasks is always shown, whatever the list says.  ``page`` past the end shows the last."""
    counters = found.ringkasan()
    tiles = [
        {
            **c,
            "href": f"/?tugas={c['tugas']}#tugas-saya",
            "aktif": kind is not None and c["tugas"] == kind.value,
        }
        for c in counters
        if Kind(c["tugas"]) in kinds or c["jumlah"] or (kind is not None and c["tugas"] == kind.value)
    ]
    chosen = [t for t in found.data if kind is None or t.tugas == kind]
    pages = max(1, math.ceil(len(chosen) / PER_PAGE))
    page = min(max(1, page), pages)
    rows = []
    for task in chosen[(page - 1) * PER_PAGE : page * PER_PAGE]:
        row = task.to_dict()
        row["aksi_url"], row["aksi_label"] = action_of(row)
        row["sejak_teks"] = waktu(row["sejak"], tz)
        row["tenggat_teks"] = waktu(row["tenggat"], tz) if row["tenggat"] else None
        row["catatan_pada_teks"] = waktu(row["catatan_pada"], tz) if row["catatan_pada"] else None
        rows.append(row)
    return Inbox(
        tiles=tiles,
        tasks=rows,
        total=found.count,
        late=sum(found.terlambat.values()),
        shown=len(chosen),
        kind=kind,
        kind_label=KIND_LABELS[kind] if kind else None,
        page=page,
        pages=pages,
    )
