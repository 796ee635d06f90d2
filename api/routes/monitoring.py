"""The archive's recap (CSV, XLSX) and monitoring: agreements ending, naskah waiting against the SOP.

Include this router BEFORE ``api.routes.arsip``: ``/arsip/rekap.csv`` would otherwise be taken by
``/arsip/{arsip_id}`` (and refused with 422, "rekap.csv" not being an integer).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import CurrentUser, ServicesDep, SessionDep
from api.schemas import DashboardPublic, EndingPublic, Page, RenewalDuePublic, WaitingPublic
from pipeline.archival import dashboard, monitoring, recap
from pipeline.archival.archive import ArsipQuery
from pipeline.inbox import notifications

router = APIRouter()

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_REKAP = (
    "Semua arsip yang cocok dengan saringan pencarian arsip (offset dan limit tidak berlaku), "
    "dikelompokkan per jenis kerja sama; status pada hari ini (segera berakhir = dalam `dalam_hari` hari). "
    "Surat Kuasa hanya bila `jenis=SK`."
)


def _today(svc: ServicesDep) -> dt.date:
    return dt.datetime.now(svc.profile.tz).date()


def _attachment(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/arsip/rekap.csv",
    tags=["arsip"],
    summary="Rekapitulasi kerja sama (CSV: UTF-8 dengan BOM, pemisah ';')",
    description=_REKAP,
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV untuk Excel"}},
)
def rekap_csv(
    query: Annotated[ArsipQuery, Query()], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Response:
    today = _today(svc)
    rows = recap.recap_rows(session, user, query, today, profile=svc.profile)
    return _attachment(recap.to_csv(rows), CSV_TYPE, f"rekap-kerja-sama-{today.isoformat()}.csv")


@router.get(
    "/arsip/rekap.xlsx",
    tags=["arsip"],
    summary="Rekapitulasi kerja sama (XLSX)",
    description=_REKAP,
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "Lembar kerja Excel"}},
)
def rekap_xlsx(
    query: Annotated[ArsipQuery, Query()], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Response:
    today = _today(svc)
    rows = recap.recap_rows(session, user, query, today, profile=svc.profile)
    data = recap.to_xlsx(rows, per_tanggal=today)
    return _attachment(data, XLSX_TYPE, f"rekap-kerja-sama-{today.isoformat()}.xlsx")


@router.get(
    "/monitoring/kedaluwarsa",
    tags=["monitoring"],
    summary="Kerja sama yang segera berakhir, dan yang sudah berakhir (ditandai)",
)
def kedaluwarsa(
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    dalam_hari: Annotated[int, Query(ge=0, le=3650, description="berakhir dalam sekian hari ke depan")] = 90,
    lewat_hari: Annotated[
        int, Query(ge=0, le=36500, description="sertakan yang sudah berakhir dalam sekian hari terakhir (0: tidak)")
    ] = 365,
) -> Page[EndingPublic]:
    rows = monitoring.expiring(
        session, user, _today(svc), profile=svc.profile, dalam_hari=dalam_hari, lewat_hari=lewat_hari
    )
    return Page(data=[EndingPublic.model_validate(r.to_dict()) for r in rows], count=len(rows))


@router.get(
    "/monitoring/proses",
    tags=["monitoring"],
    summary="Naskah dalam proses: di langkah mana, sejak kapan, dibanding mutu baku waktu SOP (terlambat dulu)",
)
def proses(svc: ServicesDep, session: SessionDep, user: CurrentUser) -> Page[WaitingPublic]:
    rows = monitoring.in_progress(session, user, svc.profile, dt.datetime.now(dt.UTC))
    return Page(data=[WaitingPublic.model_validate(r.to_dict()) for r in rows], count=len(rows))


@router.get(
    "/monitoring/cap-waktu",
    tags=["monitoring"],
    summary="Naskah arsip yang cap waktu dokumennya perlu diperbarui (yang sudah lewat lebih dulu)",
)
def cap_waktu(
    svc: ServicesDep,
    session: SessionDep,
    user: CurrentUser,
    dalam_hari: Annotated[
        int, Query(ge=0, le=36500, description="sertifikat TSA cap waktu terakhir berakhir dalam sekian hari")
    ] = 365,
) -> Page[RenewalDuePublic]:
    rows = monitoring.renewal_due(session, user, dt.datetime.now(dt.UTC), profile=svc.profile, dalam_hari=dalam_hari)
    return Page(data=[RenewalDuePublic.model_validate(r.to_dict()) for r in rows], count=len(rows))


@router.get(
    "/monitoring/ringkasan",
    tags=["monitoring"],
    summary="Angka dasbor monitoring: kerja sama per tahun, yang segera berakhir, naskah per langkah, "
    "lama langkah dibanding mutu baku, cap waktu yang perlu diperbarui",
)
def ringkasan(request: Request, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> DashboardPublic:
    now = dt.datetime.now(dt.UTC)
    d = dashboard.dashboard(session, user, svc.profile, now)
    surel = None
    if notifications.may_see_mail_health(user):
        surel = notifications.mail_health(session, now, server=request.app.state.settings.smtp.describe()).to_dict()
    return DashboardPublic.model_validate({**d.to_dict(), "surel": surel})
