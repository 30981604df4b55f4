"""Web Push: one HR message to 20,000 subscriptions through one arq worker; job start latency.

Needs PostgreSQL on 127.0.0.1:5432 and a Redis server (LEARNLOOP_BENCH_REDIS_URL, else database 1 of
127.0.0.1:6379, flushed before and after); skipped when either is missing. Two subprocesses besides
this one's own work: the loopback fake push service of the tests (`tests/support/fake_push.py`: checks
VAPID, decrypts every body) in a subprocess of its own, and the worker, built by `worker_create` as
`learnloop worker` builds it (own database pool, the app's poll delay and arq's default max_jobs), in
another. So the fake does not compete with the worker's event loop (they share the machine's cores).

- Fan-out: PEOPLE employees with one subscription each at the fake (browser keys from a pool of
  KEY_POOL pairs: the fake decrypts with the pool). After a warm-up, one `notify()` (HR message,
  web_push enabled, no quiet hours) to all of them from this process, which enqueues the push jobs
  after its commit as the app does. Sends/s = PEOPLE / (last push accepted by the fake - notify
  called). Worker RSS sampled throughout: peak growth over the idle worker after warm-up. Side by
  side: the fake's raw accept rate, pre-encrypted messages POSTed by a bare httpx loop (same
  concurrency as the worker's sender), before and after the fan-out.
- Latency: with the worker idle, push jobs (each a pending delivery that sends one push) and no-op
  arq jobs enqueued one at a time in alternating order, random gaps; start = the worker's clock when
  the job function is entered (it pushes that time to Redis). With the app's poll delay, then with
  WHAT_IF_POLL_DELAY for comparison.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import redis

from backend.settings import Settings
from benchmarks._common import (
    ROOT,
    Result,
    _die_with_parent,
    bench_settings,
    cpu_seconds,
    postgres_available,
    postgres_database,
    rss_kib,
    say,
    temp_dir,
)

NAME = "push"
PEOPLE = 20_000
WARM_UP_PEOPLE = 20
KEY_POOL = 16
SEED = 20261122
TARGET_SENDS = 500.0
TARGET_P95_MS = 100.0
RAW_MESSAGES = 1_000
LATENCY_JOBS = 120  # per kind at the app's poll delay
WHAT_IF_POLL_DELAY = 0.05
WHAT_IF_JOBS = 60
FAN_OUT_TIMEOUT = 1500.0
PROGRESS_SECONDS = 30.0
REDIS_DEFAULT = "redis://127.0.0.1:6379/1"
STARTS_KEY = "bench:push:starts"
NOOP_JOB = "bench_noop"


# ---- the fake push service and the worker, each in a subprocess --------------------------------


def _browser_keys() -> list[Any]:
    """KEY_POOL browser key pairs, the same in every process (derived from SEED)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.support.fake_push import BrowserKeys

    return [
        BrowserKeys(
            private=ec.derive_private_key(SEED + i, ec.SECP256R1()),
            auth_secret=hashlib.sha256(f"auth-{i}".encode()).digest()[:16],
        )
        for i in range(KEY_POOL)
    ]


def _fake_serve() -> None:
    """`python -m benchmarks.bench_push fake`: serve until terminated; prints the port first."""
    from tests.support.fake_push import BrowserKeys, FakePushService

    pool = _browser_keys()

    class PooledKeys(dict[str, BrowserKeys]):
        def get(self, key: str, default: Any = None) -> Any:
            number = key.rpartition("-")[2]
            return pool[int(number) % KEY_POOL] if number.isdigit() else default

    class CountingPushService(FakePushService):
        """The tests' fake plus GET /stats: accepted and refused so far, last acceptance time."""

        last_accept: float = 0.0

        def _handle(self, path: str, headers: dict[str, str], body: bytes, method: str) -> Any:
            answer = super()._handle(path, headers, body, method)
            if answer[0] == 201:
                self.last_accept = time.time()
            return answer

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await super().__call__(scope, receive, send)
                return
            if scope["method"] == "GET" and scope["path"] == "/stats":
                stats = {
                    "received": len(self.received),
                    "rejected": self.rejected[:3],
                    "last": self.last_accept,
                }
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": json.dumps(stats).encode()})
                return
            # The fake answers with a Content-Length (one write, no wait for a delayed ACK).
            await super().__call__(scope, receive, send)

    service = CountingPushService(keys=PooledKeys()).start()
    print(service.port, flush=True)
    while True:
        time.sleep(3600)


