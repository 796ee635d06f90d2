"""The monitoring dashboard (``/monitoring``): the Sekretariat TKKSD's charts, each with its numbers as a table.

Every number comes from ``pipeline.archival.dashboard`` (which reads ``pipeline.archival.monitoring``: one computation
of waiting, of agreements ending and of renewals due) for the signed-in user, so the counts include
only what the user may see (``pipeline.access``).  The page carries the charts' data as a JSON data
block (``<script type="application/json">``: not executed, so the CSP allows it) that
``static/dasbor.js`` hands to the vendored Chart.js; the tables beside the charts are the source of
truth (screen readers read them; the canvas is an image with a summary as its label).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import ServicesDep, SessionDep
from api.web.render import page
from api.web.security import PageUser, settings_of
from pipeline.archival import dashboard, monev
from pipeline.archival.recap import KERJA_SAMA_NAMES
from pipeline.inbox import notifications

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _charts(d: dashboard.Dashboard) -> dict[str, Any]:
    """What each chart draws (the same numbers as the tables; labels in Indonesian)."""
    jenis = list(dashboard.JENIS_KERJA_SAMA)
    return {
        "per_tahun": {
            "type": "bar",
            "stacked": True,
            "labels": [str(r.tahun) for r in d.per_tahun],
            "datasets": [{"label": j, "data": [r.jumlah[j] for r in d.per_tahun]} for j in jenis],
        },
        "berakhir": {
            "type": "bar",
            "stacked": True,
            "labels": [f"Dalam {r.dalam_hari} hari" for r in d.berakhir],
            "datasets": [{"label": j, "data": [r.jumlah[j] for r in d.berakhir]} for j in jenis],
        },
        "proses": {
            "type": "bar",
            "stacked": True,
            "horizontal": True,
            "labels": [r.label for r in d.proses],
            "datasets": [
                {"label": "Tepat waktu", "data": [r.tepat_waktu for r in d.proses]},
                {"label": "Terlambat", "data": [r.terlambat for r in d.proses], "late": True},
            ],
        },
        "durasi": {
            "type": "bar",
            "horizontal": True,
            "unit": "jam",
            "labels": [r.label for r in d.durasi],
            "datasets": [
                {"label": "Rata-rata (jam)", "data": [round(r.rata_rata.total_seconds() / 3600, 2) for r in d.durasi]},
                {
                    "label": "Standar SOP (jam)",
                    "data": [round(r.standar_menit / 60, 2) if r.standar_menit is not None else None for r in d.durasi],
                    "standard": True,
                },
            ],
        },
        "cap_waktu": {
            "type": "bar",
            "labels": [r.label for r in d.cap_waktu],
            "datasets": [{"label": "Naskah asli", "data": [r.jumlah for r in d.cap_waktu], "urgent_first": True}],
        },
    }


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, signed: PageUser, svc: ServicesDep, session: SessionDep) -> HTMLResponse:
    """The dashboard for the signed-in user (``pipeline.archival.dashboard.dashboard``: only what they may see)."""
    now = dt.datetime.now(dt.UTC)
    d = dashboard.dashboard(session, signed.user, svc.profile, now)
    monev_alerts = (
        monev.alerts(session, signed.user, svc.profile, monev.local_today(svc.profile, now))
        if svc.profile.monev is not None and not signed.user.pihak_luar
        else None
    )
    ctx = {
        "monev": None
        if monev_alerts is None
        else [
            (
                kind,
                label,
                sum(1 for a in monev_alerts if a.kind == kind),
                [a for a in monev_alerts if a.kind == kind][:5],
            )
            for kind, label in monev.ALERT_LABELS.items()
        ],
        "d": d,
        "surel": notifications.mail_health(session, now, server=settings_of(request).smtp.describe())
        if notifications.may_see_mail_health(signed.user)
        else None,
        "charts": _charts(d),
        "jenis_kerja_sama": dashboard.JENIS_KERJA_SAMA,
        "kerja_sama_names": KERJA_SAMA_NAMES,
        "tz": svc.profile.tz,
    }
    return page(request, "monitoring.html", ctx)
