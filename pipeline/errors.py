"""Every error the pipeline raises on purpose, in one tree.

Each class has a stable machine ``code`` (clients and tests match on it), an
Indonesian ``message`` a person can act on, and a ``detail`` dict with the facts
(field names, ids, limits).  ``api/errors.py`` maps the classes to HTTP statuses in
one table, looked up along this hierarchy; the CLI reuses it for exit codes.

    NaskahError
    ├── NotFound                      unknown case, naskah, revision, template, user
    ├── Unauthenticated               no token; unknown, expired or revoked token; deactivated user
    │   └── TooManyAttempts           sign-ins refused for a while after repeated failures
    ├── NotPermitted                  the user lacks the role, is not the naskah's drafter, separation of duties
    ├── ActionNotAvailable            the lifecycle table has no such step from this state
    ├── Conflict                      someone else changed the row first; duplicates
    ├── InvalidInput                  the request itself is wrong
    │   ├── RuleViolation             a domain rule (jenis naskah for this kerja sama, dates)
    │   ├── TemplateDataError         missing or wrongly typed template fields
    │   ├── TemplateError             a template that is broken or unsafe
    │   ├── SigningRefused            wrong passphrase/PIN, expired/revoked certificate, locked document
    │   ├── DocumentRejected          an upload that is not a safe, plain DOCX
    │   │   └── DocumentTooLarge      over the configured size limit
    │   └── ConversionFailed          LibreOffice could not turn the DOCX into a PDF/A
    ├── ServiceUnavailable            a dependency is down; retrying later may work
    │   ├── StorageUnavailable        object store or database unreachable
    │   └── ConverterUnavailable      no LibreOffice could be started
    └── IntegrityAlarm                stored bytes no longer match their recorded sha256
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from storage.objects import (
    STORE_MARKER,
    ChecksumMismatch,
    ObjectLocked,
    ObjectMissing,
    StoreError,
    StoreMissing,
    StoreUnavailable,
)

_log = logging.getLogger(__name__)

__all__ = [
    "ActionNotAvailable",
    "Conflict",
    "ConversionFailed",
    "ConverterUnavailable",
    "DocumentRejected",
    "DocumentTooLarge",
    "IntegrityAlarm",
    "InvalidInput",
    "NaskahError",
    "NotFound",
    "NotPermitted",
    "RateLimited",
    "RuleViolation",
    "ServiceUnavailable",
    "SigningRefused",
    "StorageUnavailable",
    "TemplateDataError",
    "TemplateError",
    "TooManyAttempts",
    "Unauthenticated",
    "store_errors",
]


class NaskahError(Exception):
    """Base class: ``code`` is stable, ``message`` is for people, ``detail`` for programs."""

    code: ClassVar[str] = "naskah_error"
    default_message: ClassVar[str] = "Terjadi kesalahan."

    def __init__(self, message: str | None = None, **detail: Any) -> None:
        self.message = message or self.default_message
        self.detail: dict[str, Any] = detail
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class NotFound(NaskahError):
    code = "not_found"
    default_message = "Data yang diminta tidak ditemukan."


class Unauthenticated(NaskahError):
    code = "unauthenticated"
    default_message = "Token akses tidak ada atau tidak berlaku. Minta token kepada admin (naskah user add)."


class TooManyAttempts(Unauthenticated):
    """Sign-in refused without checking the password: too many failures for this username or address
    lately; ``detail["retry_after"]`` is the seconds to wait."""

    code = "too_many_attempts"
    default_message = "Terlalu banyak percobaan masuk yang gagal. Coba lagi beberapa saat lagi."


class RateLimited(NaskahError):
    """Too many requests from one client address lately (the public verification page);
    ``detail["retry_after"]`` is the seconds to wait, ``detail["retry_at"]`` when."""

    code = "rate_limited"
    default_message = "Terlalu banyak permintaan. Coba lagi beberapa saat lagi."


class NotPermitted(NaskahError):
    code = "not_permitted"
    default_message = "Anda tidak memiliki peran yang diperlukan untuk tindakan ini."


class ActionNotAvailable(NaskahError):
    code = "action_not_available"
    default_message = "Tindakan ini tidak dapat dilakukan pada status naskah saat ini."


class Conflict(NaskahError):
    code = "conflict"
    default_message = "Data telah diubah oleh pengguna lain. Muat ulang lalu coba lagi."


class InvalidInput(NaskahError):
    code = "invalid_input"
    default_message = "Masukan tidak valid."


class RuleViolation(InvalidInput):
    code = "rule_violation"
    default_message = "Permintaan ini melanggar aturan kerja sama daerah."


class TemplateDataError(InvalidInput):
    code = "template_data_invalid"
    default_message = "Data untuk templat tidak lengkap atau tidak sesuai."


class TemplateError(InvalidInput):
    code = "template_invalid"
    default_message = "Templat naskah rusak atau tidak aman."


class SigningRefused(InvalidInput):
    """Nothing was signed; ``detail["reason"]`` says why (e.g. wrong_passphrase, certificate_expired)."""

    code = "signing_refused"
    default_message = "Penandatanganan ditolak; dokumen tidak ditandatangani."


class DocumentRejected(InvalidInput):
    code = "document_rejected"
    default_message = "Berkas ditolak: unggah dokumen Word (.docx) biasa tanpa makro."


class DocumentTooLarge(DocumentRejected):
    code = "document_too_large"
    default_message = "Berkas terlalu besar."


class ConversionFailed(InvalidInput):
    code = "conversion_failed"
    default_message = "Dokumen tidak dapat dikonversi ke PDF/A."


class ServiceUnavailable(NaskahError):
    code = "service_unavailable"
    default_message = "Layanan pendukung sedang tidak tersedia. Coba lagi beberapa saat lagi."


class StorageUnavailable(ServiceUnavailable):
    code = "storage_unavailable"
    default_message = "Penyimpanan dokumen sedang tidak dapat dihubungi. Coba lagi beberapa saat lagi."


class ConverterUnavailable(ServiceUnavailable):
    code = "converter_unavailable"
    default_message = "Konverter LibreOffice sedang tidak tersedia. Coba lagi beberapa saat lagi."


class IntegrityAlarm(NaskahError):
    code = "integrity_alarm"
    default_message = (
        "PERINGATAN: isi dokumen tersimpan tidak sesuai dengan sidik (sha256) yang tercatat. "
        "Laporkan kepada admin; dokumen tidak diserahkan."
    )


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate object-store failures into errors a person can act on."""
    try:
        yield
    except StoreMissing as exc:
        _log.error("object store unusable, not recreated: %s", exc)
        raise StorageUnavailable(
            f"Penyimpanan tidak tersedia: folder {exc.path} tidak ada atau bukan milik aplikasi ini (penanda "
            f"{STORE_MARKER} tidak ada atau lain). Periksa apakah volumenya terpasang; folder itu tidak dibuat "
            "ulang agar tidak ada berkas yang tersimpan di tempat yang salah.",
            reason=f"store_{exc.reason}",
            path=str(exc.path),
        ) from exc
    except StoreUnavailable as exc:
        _log.warning("object store unavailable: %s", exc)
        raise StorageUnavailable() from exc
    except ChecksumMismatch as exc:
        _log.critical("INTEGRITY ALARM: %s", exc)
        raise IntegrityAlarm(key=getattr(exc, "key", None), version_id=getattr(exc, "version_id", None)) from exc
    except ObjectMissing as exc:
        _log.error("object missing from store: %s", exc)
        raise NotFound(
            "Berkas revisi tidak ditemukan di penyimpanan. Laporkan kepada admin.",
            key=getattr(exc, "key", None),
        ) from exc
    except ObjectLocked as exc:
        _log.warning("refused to change a locked object: %s", exc)
        raise Conflict(
            "Berkas arsip terkunci (object lock) dan tidak dapat diubah atau dihapus.",
            key=getattr(exc, "key", None),
            retain_until=str(getattr(exc, "retain_until", "")),
        ) from exc
    except StoreError as exc:  # anything else the store refuses: not the user's fault, maybe passing
        _log.error("object store error: %s", exc)
        raise StorageUnavailable() from exc
