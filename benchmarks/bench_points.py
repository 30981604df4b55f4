"""Points on PostgreSQL with 50,000 people x 100 ledger entries (5,000,000 entries).

Needs a PostgreSQL server on 127.0.0.1:5432 (skipped otherwise). In a throwaway database: migrations,
then an organisation of DEPARTMENTS leaf departments (1,000 people each) under ten divisions, PEOPLE
employees and ENTRIES_PER_PERSON earning entries each, bulk-loaded with INSERT ... SELECT over
generate_series (the ledger's append-only triggers allow inserts; nothing is updated or deleted),
spread over the last LEDGER_DAYS days (about four fifths in this year), then VACUUM ANALYZE. Targets:
an organisation-wide one with a category mix and one for the M levels.

Then, in this process on the app's own engine (Piccolo, asyncpg pool of the default size), side by
side in one run:

- Latency, one call at a time (p50/p95): a bare `SELECT 1` round trip, `leaderboard(board=
  "department")` for random people (their department of 1,000), `target_progress()` for random
  people, and a few calls of the organisation board (all 50,000 ranked). Ratios: each ÷ the bare
  round trip.
- `department_rates()` (completion rates of the ten divisions, all 50,000 people), one call at a time.
- Award throughput, side by side in alternating rounds: AWARD_CONCURRENCY tasks calling `ledger_award`
  (each a new source key, for random people: rule lookup, per-person advisory lock, insert, outbox
  event); BATCH_CONCURRENCY tasks calling `ledger_award_batch` with BATCH_SIZE requests each (random
  people from the task's own share of the organisation, as separate workshops would be: batches of
  different tasks never wait for each other's locks); the AWARD_CONCURRENCY tasks sending `SELECT 1`.
  Ratios: awards/s ÷ round trips/s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import msgspec
import uvloop

from backend.settings import Settings
from benchmarks._common import (
    Result,
    bench_settings,
    postgres_available,
    postgres_database,
    say,
    temp_dir,
)

NAME = "points"
PEOPLE = 50_000
ENTRIES_PER_PERSON = 100
DIVISIONS = 10
DEPARTMENTS_PER_DIVISION = 5  # 50 leaf departments of 1,000 people
DEPARTMENTS = DIVISIONS * DEPARTMENTS_PER_DIVISION
LEVELS = (("P1 初级", 1), ("P2 中级", 2), ("P3 高级", 3), ("P4 资深", 4), ("M1 主管", 5), ("M2 经理", 6))
POSITIONS = 12
LEDGER_DAYS = 400
LOAD_CHUNKS = 10  # the ledger is inserted in ten statements of 500,000 rows
# (kind, category) of the loaded entries, in turn
LOADED_KINDS = (
    ("course_completed", "course"),
    ("workshop_attended", "course"),
    ("exam_passed", "exam"),
    ("sharing_session", "sharing"),
    ("mentoring", "mentoring"),
    ("reflection_submitted", "reflection"),
)
BARE_CALLS = 400
DEPARTMENT_BOARD_CALLS = 150
PROGRESS_CALLS = 300
ORGANISATION_BOARD_CALLS = 7
RATES_CALLS = 40
AWARD_KIND = "bench_award"
AWARD_CONCURRENCY = 16
BATCH_CONCURRENCY = 4
BATCH_SIZE = 500
ROUND_SECONDS = 3.0
ROUNDS = 4  # per kind (awards, batches, bare), alternating A B C C B A ...
SEED = 20261122


@dataclass
class Loaded:
    seconds: float
    people: int
    entries: int
    in_year: int


async def _load(url: str) -> Loaded:
    """The organisation and its ledger, with generate_series, in the migrated database."""
    from backend.points.facts import org_zone
    from backend.points.rules import year_bounds

    started = time.perf_counter()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET synchronous_commit = off")
        root = await connection.fetchval(
            "INSERT INTO department (name, parent, path, sort, active, created_at) "
            "VALUES ('基准集团', NULL, '', 0, true, now()) RETURNING id"
        )
        await connection.execute("UPDATE department SET path = '/' || id || '/' WHERE id = $1", root)
        await connection.execute(
            "INSERT INTO department (name, parent, path, sort, active, created_at) "
            "SELECT '事业部' || g, $1, '', g, true, now() FROM generate_series(1, $2) g",
            root,
            DIVISIONS,
        )
        await connection.execute(
            "UPDATE department d SET path = p.path || d.id || '/' FROM department p "
            "WHERE d.parent = p.id AND p.id = $1",
            root,
        )
        await connection.execute(
            "INSERT INTO department (name, parent, path, sort, active, created_at) "
            "SELECT p.name || '-' || g || '部', p.id, '', g, true, now() "
            "FROM department p, generate_series(1, $2) g WHERE p.parent = $1",
            root,
            DEPARTMENTS_PER_DIVISION,
        )
        await connection.execute(
            "UPDATE department d SET path = p.path || d.id || '/' FROM department p "
            "WHERE d.parent = p.id AND p.parent = $1",
            root,
        )
        await connection.executemany("INSERT INTO job_level (name, rank) VALUES ($1, $2)", LEVELS)
        await connection.execute(
            "INSERT INTO position (name) SELECT '岗位' || g FROM generate_series(1, $1) g", POSITIONS
        )
        # People: leaf departments in turn, every level and position.
        await connection.execute(
            "WITH leaves AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM department d "
            "WHERE NOT EXISTS (SELECT 1 FROM department c WHERE c.parent = d.id)), "
            "levels AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM job_level), "
            "positions AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM position) "
            "INSERT INTO employee (employee_no, name, department, position, level, manager, hire_date, "
            "status, locale, created_at) "
            "SELECT 'B' || lpad(g::text, 6, '0'), '员工' || g, l.id, p.id, v.id, NULL, "
            "date '2015-01-01' + (g % 3000), 'active', '', now() FROM generate_series(1, $1) g "
            "JOIN leaves l ON l.n = g % $2 JOIN levels v ON v.n = g % $3 JOIN positions p ON p.n = g % $4",
            PEOPLE,
            DEPARTMENTS,
            len(LEVELS),
            POSITIONS,
        )
        kinds = ", ".join(
            f"('{kind}', '{category}', {index})" for index, (kind, category) in enumerate(LOADED_KINDS)
        )
        per_chunk = ENTRIES_PER_PERSON // LOAD_CHUNKS
        for chunk in range(LOAD_CHUNKS):
            chunk_started = time.perf_counter()
            # Entry n of everyone, n = 1..100 in time order: the ledger is interleaved as in life.
            await connection.execute(
                f"WITH kinds(kind, category, slot) AS (VALUES {kinds}) "  # noqa: S608 - constants only
                "INSERT INTO ledger_entry (employee, kind, category, points, quantity, source_key, rule, "
                "rule_version, occurred_at, created_at, actor, reverses, note) "
                "SELECT e.id, k.kind, k.category, 1 + (e.id * 7 + n) % 20, 1.0, "
                "'bench:' || e.id || ':' || n, NULL, NULL, "
                "now() - make_interval(days => $1) + make_interval(secs => "
                "(n - 1) * ($1 * 86400.0 / $2) + (e.id * 7919) % 86400), now(), NULL, NULL, '' "
                "FROM generate_series($3::int, $4::int) n CROSS JOIN employee e "
                "JOIN kinds k ON k.slot = (e.id + n) % $5 ORDER BY n, e.id",
                LEDGER_DAYS,
                ENTRIES_PER_PERSON,
                chunk * per_chunk + 1,
                (chunk + 1) * per_chunk,
                len(LOADED_KINDS),
            )
            say(
                f"    ledger entries {chunk * per_chunk + 1}-{(chunk + 1) * per_chunk} of every person "
                f"({PEOPLE * per_chunk:,} rows) in {time.perf_counter() - chunk_started:.1f} s"
            )
        await connection.execute("VACUUM ANALYZE")
        people = int(await connection.fetchval("SELECT count(*) FROM employee"))
        entries = int(await connection.fetchval("SELECT count(*) FROM ledger_entry"))
        start, end = year_bounds(dt.date.today().year, org_zone())
        in_year = int(
            await connection.fetchval(
                "SELECT count(*) FROM ledger_entry WHERE occurred_at >= $1 AND occurred_at < $2", start, end
            )
        )
    finally:
        await connection.close()
    return Loaded(time.perf_counter() - started, people, entries, in_year)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _timed(calls: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    seconds = []
    for index in range(calls):
        started = time.perf_counter()
        await call(index)
        seconds.append(time.perf_counter() - started)
    return seconds


async def _closed_loop(
    seconds: float, concurrency: int, call: Callable[[int, int], Awaitable[object]]
) -> tuple[int, float]:
    """Calls done by `concurrency` tasks, each one call at a time, for `seconds`; (calls, elapsed)."""
    deadline = time.perf_counter() + seconds

    async def task(worker: int) -> int:
        done = 0
        while time.perf_counter() < deadline:
            await call(worker, done)
            done += 1
        return done

    started = time.perf_counter()
    counts = await asyncio.gather(*(task(worker) for worker in range(concurrency)))
    return sum(counts), time.perf_counter() - started


@dataclass
class Measured:
    latency: dict[str, list[float]]
    rates: dict[str, float]  # awards (or round trips) per second, over all rounds
    counts: dict[str, int]


async def _measure(settings: Settings) -> Measured:
    from piccolo.querystring import QueryString

    from backend.lib.db import engine_bind, engine_close, engine_create, engine_open, migrations_apply
    from backend.lib.policy import ROLE_EMPLOYEE, ROLE_HR_ADMIN, Actor
    from backend.org.tables import Employee
    from backend.points.ledger import ledger_award, year_totals_rebuild
    from backend.points.ledger_batch import AwardRequest, ledger_award_batch
    from backend.points.rulebook import RuleTerms, rule_create
    from backend.points.standings import department_rates, leaderboard
    from backend.points.targets import target_progress, target_set

    engine = engine_create(settings)
    await engine_open(engine, settings)
    engine_bind(engine)
    try:
        await migrations_apply(engine)
        say("  loading the organisation and the ledger (INSERT ... SELECT generate_series) ...")
        loaded = await _load(str(settings.database.url))
        # The bulk load bypasses the ledger's writers: derive the yearly totals the boards read.
        rebuilt_at = time.perf_counter()
        totals = await year_totals_rebuild()
        say(
            f"  yearly totals rebuilt from the ledger: {totals:,} rows in {time.perf_counter() - rebuilt_at:.1f} s"
        )
        say(
            f"  loaded in {loaded.seconds:.1f} s (VACUUM ANALYZE included): {loaded.people:,} people, "
            f"{loaded.entries:,} ledger entries ({loaded.in_year:,} of them this year)"
        )
        hr = Actor(
            account_id=0,
            username="bench",
            employee_id=None,
            department_id=None,
            roles=frozenset({ROLE_HR_ADMIN}),
        )
        year = dt.date.today().year
        await target_set(
            actor=hr, year=year, total=120, mix={"course": 40, "exam": 30, "sharing": 20, "mentoring": 10}
        )
        m_levels = await engine.run_querystring(QueryString("SELECT id FROM job_level WHERE name LIKE 'M%'"))
        for row in m_levels:
            await target_set(actor=hr, year=year, total=200, mix={}, level_id=int(row["id"]))
        await rule_create(
            actor=hr,
            kind=AWARD_KIND,
            terms=RuleTerms(points=5, category="other", effective_from=dt.date(year - 1, 1, 1)),
        )
        people = [
            (int(row["id"]), int(row["department"]))
            for row in await Employee.select(Employee.id, Employee.department).order_by(Employee.id)
        ]
        rng = random.Random(SEED)

        def person(_index: int) -> Actor:
            employee_id, department_id = rng.choice(people)
            return Actor(
                account_id=0,
                username="",
                employee_id=employee_id,
                department_id=department_id,
                roles=frozenset({ROLE_EMPLOYEE}),
            )

        async def bare(_index: int) -> object:
            return await engine.run_querystring(QueryString("SELECT 1"))

        async def department_board(index: int) -> object:
            board = await leaderboard(actor=person(index), board="department", year=year)
            if board.people != PEOPLE // DEPARTMENTS or len(board.entries) != 20 or board.my_rank is None:
                raise RuntimeError(
                    f"unexpected department board: {board.people} people, {len(board.entries)} rows"
                )
            return board

        async def progress(index: int) -> object:
            return await target_progress(actor=person(index), year=year)

        async def organisation_board(index: int) -> object:
            board = await leaderboard(actor=person(index), board="organisation", year=year)
            if board.people != PEOPLE:
                raise RuntimeError(f"unexpected organisation board: {board.people} people")
            return board

        async def rates_call(index: int) -> object:
            rates = await department_rates(actor=person(index), year=year)
            if sum(rate.people for rate in rates) != PEOPLE:
                raise RuntimeError(f"unexpected rates: {sum(rate.people for rate in rates)} people")
            return rates

        for call in (bare, department_board, progress, organisation_board, rates_call):  # warm-up
            await _timed(3, call)
        latency: dict[str, list[float]] = {}
        latency["bare"] = await _timed(BARE_CALLS, bare)
        latency["department"] = await _timed(DEPARTMENT_BOARD_CALLS, department_board)
        latency["progress"] = await _timed(PROGRESS_CALLS, progress)
        latency["organisation"] = await _timed(ORGANISATION_BOARD_CALLS, organisation_board)
        latency["rates"] = await _timed(RATES_CALLS, rates_call)
        latency["bare_after"] = await _timed(BARE_CALLS, bare)

        moment = dt.datetime.now(dt.UTC)
        serial = iter(range(10**9))

        async def award(worker: int, _done: int) -> object:
            employee_id, _department = rng.choice(people)
            entry = await ledger_award(
                employee_id=employee_id,
                kind=AWARD_KIND,
                source_key=f"bench:award:{next(serial)}",
                occurred_at=moment,
            )
            if entry is None:
                raise RuntimeError("an award with a new source key wrote nothing")
            return entry

        async def batch(worker: int, _done: int) -> object:
            share = people[worker::BATCH_CONCURRENCY]
            results = await ledger_award_batch(
                [
                    AwardRequest(
                        employee_id=rng.choice(share)[0],
                        kind=AWARD_KIND,
                        source_key=f"bench:batch:{next(serial)}",
                        occurred_at=moment,
                    )
                    for _n in range(BATCH_SIZE)
                ]
            )
            if any(result.entry_id is None for result in results):
                raise RuntimeError("a batched award with a new source key wrote nothing")
            return results

        async def bare_loop(worker: int, done: int) -> object:
            return await bare(done)

        loops = {
            "awards": (AWARD_CONCURRENCY, award, 1),
            "batches": (BATCH_CONCURRENCY, batch, BATCH_SIZE),
            "bare_loop": (AWARD_CONCURRENCY, bare_loop, 1),
        }
        calls = dict.fromkeys(loops, 0)
        elapsed = dict.fromkeys(loops, 0.0)
        for concurrency, looped, _per_call in loops.values():  # warm-up
            await _closed_loop(1.0, concurrency, looped)
        for index in range(ROUNDS):
            order = list(loops.items())
            for name, (concurrency, looped, per_call) in order if index % 2 == 0 else reversed(order):
                done, seconds = await _closed_loop(ROUND_SECONDS, concurrency, looped)
                calls[name] += done * per_call
                elapsed[name] += seconds
        rates = {name: calls[name] / elapsed[name] for name in calls}
        return Measured(latency, rates, calls)
    finally:
        await engine_close(engine)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f} ms"


def _p95_target(name: str, p95: float) -> tuple[str, bool | None]:
    """Issue 6's target (p95 ≤ 100 ms) for the department board, target progress and rates."""
    if name == "organisation":
        return "", None
    return "≤ 100 ms", p95 <= 0.1


