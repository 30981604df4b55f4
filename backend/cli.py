"""The `learnloop` command: serve, demo, worker, migrate, user, vapid.

Operator mistakes (bad config, busy port, unreachable service) print one line and exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from backend.settings import Settings, SettingsError, settings_load


class CommandError(Exception):
    """A problem worth one line to the operator."""


def _fail(message: str) -> NoReturn:
    print(f"learnloop: {message}", file=sys.stderr)
    raise SystemExit(1)


def _settings(args: argparse.Namespace) -> Settings:
    server: dict[str, Any] = {}
    for key in ("host", "port", "data_dir", "media_dir"):
        value = getattr(args, key, None)
        if value is not None:
            server[key] = value
    if getattr(args, "demo", False):
        server["demo"] = True
    overrides = {"server": server} if server else {}
    return settings_load(config_file=getattr(args, "config", None), **overrides)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _redacted(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


async def _prepare(settings: Settings, *, migrate: bool, seed_demo: bool) -> str:
    """Reach every configured service, apply migrations, load demo data. Returns a status line."""
    from backend.lib.db import database_ping, engine_close, engine_create, engine_open, migrations_apply
    from backend.lib.queue import queue_ping, queue_pool
    from backend.lib.storage import storage_client, storage_ensure_bucket

    where = _redacted(settings.database.url) if settings.database.url else str(settings.sqlite_path)
    try:
        engine = engine_create(settings)
        await engine_open(engine, settings)
        await database_ping(engine)
    except Exception as exc:
        raise CommandError(f"cannot reach the database at {where}: {_reason(exc)}") from None
    try:
        if migrate:
            await migrations_apply(engine)
        status = ""
        if seed_demo:
            from backend.demo import demo_seed

            status = "demo data loaded" if await demo_seed() else "existing data kept"
    finally:
        await engine_close(engine)
    try:
        pool = await queue_pool(settings.redis.url)
        await queue_ping(pool)
        await pool.aclose()
    except Exception as exc:
        raise CommandError(f"cannot reach Redis at {_redacted(settings.redis.url)}: {_reason(exc)}") from None
    try:
        await storage_ensure_bucket(storage_client(settings.storage), settings.storage.bucket)
    except Exception as exc:
        raise CommandError(
            f"cannot reach object storage at {settings.storage.endpoint}: {_reason(exc)}"
        ) from None
    return status


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _quiet_logs() -> None:
    """Warnings and errors only: Piccolo and arq announce every start at INFO."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("piccolo", "arq"):
        logging.getLogger(name).setLevel(logging.WARNING)


