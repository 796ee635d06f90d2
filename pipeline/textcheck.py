"""Text people type into a naskah or a search: no control characters, no bidi controls.

One check for every input that carries user text (case fields, pihak, naskah data, nomor,
notes, ``catatan_tanggal``, search words, usernames), as pydantic types (:data:`Line`,
:data:`MultiLine` and the bounded ``Text``/``LongText`` of ``pipeline.drafting.cases``) and as a function
(:func:`text_problem`) for the template data and the pipeline's own entry points.  Refused, with
the field named by the caller and the character's position (1-based) and code point in the
Indonesian message:

* **NUL and other C0 controls** (U+0000–U+001F, U+007F) and the C1 controls (U+0080–U+009F):
  PostgreSQL refuses NUL in text (the request died as a plain 500), XML 1.0 forbids most C0
  characters in a DOCX, and docxtpl turns ``\\a`` and ``\\f`` into paragraph and page breaks.
  TAB, LF and CR are allowed where text may run over several lines (objek, manfaat, notes).
* **Bidi controls** (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, U+200E/
  U+200F marks, U+061C Arabic letter mark): an override makes "Rahmad" display as "damhaR" or
  reorder a nomor, so a name or an amount would read differently from the characters that are
  signed and searched ("Trojan Source", CVE-2021-42574).  Refused rather than made visible:
  a naskah is a legal text whose characters are what is signed, and a visible marker would be
  printed into it; no Indonesian text needs them (Arabic or Hebrew words lay out correctly by the
  Unicode bidi algorithm without explicit controls), and a refusal tells the drafter what to fix
  instead of changing silently what they typed.
* **Lone surrogates** (U+D800–U+DFFF, from a JSON ``\\ud800`` escape): no character at all, and
  not encodable for the database or the document.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

__all__ = [
    "BIDI_CONTROLS",
    "Line",
    "LineCheck",
    "MultiLine",
    "MultiLineCheck",
    "check_text",
    "text_problem",
]

#: Bidirectional formatting characters (Unicode Bidi_Control, plus the Arabic letter mark).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff]")
_MULTI_LINE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff]"
)
_C0_NAMES = {0: "NUL", 9: "TAB", 10: "LF", 13: "CR", 0x7F: "DEL"}


def _describe(char: str) -> str:
    code = ord(char)
    name = _C0_NAMES.get(code) or unicodedata.name(char, "")
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is refused (an Indonesian phrase to follow the field's name), or None when it is fine.

    ``multiline``: TAB, LF and CR are allowed (paragraphs of objek, manfaat, notes).
    """
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(value)
    if found is None:
        return None
    char, position = found.group(), found.start() + 1
    if char in BIDI_CONTROLS:
        return (
            f"berisi karakter pengatur arah teks {_describe(char)} pada posisi {position}: teks bisa tampil "
            "berbeda dari yang ditandatangani; hapus karakter itu (salin ulang teks tanpa format)"
        )
    if "\ud800" <= char <= "\udfff":
        return f"berisi kode {_describe(char)} pada posisi {position} yang bukan karakter Unicode yang sah"
    kind = "baris baru atau tab" if char in "\t\n\r" else "karakter kendali"
    return f"berisi {kind} {_describe(char)} pada posisi {position} yang tidak boleh ada di isian ini"


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or a ``PydanticCustomError`` (type ``text_character``) saying what is wrong:
    pydantic and the API's envelope name the field (``api.errors.validation_message``)."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise PydanticCustomError("text_character", problem)
    return value


def _line(value: str) -> str:
    return check_text(value)


def _multi_line(value: str) -> str:
    return check_text(value, multiline=True)


#: The check of one line, to put AFTER a ``StringConstraints`` in an ``Annotated`` (constraints wrapped
#: around an annotated type would lose pydantic's own string checks: strip, then lengths).
LineCheck = AfterValidator(_line)
#: The check of text over several lines (TAB, LF, CR allowed), placed as :data:`LineCheck`.
MultiLineCheck = AfterValidator(_multi_line)
#: One line of text (names, judul, nomor, search words): no control or bidi characters at all.
Line = Annotated[str, LineCheck]
#: Text that may run over lines (objek, manfaat, notes): TAB, LF and CR allowed, nothing else of the kind.
MultiLine = Annotated[str, MultiLineCheck]
