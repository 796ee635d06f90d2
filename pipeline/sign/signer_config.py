"""Which signer backend each official uses: the ``NASKAH_SIGNERS_FILE`` mapping, checked at start-up.

The file (YAML, or TOML when it ends in ``.toml``) maps a username to the configuration that
:func:`pipeline.sign.signers.open_backend` takes, plus, for BSrE, the official's ``signer_id`` (NIK or
the e-mail registered with BSrE), which the backend does not take but every sign call needs::

    bupati:
      kind: bsre
      base_url: https://esign.paserkab.go.id
      username: naskah-app          # the application's account on the esign-client
      password: ...                 # an application credential: allowed
      signer_id: "6401011203800001" # the official's NIK (quote it: YAML would read a number)
    walikota:
      kind: csc
      base_url: https://csc.example.id/csc/v1
      credential_id: walikota-1
      auth_token: ...
      secret_kind: OTP

An official's own secret (passphrase, PIN, OTP) is never in the file: ``open_backend`` refuses
it, and so does start-up.  The secret is asked at the moment of signing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline.errors import InvalidInput
from pipeline.sign.signers import SignerBackend, open_backend

__all__ = [
    "SIGNER_ID",
    "ConfiguredSigner",
    "check_signer_configs",
    "configured_signer",
    "load_signers_file",
    "secret_kind",
]

SIGNER_ID = "signer_id"
"""The key, next to the backend's own, naming the official at a whole-file service (BSrE: NIK or e-mail)."""

_NEEDS_SIGNER_ID = frozenset({"bsre"})

SecretKind = Literal["passphrase", "PIN", "OTP"]


@dataclass(frozen=True)
class ConfiguredSigner:
    """One official's configured backend, built from the mapping (holds no secret of the official)."""

    username: str
    backend: SignerBackend
    signer_id: str | None
    """NIK or e-mail at a whole-file service; None for the other kinds."""

    @property
    def secret(self) -> SecretKind:
        return secret_kind(self.backend)

    def masked_signer_id(self) -> str | None:
        """The signer id with all but its last four characters hidden (personal data)."""
        if self.signer_id is None:
            return None
        return "*" * max(len(self.signer_id) - 4, 0) + self.signer_id[-4:]


def secret_kind(backend: SignerBackend) -> SecretKind:
    """What the official must type at the moment of signing, for a UI to ask the right thing."""
    if backend.kind == "pkcs11":
        return "PIN"
    if backend.kind == "csc":
        return "OTP" if backend.describe().get("secret_kind") == "OTP" else "PIN"
    return "passphrase"


def _entry_error(source: str, username: str, message: str, **detail: Any) -> InvalidInput:
    return InvalidInput(
        f"Berkas penanda tangan {source}, entri '{username}': {message}", file=source, entry=username, **detail
    )


def _build(source: str, username: str, entry: Any) -> tuple[SignerBackend, str | None]:
    if not isinstance(entry, Mapping):
        raise _entry_error(source, username, "harus berupa pemetaan (kind: ..., ...).", reason="invalid_signer_config")
    config = {str(k): v for k, v in entry.items()}
    signer_id = config.pop(SIGNER_ID, None)
    kind = config.get("kind")
    if kind in _NEEDS_SIGNER_ID:
        if not isinstance(signer_id, str) or not signer_id.strip():
            raise _entry_error(
                source,
                username,
                f"penanda tangan jenis '{kind}' memerlukan {SIGNER_ID} (NIK atau e-mail yang terdaftar di BSrE), "
                "ditulis sebagai teks.",
                reason="missing_signer_id",
            )
        signer_id = signer_id.strip()
    elif signer_id is not None:
        raise _entry_error(
            source,
            username,
            f"{SIGNER_ID} hanya dipakai untuk penanda tangan jenis {', '.join(sorted(_NEEDS_SIGNER_ID))}.",
            reason="invalid_signer_config",
            fields=[SIGNER_ID],
        )
    try:
        backend = open_backend(config)
    except InvalidInput as exc:
        raise _entry_error(source, username, exc.message, **exc.detail) from None
    return backend, signer_id


def check_signer_configs(raw: Any, source: str) -> dict[str, dict[str, Any]]:
    """Check every entry of a parsed mapping (username -> config); return it as plain dicts.

    Each entry is built once with ``open_backend``, so a typo, an unknown kind or a secret in
    the file stops the start-up with the file and the entry named, not the first signature.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            f"Berkas penanda tangan {source}: isinya harus pemetaan nama pengguna -> konfigurasi penanda tangan.",
            file=source,
            reason="invalid_signer_config",
        )
    checked: dict[str, dict[str, Any]] = {}
    for username, entry in raw.items():
        if not isinstance(username, str) or not username.strip():
            raise InvalidInput(
                f"Berkas penanda tangan {source}: nama pengguna '{username}' tidak sah.",
                file=source,
                reason="invalid_signer_config",
            )
        _build(source, username, entry)
        checked[username] = {str(k): v for k, v in entry.items()}
    return checked


def load_signers_file(path: Path) -> dict[str, dict[str, Any]]:
    """Read and check the signers file (``.toml``: TOML; anything else: YAML)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            f"Berkas penanda tangan {source} tidak dapat dibaca: {exc.strerror or exc}.",
            file=source,
            reason="signers_file_unreadable",
        ) from None
    try:
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (baris {mark.line + 1}, kolom {mark.column + 1})" if mark is not None else ""
        kind = "TOML" if path.suffix.lower() == ".toml" else "YAML"
        raise InvalidInput(
            f"Berkas penanda tangan {source} tidak dapat diurai{where}: periksa susunan {kind}-nya.",
            file=source,
            reason="invalid_signer_config",
            diagnostic=str(exc),
        ) from None
    return check_signer_configs(raw, source)


def configured_signer(configs: Mapping[str, Mapping[str, Any]], username: str) -> ConfiguredSigner | None:
    """The backend configured for ``username`` (``Services.signer_backends``), or None."""
    entry = configs.get(username)
    if entry is None:
        return None
    backend, signer_id = _build("(konfigurasi)", username, entry)
    return ConfiguredSigner(username=username, backend=backend, signer_id=signer_id)
