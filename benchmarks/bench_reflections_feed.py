"""GET /api/v1/reflections (the organisation feed, 20 per page) on PostgreSQL with 100,000 reflections.

Needs a PostgreSQL server on 127.0.0.1:5432 (skipped otherwise). In a throwaway database: migrations
and the demo organisation (`learnloop demo`'s data), then SEED_EMPLOYEES more people and REFLECTIONS
published reflections (submitted or graded, visibility department or organisation, a few hundred
Chinese characters each) with their trainings, assignments and participants, LIKES likes and COMMENTS
comments, written with COPY through asyncpg; like_count and comment_count match the rows.

Then, side by side in one run:

- SQL statements per request: the app in this process (its JSON API, signed in as zhang) on an engine
  whose every statement is recorded (asyncpg's query logger on each pooled connection): pages with
  20 rows, the last page (fewer rows), a page past the end, a deep page. The count must not grow with
  the rows. Under load, for the served process, PostgreSQL's own counter of the database's
  transactions is read too (each statement, asyncpg pool reset or statement preparation outside a
  transaction counts one).
- Throughput: the app as `learnloop demo` serves it (benchmarks._server, uvicorn, with the bare route
  `GET /bench/bare`); CONNECTIONS keep-alive connections alternate rounds of the feed (pages 1-50 in
  turn), the feed at DEEP_PAGE and the bare route. Ratio feed ÷ bare.
- Latency: one request at a time on one keep-alive connection (p50/p95), per kind of page.
- What each statement of a page costs alone (run as recorded, median wall time) and its plan.

`python -m benchmarks.bench_reflections_feed --sql FILE` runs FILE's statements (one per line, e.g. a
proposed CREATE INDEX) on the seeded database before measuring, then VACUUM ANALYZE: to try a change
in the throwaway database only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httptools
import httpx
import msgspec
import uvloop

from backend.settings import Settings
from benchmarks._common import (
    DEMO_PASSWORD,
    DEMO_USER,
    PG_SERVER,
    SESSION_COOKIE,
    Result,
    Server,
    bench_settings,
    embedded,
    postgres_available,
    postgres_database,
    prepare,
    say,
    sign_in,
    temp_dir,
)
from benchmarks._load import Load, Round, get_request
from benchmarks._server import BARE_PATH

NAME = "reflections_feed"
FEED_PATH = "/api/v1/reflections"
SCOPE = "organisation"
PAGE_SIZE = 20  # backend.reflections.selectors.PAGE_SIZE
SEED_EMPLOYEES = 2_000
TRAININGS = 500
PARTICIPANTS_PER_TRAINING = 200  # every participant has submitted: 500 x 200 = 100,000 reflections
REFLECTIONS = TRAININGS * PARTICIPANTS_PER_TRAINING
LIKES = 300_000
COMMENTS = 100_000
ORGANISATION_SHARE = 0.6  # of the assignments; the others are visible to the author's department
GRADED_SHARE = 0.3
FIRST_PAGES = tuple(range(1, 51))
DEEP_PAGE = 2_500  # rows 49,981-50,000 of the newest first
# Not api_me's 32: a feed request holds 50-400 ms of PostgreSQL time, and with 32 in flight a round
# drains for longer than uvicorn's 5 s keep-alive timeout. 8 keep both cores busy.
CONNECTIONS = 8
WARMUP_SECONDS = 1.0
ROUND_SECONDS = 1.0
ROUNDS = 6  # per kind of request
LATENCY_REQUESTS = 150  # per kind of page, one at a time
DEEP_LATENCY_REQUESTS = 40
STATS_FLUSH_SECONDS = 11.5  # PostgreSQL 15 backends report their counters within 10 s of going idle
STATEMENT_REPEATS = 9
TARGET_STATEMENTS = 3  # rows, total, my likes among them: the same for 1 row or 20
T = TypeVar("T")


# --- counting statements ----------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sql: str
    args: tuple[Any, ...] = ()

    @property
    def pool_reset(self) -> bool:
        """asyncpg's pool resets each connection it takes back (one extra round trip per checkout)."""
        return self.sql.lstrip().startswith("SELECT pg_advisory_unlock_all()")


