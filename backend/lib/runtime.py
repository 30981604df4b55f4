"""The process's open services (object storage, job queue), for code that runs outside a request.

Services are called from API routes, ReactPy pages and worker jobs alike; like Piccolo's table
binding, the app's lifespan (or the worker's start-up) binds what it opened here, once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arq.connections import ArqRedis
    from minio import Minio

    from backend.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    storage: Minio
    queue: ArqRedis | None


_bound: list[Runtime] = []


def runtime_bind(runtime: Runtime | None) -> None:
    _bound[:] = [runtime] if runtime is not None else []


def runtime_get() -> Runtime:
    if not _bound:
        raise RuntimeError("no runtime bound: the app or worker has not started")
    return _bound[0]


def runtime_peek() -> Runtime | None:
    return _bound[0] if _bound else None
