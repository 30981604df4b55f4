"""The `learnloop` command as an operator meets it: one-line refusals, clean start and stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from backend.embedded import free_port
from tests.support.services import tcp_open, wait_until

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")}
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env={**clean, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("learnloop: ") and expected in lines[-1], result.stderr
    assert "Traceback" not in result.stderr


def test_busy_port_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--data-dir", str(tmp_path / "var"))
    assert_one_line_refusal(result, f"port {port} on 127.0.0.1 is already in use")


def test_unreachable_database_is_refused_and_embedded_children_stop(tmp_path: Path) -> None:
    closed = free_port()
    result = run_cli(
        "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "var"), "--media-dir", str(tmp_path / "media"),
        env={"LEARNLOOP_DATABASE_URL": f"postgresql://postgres:secret@127.0.0.1:{closed}/learnloop"},
    )  # fmt: skip
    assert_one_line_refusal(
        result, f"cannot reach the database at postgresql://postgres:***@127.0.0.1:{closed}/learnloop"
    )
    assert "secret" not in result.stderr
    assert processes_mentioning(str(tmp_path)) == []


def test_unreachable_redis_is_refused(tmp_path: Path) -> None:
    closed = free_port()
    result = run_cli(
        "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "var"), "--media-dir", str(tmp_path / "media"),
        env={"LEARNLOOP_REDIS_URL": f"redis://127.0.0.1:{closed}/0"},
    )  # fmt: skip
    assert_one_line_refusal(result, f"cannot reach Redis at redis://127.0.0.1:{closed}/0")


def test_bad_setting_is_refused_in_one_line(tmp_path: Path) -> None:
    result = run_cli("serve", "--data-dir", str(tmp_path), env={"LEARNLOOP_SERVER_PORT": "eighty"})
    assert_one_line_refusal(result, "bad value for server.port (from LEARNLOOP_SERVER_PORT)")


def test_worker_without_redis_explains_itself() -> None:
    result = run_cli("worker")
    assert_one_line_refusal(result, "needs a Redis server")


def test_serve_prints_the_url_and_sigterm_stops_every_child(tmp_path: Path) -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port),
         "--data-dir", str(tmp_path / "var"), "--media-dir", str(tmp_path / "media")],
        cwd=ROOT, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert wait_until(lambda: tcp_open("127.0.0.1", port), timeout=60), "server did not start"
        children = [pid for pid in processes_mentioning(str(tmp_path)) if pid != process.pid]
        assert len(children) == 2  # redis-server and rclone
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"Learnloop is running at http://127.0.0.1:{port}/" in out
    assert "Learnloop stopped." in out
    assert wait_until(lambda: processes_mentioning(str(tmp_path)) == [], timeout=10)


def test_user_commands_and_migrate(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "var")]
    assert run_cli("migrate", *data).returncode == 0
    created = run_cli(
        "user", *data, "create", "--username", "admin", "--name", "管理员", "--employee-no", "A0001",
        "--role", "hr_admin", "--password-stdin", stdin="first-password\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "account admin created with roles hr_admin" in created.stdout
    again = run_cli(
        "user", *data, "create", "--username", "admin", "--password-stdin", stdin="first-password\n"
    )
    assert_one_line_refusal(again, "account admin already exists")
    short = run_cli("user", *data, "passwd", "admin", "--password-stdin", stdin="short\n")
    assert_one_line_refusal(short, "at least 8 characters")
    assert (
        run_cli("user", *data, "passwd", "admin", "--password-stdin", stdin="second-password\n").returncode
        == 0
    )
    assert run_cli("user", *data, "deactivate", "admin").returncode == 0
    assert_one_line_refusal(run_cli("user", *data, "deactivate", "nobody"), "no account named nobody")


def test_vapid_generate_keeps_keys_unless_forced(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "var")]
    first = run_cli("vapid", "generate", *data)
    assert first.returncode == 0
    key_file = tmp_path / "var" / "vapid_private.pem"
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    public = first.stdout.split("applicationServerKey: ")[1].strip()
    assert len(public) == 87  # 65-byte uncompressed P-256 point, base64url without padding
    assert public in run_cli("vapid", "generate", *data).stdout
    assert public not in run_cli("vapid", "generate", *data, "--force").stdout


@pytest.mark.parametrize("command", [["--help"], ["serve", "--help"], ["user", "create", "--help"]])
def test_help_texts(command: list[str]) -> None:
    assert run_cli(*command).returncode == 0