@dataclass
class Recorder:
    """Every statement an engine sent, in order (appended from the engine's callbacks)."""

    statements: list[Statement] = field(default_factory=list)

    async def of(self, call: Awaitable[T]) -> tuple[T, list[Statement]]:
        """Run `call`; return its result and the statements it sent."""
        start = len(self.statements)
        result = await call
        # asyncpg hands query-log records to the event loop with call_soon: let them land.
        for _ in range(3):
            await asyncio.sleep(0)
        return result, self.statements[start:]


def queries(statements: Iterable[Statement]) -> list[Statement]:
    """The statements a selector sent, without asyncpg's pool resets."""
    return [statement for statement in statements if not statement.pool_reset]


@contextlib.asynccontextmanager
async def statements_recorded(settings: Settings) -> AsyncIterator[Recorder]:
    """A fresh engine on `settings`' database that records every statement, bound to every table.

    PostgreSQL: asyncpg's query logger on each connection of the engine's own pool (what goes over
    the wire, pool resets included). SQLite: sqlite3's trace callback on the persistent engine's
    shared connection (each statement SQLite runs outside a transaction). Nothing is patched: the
    tables are bound to this engine for the block (as the app's start-up binds them to its own), and
    on the way out they go back to the engine they had and this one is closed.
    """
    from piccolo.engine.postgres import PostgresEngine

    from backend.lib.db import PersistentSQLiteEngine, engine_bind, engine_close, engine_create, engine_open
    from backend.org.tables import Employee

    recorder = Recorder()
    previous = Employee._meta.db
    engine = engine_create(settings)
    try:
        if isinstance(engine, PostgresEngine):

            def logged(record: Any) -> None:
                recorder.statements.append(Statement(record.query, tuple(record.args or ())))

            async def init(connection: asyncpg.Connection) -> None:
                connection.add_query_logger(logged)

            await engine.start_connection_pool(min_size=1, max_size=settings.database.pool_max, init=init)
        elif isinstance(engine, PersistentSQLiteEngine):
            await engine_open(engine, settings)
            connection = await engine._shared_connection()
            await connection.set_trace_callback(lambda sql: recorder.statements.append(Statement(sql)))
        else:  # pragma: no cover - engine_create makes one of the two
            raise TypeError(f"cannot record statements of {type(engine).__name__}")
        engine_bind(engine)
        yield recorder
    finally:
        engine_bind(previous)
        await engine_close(engine)


# --- seeding ----------------------------------------------------------------------------------

TOPICS = (
    "大客户关系维护",
    "代码评审实践",
    "安全生产规范",
    "新员工入职",
    "客户投诉处理",
    "精益生产",
    "财务合规",
    "高效沟通",
    "团队管理基础",
    "产品知识更新",
)
PROMPTS = (
    "写下这次培训中最有用的三点，以及下周准备怎么做。",
    "结合你手头的一项工作，说说培训内容怎样用上。",
    "培训中哪一个案例让你印象最深？为什么？",
)
FEEDBACK = ("思路清楚，行动具体。", "很好，可以再补充一个例子。", "结合实际，值得大家参考。")
SEEDED_TABLES = (
    "employee",
    "training",
    "assignment",
    "training_participant",
    "submission",
    "reflection_like",
    "reflection_comment",
)
COMMENT_TEXTS = (
    "写得很实在，我也要试试。",
    "复盘清单能分享一下吗？",
    "这一点很受启发！",
    "同感，我们组也遇到过。",
    "下次培训一起交流。",
)


def _sentences() -> list[str]:
    from backend.reflections.demo import RND_TEXTS, SALES_TEXTS

    found = []
    for text in SALES_TEXTS + RND_TEXTS:
        found += [part + "。" for part in text.split("。") if part.strip()]
    return found


