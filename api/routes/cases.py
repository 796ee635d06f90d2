"""Kerja sama cases and creating naskah from a template."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile, status

from api.deps import CurrentUser, Id, ServicesDep, SessionDep
from api.limits import upload
from api.present import case_public, case_summary, naskah_public
from api.schemas import CasePublic, CaseSummary, NaskahPublic, Page, PihakPublic
from pipeline.drafting import cases, lambang, revisions
from pipeline.errors import DocumentTooLarge

router = APIRouter(prefix="/cases", tags=["kerja sama"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Buat kerja sama baru beserta para pihak")
def create_case(body: cases.CaseInput, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> CasePublic:
    case = cases.create_case(session, user, body)
    return case_public(session, user, case, svc.profile)


@router.get("", summary="Daftar kerja sama yang boleh Anda lihat (cari dan saring)")
def list_cases(
    query: Annotated[cases.CaseQuery, Query()], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Page[CaseSummary]:
    rows, count = cases.list_cases(session, user, profile=svc.profile, query=query)
    return Page(data=[case_summary(c) for c in rows], count=count)


@router.get("/{case_id}", summary="Rincian kerja sama, para pihak dan naskahnya")
def get_case(case_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> CasePublic:
    return case_public(session, user, cases.get_case(session, user, case_id, profile=svc.profile), svc.profile)


@router.patch("/{case_id}", summary="Perbaiki data kerja sama (dipakai pada revisi berikutnya)")
def update_case(
    case_id: Id, body: cases.CaseUpdate, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> CasePublic:
    case = cases.update_case(session, user, case_id, body, profile=svc.profile)
    return case_public(session, user, case, svc.profile)


@router.post(
    "/{case_id}/naskah",
    status_code=status.HTTP_201_CREATED,
    summary="Susun naskah dari templat (revisi 1 dirender dan disimpan)",
)
def create_naskah(
    case_id: Id, body: cases.NaskahInput, svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> NaskahPublic:
    naskah, _rev = revisions.create_naskah(svc, user, case_id, body)
    return naskah_public(session, user, naskah, svc.profile)


@router.put(
    "/{case_id}/pihak/{urutan}/lambang",
    summary="Unggah lambang pihak (PNG/JPEG, paling besar 2 MB), dicetak di kepala naskahnya",
    openapi_extra=upload("lambang"),
)
def upload_lambang(
    case_id: Id,
    urutan: Annotated[int, Path(ge=1, le=10, description="urutan pihak: 1 = PIHAK KESATU")],
    file: Annotated[UploadFile, File(description="Lambang pihak: gambar PNG atau JPEG")],
    svc: ServicesDep,
    user: CurrentUser,
) -> PihakPublic:
    limit = lambang.MAX_LAMBANG_BYTES
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(
            f"Berkas lambang lebih besar dari batas {limit / 1024 / 1024:.0f} MB.",
            reason="too_large",
            limit=limit,
            size_at_least=len(data),
        )
    return PihakPublic.model_validate(lambang.upload_lambang(svc, user, case_id, urutan, data), from_attributes=True)
