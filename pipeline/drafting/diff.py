"""Paragraph-level comparison of two DOCX revisions, for drafters checking what changed.

Text is taken paragraph by paragraph in reading order, table cells included (the
Rencana Kerja, the signature block), then compared with ``difflib``; a changed paragraph
also carries a word-level view so a one-word correction in a long pasal is easy to see.

Two shapes of the result: :func:`diff_paragraphs` (hunks, counts and a unified diff: what the
API has always answered) and :func:`side_by_side` (aligned rows for a two-column view: every
paragraph of both revisions once, in order, a changed paragraph beside the one it replaced, its
words split into spans a page wraps in ``<del>``/``<ins>``).
"""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass, field
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.table import Table
from docx.text.paragraph import Paragraph

__all__ = ["Row", "SideBySide", "Span", "diff_paragraphs", "docx_paragraphs", "side_by_side"]

#: How alike two paragraphs must be (``difflib`` ratio over their words) to be shown as one changed
#: paragraph rather than one removed and one added: a pasal with a word or a phrase changed is well
#: above it, two different pasal (which share "PIHAK KESATU" and "dan") are below.
SIMILAR = 0.5
#: Above this many paragraph pairs in one changed block the block is paired in order, not aligned
#: by the best total likeness (which costs pairs x pairs).
ALIGN_LIMIT = 2500


def docx_paragraphs(data: bytes) -> list[str]:
    """Non-empty paragraphs of the body (and of table cells), in reading order."""
    doc: DocumentObject = Document(io.BytesIO(data))
    out: list[str] = []

    def walk(container: Any) -> None:
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                text = " ".join(block.text.split())
                if text:
                    out.append(text)
            elif isinstance(block, Table):
                for row in block.rows:
                    seen: set[int] = set()
                    for cell in row.cells:
                        if id(cell._tc) in seen:  # merged cells repeat
                            continue
                        seen.add(id(cell._tc))
                        walk(cell)

    walk(doc)
    return out


def _words(old: str, new: str) -> list[dict[str, Any]]:
    a, b = old.split(), new.split()
    ops = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        ops.append({"op": tag, "old": " ".join(a[i1:i2]), "new": " ".join(b[j1:j2])})
    return ops


def diff_paragraphs(old: list[str], new: list[str]) -> dict[str, Any]:
    """Changes as a list of hunks plus a unified-diff text and counts."""
    changes: list[dict[str, Any]] = []
    counts = {"equal": 0, "insert": 0, "delete": 0, "replace": 0}
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        counts[tag] += max(i2 - i1, j2 - j1)
        if tag == "equal":
            continue
        hunk: dict[str, Any] = {
            "op": tag,
            "old_start": i1 + 1,
            "new_start": j1 + 1,
            "old": old[i1:i2],
            "new": new[j1:j2],
        }
        if tag == "replace" and i2 - i1 == j2 - j1:
            hunk["words"] = [_words(o, n) for o, n in zip(old[i1:i2], new[j1:j2], strict=True)]
        changes.append(hunk)
    unified = "\n".join(difflib.unified_diff(old, new, "a", "b", lineterm="", n=1))
    return {"identical": not changes, "counts": counts, "changes": changes, "unified": unified}


# -- side by side ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A run of a paragraph's text: ``op`` ``same`` (in both), ``removed`` (left only) or ``added``
    (right only).  A paragraph's spans joined give its text exactly; spaces between words are in
    ``same`` spans, so a page wraps only the changed words themselves."""

    op: str
    text: str


@dataclass(frozen=True)
class Row:
    """One line of the two-column view.

    ``kind``: ``same`` (the paragraph in both), ``changed`` (left replaced by right; spans say which
    words), ``removed`` (left only; ``right`` is None), ``added`` (right only; ``left`` is None).
    ``left_number``/``right_number`` are the paragraph's 1-based place in its revision."""

    kind: str
    left: str | None
    right: str | None
    left_number: int | None
    right_number: int | None
    left_spans: list[Span] = field(default_factory=list)
    right_spans: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class SideBySide:
    rows: list[Row]
    counts: dict[str, int]
    """Rows of each kind: ``same``, ``changed``, ``added``, ``removed``."""

    @property
    def identical(self) -> bool:
        return self.counts["same"] == len(self.rows)


