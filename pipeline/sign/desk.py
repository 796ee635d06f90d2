"""Desk to desk: send the final naskah to the counterparty and accept it back only if they just signed it.

Why this is more than "verify the returned PDF": a returned file can carry perfectly valid
signatures over something that is not what we agreed — the partner's clerk fixed a typo
before signing, someone added a page, a comment, or signed a different version of the
naskah.  Each of those is a *valid* signature over the *wrong* document.  So the import
check proves, in this order:

1. **Same base.**  The returned bytes begin with the exact bytes we recorded and sent
   (``returned[:len(final_pdf)] == final_pdf``): incremental updates only, nothing rewritten.
2. **Exactly one new signature, signed directly on our base.**  One signature is newer than
   our file, and it signs the revision that immediately follows it, so the bytes it covers
   are our file plus its own signing update and nothing else.
3. **It does not lock us out.**  A certification signature, or a field lock over the fields
   still to be signed, would make our own signature impossible (or break theirs): refused,
   saying so.
4. **Only a signature was added** (read leniently, judge strictly, below).
5. **Every signature is intact and valid**, and nothing changed after it (judged offline).
6. **The partner's chain ends at one of our roots** with the certificates the file carries
   (in the signature, its timestamp token or the DSS): the partner's CA must be among the
   configured roots, and a partner who left out its CA's certificate is asked to include it.
7. **Every signature is trusted** (:func:`pipeline.sign.verify.verify_pdf`): not expired, not
   revoked, with its revocation status from the file or, at import, fetched.  A partner whose
   status cannot be had at all is refused with what to send instead.

**Nothing is fetched before step 7.**  The addresses pyHanko fetches from (OCSP, CRL, AIA
caIssuers) are written in the certificates, and the counterparty chose its certificate: a
file that is not ours, carries a broken signature, or names a CA we do not trust must not make
the server send a single request (a blind SSRF into the intranet otherwise).  Steps 1-6 read
only the file; step 7 fetches, for a chain that ends at a root we chose, and even then only
from public addresses or the allowlist, bounded in time and size (``pipeline.sign.fetch``).

**Read leniently, judge strictly.**  The counterparty signs with whatever its office uses,
and each signer writes its update its own way.  What the ones we test with write:

* poppler's ``pdfsig -sign`` re-uses the number of our empty appearance under generation 1
  with no free entry before it (pyHanko's *strict reader* refuses the whole file: "orphaned
  generation"), points our widget at a new empty appearance and adds ``/M`` and ``/AS`` to
  it; ``pdfsig -add-signature`` makes a field of its own, invisible (``/Rect [0 0 0 0]``), on
  page 1, turns that page's ``/Annots`` into an indirect array and puts a font in the form's
  ``/DR``; both start the xref with ``0 1 / 0000000001 65535 f``.
* endesive writes the catalog and the signed field's page again unchanged except that every
  real number on the page is rounded to five decimals (``/MediaBox`` 595.303937 -> 595.30394);
  pyHanko's *difference analysis* calls that an unexplained change of the page.

So the file is read leniently (``pipeline.pdf.pdfread``) and judged by :data:`DESK_DIFF_POLICY`,
pyHanko's standard policy with these deliberate allowances and nothing else:

* an object written again with the same content (numbers within 1e-5, streams by their
  decoded data) is no change;
* an object re-used under another generation, or freed, is allowed only when the document
  no longer refers to it (poppler's old empty appearance); one still referred to is a hidden
  replacement and refused;
* ``/M`` (the annotation's modification date) may be added to the signature field being filled;
* a page may be rewritten only to add the new signature field's widget to its ``/Annots``
  (numbers compared within 1e-5); ``/SigFlags`` may change.

Content streams, pages, other annotations, other form fields and the catalog beyond the form
and the DSS are judged exactly as pyHanko judges them: any change there is refused.

**A field of their own.**  The partner may sign in the field we prepared or in one it
creates (BSrE's esign-client and ``pdfsig -add-signature`` do), never in another of our
fields.  When it creates one, our prepared field stays empty: nothing can be added to or
removed from the document after their signature without breaking it, so the empty field
remains and pdfsig lists it as "not signed".  That is accepted, because the plan knows who
has signed (by step, not by field) and verification counts the filled signatures; to keep a
printed copy from surprising the Kabag Hukum, the import records which field and page carry
their signature and whether it shows on the page (:class:`SignaturePlacement`), and the step,
its API response and the history say so ("kolom 'ttd_pihak_2' tetap kosong").

Reasons are Indonesian (they are shown to the secretariat); pyHanko's English diagnostics go to
:attr:`ImportCheck.diagnostic` and from there to ``detail.diagnostic``.  The same check applies
to a file returned by a remote signing service (BSrE): it is another returned file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DiffResult,
    DocInfoRule,
    DSSCompareRule,
    FormUpdate,
    FormUpdatingRule,
    GenericFieldModificationRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    ReferenceUpdate,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    SuspiciousModification,
    WhitelistRule,
    XrefStreamRule,
)
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON, VALUE_UPDATE_KEYS
from pyhanko.sign.diff_analysis.form_rules_api import FieldComparisonContext
from pyhanko.sign.diff_analysis.rules_api import RelativeContext
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields
from pyhanko.sign.validation import async_add_validation_info
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError

from pipeline import asyncrun
from pipeline.errors import InvalidInput
from pipeline.pdf.pdfread import READ_ERRORS, open_reader, reachable_refs, refuse_unreadable, retired_refs, same_value
from pipeline.sign.signing import validation_context
from pipeline.sign.verify import (
    NO_REVOCATION,
    SignatureCheck,
    VerificationReport,
    async_verify_pdf,
    unanchored_chain,
    verify_pdf,
)

__all__ = [
    "DESK_DIFF_POLICY",
    "ImportCheck",
    "SignaturePlacement",
    "check_returned",
    "check_returned_offline",
    "confirm_trust",
    "embed_validation_data",
    "export_for_counterparty",
    "refuse_without_revocation",
]

log = logging.getLogger(__name__)

_ALLOWED_AFTER_BASE = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)

#: What a partner whose revocation status cannot be had should send instead.
SEND_INSTEAD = (
    "Minta mitra mengirim ulang berkas yang ditandatangani dengan data validasi tertanam (LTV; di Adobe "
    "Acrobat: 'Enable LTV'/'Aktifkan LTV' pada panel tanda tangan), atau menandatangani dengan sertifikat dari "
    "CA yang layanan OCSP/CRL-nya dapat diakses."
)


# -- the diff policy: lenient about how, strict about what ------------------------------------


class UnchangedRewriteRule(WhitelistRule):
    """An existing object written again with the same content (``pdfread.same_value``) is no change."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterable[ReferenceUpdate]:
        xrefs = old.reader.xrefs
        for ref in new.explicit_refs_in_revision():
            if xrefs.get_historical_ref(ref, old.revision) is None:
                continue  # new, or freed: other rules judge it
            try:
                unchanged = same_value(old(ref), new(ref))
            except READ_ERRORS:
                unchanged = False
            if unchanged:
                yield ReferenceUpdate(ref)