def _body(rng: random.Random, sentences: list[str]) -> str:
    """A few hundred Chinese characters (200-500) made of the demo texts' sentences."""
    wanted = rng.randint(200, 500)
    parts: list[str] = []
    length = 0
    while length < wanted:
        part = rng.choice(sentences)
        parts.append(part)
        length += len(part)
    return "".join(parts)[:wanted]


@dataclass
class Seeded:
    seconds: float
    employees: int
    reflections: int
    likes: int
    comments: int
    mismatched_counts: int


async def seed(url: str, *, rng_seed: int = 20261122) -> Seeded:
    """Add SEED_EMPLOYEES people and REFLECTIONS published reflections with likes and comments (COPY)."""
    rng = random.Random(rng_seed)
    sentences = _sentences()
    started = time.perf_counter()
    connection = await asyncpg.connect(url)
    try:
        departments = [
            row["id"] for row in await connection.fetch("SELECT id FROM department WHERE parent IS NOT NULL")
        ]
        positions = [row["id"] for row in await connection.fetch("SELECT id FROM position")]
        levels = [row["id"] for row in await connection.fetch("SELECT id FROM job_level")]
        hr = await connection.fetchval(
            "SELECT employee FROM account WHERE username = 'hr'"
        )  # trainings' creator and grader
        now = dt.datetime.now(dt.UTC)
        first_employee = int(await connection.fetchval("SELECT max(id) FROM employee")) + 1
        employees = [
            (
                first_employee + index,
                f"B{index:05d}",
                rng.choice("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高")
                + rng.choice("伟芳娜敏静磊洋艳勇军杰娟涛明超华平刚"),
                rng.choice(departments),
                rng.choice(positions),
                rng.choice(levels),
                dt.date(rng.randint(2008, 2025), rng.randint(1, 12), rng.randint(1, 28)),
                "active",
                "",
                now,
            )
            for index in range(SEED_EMPLOYEES)
        ]
        await connection.copy_records_to_table(
            "employee",
            records=employees,
            columns=[
                "id",
                "employee_no",
                "name",
                "department",
                "position",
                "level",
                "hire_date",
                "status",
                "locale",
                "created_at",
            ],
        )
        people = [
            (row["id"], row["department"])
            for row in await connection.fetch("SELECT id, department FROM employee WHERE status = 'active'")
        ]

        first_training = int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM training")) + 1
        first_assignment = int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM assignment")) + 1
        first_submission = int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM submission")) + 1
        trainings: list[tuple[Any, ...]] = []
        assignments: list[tuple[Any, ...]] = []
        participants: list[tuple[int, int]] = []
        submissions: list[list[Any]] = []
        submission_times: list[dt.datetime] = []
        span = dt.timedelta(days=730)
        for index in range(TRAININGS):
            training_id, assignment_id = first_training + index, first_assignment + index
            starts = now - span + span * index / TRAININGS
            trainings.append(
                (
                    training_id,
                    f"{TOPICS[index % len(TOPICS)]}（第{index // len(TOPICS) + 1}期）",
                    rng.choice(("course", "workshop", "programme")),
                    starts.date(),
                    (starts + dt.timedelta(days=1)).date(),
                    "",
                    hr,
                    starts,
                )
            )
            due = starts + dt.timedelta(days=7)
            visibility = "organisation" if rng.random() < ORGANISATION_SHARE else "department"
            assignments.append(
                (assignment_id, training_id, rng.choice(PROMPTS), due, 100, 3, visibility, starts)
            )
            for employee_id, department_id in rng.sample(people, PARTICIPANTS_PER_TRAINING):
                participants.append((training_id, employee_id))
                submitted = min(starts + dt.timedelta(seconds=rng.randint(3600, 10 * 86400)), now)
                graded = rng.random() < GRADED_SHARE
                grade = rng.choice(("excellent", "good", "good", "pass")) if graded else None
                submissions.append(
                    [
                        first_submission + len(submissions),
                        assignment_id,
                        employee_id,
                        department_id,
                        "graded" if graded else "submitted",
                        _body(rng, sentences),
                        "[]",
                        1,
                        submitted,
                        submitted > due,
                        grade,
                        rng.choice(FEEDBACK) if graded else "",
                        hr if graded else None,
                        submitted + dt.timedelta(days=2) if graded else None,
                        grade == "excellent" and rng.random() < 0.1,
                        0,  # like_count, counted below
                        0,  # comment_count, counted below
                        submitted,
                    ]
                )
                submission_times.append(submitted)

        # Likes: a skewed number per reflection (a few popular ones), distinct people each.
        weights = [min(rng.paretovariate(1.5), 100.0) for _ in submissions]
        chosen = rng.choices(range(len(submissions)), weights=weights, k=LIKES)
        per_submission: dict[int, int] = {}
        for index in chosen:
            per_submission[index] = per_submission.get(index, 0) + 1
        likes = []
        employee_ids = [employee_id for employee_id, _ in people]
        for index, count in per_submission.items():
            count = min(count, len(employee_ids))
            submissions[index][15] = count
            at = submission_times[index]
            for employee_id in rng.sample(employee_ids, count):
                likes.append((submissions[index][0], employee_id, at + dt.timedelta(hours=1)))
        comments = []
        for index in rng.choices(range(len(submissions)), weights=weights, k=COMMENTS):
            submissions[index][16] += 1
            comments.append(
                (
                    submissions[index][0],
                    rng.choice(employee_ids),
                    rng.choice(COMMENT_TEXTS),
                    submission_times[index] + dt.timedelta(hours=2),
                )
            )

        await connection.copy_records_to_table(
            "training",
            records=trainings,
            columns=[
                "id",
                "title",
                "kind",
                "starts_on",
                "ends_on",
                "description",
                "created_by",
                "created_at",
            ],
        )
        await connection.copy_records_to_table(
            "assignment",
            records=assignments,
            columns=[
                "id",
                "training",
                "prompt",
                "due_at",
                "min_length",
                "max_photos",
                "visibility",
                "created_at",
            ],
        )
        await connection.copy_records_to_table(
            "training_participant", records=participants, columns=["training", "employee"]
        )
        await connection.copy_records_to_table(
            "submission",
            records=[tuple(row) for row in submissions],
            columns=[
                "id",
                "assignment",
                "employee",
                "department",
                "state",
                "body",
                "photo_ids",
                "version",
                "submitted_at",
                "late",
                "grade",
                "feedback",
                "graded_by",
                "graded_at",
                "featured",
                "like_count",
                "comment_count",
                "updated_at",
            ],
        )
        await connection.copy_records_to_table(
            "reflection_like", records=likes, columns=["submission", "employee", "created_at"]
        )
        await connection.copy_records_to_table(
            "reflection_comment", records=comments, columns=["submission", "author", "body", "created_at"]
        )
        for table in ("employee", "training", "assignment", "submission"):  # ids given explicitly
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608 - fixed names
            )
        # As autovacuum would soon: statistics for the planner, the visibility map for index-only scans.
        for table in SEEDED_TABLES:
            await connection.execute(f"VACUUM ANALYZE {table}")
        seconds = time.perf_counter() - started
        mismatched = await connection.fetchval(
            """
            SELECT count(*) FROM submission s
            WHERE s.like_count <> (SELECT count(*) FROM reflection_like l WHERE l.submission = s.id)
               OR s.comment_count <> (SELECT count(*) FROM reflection_comment c WHERE c.submission = s.id)
            """
        )
        totals = await connection.fetchrow(
            """
            SELECT (SELECT count(*) FROM employee) AS employees,
                   (SELECT count(*) FROM submission WHERE state IN ('submitted', 'graded')) AS reflections,
                   (SELECT count(*) FROM reflection_like) AS likes,
                   (SELECT count(*) FROM reflection_comment) AS comments
            """
        )
    finally:
        await connection.close()
    return Seeded(
        seconds=seconds,
        employees=totals["employees"],
        reflections=totals["reflections"],
        likes=totals["likes"],
        comments=totals["comments"],
        mismatched_counts=int(mismatched),
    )


