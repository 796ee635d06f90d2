"""Paragraph-level comparison of two DOCX revisions, for drafters checking what changed.

Text is taken paragraph by paragraph in reading order, table cells included (the
Rencana Kerja, the signature block), then compared with ``difflib``; a changed paragraph
also carries a word-level view so a one-word correction in a long pasal is easy to see.
"""

from __future__ import annotations

import difflib
import io
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.table import Table
from docx.text.paragraph import Paragraph

__all__ = ["diff_paragraphs", "docx_paragraphs"]


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