class RetiredObjectRule(WhitelistRule):
    """An object re-used under another generation or freed: allowed only when nothing still uses it."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterable[ReferenceUpdate]:
        retired = retired_refs(new.reader, new.revision)
        if not retired:
            return
        old_keys = {(r.idnum, r.generation) for r in retired}
        reached = reachable_refs(new.reader, new.revision, stop=old_keys)
        hidden = sorted(old_keys & reached)
        if hidden:
            raise SuspiciousModification(
                f"Objects {hidden} were re-generated or freed in revision {new.revision} while the document "
                "still refers to them."
            )
        numbers = {number for number, _generation in old_keys}
        for ref in new.explicit_refs_in_revision():
            # the freed entry itself, or the same number under its new generation that nothing uses
            if ref.idnum in numbers and (ref.idnum, ref.generation) not in reached:
                yield ReferenceUpdate(ref)


class LenientSigFieldCreationRule(SigFieldCreationRule):
    """pyHanko's rule for new signature fields, with the page comparison tolerant of numbers a
    writer rounded (endesive), still refusing any other change to a page."""

    def __init__(self) -> None:
        super().__init__(approve_widget_bindings=False)

    def apply(self, context: FieldComparisonContext) -> Iterable[tuple[ModificationLevel, FormUpdate]]:
        yield from super().apply(context)
        widgets = dict(_new_sig_widgets(context))
        if widgets:
            old_pages, new_pages = context.old.root["/Pages"], context.new.root["/Pages"]
            for update in _walk_pages(old_pages, new_pages, widgets, context.old, set()):
                yield ModificationLevel.LTA_UPDATES, update


def _new_sig_widgets(context: FieldComparisonContext) -> Iterator[tuple[generic.Reference, str]]:
    """(widget reference, field name) of every signature field new in this revision."""
    for name, spec in context.field_specs.items():
        if spec.field_type != "/Sig" or spec.old_field_ref is not None or spec.new_field_ref is None:
            continue
        sig_field = spec.new_field_ref.get_object()
        kids = sig_field.get("/Kids")
        if kids is None:
            yield spec.new_field_ref, name
            continue
        for kid in kids:
            if isinstance(kid, generic.IndirectObject) and "/T" not in kid.get_object():
                yield kid.reference, name


def _annots(page: generic.PdfObject) -> tuple[set[generic.Reference], generic.Reference | None]:
    if not isinstance(page, generic.DictionaryObject):
        raise SuspiciousModification("Page objects should be dictionaries")
    if "/Annots" not in page:
        return set(), None
    value = page.raw_get("/Annots")
    array_ref = value.reference if isinstance(value, generic.IndirectObject) else None
    array = value.get_object()
    if not isinstance(array, generic.ArrayObject):
        raise SuspiciousModification("/Annots is not an array")
    refs = set()
    for item in array:
        if not isinstance(item, generic.IndirectObject):
            raise SuspiciousModification("/Annots contains a direct object")
        refs.add(item.reference)
    return refs, array_ref


def _kids(node: generic.PdfObject) -> list[generic.Reference]:
    kids = node.get_object().get("/Kids") if isinstance(node.get_object(), generic.DictionaryObject) else None
    if not isinstance(kids, generic.ArrayObject) or not all(isinstance(k, generic.IndirectObject) for k in kids):
        raise SuspiciousModification("Page tree node without an array of references in /Kids")
    return [k.reference for k in kids]


def _walk_pages(
    old_node: generic.PdfObject,
    new_node: generic.PdfObject,
    widgets: dict[generic.Reference, str],
    old: HistoricalResolver,
    seen: set[generic.Reference],
) -> Iterator[FormUpdate]:
    """pyHanko's ``_walk_page_tree_annots`` with a tolerant page comparison: a page may gain the
    new signature widgets in ``/Annots`` and nothing else."""
    old_kids, new_kids = _kids(old_node), _kids(new_node)
    if old_kids != new_kids:
        raise SuspiciousModification("Unexpected change to page tree structure.")
    for ref in new_kids:
        if ref in seen:
            raise misc.PdfReadError("Circular reference in page tree")
        old_kid, new_kid = old(ref), ref.get_object()
        if old_kid.get("/Type") == "/Pages":
            yield from _walk_pages(old_kid, new_kid, widgets, old, seen | {ref})
            continue
        new_annots, new_annots_ref = _annots(new_kid)
        old_annots, old_annots_ref = _annots(old_kid)
        if new_annots == old_annots:
            continue
        if old_annots - new_annots:
            raise SuspiciousModification(f"Annotations {old_annots - new_annots} were deleted.")
        unknown = (new_annots - old_annots) - widgets.keys()
        if unknown:
            raise SuspiciousModification(f"The newly added annotations {unknown} were not recognised.")
        if not same_value(old_kid, new_kid, ignore=frozenset({"/Annots"})):
            raise SuspiciousModification(f"Page {ref} was changed beyond its /Annots.")
        added = new_annots - old_annots
        name = widgets[next(iter(added))] if len(added) == 1 else None
        yield FormUpdate(updated_ref=ref, field_name=name, valid_when_locked=name is not None)
        if new_annots_ref is not None and (new_annots_ref == old_annots_ref or old.is_ref_unassignable(new_annots_ref)):
            yield FormUpdate(
                updated_ref=new_annots_ref,
                field_name=name,
                valid_when_locked=name is not None,
                context_checked=RelativeContext(ref, RawPdfPath("/Annots")),
            )


#: The policy for the counterparty's revisions (module docstring): pyHanko's DEFAULT_DIFF_POLICY
#: plus the allowances for how real signers write, and /SigFlags may change (our base is unsigned:
#: fields only, SigFlags 1; the first signature sets AppendOnly, 3).
DESK_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
        UnchangedRewriteRule().as_qualified(ModificationLevel.LTA_UPDATES),
        RetiredObjectRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(
        field_rules=[
            LenientSigFieldCreationRule(),
            SigFieldModificationRule(value_update_keys=VALUE_UPDATE_KEYS | {"/M"}),
            GenericFieldModificationRule(),
        ],
        ignored_acroform_keys=ACROFORM_EXEMPT_STRICT_COMPARISON | {"/SigFlags"},
    ),
    reject_object_freeing=False,  # judged by RetiredObjectRule instead
)


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignaturePlacement:
    """Where the counterparty's signature sits: what a printed copy shows."""

    field: str
    """The signature field it filled: ours (``ttd_pihak_2``) or one the partner's software created."""

    page: int | None
    """1-based page whose annotations hold its widget (None: on no page)."""

    visible: bool
    """It shows on the page: a non-empty box with a non-empty, printable appearance."""

    def describe(self, prepared: str | None = None) -> str:
        """One Indonesian sentence for the history, e.g. "Tanda tangan mitra pada kolom 'X', halaman 4."."""
        where = f"halaman {self.page}" if self.page is not None else "tanpa halaman"
        shown = "tampak pada halaman" if self.visible else "tidak tampak (tanpa gambar tanda tangan di halaman)"
        text = f"Tanda tangan mitra pada kolom '{self.field}', {where}, {shown}."
        if prepared and prepared != self.field:
            text += f" Mitra membuat kolomnya sendiri; kolom yang kami siapkan '{prepared}' tetap kosong."
        return text