# --- statements per request (in process) ------------------------------------------------------


@dataclass
class PageCount:
    page: int
    rows: int
    total: int
    queries: int
    resets: int
    other: int  # statements not of the feed (the session, when its 5 s cache ran out)


def feed_statements(statements: Iterable[Statement]) -> list[Statement]:
    """The statements of the feed itself: not pool resets, not the session (when its cache ran out)."""
    return [s for s in queries(statements) if '"submission"' in s.sql or '"reflection_like"' in s.sql]


async def _count_statements(settings: Settings, pages: list[int]) -> tuple[list[PageCount], list[Statement]]:
    """Each page through the app's JSON API in this process, every statement recorded."""
    from backend.app import create_litestar

    settings = msgspec.structs.replace(
        settings, worker=msgspec.structs.replace(settings.worker, embedded=False)
    )
    app = create_litestar(settings)
    counts: list[PageCount] = []
    first_page: list[Statement] = []
    async with (
        app.lifespan(),
        statements_recorded(settings) as recorder,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://127.0.0.1",
            timeout=60,
        ) as client,
    ):
        response = await client.post(
            "/api/v1/auth/login", json={"username": DEMO_USER, "password": DEMO_PASSWORD}
        )
        response.raise_for_status()
        await client.get(FEED_PATH, params={"scope": SCOPE, "page": 1})  # resolves the session
        for page in pages:
            response, statements = await recorder.of(
                client.get(FEED_PATH, params={"scope": SCOPE, "page": page})
            )
            response.raise_for_status()
            body = response.json()
            feed = feed_statements(statements)
            counts.append(
                PageCount(
                    page=page,
                    rows=len(body["items"]),
                    total=body["total"],
                    queries=len(feed),
                    resets=sum(s.pool_reset for s in statements),
                    other=len(queries(statements)) - len(feed),
                )
            )
            if page == 1:
                first_page = feed
    return counts, first_page


