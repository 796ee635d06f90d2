"""What every ``naskah`` command shares: Indonesian error messages with the table's exit code,
a converter stand-in for commands that never convert (so LibreOffice is not started), and the
lines that show a verification report's document timestamps."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, date, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from api.errors import database_error, exit_code, validation_message
from pipeline.errors import InvalidInput, NaskahError

if TYPE_CHECKING:  # pyHanko loads only for the commands that verify
    from pipeline.sign.verify import VerificationReport

__all__ = [
    "DIAGNOSTIC_LABEL",
    "NoConverter",
    "belongs_line",
    "echo_timestamps",
    "fail",
    "friendly",
    "tanggal_option",
]

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int, detail: dict | None = None) -> None:
    """The message, the detail as JSON, and the library's own (English) words apart, labelled for
    support staff (``detail.diagnostic``, never part of what the message says)."""
    typer.secho(f"Galat: {message}", fg=typer.colors.RED, err=True)
    shown = {k: v for k, v in (detail or {}).items() if k != "diagnostic"}
    if shown:
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2, default=str), err=True)
    if detail and detail.get("diagnostic"):
        typer.echo(f"{DIAGNOSTIC_LABEL} {detail['diagnostic']}", err=True)
    raise typer.Exit(code)


#: The label of the line carrying a library's own words about a failure, for support staff.
DIAGNOSTIC_LABEL = "Diagnostik (untuk dukungan teknis):"


def friendly(func: F) -> F:
    """Turn pipeline errors, invalid options and an unavailable database into a message and a non-zero
    exit code (another database error stays a traceback: a bug to report)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NaskahError as exc:
            fail(exc.message, exit_code(exc), exc.detail)
        except ValidationError as exc:
            message, fields = validation_message(list(exc.errors()))  # type: ignore[arg-type]
            fail(message, 2, {"fields": fields})
        except SQLAlchemyError as exc:
            mapped = database_error(exc)
            if mapped is None:
                raise
            fail(mapped.message, exit_code(mapped), mapped.detail)

    return wrapper  # type: ignore[return-value]


def tanggal_option(text: str) -> date:
    """A ``--tanggal`` option's value: an ISO date, or a message saying how to write one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"Tanggal '{text}' tidak sah; gunakan format YYYY-MM-DD.", tanggal=text) from None


class NoConverter:
    """Maintenance and archive commands never convert; LibreOffice is not started for them."""

    def to_pdf(self, docx: bytes) -> bytes:
        raise RuntimeError("no converter in maintenance commands")

    def close(self) -> None:
        return None


def belongs_line(check: Any) -> str:
    """Whether a signature's certificate is the printed official's, as a line of the verify commands."""
    expected = check.expected_signer or {}
    if check.belongs_to_signer is None:
        return "milik_penanda_tangan=tidak diketahui"
    if check.belongs_to_signer:
        return f"milik_penanda_tangan=ya ({expected.get('nama')}, dicocokkan dengan {check.identity_basis})"
    return f"milik_penanda_tangan=TIDAK (blok tanda tangan: {expected.get('nama') or '-'})"


def echo_signing_dates(dates: dict[str, Any] | None) -> None:
    """The date a known naskah states and the day of each signature, with its date note
    (``SigningDates.to_dict``), as lines of the verify commands."""
    if not dates:
        return
    typer.echo(f"  tanggal naskah {dates.get('tanggal_naskah') or '-'} ({dates.get('mode')})")
    for s in dates.get("tanda_tangan", []):
        note = f" — {s['catatan_tanggal']}" if s.get("catatan_tanggal") else ""
        typer.echo(f"  ditandatangani {s.get('tanggal_ttd') or '-'} oleh {s['nama']}{note}")


def echo_timestamps(report: VerificationReport, tz: tzinfo | None = None) -> None:
    """A verification report's document timestamps (each with the moment it was judged at), then
    its document-level problems; ``tz``: the region's clock for the dates printed (else UTC)."""
    for t in report.timestamps:
        until = t.tsa_valid_until.astimezone(tz or UTC).date().isoformat() if t.tsa_valid_until else "-"
        when = t.time.isoformat(timespec="seconds") if t.time else "-"
        judged = t.validated_at.isoformat(timespec="seconds") if t.validated_at else "sekarang"
        verdict = "ok" if t.ok else "TIDAK"
        typer.echo(f"  [cap waktu dokumen {when}] {t.tsa} (berlaku s.d. {until}) — dinilai pada {judged} => {verdict}")
    for problem in report.problems:
        typer.echo(f"  ! {problem}")