@dataclass(frozen=True)
class ImportCheck:
    """Whether a file returned by the counterparty can be accepted, and why not."""

    ok: bool
    """True only when every check of the module docstring holds."""

    reason: str | None
    """Why it was refused, in Indonesian (None when accepted)."""

    new_signatures: list[SignatureCheck] = field(default_factory=list)
    """The signatures added since our file, in signing order."""

    report: VerificationReport | None = None
    """The full verification report of the returned file."""

    code: str = "accepted"
    """Machine reason: ``accepted``, ``not_our_document``, ``no_new_signature``, ``several_signatures``,
    ``changed_before_signing``, ``locked_by_partner``, ``modified``, ``other_field_changed``,
    ``unexpected_field``, ``untrusted_chain``, ``revocation_unavailable``, ``signature_not_accepted``."""

    diagnostic: str | None = None
    """pyHanko's English words about the refusal, for support staff (never the message)."""

    placement: SignaturePlacement | None = None
    """Where the partner's signature sits (also when refused after it was found)."""

    @property
    def bottom_line(self) -> str:
        """``accepted`` or ``refused``."""
        return "accepted" if self.ok else "refused"

    def problems(self) -> list[str]:
        """Every problem of the verification report, in Indonesian (for ``detail.problems``)."""
        return self.report.all_problems() if self.report is not None else []

    def diagnostics(self) -> str | None:
        """This refusal's diagnostic and the report's, in one string (for ``detail.diagnostic``)."""
        parts = [self.diagnostic] if self.diagnostic else []
        if self.report is not None:
            parts.extend(self.report.diagnostics())
        return "; ".join(parts) or None