# --- what PostgreSQL spends on each statement -------------------------------------------------


def _label(statement: Statement) -> str:
    sql = statement.sql.lstrip()
    if "COUNT(*)" in sql.split("FROM", 1)[0]:
        return "total (count)"
    if '"reflection_like"' in sql.split("FROM", 1)[1][:40]:
        return "my likes"
    return "rows"


async def statement_times(url: str, statements: list[Statement]) -> list[tuple[str, float, str]]:
    """Median wall time (ms) of running each statement as the app does, and the plan's main nodes."""
    connection = await asyncpg.connect(url)
    found = []
    try:
        for statement in statements:
            times = []
            for _ in range(STATEMENT_REPEATS):
                started = time.perf_counter()
                await connection.fetch(statement.sql, *statement.args)
                times.append((time.perf_counter() - started) * 1000)
            plan = await connection.fetchval(
                f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {statement.sql}", *statement.args
            )
            outline = _plan_outline(json.loads(plan)[0]["Plan"])
            found.append((_label(statement), statistics.median(times), outline))
    finally:
        await connection.close()
    return found


def _plan_outline(node: dict[str, Any], depth: int = 0, limit: int = 4) -> str:
    """The first few plan nodes, outermost first: 'Limit > Sort > Hash Join > Seq Scan on submission'."""
    name = node["Node Type"]
    if "Relation Name" in node:
        name += f" on {node['Relation Name']}"
    if "Index Name" in node:
        name += f" using {node['Index Name']}"
    children = node.get("Plans") or []
    if depth + 1 >= limit or not children:
        return name
    # Follow the most expensive child: that is where the time goes.
    child = max(children, key=lambda plan: float(plan.get("Total Cost", 0)))
    return f"{name} > {_plan_outline(child, depth + 1, limit)}"


def _with_page(statement: Statement, page: int) -> Statement:
    """The rows statement of another page: its OFFSET is spelled into the SQL by Piccolo."""
    import re

    sql = re.sub(r"OFFSET \d+", f"OFFSET {(page - 1) * PAGE_SIZE}", statement.sql)
    return Statement(sql, statement.args)


