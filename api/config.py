"""Settings from the environment (prefix ``NASKAH_``), with defaults that need no set-up.

The only module that reads the environment.  Every setting is documented in README.md.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.auth import DEFAULT_TOKEN_DAYS
from pipeline.drafting.convert import open_converter_pool
from pipeline.drafting.docxcheck import DocxLimits
from pipeline.drafting.templates import TemplateRegistry, default_template_root
from pipeline.pdf.pagerender import PageRenderer, PreviewLimits
from pipeline.pdf.pdflimits import PdfLimits
from pipeline.services import Services, open_bound_store
from pipeline.sign import fetch
from pipeline.sign.fetch import FetchPolicy, parse_allowlist
from pipeline.sign.pades import DEFAULT_LEVEL, PadesLevel
from pipeline.sign.pdfworker import PdfWorker, WorkerLimits
from pipeline.sign.signer_config import load_signers_file
from pipeline.sign.signing import configure_tsa_timeout
from pipeline.sign.verify import as_certificates
from pipeline.signin import SessionPolicy
from pipeline.sop import load_profile
from storage.db import make_engine, upgrade
from storage.mail import SmtpConfig
from storage.objects import parse_store_url

__all__ = ["Settings", "build_services"]


class Settings(BaseSettings):
    # A refused setting is reported without the values given: they hold secrets (the SMTP password, the
    # database URL's password, S3 keys), and the message goes to a terminal or a log at start-up.
    model_config = SettingsConfigDict(env_prefix="NASKAH_", extra="ignore", hide_input_in_errors=True)

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
    converters: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=64,
        description="how many LibreOffice converters run side by side (each its own process, ~200 MB)",
    )
    convert_queue: int = Field(
        default=16, ge=0, description="conversions that may wait for a busy converter; more are refused (503)"
    )
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
    tsa_timeout: float = Field(default=10.0, gt=0, le=300, description="seconds the TSA may take to answer one request")
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
    fetch_allow: str = Field(
        default="",
        description="addresses/networks (optionally :port) whose OCSP/CRL/AIA may be fetched although not public, "
        "comma-separated, e.g. 127.0.0.1:8123,10.20.0.0/16 (the dev PKI; an intranet PSrE mirror)",
    )
    fetch_timeout: float = Field(default=5.0, gt=0, le=60, description="seconds per OCSP/CRL/AIA request")
    fetch_max_crl_mb: float = Field(default=10.0, gt=0, description="largest CRL fetched, in MB")
    max_upload_mb: float = Field(default=20.0, gt=0, description="largest DOCX accepted for upload")
    token_lifetime_days: int = Field(
        default=DEFAULT_TOKEN_DAYS,
        ge=1,
        le=3650,
        description="days an API token stays valid after it is issued (a shorter life may be asked per token)",
    )
    max_body_kb: int = Field(
        default=1024, gt=0, description="largest request body of a route that takes JSON (or no body), in KB"
    )
    pdf_max_mb: float = Field(
        default=50.0, gt=0, description="largest PDF accepted from outside (POST /verify, a counterparty's return)"
    )
    pdf_max_pages: int = Field(default=500, ge=1, description="most pages of a PDF from outside")
    pdf_max_objects: int = Field(default=200_000, ge=100, description="most objects of a PDF from outside")
    pdf_max_fields: int = Field(default=500, ge=1, description="most form fields (and widgets) of a PDF from outside")
    verify_memory_mb: int = Field(
        default=1024, ge=256, description="address space of the worker process that analyses a PDF from outside"
    )
    verify_timeout: float = Field(default=60.0, gt=0, description="seconds before that worker is killed")
    verify_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, le=64, description="PDF analyses running at once"
    )
    preview_dpi: int = Field(
        default=120, ge=50, le=300, description="resolution of page preview images (120 dpi: an A4 page 992 x 1403 px)"
    )
    preview_thumb_px: int = Field(default=200, ge=50, le=600, description="width of a page thumbnail, in pixels")
    preview_max_pages: int = Field(
        default=100, ge=1, le=2000, description="pages of a PDF rendered as preview images at most (the first ones)"
    )
    preview_timeout: float = Field(
        default=60.0, gt=0, description="seconds one preview rendering (poppler) may take; also the wait for a slot"
    )
    preview_workers: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2),
        ge=1,
        le=64,
        description="preview renderings running at once per API process (default half the cores)",
    )
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
    public_url: str = Field(
        default="",
        description="the address people open the web pages at (https://naskah.example.go.id); https makes the "
        "session cookie Secure, and cross-site form posts are judged against it",
    )
    public_download: bool = Field(
        default=False,
        description="the public page of a naskah (the QR code's link, /v/<token>) offers the archived original "
        "for download; off by default: each Pemda decides",
    )
    public_verify_per_hour: int = Field(
        default=30,
        ge=1,
        le=100_000,
        description="anonymous PDF checks (/verifikasi) one client address may make per hour (counted in the "
        "database, shared by every process)",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="a web session with no request for this long has ended"
    )
    session_max_hours: int = Field(
        default=12, ge=1, le=24 * 30, description="a web session ends this long after sign-in, however active"
    )
    smtp_host: str = Field(
        default="",
        description="SMTP server notifications are mailed through; empty: mail stays queued (the web "
        "inbox still shows every notification)",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="its port (587 with starttls, 465 with ssl)")
    smtp_tls: Literal["none", "starttls", "ssl"] = Field(
        default="none", description="none, starttls (upgrade after connecting) or ssl (TLS from the start)"
    )
    smtp_user: str = Field(default="", description="SMTP login; empty: no login")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password (never logged)")
    smtp_timeout: float = Field(default=10.0, gt=0, le=120, description="seconds per SMTP connection or command")
    mail_from: str = Field(
        default="naskah@localhost", description="the sender address of notification mail (noreply@pemda.go.id)"
    )
    mail_worker: bool = Field(
        default=True,
        description="the API process sends queued mail, writes reminders past the mutu baku and the daily digest "
        "in the background (off: run `naskah notifikasi kirim` / `ringkasan` from cron)",
    )
    mail_interval_seconds: float = Field(
        default=60.0, ge=1, le=3600, description="how often the background sender looks for due mail and reminders"
    )
    mail_digest_hour: int = Field(
        default=7,
        ge=0,
        le=23,
        description="hour of the day (profile's time zone) the daily digest is written and the monev alerts looked for",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="API processes `naskah serve` runs on one port (uvicorn workers; each its own connection pool, "
        "converter, mail worker). Python runs a process's pages on one core at a time: about one per core",
    )
    log_level: str = "INFO"

    @field_validator("storage_url", "database_url")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("fetch_allow")
    @classmethod
    def _allowlist(cls, v: str) -> str:
        parse_allowlist(v)  # a bad entry stops the start-up, named
        return v.strip()

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, v: str) -> str:
        v = v.strip()
        if "@" not in v or any(c in v for c in " <>\r\n"):
            raise ValueError("must be a plain address, e.g. noreply@pemda.go.id")
        return v

    @model_validator(mode="after")
    def _smtp_login_over_tls(self) -> Settings:
        """An SMTP login sends the password: only inside TLS, or to a relay on this machine."""
        host = self.smtp_host.strip().lower()
        if self.smtp_user and self.smtp_tls == "none" and host and host not in {"localhost", "127.0.0.1", "::1"}:
            raise ValueError(
                "NASKAH_SMTP_USER is set but NASKAH_SMTP_TLS is none: the SMTP password would cross the network "
                "in clear; set NASKAH_SMTP_TLS=starttls (port 587) or ssl (port 465)"
            )
        return self

    @property
    def smtp(self) -> SmtpConfig:
        """Where notification mail goes (``storage.mail``); ``configured`` is False without a host."""
        return SmtpConfig(
            host=self.smtp_host.strip(),
            port=self.smtp_port,
            tls=self.smtp_tls,
            user=self.smtp_user,
            password=self.smtp_password.get_secret_value(),
            sender=self.mail_from,
            timeout=self.smtp_timeout,
        )

    @property
    def session_policy(self) -> SessionPolicy:
        """How long web sessions live (``pipeline.signin``)."""
        return SessionPolicy(
            idle=timedelta(minutes=self.session_idle_minutes), max_age=timedelta(hours=self.session_max_hours)
        )

    @property
    def secure_cookies(self) -> bool:
        """The session cookie is sent only over HTTPS when the app is published at an https address."""
        return self.public_url.startswith("https://")

    @property
    def fetch_policy(self) -> FetchPolicy:
        """Where OCSP/CRL/AIA may be fetched from, and how much (``pipeline.sign.fetch``)."""
        return FetchPolicy(
            allow=parse_allowlist(self.fetch_allow),
            timeout=self.fetch_timeout,
            max_crl_bytes=int(self.fetch_max_crl_mb * 1024 * 1024),
        )

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

    @property
    def pdf_limits(self) -> PdfLimits:
        return PdfLimits(
            max_bytes=int(self.pdf_max_mb * 1024 * 1024),
            max_pages=self.pdf_max_pages,
            max_objects=self.pdf_max_objects,
            max_fields=self.pdf_max_fields,
        )

    @property
    def preview_limits(self) -> PreviewLimits:
        return PreviewLimits(
            dpi=self.preview_dpi,
            thumb_width=self.preview_thumb_px,
            max_pages=self.preview_max_pages,
            timeout_s=self.preview_timeout,
            workers=self.preview_workers,
        )

    @property
    def worker_limits(self) -> WorkerLimits:
        return WorkerLimits(
            memory_mb=self.verify_memory_mb, timeout_s=self.verify_timeout, max_workers=self.verify_workers
        )


def build_services(settings: Settings, *, converter: object | None = None) -> Services:
    """Open the database engine (migrated first when ``migrate_on_start``), the object stores this
    database was set up with (``open_bound_store``: a local store's folder that has gone, or is
    another store, stops the start instead of being made again empty), the converter, and load
    (validate) the templates; set the process's fetch policy (``pipeline.sign.fetch``)."""
    templates = TemplateRegistry.load(*settings.template_roots)
    signer_backends = settings.signer_backends  # before anything is opened: a bad file stops the start-up
    fetch.configure(settings.fetch_policy)  # one per process: what every validation may fetch from
    configure_tsa_timeout(settings.tsa_timeout)
    profile = load_profile(settings.sop_profile)
    trust_roots = settings.trust_root_certificates
    engine = make_engine(settings.database_url)
    try:
        if settings.migrate_on_start:
            upgrade(engine)
        store = open_bound_store(engine, "objects", settings.storage_url)
        archive_store = open_bound_store(engine, "arsip", settings.archive_url, object_lock=True)
    except BaseException:
        engine.dispose()
        raise
    return Services(
        engine=engine,
        store=store,
        converter=converter  # type: ignore[arg-type]
        or open_converter_pool(
            settings.converter,
            size=settings.converters,
            timeout=settings.convert_timeout,
            address=settings.converter_url,
            max_waiting=settings.convert_queue,
        ),
        templates=templates,
        docx_limits=settings.docx_limits,
        pdf_limits=settings.pdf_limits,
        pdf_worker=PdfWorker(settings.worker_limits),
        profile=profile,
        trust_roots=trust_roots,
        tsa_url=settings.tsa_url or None,
        pades_level=settings.pades_level,
        signer_backends=signer_backends,
        archive_store=archive_store,
        archive_retention_days=settings.archive_retention_days,
        token_lifetime_days=settings.token_lifetime_days,
        public_url=settings.public_url,
        page_renderer=PageRenderer(settings.preview_limits),
    )