def export_for_counterparty(final_pdf: bytes) -> bytes:
    """The bytes to send to the counterparty: today exactly the final PDF.

    Kept as the one place where a cover note or a transmittal could be added later; whatever
    is added must come back as the prefix that :func:`check_returned` compares against, so
    record the *returned value* of this function as the base.
    """
    _revisions(final_pdf)  # refuse to send something we could not check on return
    return final_pdf


def _revisions(pdf: bytes) -> int:
    try:
        return int(open_reader(pdf).xrefs.total_revisions)
    except READ_ERRORS as exc:
        raise refuse_unreadable(exc) from exc


def _placement(reader: PdfFileReader, name: str) -> SignaturePlacement:
    """Field ``name``'s page (the page whose /Annots holds its widget, else its /P) and visibility."""
    found = list(enumerate_sig_fields(reader, with_name=name))
    if not found:
        return SignaturePlacement(field=name, page=None, visible=False)
    _name, _value, field_ref = found[0]
    sig_field = field_ref.get_object()
    kids = sig_field.get("/Kids")
    widget_ref = kids[0].reference if isinstance(kids, generic.ArrayObject) and kids else field_ref
    widget = widget_ref.get_object()
    page = None
    pages = list(_leaf_pages(reader))
    for index, page_ref in enumerate(pages, start=1):
        annots = page_ref.get_object().get("/Annots")
        if isinstance(annots, generic.ArrayObject) and any(
            isinstance(a, generic.IndirectObject) and a.reference == widget_ref for a in annots
        ):
            page = index
            break
    if page is None and isinstance(widget.raw_get("/P") if "/P" in widget else None, generic.IndirectObject):
        owner = widget.raw_get("/P").reference
        page = next((i for i, p in enumerate(pages, start=1) if p == owner), None)
    return SignaturePlacement(field=name, page=page, visible=page is not None and _shows(widget))


def _leaf_pages(reader: PdfFileReader) -> Iterator[generic.Reference]:
    stack = [reader.root.raw_get("/Pages")]
    seen: set[tuple[int, int]] = set()
    while stack:
        node_ref = stack.pop()
        if not isinstance(node_ref, generic.IndirectObject) or (node_ref.idnum, node_ref.generation) in seen:
            continue
        seen.add((node_ref.idnum, node_ref.generation))
        node = node_ref.get_object()
        if node.get("/Type") == "/Pages":
            stack.extend(reversed(list(node.get("/Kids") or [])))
        else:
            yield node_ref.reference


