"""The template registry, read-only."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from api.present import template_public, user_public
from api.schemas import Page, TemplatePublic, UserPublic
from pipeline.auth import require

router = APIRouter(tags=["templat"])


@router.get("/templates", summary="Templat naskah yang tersedia")
def list_templates(svc: ServicesDep, user: CurrentUser, jenis: str | None = None) -> Page[TemplatePublic]:
    require(user, "read")
    rows = svc.templates.for_jenis(jenis.upper()) if jenis else svc.templates.all()
    return Page(data=[template_public(t) for t in rows], count=len(rows))


@router.get("/templates/{jenis}/{variant}", summary="Rincian templat dan isiannya")
def get_template(jenis: str, variant: str, svc: ServicesDep, user: CurrentUser) -> TemplatePublic:
    require(user, "read")
    return template_public(svc.templates.get(f"{jenis}/{variant}"))


@router.get("/me", summary="Pengguna pemilik token", tags=["pengguna"])
def me(user: CurrentUser) -> UserPublic:
    return user_public(user)
