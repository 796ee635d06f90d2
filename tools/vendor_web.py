"""Refresh the front-end files the API serves itself (``make vendor-web``; never run by ``make``).

The API must work on an intranet with no way out: ``/docs`` (Swagger UI), ``/redoc`` and the web
pages load their scripts and styles from ``api/web/static/vendor/<package>-<version>/``, not from a
CDN.  Which packages, at which exact versions, and which of their files, is written in ONE place:
``package.json`` (``dependencies`` pins the version, ``vendor`` lists the files to copy).

What this script does, and why it can be trusted later without the network:

1. ``npm ci --ignore-scripts`` in a scratch folder from ``package.json`` + ``package-lock.json``
   (``--update``: ``npm install`` instead, which rewrites the lock for changed versions).  npm checks
   every downloaded tarball against the lock's ``integrity`` (sha512) and fails otherwise; no
   package's install script runs.
2. Each installed package's version must equal the pin in ``package.json`` and the lock.
3. The listed files are copied to ``api/web/static/vendor/<package>-<version>/`` (older versions of
   that package are removed) and ``api/web/static/vendor/MANIFEST.json`` records, per package, the
   version, the lock's ``integrity`` (sha512 of the tarball npm verified), and the sha256 of every copied file.

``tests/test_vendor.py`` then checks, offline, that every vendored file matches its sha256 in the
manifest, that nothing else lies in the vendor folder, and that the manifest's versions and
integrity equal ``package-lock.json``'s: a file edited by hand, or a lock bumped without running
this script, fails the tests.

Run: ``.venv/bin/python tools/vendor_web.py [--update]`` (needs ``npm`` and the npm registry).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "api" / "web" / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def install(workdir: Path, update: bool) -> dict[str, Any]:
    """npm in ``workdir`` (a copy of package.json and the lock); returns the lock it used."""
    shutil.copy(ROOT / "package.json", workdir / "package.json")
    lock = ROOT / "package-lock.json"
    if lock.exists():
        shutil.copy(lock, workdir / "package-lock.json")
    command = ["npm", "install" if update or not lock.exists() else "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    subprocess.run(command, cwd=workdir, check=True)
    if update or not lock.exists():
        shutil.copy(workdir / "package-lock.json", lock)
    return json.loads((workdir / "package-lock.json").read_text(encoding="utf-8"))


def vendor(update: bool = False) -> dict[str, Any]:
    config = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    pins: dict[str, str] = config["dependencies"]
    wanted: dict[str, list[str]] = config["vendor"]
    for package in wanted:
        if package not in pins or not pins[package][:1].isdigit():
            sys.exit(f"package.json: {package} needs an exact version in dependencies (not a range)")
    manifest: dict[str, Any] = {
        "about": "Written by tools/vendor_web.py (make vendor-web); checked by tests/test_vendor.py",
        "packages": {},
    }
    with tempfile.TemporaryDirectory(prefix="naskah-vendor-") as tmp:
        workdir = Path(tmp)
        lock = install(workdir, update)
        for package, files in sorted(wanted.items()):
            installed = workdir / "node_modules" / package
            version = json.loads((installed / "package.json").read_text(encoding="utf-8"))["version"]
            locked = lock["packages"][f"node_modules/{package}"]
            if not (version == locked["version"] == pins[package]):
                sys.exit(f"{package}: installed {version}, locked {locked['version']}, pinned {pins[package]}")
            for old in VENDOR.glob(f"{package}-*"):
                if old.is_dir() and old.name.removeprefix(f"{package}-")[:1].isdigit():
                    shutil.rmtree(old)
            target = VENDOR / f"{package}-{version}"
            hashes: dict[str, str] = {}
            for name in files:
                source = installed / name
                if not source.is_file():
                    sys.exit(f"{package}@{version} has no file {name}")
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / name)
                hashes[name] = sha256(target / name)
            manifest["packages"][package] = {
                "version": version,
                "dir": target.name,
                "integrity": locked["integrity"],
                "files": hashes,
            }
            print(f"{package}@{version}: {len(files)} files -> {target.relative_to(ROOT)}")
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="npm install: rewrite the lock for changed pins")
    vendor(update=parser.parse_args().update)


if __name__ == "__main__":
    main()