def uvicorn_config(app: Any, settings: Settings) -> Any:
    """How the app is served (the benchmarks serve it the same way)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        proxy_headers=settings.server.trust_proxy,
        # Behind the reverse proxy (trust_proxy) its X-Forwarded-* headers are believed.
        forwarded_allow_ips="*" if settings.server.trust_proxy else None,
        ws="websockets-sansio",
        # Per-message compression costs ~50 KiB of server memory per open page and the UI's
        # messages are small; nginx gzips everything else.
        ws_per_message_deflate=False,
    )


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from backend.app import create_app
    from backend.embedded import EmbeddedError, embedded_start

    _quiet_logs()
    settings = _settings(args)
    host, port = settings.server.host, settings.server.port
    if not _port_free(host, port):
        _fail(f"port {port} on {host} is already in use (choose another with --port)")
    try:
        embedded = embedded_start(settings)
    except EmbeddedError as exc:
        _fail(str(exc))
    with embedded:
        settings = embedded.settings
        try:
            status = asyncio.run(_prepare(settings, migrate=True, seed_demo=settings.server.demo))
        except CommandError as exc:
            _fail(str(exc))
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        print(f"Learnloop is running at http://{shown_host}:{port}/  (Ctrl-C to stop)", flush=True)
        if status:
            print(f"  {status}; demo accounts: hr, trainer, manager, zhang, wang (password learnloop-demo)")
        server = uvicorn.Server(uvicorn_config(create_app(settings), settings))
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it; with this handler in place the
        # re-raise is harmless and the embedded services below are stopped cleanly.
        signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
        if not server.started:
            _fail(f"the server could not start on {host}:{port}")
    print("Learnloop stopped.")


def cmd_demo(args: argparse.Namespace) -> None:
    args.demo = True
    cmd_serve(args)


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = _settings(args)
    try:
        asyncio.run(_migrate_only(settings))
    except CommandError as exc:
        _fail(str(exc))
    print("migrations applied")


async def _migrate_only(settings: Settings) -> None:
    from backend.lib.db import engine_close, engine_create, engine_open, migrations_apply

    engine = engine_create(settings)
    try:
        await engine_open(engine, settings)
        await migrations_apply(engine)
    except RuntimeError as exc:
        raise CommandError(str(exc).splitlines()[0]) from None
    except Exception as exc:
        raise CommandError(f"cannot migrate the database: {_reason(exc)}") from None
    finally:
        await engine_close(engine)


def cmd_worker(args: argparse.Namespace) -> None:
    from backend.worker import worker_create

    settings = _settings(args)
    if settings.uses_embedded_redis:
        _fail(
            "`learnloop worker` needs a Redis server: set LEARNLOOP_REDIS_URL (the embedded default runs its worker inside `serve`)"
        )

    async def run() -> None:
        worker = worker_create(settings, own_database=True)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    print(f"Learnloop worker on {_redacted(settings.redis.url)}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


async def _with_database(settings: Settings, action: Callable[[], Awaitable[Any]]) -> Any:
    from backend.lib.db import engine_bind, engine_close, engine_create, engine_open, migrations_apply

    engine = engine_create(settings)
    try:
        await engine_open(engine, settings)
        await migrations_apply(engine)
        engine_bind(engine)
        return await action()
    finally:
        await engine_close(engine)


def _read_password(args: argparse.Namespace) -> str:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat it: "):
        _fail("the two passwords differ")
    return first


def cmd_user(args: argparse.Namespace) -> None:
    from backend.accounts import admin

    settings = _settings(args)
    try:
        if args.user_command == "create":
            password = _read_password(args)
            message = asyncio.run(
                _with_database(
                    settings,
                    lambda: admin.account_create(
                        username=args.username,
                        password=password,
                        name=args.name or args.username,
                        employee_no=args.employee_no or args.username,
                        department=args.department,
                        roles=args.role or [],
                    ),
                )
            )
        elif args.user_command == "passwd":
            password = _read_password(args)
            message = asyncio.run(
                _with_database(
                    settings, lambda: admin.account_set_password(username=args.username, password=password)
                )
            )
        else:
            message = asyncio.run(
                _with_database(settings, lambda: admin.account_deactivate(username=args.username))
            )
    except admin.AccountAdminError as exc:
        _fail(str(exc))
    print(message)


def cmd_vapid(args: argparse.Namespace) -> None:
    from backend.notifications.vapid import vapid_generate

    settings = _settings(args)
    path, public_key = vapid_generate(Path(settings.data_path), force=args.force)
    print(f"VAPID private key: {path}")
    print(f"applicationServerKey: {public_key}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="learnloop", description="Learnloop training app")
    parser.add_argument(
        "--config", help="a TOML file with settings (default: config/default.toml + environment)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for phones on the LAN)"
        )
        sub.add_argument("--port", type=int, help="port (default 8000)")
        sub.add_argument(
            "--data-dir", dest="data_dir", help="where SQLite, Redis and keys live (default ./var)"
        )
        sub.add_argument(
            "--media-dir", dest="media_dir", help="embedded object store folder (default ./media)"
        )

    serve = commands.add_parser("serve", help="run the app (embedded services unless configured)")
    server_options(serve)
    serve.add_argument("--demo", action="store_true", help="load demo data into an empty database")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo", help="serve --demo")
    server_options(demo)
    demo.set_defaults(func=cmd_demo)

    worker = commands.add_parser("worker", help="run an arq worker (production)")
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--data-dir", dest="data_dir")
    migrate.set_defaults(func=cmd_migrate)

    user = commands.add_parser("user", help="manage sign-in accounts")
    user.add_argument("--data-dir", dest="data_dir")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = user_commands.add_parser("create", help="create an employee with an account")
    create.add_argument("--username", required=True)
    create.add_argument("--name")
    create.add_argument("--employee-no", dest="employee_no")
    create.add_argument("--department", help="department name (created under the root when missing)")
    create.add_argument("--role", action="append", choices=["trainer", "manager", "hr_admin", "auditor"])
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd = user_commands.add_parser("passwd", help="set an account's password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    deactivate = user_commands.add_parser("deactivate", help="deactivate an account and end its sessions")
    deactivate.add_argument("username")
    user.set_defaults(func=cmd_user)

    vapid = commands.add_parser("vapid", help="Web Push keys")
    vapid_commands = vapid.add_subparsers(dest="vapid_command", required=True)
    generate = vapid_commands.add_parser("generate", help="generate VAPID keys into the data dir")
    generate.add_argument("--data-dir", dest="data_dir")
    generate.add_argument("--force", action="store_true", help="replace existing keys")
    vapid.set_defaults(func=cmd_vapid)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SettingsError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    main()
