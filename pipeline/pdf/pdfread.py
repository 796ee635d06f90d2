"""Reading PDFs that other software wrote: leniently, without letting a change hide in the leniency.

Why: a counterparty's signer writes its incremental update its own way.  poppler's ``pdfsig``
writes a generation-1 object with no free entry before it (pyHanko's strict reader refuses
the whole file as "orphaned generation"); endesive rewrites pages it did not change and
rounds their numbers to five decimals.  Refusing such a file as "not a readable PDF" stops
a real signing, so files are read *leniently* here, and the strictness moves to the judging
(``pipeline.sign.desk``, ``pipeline.sign.verify``).

Leniency has one trap, which this module closes: an object number re-used under another
generation, or freed, while the document still refers to the old one.  pyHanko's lenient
reader keeps resolving ``12 0 R`` to the old object and treats ``12 1`` as a new, unused
one, while a viewer that ignores generations (many do) shows the new content: a change
nobody's analysis sees.  :func:`hidden_replacements` finds, per revision, the objects
*retired* that way (re-generated or freed) that the revision's document still reaches;
a retired object nothing reaches any more (poppler's old empty appearance of the field it
signed) is harmless.

:func:`same_value` is the tolerant comparison for objects another writer wrote again:
numbers equal to within 1e-5 (a real written back with five decimals, or ``0.0`` as ``0``),
strings by their bytes, references by number and generation, streams by their decoded data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError, PdfStrictReadError
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

from pipeline.errors import InvalidInput

__all__ = [
    "hidden_replacements",
    "open_reader",
    "reachable_refs",
    "refuse_unreadable",
    "retired_refs",
    "same_value",
]

log = logging.getLogger(__name__)

#: Numbers that differ by at most this much are the same number written by another writer.
NUMBER_TOLERANCE = 1e-5
#: What reading a damaged or hostile file may raise besides pyHanko's own errors.
READ_ERRORS = (
    PdfError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,
    NotImplementedError,
)


def refuse_unreadable(exc: BaseException | None, *, encrypted: bool = False) -> InvalidInput:
    """The error for bytes that are not a PDF we can check (or sign); the English stays in the detail."""
    if encrypted:
        return InvalidInput(
            "Berkas PDF terenkripsi (berkata sandi); kirim PDF tanpa enkripsi agar tanda tangannya dapat diperiksa.",
            reason="pdf_encrypted",
        )
    diagnostic = f"{type(exc).__name__}: {exc}" if exc is not None else None
    return InvalidInput(
        "Berkas bukan PDF yang dapat dibaca (rusak, terpotong, atau bukan PDF). Minta pengirim mengirim ulang "
        "berkas PDF aslinya.",
        reason="pdf_unreadable",
        diagnostic=diagnostic,
    )


def open_reader(data: bytes) -> PdfFileReader:
    """A pyHanko reader for ``data``: strict when the file allows it, else lenient.

    Raises :class:`InvalidInput` for bytes that are not a PDF even leniently (no header,
    truncated, broken cross-reference) and for an encrypted PDF.
    """
    if b"%PDF-" not in data[:1024]:
        raise refuse_unreadable(ValueError("no %PDF- header"))
    try:
        reader = _read(data, strict=True)
    except PdfStrictReadError as strict_exc:
        log.info("PDF not readable strictly (%s); reading it leniently", strict_exc)
        try:
            reader = _read(data, strict=False)
        except READ_ERRORS as exc:
            raise refuse_unreadable(exc) from exc
    except READ_ERRORS as exc:
        raise refuse_unreadable(exc) from exc
    if reader.encrypted:
        raise refuse_unreadable(None, encrypted=True)
    return reader


def _read(data: bytes, *, strict: bool) -> PdfFileReader:
    reader = PdfFileReader(BytesIO(data), strict=strict)
    if not reader.encrypted:
        reader.root  # noqa: B018 - forces the catalog (and the whole xref chain) to be read
        _ = reader.xrefs.total_revisions
    return reader


# -- tolerant comparison ---------------------------------------------------------------------


def same_value(old: generic.PdfObject, new: generic.PdfObject, *, ignore: frozenset[str] = frozenset()) -> bool:
    """Do ``old`` and ``new`` say the same thing (see the module docstring)?  References are not
    followed; ``ignore`` names top-level dictionary keys left out of the comparison."""
    numbers = (generic.NumberObject, generic.FloatObject)
    if isinstance(old, numbers) or isinstance(new, numbers):
        return (
            isinstance(old, numbers) and isinstance(new, numbers) and abs(float(old) - float(new)) <= NUMBER_TOLERANCE
        )
    if isinstance(old, generic.IndirectObject) or isinstance(new, generic.IndirectObject):
        return (
            isinstance(old, generic.IndirectObject)
            and isinstance(new, generic.IndirectObject)
            and (old.idnum, old.generation) == (new.idnum, new.generation)
        )
    strings = (generic.TextStringObject, generic.ByteStringObject)
    if isinstance(old, strings) or isinstance(new, strings):
        return isinstance(old, strings) and isinstance(new, strings) and old.original_bytes == new.original_bytes
    if isinstance(old, generic.ArrayObject) or isinstance(new, generic.ArrayObject):
        return (
            isinstance(old, generic.ArrayObject)
            and isinstance(new, generic.ArrayObject)
            and len(old) == len(new)
            and all(same_value(a, b) for a, b in zip(old, new, strict=True))
        )
    if isinstance(old, generic.StreamObject) or isinstance(new, generic.StreamObject):
        if not (isinstance(old, generic.StreamObject) and isinstance(new, generic.StreamObject)):
            return False
        try:
            if old.data != new.data:
                return False
        except READ_ERRORS:
            return False
        ignore = ignore | {"/Length", "/Filter", "/DecodeParms"}  # the same data may be encoded anew
    if isinstance(old, generic.DictionaryObject) or isinstance(new, generic.DictionaryObject):
        if not (isinstance(old, generic.DictionaryObject) and isinstance(new, generic.DictionaryObject)):
            return False
        keys = set(old.keys()) - ignore
        if keys != set(new.keys()) - ignore:
            return False
        return all(same_value(old.raw_get(k), new.raw_get(k)) for k in keys)
    if isinstance(old, generic.NullObject) or isinstance(new, generic.NullObject):
        return isinstance(old, generic.NullObject) and isinstance(new, generic.NullObject)
    return type(old) is type(new) and old == new


# -- objects retired by a revision -------------------------------------------------------------


def _in_use(reader: PdfFileReader, upto: int) -> dict[int, int]:
    """Object number -> generation in use once revisions ``0..upto`` are applied."""
    state: dict[int, int] = {}
    for revision in range(upto + 1):
        data = reader.xrefs.get_xref_data(revision)
        sections = [data.hybrid.xref_data, data] if data.hybrid is not None else [data]
        for section in sections:  # the hybrid section first: the main one takes precedence
            for number in section.freed:
                state.pop(number, None)
            for number, (generation, _offset) in section.standard_xrefs.items():
                state[number] = generation
            for number in section.xrefs_in_objstm:
                state[number] = 0
    return state


def retired_refs(reader: PdfFileReader, revision: int) -> set[generic.Reference]:
    """Objects in use before ``revision`` that it re-uses under another generation or frees."""
    if revision < 1:
        return set()
    before = _in_use(reader, revision - 1)
    data = reader.xrefs.get_xref_data(revision)
    sections = [data, data.hybrid.xref_data] if data.hybrid is not None else [data]
    retired: set[generic.Reference] = set()
    for section in sections:
        written = {n: g for n, (g, _offset) in section.standard_xrefs.items()}
        written.update({n: 0 for n in section.xrefs_in_objstm})
        for number, generation in written.items():
            if number in before and before[number] != generation:
                retired.add(generic.Reference(number, before[number], pdf=reader))
        for number in section.freed:
            if number in before:
                retired.add(generic.Reference(number, before[number], pdf=reader))
    return retired


def _references(value: generic.PdfObject) -> Iterator[generic.IndirectObject]:
    """Every indirect reference directly inside ``value`` (not following them)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, generic.IndirectObject):
            yield item
        elif isinstance(item, generic.DictionaryObject):  # streams too: their dictionary
            stack.extend(item.raw_get(k) for k in item)
        elif isinstance(item, generic.ArrayObject):
            stack.extend(item)


