"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, the embedded S3 server.

`backend_name` parametrises API tests over both databases. Each test gets an empty, migrated
database: a copy of a migrated SQLite file, or a truncated PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
import threading
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
from litestar import Litestar

from backend.app import create_litestar
from backend.embedded import EmbeddedServices, s3_start
from backend.lib.db import engine_bind, engine_close, engine_create, engine_open, migrations_apply
from backend.org.tables import Employee
from backend.settings import Settings, settings_load
from tests.support.services import postgres_server_url, redis_server_url

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("learnloop")


@pytest.fixture(scope="session")
def s3_settings(session_dir: Path) -> Iterator[dict[str, Any]]:
    """The embedded default's real S3 server (rclone serve s3), once per session."""
    endpoint, process = s3_start(
        session_dir / "media", session_dir, access_key="test", secret_key="test-secret-key"
    )
    services = EmbeddedServices(settings=settings_load(environ={}), processes=[process])
    with services:
        yield {
            "endpoint": endpoint,
            "access_key": "test",
            "secret_key": "test-secret-key",
            "bucket": "learnloop-test",
        }


@pytest.fixture(scope="session")
def redis_url(session_dir: Path) -> Iterator[str]:
    url, process = redis_server_url(session_dir / "redis")
    yield url
    if process is not None:
        process.terminate()
        process.wait()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh database on a real PostgreSQL server for this session, or None when none can be had."""
    server_url, throwaway = postgres_server_url()
    if server_url is None:
        print("\n*** NO POSTGRESQL: tests on PostgreSQL are SKIPPED (set LEARNLOOP_TEST_DATABASE_URL) ***\n")
        yield None
        return
    name = f"learnloop_test_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(server_url)

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield urlunsplit(parts._replace(path=f"/{name}"))
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if throwaway is not None:
        throwaway.stop()


@pytest.fixture(scope="session")
def sqlite_template(session_dir: Path) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating every time)."""
    settings = settings_load(environ={}, server={"data_dir": str(session_dir / "template")})

    async def build() -> None:
        engine = engine_create(settings)
        await engine_open(engine, settings)
        await migrations_apply(engine)
        await engine_close(engine)

    asyncio.run(build())
    return settings.sqlite_path


_pg_migrated: set[str] = set()


async def _pg_reset(url: str) -> None:
    """Empty every table but Piccolo's migration log (migrating first, once per session)."""
    settings = settings_load(environ={}, database={"url": url})
    engine = engine_create(settings)
    await engine_open(engine, settings)
    try:
        if url not in _pg_migrated:
            await migrations_apply(engine)
            _pg_migrated.add(url)
        connection = await asyncpg.connect(url)
        try:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migration'"
            )
            if tables:
                names = ", ".join(f'"{row["tablename"]}"' for row in tables)
                await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()
    finally:
        await engine_close(engine)


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sqlite_only() -> str:
    return "sqlite"


@pytest_asyncio.fixture(loop_scope="session")
async def settings(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_url: str | None,
    redis_url: str,
    s3_settings: dict[str, Any],
) -> Settings:
    """Settings for one test on an empty, migrated database (SQLite unless `backend_name` says postgres)."""
    backend = request.getfixturevalue("backend_name") if "backend_name" in request.fixturenames else "sqlite"
    database_url = ""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    if backend == "postgres":
        if postgres_url is None:
            pytest.skip("no PostgreSQL server available")
        await _pg_reset(postgres_url)
        database_url = postgres_url
    else:
        shutil.copy(sqlite_template, data_dir / sqlite_template.name)
    return settings_load(
        environ={},
        server={"data_dir": str(data_dir), "media_dir": str(tmp_path / "media")},
        database={"url": database_url},
        redis={"url": redis_url},
        storage=s3_settings,
        worker={"embedded": False},
    )


