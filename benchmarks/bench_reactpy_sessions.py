"""ReactPy sessions: server memory per open home-page session, and event round trips per second.

The full app (`create_app`, as `learnloop demo` serves it: embedded Redis and S3, demo data, one uvicorn
process, websockets-sansio) runs in a subprocess. The client signs in as zhang and opens sockets the
way the browser's ReactPy client does: `ws://host/reactpy/pwa.app.root/?path=/` with the session
cookie, a same-host Origin and permessage-deflate (browsers offer it). A session counts as open when
its home page shows the user's name (the signed-in page rendered, its data loaded).

Memory: server RSS (VmRSS) after WARMUP_SESSIONS sessions and after SESSIONS; per session = the
difference / the sessions added. Round trips: on the Me page, an `onChange` of the password field
(it only sets component state) is sent as the browser sends it; each waits for its layout-update.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from benchmarks._common import (
    SESSION_COOKIE,
    Result,
    Server,
    bench_settings,
    embedded,
    prepare,
    rss_kib,
    say,
    sign_in,
    temp_dir,
)

NAME = "reactpy_sessions"
ROOT_COMPONENT = "pwa.app.root"
DEMO_NAME = "张丽华"  # zhang's name: the home page greets them once its data is loaded
WARMUP_SESSIONS = 20
SESSIONS = 500
OPEN_CONCURRENCY = 16
SESSION_TIMEOUT_SECONDS = 30
SETTLE_SECONDS = 2.0
ROUND_TRIPS_ONE = 1000
ROUND_TRIP_SOCKETS = 8
ROUND_TRIPS_EACH = 250
TARGET_KIB_PER_SESSION = 150.0


def socket_url(port: int, path: str) -> str:
    # The browser client: new URL(`${ws}//${host}${pathPrefix}${componentPath}`) + searchParams path (+ qs).
    return f"ws://127.0.0.1:{port}/reactpy/{ROOT_COMPONENT}/?{urlencode({'path': path})}"


@dataclass
class Session:
    socket: ClientConnection
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    messages: int = 0
    reader: asyncio.Task[None] | None = None


async def _open(port: int, token: str, path: str, *, deflate: bool = True) -> ClientConnection:
    return await connect(
        socket_url(port, path),
        origin=Origin(f"http://127.0.0.1:{port}"),
        additional_headers={"Cookie": f"{SESSION_COOKIE}={token}", "Accept-Language": "zh-CN,zh;q=0.9"},
        ping_interval=None,  # browsers answer pings but send none
        max_size=None,
        open_timeout=SESSION_TIMEOUT_SECONDS,
        compression="deflate" if deflate else None,
    )


async def _drain(session: Session, marker: str) -> None:
    with contextlib.suppress(Exception):
        async for raw in session.socket:
            session.messages += 1
            text = raw if isinstance(raw, str) else raw.decode()
            if marker in text and not session.ready.is_set():
                session.ready.set()


async def _home_session(port: int, token: str, gate: asyncio.Semaphore, deflate: bool) -> Session:
    async with gate:
        session = Session(await _open(port, token, "/", deflate=deflate))
        session.reader = asyncio.create_task(_drain(session, DEMO_NAME))
        await asyncio.wait_for(session.ready.wait(), SESSION_TIMEOUT_SECONDS)
        return session


async def _open_many(port: int, token: str, count: int, deflate: bool) -> tuple[list[Session], float]:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    started = time.perf_counter()
    sessions = await asyncio.gather(*(_home_session(port, token, gate, deflate) for _ in range(count)))
    return list(sessions), time.perf_counter() - started


async def _close(sessions: list[Session]) -> None:
    await asyncio.gather(*(s.socket.close() for s in sessions), return_exceptions=True)
    for session in sessions:
        if session.reader is not None:
            session.reader.cancel()
    await asyncio.gather(*(s.reader for s in sessions if s.reader), return_exceptions=True)


# --- the VDOM model, as the client keeps it ----------------------------------------------------


def _apply(model: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    parts = [part for part in str(update["path"]).split("/") if part]
    if not parts:
        return dict(update["model"])
    node: Any = model
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = update["model"]
    else:
        node[last] = update["model"]
    return model


def _find_by_id(node: Any, element_id: str) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    if node.get("attributes", {}).get("id") == element_id:
        return node
    for child in node.get("children", []):
        found = _find_by_id(child, element_id)
        if found is not None:
            return found
    return None


async def _me_page_target(socket: ClientConnection) -> str:
    """Read the Me page until it is quiet; returns the password field's onChange target."""
    model: dict[str, Any] = {}
    while True:
        try:
            raw = await asyncio.wait_for(socket.recv(), 0.5 if model else SESSION_TIMEOUT_SECONDS)
        except TimeoutError:
            break
        message = orjson.loads(raw)
        if message.get("type") == "layout-update":
            model = _apply(model, message)
    field_node = _find_by_id(model, "password-current")
    if field_node is None:
        raise RuntimeError("the Me page has no password field (not signed in?)")
    return str(field_node["eventHandlers"]["onChange"]["target"])


async def _round_trips(socket: ClientConnection, target: str, count: int, tag: str) -> list[float]:
    latencies = []
    for seq in range(count):
        value = f"{tag}-{seq:05d}"
        event = {"type": "layout-event", "target": target, "data": [{"target": {"value": value}}], "seq": seq}
        started = time.perf_counter()
        await socket.send(orjson.dumps(event).decode())
        while True:  # the update that carries the new value
            raw = await asyncio.wait_for(socket.recv(), SESSION_TIMEOUT_SECONDS)
            if value in (raw if isinstance(raw, str) else raw.decode()):
                break
        latencies.append(time.perf_counter() - started)
    return latencies


