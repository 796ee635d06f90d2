"""The verification report said for people: one rendering for the Arsip page (an archived original, as
the secretariat sees it) and the public ``/verifikasi`` page (any PDF, anyone).

:func:`report_context` gives the template partial ``_laporan.html`` what it needs; the partial's macro
``laporan(...)`` draws the bottom line first (green or red, and in words: colour is never the only
sign), what was found, each signature (who, whether the certificate is theirs, trusted, when) and the
document timestamps.  Nothing of it is internal: it is what the PDF itself proves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipeline.sign.verify import VerificationReport

__all__ = ["AFTER_LAST", "VERDICTS", "report_context"]

#: The report's one-word verdicts, as a person reads them (bottom line and each signature).
VERDICTS = {
    "ok": "Sah",
    "untrusted": "Tidak dipercaya",
    "wrong_signer": "Bukan milik penanda tangan yang tercantum",
    "modified": "Diubah setelah ditandatangani",
    "invalid": "Tidak sah",
    "unsigned": "Tidak bertanda tangan",
}
AFTER_LAST = {
    "nothing": "tidak ada perubahan",
    "validation data": "hanya data validasi (sertifikat dan status pencabutan) yang ditambahkan",
    "document timestamp": "hanya data validasi dan stempel waktu dokumen (arsip jangka panjang) yang ditambahkan",
    "changes": "ADA perubahan isi",
}


def report_context(report: VerificationReport, tz: dt.tzinfo) -> dict[str, Any]:
    """What ``_laporan.html``'s macro reads: the report, its words, its problems, the zone of its times,
    and the moment since which the file is proven unchanged (its first document timestamp), only when it
    verifies: a copy changed after its timestamps (or whose bytes no longer match) is proven nothing of
    the kind, and saying so under a red verdict would contradict it."""
    return {
        "report": report,
        "verdicts": VERDICTS,
        "after_last": AFTER_LAST.get(report.after_last_signature, report.after_last_signature),
        "problems": report.all_problems(),
        "tz": tz,
        "moment": report.timestamps[0].time if report.ok and report.timestamps else None,
    }
