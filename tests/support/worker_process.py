"""`learnloop worker` in a process of its own, configured like the test's settings, for tests that kill
a worker mid-run (SIGKILL: no clean-up of any kind, as when a machine dies)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment that gives `learnloop worker` the test's database, Redis, storage and push
    settings (LEARNLOOP_<SECTION>_<KEY>, as an operator sets them)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LEARNLOOP_")}
    chosen = {
        "server": ("data_dir", "media_dir"),
        "database": ("url",),
        "redis": ("url",),
        "storage": ("endpoint", "access_key", "secret_key", "bucket"),
        "push": ("allow_loopback_http",),
        "worker": ("poll_delay",),
    }
    for section, keys in chosen.items():
        values = getattr(settings, section)
        for key in keys:
            value = getattr(values, key)
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            environment[f"LEARNLOOP_{section.upper()}_{key.upper()}"] = text
    return environment


def worker_process_start(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "worker"],
            cwd=ROOT,
            env=worker_environment(settings),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
