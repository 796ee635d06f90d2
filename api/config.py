"""Settings from the environment (prefix ``NASKAH_``), with defaults that need no set-up.

The only module that reads the environment.  Every setting is documented in README.md.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.convert import open_converter
from pipeline.docxcheck import DocxLimits
from pipeline.pades import DEFAULT_LEVEL, PadesLevel
from pipeline.services import Services
from pipeline.signer_config import load_signers_file
from pipeline.sop import load_profile
from pipeline.templates import TemplateRegistry, default_template_root
from pipeline.verify import as_certificates
from storage.db import make_engine
from storage.objects import open_store, parse_store_url

__all__ = ["Settings", "build_services"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NASKAH_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/naskah.db",
        description="SQLAlchemy URL; PostgreSQL: postgresql+psycopg://user:pass@host:5432/naskah",
    )
    storage_url: str = Field(
        default="file:./var/objects",
        description="file:PATH (local versioned store) or s3://KEY:SECRET@host:port/bucket (s3+http:// without TLS)",
    )
    converter: Literal["auto", "warm", "cold", "remote"] = Field(
        default="auto", description="auto: warm unoserver with cold soffice fallback; remote: NASKAH_CONVERTER_URL"
    )
    converter_url: str = Field(default="", description="host:port of a unoserver, for converter=remote")
    convert_timeout: float = Field(default=60.0, gt=0, description="seconds per DOCX->PDF conversion")
    template_dirs: str = Field(
        default="", description="extra template roots (a region's own), separated by ':'; added to templates/naskah"
    )
    sop_profile: str = Field(
        default="paser", description="SOP profile (pipeline/profiles/NAME.yaml, or a path): paraf chain, signers, times"
    )
    trust_roots: str = Field(
        default="", description="PEM files of trusted root CAs (ours and counterparties'), separated by ':'"
    )
    tsa_url: str = Field(default="", description="RFC 3161 timestamp authority URL for PAdES B-T signatures")
    pades_level: PadesLevel = Field(
        default=DEFAULT_LEVEL,
        description="PAdES level every signature must reach: B-LT (default: timestamp + validation data, needs "
        "NASKAH_TSA_URL and NASKAH_TRUST_ROOTS), B-T (needs NASKAH_TSA_URL), or B-B (only if chosen on purpose)",
    )
    signers_file: str = Field(
        default="",
        description="YAML (or .toml) file: username -> signer backend (pkcs12/pkcs11/csc/bsre); no passphrase/PIN/OTP",
    )
    archive_storage_url: str = Field(
        default="",
        description="where archived originals are kept, locked: file:PATH or an S3 bucket created WITH object lock; "
        "empty = next to NASKAH_STORAGE_URL (file:…/arsip, or the bucket '<bucket>-arsip')",
    )
    archive_retention_days: int = Field(
        default=10957, ge=1, description="days each archived version stays locked against deletion (30 years)"
    )
    max_upload_mb: float = Field(default=20.0, gt=0, description="largest DOCX accepted for upload")
    migrate_on_start: bool = Field(default=True, description="apply database migrations when the API starts")
    cleanup_on_start: bool = Field(
        default=True,
        description="at start-up, in the background: reconcile pending revisions, then remove object versions no "
        "row points at, crash leftovers and dead converters' LibreOffice directories (as `naskah reconcile`)",
    )
    cleanup_min_age_minutes: float = Field(
        default=60.0,
        ge=0,
        description="housekeeping removes nothing younger: an object stored by a request whose row is not "
        "committed yet must survive (keep it far above the longest request)",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    @field_validator("storage_url", "database_url")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @cached_property
    def template_roots(self) -> list[Path]:
        extra = [Path(p).expanduser() for p in self.template_dirs.split(os.pathsep) if p.strip()]
        return [default_template_root(), *extra]

    @property
    def trust_root_certificates(self) -> list[Any]:
        paths = [Path(p).expanduser() for p in self.trust_roots.split(os.pathsep) if p.strip()]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ValueError(f"NASKAH_TRUST_ROOTS: file(s) not found: {', '.join(missing)}")
        return as_certificates(paths)

    @property
    def signer_backends(self) -> dict[str, dict[str, Any]]:
        """The checked signers file (empty when none is configured); a bad file names the entry."""
        if not self.signers_file.strip():
            return {}
        return load_signers_file(Path(self.signers_file.strip()).expanduser())

    @property
    def archive_url(self) -> str:
        """The archive store's URL: as configured, or derived from the working store's."""
        if self.archive_storage_url.strip():
            return self.archive_storage_url.strip()
        loc = parse_store_url(self.storage_url)
        if loc.kind == "local":
            assert loc.path is not None
            return f"file:{loc.path.parent / 'arsip'}"
        head, _, _bucket = self.storage_url.split("?")[0].rstrip("/").rpartition("/")
        query = self.storage_url.partition("?")[2]
        return f"{head}/{loc.bucket}-arsip" + (f"?{query}" if query else "")

    @property
    def docx_limits(self) -> DocxLimits:
        return DocxLimits(max_bytes=int(self.max_upload_mb * 1024 * 1024))


def build_services(settings: Settings, *, converter: object | None = None) -> Services:
    """Open the database engine, object store and converter, and load (validate) the templates."""
    templates = TemplateRegistry.load(*settings.template_roots)
    signer_backends = settings.signer_backends  # before anything is opened: a bad file stops the start-up
    return Services(
        engine=make_engine(settings.database_url),
        store=open_store(settings.storage_url),
        converter=converter
        or open_converter(settings.converter, timeout=settings.convert_timeout, address=settings.converter_url),  # type: ignore[arg-type]
        templates=templates,
        docx_limits=settings.docx_limits,
        profile=load_profile(settings.sop_profile),
        trust_roots=settings.trust_root_certificates,
        tsa_url=settings.tsa_url or None,
        pades_level=settings.pades_level,
        signer_backends=signer_backends,
        archive_store=open_store(settings.archive_url, object_lock=True),
        archive_retention_days=settings.archive_retention_days,
    )
