"""My notifications (the web inbox's twin) and my choice of mail: ``/me/notifications``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentUser, Id, Offset, ServicesDep, SessionDep
from api.schemas import (
    NotificationPublic,
    NotificationSettingsInput,
    NotificationSettingsPublic,
    NotificationsPublic,
)
from pipeline.inbox import notifications
from pipeline.models import Notifikasi, User

router = APIRouter(tags=["pengguna"])


def as_public(row: Notifikasi, public_url: str = "") -> dict[str, Any]:
    kind = notifications.Kind(row.kind)
    return {
        "id": row.id,
        "kind": kind.value,
        "kind_label": notifications.KIND_LABELS[kind],
        "subject": row.subject,
        "body_text": row.body_text.replace(notifications.BASE_MARK, public_url.rstrip("/")),
        "link": row.link,
        "naskah_id": row.naskah_id,
        "usulan_id": row.usulan_id,
        "monev_round_id": row.monev_round_id,
        "created_at": row.created_at,
        "read_at": row.read_at,
        "mail_status": row.mail_status,
        "sent_at": row.sent_at,
    }


@router.get(
    "/me/notifications",
    summary="Pemberitahuan saya, yang terbaru lebih dulu, dengan jumlah yang belum dibaca",
    description="Giliran saya (telaah, paraf, tanda tangan, impor, arsip, ...), pengingat yang melewati mutu "
    "baku, ringkasan harian, usulan kerja sama (disposisi, telaah, rapat TKKSD, keputusan) dan monitoring dan "
    "evaluasi (penugasan, laporan, evaluasi, tindak lanjut, peringatan). Hanya milik saya.",
)
def my_notifications(
    session: SessionDep,
    svc: ServicesDep,
    user: CurrentUser,
    belum_dibaca: Annotated[bool, Query(description="hanya yang belum dibaca")] = False,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationsPublic:
    found = notifications.inbox(session, user, unread_only=belum_dibaca, limit=limit, offset=offset)
    return NotificationsPublic.model_validate(
        {"data": [as_public(r, svc.public_url) for r in found.data], "count": found.count, "unread": found.unread}
    )


@router.post("/me/notifications/read", summary="Tandai semua pemberitahuan saya sudah dibaca")
def read_all(session: SessionDep, user: CurrentUser) -> dict[str, int]:
    return {"ditandai": notifications.mark_all_read(session, user)}


@router.post("/me/notifications/{notification_id}/read", summary="Tandai satu pemberitahuan saya sudah dibaca")
def read_one(notification_id: Id, session: SessionDep, svc: ServicesDep, user: CurrentUser) -> NotificationPublic:
    row = notifications.mark_read(session, user, notification_id)
    return NotificationPublic.model_validate(as_public(row, svc.public_url))


def _settings(user: User) -> NotificationSettingsPublic:
    return NotificationSettingsPublic(email=user.email, email_notifikasi=user.email_notifikasi)


@router.get("/me/notification-settings", summary="Alamat surel saya dan apakah pemberitahuan dikirim lewat surel")
def get_settings(user: CurrentUser) -> NotificationSettingsPublic:
    return _settings(user)


@router.put(
    "/me/notification-settings",
    summary="Nyalakan atau matikan surel pemberitahuan saya (kotak masuk di aplikasi tetap ada)",
)
def put_settings(body: NotificationSettingsInput, session: SessionDep, user: CurrentUser) -> NotificationSettingsPublic:
    notifications.set_email(session, user, aktif=body.email_notifikasi)
    return _settings(user)
