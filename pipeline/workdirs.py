"""LibreOffice working directories in the temp directory: who owns each, and sweeping the dead ones'.

Every converter works in a directory of its own under the temp directory (``naskah-warm-*`` for a
warm unoserver and its LibreOffice profile, ``naskah-cold-*`` for one cold conversion).  Closed
normally, a converter removes its directory.  A process that is killed (SIGKILL, the OOM killer, a
power cut) cannot: its directory stays behind (a LibreOffice profile is some megabytes), and so may
its unoserver and soffice.bin, which run in a process group of their own.

``claim`` writes ``owner.json`` (pid and the process's start time, so a reused pid is not taken for
the owner) into a directory when it is made.  ``sweep`` removes a directory whose owner no longer
runs, after killing the processes still working in it (their command line or working directory is
in it: the dead owner's LibreOffice); a directory without an owner file goes only when no process
works in it and it is older than the grace period.  Directories of another user and anything else in
the temp directory (the font cache, other programs' files) are never touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OWNER_FILE", "PREFIXES", "SweptDir", "claim", "sweep"]

log = logging.getLogger(__name__)

PREFIXES = ("naskah-warm-", "naskah-cold-")
OWNER_FILE = "owner.json"


@dataclass(frozen=True)
class SweptDir:
    """A converter directory that was (or, in a dry run, would be) removed, and why."""

    path: str
    reason: str  # "owner_gone" | "abandoned"
    killed: tuple[int, ...] = ()  # leftover LibreOffice processes killed first


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19]) if fields[0] not in ("Z", "X") else None
    except (IndexError, ValueError):
        return None


def claim(directory: Path) -> None:
    """Record this process as the owner of a converter directory it just made."""
    pid = os.getpid()
    (directory / OWNER_FILE).write_text(json.dumps({"pid": pid, "start": _start_time(pid)}))


def _owner_alive(directory: Path) -> bool | None:
    """True/False when the directory names its owner, None when it has no (readable) owner file."""
    try:
        owner = json.loads((directory / OWNER_FILE).read_text())
        pid, start = int(owner["pid"]), owner.get("start")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    now = _start_time(pid)
    return now is not None and (start is None or now == start)


def _workers(directory: Path) -> list[int]:
    """Live processes working in ``directory``: it is in their command line, or their working directory."""
    inside = str(directory)
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        working = inside in cmdline or cwd == inside or cwd.startswith(inside + "/")
        if working and _start_time(int(entry.name)) is not None:  # zombies have left already
            found.append(int(entry.name))
    return found


def _kill(pids: list[int]) -> None:
    """SIGKILL each process and the process group it leads (unoserver leads its LibreOffice's group)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)


def _newest_mtime(directory: Path) -> float:
    """The newest modification time of the directory and what is directly in it."""
    newest = directory.stat().st_mtime
    with contextlib.suppress(OSError):
        for child in directory.iterdir():
            with contextlib.suppress(OSError):
                newest = max(newest, child.lstat().st_mtime)
    return newest


def sweep(temp_root: Path | None = None, *, older_than: float = 3600.0, dry_run: bool = False) -> list[SweptDir]:
    """Remove the converter directories of processes that no longer run (see the module docstring).

    ``temp_root``: where to look (the temp directory converters use, ``tempfile.gettempdir()``);
    ``older_than`` (seconds): the grace period for a directory without an owner file, which may be
    a converter being set up right now.
    """
    root = Path(temp_root) if temp_root is not None else Path(tempfile.gettempdir())
    swept: list[SweptDir] = []
    try:
        candidates = sorted(p for p in root.iterdir() if p.name.startswith(PREFIXES))
    except OSError as exc:
        log.warning("cannot list the temp directory %s: %s", root, exc)
        return swept
    cutoff = time.time() - older_than
    for directory in candidates:
        try:
            st = directory.lstat()
            if not directory.is_dir() or directory.is_symlink() or st.st_uid != os.geteuid():
                continue
            owner = _owner_alive(directory)
            if owner:
                continue
            workers = _workers(directory)
            if owner is None and (workers or _newest_mtime(directory) >= cutoff):
                continue  # no owner named: in use, or maybe being set up
        except OSError:
            continue  # removed meanwhile
        reason = "owner_gone" if owner is False else "abandoned"
        if not dry_run:
            _kill(workers)
            deadline = time.monotonic() + 5.0
            while workers and time.monotonic() < deadline and any(_start_time(p) is not None for p in workers):
                time.sleep(0.05)  # let the killed processes go before their files are removed
            shutil.rmtree(directory, ignore_errors=True)
            log.info("removed converter directory %s (%s; killed %s)", directory, reason, workers or "none")
        swept.append(SweptDir(str(directory), reason, tuple(workers)))
    return swept