def reachable_refs(
    reader: PdfFileReader, revision: int, stop: set[tuple[int, int]] = frozenset()
) -> set[tuple[int, int]]:
    """(number, generation) of every reference the document of ``revision`` reaches from its trailer.

    References in ``stop`` are recorded but not followed.  Walks the whole object graph: costly
    on a large file, so callers ask only for revisions they read leniently or must judge.
    """
    resolver: HistoricalResolver = reader.get_historical_resolver(revision)
    trailer = resolver.trailer_view
    seen: set[tuple[int, int]] = set()
    stack = [trailer.raw_get(k) for k in trailer if k not in ("/Prev", "/XRefStm")]
    while stack:
        for ref in _references(stack.pop()):
            key = (ref.idnum, ref.generation)
            if key in seen:
                continue
            seen.add(key)
            if key in stop:
                continue
            try:
                stack.append(resolver(ref.reference))
            except READ_ERRORS:
                continue
    return seen


def hidden_replacements(reader: PdfFileReader, revision: int) -> set[generic.Reference]:
    """Retired objects (:func:`retired_refs`) that the document of ``revision`` still refers to."""
    retired = retired_refs(reader, revision)
    if not retired:
        return set()
    wanted = {(r.idnum, r.generation) for r in retired}
    reached = reachable_refs(reader, revision, stop=wanted)
    return {r for r in retired if (r.idnum, r.generation) in reached}