def _worker_run(settings_file: str, record: bool) -> None:
    """`python -m benchmarks.bench_push worker FILE [record]`: the app's worker; with `record`, push
    jobs and a no-op job push their start time to Redis first."""
    from arq import func

    from backend.notifications.push_jobs import JOB_NAME
    from backend.worker import worker_create

    settings = msgspec.json.decode(Path(settings_file).read_bytes(), type=Settings)

    async def noop(ctx: dict[str, Any]) -> None:
        await ctx["redis"].rpush(STARTS_KEY, f"{ctx['job_id']} {time.time()}")

    async def run() -> None:
        worker = worker_create(settings, own_database=True)  # arq binds the running loop
        if record:
            pushed = worker.functions[JOB_NAME]

            async def push_recorded(ctx: dict[str, Any], *args: Any) -> Any:
                started = time.time()
                await ctx["redis"].rpush(STARTS_KEY, f"{ctx['job_id']} {started}")
                return await pushed.coroutine(ctx, *args)

            worker.functions[JOB_NAME] = dataclasses.replace(pushed, coroutine=push_recorded)
            worker.functions[NOOP_JOB] = func(noop, name=NOOP_JOB, keep_result=0)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    asyncio.run(run())


def _spawn(args: list[str], log: Path, *, stdout_pipe: bool = False) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_push", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else out,
            stderr=out,
            preexec_fn=_die_with_parent,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- data ---------------------------------------------------------------------------------------


async def _load(url: str, origin: str) -> None:
    """Employees with one subscription each at the fake (warm-up people first), web_push enabled."""
    pool = _browser_keys()
    connection = await asyncpg.connect(url)
    try:
        department = await connection.fetchval(
            "INSERT INTO department (name, parent, path, sort, active, created_at) "
            "VALUES ('推送基准部', NULL, '', 0, true, now()) RETURNING id"
        )
        await connection.execute("UPDATE department SET path = '/' || id || '/' WHERE id = $1", department)
        total = WARM_UP_PEOPLE + PEOPLE
        await connection.execute(
            "INSERT INTO employee (employee_no, name, department, status, locale, created_at) "
            "SELECT 'P' || lpad(g::text, 6, '0'), '员工' || g, $1, 'active', 'zh-CN', now() "
            "FROM generate_series(1, $2) g",
            department,
            total,
        )
        await connection.execute(
            "INSERT INTO push_subscription (employee, endpoint, endpoint_key, p256dh, auth, locale, "
            "created_at, updated_at) "
            "SELECT e.id, $1 || '/push/b-' || e.id, encode(sha256(($1 || '/push/b-' || e.id)::bytea), 'hex'), "
            "($2::text[])[e.id % $4 + 1], ($3::text[])[e.id % $4 + 1], 'zh-CN', now(), now() FROM employee e",
            origin,
            [keys.p256dh for keys in pool],
            [keys.auth for keys in pool],
            KEY_POOL,
        )
        await connection.execute(
            "INSERT INTO notification_settings (id, quiet_start, quiet_end, channels, updated_at) "
            "VALUES (1, '00:00', '00:00', $1, now())",
            json.dumps({"web_push": {"enabled": True}}),
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def _people(warm_up: bool) -> list[int]:
    from backend.org.tables import Employee

    rows = await Employee.select(Employee.id).order_by(Employee.id)
    ids = [int(row["id"]) for row in rows]
    return ids[:WARM_UP_PEOPLE] if warm_up else ids[WARM_UP_PEOPLE:]


# ---- measuring ----------------------------------------------------------------------------------


class Fake:
    def __init__(self, client: httpx.AsyncClient, origin: str) -> None:
        self.client, self.origin = client, origin

    async def stats(self) -> dict[str, Any]:
        response = await self.client.get(f"{self.origin}/stats")
        return dict(response.json())

    async def wait_for(self, count: int, seconds: float, worker: subprocess.Popen[bytes]) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        shown = time.monotonic()
        while True:
            stats = await self.stats()
            if time.monotonic() - shown >= PROGRESS_SECONDS:
                shown = time.monotonic()
                say(f"  ... {stats['received']:,} pushes accepted by the fake so far")
            if stats["received"] >= count:
                return stats
            if stats["rejected"]:
                raise RuntimeError(f"the fake refused pushes: {stats['rejected']}")
            if worker.poll() is not None:
                raise RuntimeError("the worker exited (see its log)")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {stats['received']:,} of {count:,} pushes arrived in {seconds:.0f} s"
                )
            await asyncio.sleep(0.05)


