"""Limits on a PDF someone else wrote, checked cheaply before any pyHanko/pypdf analysis.

Filled in below.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PdfLimits"]

MB = 1024 * 1024


@dataclass(frozen=True)
class PdfLimits:
    """What a PDF sent to us (a counterparty's signed return, a file to verify) may hold."""

    max_bytes: int = 50 * MB
    """Size of the file: a signed naskah of a few dozen pages with its validation data is 1-5 MB."""
    max_pages: int = 500
    max_objects: int = 200_000
    max_fields: int = 500
