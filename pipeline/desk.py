"""Desk to desk: send the final naskah to the counterparty and accept it back only if they just signed it.

Why this is more than "verify the returned PDF": a returned file can carry perfectly valid
signatures over something that is not what we agreed — the partner's clerk fixed a typo
before signing, someone added a page, a comment, or signed a different version of the
naskah.  Each of those is a *valid* signature over the *wrong* document.  So the import
check proves, in this order:

1. **Same base.**  The returned bytes begin with the exact bytes we recorded and sent
   (``returned[:len(final_pdf)] == final_pdf``): incremental updates only, nothing rewritten.
2. **A new signature, signed directly on our base.**  At least one signature is newer than
   our file, and the first one signs the revision that immediately follows it, so the
   bytes it covers are our file plus its own signing update and nothing else.
3. **Only signatures were added.**  pyHanko's difference analysis from our last revision
   to the end of the file allows signature fields being filled (and validation data /
   document timestamps) and nothing else: no content, page, annotation or other form field.
   ``expected_fields`` narrows which signature fields the partner may fill; with
   ``allow_new_fields`` a signature in a field that did not exist in our file is accepted too
   (BSrE's esign-client v1 creates and names its own field).
4. **Every signature holds** (:func:`pipeline.verify.verify_pdf`): intact, valid and trusted
   under the configured roots — the partner's CA must be among them.

The same check applies to a file returned by a remote signing service (BSrE): it is
another returned file.  Reasons are Indonesian; they are shown to the secretariat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DiffResult,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    GenericFieldModificationRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    SuspiciousModification,
    XrefStreamRule,
)
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.fields import enumerate_sig_fields

from pipeline.verify import SignatureCheck, VerificationReport, async_verify_pdf, refuse_unreadable

__all__ = ["ImportCheck", "check_returned", "export_for_counterparty"]

log = logging.getLogger(__name__)

_ALLOWED_AFTER_BASE = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)

#: pyHanko's DEFAULT_DIFF_POLICY, except that ``/SigFlags`` may change: our base may be
#: unsigned (fields only, SigFlags 1) and the first signature sets AppendOnly (3).  The
#: default policy assumes a signed base and would refuse every first signature.
DESK_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(
        field_rules=[SigFieldCreationRule(), SigFieldModificationRule(), GenericFieldModificationRule()],
        ignored_acroform_keys=ACROFORM_EXEMPT_STRICT_COMPARISON | {"/SigFlags"},
    ),
)


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

    @property
    def bottom_line(self) -> str:
        """``accepted`` or ``refused``."""
        return "accepted" if self.ok else "refused"


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
        reader = PdfFileReader(BytesIO(pdf), strict=True)
        if reader.encrypted:
            raise refuse_unreadable(None, encrypted=True)
        return int(reader.xrefs.total_revisions)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc


def _sig_field_names(pdf: bytes) -> set[str]:
    """Names of the signature fields (empty or filled) in ``pdf``."""
    reader = PdfFileReader(BytesIO(pdf), strict=True)
    return {str(name) for name, _value, _ref in enumerate_sig_fields(reader)}


def _diff_after_base(returned: bytes, base_revisions: int) -> DiffResult | SuspiciousModification:
    reader = PdfFileReader(BytesIO(returned), strict=True)
    try:
        return DESK_DIFF_POLICY.review_file(reader, base_revisions - 1)
    except SuspiciousModification as exc:
        return exc


def _refused(reason: str, report: VerificationReport | None, new: list[SignatureCheck]) -> ImportCheck:
    log.info("returned file refused: %s", reason)
    return ImportCheck(ok=False, reason=reason, new_signatures=new, report=report)


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
    base_revisions = _revisions(final_pdf)
    report = await async_verify_pdf(
        returned, trust_roots, revocation_mode=revocation_mode, allow_fetching=allow_fetching, moment=moment
    )
    new = [c for c in report.signatures if c.signed_revision >= base_revisions]

    if len(returned) < len(final_pdf) or returned[: len(final_pdf)] != final_pdf:
        return _refused(
            "Berkas yang kembali bukan kelanjutan dari naskah final yang kami kirim: isi awalnya berbeda "
            "(naskah lain, versi lain, atau disimpan ulang).",
            report,
            new,
        )
    if not new:
        return _refused("Berkas yang kembali tidak memuat tanda tangan baru dari mitra.", report, new)
    first = new[0]
    if first.signed_revision != base_revisions:
        return _refused(
            "Ada perubahan pada naskah sebelum mitra menandatanganinya; tanda tangan mitra tidak dibubuhkan "
            "langsung pada naskah final yang kami kirim.",
            report,
            new,
        )
    diff = _diff_after_base(returned, base_revisions)
    if isinstance(diff, SuspiciousModification):
        return _refused(f"Naskah diubah setelah kami kirim, tidak hanya ditandatangani: {diff}", report, new)
    if diff.modification_level not in _ALLOWED_AFTER_BASE:
        return _refused(
            f"Naskah diubah setelah kami kirim (tingkat perubahan {diff.modification_level.name}), "
            "tidak hanya ditandatangani.",
            report,
            new,
        )
    signed_fields = {c.field for c in new}
    other_fields = set(diff.changed_form_fields) - signed_fields
    if other_fields:
        return _refused(
            f"Mitra mengubah kolom formulir selain tanda tangan: {', '.join(sorted(other_fields))}.", report, new
        )
    if expected_fields is not None:
        unexpected = signed_fields - set(expected_fields)
        if allow_new_fields:
            unexpected &= _sig_field_names(final_pdf)  # a field the service created itself is expected
        if unexpected:
            return _refused(
                f"Tanda tangan dibubuhkan pada kolom yang tidak diharapkan: {', '.join(sorted(unexpected))}.",
                report,
                new,
            )
    for check in report.signatures:
        if check.bottom_line != "ok":
            who = f"'{check.field}'" + (f" ({check.signer})" if check.signer else "")
            detail = " ".join(check.problems) or check.bottom_line
            return _refused(f"Tanda tangan {who} tidak dapat diterima: {detail}", report, new)
    if report.after_last_signature == "changes":
        return _refused("Ada perubahan pada naskah setelah tanda tangan terakhir.", report, new)
    if not report.ok:
        return _refused(" ".join(report.problems) or f"Verifikasi gagal ({report.bottom_line}).", report, new)
    return ImportCheck(ok=True, reason=None, new_signatures=new, report=report)


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
    ``allow_new_fields`` also any signature field that is not in ``final_pdf`` (a service that
    names its own field), never another of our existing fields.
    ``trust_roots`` must include the counterparty's CA.  Fetching is allowed by default:
    a partner's B-B/B-T file carries no revocation data, and at import time a live check
    is the right one (archive verification stays offline).  Unreadable or encrypted
    ``returned`` bytes raise :class:`~pipeline.errors.InvalidInput`; every other problem is
    a refusal with its reason.
    """
    return asyncio.run(
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
