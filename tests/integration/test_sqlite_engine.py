"""The persistent SQLite engine's shared connection: opened once, closed for good."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from backend.lib.db import engine_close, engine_create


async def test_sqlite_engine_opens_one_shared_connection_and_close_ends_its_thread(settings: Any) -> None:
    """Concurrent first queries share one connection; an unclosed one would keep the process alive."""
    engine = engine_create(settings)
    before = {thread.ident for thread in threading.enumerate()}
    await asyncio.gather(*(engine.run_ddl("SELECT 1") for _ in range(10)))
    opened = [thread for thread in threading.enumerate() if thread.ident not in before and thread.is_alive()]
    assert len(opened) == 1
    await engine_close(engine)
    opened[0].join(timeout=10)
    assert not opened[0].is_alive()
