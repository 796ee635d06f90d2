"""Notifikasi: the user's inbox (``/notifikasi``) and their choice of mail (``/akun/notifikasi``).

The same pipeline calls as ``GET /api/v1/me/notifications``, ``POST …/{id}/read`` and
``PUT /api/v1/me/notification-settings`` (``pipeline.inbox.notifications``): only the user's own notifications,
another's id is 404.  Opening a notification (a POST: it marks it read) leads to its page; everything
works without JavaScript (Post/Redirect/Get).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import Id, ServicesDep, SessionDep
from api.web.pages import safe_next
from api.web.render import page
from api.web.security import FormUser, PageUser
from pipeline.inbox import notifications
from pipeline.models import Notifikasi

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PER_PAGE = 30


@router.get("/notifikasi", response_class=HTMLResponse)
def inbox_page(
    request: Request, signed: PageUser, svc: ServicesDep, session: SessionDep, semua: int = 0, halaman: int = 1
) -> HTMLResponse:
    """Unread notifications (``?semua=1``: every one, newest first), a page at a time."""
    halaman = max(1, min(halaman, 10_000))
    found = notifications.inbox(
        session, signed.user, unread_only=not semua, limit=PER_PAGE, offset=(halaman - 1) * PER_PAGE
    )
    pages = max(1, -(-found.count // PER_PAGE))
    ctx = {
        "items": [_item(row) for row in found.data],
        "count": found.count,
        "unread": found.unread,
        "semua": bool(semua),
        "halaman": halaman,
        "pages": pages,
        "tz": svc.profile.tz,
    }
    return page(request, "notifikasi.html", ctx)


def _item(row: Notifikasi) -> tuple[Notifikasi, str, str]:
    """The row, its kind's label, and what it is about: the mail's subject without the application's
    name and the label, which the list shows once above it."""
    label = notifications.KIND_LABELS[notifications.Kind(row.kind)]
    about = row.subject.removeprefix(f"[{notifications.APP_NAME}] ").removeprefix(f"{label}: ")
    return row, label, about


def _back(semua: int) -> str:
    return "/notifikasi?semua=1" if semua else "/notifikasi"


@router.post("/notifikasi/{notification_id}/buka")
def open_one(notification_id: Id, signed: FormUser, session: SessionDep) -> RedirectResponse:
    """Mark it read and go to its page."""
    row = notifications.mark_read(session, signed.user, notification_id)
    return RedirectResponse(safe_next(row.link), status_code=303)


@router.post("/notifikasi/{notification_id}/baca")
def read_one(
    notification_id: Id, signed: FormUser, session: SessionDep, semua: Annotated[int, Form()] = 0
) -> RedirectResponse:
    notifications.mark_read(session, signed.user, notification_id)
    return RedirectResponse(_back(semua), status_code=303)


@router.post("/notifikasi/baca-semua")
def read_all(signed: FormUser, session: SessionDep, semua: Annotated[int, Form()] = 0) -> RedirectResponse:
    notifications.mark_all_read(session, signed.user)
    return RedirectResponse(_back(semua), status_code=303)


@router.get("/akun/notifikasi", response_class=HTMLResponse)
def settings_page(request: Request, signed: PageUser, disimpan: int = 0) -> HTMLResponse:
    return page(request, "akun_notifikasi.html", {"saved": bool(disimpan)})


@router.post("/akun/notifikasi")
def save_settings(
    signed: FormUser, session: SessionDep, email_notifikasi: Annotated[str, Form(max_length=10)] = ""
) -> RedirectResponse:
    """The checkbox sends ``ya`` when ticked and nothing when not: unticked is mail off."""
    notifications.set_email(session, signed.user, aktif=email_notifikasi == "ya")
    return RedirectResponse("/akun/notifikasi?disimpan=1", status_code=303)