def _shows(widget: generic.DictionaryObject) -> bool:
    """A box with an area, not hidden, with a normal appearance that draws something."""
    try:
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        flags = int(widget.get("/F", 0))
        appearance = widget["/AP"]["/N"]
        if isinstance(appearance, generic.DictionaryObject) and not isinstance(appearance, generic.StreamObject):
            state = widget.get("/AS")
            appearance = appearance[state] if state in appearance else next(iter(appearance.values()))
        drawn = isinstance(appearance, generic.StreamObject) and bool(appearance.data.strip())
    except READ_ERRORS:
        return False
    hidden = flags & (0x02 | 0x20)  # Hidden, NoView
    return abs(x2 - x1) * abs(y2 - y1) > 0 and not hidden and drawn


def _locks_us_out(emb: EmbeddedPdfSignature, reader: PdfFileReader, exempt: set[str]) -> str | None:
    """Why the partner's signature leaves no room for ours (None: it does not).

    A certification signature (DocMDP) forbids or restricts what follows and adds /Perms to
    our catalog; a field lock (FieldMDP) over a field still to be signed would be broken by
    our signature.  ``exempt``: the partner's own prepared field, which nobody fills later.
    """
    try:
        level = emb.docmdp_level
        fieldmdp = emb.fieldmdp
        empty = [str(n) for n, value, _ref in enumerate_sig_fields(reader) if value is None and str(n) not in exempt]
    except READ_ERRORS:
        return None
    if level is not None:
        lock = "tidak mengizinkan perubahan apa pun" if level == MDPPerm.NO_CHANGES else "mengunci naskah"
        return (
            f"Mitra membubuhkan tanda tangan sertifikasi (certify) yang {lock}, sehingga mengunci naskah: tanda "
            "tangan kami tidak dapat dibubuhkan sesudahnya. Minta mitra menandatangani ulang naskah yang kami kirim "
            "dengan tanda tangan persetujuan biasa (approval, bukan 'Certify')."
        )
    locked = [name for name in empty if fieldmdp is not None and fieldmdp.is_locked(name)]
    if locked:
        return (
            f"Tanda tangan mitra mengunci kolom {', '.join(locked)} yang masih harus kami tandatangani. Minta mitra "
            "menandatangani ulang dengan tanda tangan persetujuan biasa tanpa mengunci kolom lain."
        )
    return None


def _refused(
    code: str,
    reason: str,
    report: VerificationReport | None,
    new: list[SignatureCheck],
    *,
    diagnostic: str | None = None,
    placement: SignaturePlacement | None = None,
) -> ImportCheck:
    log.info("returned file refused (%s): %s %s", code, reason, diagnostic or "")
    return ImportCheck(
        ok=False,
        reason=reason,
        new_signatures=new,
        report=report,
        code=code,
        diagnostic=diagnostic,
        placement=placement,
    )


def _diff_after_base(reader: PdfFileReader, base_revisions: int) -> DiffResult | SuspiciousModification:
    try:
        return DESK_DIFF_POLICY.review_file(reader, base_revisions - 1)
    except SuspiciousModification as exc:
        return exc
    except READ_ERRORS as exc:  # a structure pyHanko cannot even compare is not "only a signature"
        return SuspiciousModification(f"{type(exc).__name__}: {exc}")


async def async_check_returned(
    final_pdf: bytes,
    returned: bytes,
    trust_roots: Sequence[Any],
    *,
    expected_fields: Sequence[str] | None = None,
    allow_new_fields: bool = False,
    revocation_mode: str = "require",
    allow_fetching: bool = True,
    moment: dt.datetime | None = None,
) -> ImportCheck:
    """:func:`check_returned` for callers inside an event loop."""
    offline = await async_check_returned_offline(
        final_pdf,
        returned,
        trust_roots,
        expected_fields=expected_fields,
        allow_new_fields=allow_new_fields,
        revocation_mode=revocation_mode,
        moment=moment,
    )
    return await async_confirm_trust(
        returned,
        trust_roots,
        offline,
        revocation_mode=revocation_mode,
        allow_fetching=allow_fetching and moment is None,
    )


