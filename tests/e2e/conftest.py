"""End-to-end fixtures: the real `learnloop serve --demo` (embedded SQLite, Redis, S3) and Debian's Chromium.

Chromium runs headless with a phone viewport in a persistent profile (an incognito context is
never installable). Never `playwright install`: `make test` installs Debian's chromium.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.embedded import free_port
from tests.support.services import tcp_open, wait_until

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`learnloop serve --demo` in a subprocess on a free port, stopped (SIGTERM) at the end."""
    workdir = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")}
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "backend.cli", "serve", "--demo",
            "--port", str(port),
            "--data-dir", str(workdir / "var"),
            "--media-dir", str(workdir / "media"),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        if not wait_until(lambda: tcp_open("127.0.0.1", port) or process.poll() is not None, timeout=60):
            pytest.fail("the server did not start within 60 s")
        if process.poll() is not None:
            pytest.fail("the server exited: " + (workdir / "server.log").read_text()[-2000:])
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    if chromium_path() is None:
        pytest.fail("Debian chromium is missing: run `make chromium` (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def phone(playwright_instance: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized persistent Chromium context; `@pytest.mark.parametrize('phone', ['en-US'], indirect=True)` sets the locale."""
    locale = getattr(request, "param", "zh-CN")
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_FLAGS,
        locale=locale,
        **PHONE,
    )
    try:
        yield context
    finally:
        context.close()