# --- throughput and latency (served process) ---------------------------------------------------

_SEPARATOR = b"\0"  # never part of an HTTP request head


class RotatingLoad(Load):
    """A Load whose connections send the given requests in turn: `run(b"\\0".join(requests), s)`."""

    def __init__(self, port: int, connections: int, server_pid: int | None = None) -> None:
        self._requests: list[bytes] = [b""]
        self._next = 0
        super().__init__(port, connections, server_pid=server_pid)

    @property
    def request(self) -> bytes:
        self._next = (self._next + 1) % len(self._requests)
        return self._requests[self._next]

    @request.setter
    def request(self, value: bytes) -> None:
        self._requests = value.split(_SEPARATOR)
        self._next = 0


class _OneAtATime(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.done: asyncio.Future[int] | None = None

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(exc or ConnectionError("the server closed the connection"))


async def latencies(port: int, requests: list[bytes]) -> list[float]:
    """Seconds per request, one request at a time on one keep-alive connection."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(_OneAtATime, "127.0.0.1", port)
    seconds = []
    try:
        for request in requests:
            protocol.done = loop.create_future()
            started = time.perf_counter()
            transport.write(request)
            status = await asyncio.wait_for(protocol.done, 30)
            seconds.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"answered {status}")
    finally:
        transport.close()
    return seconds


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _transactions(url: str) -> int:
    """Committed + rolled-back transactions PostgreSQL has counted for the database so far."""
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")  # not in the measured database
    try:
        return int(
            await connection.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", name
            )
        )
    finally:
        await connection.close()


@dataclass
class Served:
    rounds: dict[str, Round]
    latency: dict[str, list[float]]
    transactions: int  # of the database, during the throughput rounds (and 11.5 s after)
    background: int  # of the database, in as long a time without requests


async def _serve_measure(server: Server, token: str, url: str) -> Served:
    port = server.port
    headers = {"Cookie": f"{SESSION_COOKIE}={token}", "Accept-Language": "zh-CN,zh;q=0.9"}

    def feed(page: int) -> bytes:
        return get_request(f"{FEED_PATH}?scope={SCOPE}&page={page}", port, headers)

    requests = {
        "feed": _SEPARATOR.join(feed(page) for page in FIRST_PAGES),
        "deep": feed(DEEP_PAGE),
        "bare": get_request(BARE_PATH, port, headers),
    }
    latency: dict[str, list[float]] = {}
    pages = [feed(FIRST_PAGES[index % len(FIRST_PAGES)]) for index in range(LATENCY_REQUESTS)]
    latency["feed"] = await latencies(port, pages)
    latency["deep"] = await latencies(port, [requests["deep"]] * DEEP_LATENCY_REQUESTS)
    latency["bare"] = await latencies(port, [requests["bare"]] * LATENCY_REQUESTS)
    totals = {name: Round() for name in requests}
    async with RotatingLoad(port, CONNECTIONS, server_pid=server.pid) as load:
        for name in requests:  # warm-up, not counted
            await load.run(requests[name], WARMUP_SECONDS)
    # PostgreSQL's counters are complete once every backend has been idle for 10 s (fresh
    # connections for the measured rounds: uvicorn closes keep-alive connections idle for 5 s).
    await asyncio.sleep(STATS_FLUSH_SECONDS)
    before = await _transactions(url)
    started = time.perf_counter()
    async with RotatingLoad(port, CONNECTIONS, server_pid=server.pid) as load:
        for index in range(ROUNDS):
            order = list(requests) if index % 2 == 0 else list(reversed(requests))
            for name in order:
                totals[name].add(await load.run(requests[name], ROUND_SECONDS))
    await asyncio.sleep(STATS_FLUSH_SECONDS)
    after = await _transactions(url)
    window = time.perf_counter() - started
    # The same length of time with no requests: what the database counts anyway (not per request).
    await asyncio.sleep(window)
    background = await _transactions(url) - after
    return Served(totals, latency, after - before, background)


# --- the run ----------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


async def _try_sql(url: str, statements: list[str]) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            started = time.perf_counter()
            await connection.execute(statement)
            say(f"  [--sql] {statement} ({time.perf_counter() - started:.1f} s)")
        for table in SEEDED_TABLES:
            await connection.execute(f"VACUUM ANALYZE {table}")
    finally:
        await connection.close()


def _run(base: Path, settings: Settings, url: str, extra_sql: list[str]) -> list[Result]:
    say("  migrating and loading the demo organisation ...")
    prepare(settings)
    seeded = asyncio.run(seed(url))
    say(
        f"  seeded in {seeded.seconds:.1f} s (COPY through asyncpg, ANALYZE included): "
        f"{seeded.employees:,} employees, {seeded.reflections:,} published reflections, "
        f"{seeded.likes:,} likes, {seeded.comments:,} comments; reflections whose like/comment "
        f"count differs from their rows: {seeded.mismatched_counts}"
    )
    if seeded.mismatched_counts:
        raise RuntimeError("like_count/comment_count do not match the rows")
    if extra_sql:
        asyncio.run(_try_sql(url, extra_sql))

    # Statements per request, in this process.
    probe, _ = uvloop.run(_count_statements(settings, [1]))
    last_page = max(1, -(-probe[0].total // PAGE_SIZE))
    pages = [1, 2, 25, 50, DEEP_PAGE, last_page, last_page + 1]
    counts, first_page = uvloop.run(_count_statements(settings, pages))
    say(f"  [statements per request] {FEED_PATH}?scope={SCOPE} ({probe[0].total:,} reflections visible):")
    for count in counts:
        say(
            f"    page {count.page:>5}: {count.rows:>2} rows -> {count.queries} feed statements "
            f"(+ {count.resets} asyncpg pool resets, {count.other} other)"
        )
    with_rows = {count.queries for count in counts if count.rows}
    constant = len(with_rows) == 1
    per_request = max(with_rows)
    say(
        f"    {'the same for every page with rows' if constant else 'NOT CONSTANT'}: {sorted(with_rows)} "
        f"(target: constant, <= {TARGET_STATEMENTS}); a page past the end skips the likes lookup"
    )

    # What each of page 1's statements costs alone, and the rows of the deep page.
    rows_statement = next(s for s in first_page if _label(s) == "rows")
    timed = asyncio.run(statement_times(url, [*first_page, _with_page(rows_statement, DEEP_PAGE)]))
    for index, (label, ms, outline) in enumerate(timed):
        where = f"page {DEEP_PAGE}" if index == len(timed) - 1 else "page 1"
        say(f"  [statement alone, median of {STATEMENT_REPEATS}] {where} {label}: {ms:,.1f} ms  ({outline})")

    # Throughput and latency of the served app.
    with Server(settings, base=base, bare_route=True) as server:
        token = sign_in(server.url)
        check = httpx.get(
            f"{server.url}{FEED_PATH}",
            params={"scope": SCOPE},
            headers={"Cookie": f"{SESSION_COOKIE}={token}"},
            timeout=60,
        )
        if check.status_code != 200 or len(check.json()["items"]) != PAGE_SIZE:
            raise RuntimeError(
                f"{FEED_PATH} did not answer a full page: {check.status_code} {check.text[:200]}"
            )
        served = uvloop.run(_serve_measure(server, token, url))
    rounds = served.rounds
    failures = sum(measured.failures for measured in rounds.values())
    if failures:
        raise RuntimeError(f"{failures} non-200 answers: " + str({k: v.statuses for k, v in rounds.items()}))
    labels = {
        "feed": f"{FEED_PATH} pages 1-{FIRST_PAGES[-1]}",
        "deep": f"{FEED_PATH} page {DEEP_PAGE}",
        "bare": BARE_PATH,
    }
    for name, measured in rounds.items():
        say(
            f"  [throughput] {labels[name]}: {measured.rate:,.0f} req/s ({measured.requests:,} in "
            f"{measured.seconds:.1f} s; server CPU {measured.server_cpu / measured.requests * 1e6:,.0f} µs "
            f"per request, server busy {measured.server_cpu / measured.seconds:.0%}; mean latency under "
            f"load {_ms(CONNECTIONS / measured.rate)})"
        )
    ratio = rounds["feed"].rate / rounds["bare"].rate
    deep_ratio = rounds["deep"].rate / rounds["bare"].rate
    say(f"  [throughput] feed ÷ bare: {ratio:.3f}x (pages 1-50), {deep_ratio:.4f}x (page {DEEP_PAGE})")
    feed_requests = rounds["feed"].requests + rounds["deep"].requests
    served_per_request = (served.transactions - served.background) / feed_requests
    say(
        f"  [statements under load] PostgreSQL counted {served.transactions:,} transactions in the database "
        f"while serving {feed_requests:,} feed requests (and {rounds['bare'].requests:,} bare ones, which "
        f"use no database), {served.background:,} in as long without requests: "
        f"{served_per_request:.2f} per feed request (statements + asyncpg pool resets)"
    )
    for name, seconds in served.latency.items():
        say(
            f"  [latency, one at a time] {labels[name]}: p50 {_ms(percentile(seconds, 0.5))}, "
            f"p95 {_ms(percentile(seconds, 0.95))} ({len(seconds)} requests)"
        )
    feed_latency = served.latency["feed"]
    deep_latency = served.latency["deep"]
    results = [
        Result(NAME, "seeding 100k reflections (COPY)", seeded.seconds, "s"),
        Result(
            NAME,
            "SQL statements per feed request",
            per_request,
            "",
            f"constant, <= {TARGET_STATEMENTS}",
            constant and per_request <= TARGET_STATEMENTS,
        ),
        Result(NAME, "statements + pool resets per request under load", served_per_request, ""),
        Result(NAME, "feed pages 1-50", rounds["feed"].rate, "req/s"),
        Result(NAME, f"feed page {DEEP_PAGE}", rounds["deep"].rate, "req/s"),
        Result(NAME, "bare Litestar route", rounds["bare"].rate, "req/s"),
        # As a percentage: the summary shows two decimals, and these ratios are far below 0.01.
        Result(NAME, "feed ÷ bare (pages 1-50)", ratio * 100, "% of bare"),
        Result(NAME, f"feed ÷ bare (page {DEEP_PAGE})", deep_ratio * 100, "% of bare"),
        Result(NAME, "feed p50 (pages 1-50)", percentile(feed_latency, 0.5) * 1000, "ms"),
        Result(NAME, "feed p95 (pages 1-50)", percentile(feed_latency, 0.95) * 1000, "ms"),
        Result(NAME, f"feed p50 (page {DEEP_PAGE})", percentile(deep_latency, 0.5) * 1000, "ms"),
        Result(NAME, f"feed p95 (page {DEEP_PAGE})", percentile(deep_latency, 0.95) * 1000, "ms"),
    ]
    return results


def main(extra_sql: Sequence[str] = ()) -> list[Result]:
    say(
        f"reflections_feed: {REFLECTIONS:,} reflections on PostgreSQL; {CONNECTIONS} keep-alive connections, "
        f"{ROUNDS} alternating rounds of {ROUND_SECONDS:g} s per kind of request"
    )
    if not postgres_available():
        say("  PostgreSQL: no server answers on 127.0.0.1:5432 — skipped")
        return []
    with temp_dir(NAME) as base, embedded(bench_settings(base)) as settings, postgres_database() as url:
        pg_settings = msgspec.structs.replace(
            settings, database=msgspec.structs.replace(settings.database, url=url)
        )
        return _run(base, pg_settings, url, list(extra_sql))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    extra: list[str] = []
    if arguments[:1] == ["--sql"] and len(arguments) == 2:
        extra = [line.strip() for line in Path(arguments[1]).read_text().splitlines() if line.strip()]
    elif arguments:
        raise SystemExit("usage: python -m benchmarks.bench_reflections_feed [--sql FILE]")
    main(extra)