@pytest_asyncio.fixture(loop_scope="session")
async def db(settings: Settings) -> AsyncIterator[Any]:
    """The test's database engine, bound to every table."""
    engine = engine_create(settings)
    await engine_open(engine, settings)
    engine_bind(engine)
    yield engine
    await engine_close(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def demo(db: Any) -> None:
    """The demo organisation (示例集团, ~60 people, accounts hr/trainer/manager/zhang/wang)."""
    from backend.demo import demo_seed

    assert await demo_seed()


# The demo organisation seeds points too (rules, targets, awards, rewards): these tests start from
# the organisation alone, so their numbers are exact.
POINTS_TABLES = (
    "redemption",
    "reward",
    "ledger_entry",
    "point_year_total",
    "point_profile",
    "point_target",
    "point_rule",
    "point_settings",
    "outbox_event",
)


@pytest_asyncio.fixture(loop_scope="session")
async def points_clean(demo: None) -> None:
    engine = Employee._meta.db
    if engine.engine_type == "postgres":
        await engine.run_ddl(f"TRUNCATE {', '.join(POINTS_TABLES)} RESTART IDENTITY")
        return
    # SQLite: the ledger's append-only triggers refuse DELETE; set them aside for the clean-up.
    await engine.run_ddl("DROP TRIGGER IF EXISTS ledger_entry_no_delete")
    for table in POINTS_TABLES:
        await engine.run_ddl(f"DELETE FROM {table}")  # noqa: S608 - names above
    await engine.run_ddl(
        "CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry "
        "BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only: DELETE refused'); END"
    )


@pytest_asyncio.fixture(loop_scope="session")
async def notifications_clean(demo: None) -> None:
    """The demo organisation without its notifications (the demo fills people's centres), for tests
    that count what a change notifies."""
    from backend.notifications.tables import Delivery, Notification

    await Delivery.delete(force=True)
    await Notification.delete(force=True)


class AppClient(httpx.AsyncClient):
    """An HTTP client talking to the app in the test's own event loop (asyncpg pools are per loop)."""

    def __init__(self, app: Litestar) -> None:
        super().__init__(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local")
        self.app = app


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[AppClient]:
    """A fresh app with its lifespan (database, Redis, S3) and a client with its own cookie jar.

    Piccolo binds tables process-wide, so the app's start-up takes them over; on the way out the
    tables go back to whatever engine they had, not to this app's closed engine.
    """
    previous_engine = Employee._meta.db
    app = create_litestar(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold_lifespan() -> None:
        # anyio wants the lifespan entered and left in one task: fixtures tear down in another.
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold_lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        engine_bind(previous_engine)
        task.result()  # start-up failed: raise its error
    try:
        async with AppClient(app) as test_client:
            yield test_client
    finally:
        stop.set()
        await task
        engine_bind(previous_engine)


@pytest_asyncio.fixture(loop_scope="session")
async def client(settings: Settings, db: Any) -> AsyncIterator[AppClient]:
    async with app_client(settings) as test_client:
        engine_bind(db)
        yield test_client


async def login(client: httpx.AsyncClient, username: str, password: str = "learnloop-demo") -> None:  # noqa: S107
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_reactpy_errors() -> Iterator[None]:
    """Any exception ReactPy logs during a test fails that test (it would be a broken page)."""
    collector = _ErrorCollector()
    logger = logging.getLogger("reactpy")
    logger.addHandler(collector)
    yield
    logger.removeHandler(collector)
    if collector.records:
        pytest.fail("ReactPy logged an error: " + collector.records[0].getMessage()[:2000])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser journeys last: Playwright's sync API keeps an event loop running until the session ends."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


LINGERING_THREAD_GRACE_SECONDS = 15


def pytest_unconfigure(config: pytest.Config) -> None:
    """Fail loudly, instead of hanging CI, when a test leaves a non-daemon thread running.

    Python waits for every non-daemon thread before the process exits; an unclosed database
    connection or logging queue would keep a green run from ever finishing.
    """
    deadline = time.monotonic() + LINGERING_THREAD_GRACE_SECONDS
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    lingering = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()
    ]
    if not lingering:
        return
    frames = sys._current_frames()
    print("\nThreads left running after the tests (the process would never exit):", file=sys.stderr)
    for thread in lingering:
        print(f"--- {thread.name}", file=sys.stderr)
        frame = frames.get(thread.ident or 0)
        if frame is not None:
            print("".join(traceback.format_stack(frame)), file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(3)