def _spans(old: str, new: str) -> tuple[list[Span], list[Span]]:
    """Word-level spans of a changed paragraph, left and right."""
    a, b = old.split(), new.split()
    left: list[Span] = []
    right: list[Span] = []

    def emit(side: list[Span], op: str, words: list[str]) -> None:
        if not words:
            return
        if side:  # the space before these words belongs to neither change
            if side[-1].op == "same":
                side[-1] = Span("same", side[-1].text + " ")
            else:
                side.append(Span("same", " "))
        text = " ".join(words)
        if op == "same" and side and side[-1].op == "same":
            side[-1] = Span("same", side[-1].text + text)
        else:
            side.append(Span(op, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            emit(left, "same", a[i1:i2])
            emit(right, "same", b[j1:j2])
        else:
            emit(left, "removed", a[i1:i2])
            emit(right, "added", b[j1:j2])
    return left, right


def _likeness(old: str, new: str) -> float:
    return difflib.SequenceMatcher(a=old.split(), b=new.split(), autojunk=False).ratio()


def _align(old: list[str], new: list[str]) -> list[tuple[int | None, int | None]]:
    """Pair the paragraphs of one changed block: in order, each pair alike enough (``SIMILAR``), the
    pairs chosen for the greatest total likeness; the unpaired are removed (left) or added (right)."""
    n, m = len(old), len(new)
    if n * m > ALIGN_LIMIT:
        pairs = [(i, i) if _likeness(old[i], new[i]) >= SIMILAR else None for i in range(min(n, m))]
        out: list[tuple[int | None, int | None]] = []
        for i in range(max(n, m)):
            pair = pairs[i] if i < len(pairs) else None
            if pair is not None:
                out.append(pair)
            else:
                if i < n:
                    out.append((i, None))
                if i < m:
                    out.append((None, i))
        return out
    like = [[_likeness(old[i], new[j]) for j in range(m)] for i in range(n)]
    # best[i][j]: the greatest total likeness pairing old[i:] with new[j:]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            paired = like[i][j] + best[i + 1][j + 1] if like[i][j] >= SIMILAR else -1.0
            best[i][j] = max(paired, best[i + 1][j], best[i][j + 1])
    out = []
    i = j = 0
    while i < n and j < m:
        if like[i][j] >= SIMILAR and best[i][j] == like[i][j] + best[i + 1][j + 1]:
            out.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            out.append((i, None))
            i += 1
        else:
            out.append((None, j))
            j += 1
    out.extend((k, None) for k in range(i, n))
    out.extend((None, k) for k in range(j, m))
    return out


def side_by_side(old: list[str], new: list[str]) -> SideBySide:
    """Aligned rows of two revisions' paragraphs for a two-column view (see :class:`Row`)."""
    rows: list[Row] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                text = old[i1 + k]
                rows.append(Row("same", text, text, i1 + k + 1, j1 + k + 1, [Span("same", text)], [Span("same", text)]))
            continue
        for a, b in _align(old[i1:i2], new[j1:j2]):
            if a is not None and b is not None:
                left, right = _spans(old[i1 + a], new[j1 + b])
                rows.append(Row("changed", old[i1 + a], new[j1 + b], i1 + a + 1, j1 + b + 1, left, right))
            elif a is not None:
                text = old[i1 + a]
                rows.append(Row("removed", text, None, i1 + a + 1, None, [Span("removed", text)], []))
            elif b is not None:
                text = new[j1 + b]
                rows.append(Row("added", None, text, None, j1 + b + 1, [], [Span("added", text)]))
    counts = {kind: sum(1 for r in rows if r.kind == kind) for kind in ("same", "changed", "added", "removed")}
    return SideBySide(rows=rows, counts=counts)
