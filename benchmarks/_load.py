"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, one request in flight each.

Responses are parsed with httptools (the parser uvicorn uses), so the client costs far less CPU per
request than the server under test; it runs on the benchmark's own event loop (uvloop).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import cast

import httptools

from benchmarks._common import cpu_seconds


@dataclass
class Round:
    requests: int = 0
    failures: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server process used during the round
    client_cpu: float = 0.0  # CPU seconds this (client) process used during the round

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def add(self, other: Round) -> None:
        self.requests += other.requests
        self.failures += other.failures
        self.seconds += other.seconds
        self.server_cpu += other.server_cpu
        self.client_cpu += other.client_cpu
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count


class _Connection(asyncio.Protocol):
    def __init__(self, load: Load) -> None:
        self.load = load
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.idle: asyncio.Future[None] | None = None
        self.lost: Exception | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("the server closed the connection")
        if self.idle is not None and not self.idle.done():
            self.idle.set_exception(self.lost)

    # httptools callbacks
    def on_message_complete(self) -> None:
        self.load.record(self.parser.get_status_code())
        if self.load.running:
            self.send()
        elif self.idle is not None and not self.idle.done():
            self.idle.set_result(None)

    def send(self) -> None:
        assert self.transport is not None
        if self.lost is not None:
            raise self.lost
        self.transport.write(self.load.request)


class Load:
    """`async with Load(port, connections) as load: await load.run(request_bytes, seconds)`."""

    def __init__(self, port: int, connections: int, server_pid: int | None = None) -> None:
        self.port = port
        self.server_pid = server_pid
        self.connections_wanted = connections
        self.connections: list[_Connection] = []
        self.request = b""
        self.running = False
        self.current = Round()

    async def __aenter__(self) -> Load:
        loop = asyncio.get_running_loop()
        for _ in range(self.connections_wanted):
            _transport, protocol = await loop.create_connection(
                lambda: _Connection(self), "127.0.0.1", self.port
            )
            self.connections.append(protocol)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.close()

    def record(self, status: int) -> None:
        self.current.requests += 1
        self.current.statuses[status] = self.current.statuses.get(status, 0) + 1
        if status != 200:
            self.current.failures += 1

    async def run(self, request: bytes, seconds: float) -> Round:
        """Keep every connection busy with `request` for `seconds`; returns the completed count and rate."""
        loop = asyncio.get_running_loop()
        self.request = request
        self.current = Round()
        for connection in self.connections:
            connection.idle = loop.create_future()
        server_cpu = cpu_seconds(self.server_pid) if self.server_pid else 0.0
        client_cpu = time.process_time()
        started = time.perf_counter()
        self.running = True
        for connection in self.connections:
            connection.send()
        await asyncio.sleep(seconds)
        self.running = False
        await asyncio.wait_for(asyncio.gather(*(c.idle for c in self.connections if c.idle)), 30)
        self.current.seconds = time.perf_counter() - started
        self.current.client_cpu = time.process_time() - client_cpu
        if self.server_pid:
            self.current.server_cpu = cpu_seconds(self.server_pid) - server_cpu
        return self.current


def get_request(path: str, port: int, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
