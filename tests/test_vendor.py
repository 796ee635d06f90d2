"""/docs and /redoc work with no way out of the intranet: every asset is vendored, pinned and checked.

The vendored files were copied by ``tools/vendor_web.py`` from packages npm installed with
``npm ci`` (which checks each tarball against ``package-lock.json``'s sha512 ``integrity``); the
manifest it wrote records each file's sha256.  Here, offline: the files still match the manifest,
nothing else lies in the vendor folder, and the manifest matches ``package.json`` and the lock.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from api.web.assets import STATIC_DIR, manifest

ROOT = Path(__file__).resolve().parent.parent
VENDOR = STATIC_DIR / "vendor"


def test_vendored_files_match_the_manifest_and_nothing_else_is_there():
    packages = manifest()
    expected = {VENDOR / "MANIFEST.json"}
    for name, entry in packages.items():
        assert entry["dir"] == f"{name}-{entry['version']}"
        for file, digest in entry["files"].items():
            path = VENDOR / entry["dir"] / file
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} differs from MANIFEST.json"
            expected.add(path)
    present = {p for p in VENDOR.rglob("*") if p.is_file()}
    assert present == expected, f"not in MANIFEST.json: {sorted(map(str, present - expected))}"


def test_manifest_versions_and_integrity_equal_package_json_and_the_lock():
    config = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    packages = manifest()
    assert set(packages) == set(config["vendor"])
    for name, entry in packages.items():
        locked = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == config["dependencies"][name] == locked["version"], name
        assert entry["integrity"] == locked["integrity"], name
        assert sorted(entry["files"]) == sorted(config["vendor"][name]), name
        assert lock["packages"][""]["dependencies"][name] == config["dependencies"][name], "lock is stale"


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_app_itself(api, page):
    r = api.client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not re.search(r"https?://|//cdn|googleapis", html), re.findall(r"\S*(?:https?://|//cdn)\S*", html)
    urls = {a or b for a, b in re.findall(r"(?:src|href|spec-url)=\"([^\"]+)\"|url: '([^']+)'", html)}
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
    assert len(urls) >= (4 if page == "/docs" else 3), urls
    for url in urls:
        assert url.startswith("/"), url
        asset = api.client.get(url)
        assert asset.status_code == 200, url
        kind = next(v for k, v in kinds.items() if url.endswith(k))
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])


def test_htmx_is_pinned_to_2_0_x_whose_body_hx_headers_are_inherited():
    """htmx 4 no longer inherits ``hx-headers`` from ``<body>``: the CSRF header would silently vanish."""
    config = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"2\.0\.\d+", config["dependencies"]["htmx.org"])
    assert re.fullmatch(r"5\.\d+\.\d+", config["dependencies"]["bootstrap"])


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_web_pages_load_every_asset_from_the_app_itself(api):
    html = api.client.get("/masuk").text
    assert not re.search(r"https?://|//cdn", html)
    urls = set(re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html))
    assert any("htmx.org-2.0." in u for u in urls) and any("bootstrap-5." in u for u in urls), urls
    for url in urls:
        assert api.client.get(url).status_code == 200, url