async def async_check_returned_offline(
    final_pdf: bytes,
    returned: bytes,
    trust_roots: Sequence[Any],
    *,
    expected_fields: Sequence[str] | None = None,
    allow_new_fields: bool = False,
    revocation_mode: str = "require",
    moment: dt.datetime | None = None,
) -> ImportCheck:
    """Steps 1-6 of the module docstring, from the file alone: ``ok`` when they hold (its report may
    still lack revocation status: :func:`confirm_trust` is step 7), else the refusal."""
    base_revisions = _revisions(final_pdf)
    reader = open_reader(returned)  # bytes that are no PDF at all: InvalidInput, as for any upload
    if len(returned) < len(final_pdf) or returned[: len(final_pdf)] != final_pdf:
        return _refused(
            "not_our_document",
            "Berkas yang kembali bukan kelanjutan dari naskah final yang kami kirim: isi awalnya berbeda "
            "(naskah lain, versi lain, atau disimpan ulang).",
            None,
            [],
        )
    # Offline first (module docstring, "Nothing is fetched ..."): the network is only asked once the file is
    # our document plus one intact, valid signature whose chain ends at one of our roots.
    report = await async_verify_pdf(
        returned, trust_roots, revocation_mode=revocation_mode, allow_fetching=False, moment=moment
    )
    new = [c for c in report.signatures if c.signed_revision >= base_revisions]
    if not new:
        return _refused(
            "no_new_signature", "Berkas yang kembali tidak memuat tanda tangan baru dari mitra.", report, new
        )
    try:
        placement = _placement(reader, new[0].field)
    except READ_ERRORS as exc:
        raise refuse_unreadable(exc) from exc
    refusal = _structure_refusal(final_pdf, reader, report, new, base_revisions, expected_fields, allow_new_fields)
    if refusal is None:
        refusal = _offline_refusal(report)
    if refusal is None:
        refusal = await _chain_refusal(returned, new[0], trust_roots)
    if refusal is not None:
        code, reason, diagnostic = refusal
        return _refused(code, reason, report, new, diagnostic=diagnostic, placement=placement)
    return ImportCheck(ok=True, reason=None, new_signatures=new, report=report, placement=placement)


async def async_confirm_trust(
    returned: bytes,
    trust_roots: Sequence[Any],
    offline: ImportCheck,
    *,
    revocation_mode: str = "require",
    allow_fetching: bool = True,
) -> ImportCheck:
    """Step 7 of the module docstring for a file that passed steps 1-6 (``offline``, from
    :func:`check_returned_offline`): every signature trusted, fetching the revocation status the
    file lacks (through ``pipeline.sign.fetch``) when allowed."""
    if not offline.ok or not offline.new_signatures or offline.report is None:
        return offline
    report, placement = offline.report, offline.placement
    since = offline.new_signatures[0].signed_revision
    new = offline.new_signatures
    if not report.ok and allow_fetching:
        # what is missing now is revocation status (or a chain pyHanko completes with it): ask for it
        report = await async_verify_pdf(returned, trust_roots, revocation_mode=revocation_mode, allow_fetching=True)
        new = [c for c in report.signatures if c.signed_revision >= since]
    for check in report.signatures:
        if check.bottom_line == "ok":
            continue
        who = f"'{check.field}'" + (f" ({check.signer})" if check.signer else "")
        if check in new and check.problems == [NO_REVOCATION]:
            return _refused(
                "revocation_unavailable",
                refuse_without_revocation(check).message,
                report,
                new,
                diagnostic=check.diagnostic,
                placement=placement,
            )
        detail = " ".join(check.problems) or "tidak sah."
        return _refused(
            "signature_not_accepted",
            f"Tanda tangan {who} tidak dapat diterima: {detail}",
            report,
            new,
            diagnostic=check.diagnostic,
            placement=placement,
        )
    if not report.ok:
        return _refused("signature_not_accepted", " ".join(report.all_problems()), report, new, placement=placement)
    return ImportCheck(ok=True, reason=None, new_signatures=new, report=report, placement=placement)


_Refusal = tuple[str, str, str | None]
"""(code, Indonesian reason, diagnostic) of a refusal found before the verdict on trust."""


