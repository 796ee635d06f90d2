"""Vendored front-end files, served by the app itself under ``/static`` (no CDN, no Node at run time).

``api/web/static/vendor/MANIFEST.json`` (written by ``tools/vendor_web.py`` from ``package.json``
and ``package-lock.json``) says which version of each package is vendored and where;
:func:`vendored_url` turns a package and one of its files into the URL the app serves it at, so a
page never hard-codes a version.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["STATIC_DIR", "STATIC_URL", "manifest", "vendored_url"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static"


@cache
def manifest() -> dict[str, Any]:
    """The vendored packages: {name: {version, dir, integrity, files: {path: sha256}}}."""
    return json.loads((STATIC_DIR / "vendor" / "MANIFEST.json").read_text(encoding="utf-8"))["packages"]


def vendored_url(package: str, file: str) -> str:
    """URL of ``file`` of the vendored ``package``, e.g. ``/static/vendor/redoc-2.5.4/bundles/redoc.standalone.js``."""
    entry = manifest()[package]
    if file not in entry["files"]:
        raise KeyError(f"{package} vendors no file {file!r}; add it to package.json 'vendor' and run make vendor-web")
    return f"{STATIC_URL}/vendor/{entry['dir']}/{file}"
