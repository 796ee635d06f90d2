"""What every lifecycle table of the system does with its rows: the naskah's (``pipeline.lifecycle``),
the usulan's (``pipeline.usulan_lifecycle``) and the monev round's (``pipeline.monev_lifecycle``).

Each table is a tuple of rows (source state, action, target state, the roles that may act, a guard
the caller evaluates, whether a note is required); this module finds the actions open to some roles,
resolves the row that applies, and writes the table as Markdown for README.md.  The tables, their
labels and their rules stay in their own modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Protocol, TypeVar

__all__ = ["Row", "available", "markdown_rows", "resolve"]


class Row(Protocol):
    """One row of a lifecycle table (each module's frozen ``Transition`` dataclass)."""

    @property
    def source(self) -> StrEnum: ...
    @property
    def action(self) -> StrEnum: ...
    @property
    def target(self) -> StrEnum: ...
    @property
    def roles(self) -> frozenset[Any]: ...
    @property
    def guard(self) -> str | None: ...
    @property
    def note_required(self) -> bool: ...


R = TypeVar("R", bound=Row)


def available(table: Sequence[Row], status: StrEnum, roles: Iterable[Any]) -> list[Any]:
    """The actions someone holding ``roles`` may attempt in ``status``, in table order, each once."""
    held = set(roles)
    seen: list[Any] = []
    for t in table:
        if t.source == status and t.roles & held and t.action not in seen:
            seen.append(t.action)
    return seen


def resolve(table: Sequence[R], status: StrEnum, action: StrEnum, guards: Mapping[str, bool] | None = None) -> R:
    """The row that applies: the first whose source and action match and whose guard holds.

    Raises LookupError when no row matches; callers turn that into ActionNotAvailable with a message
    naming the state."""
    guards = guards or {}
    candidates = [t for t in table if t.source == status and t.action == action]
    if not candidates:
        raise LookupError(f"no transition for {action} from {status}")
    for t in candidates:
        if t.guard is None or guards.get(t.guard, False):
            return t
    raise LookupError(f"no guard holds for {action} from {status}: {[t.guard for t in candidates]}")


HEADER = ["| dari | tindakan | ke | peran | syarat |", "| --- | --- | --- | --- | --- |"]


def markdown_rows(table: Sequence[Row]) -> list[str]:
    """The rows as Markdown table lines (under :data:`HEADER`), for README.md."""
    lines = []
    for t in table:
        roles = ", ".join(sorted(str(r.value if isinstance(r, StrEnum) else r) for r in t.roles))
        cond = t.guard or ""
        if t.note_required:
            cond = (cond + " " if cond else "") + "wajib catatan"
        lines.append(f"| {t.source} | {t.action} | {t.target} | {roles} | {cond} |")
    return lines
