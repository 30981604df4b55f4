"""GET /api/v1/me (signed in as the demo user zhang) vs a bare Litestar JSON route in the same process.

The app runs as `learnloop demo` runs it (embedded Redis and S3, demo data, one uvicorn process with
uvloop and httptools) with one extra route, `GET /bench/bare`, returning a constant dict of the same
shape. A closed-loop client keeps CONNECTIONS keep-alive connections busy, alternating the two
endpoints round by round (A B B A ...), and reports requests per second of each and the ratio.
Runs on SQLite (the embedded default) and, when a PostgreSQL server answers on 127.0.0.1:5432,
on a throwaway PostgreSQL database too.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import msgspec
import uvloop

from backend.settings import Settings
from benchmarks._common import (
    SESSION_COOKIE,
    Result,
    Server,
    bench_settings,
    embedded,
    postgres_available,
    postgres_database,
    prepare,
    ratio_line,
    say,
    sign_in,
    temp_dir,
)
from benchmarks._load import Load, Round, get_request
from benchmarks._server import BARE_PATH

NAME = "api_me"
ME_PATH = "/api/v1/me"
CONNECTIONS = 32
WARMUP_SECONDS = 1.0
ROUND_SECONDS = 1.0
ROUNDS = 8  # per endpoint, per database: short interleaved rounds even out a shared machine
TARGET_RATIO = 0.6


def _check(server: Server, token: str) -> None:
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
    me = httpx.get(f"{server.url}{ME_PATH}", headers=headers, timeout=10)
    if me.status_code != 200 or me.json().get("username") != "zhang":
        raise RuntimeError(f"{ME_PATH} did not answer as zhang: {me.status_code} {me.text[:200]}")
    bare = httpx.get(f"{server.url}{BARE_PATH}", timeout=10)
    if bare.status_code != 200:
        raise RuntimeError(f"{BARE_PATH} answered {bare.status_code}")


async def _measure(port: int, pid: int, token: str) -> dict[str, Round]:
    headers = {"Cookie": f"{SESSION_COOKIE}={token}", "Accept-Language": "zh-CN,zh;q=0.9"}
    requests = {
        "me": get_request(ME_PATH, port, headers),
        "bare": get_request(BARE_PATH, port, headers),
    }
    totals = {name: Round() for name in requests}
    async with Load(port, CONNECTIONS, server_pid=pid) as load:
        for name in requests:  # warm-up, not counted
            await load.run(requests[name], WARMUP_SECONDS)
        for index in range(ROUNDS):
            order = ["me", "bare"] if index % 2 == 0 else ["bare", "me"]
            for name in order:
                totals[name].add(await load.run(requests[name], ROUND_SECONDS))
    return totals


def _run(label: str, base: Path, settings: Settings) -> list[Result]:
    prepare(settings)
    with Server(settings, base=base, bare_route=True) as server:
        token = sign_in(server.url)
        _check(server, token)
        totals = uvloop.run(_measure(server.port, server.pid, token))
    me, bare = totals["me"], totals["bare"]
    failures = me.failures + bare.failures
    if failures:
        raise RuntimeError(f"{failures} non-200 answers: me {me.statuses}, bare {bare.statuses}")
    ratio = me.rate / bare.rate
    for path, measured in ((ME_PATH, me), (BARE_PATH, bare)):
        say(
            f"  [{label}] {path}: {measured.rate:,.0f} req/s ({measured.requests:,} requests in "
            f"{measured.seconds:.1f} s; server CPU {measured.server_cpu / measured.requests * 1e6:,.0f} µs "
            f"per request, server busy {measured.server_cpu / measured.seconds:.0%}, "
            f"client busy {measured.client_cpu / measured.seconds:.0%})"
        )
    say(f"  [{label}] " + ratio_line("/me vs bare", ratio, TARGET_RATIO))
    return [
        Result(NAME, f"{label}: /api/v1/me", me.rate, "req/s"),
        Result(NAME, f"{label}: bare Litestar route", bare.rate, "req/s"),
        Result(NAME, f"{label}: /me ÷ bare", ratio, "x", f">= {TARGET_RATIO:g}x", ratio >= TARGET_RATIO),
        Result(NAME, f"{label}: server CPU per /me", me.server_cpu / me.requests * 1e6, "µs"),
        Result(NAME, f"{label}: server CPU per bare", bare.server_cpu / bare.requests * 1e6, "µs"),
    ]


def main() -> list[Result]:
    say(
        f"api_me: {CONNECTIONS} keep-alive connections, {ROUNDS} alternating rounds of {ROUND_SECONDS:g} s "
        "per endpoint"
    )
    results: list[Result] = []
    with temp_dir(NAME) as base, embedded(bench_settings(base)) as settings:
        results += _run("SQLite", base, settings)
        if postgres_available():
            with postgres_database() as url:
                pg_settings = msgspec.structs.replace(
                    settings, database=msgspec.structs.replace(settings.database, url=url)
                )
                results += _run("PostgreSQL", base, pg_settings)
        else:
            say("  PostgreSQL: no server answers on 127.0.0.1:5432 — skipped")
    return results


if __name__ == "__main__":
    main()
