"""Templates and forms: one Jinja environment, a page response, and a pipeline error shown on its form.

The environment is strict on purpose: autoescape everywhere (a naskah's judul is data, never
markup) and ``StrictUndefined`` (a misspelt variable fails the test that renders the page instead
of printing nothing).  Templates live in ``api/web/templates/``; every page extends ``base.html``.

:class:`FormErrors` is the GOV.UK error-summary pattern: the pipeline raised a
:class:`~pipeline.errors.NaskahError` whose ``detail`` names a field (``field``, or pydantic's
``fields`` list); the page is rendered again with "Ada masalah" at the top, each message linking to
its field, the field marked (``is-invalid``, its message tied by ``aria-describedby``), and what the
person typed kept (:func:`page` gets the submitted values back as ``values``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from api.errors import http_status, validation_message
from api.web.assets import STATIC_DIR, STATIC_URL, vendored_url
from pipeline.auth import allowed
from pipeline.errors import InvalidInput, NaskahError
from pipeline.inbox.notifications import unread_count, unread_count_now

__all__ = [
    "APP_NAME",
    "TEMPLATE_DIR",
    "FormErrors",
    "as_naskah_error",
    "environment",
    "form_error",
    "page",
    "page_links",
    "waktu",
]

APP_NAME = "Naskah Kerja Sama Daerah"
TEMPLATE_DIR = STATIC_DIR.parent / "templates"

_BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

log = logging.getLogger(__name__)


def _tanggal(value: Any) -> str:
    """A date as Indonesians write it: "7 Desember 2026"."""
    if value is None:
        return "-"
    return f"{value.day} {_BULAN[value.month - 1]} {value.year}"


def waktu(value: Any, tz: Any = None) -> str:
    """A moment as Indonesians write it, in ``tz`` (the profile's zone): "7 Desember 2026 pukul 10.15 WITA"."""
    if value is None:
        return "-"
    local = value.astimezone(tz) if tz is not None else value
    zone = local.tzname() or ""
    return f"{_tanggal(local)} pukul {local:%H.%M}" + (f" {zone}" if zone else "")


def _zip_labels(values: list[str], labels: dict[str, str]) -> list[tuple[str, str]]:
    """[(value, its label or itself)] for a select's choices."""
    return [(v, labels.get(v, v)) for v in values]


def _own(path: str) -> str:
    """URL of one of our own static files, with its modification time so a browser never keeps an old one."""
    stamp = int((STATIC_DIR / path).stat().st_mtime)
    return f"{STATIC_URL}/{path}?v={stamp}"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(app_name=APP_NAME, vendored=vendored_url, static=_own, permitted=allowed)
    env.filters["tanggal"] = _tanggal
    env.filters["waktu"] = waktu
    env.filters["zip_labels"] = _zip_labels
    return env


_ENV = environment()


@dataclass
class FormErrors:
    """What went wrong with a submitted form, per field (in the form's order), for the template."""

    fields: dict[str, str] = field(default_factory=dict)
    """field name -> its message (marks the field, and is a link in the summary)."""
    general: list[str] = field(default_factory=list)
    """messages about no field of this form (linked to the form's first field)."""

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    @classmethod
    def from_error(cls, exc: NaskahError, form_fields: list[str]) -> FormErrors:
        """The error, laid on the form: a field the pipeline named that the form has is marked with
        the message; anything else is said in the summary.  pydantic's ``fields`` list (``api.errors``
        translated its messages) marks each field it names."""
        out = cls()
        named = exc.detail.get("field")
        listed = exc.detail.get("fields")
        if isinstance(listed, list) and listed and all(isinstance(f, dict) for f in listed):
            for item in listed:
                name = str(item.get("field", ""))
                if name in form_fields and name not in out.fields:
                    out.fields[name] = str(item.get("message", exc.message))
            if not out.fields:
                out.general.append(exc.message)
        elif isinstance(named, str) and named in form_fields:
            out.fields[named] = exc.message
        else:
            out.general.append(exc.message)
        out.fields = {name: out.fields[name] for name in form_fields if name in out.fields}
        return out

    def summary(self, form_fields: list[str]) -> list[tuple[str, str]]:
        """(anchor id, message) for the summary, in the form's order; general ones point at its first field."""
        first = form_fields[0] if form_fields else ""
        return [(f"f-{name}", message) for name, message in self.fields.items()] + [
            (f"f-{first}", message) for message in self.general
        ]


def _unread(request: Request, svc: Any, user: Any) -> int:
    """The header's unread count: in a savepoint of the request's own session when the route has one
    (``api.deps.get_session``: one connection per request), else in a short read of its own."""
    session = getattr(request.state, "db_session", None)
    if session is None:
        return unread_count_now(svc.engine, user)
    try:
        with session.begin_nested():
            return unread_count(session, user)
    except SQLAlchemyError:
        log.warning("unread notifications of %s not counted", user.username, exc_info=True)
        return 0


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` in the layout, with what every page needs: the signed-in user (or None),
    the session's CSRF token, the current path (navigation), and the form's errors and values."""
    signed = getattr(request.state, "signed", None)
    svc = getattr(request.app.state, "services", None)
    ctx: dict[str, Any] = {
        "notifikasi_baru": _unread(request, svc, signed.user) if signed is not None and svc else 0,
        "request_path": request.url.path,
        "user": signed.user if signed is not None else None,
        "csrf_token": signed.csrf_token if signed is not None else "",
        "errors": FormErrors(),
        "values": {},
        "form_fields": [],
        "now": datetime.now(),
    }
    ctx.update(context or {})
    html = _ENV.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def page_links(page_no: int, pages: int, link: Callable[[int], str]) -> dict[str, Any]:
    """What ``_halaman.html``'s macro reads for a paged list: this page, how many, and the links to the
    pages before and after it (None at either end); ``link(n)`` is the list's address of page n."""
    return {
        "page_no": page_no,
        "pages": pages,
        "prev_url": link(page_no - 1) if page_no > 1 else None,
        "next_url": link(page_no + 1) if page_no < pages else None,
    }


def form_error(
    request: Request,
    template: str,
    exc: NaskahError,
    *,
    form_fields: list[str],
    values: dict[str, Any],
    context: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The form again, with the pipeline's error on it (summary, fields marked, input kept), with the
    status the API would answer (``api.errors``' table).  Only for what a person fixes in the form:
    an invalid input (422) or a refused sign-in (401/429); anything else (403, 404, 409, 5xx) is
    raised again and becomes the error page."""
    status = http_status(exc)
    if status not in (401, 422, 429):
        raise exc
    errors = FormErrors.from_error(exc, form_fields)
    ctx = {**(context or {}), "errors": errors, "values": values, "form_fields": form_fields}
    return page(request, template, ctx, status_code=status)


def as_naskah_error(exc: NaskahError | ValidationError) -> NaskahError:
    """A pipeline error as it is; pydantic's (a form's values checked by a pipeline input model) as the
    422 the API answers, its messages in Indonesian and each field named (``detail.fields``)."""
    if isinstance(exc, NaskahError):
        return exc
    message, fields = validation_message(list(exc.errors()))
    return InvalidInput(message, fields=fields)
