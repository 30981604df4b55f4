"""Shared pieces: results, a temp data dir with the embedded services, a served app in a subprocess.

Everything listens on 127.0.0.1 only, and every process started here is stopped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec

from backend.settings import Settings, settings_load

ROOT = Path(__file__).resolve().parent.parent
DEMO_USER = "zhang"
DEMO_PASSWORD = "learnloop-demo"
SESSION_COOKIE = "learnloop_session"
SERVER_START_TIMEOUT_SECONDS = 40
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
_PR_SET_PDEATHSIG = 1


@dataclass
class Result:
    """One row of the summary: a measured figure, and the target it is held against (if any)."""

    bench: str
    metric: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None

    def shown(self) -> str:
        if abs(self.value) >= 100:
            number = f"{self.value:,.0f}"
        elif abs(self.value) >= 10:
            number = f"{self.value:,.1f}"
        else:
            number = f"{self.value:,.2f}"
        return f"{number} {self.unit}".strip()


def say(text: str = "") -> None:
    print(text, flush=True)


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    cores = os.cpu_count() or 0
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    return f"{cores} cores{memory}, Python {sys.version.split()[0]}"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# --- data dir, embedded services, database ---------------------------------------------------


def bench_settings(base: Path, *, database_url: str = "", port: int = 8000) -> Settings:
    """Settings of a private instance under `base` (SQLite there unless a database URL is given)."""
    return settings_load(
        environ={},
        server={"data_dir": str(base / "var"), "media_dir": str(base / "media"), "port": port},
        database={"url": database_url},
    )


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"learnloop-bench-{prefix}-") as path:
        yield Path(path)


@contextlib.contextmanager
def embedded(settings: Settings) -> Iterator[Settings]:
    """Start the embedded Redis and S3 server for `settings`; yields settings pointing at them."""
    from backend.embedded import embedded_start

    services = embedded_start(settings)
    with services:
        yield services.settings


def prepare(settings: Settings) -> None:
    """Migrate and load the demo organisation, as `learnloop demo` does before serving."""
    from backend.cli import _prepare

    asyncio.run(_prepare(settings, migrate=True, seed_demo=True))


def postgres_available() -> bool:
    import asyncpg

    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=3)
        except Exception:
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    import asyncpg

    name = f"learnloop_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- the served app ---------------------------------------------------------------------------


class Server:
    """The app under uvicorn (one process, uvloop, httptools) in a subprocess on a loopback port."""

    def __init__(self, settings: Settings, *, base: Path, bare_route: bool) -> None:
        from backend.embedded import free_port

        self.port = free_port()
        self.base = base
        self.settings = msgspec.structs.replace(
            settings, server=msgspec.structs.replace(settings.server, host="127.0.0.1", port=self.port)
        )
        self.bare_route = bare_route
        self.log = base / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Server:
        settings_file = self.base / f"settings-{self.port}.json"
        settings_file.write_bytes(msgspec.json.encode(self.settings))
        args = [sys.executable, "-m", "benchmarks._server", str(settings_file)]
        if self.bare_route:
            args.append("--bare-route")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start-up:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"the server was not healthy within {SERVER_START_TIMEOUT_SECONDS} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def sign_in(base_url: str, username: str = DEMO_USER, password: str = DEMO_PASSWORD) -> str:
    """Sign in through the JSON API; returns the session cookie's value."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30
    )
    if response.status_code != 200:
        raise RuntimeError(f"sign-in as {username} failed: {response.status_code} {response.text[:200]}")
    token = response.cookies.get(SESSION_COOKIE)
    if not token:
        raise RuntimeError("sign-in returned no session cookie")
    return str(token)


def ratio_line(label: str, value: float, target: float) -> str:
    verdict = "meets" if value >= target else "MISSES"
    return f"{label}: {value:.2f}x (target >= {target:g}x: {verdict})"