async def _raw_rate(settings: Settings, fake: Fake, start: int) -> float:
    """Pre-encrypted pushes POSTed by a bare httpx loop (CONCURRENCY in flight): accepted per second."""
    from webpush import WebPush
    from webpush.types import WebPushKeys, WebPushSubscription

    from backend.notifications.push_jobs import CONCURRENCY
    from backend.notifications.push_sender import _public_pem
    from backend.notifications.push_subscriptions import vapid_private_pem

    pem = vapid_private_pem(settings.push, settings.data_path)
    webpush = WebPush(private_key=pem, public_key=_public_pem(pem), subscriber="bench@example.com")
    pool, messages = _browser_keys(), []
    payload = json.dumps({"title": "请提交心得", "body": "本周五截止", "url": "/reflections"}).encode()
    for n in range(start, start + RAW_MESSAGES):
        keys = pool[n % KEY_POOL]
        endpoint = f"{fake.origin}/push/raw-{n}"
        message = webpush.get(
            payload,
            WebPushSubscription(endpoint=endpoint, keys=WebPushKeys(p256dh=keys.p256dh, auth=keys.auth)),
        )
        headers = {
            **dict(message.headers),
            "ttl": "86400",
            "urgency": "high",
            "content-type": "application/octet-stream",
        }
        messages.append((endpoint, message.encrypted, headers))
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    slots = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def post(endpoint: str, body: bytes, headers: dict[str, str]) -> None:
            async with slots:
                response = await client.post(endpoint, content=body, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"the fake answered {response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(post(*message) for message in messages))
        return RAW_MESSAGES / (time.perf_counter() - started)


async def _fan_out(fake: Fake, worker: subprocess.Popen[bytes]) -> dict[str, float]:
    from backend.notifications.kinds import KIND_HR_MESSAGE
    from backend.notifications.services import notify
    from benchmarks.bench_upload_memory import RssSampler

    async def hr_message(people: list[int], key: str) -> None:
        await notify(
            employee_ids=people,
            kind=KIND_HR_MESSAGE,
            title="请提交心得",
            body="大客户关系维护心得本周五截止，请尽快提交。",
            url="/reflections",
            source=key,
            dedupe_key=key,
        )

    before = (await fake.stats())["received"]
    await hr_message(await _people(warm_up=True), "reminder:warm-up")
    await fake.wait_for(before + WARM_UP_PEOPLE, 60, worker)
    await asyncio.sleep(1.0)
    people = await _people(warm_up=False)
    idle_kib, cpu_before = rss_kib(worker.pid), cpu_seconds(worker.pid)
    with RssSampler(worker.pid) as sampler:
        started = time.time()
        await hr_message(people, "reminder:bench")
        notified = time.time()
        stats = await fake.wait_for(before + WARM_UP_PEOPLE + PEOPLE, FAN_OUT_TIMEOUT, worker)
    seconds = stats["last"] - started
    return {
        "seconds": seconds,
        "notify_seconds": notified - started,
        "rate": PEOPLE / seconds,
        "idle_mib": idle_kib / 1024,
        "peak_mib": sampler.peak_kib / 1024,
        "cpu_ms": (cpu_seconds(worker.pid) - cpu_before) * 1000 / PEOPLE,
    }


async def _latencies(queue: Any, jobs: int) -> tuple[list[float], list[float]]:
    """Push and no-op jobs one at a time, alternating (A B, B A, ...); start - enqueue in ms."""
    from backend.notifications.kinds import KIND_HR_MESSAGE
    from backend.notifications.push_jobs import JOB_NAME, push_job_id
    from backend.notifications.services import notify
    from backend.notifications.tables import Delivery

    person = (await _people(warm_up=True))[0]
    tag = f"{time.time():.0f}"

    async def started_of(job_id: str, seconds: float) -> float:
        answer = await queue.blpop([STARTS_KEY], timeout=seconds)
        if answer is None:
            raise RuntimeError(f"job {job_id} did not start within {seconds:.0f} s")
        started_id, started = answer[1].decode().split()
        if started_id != job_id:
            raise RuntimeError(f"expected {job_id} to start, got {started_id}")
        return float(started)

    await queue.enqueue_job(NOOP_JOB, _job_id=f"noop:{tag}:warm-up")  # the worker has started
    await started_of(f"noop:{tag}:warm-up", 60)
    push_ms: list[float] = []
    noop_ms: list[float] = []
    rng = random.Random(SEED)
    order = [kind for n in range(jobs) for kind in (("push", "noop") if n % 2 == 0 else ("noop", "push"))]
    for n, kind in enumerate(order):
        await asyncio.sleep(rng.uniform(0.05, 0.25))
        if kind == "push":  # a pending delivery made just now (no queue bound here: notify only plans)
            [created] = await notify(
                employee_ids=[person],
                kind=KIND_HR_MESSAGE,
                title=f"延迟 {n}",
                dedupe_key=f"latency:{tag}:{n}",
            )
            row = await Delivery.select(Delivery.id).where(Delivery.notification == created).first()
            if row is None:
                raise RuntimeError("notify planned no web_push delivery")
            job_id = push_job_id(int(row["id"]))
            enqueued = time.time()
            job = await queue.enqueue_job(JOB_NAME, int(row["id"]), _job_id=job_id)
        else:
            job_id = f"noop:{tag}:{n}"
            enqueued = time.time()
            job = await queue.enqueue_job(NOOP_JOB, _job_id=job_id)
        started = await started_of(job_id, 10)
        if job is None:  # the minute's push sweep queued it first: not a sample
            continue
        (push_ms if kind == "push" else noop_ms).append((started - enqueued) * 1000)
    await asyncio.sleep(0.5)  # the last push job finishes
    return push_ms, noop_ms


def _percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return statistics.median(values), cuts[18]


async def _measure(settings: Settings, base: Path) -> list[Result]:
    from backend.lib.db import engine_bind, engine_close, engine_create, engine_open, migrations_apply
    from backend.lib.queue import queue_pool
    from backend.lib.runtime import Runtime, runtime_bind
    from backend.lib.storage import storage_client
    from backend.notifications.push_subscriptions import vapid_private_pem

    vapid_private_pem(settings.push, settings.data_path)  # generated once into the data dir, for both
    fake_process = _spawn(["fake"], base / "fake.log", stdout_pipe=True)
    engine = engine_create(settings)
    queue = await queue_pool(settings.redis.url)
    worker: subprocess.Popen[bytes] | None = None
    try:
        assert fake_process.stdout is not None
        port = int((await asyncio.to_thread(fake_process.stdout.readline)).strip() or 0)
        if not port:
            raise RuntimeError(
                f"the fake push service did not start: {(base / 'fake.log').read_text()[-500:]}"
            )
        origin = f"http://127.0.0.1:{port}"
        await engine_open(engine, settings)
        engine_bind(engine)
        await migrations_apply(engine)
        loading = time.perf_counter()
        await _load(settings.database.url, origin)
        say(
            f"  loaded {PEOPLE + WARM_UP_PEOPLE:,} people with a subscription each in {time.perf_counter() - loading:.1f} s"
        )
        await queue.flushdb()
        storage = storage_client(settings.storage)
        runtime_bind(Runtime(settings=settings, storage=storage, queue=queue))
        settings_file = base / "settings.json"
        settings_file.write_bytes(msgspec.json.encode(settings))
        async with httpx.AsyncClient(timeout=10) as client:
            fake = Fake(client, origin)
            raw_before = await _raw_rate(settings, fake, 0)
            say(f"  fake push service, bare httpx loop: {raw_before:,.0f} pushes/s accepted")
            worker = _spawn(["worker", str(settings_file)], base / "worker.log")
            fan = await _fan_out(fake, worker)
            _stop(worker)
            raw_after = await _raw_rate(settings, fake, RAW_MESSAGES)
            raw = (raw_before + raw_after) / 2
            say(f"  fake push service, bare httpx loop again: {raw_after:,.0f} pushes/s accepted")
            say(
                f"  fan-out: {PEOPLE:,} pushes in {fan['seconds']:.1f} s from notify() (which returned after "
                f"{fan['notify_seconds']:.1f} s): {fan['rate']:,.0f} sends/s = {fan['rate'] / raw:.2f}x the fake's raw "
                f"rate ({raw:,.0f}/s); target >= {TARGET_SENDS:.0f}/s: {'meets' if fan['rate'] >= TARGET_SENDS else 'MISSES'}"
            )
            say(
                f"  worker RSS {fan['idle_mib']:.1f} MiB idle after warm-up, peak {fan['peak_mib']:.1f} MiB: growth "
                f"{fan['peak_mib'] - fan['idle_mib']:.1f} MiB; worker CPU {fan['cpu_ms']:.2f} ms per push"
            )
        runtime_bind(Runtime(settings=settings, storage=storage, queue=None))  # the benchmark enqueues
        latency: list[tuple[list[float], list[float]]] = []
        for poll_delay, jobs in (
            (settings.worker.poll_delay, LATENCY_JOBS),
            (WHAT_IF_POLL_DELAY, WHAT_IF_JOBS),
        ):
            tuned = msgspec.structs.replace(
                settings, worker=msgspec.structs.replace(settings.worker, poll_delay=poll_delay)
            )
            settings_file.write_bytes(msgspec.json.encode(tuned))
            await queue.flushdb()
            worker = _spawn(["worker", str(settings_file), "record"], base / "worker.log")
            latency.append(await _latencies(queue, jobs))
            _stop(worker)
            for kind, values in zip(("push job", "no-op job"), latency[-1], strict=True):
                p50, p95 = _percentiles(values)
                say(
                    f"  poll delay {poll_delay:g} s, {kind}: enqueue to start p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                    f"max {max(values):.1f} ms ({len(values)} jobs)"
                )
    except Exception:
        for log in (base / "worker.log", base / "fake.log"):
            if log.exists():
                say(
                    f"  {log.name}, last lines:\n"
                    + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                )
        raise
    finally:
        if worker is not None:
            _stop(worker)
        _stop(fake_process)
        await queue.flushdb()
        await queue.aclose()
        await engine_close(engine)
    app_delay = settings.worker.poll_delay
    push_p50, push_p95 = _percentiles(latency[0][0])
    noop_p50, noop_p95 = _percentiles(latency[0][1])
    what_p50, what_p95 = _percentiles(latency[1][0])
    say(f"  push job p95 / no-op job p95 at the app's poll delay: {push_p95 / noop_p95:.2f}x")
    return [
        Result(
            NAME,
            f"{PEOPLE:,} pushes, one worker: sends/s",
            fan["rate"],
            "/s",
            f">= {TARGET_SENDS:.0f}/s",
            fan["rate"] >= TARGET_SENDS,
        ),
        Result(NAME, "sends/s / fake's raw accept rate", fan["rate"] / raw, "x"),
        Result(NAME, "worker peak RSS growth during fan-out", fan["peak_mib"] - fan["idle_mib"], "MiB"),
        Result(
            NAME,
            f"push job enqueue->start p95 (poll {app_delay:g} s)",
            push_p95,
            "ms",
            f"<= {TARGET_P95_MS:.0f} ms",
            push_p95 <= TARGET_P95_MS,
        ),
        Result(NAME, f"push job enqueue->start p50 (poll {app_delay:g} s)", push_p50, "ms"),
        Result(NAME, f"no-op job enqueue->start p95 (poll {app_delay:g} s)", noop_p95, "ms"),
        Result(NAME, f"no-op job enqueue->start p50 (poll {app_delay:g} s)", noop_p50, "ms"),
        Result(NAME, f"push job enqueue->start p95 (poll {WHAT_IF_POLL_DELAY:g} s, what-if)", what_p95, "ms"),
        Result(NAME, f"push job enqueue->start p50 (poll {WHAT_IF_POLL_DELAY:g} s, what-if)", what_p50, "ms"),
    ]


def main() -> list[Result]:
    redis_url = os.environ.get("LEARNLOOP_BENCH_REDIS_URL", REDIS_DEFAULT)
    say(
        f"push: one HR message to {PEOPLE:,} Web Push subscriptions through one arq worker (subprocess) "
        f"against the loopback fake push service (subprocess); job start latency. PostgreSQL, Redis {redis_url}"
    )
    if not postgres_available():
        say("  PostgreSQL: no server answers on 127.0.0.1:5432 — skipped")
        return []
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        say(f"  Redis: nothing answers at {redis_url} — skipped")
        return []
    with temp_dir(NAME) as base, postgres_database() as url:
        settings = bench_settings(base, database_url=url)
        settings = msgspec.structs.replace(
            settings,
            database=msgspec.structs.replace(settings.database, url=url),
            redis=msgspec.structs.replace(settings.redis, url=redis_url),
            push=msgspec.structs.replace(settings.push, allow_loopback_http=True),
        )
        return asyncio.run(_measure(settings, base))


if __name__ == "__main__":
    if sys.argv[1:2] == ["fake"]:
        _fake_serve()
    elif sys.argv[1:2] == ["worker"]:
        _worker_run(sys.argv[2], record=sys.argv[3:4] == ["record"])
    else:
        main()
