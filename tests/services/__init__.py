"""Small stand-ins for the remote signing services, each run as a SEPARATE PROCESS.

``csc_server`` speaks the subset of the Cloud Signature Consortium API v1 that pyHanko's
``CSCSigner`` uses; ``bsre_server`` imitates BSrE's esign-client v1 (whole PDF in, signed PDF
out).  Both keep their keys inside their own process, as the real services do, so a test can
only pass if the key material really stays on the other side of an HTTP boundary.

This module holds what the services and their fixtures share: secret hashing (services store
only salted scrypt hashes of PINs and passphrases, never the values), the request log format
(path and size only: never bodies, so no secret can end up in it), and a process launcher.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "REQUEST_LOG_NAME",
    "ServiceProcess",
    "check_secret",
    "free_port",
    "hash_secret",
    "log_request",
    "read_request_log",
]

REQUEST_LOG_NAME = "requests.jsonl"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def hash_secret(secret: str) -> dict[str, str]:
    """A salted scrypt record of ``secret``: what a service stores instead of the PIN itself."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return {"salt": salt.hex(), "scrypt": digest.hex()}


def check_secret(secret: str, record: dict[str, str]) -> bool:
    """Constant-time comparison of ``secret`` with a :func:`hash_secret` record."""
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(record["salt"]), n=2**14, r=8, p=1, dklen=32)
    return hmac.compare_digest(digest, bytes.fromhex(record["scrypt"]))


def log_request(directory: Path, method: str, path: str, body_size: int, status: int) -> None:
    """Append one line per request: method, path, body size, status. Bodies are never written."""
    line = json.dumps({"method": method, "path": path, "body_size": body_size, "status": status})
    with (directory / REQUEST_LOG_NAME).open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def read_request_log(directory: Path) -> list[dict[str, Any]]:
    """The request log written by :func:`log_request`, oldest first (empty if none yet)."""
    path = directory / REQUEST_LOG_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def free_port() -> int:
    """A loopback port that was free a moment ago (the service binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """``python -m <module> --port P ...`` in its own process, stdout/stderr to ``<directory>/server.log``.

    ``start()`` waits until the port accepts connections, so a test never races the start-up;
    ``stop()`` terminates the process (and only it) and waits for it.
    """

    module: str
    directory: Path
    args: list[str]
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ServiceProcess:
        log = (self.directory / "server.log").open("ab")
        env = {**os.environ, "PYTHONPATH": str(_PROJECT_ROOT)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port), *self.args],
            cwd=_PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = (self.directory / "server.log").read_text(errors="replace")
                raise RuntimeError(f"{self.module} exited with {self._process.returncode}:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.module} did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None
