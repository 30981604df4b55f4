"""Web Push: one HR reminder to 20,000 subscriptions through one arq worker; job start latency.

Needs PostgreSQL on 127.0.0.1:5432 and a Redis server (LEARNLOOP_BENCH_REDIS_URL, else database 1 of
127.0.0.1:6379, flushed before and after); skipped when either is missing. Besides this process: the
loopback fake push service of the tests in a subprocess (`benchmarks/_push_fake.py`: verifies VAPID,
decrypts every body), and one worker in another, built by `worker_create` as `learnloop worker` builds
it (own database pool, the app's poll delay, arq's default max_jobs, the sender's 64 connections).

- Fan-out: PEOPLE employees in one department, each with one subscription at the fake; web_push on, no
  quiet hours. After a warm-up reminder to WARM_UP_PEOPLE others, HR's `reminder_create` (send now) for
  the department, as the app does: the outbox hands it to the worker, which notifies everyone (in
  chunks of 500, each queued for push right after its commit) and sends the pushes in batch jobs.
  Sends/s = PEOPLE / (last push accepted by the fake - reminder_create called). Worker RSS sampled
  throughout (peak growth over the idle worker after the warm-up) and worker CPU per push. Side by side:
  the fake's raw accept rate from a bare loop POSTing pre-encrypted pushes over the worker's own
  transport (`push_clients`, as many in flight), before and after the fan-out; and the same loop over
  one httpx client with as many connections (the transport the worker used before), CPU per push.
- Latency: the worker idle; push jobs (each a batch of one pending delivery that sends one push) and
  no-op arq jobs enqueued one at a time in alternating order, random gaps; start = the worker's clock
  when the job function is entered (it pushes that time to Redis), at the app's poll delay.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import redis

from backend.settings import Settings
from benchmarks._common import (
    Result,
    bench_settings,
    cpu_seconds,
    postgres_available,
    postgres_database,
    rss_kib,
    say,
    temp_dir,
)
from benchmarks._push_fake import KEY_POOL, RAW_MESSAGES, FakeClient, browser_keys
from benchmarks._push_worker import NOOP_JOB, STARTS_KEY, process_spawn, process_stop

NAME = "push"
PEOPLE = 20_000
WARM_UP_PEOPLE = 20
SEED = 20261206
TARGET_SENDS = 500.0
TARGET_P95_MS = 100.0
LATENCY_JOBS = 120  # of each kind
FAN_OUT_TIMEOUT = 1500.0
REDIS_DEFAULT = "redis://127.0.0.1:6379/1"
BENCH_DEPARTMENT = "推送基准部"
WARM_UP_DEPARTMENT = "推送预热组"


# ---- data ---------------------------------------------------------------------------------------


async def _load(url: str, origin: str) -> dict[str, int]:
    """Two departments (warm-up, benchmark) of people with one subscription each at the fake."""
    pool = browser_keys()
    connection = await asyncpg.connect(url)
    departments: dict[str, int] = {}
    try:
        for name, people, first in (
            (WARM_UP_DEPARTMENT, WARM_UP_PEOPLE, 1),
            (BENCH_DEPARTMENT, PEOPLE, WARM_UP_PEOPLE + 1),
        ):
            department = await connection.fetchval(
                "INSERT INTO department (name, parent, path, sort, active, created_at) "
                "VALUES ($1, NULL, '', 0, true, now()) RETURNING id",
                name,
            )
            await connection.execute(
                "UPDATE department SET path = '/' || id || '/' WHERE id = $1", department
            )
            await connection.execute(
                "INSERT INTO employee (employee_no, name, department, status, locale, created_at) "
                "SELECT 'P' || lpad(g::text, 6, '0'), '员工' || g, $1, 'active', 'zh-CN', now() "
                "FROM generate_series($2::int, $3::int) g",
                department,
                first,
                first + people - 1,
            )
            departments[name] = int(department)
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
    return departments


def _hr() -> Any:
    from backend.lib.policy import ROLE_HR_ADMIN, Actor

    return Actor(
        account_id=0,
        username="bench-hr",
        employee_id=None,
        department_id=None,
        roles=frozenset({ROLE_HR_ADMIN}),
    )


# ---- measuring ----------------------------------------------------------------------------------


async def _remind(department: int, title: str) -> None:
    from backend.notifications.reminders import ReminderTarget, reminder_create

    created = await reminder_create(
        actor=_hr(),
        target=ReminderTarget(department_id=department),
        title=title,
        body="大客户关系维护心得本周五截止，请尽快提交。",
        url="/reflections",
    )
    say(f"  reminder {created.id} to {created.recipients:,} people")


async def _fan_out(
    fake: FakeClient, worker: subprocess.Popen[bytes], departments: dict[str, int]
) -> dict[str, float]:
    from backend.notifications.tables import Notification
    from benchmarks.bench_upload_memory import RssSampler

    before = (await fake.stats())["received"]
    await _remind(departments[WARM_UP_DEPARTMENT], "预热")
    await fake.wait_for(before + WARM_UP_PEOPLE, 120, worker, say)
    await asyncio.sleep(1.0)
    idle_kib, cpu_before = rss_kib(worker.pid), cpu_seconds(worker.pid)
    notified_at = 0.0
    with RssSampler(worker.pid) as sampler:
        started = time.time()
        await _remind(departments[BENCH_DEPARTMENT], "请提交心得")

        async def all_notified() -> None:
            nonlocal notified_at
            while await Notification.count() < WARM_UP_PEOPLE + PEOPLE:  # noqa: ASYNC110 - the worker writes them
                await asyncio.sleep(0.1)
            notified_at = time.time()

        watcher = asyncio.create_task(all_notified())
        stats = await fake.wait_for(before + WARM_UP_PEOPLE + PEOPLE, FAN_OUT_TIMEOUT, worker, say)
        await watcher
    seconds = stats["last"] - started
    return {
        "seconds": seconds,
        "notified_seconds": notified_at - started,
        "rate": PEOPLE / seconds,
        "idle_mib": idle_kib / 1024,
        "peak_mib": sampler.peak_kib / 1024,
        "cpu_ms": (cpu_seconds(worker.pid) - cpu_before) * 1000 / PEOPLE,
    }


async def _latencies(queue: Any, person: int, jobs: int) -> tuple[list[float], list[float]]:
    """Push and no-op jobs one at a time, alternating (A B, B A, ...); start - enqueue in ms."""
    from backend.notifications.kinds import KIND_HR_MESSAGE
    from backend.notifications.push_jobs import JOB_NAME, push_job_id
    from backend.notifications.services import notify
    from backend.notifications.tables import Delivery

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
            batch = [int(row["id"])]
            job_id = push_job_id(batch)
            enqueued = time.time()
            job = await queue.enqueue_job(JOB_NAME, batch, _job_id=job_id)
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
    from backend.notifications.push_jobs import CONCURRENCY
    from backend.notifications.push_subscriptions import vapid_private_pem
    from backend.org.tables import Employee

    private_pem = vapid_private_pem(settings.push, settings.data_path)  # generated once, for both
    fake_process = process_spawn(["benchmarks._push_fake"], base / "fake.log", stdout_pipe=True)
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
        departments = await _load(settings.database.url, origin)
        say(
            f"  loaded {PEOPLE + WARM_UP_PEOPLE:,} people with a subscription each in {time.perf_counter() - loading:.1f} s"
        )
        await queue.flushdb()
        storage = storage_client(settings.storage)
        runtime_bind(Runtime(settings=settings, storage=storage, queue=queue))
        settings_file = base / "settings.json"
        settings_file.write_bytes(msgspec.json.encode(settings))
        async with httpx.AsyncClient(timeout=10) as client:
            fake = FakeClient(client, origin)
            raw_before, raw_cpu = await fake.raw_rate(private_pem, concurrency=CONCURRENCY, start=0)
            say(
                f"  fake push service, bare sending loop (the worker's transport, pre-encrypted): {raw_before:,.0f} "
                f"pushes/s accepted, sender CPU {raw_cpu:.2f} ms per push"
            )
            one_rate, one_cpu = await fake.raw_rate(
                private_pem, concurrency=CONCURRENCY, start=RAW_MESSAGES, one_client=True
            )
            say(
                f"  the same loop over one httpx client with {CONCURRENCY} connections (the transport before): "
                f"{one_rate:,.0f} pushes/s, sender CPU {one_cpu:.2f} ms per push: "
                f"{one_cpu / raw_cpu:.1f}x the CPU of the worker's transport"
            )
            worker = process_spawn(["benchmarks._push_worker", str(settings_file)], base / "worker.log")
            fan = await _fan_out(fake, worker, departments)
            process_stop(worker)
            raw_after, _cpu = await fake.raw_rate(
                private_pem, concurrency=CONCURRENCY, start=10 * RAW_MESSAGES
            )
        raw = (raw_before + raw_after) / 2
        say(f"  fake push service, bare sending loop again: {raw_after:,.0f} pushes/s accepted")
        say(
            f"  fan-out: {PEOPLE:,} pushes in {fan['seconds']:.1f} s from reminder_create (everyone notified after "
            f"{fan['notified_seconds']:.1f} s): {fan['rate']:,.0f} sends/s = {fan['rate'] / raw:.2f}x the fake's raw "
            f"rate ({raw:,.0f}/s); target >= {TARGET_SENDS:.0f}/s: {'meets' if fan['rate'] >= TARGET_SENDS else 'MISSES'}"
        )
        say(
            f"  worker RSS {fan['idle_mib']:.1f} MiB idle after warm-up, peak {fan['peak_mib']:.1f} MiB: growth "
            f"{fan['peak_mib'] - fan['idle_mib']:.1f} MiB; worker CPU {fan['cpu_ms']:.2f} ms per push"
        )
        runtime_bind(Runtime(settings=settings, storage=storage, queue=None))  # the benchmark enqueues
        await queue.flushdb()
        person = await Employee.select(Employee.id).order_by(Employee.id).first()
        assert person is not None
        worker = process_spawn(["benchmarks._push_worker", str(settings_file), "record"], base / "worker.log")
        push_ms, noop_ms = await _latencies(queue, int(person["id"]), LATENCY_JOBS)
        process_stop(worker)
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
            process_stop(worker)
        process_stop(fake_process)
        await queue.flushdb()
        await queue.aclose()
        await engine_close(engine)
    delay = settings.worker.poll_delay
    push_p50, push_p95 = _percentiles(push_ms)
    noop_p50, noop_p95 = _percentiles(noop_ms)
    for kind, values in (("push job", push_ms), ("no-op job", noop_ms)):
        p50, p95 = _percentiles(values)
        say(
            f"  poll delay {delay:g} s, {kind}: enqueue to start p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
            f"max {max(values):.1f} ms ({len(values)} jobs)"
        )
    say(f"  push job p95 / no-op job p95: {push_p95 / noop_p95:.2f}x")
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
        Result(NAME, "worker CPU per push", fan["cpu_ms"], "ms"),
        Result(NAME, "bare loop CPU per push: one client / the worker's clients", one_cpu / raw_cpu, "x"),
        Result(
            NAME,
            f"push job enqueue->start p95 (poll {delay:g} s)",
            push_p95,
            "ms",
            f"<= {TARGET_P95_MS:.0f} ms",
            push_p95 <= TARGET_P95_MS,
        ),
        Result(NAME, f"push job enqueue->start p50 (poll {delay:g} s)", push_p50, "ms"),
        Result(NAME, f"no-op job enqueue->start p95 (poll {delay:g} s)", noop_p95, "ms"),
        Result(NAME, f"no-op job enqueue->start p50 (poll {delay:g} s)", noop_p50, "ms"),
    ]


def main() -> list[Result]:
    redis_url = os.environ.get("LEARNLOOP_BENCH_REDIS_URL", REDIS_DEFAULT)
    say(
        f"push: one HR reminder to {PEOPLE:,} Web Push subscriptions through one arq worker (subprocess) "
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
    main()