def _run(settings: Settings) -> list[Result]:
    measured = uvloop.run(_measure(settings))
    latency = measured.latency
    bare = latency["bare"] + latency["bare_after"]
    bare_p50, bare_p95 = _percentile(bare, 0.5), _percentile(bare, 0.95)
    say(
        f"  [latency, one at a time] bare SELECT 1: p50 {_ms(bare_p50)}, p95 {_ms(bare_p95)} ({len(bare)} calls)"
    )
    labels = {
        "department": f'leaderboard(board="department"), {PEOPLE // DEPARTMENTS:,} people',
        "progress": "target_progress(), mix of 4 categories or none",
        "organisation": f'leaderboard(board="organisation"), {PEOPLE:,} people',
        "rates": f"department_rates(), {DIVISIONS} divisions, {PEOPLE:,} people",
    }
    results = [Result(NAME, "bare SELECT 1 p50", bare_p50 * 1000, "ms")]
    for name, label in labels.items():
        p50, p95 = _percentile(latency[name], 0.5), _percentile(latency[name], 0.95)
        say(
            f"  [latency, one at a time] {label}: p50 {_ms(p50)}, p95 {_ms(p95)} ({len(latency[name])} calls); "
            f"÷ bare: p50 {p50 / bare_p50:,.1f}x, p95 {p95 / bare_p95:,.1f}x"
        )
        results += [
            Result(NAME, f"{name} p50", p50 * 1000, "ms"),
            Result(NAME, f"{name} p95", p95 * 1000, "ms", *_p95_target(name, p95)),
            Result(NAME, f"{name} p50 ÷ bare p50", p50 / bare_p50, "x"),
        ]
    awards, batched, loop = (measured.rates[name] for name in ("awards", "batches", "bare_loop"))
    counts = measured.counts
    say(
        f"  [throughput, {ROUNDS} alternating rounds of {ROUND_SECONDS:g} s each] "
        f"ledger_award, {AWARD_CONCURRENCY} tasks: {awards:,.0f} awards/s ({counts['awards']:,} awards); "
        f"ledger_award_batch of {BATCH_SIZE}, {BATCH_CONCURRENCY} tasks: {batched:,.0f} awards/s "
        f"({counts['batches']:,} awards); SELECT 1, {AWARD_CONCURRENCY} tasks: {loop:,.0f}/s; "
        f"÷ round trips: single {awards / loop:.3f}x, batch {batched / loop:.3f}x"
    )
    target = "≥ 2,000 /s"
    results += [
        Result(NAME, f"ledger_award, {AWARD_CONCURRENCY} concurrent", awards, "/s", target, awards >= 2000),
        Result(
            NAME,
            f"ledger_award_batch ({BATCH_SIZE}), {BATCH_CONCURRENCY} concurrent",
            batched,
            "/s",
            target,
            batched >= 2000,
        ),
        Result(NAME, f"SELECT 1, {AWARD_CONCURRENCY} concurrent", loop, "/s"),
        Result(NAME, "single awards ÷ round trips", awards / loop, "x"),
        Result(NAME, "batched awards ÷ round trips", batched / loop, "x"),
    ]
    return results


def main() -> list[Result]:
    say(
        f"points: {PEOPLE:,} people x {ENTRIES_PER_PERSON} ledger entries on PostgreSQL; leaderboards and "
        f"target progress one call at a time, awards with {AWARD_CONCURRENCY} concurrent tasks"
    )
    if not postgres_available():
        say("  PostgreSQL: no server answers on 127.0.0.1:5432 — skipped")
        return []
    with temp_dir(NAME) as base, postgres_database() as url:
        settings = bench_settings(base, database_url=url)
        settings = msgspec.structs.replace(
            settings, database=msgspec.structs.replace(settings.database, url=url)
        )
        return _run(settings)


if __name__ == "__main__":
    main()