def _structure_refusal(
    final_pdf: bytes,
    reader: PdfFileReader,
    report: VerificationReport,
    new: list[SignatureCheck],
    base_revisions: int,
    expected_fields: Sequence[str] | None,
    allow_new_fields: bool,
) -> _Refusal | None:
    """Exactly one new signature, signed on our base, in an expected field, locking nobody out, and
    nothing but it added (all read from the file, offline)."""
    first = new[0]
    if len(new) > 1:
        return (
            "several_signatures",
            f"Diharapkan tepat satu tanda tangan baru dari mitra, ternyata ada {len(new)} "
            f"({', '.join(c.field for c in new)}).",
            None,
        )
    if first.signed_revision != base_revisions:
        return (
            "changed_before_signing",
            "Ada perubahan pada naskah sebelum mitra menandatanganinya; tanda tangan mitra tidak dibubuhkan "
            "langsung pada naskah final yang kami kirim.",
            None,
        )
    if expected_fields is not None:
        unexpected = {first.field} - set(expected_fields)
        if allow_new_fields:
            try:
                ours = {str(name) for name, _value, _ref in enumerate_sig_fields(open_reader(final_pdf))}
            except READ_ERRORS as exc:
                raise refuse_unreadable(exc) from exc
            unexpected &= ours  # a field the partner's software created itself is expected
        if unexpected:
            return (
                "unexpected_field",
                f"Tanda tangan dibubuhkan pada kolom yang tidak diharapkan: {', '.join(sorted(unexpected))}.",
                None,
            )
    embedded = [e for e in reader.embedded_regular_signatures if str(e.field_name) == first.field]
    if embedded:
        lockout = _locks_us_out(embedded[0], reader, set(expected_fields or ()))
        if lockout is not None:
            return "locked_by_partner", lockout, None
    diff = _diff_after_base(reader, base_revisions)
    if isinstance(diff, SuspiciousModification):
        return (
            "modified",
            "Naskah diubah setelah kami kirim, tidak hanya ditandatangani: berkas memuat perubahan selain tanda "
            "tangan mitra (isi halaman, anotasi, kolom lain, atau objek PDF yang diganti).",
            str(diff),
        )
    if diff.modification_level not in _ALLOWED_AFTER_BASE:
        return (
            "modified",
            "Naskah diubah setelah kami kirim, tidak hanya ditandatangani (ada anotasi atau perubahan lain).",
            f"modification level {diff.modification_level.name}",
        )
    other_fields = set(diff.changed_form_fields) - {c.field for c in new}
    if other_fields:
        return (
            "other_field_changed",
            f"Naskah diubah setelah kami kirim: mitra mengubah kolom formulir selain tanda tangan "
            f"({', '.join(sorted(other_fields))}).",
            None,
        )
    if report.after_last_signature == "changes":
        return "modified", "Ada perubahan pada naskah setelah tanda tangan terakhir.", None
    return None


def _offline_refusal(report: VerificationReport) -> _Refusal | None:
    """A signature whose bytes or value do not match, or after which the document changed: nothing the
    network could answer changes that verdict."""
    for check in report.signatures:
        if check.bottom_line not in ("invalid", "modified"):
            continue
        who = f"'{check.field}'" + (f" ({check.signer})" if check.signer else "")
        # the trust problems of an unfetched status say nothing about a broken signature
        detail = " ".join(p for p in check.problems if p != NO_REVOCATION) or "tidak sah."
        return "signature_not_accepted", f"Tanda tangan {who} tidak dapat diterima: {detail}", check.diagnostic
    return None


async def _chain_refusal(returned: bytes, check: SignatureCheck, trust_roots: Sequence[Any]) -> _Refusal | None:
    """The partner's certificate (and its timestamp's TSA) must chain to one of our roots with the
    certificates in the file, before anything is fetched (``verify.unanchored_chain``)."""
    missing = await unanchored_chain(returned, check.field, trust_roots)
    if missing is None:
        return None
    what, diagnostic = missing
    subject = f" ({check.signer})" if check.signer else ""
    if what == "timestamp":
        reason = (
            f"Cap waktu pada tanda tangan mitra{subject} diterbitkan oleh TSA yang tidak berantai ke CA yang kami "
            "percayai. Minta mitra memakai TSA dari CA tepercaya, atau menandatangani ulang tanpa cap waktu (kami "
            "membubuhkan cap waktu sendiri)."
        )
    else:
        reason = (
            f"Sertifikat penanda tangan mitra{subject} tidak berantai ke CA yang kami percayai dengan sertifikat yang "
            "dimuat berkas. Minta mitra menandatangani ulang dengan menyertakan rantai sertifikatnya (sertifikat CA "
            "penerbit), atau, bila CA mitra memang dipercaya, minta admin menambahkan sertifikat akar CA mitra ke "
            "NASKAH_TRUST_ROOTS."
        )
    return "untrusted_chain", reason, diagnostic


def check_returned(
    final_pdf: bytes,
    returned: bytes,
    trust_roots: Sequence[Any],
    *,
    expected_fields: Sequence[str] | None = None,
    allow_new_fields: bool = False,
    revocation_mode: str = "require",
    allow_fetching: bool = True,
    moment: dt.datetime | None = None,
) -> ImportCheck:
    """Check a file the counterparty (or a signing service) returned against ``final_pdf``.

    ``final_pdf`` is what :func:`export_for_counterparty` returned and we recorded.
    ``expected_fields``: the signature fields that may be filled (None: any); with
    ``allow_new_fields`` also any signature field that is not in ``final_pdf`` (a signer that
    names its own field), never another of our existing fields.
    ``trust_roots`` must include the counterparty's CA.  Fetching is allowed by default:
    a partner's B-B/B-T file carries no revocation data, and at import time a live check
    is the right one (archive verification stays offline).  Unreadable or encrypted
    ``returned`` bytes raise :class:`~pipeline.errors.InvalidInput`; every other problem is
    a refusal with its reason.
    """
    return asyncrun.run(
        async_check_returned(
            final_pdf,
            returned,
            trust_roots,
            expected_fields=expected_fields,
            allow_new_fields=allow_new_fields,
            revocation_mode=revocation_mode,
            allow_fetching=allow_fetching,
            moment=moment,
        )
    )


