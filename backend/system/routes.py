"""Health: each backing service answers, or the check names the one that does not."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get

from backend.lib.db import database_ping
from backend.lib.queue import queue_ping
from backend.lib.schema import Schema
from backend.lib.storage import storage_ping

HEALTH_TIMEOUT_SECONDS = 3


class HealthOut(Schema):
    status: str
    checks: dict[str, str]


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe, HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


@get("/healthz", tags=["system"], summary="Liveness and readiness of database, queue and storage")
async def healthz(request: Request[Any, Any, Any]) -> Response[HealthOut]:
    state = request.app.state
    database, queue, storage = await asyncio.gather(
        _check(database_ping(state.engine)),
        _check(queue_ping(state.queue)),
        _check(storage_ping(state.storage, state.settings.storage.bucket)),
    )
    checks = {"database": database, "queue": queue, "storage": storage}
    healthy = all(value == "ok" for value in checks.values())
    return Response(
        HealthOut(status="ok" if healthy else "error", checks=checks), status_code=200 if healthy else 503
    )
