"""Reproducible installs: ``requirements/lock.txt`` pins every package the project needs (runtime and the
``test`` extra), ``make`` installs exactly that, and a dependency added to pyproject.toml without
``make lock`` fails here instead of being installed at whatever version is newest that day."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*$")


def locked() -> dict[str, Version]:
    """name -> version of every requirement line of the lock; each one must be an exact pin."""
    pins: dict[str, Version] = {}
    for number, line in enumerate(LOCK.read_text().splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = PIN.match(text)
        assert match, f"{LOCK.name}:{number}: not an exact pin (name==version): {text!r}"
        pins[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]


def test_the_lock_pins_every_dependency_of_pyproject_within_its_range():
    pins = locked()
    missing = [str(r) for r in declared() if canonicalize_name(r.name) not in pins]
    assert not missing, f"not in {LOCK.relative_to(ROOT)}: {missing}; run `make lock`"
    outside = [
        f"{r} (locked {pins[canonicalize_name(r.name)]})"
        for r in declared()
        if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
    ]
    assert not outside, f"locked outside pyproject.toml's range: {outside}; run `make lock`"


def test_the_lock_is_closed_every_requirement_of_a_locked_package_is_locked_too():
    """Nothing a locked package needs is left for pip to pick freely (extras the project asks for included)."""
    pins = locked()
    wanted_extras = {canonicalize_name(r.name): r.extras for r in declared()}
    open_ends: list[str] = []
    for name in pins:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # judged by the next test
        for text in dist.requires or []:
            req = Requirement(text)
            extras = wanted_extras.get(name, set()) | {""}
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras):
                continue
            if canonicalize_name(req.name) not in pins:
                open_ends.append(f"{name} needs {req}")
    assert not open_ends, open_ends


def test_the_environment_is_the_locked_one():
    """``make`` installs from the lock: every locked package is installed at exactly its locked version."""
    wrong = []
    for name, version in locked().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            wrong.append(f"{name} not installed (locked {version})")
            continue
        if installed != version:
            wrong.append(f"{name} {installed} installed, {version} locked")
    assert not wrong, f"{wrong}: install with `make .venv/.installed` (pip install -r {LOCK.relative_to(ROOT)})"