def check_returned_offline(
    final_pdf: bytes,
    returned: bytes,
    trust_roots: Sequence[Any],
    *,
    expected_fields: Sequence[str] | None = None,
    allow_new_fields: bool = False,
) -> ImportCheck:
    """Steps 1-6 of :func:`check_returned`, from the file alone (nothing is fetched): ``ok`` when they
    hold, the refusal otherwise.  For an import that has checks of its own to make before the network
    is asked (who signed, on which day: ``signature_plan.import_signed``); :func:`confirm_trust` follows."""
    return asyncrun.run(
        async_check_returned_offline(
            final_pdf, returned, trust_roots, expected_fields=expected_fields, allow_new_fields=allow_new_fields
        )
    )


def confirm_trust(returned: bytes, trust_roots: Sequence[Any], offline: ImportCheck) -> ImportCheck:
    """Step 7 of :func:`check_returned` after :func:`check_returned_offline`: every signature trusted,
    the revocation status the file lacks fetched (``pipeline.sign.fetch``)."""
    return asyncrun.run(async_confirm_trust(returned, trust_roots, offline))


# -- validation data for a signature made elsewhere ---------------------------------------------


def refuse_without_revocation(check: SignatureCheck | None = None, diagnostic: str | None = None) -> InvalidInput:
    """The refusal for a partner signature whose revocation status (OCSP/CRL) cannot be had."""
    who = f" ({check.signer})" if check is not None and check.signer else ""
    return InvalidInput(
        f"Status pencabutan sertifikat penanda tangan mitra{who} (OCSP/CRL) tidak dapat diperoleh: tidak tertanam "
        "di berkas, dan layanan OCSP/CRL CA mitra tidak dapat dihubungi. Tanpa itu tanda tangan mitra tidak dapat "
        f"diperiksa kembali kelak dan naskah tidak dapat diarsipkan. {SEND_INSTEAD}",
        reason="revocation_unavailable",
        diagnostic=diagnostic or (check.diagnostic if check is not None else None),
    )


def embed_validation_data(pdf: bytes, trust_roots: Sequence[Any], field_name: str | None = None) -> bytes:
    """``pdf`` with the certificates and OCSP/CRL of a signature made elsewhere in its DSS (PAdES LT).

    For the counterparty's signature at import and a whole-file service's (BSrE): fetched now,
    written as an incremental update after it (which verification counts as validation data),
    so that the final file verifies offline and can be archived.  ``field_name``: the signature
    (default: the newest).  Nothing is added when the file verifies offline already (the
    partner sent it with LTV).  Raises :class:`InvalidInput` (``revocation_unavailable``, what
    to send instead) when the status cannot be had.
    """
    report = verify_pdf(pdf, trust_roots)
    check = _target(report, field_name)
    if check.trusted:
        return pdf
    reader = open_reader(pdf)
    embedded = [e for e in reader.embedded_regular_signatures if str(e.field_name) == check.field]
    if not embedded:  # pragma: no cover - the report found it in the same bytes
        raise refuse_unreadable(KeyError(check.field))

    async def gather() -> Any:
        vc = validation_context(trust_roots)
        try:
            return await async_add_validation_info(embedded[0], vc, in_place=False)
        finally:
            await vc.aclose()

    try:
        out = asyncrun.run(gather())
    except (PathBuildingError, PathValidationError, ValidationError, OSError, PdfError, ValueError) as exc:
        log.info("validation data for %s could not be gathered: %s", check.field, exc)
        raise refuse_without_revocation(check, f"{type(exc).__name__}: {exc}") from exc
    assert isinstance(out, BytesIO)
    completed = out.getvalue()
    after = _target(verify_pdf(completed, trust_roots), check.field)
    if not after.trusted:
        raise refuse_without_revocation(after)
    log.info("validation data embedded for signature %s (%d -> %d bytes)", check.field, len(pdf), len(completed))
    return completed


def _target(report: VerificationReport, field_name: str | None) -> SignatureCheck:
    checks = [c for c in report.signatures if field_name is None or c.field == field_name]
    if not checks:
        raise InvalidInput("Tanda tangan yang dimaksud tidak ada pada berkas.", reason="signature_missing")
    return checks[-1]
