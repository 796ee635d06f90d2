"""README's "Using it" works when pasted: its bash block is run here exactly as it stands.

In a fresh folder (a new SQLite database and object store under ``./var``, the project's ``.venv``
linked in), with no ``NASKAH_*`` setting but a free port for the API: every command must succeed
(``set -euo pipefail``; curl fails on any HTTP error) and ``naskah verify`` must find every
signature ok.  When the code changes under the README, this test fails until the README follows.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def using_it_blocks(readme: str) -> list[str]:
    """The fenced ``bash`` blocks of the "Using it" section (the ``sh`` lists after them are reference)."""
    section = readme.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```bash\n(.*?)^```$", section, flags=re.S | re.M)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_group(pgid: int, leader: subprocess.Popen | None = None) -> None:
    """SIGTERM, and time for a graceful stop (the API stops its LibreOffice, which runs in a session of
    its own), then SIGKILL for whatever is left.  ``leader``: the group's first process when it is our
    child, reaped here as soon as it ends (until then its zombie is still a member of the group, and
    the wait would last the whole grace)."""
    for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if leader is not None:
                leader.poll()
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@pytest.mark.slow
def test_the_using_it_flow_of_the_readme_runs_as_written(tmp_path):
    blocks = using_it_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "README.md has no ```bash block under '## Using it'"
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    script = tmp_path / "using-it.sh"
    script.write_text("set -euo pipefail\n" + "\n".join(blocks), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NASKAH_")}
    env.update(NASKAH_PORT=str(free_port()), HOME=str(tmp_path))
    log = tmp_path / "out.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(script)], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            code = None
        finally:  # the block leaves the API and the PKI services running in the background
            stop_group(proc.pid, proc)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert code == 0, f"the README block failed (exit {code}):\n{output[-6000:]}"
    assert re.search(r"kb-ditandatangani\.pdf: 2 tanda tangan — ok", output), output[-3000:]
    assert "legal_review" in output and '["sudah","sudah"]' in output, output[-3000:]
    assert (tmp_path / "var" / "naskah.db").exists() and (tmp_path / "kb-ditandatangani.pdf").exists()
