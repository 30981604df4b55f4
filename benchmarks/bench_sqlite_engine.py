"""A primary-key read through Piccolo's stock SQLiteEngine vs backend.lib.db.PersistentSQLiteEngine.

Same file (migrated, demo data loaded), same event loop (uvloop, as the server runs), one read at a
time as a request handler does. Two queries, each on both engines:

- "app read (row_by_id)": `backend.lib.db.row_by_id(Employee, x)`, how the app reads a row by its
  primary key (hot reads use SQL built once per table); the target applies here.
- "query builder": `Employee.select().where(Employee.id == x).first()`; Piccolo builds the SQL on
  every call, which costs the same CPU on both engines and so dilutes the engines' difference.

The four variants alternate in rounds of ROUND_SECONDS (order reversed every other round); tables
are bound to the engine before each round. CPU per read is this process's CPU time (the event loop
and aiosqlite's threads) divided by the reads: it is steadier than wall time on a busy machine.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from benchmarks._common import Result, bench_settings, ratio_line, say, temp_dir

NAME = "sqlite_engine"
WARMUP_SECONDS = 0.3
ROUND_SECONDS = 1.0
ROUNDS = 4  # per variant
TARGET_RATIO = 5.0
BUILT, APP = "query builder", "app read (row_by_id)"
STOCK, PERSISTENT = "stock SQLiteEngine", "PersistentSQLiteEngine"


@dataclass
class Tally:
    reads: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.reads / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.reads * 1e6


Read = Callable[[Any, int], Awaitable[Any]]


async def _built(_engine: Any, employee_id: int) -> Any:
    from backend.org.tables import Employee

    row = await Employee.select().where(Employee.id == employee_id).first()
    return row["id"] if row else None


async def _app_read(_engine: Any, employee_id: int) -> Any:
    from backend.lib.db import row_by_id
    from backend.org.tables import Employee

    row = await row_by_id(Employee, employee_id)
    return row["id"] if row else None


async def _reads(engine: Any, read: Read, employee_ids: list[int], seconds: float) -> Tally:
    count = 0
    cpu = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        employee_id = employee_ids[count % len(employee_ids)]
        if await read(engine, employee_id) != employee_id:
            raise RuntimeError(f"employee {employee_id} not read back")
        count += 1
    return Tally(count, time.perf_counter() - started, time.process_time() - cpu)


async def _measure(path: Path) -> dict[tuple[str, str], Tally]:
    from piccolo.engine.sqlite import SQLiteEngine

    from backend.demo import demo_seed
    from backend.lib.db import PersistentSQLiteEngine, engine_bind, engine_close, migrations_apply
    from backend.org.tables import Employee

    persistent = PersistentSQLiteEngine(path=str(path))
    stock = SQLiteEngine(path=str(path))
    await migrations_apply(persistent)
    engine_bind(persistent)
    if not await demo_seed():
        raise RuntimeError("the benchmark database was not empty")
    employee_ids = [row["id"] for row in await Employee.select(Employee.id).order_by(Employee.id)]
    engines: dict[str, Any] = {STOCK: stock, PERSISTENT: persistent}
    queries: dict[str, Read] = {BUILT: _built, APP: _app_read}
    variants = [(query, engine) for query in queries for engine in engines]
    totals = {variant: Tally() for variant in variants}
    try:
        for query, engine in variants:  # warm-up, not counted
            engine_bind(engines[engine])
            await _reads(engines[engine], queries[query], employee_ids, WARMUP_SECONDS)
        for index in range(ROUNDS):
            for query, engine in variants if index % 2 == 0 else list(reversed(variants)):
                engine_bind(engines[engine])
                tally = await _reads(engines[engine], queries[query], employee_ids, ROUND_SECONDS)
                total = totals[(query, engine)]
                total.reads += tally.reads
                total.seconds += tally.seconds
                total.cpu += tally.cpu
    finally:
        engine_bind(persistent)
        await engine_close(persistent)
    return totals


def main() -> list[Result]:
    say(
        f"sqlite_engine: Employee by primary key, {ROUNDS} alternating rounds of {ROUND_SECONDS:g} s per variant"
    )
    with temp_dir(NAME) as base:
        settings = bench_settings(base)
        settings.data_path.mkdir(parents=True)
        totals = uvloop.run(_measure(settings.sqlite_path))
    results: list[Result] = []
    for query in (APP, BUILT):
        stock, persistent = totals[(query, STOCK)], totals[(query, PERSISTENT)]
        for engine, tally in ((STOCK, stock), (PERSISTENT, persistent)):
            say(
                f"  [{query}] {engine}: {tally.rate:,.0f} reads/s ({tally.reads:,} reads in "
                f"{tally.seconds:.1f} s; {tally.cpu_us:,.0f} µs CPU per read)"
            )
        ratio = persistent.rate / stock.rate
        if query == APP:
            say(f"  [{query}] " + ratio_line("persistent vs stock", ratio, TARGET_RATIO))
        else:
            say(f"  [{query}] persistent vs stock: {ratio:.2f}x (Piccolo's query builder, for comparison)")
        target = f">= {TARGET_RATIO:g}x" if query == APP else ""
        met = ratio >= TARGET_RATIO if query == APP else None
        results += [
            Result(NAME, f"{query}: stock SQLiteEngine", stock.rate, "reads/s"),
            Result(NAME, f"{query}: PersistentSQLiteEngine", persistent.rate, "reads/s"),
            Result(NAME, f"{query}: persistent ÷ stock", ratio, "x", target, met),
        ]
    return results


if __name__ == "__main__":
    main()