async def _round_trip_run(port: int, token: str, sockets: int, each: int) -> tuple[float, list[float]]:
    opened = [await _open(port, token, "/me") for _ in range(sockets)]
    try:
        targets = [await _me_page_target(socket) for socket in opened]
        for socket, target in zip(opened, targets, strict=True):  # warm-up
            await _round_trips(socket, target, 20, "warm")
        started = time.perf_counter()
        runs = await asyncio.gather(
            *(
                _round_trips(socket, target, each, f"s{index}")
                for index, (socket, target) in enumerate(zip(opened, targets, strict=True))
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(socket.close() for socket in opened), return_exceptions=True)
    latencies = [value for run in runs for value in run]
    return len(latencies) / elapsed, latencies


async def _memory(server: Server, token: str, *, deflate: bool) -> dict[str, float]:
    figures: dict[str, float] = {"rss_idle_kib": rss_kib(server.pid)}
    warm, warm_seconds = await _open_many(server.port, token, WARMUP_SESSIONS, deflate)
    await asyncio.sleep(SETTLE_SECONDS)
    figures["rss_warm_kib"] = rss_kib(server.pid)
    more, more_seconds = await _open_many(server.port, token, SESSIONS - WARMUP_SESSIONS, deflate)
    sessions = warm + more
    await asyncio.sleep(SETTLE_SECONDS)
    figures["rss_full_kib"] = rss_kib(server.pid)
    figures["open_seconds"] = warm_seconds + more_seconds
    figures["sessions_ready"] = sum(
        1 for s in sessions if s.ready.is_set() and s.reader is not None and not s.reader.done()
    )
    figures["kib_per_session"] = (figures["rss_full_kib"] - figures["rss_warm_kib"]) / len(more)
    await _close(sessions)
    if figures["sessions_ready"] < SESSIONS:
        raise RuntimeError(f"only {int(figures['sessions_ready'])} of {SESSIONS} sessions stayed open")
    return figures


async def _round_trip_figures(server: Server, token: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    rate, latencies = await _round_trip_run(server.port, token, 1, ROUND_TRIPS_ONE)
    figures["rt_one_rate"] = rate
    figures["rt_one_p50_ms"] = statistics.median(latencies) * 1000
    figures["rt_one_p95_ms"] = statistics.quantiles(latencies, n=20)[-1] * 1000
    rate, latencies = await _round_trip_run(server.port, token, ROUND_TRIP_SOCKETS, ROUND_TRIPS_EACH)
    figures["rt_many_rate"] = rate
    figures["rt_many_p50_ms"] = statistics.median(latencies) * 1000
    return figures


async def _measure(server: Server, token: str) -> dict[str, float]:
    figures = await _memory(server, token, deflate=True)
    figures.update(await _round_trip_figures(server, token))
    return figures


def main() -> list[Result]:
    say(
        f"reactpy_sessions: {SESSIONS} home-page sessions (warm-up {WARMUP_SESSIONS}); round trips "
        f"{ROUND_TRIPS_ONE} on 1 socket, {ROUND_TRIP_SOCKETS}x{ROUND_TRIPS_EACH} on {ROUND_TRIP_SOCKETS}"
    )
    with temp_dir(NAME) as base, embedded(bench_settings(base)) as settings:
        prepare(settings)
        with Server(settings, base=base, bare_route=False) as server:
            token = sign_in(server.url)
            figures = uvloop.run(_measure(server, token))
        # The same on a fresh server, sockets without permessage-deflate: what compression costs.
        with Server(settings, base=base, bare_route=False) as server:
            token = sign_in(server.url)
            plain = uvloop.run(_memory(server, token, deflate=False))
    per_session = figures["kib_per_session"]
    met = per_session <= TARGET_KIB_PER_SESSION
    say(
        f"  server RSS: idle {figures['rss_idle_kib'] / 1024:.1f} MiB, {WARMUP_SESSIONS} sessions "
        f"{figures['rss_warm_kib'] / 1024:.1f} MiB, {SESSIONS} sessions {figures['rss_full_kib'] / 1024:.1f} MiB "
        f"(all {SESSIONS} showed the signed-in home page; opened in {figures['open_seconds']:.1f} s)"
    )
    say(
        f"  per session: {per_session:.0f} KiB (target <= {TARGET_KIB_PER_SESSION:g} KiB: "
        f"{'meets' if met else 'MISSES'}); without permessage-deflate: {plain['kib_per_session']:.0f} KiB"
    )
    say(
        f"  round trips, 1 socket: {figures['rt_one_rate']:,.0f}/s (p50 {figures['rt_one_p50_ms']:.2f} ms, "
        f"p95 {figures['rt_one_p95_ms']:.2f} ms)"
    )
    say(
        f"  round trips, {ROUND_TRIP_SOCKETS} sockets: {figures['rt_many_rate']:,.0f}/s "
        f"(p50 {figures['rt_many_p50_ms']:.2f} ms)"
    )
    return [
        Result(NAME, "server RSS, idle", figures["rss_idle_kib"] / 1024, "MiB"),
        Result(NAME, f"server RSS, {SESSIONS} sessions", figures["rss_full_kib"] / 1024, "MiB"),
        Result(NAME, "memory per session", per_session, "KiB", f"<= {TARGET_KIB_PER_SESSION:g} KiB", met),
        Result(NAME, "memory per session, no deflate", plain["kib_per_session"], "KiB"),
        Result(NAME, "round trips, 1 socket", figures["rt_one_rate"], "/s"),
        Result(NAME, "round trip p50, 1 socket", figures["rt_one_p50_ms"], "ms"),
        Result(NAME, f"round trips, {ROUND_TRIP_SOCKETS} sockets", figures["rt_many_rate"], "/s"),
    ]


if __name__ == "__main__":
    main()
