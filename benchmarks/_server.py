"""Serve the full app under uvicorn for a benchmark: `python -m benchmarks._server SETTINGS.json [--bare-route]`.

The app is `backend.app.create_app(settings)` as `learnloop serve` builds it (one process, uvloop,
httptools, websockets-sansio). With --bare-route the Litestar app also gets `GET /bench/bare`: a bare
JSON handler (no dependencies, no database) of the same shape as `/api/v1/me`, served by the same
process, so both go through the same server, middleware and event loop.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, get

import backend.app
from backend.cli import uvicorn_config
from backend.settings import Settings

BARE_PATH = "/bench/bare"


@get(BARE_PATH, sync_to_thread=False, include_in_schema=False)
def bare() -> dict[str, Any]:
    return {
        "id": 4,
        "account_id": 4,
        "username": "zhang",
        "name": "张丽华",
        "employee_no": "E0004",
        "department": {"id": 3, "name": "华东大区"},
        "roles": ["employee"],
        "locale": "zh-CN",
        "locale_setting": None,
    }


def _with_bare_route() -> None:
    create_litestar = backend.app.create_litestar

    def patched(settings: Settings) -> Litestar:
        app = create_litestar(settings)
        app.register(bare)
        return app

    backend.app.create_litestar = patched


def main(argv: list[str]) -> None:
    settings = msgspec.json.decode(Path(argv[0]).read_bytes(), type=Settings)
    if "--bare-route" in argv[1:]:
        _with_bare_route()
    # Served exactly as `learnloop serve` serves it.
    uvicorn.Server(uvicorn_config(backend.app.create_app(settings), settings)).run()


if __name__ == "__main__":
    main(sys.argv[1:])
